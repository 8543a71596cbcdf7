/* The one place where a result of the core becomes an NSS status and an
 * errno. Called by every entry point of the module on its way out.
 *
 * glibc's contract (manual, "NSS Modules Interface"): NOTFOUND/ENOENT means
 * the entry does not exist; TRYAGAIN/ERANGE means the buffer is too small
 * and nothing else (glibc's non-reentrant wrappers retry with a doubled
 * buffer on exactly that pair); TRYAGAIN/EAGAIN is a temporary shortage;
 * UNAVAIL/ENOENT means a necessary input file cannot be found. With the
 * default actions glibc moves to the next source after NOTFOUND, TRYAGAIN
 * and UNAVAIL alike, but only NOTFOUND is a negative answer that callers
 * (and nscd) may remember, so an error must never look like NOTFOUND. */
#include <errno.h>

#include "nss_userdb.h"

enum nss_status
udb_nss_status(enum udb_result r, int *errnop)
{
	switch (r) {
	case UDB_OK:
		return NSS_STATUS_SUCCESS;
	case UDB_NOT_FOUND:
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	case UDB_BUFFER_TOO_SMALL:
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	case UDB_BUSY:
		/* A writer holds an exclusive lock (see tests: only a connection in
		 * exclusive locking mode, or WAL recovery, does that to readers). */
		*errnop = EAGAIN;
		return NSS_STATUS_TRYAGAIN;
	case UDB_NO_MEMORY:
		/* Temporary, like EAGAIN; glibc hands ENOMEM to the caller of
		 * getpwnam_r and friends, which is what their manual lists. */
		*errnop = ENOMEM;
		return NSS_STATUS_TRYAGAIN;
	case UDB_PERMISSION:
		/* The shadow file for a caller outside root and group shadow. */
		*errnop = EACCES;
		return NSS_STATUS_UNAVAIL;
	case UDB_UNAVAILABLE:
		/* The database directory or a file is missing. */
		*errnop = ENOENT;
		return NSS_STATUS_UNAVAIL;
	default:
		/* Unsafe (a symlink, a file writable by others), corrupt, another
		 * schema, an I/O error, a bug: the source is unusable right now. */
		*errnop = EIO;
		return NSS_STATUS_UNAVAIL;
	}
}
