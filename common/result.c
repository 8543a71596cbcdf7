/* Human-readable text for enum udb_result. Called by the CLI for its error
 * lines and by the PAM module for its log lines. */
#include "result.h"

const char *
udb_result_to_string(enum udb_result r)
{
	switch (r) {
	case UDB_OK:
		return "success";
	case UDB_NOT_FOUND:
		return "not found";
	case UDB_BUFFER_TOO_SMALL:
		return "buffer too small";
	case UDB_BUSY:
		return "database is busy";
	case UDB_UNAVAILABLE:
		return "database is unavailable";
	case UDB_PERMISSION:
		return "permission denied";
	case UDB_UNSAFE:
		return "unsafe file ownership or mode";
	case UDB_CORRUPT:
		return "database is corrupt or not a userdb database";
	case UDB_SCHEMA:
		return "database schema version is not supported";
	case UDB_NO_MEMORY:
		return "out of memory";
	case UDB_IO:
		return "I/O error";
	case UDB_AUTH_FAILED:
		return "authentication failed";
	case UDB_INVALID:
		return "invalid argument";
	case UDB_EXISTS:
		return "already exists";
	case UDB_CONFLICT:
		return "already used by another name service source";
	case UDB_CYCLE:
		return "role inclusion would create a cycle";
	case UDB_IN_USE:
		return "still in use";
	case UDB_EXHAUSTED:
		return "no free id left in the configured range";
	case UDB_STALE:
		return "the local copy is behind the central database";
	case UDB_INTERNAL:
		return "internal error";
	}
	return "unknown error";
}
