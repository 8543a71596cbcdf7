/* Fuzz target: the module argument parser of pam_userdb.so
 * (pam_userdb/args.c) and the escaping of outside text for logs
 * (pam_userdb/escape.c). The input's NUL-separated pieces are one PAM
 * line's argv. libpam is replaced by stubs of the three functions args.c
 * calls, which keep module data per "handle" and check every log line:
 * printable ASCII only, whatever the arguments held. The parse is compared
 * with a reference written here from module.h: which arguments are ours,
 * which values are bad (PAM_SERVICE_ERR), what each field ends up as, and
 * that each unknown argument is logged once. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "fuzz.h"
#include "module.h"
#include "validate.h"

#define MAX_ARGS 24
#define MAX_DATA 64

/* ---- libpam stubs ---- */

static struct {
	char *name;
	const void *data;
} module_data[MAX_DATA];
static size_t n_data;
static unsigned n_logged_unknown, n_logged_bad;

int
pam_set_data(pam_handle_t *pamh, const char *name, void *data,
	     void (*cleanup)(pam_handle_t *pamh, void *data, int error_status))
{
	for (size_t i = 0; i < n_data; i++) {
		if (strcmp(module_data[i].name, name) == 0) {
			module_data[i].data = data;
			return PAM_SUCCESS;
		}
	}
	if (n_data == MAX_DATA)
		return PAM_BUF_ERR;
	module_data[n_data].name = strdup(name);
	fuzz_check(module_data[n_data].name != NULL, "out of memory");
	module_data[n_data++].data = data;
	return PAM_SUCCESS;
}

int
pam_get_data(const pam_handle_t *pamh, const char *name, const void **data)
{
	for (size_t i = 0; i < n_data; i++) {
		if (strcmp(module_data[i].name, name) == 0) {
			*data = module_data[i].data;
			return PAM_SUCCESS;
		}
	}
	return PAM_NO_MODULE_DATA;
}

void
pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fuzz_check(n >= 0 && (size_t)n < sizeof(line), "log line of %d bytes", n);
	for (const char *p = line; *p; p++)
		fuzz_check(*p >= 0x20 && *p < 0x7f, "log line with byte 0x%02x: %s",
			   (unsigned char)*p, line);
	if (strncmp(line, "unknown argument ignored: ", 26) == 0)
		n_logged_unknown++;
	else if (strncmp(line, "bad value in argument ", 22) == 0)
		n_logged_bad++;
	else
		fuzz_check(false, "unexpected log line: %s", line);
}

static void
reset_handle(void)
{
	for (size_t i = 0; i < n_data; i++)
		free(module_data[i].name);
	n_data = 0;
	n_logged_unknown = 0;
	n_logged_bad = 0;
}

/* ---- the reference ---- */

static bool
prefixed(const char *arg, const char *prefix, const char **ret_value)
{
	size_t n = strlen(prefix);

	if (strlen(arg) < n || memcmp(arg, prefix, n) != 0)
		return false;
	*ret_value = arg + n;
	return true;
}

static bool
number(const char *v, unsigned long max, bool *ret_has, unsigned *ret)
{
	unsigned long x;

	if (udb_parse_uint(v, max, &x) != UDB_OK)
		return false;
	*ret_has = true;
	*ret = (unsigned)x;
	return true;
}

/* Items of a comma-separated list: at least one, none empty, each at most
 * 128 bytes and valid. */
static bool
list(const char *v, bool (*valid)(const char *))
{
	char item[200];
	const char *p = v;

	for (;;) {
		size_t len = strcspn(p, ",");

		if (len == 0 || len > 128)
			return false;
		memcpy(item, p, len);
		item[len] = '\0';
		if (!valid(item))
			return false;
		if (p[len] == '\0')
			return true;
		p += len + 1;
	}
}

