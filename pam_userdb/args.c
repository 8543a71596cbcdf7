/* Parsing of the module arguments of one PAM line (like pam_faillock's
 * faillock_config.c). Called by every entry point in pam_userdb.c before it
 * does anything else; gate.c walks the role and permission lists. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "hash.h"
#include "module.h"
#include "validate.h"

#define DENY_MAX        1000000UL
#define UNLOCK_TIME_MAX (100UL * 366 * 86400)

/* Arguments that pam_get_authtok() reads from the module line itself
 * (libpam scans mod_argv): known, but nothing for us to do. */
static const char *const authtok_flags[] = {
	"use_first_pass",
	"try_first_pass",
	"use_authtok",
};

static bool
has_prefix(const char *s, const char *prefix, const char **ret_value)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0)
		return false;
	*ret_value = s + n;
	return true;
}

/* A list of role names (or permissions): one or more items, each valid, no
 * empty item. */
static bool
valid_list(const char *list, bool (*valid)(const char *))
{
	char item[UDB_PERMISSION_MAX + 1];
	const char *cursor = list, *comma;
	size_t len;

	if (!*list)
		return false;
	for (;;) {
		comma = strchr(cursor, ',');
		len = comma ? (size_t)(comma - cursor) : strlen(cursor);
		if (len == 0 || len >= sizeof(item))
			return false;
		memcpy(item, cursor, len);
		item[len] = '\0';
		if (!valid(item))
			return false;
		if (!comma)
			return true;
		cursor = comma + 1;
	}
}

bool
pud_list_next(const char **cursor, char *buf, size_t size)
{
	const char *comma;
	size_t len;

	if (!*cursor || !**cursor)
		return false;
	comma = strchr(*cursor, ',');
	len = comma ? (size_t)(comma - *cursor) : strlen(*cursor);
	if (len >= size)
		len = size - 1;
	memcpy(buf, *cursor, len);
	buf[len] = '\0';
	*cursor = comma ? comma + 1 : *cursor + strlen(*cursor);
	return true;
}

static bool
parse_number(const char *value, unsigned long max, bool *ret_has, unsigned *ret_value)
{
	unsigned long v;

	if (udb_parse_uint(value, max, &v) != UDB_OK)
		return false;
	*ret_has = true;
	*ret_value = (unsigned)v;
	return true;
}

/* Logs an unknown argument once per PAM handle: each entry point parses
 * its line again, and a stack that runs auth, account, session and
 * password would otherwise log the same typo four times. The mark is module
 * data named after the argument (libpam copies the name). */
static void
log_unknown_once(pam_handle_t *pamh, const char *arg)
{
	static int mark;
	char safe[128], key[192];
	const void *seen = NULL;

	pud_escape(arg, safe, sizeof(safe));
	snprintf(key, sizeof(key), "pam_userdb:unknown-argument:%s", safe);
	if (pam_get_data(pamh, key, &seen) == PAM_SUCCESS && seen)
		return;
	pam_syslog(pamh, LOG_WARNING, "unknown argument ignored: %s", safe);
	pam_set_data(pamh, key, &mark, NULL);
}

/* Returns false when arg is one of ours but its value is bad. */
static bool
parse_one(pam_handle_t *pamh, const char *arg, struct pud_args *a)
{
	const char *v;

	if (strcmp(arg, "debug") == 0)
		return a->debug = true;
	if (strcmp(arg, "nodelay") == 0)
		return a->nodelay = true;
	if (strcmp(arg, "require_confirmed_email") == 0)
		return a->require_confirmed_email = true;
	if (has_prefix(arg, "conf=", &v)) {
		a->conf = v;
		return *v == '/';
	}
	if (has_prefix(arg, "chkpwd=", &v)) {
		a->chkpwd = v;
		return *v == '/';
	}
	if (has_prefix(arg, "deny=", &v))
		return parse_number(v, DENY_MAX, &a->has_deny, &a->deny);
	if (has_prefix(arg, "unlock_time=", &v))
		return parse_number(v, UNLOCK_TIME_MAX, &a->has_unlock_time, &a->unlock_time);
	if (has_prefix(arg, "minlen=", &v))
		return parse_number(v, UDB_PASSWORD_MAX, &a->has_minlen, &a->minlen);
	if (has_prefix(arg, "roles_required=", &v)) {
		a->roles_required = v;
		return valid_list(v, udb_valid_rolename);
	}
	if (has_prefix(arg, "roles_accepted=", &v)) {
		a->roles_accepted = v;
		return valid_list(v, udb_valid_rolename);
	}
	if (has_prefix(arg, "permissions_required=", &v)) {
		a->permissions_required = v;
		return valid_list(v, udb_valid_permission);
	}
	if (has_prefix(arg, "permissions_accepted=", &v)) {
		a->permissions_accepted = v;
		return valid_list(v, udb_valid_permission);
	}
	if (has_prefix(arg, "authtok_type=", &v))
		return true;
	for (size_t i = 0; i < sizeof(authtok_flags) / sizeof(authtok_flags[0]); i++)
		if (strcmp(arg, authtok_flags[i]) == 0)
			return true;
	log_unknown_once(pamh, arg);
	return true;
}

int
pud_args_parse(pam_handle_t *pamh, int argc, const char **argv, struct pud_args *ret_args)
{
	struct pud_args a = {0};
	int rc = PAM_SUCCESS;

	for (int i = 0; i < argc; i++) {
		char safe[128];

		if (!argv[i] || parse_one(pamh, argv[i], &a))
			continue;
		pud_escape(argv[i], safe, sizeof(safe));
		pam_syslog(pamh, LOG_ERR, "bad value in argument %s", safe);
		rc = PAM_SERVICE_ERR;
	}
	*ret_args = a;
	return rc;
}
