/* Printing `userdb explain`: the one decision line, then the PAM lines,
 * the account state and, for each role or permission an argument names,
 * the grant and inclusion path that gives it or the grant that no longer
 * does. Called by explain.c. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "config.h"
#include "output.h"
#include "replica.h"
#include "totp.h"
#include "window.h"

#define PATH_MAX_DEPTH 32

/* Depth-first from role `from` to the role named role, or to a role that
 * holds permission perm; appends the names walked to path (" > "). */
static enum udb_result
reach(struct udb_db *db, const char *from, const char *role, const char *perm, int depth,
      char *path, size_t size, bool *found)
{
	struct udb_role *r = NULL;
	char **names = NULL;
	size_t n = 0, len = strlen(path);
	enum udb_result res;

	if (depth > PATH_MAX_DEPTH)
		return UDB_OK;
	snprintf(path + len, size - len, "%s%s", len ? " > " : "", from);
	res = udb_role_by_name(db, from, &r);
	if (res != UDB_OK)
		goto out;
	if (role && strcmp(from, role) == 0) {
		*found = true;
		goto out;
	}
	if (perm) {
		res = udb_role_permissions(db, r, &names, &n);
		if (res != UDB_OK || (*found = udb_gate_has(names, n, perm)))
			goto out;
		udb_strv_free(names, n);
		names = NULL;
	}
	res = udb_role_includes(db, r, &names, &n);
	for (size_t i = 0; res == UDB_OK && !*found && i < n; i++)
		res = reach(db, names[i], role, perm, depth + 1, path, size, found);
out:
	if (!*found)
		path[len] = '\0';
	udb_strv_free(names, n);
	udb_role_free(r);
	return res;
}

/* What one item rests on: the first active grant that leads to it, else
 * the first inactive one that would. */
struct item_source {
	const struct udb_grant *grant; /* NULL: no grant leads to it */
	bool active;
	char path[512];
};

static enum udb_result
find_source(struct udb_db *db, const struct udb_grant *grants, size_t n, int64_t now,
	    const char *item, bool is_permission, struct item_source *s)
{
	enum udb_result r = UDB_OK;

	*s = (struct item_source){0};
	for (int pass = 0; pass < 2 && !s->grant; pass++)
		for (size_t i = 0; i < n && r == UDB_OK && !s->grant; i++) {
			bool found = false;

			if ((udb_window_state(grants[i].not_before, grants[i].not_after, now) ==
			     UDB_WINDOW_OPEN) != (pass == 0))
				continue;
			s->path[0] = '\0';
			r = reach(db, grants[i].role, is_permission ? NULL : item,
				  is_permission ? item : NULL, 0, s->path, sizeof(s->path), &found);
			if (found) {
				s->grant = &grants[i];
				s->active = pass == 0;
			}
		}
	return r;
}

/* The words after "yes, " / "no, " for an item. */
static void
source_text(const struct item_source *s, int64_t now, char *buf, size_t size)
{
	char t[40];
	const struct udb_grant *g = s->grant;

	if (!g) {
		snprintf(buf, size, "no grant leads to it");
		return;
	}
	if (s->active)
		snprintf(buf, size, "grant %s (until %s): %s", g->role,
			 out_when(g->not_after, t, sizeof(t), "never"), s->path);
	else if (g->not_after && now >= g->not_after)
		snprintf(buf, size, "grant %s expired %s: %s", g->role,
			 out_when(g->not_after, t, sizeof(t), "-"), s->path);
	else
		snprintf(buf, size, "grant %s starts %s: %s", g->role,
			 out_when(g->not_before, t, sizeof(t), "-"), s->path);
}

static const char *
what_of(const char *argument)
{
	return strncmp(argument, "roles", 5) == 0 ? "role" : "permission";
}

