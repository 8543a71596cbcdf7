/* Everything the admin tool prints on stdout for `user show` and `user
 * list`: a user's identity, roles, grants, permissions, emails and account
 * state, as aligned `key: value` lines or as JSON. Called by user.c; the
 * printing primitives come from output.c. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "window.h"

/* The libxcrypt method a hash was made with, from its prefix. */
static const char *
hash_method_name(const char *hash)
{
	static const struct {
		const char *prefix, *name;
	} methods[] = {
		{"$y$", "yescrypt"},    {"$gy$", "gost-yescrypt"}, {"$7$", "scrypt"},
		{"$2b$", "bcrypt"},     {"$2a$", "bcrypt"},        {"$2y$", "bcrypt"},
		{"$6$", "sha512crypt"}, {"$5$", "sha256crypt"},    {"$sha1$", "sha1crypt"},
		{"$md5", "sunmd5"},     {"$1$", "md5crypt"},       {"$3$", "nthash"},
		{"_", "bsdicrypt"},
	};

	if (!hash || !*hash)
		return NULL;
	if (hash[0] == '!' || hash[0] == '*')
		return "locked";
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strncmp(hash, methods[i].prefix, strlen(methods[i].prefix)) == 0)
			return methods[i].name;
	if (strlen(hash) == 13)
		return "descrypt";
	return "unknown";
}

/* Indexed by enum udb_window_state. */
static const char *const grant_state_names[] = {"active", "not yet active", "expired"};

static const char *
grant_state_name(const struct udb_grant *g, int64_t now)
{
	return grant_state_names[udb_window_state(g->not_before, g->not_after, now)];
}

/* Appends word to the ", "-separated list in buf, if it fits whole. */
static void
add_word(char *buf, size_t size, const char *word)
{
	size_t len = strlen(buf);

	if (len + strlen(word) + 3 > size)
		return;
	if (len)
		strcat(buf, ", ");
	strcat(buf, word);
}

/* Every reason the account cannot log in now, joined by ", " into buf
 * ("ok" when there is none): disabled, not yet valid, expired, locked,
 * then the password's state. udb_account_status() gives only the first
 * one the PAM account phase meets, and knows nothing of the lockout that
 * the auth phase checks. */
const char *
cli_account_status(const struct udb_account *a, int64_t now, char *buf, size_t size)
{
	struct udb_account password_only = *a;
	enum udb_account_status ps;

	buf[0] = '\0';
	if (!a->is_enabled)
		add_word(buf, size, "disabled");
	if (a->not_before && now < a->not_before)
		add_word(buf, size, "not yet valid");
	if (a->not_after && now >= a->not_after)
		add_word(buf, size, "expired");
	if (udb_account_is_locked(a, now))
		add_word(buf, size, "locked");
	password_only.is_enabled = true;
	password_only.not_before = password_only.not_after = 0;
	ps = udb_account_status(&password_only, now);
	if (ps != UDB_ACCOUNT_OK)
		add_word(buf, size, udb_account_status_to_string(ps));
	if (!buf[0])
		add_word(buf, size, "ok");
	return buf;
}

static struct json_object *
json_fleet_login(const struct cli_user_view *v, bool *ok)
{
	struct json_object *o;

	if (v->fleet_login != FLEET_LOGIN_FOUND)
		return NULL;
	o = json_object_new_object();
	if (!o) {
		*ok = false;
		return NULL;
	}
	out_jset_time(o, "at", v->fleet_login_at, ok);
	out_jset_str(o, "host", v->fleet_login_host, ok);
	out_jset_str(o, "from", v->fleet_login_from[0] ? v->fleet_login_from : NULL, ok);
	return o;
}

