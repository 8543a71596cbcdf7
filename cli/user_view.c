/* The `user show` and `user list` commands: one user with its roles, emails
 * and account state, or every user (of a role, or in a state) as a table or
 * JSON. Dispatched from main.c; the changes to users are in user.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "central.h"
#include "cli.h"

/* Users and accounts are read this many at a time. */
#define LIST_PAGE 512

static void
view_free(struct cli_user_view *v)
{
	udb_user_free(v->user);
	udb_strv_free(v->roles, v->n_roles);
	free(v->inherited);
	udb_grant_list_free(v->grants, v->n_grants);
	udb_strv_free(v->permissions, v->n_permissions);
	udb_email_list_free(v->emails, v->n_emails);
	udb_account_free(v->account);
}

/* Marks each effective role that no active direct grant gives: it comes
 * through an inclusion. */
static enum udb_result
mark_inherited(struct cli_user_view *v)
{
	v->inherited = calloc(v->n_roles ? v->n_roles : 1, sizeof(*v->inherited));
	if (!v->inherited)
		return UDB_NO_MEMORY;
	for (size_t i = 0; i < v->n_roles; i++) {
		v->inherited[i] = true;
		for (size_t j = 0; j < v->n_grants; j++) {
			const struct udb_grant *g = &v->grants[j];
			bool active = (!g->not_before || g->not_before <= v->now) &&
				      (!g->not_after || g->not_after > v->now);

			if (active && strcmp(g->role, v->roles[i]) == 0)
				v->inherited[i] = false;
		}
	}
	return UDB_OK;
}

/* Reads everything `user show` shows about v->user. */
static enum udb_result
view_load(struct cli *c, struct cli_user_view *v)
{
	int64_t id = v->user->id;
	enum udb_result r;

	v->now = c->now;
	r = udb_user_effective_roles(c->db, id, c->now, &v->roles, &v->n_roles);
	if (r == UDB_OK)
		r = udb_user_grants(c->db, id, &v->grants, &v->n_grants);
	if (r == UDB_OK)
		r = mark_inherited(v);
	if (r == UDB_OK)
		r = udb_user_effective_permissions(c->db, id, c->now, &v->permissions,
						   &v->n_permissions);
	if (r != UDB_OK || c->public_only)
		return r;
	r = udb_email_list(c->db, v->user->username, &v->emails, &v->n_emails);
	if (r == UDB_OK)
		r = udb_account_by_user_id(c->db, id, &v->account);
	if (r == UDB_NOT_FOUND) {
		/* A user add or delete cut short between the two files: the next
		 * change repairs it (see db.h). */
		out_note("user %s has no account record yet (an interrupted change)",
			 v->user->username);
		return UDB_OK;
	}
	v->have_shadow = r == UDB_OK;
	return r;
}

/* On the admin box: the user's last login across the fleet, from central
 * (schema 5's userdb.last_logins, which the hosts' syncs fill). Central
 * unreachable is shown as such; the local fields are shown anyway. */
static void
fleet_login(struct cli *c, struct cli_user_view *v)
{
	struct udb_central_login login;
	struct udb_central *central = NULL;
	char err[256];

	v->fleet_login = FLEET_LOGIN_UNREACHABLE;
	if (udb_central_connect(c->cfg->central, &central, err, sizeof(err)) != UDB_OK)
		return;
	if (udb_central_last_login(central, v->user->id, &login) == UDB_OK) {
		v->fleet_login = login.found ? FLEET_LOGIN_FOUND : FLEET_LOGIN_NEVER;
		v->fleet_login_at = login.at;
		snprintf(v->fleet_login_host, sizeof(v->fleet_login_host), "%s", login.host);
		snprintf(v->fleet_login_from, sizeof(v->fleet_login_from), "%s", login.detail);
	}
	udb_central_close(central);
}