/* The first line: the decision, ": ", the reason. */
static const char *
decision_line(const struct explain_view *v, char *buf, size_t size)
{
	const struct udb_gate_verdict *d = v->verdict;
	const struct udb_account *a = v->account;
	const char *u = v->user;
	char t[40];

	if (v->bad_arg) {
		snprintf(buf, size,
			 "refused: pam_userdb's line %s has a bad value in %s (the module answers "
			 "PAM_SERVICE_ERR)",
			 v->line->where, v->bad_arg);
		return "refused";
	}
	switch (d->reason) {
	case UDB_GATE_OK:
		snprintf(buf, size, "allowed: %s passes pam_userdb's account phase of %s", u,
			 v->service);
		return "allowed";
	case UDB_GATE_MUST_CHANGE:
		snprintf(buf, size,
			 "allowed after a password change: %s must change the password (%s)", u,
			 a->must_change ? "administrator enforced" : "password aged");
		return "password change required";
	case UDB_GATE_DISABLED:
		snprintf(buf, size, "refused: %s is disabled", u);
		break;
	case UDB_GATE_NOT_YET_VALID:
		snprintf(buf, size, "refused: %s is not valid before %s", u,
			 out_when(a->not_before, t, sizeof(t), "-"));
		break;
	case UDB_GATE_EXPIRED:
		snprintf(buf, size, "refused: %s expired %s", u,
			 out_when(a->not_after, t, sizeof(t), "-"));
		break;
	case UDB_GATE_PASSWORD_EXPIRED:
		snprintf(buf, size,
			 "refused: %s's password expired past the inactive period (max %d days, "
			 "inactive %d days)",
			 u, a->max_days, a->inactive_days);
		break;
	case UDB_GATE_MISSING:
		snprintf(buf, size, "refused: %s lacks %s %s (%s=%s)", u, what_of(d->argument),
			 d->missing, d->argument, d->list);
		break;
	case UDB_GATE_NONE_ACCEPTED:
		snprintf(buf, size, "refused: %s has none of the accepted %ss (%s=%s)", u,
			 what_of(d->argument), d->argument, d->list);
		break;
	case UDB_GATE_HOST_NOT_ALLOWED:
		snprintf(buf, size,
			 "refused: none of %s's roles is allowed on host %s (userdb host allow)", u,
			 d->host);
		break;
	case UDB_GATE_NO_CONFIRMED_EMAIL:
		snprintf(buf, size,
			 "refused: %s has no confirmed email address "
			 "(require_confirmed_email)",
			 u);
		break;
	}
	return "refused";
}

/* What the details need of the user's roles. */
struct explain_data {
	char **roles, **perms;
	size_t n_roles, n_perms;
	struct udb_grant *grants;
	size_t n_grants;
	bool has_email;
	struct udb_totp_state factor;
};

static enum udb_result
load_data(struct cli *c, const struct udb_account *a, struct explain_data *d)
{
	enum udb_result r;

	r = udb_user_effective_roles(c->db, a->user_id, c->now, &d->roles, &d->n_roles);
	if (r == UDB_OK)
		r = udb_user_effective_permissions(c->db, a->user_id, c->now, &d->perms,
						   &d->n_perms);
	if (r == UDB_OK)
		r = udb_user_grants(c->db, a->user_id, &d->grants, &d->n_grants);
	if (r == UDB_OK)
		r = udb_user_has_confirmed_email(c->db, a->user_id, &d->has_email);
	if (r == UDB_OK)
		r = udb_totp_state(c->db, a->user_id, &d->factor);
	return r;
}

static void
free_data(struct explain_data *d)
{
	udb_strv_free(d->roles, d->n_roles);
	udb_strv_free(d->perms, d->n_perms);
	udb_grant_list_free(d->grants, d->n_grants);
}

/* The first line when the offline limit refuses: the offline role the user
 * holds and how old the copy is. */
static const char *
offline_line(const struct cli *c, const struct explain_view *v, const struct explain_data *d,
	     char *buf, size_t size)
{
	const char *role = "?";

	for (size_t i = 0; c->cfg->offline_roles && c->cfg->offline_roles[i]; i++)
		if (udb_gate_has(d->roles, d->n_roles, c->cfg->offline_roles[i])) {
			role = c->cfg->offline_roles[i];
			break;
		}
	if (v->offline_age < 0)
		snprintf(buf, size,
			 "refused: %s holds offline role %s and host %s has never synced with "
			 "central (max_offline %us)",
			 v->user, role, c->cfg->host ? c->cfg->host : "-", c->cfg->max_offline);
	else
		snprintf(buf, size,
			 "refused: %s holds offline role %s and host %s last found central "
			 "current %llds ago, past max_offline %us",
			 v->user, role, c->cfg->host ? c->cfg->host : "-",
			 (long long)v->offline_age, c->cfg->max_offline);
	return "refused";
}

/* On a fleet host: the host, how old its copy is and the offline limit. */
static void
fleet(struct cli *c, const struct explain_view *v, struct json_object *o, bool *ok)
{
	const struct udb_config *cfg = c->cfg;
	int64_t at = 0;
	char roles[512] = "";
	size_t len = 0;

	if (!cfg->central || !cfg->host || udb_replica_checked_at(c->db, &at) != UDB_OK)
		return;
	for (size_t i = 0; cfg->offline_roles && cfg->offline_roles[i] && len < sizeof(roles); i++)
		len += (size_t)snprintf(roles + len, sizeof(roles) - len, "%s%s", i ? ", " : "",
					cfg->offline_roles[i]);
	if (c->json) {
		out_jset_str(o, "host", cfg->host, ok);
		out_jset_time(o, "synced_at", at, ok);
		out_jset_int(o, "max_offline", cfg->max_offline, ok);
		out_jset_str(o, "offline_roles", roles, ok);
		out_jset_bool(o, "offline_refused", v->offline_refused, ok);
		return;
	}
	if (at)
		out_kv_fmt("fleet host", "%s, copy last found current %llds ago", cfg->host,
			   (long long)(v->now - at));
	else
		out_kv_fmt("fleet host", "%s, never synced with central", cfg->host);
	if (cfg->max_offline && len)
		out_kv_fmt("offline limit", "max_offline %us for offline_roles %s%s",
			   cfg->max_offline, roles,
			   v->offline_refused ? " (refuses this user)" : "");
	else
		out_kv_text("offline limit", "none (max_offline and offline_roles unset)");
}