static struct json_object *
json_account(const struct udb_account *a, int64_t now, bool *ok)
{
	struct json_object *o = json_object_new_object();
	bool locked = udb_account_is_locked(a, now);
	char status[128];

	if (!o) {
		*ok = false;
		return NULL;
	}
	out_jset_bool(o, "enabled", a->is_enabled, ok);
	out_jset_str(o, "status", cli_account_status(a, now, status, sizeof(status)), ok);
	out_jset_time(o, "not_before", a->not_before, ok);
	out_jset_time(o, "not_after", a->not_after, ok);
	out_jset_bool(o, "locked", locked, ok);
	out_jset_bool(o, "expired", a->not_after && now >= a->not_after, ok);
	/* null while locked means: until `userdb user unlock`. */
	out_jset_time(o, "locked_until", a->locked_until == INT64_MAX ? 0 : a->locked_until, ok);
	out_jset_int(o, "failed_count", a->failed_count, ok);
	out_jset_time(o, "last_failed_at", a->last_failed_at, ok);
	out_jset_bool(o, "password_set", a->password_hash && *a->password_hash, ok);
	out_jset_str(o, "password_method", hash_method_name(a->password_hash), ok);
	out_jset_bool(o, "password_locked", udb_account_password_locked(a->password_hash), ok);
	out_jset_time(o, "password_changed_at", a->password_changed_at, ok);
	out_jset_bool(o, "must_change_password", a->must_change, ok);
	out_jset_days(o, "min_days", a->min_days, ok);
	out_jset_days(o, "max_days", a->max_days, ok);
	out_jset_days(o, "warn_days", a->warn_days, ok);
	out_jset_days(o, "inactive_days", a->inactive_days, ok);
	out_jset_time(o, "last_login_at", a->last_login_at, ok);
	out_jset_str(o, "last_login_ip", a->last_login_ip, ok);
	out_jset_time(o, "current_login_at", a->current_login_at, ok);
	out_jset_str(o, "current_login_ip", a->current_login_ip, ok);
	out_jset_int(o, "login_count", a->login_count, ok);
	return o;
}

/* The identity fields shared by `user show` and `user list`. */
static struct json_object *
json_user_base(const struct udb_user *u, bool *ok)
{
	struct json_object *o = json_object_new_object();

	if (!o) {
		*ok = false;
		return NULL;
	}
	out_jset_str(o, "username", u->username, ok);
	out_jset_int(o, "uid", u->uid, ok);
	out_jset_int(o, "gid", u->gid, ok);
	out_jset_str(o, "primary_group", u->primary_role ? u->primary_role : u->username, ok);
	out_jset_str(o, "primary_role", u->primary_role, ok);
	out_jset_str(o, "first_name", u->first_name, ok);
	out_jset_str(o, "last_name", u->last_name, ok);
	out_jset_str(o, "home", u->home, ok);
	out_jset_str(o, "shell", u->shell, ok);
	out_jset_time(o, "created_at", u->created_at, ok);
	out_jset_time(o, "updated_at", u->updated_at, ok);
	return o;
}