/* 1: ours and good, 0: ours with a bad value, -1: not ours. */
static int
ref_one(const char *arg, struct udb_pam_args *a)
{
	static const char *const flags[] = {"use_first_pass", "try_first_pass", "use_authtok"};
	const char *v;

	if (strcmp(arg, "debug") == 0)
		return a->debug = true;
	if (strcmp(arg, "nodelay") == 0)
		return a->nodelay = true;
	if (strcmp(arg, "require_confirmed_email") == 0)
		return a->require_confirmed_email = true;
	if (prefixed(arg, "conf=", &v))
		return a->conf = v, v[0] == '/';
	if (prefixed(arg, "chkpwd=", &v))
		return a->chkpwd = v, v[0] == '/';
	if (prefixed(arg, "central_passwd=", &v))
		return a->central_passwd = v, v[0] == '/';
	if (prefixed(arg, "deny=", &v))
		return number(v, 1000000, &a->has_deny, &a->deny);
	if (prefixed(arg, "unlock_time=", &v))
		return number(v, 100UL * 366 * 86400, &a->has_unlock_time, &a->unlock_time);
	if (prefixed(arg, "minlen=", &v))
		return number(v, 511, &a->has_minlen, &a->minlen);
	if (prefixed(arg, "totp_window=", &v))
		return number(v, 10, &a->has_totp_window, &a->totp_window);
	if (prefixed(arg, "second_factor=", &v)) {
		if (strcmp(v, "enrolled") == 0)
			return a->second_factor = UDB_SECOND_FACTOR_ENROLLED, 1;
		if (strcmp(v, "required") == 0)
			return a->second_factor = UDB_SECOND_FACTOR_REQUIRED, 1;
		if (strcmp(v, "off") == 0)
			return a->second_factor = UDB_SECOND_FACTOR_OFF, 1;
		if (strcmp(v, "enrol") == 0)
			return a->second_factor = UDB_SECOND_FACTOR_ENROL, 1;
		return 0;
	}
	if (prefixed(arg, "roles_required=", &v))
		return a->roles_required = v, list(v, udb_valid_rolename);
	if (prefixed(arg, "roles_accepted=", &v))
		return a->roles_accepted = v, list(v, udb_valid_rolename);
	if (prefixed(arg, "permissions_required=", &v))
		return a->permissions_required = v, list(v, udb_valid_permission);
	if (prefixed(arg, "permissions_accepted=", &v))
		return a->permissions_accepted = v, list(v, udb_valid_permission);
	if (prefixed(arg, "authtok_type=", &v))
		return 1;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcmp(arg, flags[i]) == 0)
			return 1;
	return -1;
}

/* Walks list with udb_pam_list_next and compares each item with a split on
 * commas. */
static void
check_list(const char *list_text)
{
	char item[UDB_PERMISSION_MAX + 1];
	const char *cursor = list_text, *p = list_text;

	if (!list_text)
		return;
	while (udb_pam_list_next(&cursor, item, sizeof(item))) {
		size_t len = strcspn(p, ",");

		fuzz_check(strlen(item) == len && memcmp(item, p, len) == 0,
			   "list item \"%s\" of \"%s\"", item, list_text);
		p += len + (p[len] == ',');
	}
	fuzz_check(*p == '\0', "udb_pam_list_next stopped early in \"%s\"", list_text);
}