enum udb_result
cmd_user_show(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"NAME"};
	struct cli_user_view v = {0};
	const char *email = NULL, *name = NULL;
	const struct cli_opt opts[] = {
		{"email", CLI_VALUE, &email},
		{0},
	};
	struct cli_args a = {
		.help = "  --email ADDR  find the user by email address (case-insensitive;\n"
			"                needs root)\n"
			"  --json        one JSON object\n"
			"Without read access to the shadow file, emails and account state "
			"are\n"
			"left out (null in JSON).\n",
		.opts = opts,
		.names = names,
		.min_args = 0,
		.max_args = 1,
		.args = &name};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	/* NAME and --email exclude each other. */
	if (email && name)
		return cli_error(UDB_INVALID, "%s: unexpected argument %s", c->name,
				 cli_quote(name));
	if (!email && !name)
		return cli_error(UDB_INVALID, "%s: missing NAME (see `userdb %s --help`)", c->name,
				 c->name);
	if (email)
		r = arg_email(email);
	else
		r = arg_username(name);
	if (r == UDB_OK)
		r = cli_open(c, email ? CLI_READ_SHADOW : CLI_READ);
	if (r != UDB_OK)
		return r;
	if (email) {
		r = udb_user_by_email(c->db, email, &v.user);
		if (r == UDB_NOT_FOUND)
			return cli_error(r, "email address %s: no user has it", cli_quote(email));
	} else {
		r = udb_user_by_name(c->db, name, &v.user);
	}
	if (r != UDB_OK && email)
		return cli_error(r, "email address %s: %s", cli_quote(email),
				 udb_result_to_string(r));
	if (r != UDB_OK)
		return report_user(r, name);
	r = view_load(c, &v);
	if (r == UDB_OK) {
		if (c->cfg->central && !c->cfg->host)
			fleet_login(c, &v);
		if (c->public_only)
			out_note("the shadow file is not readable: emails and account state are "
				 "not shown");
		r = out_user(c, &v);
	} else {
		report_user(r, v.user->username);
	}
	view_free(&v);
	return r;
}

/* The accounts of a listing, read a page at a time alongside the users:
 * both come in id order, so each account page is read once, starting at
 * the first user that needs it. */
struct account_cursor {
	struct udb_account **page;
	size_t n, next;
	bool loaded, last; /* last: no account after the page */
};

static void
cursor_clear(struct account_cursor *k)
{
	udb_account_list_free(k->page, k->n);
	*k = (struct account_cursor){0};
}

/* *ret_account: the account of user_id, or NULL when it has none. */
static enum udb_result
cursor_find(struct cli *c, struct account_cursor *k, int64_t user_id,
	    const struct udb_account **ret_account)
{
	enum udb_result r;

	for (;;) {
		while (k->next < k->n && k->page[k->next]->user_id < user_id)
			k->next++;
		if (k->next < k->n) {
			*ret_account =
				k->page[k->next]->user_id == user_id ? k->page[k->next] : NULL;
			return UDB_OK;
		}
		if (k->loaded && k->last) {
			*ret_account = NULL;
			return UDB_OK;
		}
		cursor_clear(k);
		r = udb_shadow_page(c->db, user_id - 1, LIST_PAGE, &k->page, &k->n);
		if (r != UDB_OK)
			return r;
		k->loaded = true;
		k->last = k->n < LIST_PAGE;
	}
}

/* What --disabled, --locked and --expired ask for; a user is listed when
 * it matches every filter given. */
struct list_filter {
	bool disabled, locked, expired;
};

static bool
filter_match(const struct list_filter *f, const struct udb_account *a, int64_t now)
{
	if (!f->disabled && !f->locked && !f->expired)
		return true;
	if (!a)
		return false;
	if (f->disabled && a->is_enabled)
		return false;
	if (f->locked && !udb_account_is_locked(a, now))
		return false;
	if (f->expired && !(a->not_after && now >= a->not_after))
		return false;
	return true;
}

