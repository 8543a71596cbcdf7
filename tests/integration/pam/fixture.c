/* The PAM integration tests' test bed (see fixture.h): temporary
 * database, config and service files, and a libpamtest runner that says
 * which case failed and how. Used by test_pam_*.c and pam_fixture.c. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "fixture.h"
#include "hash.h"
#include "role.h"
#include "user.h"

#define SET_ITEMS_DEFAULT "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_set_items.so"
#define GET_ITEMS_DEFAULT "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_get_items.so"

struct fx fx;
bool fx_in_check = true;

__attribute__((format(printf, 1, 2), noreturn)) static void
fx_die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fx_in_check)
		ck_abort_msg("fixture: %s", msg);
	fprintf(stderr, "fixture: %s\n", msg);
	exit(1);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "we");

	if (!f)
		fx_die("cannot create %s: %s", path, strerror(errno));
	fputs(text, f);
	if (fclose(f) != 0 || chmod(path, mode) != 0)
		fx_die("cannot write %s: %s", path, strerror(errno));
}

void
fx_conf(const char *name, const char *extra)
{
	char path[256], text[1024];

	snprintf(path, sizeof(path), "%s/%s", fx.dir, name);
	/* A cheap hash keeps the suite fast; tests of the default method set
	 * their own hash_method in extra, which comes later and wins. */
	snprintf(text, sizeof(text), "dbdir = %s\nhash_method = sha512\nhash_cost = 1000\n%s\n",
		 fx.dbdir, extra ? extra : "");
	write_file(path, text, 0644);
}

void
fx_setup_with(const char *conf_extra)
{
	unsigned line = 0, old = 0;
	enum udb_result r;

	snprintf(fx.dir, sizeof(fx.dir), "/tmp/pamtest.XXXXXX");
	if (!mkdtemp(fx.dir))
		fx_die("mkdtemp: %s", strerror(errno));
	/* Traversable by everyone: one test drops to another uid. */
	chmod(fx.dir, 0755);
	snprintf(fx.dbdir, sizeof(fx.dbdir), "%s/db", fx.dir);
	snprintf(fx.conf, sizeof(fx.conf), "%s/userdb.conf", fx.dir);
	snprintf(fx.services, sizeof(fx.services), "%s/services", fx.dir);
	fx_conf("userdb.conf", conf_extra);
	r = udb_db_init(fx.dbdir, &old);
	if (r != UDB_OK)
		fx_die("udb_db_init: %s", udb_result_to_string(r));
	r = udb_config_load(fx.conf, &fx.cfg, &line);
	if (r != UDB_OK)
		fx_die("udb_config_load: %s (line %u)", udb_result_to_string(r), line);
	r = udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &fx.db);
	if (r != UDB_OK)
		fx_die("udb_db_open: %s", udb_result_to_string(r));
	if (mkdir(fx.services, 0755) != 0)
		fx_die("mkdir %s: %s", fx.services, strerror(errno));
	/* Without `other`, every pam_start prints an error. */
	fx_service("other", "auth required pam_deny.so\naccount required pam_deny.so\n"
			    "password required pam_deny.so\nsession required pam_deny.so\n");
	setenv("PAM_WRAPPER_SERVICE_DIR", fx.services, 1);
}

