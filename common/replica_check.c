/* What a host takes from central (replica.h): every row is checked against
 * the rules the tool applies before a local write, before it is staged, so
 * that a central database that is damaged or hostile (or an admin box of
 * another userdb version) cannot put on a host a name NSS could not serve,
 * uid or gid 0, a field that breaks a passwd, group or shadow line, or an
 * authorized_keys line of its own or
 * longer than a local one. A row that breaks a rule is UDB_INVALID
 * and the whole batch is refused (the caller aborts it). Called by
 * replica.c. */
#include <string.h>

#include "replica.h"
#include "sshkey.h"
#include "validate.h"

/* A uid or gid the host may hand out: a decimal id other than root's. */
static bool
valid_id(const char *s)
{
	uint32_t id = 0;

	return s && udb_parse_id(s, &id) == UDB_OK && id != 0;
}

/* Optional free text (NULL is SQL NULL, left to the table's constraints). */
static bool
valid_text_or_null(const char *s)
{
	return !s || udb_valid_text(s);
}

/* 1 to UDB_HASH_MAX bytes of printable ASCII without ':' (a shadow entry's
 * password field, as udb_shadow_entry_check). NULL is no hash. */
static bool
valid_hash(const char *s)
{
	size_t n;

	if (!s)
		return true;
	n = strnlen(s, UDB_HASH_MAX + 1);
	if (n == 0 || n > UDB_HASH_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ':')
			return false;
	return true;
}

/* One line of authorized_keys: no control character (a newline would start
 * a key of its own). NULL is SQL NULL. */
static bool
valid_key_field(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

enum udb_result
udb_replica_check_row(enum udb_replica_table t, const char *const *v)
{
	const char *why = NULL;
	bool ok = true;

	switch (t) {
	case UDB_REPLICA_ROLES:
		ok = udb_valid_rolename(v[1]) && valid_id(v[2]) && valid_text_or_null(v[3]);
		break;
	case UDB_REPLICA_USERS:
		ok = udb_valid_username(v[1]) && valid_id(v[2]) && valid_id(v[3]) &&
		     valid_text_or_null(v[5]) && valid_text_or_null(v[6]) && udb_valid_path(v[7]) &&
		     udb_valid_path(v[8]);
		break;
	case UDB_REPLICA_ROLE_PERMISSIONS:
		ok = udb_valid_permission(v[1]);
		break;
	case UDB_REPLICA_ACCOUNT_NAMES:
		ok = udb_valid_username(v[0]);
		break;
	case UDB_REPLICA_SECRETS:
		ok = valid_hash(v[1]);
		break;
	case UDB_REPLICA_SSH_KEYS:
		for (unsigned i = 2; i <= 6; i++)
			ok = ok && valid_key_field(v[i]);
		/* As ssh-key add: a known type, a blob that fits a line,
		 * options and comment as OpenSSH takes them. */
		ok = ok && v[2] && udb_sshkey_known_type(v[2], strlen(v[2])) && v[3] &&
		     strnlen(v[3], UDB_SSHKEY_LINE_MAX + 1) <= UDB_SSHKEY_LINE_MAX &&
		     (!v[4] || udb_sshkey_valid_options(v[4], &why)) &&
		     (!v[5] || udb_sshkey_valid_comment(v[5]));
		break;
	case UDB_REPLICA_USER_EMAILS:
		ok = udb_valid_email(v[2]);
		break;
	case UDB_REPLICA_HOST_ROLES:
		ok = udb_valid_host_name(v[0]);
		break;
	default:
		break;
	}
	return ok ? UDB_OK : UDB_INVALID;
}