static enum udb_result
json_user(const struct cli_user_view *v)
{
	bool ok = true;
	struct json_object *o = json_user_base(v->user, &ok);
	struct json_object *roles, *grants;

	if (!o)
		return out_jprint(NULL, false, 0);
	roles = json_object_new_array();
	for (size_t i = 0; roles && i < v->n_roles; i++) {
		struct json_object *r = json_object_new_object();

		if (r) {
			out_jset_str(r, "name", v->roles[i], &ok);
			out_jset_bool(r, "inherited", v->inherited[i], &ok);
		}
		out_jpush(roles, r, &ok);
	}
	out_jset(o, "roles", roles, &ok);
	grants = json_object_new_array();
	for (size_t i = 0; grants && i < v->n_grants; i++) {
		const struct udb_grant *g = &v->grants[i];
		struct json_object *j = json_object_new_object();

		if (j) {
			out_jset_str(j, "role", g->role, &ok);
			out_jset_time(j, "not_before", g->not_before, &ok);
			out_jset_time(j, "not_after", g->not_after, &ok);
			out_jset_time(j, "granted_at", g->granted_at, &ok);
			out_jset_str(j, "state", grant_state_name(g, v->now), &ok);
		}
		out_jpush(grants, j, &ok);
	}
	out_jset(o, "grants", grants, &ok);
	out_jset(o, "permissions", out_jstrv(v->permissions, v->n_permissions, &ok), &ok);
	if (v->have_shadow) {
		out_jset(o, "emails", out_json_emails(v->emails, v->n_emails, &ok), &ok);
		out_jset(o, "account", json_account(v->account, v->now, &ok), &ok);
	} else {
		out_jset_null(o, "emails", &ok);
		out_jset_null(o, "account", &ok);
	}
	/* The admin box: the fleet's last login (null: none yet, or central
	 * unreachable, which fleet_reachable tells apart). */
	if (v->fleet_login != FLEET_LOGIN_NONE) {
		struct json_object *f = json_fleet_login(v, &ok);

		if (f)
			out_jset(o, "fleet_last_login", f, &ok);
		else
			out_jset_null(o, "fleet_last_login", &ok);
		out_jset_bool(o, "fleet_reachable", v->fleet_login != FLEET_LOGIN_UNREACHABLE, &ok);
	}
	return out_jprint(o, ok, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
}

static void
login_line(const char *k, int64_t t, const char *ip)
{
	char buf[32];

	out_key(k);
	printf("%s", out_when(t, buf, sizeof(buf), "never"));
	if (ip) {
		printf(" from ");
		out_text(ip);
	}
	putchar('\n');
}

static void
human_account(const struct udb_account *a, int64_t now)
{
	char b1[128], b2[32], b3[32], b4[32];
	const char *method = hash_method_name(a->password_hash);

	out_kv_fmt("enabled", "%s", out_yes_no(a->is_enabled));
	out_kv_fmt("status", "%s", cli_account_status(a, now, b1, sizeof(b1)));
	out_kv_fmt("valid from", "%s", out_when(a->not_before, b1, sizeof(b1), "-"));
	out_kv_fmt("valid until", "%s", out_when(a->not_after, b1, sizeof(b1), "never expires"));
	if (!udb_account_is_locked(a, now))
		out_kv_fmt("locked", "no");
	else if (a->locked_until == INT64_MAX)
		out_kv_fmt("locked", "yes, until `userdb user unlock`");
	else
		out_kv_fmt("locked", "yes, until %s",
			   out_when(a->locked_until, b1, sizeof(b1), "-"));
	if (a->last_failed_at)
		out_kv_fmt("failed logins", "%d (last one %s)", a->failed_count,
			   out_when(a->last_failed_at, b1, sizeof(b1), "-"));
	else
		out_kv_fmt("failed logins", "%d", a->failed_count);
	if (udb_account_password_locked(a->password_hash))
		out_kv_fmt("password", "locked (%s; `userdb user unlock-password`), changed %s",
			   hash_method_name(a->password_hash + 1),
			   out_when(a->password_changed_at, b1, sizeof(b1), "never"));
	else if (method)
		out_kv_fmt("password", "set (%s), changed %s", method,
			   out_when(a->password_changed_at, b1, sizeof(b1), "never"));
	else
		out_kv_fmt("password", "not set");
	out_kv_fmt("must change", "%s", out_yes_no(a->must_change));
	out_kv_fmt("password aging", "min %s, max %s, warn %s, inactive %s",
		   out_days(a->min_days, b1, sizeof(b1)), out_days(a->max_days, b2, sizeof(b2)),
		   out_days(a->warn_days, b3, sizeof(b3)),
		   out_days(a->inactive_days, b4, sizeof(b4)));
	login_line("last login", a->last_login_at, a->last_login_ip);
	login_line("current login", a->current_login_at, a->current_login_ip);
	out_kv_fmt("login count", "%" PRId64, a->login_count);
}

/* The admin box's line for the fleet's last login (cli.h). */
static void
human_fleet_login(const struct cli_user_view *v)
{
	char buf[32];

	if (v->fleet_login == FLEET_LOGIN_NONE)
		return;
	/* Wider than the other keys: its own separator. */
	printf("last login (fleet): ");
	if (v->fleet_login == FLEET_LOGIN_UNREACHABLE) {
		printf("not known: central database unreachable\n");
		return;
	}
	if (v->fleet_login == FLEET_LOGIN_NEVER) {
		printf("never\n");
		return;
	}
	printf("%s on ", out_when(v->fleet_login_at, buf, sizeof(buf), "never"));
	out_text(v->fleet_login_host);
	if (v->fleet_login_from[0]) {
		printf(" from ");
		out_text(v->fleet_login_from);
	}
	putchar('\n');
}

static void
human_user(const struct cli_user_view *v)
{
	const struct udb_user *u = v->user;
	char b1[32], b2[32];

	out_kv_text("user", u->username);
	out_kv_fmt("uid", "%" PRIu32, u->uid);
	if (u->primary_role) {
		out_key("primary group");
		out_text(u->primary_role);
		printf(" (gid %" PRIu32 ", role)\n", u->gid);
	} else {
		out_key("primary group");
		out_text(u->username);
		printf(" (gid %" PRIu32 ", personal group)\n", u->gid);
	}
	out_kv_text("first name", u->first_name);
	out_kv_text("last name", u->last_name);
	out_kv_text("home", u->home);
	out_kv_text("shell", u->shell);
	out_kv_fmt("created", "%s", out_when(u->created_at, b1, sizeof(b1), "-"));
	out_kv_fmt("updated", "%s", out_when(u->updated_at, b1, sizeof(b1), "-"));
	out_key("roles");
	if (v->n_roles == 0)
		printf("(none)");
	for (size_t i = 0; i < v->n_roles; i++) {
		printf("%s", i ? ", " : "");
		out_text(v->roles[i]);
		if (v->inherited[i])
			printf(" (inherited)");
	}
	putchar('\n');
	if (v->n_grants == 0)
		out_kv_fmt("grant", "(none)");
	for (size_t i = 0; i < v->n_grants; i++) {
		const struct udb_grant *g = &v->grants[i];

		out_key("grant");
		out_text(g->role);
		printf(" (%s", grant_state_name(g, v->now));
		if (g->not_before)
			printf(", from %s", out_when(g->not_before, b1, sizeof(b1), "-"));
		printf(", %s%s", g->not_after ? "until " : "no expiry",
		       g->not_after ? out_when(g->not_after, b2, sizeof(b2), "-") : "");
		printf(", granted %s)\n", out_when(g->granted_at, b1, sizeof(b1), "-"));
	}
	out_kv_list("permissions", v->permissions, v->n_permissions);
	if (!v->have_shadow) {
		out_kv_fmt("emails", "not shown (the shadow file is not readable)");
		out_kv_fmt("account", "not shown (the shadow file is not readable)");
		return;
	}
	if (v->n_emails == 0)
		out_kv_fmt("email", "(none)");
	for (size_t i = 0; i < v->n_emails; i++) {
		const struct udb_email *e = &v->emails[i];

		out_key("email");
		out_text(e->address);
		printf(" (%s%s%s)\n", e->is_primary ? "primary, " : "",
		       e->confirmed_at ? "confirmed " : "unconfirmed",
		       e->confirmed_at ? out_when(e->confirmed_at, b1, sizeof(b1), "-") : "");
	}
	human_account(v->account, v->now);
	human_fleet_login(v);
}

enum udb_result
out_user(struct cli *c, const struct cli_user_view *v)
{
	if (c->json)
		return json_user(v);
	human_user(v);
	return UDB_OK;
}

/* `user list --json` streams one array element per user, so a long list
 * never sits in memory as a whole. The table keeps its rows until the end,
 * because every column is as wide as its widest entry. */
struct list_row {
	char *username, *status, *name;
	uint32_t uid, gid;
};

static struct {
	size_t count;
	struct list_row *rows;
	size_t cap;
	bool states; /* the STATUS column: the shadow file was read */
} list;

void
out_user_list_begin(struct cli *c)
{
	list.count = 0;
	list.states = !c->public_only;
	if (c->json)
		printf("[");
}

static enum udb_result
json_list_item(const struct udb_user *u, const struct udb_account *a, int64_t now)
{
	struct json_object *o;
	const char *s = NULL;
	char status[128];
	bool ok = true;

	o = json_user_base(u, &ok);
	if (o && a) {
		out_jset_bool(o, "enabled", a->is_enabled, &ok);
		out_jset_bool(o, "locked", udb_account_is_locked(a, now), &ok);
		out_jset_bool(o, "expired", a->not_after && now >= a->not_after, &ok);
		out_jset_str(o, "status", cli_account_status(a, now, status, sizeof(status)), &ok);
	} else if (o) {
		/* Not read: the shadow file is not readable. */
		out_jset_null(o, "enabled", &ok);
		out_jset_null(o, "locked", &ok);
		out_jset_null(o, "expired", &ok);
		out_jset_null(o, "status", &ok);
	}
	if (o && ok)
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		printf("%s\n  %s", list.count ? "," : "", s);
	json_object_put(o);
	return s ? UDB_OK : cli_error(UDB_NO_MEMORY, "printing JSON: out of memory");
}

static enum udb_result
keep_row(const struct udb_user *u, const struct udb_account *a, int64_t now)
{
	struct list_row *row;
	char status[128];

	if (list.count == list.cap) {
		size_t cap = list.cap ? list.cap * 2 : 256;
		struct list_row *grown = realloc(list.rows, cap * sizeof(*grown));

		if (!grown)
			return cli_error(UDB_NO_MEMORY, "user list: out of memory");
		list.rows = grown;
		list.cap = cap;
	}
	row = &list.rows[list.count];
	*row = (struct list_row){.uid = u->uid, .gid = u->gid};
	row->username = strdup(u->username);
	row->status = strdup(a ? cli_account_status(a, now, status, sizeof(status)) : "-");
	if (asprintf(&row->name, "%s%s%s", u->first_name,
		     *u->first_name && *u->last_name ? " " : "", u->last_name) < 0)
		row->name = NULL;
	if (!row->username || !row->status || !row->name) {
		free(row->username);
		free(row->status);
		free(row->name);
		return cli_error(UDB_NO_MEMORY, "user list: out of memory");
	}
	return UDB_OK;
}

enum udb_result
out_user_list_item(struct cli *c, const struct udb_user *u, const struct udb_account *a)
{
	enum udb_result r;

	r = c->json ? json_list_item(u, a, c->now) : keep_row(u, a, c->now);
	if (r == UDB_OK)
		list.count++;
	return r;
}

static void
print_table(void)
{
	int w_user = 4, w_uid = 3, w_gid = 3, w_status = 6;
	char num[16];

	for (size_t i = 0; i < list.count; i++) {
		const struct list_row *row = &list.rows[i];

		w_user = out_max(w_user, out_width(row->username));
		w_uid = out_max(w_uid, snprintf(num, sizeof(num), "%" PRIu32, row->uid));
		w_gid = out_max(w_gid, snprintf(num, sizeof(num), "%" PRIu32, row->gid));
		w_status = out_max(w_status, out_width(row->status));
	}
	printf("%-*s  %*s  %*s  ", w_user, "USER", w_uid, "UID", w_gid, "GID");
	if (list.states)
		printf("%-*s  ", w_status, "STATUS");
	printf("NAME\n");
	for (size_t i = 0; i < list.count; i++) {
		const struct list_row *row = &list.rows[i];

		out_padded(row->username, w_user);
		printf("  %*" PRIu32 "  %*" PRIu32 "  ", w_uid, row->uid, w_gid, row->gid);
		if (list.states) {
			out_padded(row->status, w_status);
			printf("  ");
		}
		out_text(row->name);
		putchar('\n');
	}
}

void
out_user_list_end(struct cli *c, bool complete)
{
	if (c->json && complete)
		printf("%s]\n", list.count ? "\n" : "");
	else if (complete)
		print_table();
	for (size_t i = 0; !c->json && i < list.count; i++) {
		free(list.rows[i].username);
		free(list.rows[i].status);
		free(list.rows[i].name);
	}
	free(list.rows);
	list.rows = NULL;
	list.count = list.cap = 0;
}