void
fx_setup(void)
{
	fx_setup_with(NULL);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void
fx_teardown(void)
{
	udb_db_close(fx.db);
	udb_config_free(fx.cfg);
	fx.db = NULL;
	fx.cfg = NULL;
	if (fx.dir[0] && !getenv("PAM_TEST_KEEP"))
		nftw(fx.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copies text into out, replacing each placeholder. */
static void
expand(const char *text, char *out, size_t size)
{
	const char *module = getenv("PAM_USERDB_MODULE");
	const char *set_items = getenv("PAM_SET_ITEMS_MODULE");
	const char *get_items = getenv("PAM_GET_ITEMS_MODULE");
	const struct {
		const char *key, *value;
	} subst[] = {
		{"@MODULE@", module},
		{"@CONF@", fx.conf},
		{"@DIR@", fx.dir},
		{"@SETITEMS@", set_items ? set_items : SET_ITEMS_DEFAULT},
		{"@GETITEMS@", get_items ? get_items : GET_ITEMS_DEFAULT},
	};
	size_t n = 0;

	if (!module)
		fx_die("PAM_USERDB_MODULE is not set");
	while (*text) {
		size_t i, len = 1;
		const char *add = text;

		for (i = 0; i < sizeof(subst) / sizeof(subst[0]); i++) {
			size_t klen = strlen(subst[i].key);

			if (strncmp(text, subst[i].key, klen) == 0) {
				add = subst[i].value;
				len = strlen(add);
				text += klen;
				break;
			}
		}
		if (i == sizeof(subst) / sizeof(subst[0]))
			text++;
		if (n + len >= size)
			fx_die("service text too long");
		memcpy(out + n, add, len);
		n += len;
	}
	out[n] = '\0';
}

void
fx_service(const char *name, const char *text)
{
	char path[256], body[4096];

	snprintf(path, sizeof(path), "%s/%s", fx.services, name);
	expand(text, body, sizeof(body));
	write_file(path, body, 0644);
}

int64_t
fx_user(const char *name, const char *password)
{
	struct udb_user_spec spec = {.username = name};
	struct udb_user *u = NULL;
	char *hash = NULL;
	enum udb_result r;
	int64_t id;

	if (password) {
		r = udb_hash_password(fx.cfg, password, &hash);
		if (r != UDB_OK)
			fx_die("udb_hash_password: %s", udb_result_to_string(r));
	}
	spec.password_hash = hash;
	r = udb_user_add(fx.db, fx.cfg, &spec, false, udb_now(), &u);
	udb_secret_free(hash);
	if (r != UDB_OK)
		fx_die("udb_user_add %s: %s", name, udb_result_to_string(r));
	id = u->id;
	udb_user_free(u);
	return id;
}

void
fx_set_hash(const char *name, const char *hash)
{
	enum udb_result r = udb_account_set_password(fx.db, name, hash, udb_now());

	if (r != UDB_OK)
		fx_die("udb_account_set_password %s: %s", name, udb_result_to_string(r));
}

/* Splits a comma list into v (at most 8 items, pointers into buf). */
static size_t
split(const char *list, char *buf, size_t size, const char **v)
{
	size_t n = 0;

	if (!list || !*list)
		return 0;
	snprintf(buf, size, "%s", list);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < 8;
	     t = strtok_r(NULL, ",", &save))
		v[n++] = t;
	return n;
}

void
fx_role(const char *name, const char *permissions, const char *includes)
{
	char pbuf[256], ibuf[256];
	const char *perms[8], *incs[8];
	struct udb_role_spec spec = {.name = name};
	enum udb_result r;

	spec.n_permissions = split(permissions, pbuf, sizeof(pbuf), perms);
	spec.permissions = perms;
	spec.n_includes = split(includes, ibuf, sizeof(ibuf), incs);
	spec.includes = incs;
	r = udb_role_add(fx.db, fx.cfg, &spec, false, udb_now());
	if (r != UDB_OK)
		fx_die("udb_role_add %s: %s", name, udb_result_to_string(r));
}

void
fx_grant(const char *user, const char *role, int64_t not_before, int64_t not_after)
{
	enum udb_result r = udb_grant(fx.db, user, role, not_before, not_after, udb_now(), NULL);

	if (r != UDB_OK)
		fx_die("udb_grant %s %s: %s", user, role, udb_result_to_string(r));
}

struct udb_account *
fx_account(const char *name)
{
	struct udb_account *a = NULL;
	enum udb_result r = udb_account_by_name(fx.db, name, &a);

	if (r != UDB_OK)
		fx_die("udb_account_by_name %s: %s", name, udb_result_to_string(r));
	return a;
}

const char *
fx_code(int code)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{PAM_SUCCESS, "PAM_SUCCESS"},
		{PAM_AUTH_ERR, "PAM_AUTH_ERR"},
		{PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN"},
		{PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL"},
		{PAM_PERM_DENIED, "PAM_PERM_DENIED"},
		{PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED"},
		{PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD"},
		{PAM_AUTHTOK_EXPIRED, "PAM_AUTHTOK_EXPIRED"},
		{PAM_AUTHTOK_ERR, "PAM_AUTHTOK_ERR"},
		{PAM_AUTHTOK_LOCK_BUSY, "PAM_AUTHTOK_LOCK_BUSY"},
		{PAM_TRY_AGAIN, "PAM_TRY_AGAIN"},
		{PAM_SERVICE_ERR, "PAM_SERVICE_ERR"},
		{PAM_SESSION_ERR, "PAM_SESSION_ERR"},
		{PAM_MAXTRIES, "PAM_MAXTRIES"},
		{PAM_CRED_ERR, "PAM_CRED_ERR"},
		{PAM_BUF_ERR, "PAM_BUF_ERR"},
		{PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR"},
		{PAM_IGNORE, "PAM_IGNORE"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "(other PAM code)";
}

static const char *
op_name(enum pamtest_ops op)
{
	switch (op) {
	case PAMTEST_AUTHENTICATE:
		return "authenticate";
	case PAMTEST_SETCRED:
		return "setcred";
	case PAMTEST_ACCOUNT:
		return "acct_mgmt";
	case PAMTEST_OPEN_SESSION:
		return "open_session";
	case PAMTEST_CLOSE_SESSION:
		return "close_session";
	case PAMTEST_CHAUTHTOK:
		return "chauthtok";
	default:
		return "other";
	}
}

void
fx_run_(const char *service, const char *user, const char **answers, struct pam_testcase *cases,
	size_t n, struct fx_msgs *msgs, const char *file, int line)
{
	static const char *none[] = {NULL, NULL, NULL, NULL};
	struct pamtest_conv_data conv = {.in_echo_off = answers ? answers : none};
	char *err_ptrs[8], *info_ptrs[8];
	const struct pam_testcase *failed;
	enum pamtest_err perr;

	if (msgs) {
		memset(msgs, 0, sizeof(*msgs));
		for (size_t i = 0; i < 8; i++) {
			err_ptrs[i] = msgs->err[i];
			info_ptrs[i] = msgs->info[i];
		}
		conv.out_err = err_ptrs;
		conv.out_info = info_ptrs;
	}
	perr = _pamtest(service, user, &conv, cases, n, NULL);
	if (perr == PAMTEST_ERR_OK)
		return;
	failed = _pamtest_failed_case(cases, n);
	if (perr == PAMTEST_ERR_CASE && failed)
		ck_abort_msg("%s:%d: service %s, user %s: case %zu (%s): expected %s, got %s (%d)",
			     file, line, service, user, (size_t)(failed - cases),
			     op_name(failed->pam_operation), fx_code(failed->expected_rv),
			     fx_code(failed->op_rv), failed->op_rv);
	ck_abort_msg("%s:%d: service %s, user %s: %s", file, line, service, user,
		     pamtest_strerror(perr));
}