/* Every item of the four list arguments: printed, or added to checks. */
static enum udb_result
items(struct cli *c, const struct explain_view *v, const struct explain_data *d,
      struct json_object *checks, bool *ok)
{
	const char *const argnames[] = {"roles_required", "roles_accepted", "permissions_required",
					"permissions_accepted"};
	const char *lists[] = {v->args->roles_required, v->args->roles_accepted,
			       v->args->permissions_required, v->args->permissions_accepted};
	enum udb_result r = UDB_OK;

	for (size_t i = 0; i < 4 && r == UDB_OK; i++) {
		bool perm = i >= 2;
		const char *cursor = lists[i];
		char item[UDB_PERMISSION_MAX + 1], text[1024], key[160];

		if (!cursor)
			continue;
		if (!c->json)
			printf("%s=%s:\n", argnames[i], lists[i]);
		while (r == UDB_OK && udb_pam_list_next(&cursor, item, sizeof(item))) {
			bool has = perm ? udb_gate_has(d->perms, d->n_perms, item)
					: udb_gate_has(d->roles, d->n_roles, item);
			struct item_source s;
			struct json_object *o;

			r = find_source(c->db, d->grants, d->n_grants, c->now, item, perm, &s);
			if (r != UDB_OK)
				break;
			source_text(&s, c->now, text, sizeof(text));
			if (!c->json) {
				/* An item may be longer than the key column. */
				snprintf(key, sizeof(key), "  %s:", item);
				printf("%-*s %s, ", KEY_WIDTH, key, has ? "yes" : "no");
				out_text(text);
				putchar('\n');
				continue;
			}
			o = json_object_new_object();
			out_jset_str(o, "argument", argnames[i], ok);
			out_jset_str(o, "item", item, ok);
			out_jset_bool(o, "satisfied", has, ok);
			out_jset_str(o, "grant", s.grant ? s.grant->role : NULL, ok);
			out_jset_bool(o, "grant_active", s.grant && s.active, ok);
			out_jset_time(o, "grant_until", s.grant ? s.grant->not_after : 0, ok);
			out_jset_str(o, "path", s.grant ? s.path : NULL, ok);
			out_jset_str(o, "detail", text, ok);
			out_jpush(checks, o, ok);
		}
	}
	return r;
}

/* The PAM lines named pam_userdb.so: printed, or as a JSON array. */
static struct json_object *
lines(struct cli *c, const struct explain_view *v, bool *ok)
{
	const struct cli_pam_stack *s = v->stack;
	struct json_object *a = c->json ? json_object_new_array() : NULL;

	if (!c->json)
		out_kv_fmt("service", "%s (%s%s)", v->service, s->service_file,
			   s->used_other ? ": no file for the service, libpam uses other" : "");
	for (size_t i = 0; i < s->n_lines; i++) {
		const struct cli_pam_line *l = &s->lines[i];
		struct json_object *o;

		if (!c->json) {
			out_key("line");
			/* Text from the PAM files goes through out_text. */
			out_text(l->where);
			printf(": account ");
			out_text(l->control);
			putchar(' ');
			out_text(l->module);
			for (int k = 0; k < l->argc; k++) {
				putchar(' ');
				out_text(l->argv[k]);
			}
			printf("\n%*s", KEY_WIDTH + 1, "");
			out_text(l->why);
			printf("%s\n", l == v->line ? " (decides)" : "");
			continue;
		}
		o = json_object_new_object();
		out_jset_str(o, "where", l->where, ok);
		out_jset_str(o, "control", l->control, ok);
		out_jset_str(o, "module", l->module, ok);
		out_jset_str(o, "path", l->path, ok);
		out_jset_bool(o, "ours", l->ours, ok);
		out_jset_bool(o, "decides", l == v->line, ok);
		out_jset_str(o, "why", l->why, ok);
		out_jset(o, "arguments", out_jstrv(l->argv, (size_t)l->argc, ok), ok);
		out_jpush(a, o, ok);
	}
	return a;
}

/* The account's state, lockout included, which the account phase does not
 * check (auth refuses a locked account's password; see README). */
