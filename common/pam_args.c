/* The rules of pam_userdb.so's module arguments (like pam_faillock's
 * faillock_config.c, without the logging): see pam_args.h. Called by
 * pam_userdb/args.c for every entry point and by the admin tool's
 * `explain`. */
#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "pam_args.h"
#include "result.h"
#include "validate.h"

#define DENY_MAX        1000000UL
#define TOTP_WINDOW_MAX 10UL /* UDB_TOTP_WINDOW_MAX of totp.h */
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
udb_pam_list_next(const char **cursor, char *buf, size_t size)
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

static enum udb_result
parse_number(const char *value, unsigned long max, bool *ret_has, unsigned *ret_value)
{
	unsigned long v;

	if (udb_parse_uint(value, max, &v) != UDB_OK)
		return UDB_INVALID;
	*ret_has = true;
	*ret_value = (unsigned)v;
	return UDB_OK;
}

static enum udb_result
set_flag(bool *flag)
{
	*flag = true;
	return UDB_OK;
}

static enum udb_result
check(bool ok)
{
	return ok ? UDB_OK : UDB_INVALID;
}

static enum udb_result
parse_second_factor(const char *v, enum udb_second_factor *ret)
{
	static const struct {
		const char *name;
		enum udb_second_factor value;
	} modes[] = {
		{"enrolled", UDB_SECOND_FACTOR_ENROLLED},
		{"required", UDB_SECOND_FACTOR_REQUIRED},
		{"off", UDB_SECOND_FACTOR_OFF},
		{"enrol", UDB_SECOND_FACTOR_ENROL},
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(v, modes[i].name) == 0) {
			*ret = modes[i].value;
			return UDB_OK;
		}
	}
	return UDB_INVALID;
}

/* The arguments that take a list. */
static bool
parse_list(const char *arg, struct udb_pam_args *a, enum udb_result *ret)
{
	static const struct {
		const char *prefix;
		size_t offset;
		bool permission;
	} lists[] = {
		{"roles_required=", offsetof(struct udb_pam_args, roles_required), false},
		{"roles_accepted=", offsetof(struct udb_pam_args, roles_accepted), false},
		{"permissions_required=", offsetof(struct udb_pam_args, permissions_required),
		 true},
		{"permissions_accepted=", offsetof(struct udb_pam_args, permissions_accepted),
		 true},
	};
	const char *v;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (!has_prefix(arg, lists[i].prefix, &v))
			continue;
		*(const char **)((char *)a + lists[i].offset) = v;
		*ret = check(valid_list(v, lists[i].permission ? udb_valid_permission
							       : udb_valid_rolename));
		return true;
	}
	return false;
}

enum udb_result
udb_pam_arg_parse(const char *arg, struct udb_pam_args *a)
{
	enum udb_result r;
	const char *v;

	if (strcmp(arg, "debug") == 0)
		return set_flag(&a->debug);
	if (strcmp(arg, "nodelay") == 0)
		return set_flag(&a->nodelay);
	if (strcmp(arg, "require_confirmed_email") == 0)
		return set_flag(&a->require_confirmed_email);
	if (has_prefix(arg, "conf=", &v)) {
		a->conf = v;
		return check(*v == '/');
	}
	if (has_prefix(arg, "chkpwd=", &v)) {
		a->chkpwd = v;
		return check(*v == '/');
	}
	if (has_prefix(arg, "central_passwd=", &v)) {
		a->central_passwd = v;
		return check(*v == '/');
	}
	if (has_prefix(arg, "deny=", &v))
		return parse_number(v, DENY_MAX, &a->has_deny, &a->deny);
	if (has_prefix(arg, "unlock_time=", &v))
		return parse_number(v, UNLOCK_TIME_MAX, &a->has_unlock_time, &a->unlock_time);
	if (has_prefix(arg, "minlen=", &v))
		return parse_number(v, UDB_PASSWORD_MAX, &a->has_minlen, &a->minlen);
	if (has_prefix(arg, "totp_window=", &v))
		return parse_number(v, TOTP_WINDOW_MAX, &a->has_totp_window, &a->totp_window);
	if (has_prefix(arg, "second_factor=", &v))
		return parse_second_factor(v, &a->second_factor);
	if (parse_list(arg, a, &r))
		return r;
	if (has_prefix(arg, "authtok_type=", &v))
		return UDB_OK;
	for (size_t i = 0; i < sizeof(authtok_flags) / sizeof(authtok_flags[0]); i++)
		if (strcmp(arg, authtok_flags[i]) == 0)
			return UDB_OK;
	return UDB_NOT_FOUND;
}