struct list_state {
	struct cli *c;
	const struct list_filter *filter;
	struct account_cursor accounts;
	bool by_id; /* read each account by id: a role's members are sparse */
};

/* One user of the listing: its account (when the shadow file is open),
 * the filter, the output. */
static enum udb_result
list_one(void *ctx, const struct udb_user *u)
{
	struct list_state *st = ctx;
	const struct udb_account *a = NULL;
	struct udb_account *own = NULL;
	enum udb_result r = UDB_OK;

	if (!st->c->public_only && st->by_id) {
		r = udb_account_by_user_id(st->c->db, u->id, &own);
		if (r == UDB_NOT_FOUND)
			r = UDB_OK;
		a = own;
	} else if (!st->c->public_only) {
		r = cursor_find(st->c, &st->accounts, u->id, &a);
	}
	if (r == UDB_OK && filter_match(st->filter, a, st->c->now))
		r = out_user_list_item(st->c, u, a);
	udb_account_free(own);
	return r;
}

/* Every user, a page at a time, or every member of role_name in one
 * statement (a role's members paged would be read again for each page). */
static enum udb_result
list_users(struct cli *c, const char *role_name, const struct list_filter *f)
{
	struct list_state st = {.c = c, .filter = f};
	struct udb_user **users = NULL;
	int64_t after = 0;
	size_t n = 0;
	enum udb_result r;

	if (role_name) {
		st.by_id = true;
		r = udb_user_each_in_role(c->db, role_name, c->now, list_one, &st);
		cursor_clear(&st.accounts);
		return r;
	}
	do {
		r = udb_user_page(c->db, after, LIST_PAGE, &users, &n);
		if (r != UDB_OK)
			break;
		for (size_t i = 0; r == UDB_OK && i < n; i++) {
			r = list_one(&st, users[i]);
			after = users[i]->id;
		}
		udb_user_list_free(users, n);
	} while (r == UDB_OK && n == LIST_PAGE);
	cursor_clear(&st.accounts);
	return r;
}

enum udb_result
cmd_user_list(struct cli *c, int argc, char **argv)
{
	struct udb_role *role = NULL;
	const char *role_name = NULL;
	struct list_filter f = {0};
	const struct cli_opt opts[] = {
		{"role", CLI_VALUE, &role_name},
		{"disabled", CLI_FLAG, &f.disabled},
		{"locked", CLI_FLAG, &f.locked},
		{"expired", CLI_FLAG, &f.expired},
		{0},
	};
	struct cli_args a = {
		.help = "  --role ROLE  only the effective members of ROLE now (direct\n"
			"               grants and members of roles that include it)\n"
			"  --disabled   only disabled accounts\n"
			"  --locked     only accounts locked by failed logins now\n"
			"  --expired    only accounts whose validity has ended (user expire\n"
			"               --account)\n"
			"               Filters combine: a user must match each one given;\n"
			"               they need root.\n"
			"  --json       a JSON array\n"
			"The STATUS column (and enabled, locked, expired, status in JSON) is\n"
			"shown when the shadow file is readable.\n",
		.opts = opts};
	bool filtered;
	enum cli_parse_result p;
	enum udb_result r = UDB_OK;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	filtered = f.disabled || f.locked || f.expired;
	if (role_name)
		r = arg_rolename(role_name);
	if (r == UDB_OK)
		r = cli_open(c, filtered ? CLI_READ_SHADOW : CLI_READ);
	if (r == UDB_OK && role_name) {
		r = udb_role_by_name(c->db, role_name, &role);
		udb_role_free(role);
		if (r != UDB_OK)
			return report_role(r, role_name);
	}
	if (r != UDB_OK)
		return r;
	out_user_list_begin(c);
	r = list_users(c, role_name, &f);
	out_user_list_end(c, r == UDB_OK);
	if (r != UDB_OK)
		return cli_error(r, "user list: %s", udb_result_to_string(r));
	return UDB_OK;
}