static void
state(struct cli *c, const struct explain_view *v, const struct explain_data *d,
      struct json_object *o, bool *ok)
{
	const struct udb_account *a = v->account;
	bool locked = udb_account_is_locked(a, v->now);
	char t1[40], t2[40];

	if (c->json) {
		out_jset_bool(o, "enabled", a->is_enabled, ok);
		out_jset_time(o, "not_before", a->not_before, ok);
		out_jset_time(o, "not_after", a->not_after, ok);
		out_jset_str(o, "status", udb_account_status_to_string(v->verdict->status), ok);
		out_jset_bool(o, "locked", locked, ok);
		out_jset_time(o, "locked_until", locked ? a->locked_until : 0, ok);
		out_jset_int(o, "failed_logins", a->failed_count, ok);
		if (v->args->require_confirmed_email)
			out_jset_bool(o, "confirmed_email", d->has_email, ok);
		out_jset_bool(o, "second_factor", d->factor.enrolled, ok);
		return;
	}
	out_kv_text("enabled", out_yes_no(a->is_enabled));
	out_kv_fmt("valid", "from %s until %s", out_when(a->not_before, t1, sizeof(t1), "-"),
		   out_when(a->not_after, t2, sizeof(t2), "never"));
	out_kv_text("account status", udb_account_status_to_string(v->verdict->status));
	if (locked)
		out_kv_fmt("lockout",
			   "locked until %s after %d failed logins (not checked by the account "
			   "phase: auth refuses the password, key logins pass)",
			   a->locked_until == INT64_MAX
				   ? "unlocked"
				   : out_when(a->locked_until, t1, sizeof(t1), "-"),
			   a->failed_count);
	else
		out_kv_fmt("lockout", "not locked (%d failed logins)", a->failed_count);
	if (v->args->require_confirmed_email)
		out_kv_text("confirmed email", out_yes_no(d->has_email));
	/* Asked by auth, whose lines explain does not read: said in words. */
	out_kv_text("second factor",
		    d->factor.enrolled
			    ? "TOTP (auth asks for a code after the password unless its "
			      "pam_userdb line has second_factor=off)"
			    : "none (auth refuses the user where its pam_userdb line has "
			      "second_factor=required)");
}

enum udb_result
explain_print(struct cli *c, const struct explain_view *v)
{
	struct explain_data d = {0};
	struct json_object *o = NULL, *checks = NULL;
	const char *decision;
	char first[1024];
	bool ok = true;
	enum udb_result r;

	r = load_data(c, v->account, &d);
	if (r != UDB_OK) {
		free_data(&d);
		return cli_error(r, "user %s: cannot read its roles, permissions or emails: %s",
				 cli_quote(v->user), udb_result_to_string(r));
	}
	decision = v->offline_refused ? offline_line(c, v, &d, first, sizeof(first))
				      : decision_line(v, first, sizeof(first));
	if (c->json) {
		o = json_object_new_object();
		checks = json_object_new_array();
		out_jset_str(o, "decision", decision, &ok);
		out_jset_str(o, "reason", strchr(first, ':') + 2, &ok);
		out_jset_str(o, "user", v->user, &ok);
		out_jset_str(o, "service", v->service, &ok);
		out_jset_str(o, "service_file", v->stack->service_file, &ok);
		out_jset(o, "lines", lines(c, v, &ok), &ok);
		state(c, v, &d, o, &ok);
		fleet(c, v, o, &ok);
		r = items(c, v, &d, checks, &ok);
		out_jset(o, "checks", checks, &ok);
		if (r == UDB_OK)
			r = out_jprint(o, ok, JSON_C_TO_STRING_SPACED);
		else
			json_object_put(o);
	} else {
		out_text(first);
		putchar('\n');
		lines(c, v, &ok);
		state(c, v, &d, NULL, &ok);
		fleet(c, v, NULL, &ok);
		r = items(c, v, &d, NULL, &ok);
	}
	free_data(&d);
	if (r != UDB_OK && !cli_error_reported())
		return cli_fail(r, "explain");
	return r;
}

enum udb_result
explain_print_unknown(struct cli *c, const struct explain_view *v)
{
	struct json_object *o;
	char first[512];
	bool ok = true;

	snprintf(first, sizeof(first),
		 "user unknown: %s is not in the database (pam_userdb answers PAM_USER_UNKNOWN; "
		 "the profile's user_unknown=ignore leaves the decision to the other modules)",
		 v->user);
	if (!c->json) {
		out_text(first);
		putchar('\n');
		return UDB_OK;
	}
	o = json_object_new_object();
	out_jset_str(o, "decision", "user unknown", &ok);
	out_jset_str(o, "reason", strchr(first, ':') + 2, &ok);
	out_jset_str(o, "user", v->user, &ok);
	out_jset_str(o, "service", v->service, &ok);
	return out_jprint(o, ok, JSON_C_TO_STRING_SPACED);
}