static bool
same(const char *a, const char *b)
{
	return a == b;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	struct udb_pam_args got, ref = {0};
	const char *argv[MAX_ARGS];
	char *pieces[MAX_ARGS], escaped[MAX_ARGS][128];
	unsigned n_unknown = 0, n_bad = 0;
	int argc = 0, rc, ref_rc = PAM_SUCCESS;
	pam_handle_t *pamh = (pam_handle_t *)&in; /* never dereferenced: stubs */

	while (in.left > 0 && argc < MAX_ARGS) {
		pieces[argc] = fuzz_string(&in, 600);
		/* A piece that is exactly "\x01" stands for a NULL argv entry. */
		argv[argc] = strcmp(pieces[argc], "\x01") == 0 ? NULL : pieces[argc];
		argc++;
	}

	rc = pud_args_parse(pamh, argc, argv, &got);

	for (int i = 0; i < argc; i++) {
		int kind;
		bool seen = false;

		if (!argv[i])
			continue;
		kind = ref_one(argv[i], &ref);
		if (kind == 0) {
			ref_rc = PAM_SERVICE_ERR;
			n_bad++;
		}
		if (kind >= 0)
			continue;
		/* Logged once per distinct (escaped) argument. */
		pud_escape(argv[i], escaped[n_unknown], sizeof(escaped[0]));
		for (unsigned j = 0; j < n_unknown && !seen; j++)
			seen = strcmp(escaped[j], escaped[n_unknown]) == 0;
		if (!seen)
			n_unknown++;
	}
	fuzz_check(rc == ref_rc, "pud_args_parse gave %d, reference %d", rc, ref_rc);
	fuzz_check(n_logged_unknown == n_unknown, "%u unknown arguments logged, want %u",
		   n_logged_unknown, n_unknown);
	fuzz_check(n_logged_bad == n_bad, "%u bad values logged, want %u", n_logged_bad, n_bad);
	if (rc == PAM_SUCCESS) {
		fuzz_check(got.debug == ref.debug && got.nodelay == ref.nodelay &&
				   got.require_confirmed_email == ref.require_confirmed_email,
			   "flags");
		fuzz_check(same(got.conf, ref.conf), "conf");
		fuzz_check(same(got.chkpwd, ref.chkpwd), "chkpwd");
		fuzz_check(same(got.central_passwd, ref.central_passwd), "central_passwd");
		fuzz_check(got.has_deny == ref.has_deny && (!got.has_deny || got.deny == ref.deny),
			   "deny");
		fuzz_check(got.has_unlock_time == ref.has_unlock_time &&
				   (!got.has_unlock_time || got.unlock_time == ref.unlock_time),
			   "unlock_time");
		fuzz_check(got.has_minlen == ref.has_minlen &&
				   (!got.has_minlen || got.minlen == ref.minlen),
			   "minlen");
		fuzz_check(got.second_factor == ref.second_factor, "second_factor");
		fuzz_check(got.has_totp_window == ref.has_totp_window &&
				   (!got.has_totp_window || got.totp_window == ref.totp_window),
			   "totp_window");
		fuzz_check(same(got.roles_required, ref.roles_required) &&
				   same(got.roles_accepted, ref.roles_accepted) &&
				   same(got.permissions_required, ref.permissions_required) &&
				   same(got.permissions_accepted, ref.permissions_accepted),
			   "lists");
		check_list(got.roles_required);
		check_list(got.roles_accepted);
		check_list(got.permissions_required);
		check_list(got.permissions_accepted);
	}

	/* pud_escape on its own: bounded, printable, and reversible. */
	for (int i = 0; i < argc; i++) {
		char out[64], back[64];
		size_t out_size = 1 + (size_t)(i * 7) % sizeof(out), n = 0;

		pud_escape(argv[i], out, out_size);
		fuzz_check(strlen(out) < out_size, "pud_escape overflow");
		for (const char *p = out; *p; p++) {
			unsigned x;

			fuzz_check(*p >= 0x20 && *p < 0x7f, "pud_escape kept byte 0x%02x",
				   (unsigned char)*p);
			if (*p == '\\') {
				fuzz_check(p[1] == 'x' && isxdigit((unsigned char)p[2]) &&
						   isxdigit((unsigned char)p[3]),
					   "pud_escape: split or bad escape in %s", out);
				sscanf(p + 2, "%2x", &x);
				back[n++] = (char)x;
				p += 3;
			} else {
				back[n++] = *p;
			}
		}
		fuzz_check(!argv[i] || (n <= strlen(argv[i]) && memcmp(back, argv[i], n) == 0),
			   "pud_escape does not decode to a prefix of its input");
	}

	for (int i = 0; i < argc; i++)
		free(pieces[i]);
	reset_handle();
	return 0;
}
