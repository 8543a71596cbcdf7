/* The `import --from-system` command: accounts from passwd, shadow, group
 * and gshadow (under / or --root) become userdb users, roles and grants in
 * one transaction, or, with --dry-run, are only listed. The report (what
 * is, or would be, imported, what stays in the files, and every conflict)
 * goes to stdout; a refused import also leaves the one error line on
 * stderr. Dispatched from main.c; the work is common/import.h's. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "import.h"
#include "output.h"

static const char import_help[] =
	"  --from-system  read passwd, shadow, group and gshadow (required)\n"
	"  --root DIR     read DIR/etc/... instead of /etc/... (a copy of a system)\n"
	"  --min-uid N, --max-uid N\n"
	"                 import accounts with a uid in N..N (default: uid_min..uid_max)\n"
	"  --dry-run      list what would be imported and every conflict; change nothing\n"
	"Groups with a gid in gid_min..gid_max that an imported user belongs to become\n"
	"roles with the same gid, their members grants; a group named like its user\n"
	"with gid = uid is that user's personal group. Any conflict refuses the whole\n"
	"import: all of it happens in one transaction.\n";

static struct json_object *
json_plan(const struct udb_import_plan *plan, bool *ok)
{
	struct json_object *o = json_object_new_object(), *users = json_object_new_array(),
			   *roles = json_object_new_array();

	out_jset(o, "users", users, ok);
	out_jset(o, "roles", roles, ok);
	for (size_t i = 0; o && users && i < plan->n_users; i++) {
		const struct udb_import_user *u = &plan->users[i];
		struct json_object *j = json_object_new_object();

		out_jset_str(j, "user", u->name, ok);
		out_jset_int(j, "uid", u->uid, ok);
		out_jset_int(j, "gid", u->gid, ok);
		out_jset_str(j, "primary_role", u->primary_role, ok);
		out_jset_bool(j, "password", u->hash != NULL, ok);
		out_jset_bool(j, "enabled", !u->disabled, ok);
		out_jpush(users, j, ok);
	}
	for (size_t i = 0; o && roles && i < plan->n_roles; i++) {
		const struct udb_import_role *r = &plan->roles[i];
		struct json_object *j = json_object_new_object();

		out_jset_str(j, "role", r->name, ok);
		out_jset_int(j, "gid", r->gid, ok);
		out_jset(j, "members", out_jstrv(r->members, r->n_members, ok), ok);
		out_jpush(roles, j, ok);
	}
	out_jset(o, "notes", out_jstrv(plan->notes, plan->n_notes, ok), ok);
	out_jset(o, "conflicts", out_jstrv(plan->problems, plan->n_problems, ok), ok);
	return o;
}

static void
text_plan(const struct udb_import_plan *plan, const char *verb)
{
	for (size_t i = 0; i < plan->n_roles; i++) {
		const struct udb_import_role *r = &plan->roles[i];

		printf("%s role ", verb);
		out_text(r->name);
		printf(" (gid %u), members: ", (unsigned)r->gid);
		for (size_t j = 0; j < r->n_members; j++) {
			fputs(j ? ", " : "", stdout);
			out_text(r->members[j]);
		}
		printf("%s\n", r->n_members ? "" : "(none)");
	}
	for (size_t i = 0; i < plan->n_users; i++) {
		const struct udb_import_user *u = &plan->users[i];

		printf("%s user ", verb);
		out_text(u->name);
		printf(" (uid %u, gid %u, %s%s)%s%s\n", (unsigned)u->uid, (unsigned)u->gid,
		       u->primary_role ? "primary role " : "personal group",
		       u->primary_role ? u->primary_role : "", u->hash ? "" : ", no password",
		       u->disabled ? ", disabled" : "");
	}
	for (size_t i = 0; i < plan->n_notes; i++) {
		fputs("note: ", stdout);
		out_text(plan->notes[i]);
		putchar('\n');
	}
	for (size_t i = 0; i < plan->n_problems; i++) {
		fputs("conflict: ", stdout);
		out_text(plan->problems[i]);
		putchar('\n');
	}
}

/* Prints the report; r is the import's outcome so far. */
static enum udb_result
report(struct cli *c, const struct udb_import_plan *plan, bool dry_run, enum udb_result r)
{
	char msg[256];
	bool changed = r == UDB_OK && !dry_run;

	if (plan->n_problems)
		snprintf(msg, sizeof(msg), "%zu conflict%s, nothing was imported", plan->n_problems,
			 plan->n_problems == 1 ? "" : "s");
	else
		snprintf(msg, sizeof(msg), "%s %zu user%s and %zu role%s%s",
			 dry_run ? "would import" : "imported", plan->n_users,
			 plan->n_users == 1 ? "" : "s", plan->n_roles,
			 plan->n_roles == 1 ? "" : "s",
			 dry_run ? " (dry run: nothing was changed)" : "");
	if (c->json) {
		bool ok = true;
		struct json_object *o = json_plan(plan, &ok);

		out_jset_bool(o, "changed", changed, &ok);
		out_jset_bool(o, "dry_run", dry_run, &ok);
		out_jset_str(o, "message", msg, &ok);
		out_jprint(o, ok, JSON_C_TO_STRING_SPACED);
	} else {
		text_plan(plan, dry_run ? "would import" : changed ? "imported" : "not imported:");
		if (!plan->n_problems)
			puts(msg);
	}
	if (changed)
		cli_changed(c, msg);
	if (plan->n_problems)
		return cli_error(UDB_CONFLICT, "import: %s (the conflicts are listed on stdout)",
				 msg);
	return r;
}

static enum udb_result
import_args(struct cli *c, const char *root, const char *min_arg, const char *max_arg,
	    uint32_t *ret_min, uint32_t *ret_max)
{
	enum udb_result r = UDB_OK;

	if (root)
		r = arg_path("--root", root);
	if (r == UDB_OK && min_arg)
		r = arg_id("--min-uid", min_arg, ret_min);
	if (r == UDB_OK && max_arg)
		r = arg_id("--max-uid", max_arg, ret_max);
	if (r == UDB_OK)
		r = cli_load_config(c);
	if (r != UDB_OK)
		return r;
	if (!min_arg)
		*ret_min = c->cfg->uid_min;
	if (!max_arg)
		*ret_max = c->cfg->uid_max;
	if (*ret_min > *ret_max)
		return cli_error(UDB_INVALID, "--min-uid is above --max-uid");
	return UDB_OK;
}

enum udb_result
cmd_import(struct cli *c, int argc, char **argv)
{
	const char *root = NULL, *min_arg = NULL, *max_arg = NULL, *path = NULL;
	bool from_system = false, dry_run = false;
	struct udb_import_plan *plan = NULL;
	const struct cli_opt opts[] = {
		{"from-system", CLI_FLAG, &from_system}, {"root", CLI_VALUE, &root},
		{"min-uid", CLI_VALUE, &min_arg},        {"max-uid", CLI_VALUE, &max_arg},
		{"dry-run", CLI_FLAG, &dry_run},         {0},
	};
	static const char *const names[] = {"FILE.json"};
	const char *file = NULL;
	struct cli_args a = {.help = import_help,
			     .opts = opts,
			     .names = names,
			     .min_args = 0,
			     .max_args = 1,
			     .args = &file};
	enum cli_parse_result p;
	enum udb_result r;
	uint32_t min_uid = 0, max_uid = 0;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	if (file && (from_system || root || min_arg || max_arg || dry_run))
		return cli_error(UDB_INVALID, "import: FILE.json takes no other option");
	if (file)
		return cli_import_json(c, file);
	if (!from_system)
		return cli_error(UDB_INVALID,
				 "import: say where from: --from-system, or a FILE.json of "
				 "`userdb export`");
	r = import_args(c, root, min_arg, max_arg, &min_uid, &max_uid);
	/* The files are read before the database is opened: no lock is held
	 * while reading them. */
	if (r == UDB_OK) {
		r = udb_import_read(root, c->cfg, min_uid, max_uid, &plan, &path);
		if (r != UDB_OK)
			return cli_error(r, "import: cannot read %s: %s", cli_quote(path),
					 udb_result_to_string(r));
	}
	if (r == UDB_OK)
		r = cli_open(c, dry_run ? CLI_READ : CLI_WRITE);
	if (r == UDB_OK && dry_run) {
		r = udb_import_check(c->db, c->cfg, plan);
		if (r != UDB_OK)
			cli_fail(r, "import");
	} else if (r == UDB_OK) {
		r = cli_begin(c);
		if (r == UDB_OK) {
			r = udb_import_check(c->db, c->cfg, plan);
			if (r == UDB_OK && !plan->n_problems) {
				r = udb_import_apply_in_tx(c->db, c->cfg, plan, udb_now());
				if (r != UDB_OK)
					cli_fail(r, "import");
			}
			r = cli_finish(c, plan->n_problems ? UDB_CONFLICT : r);
		}
	}
	if (plan && (r == UDB_OK || plan->n_problems))
		r = report(c, plan, dry_run, plan->n_problems ? UDB_CONFLICT : r);
	udb_import_plan_free(plan);
	return r;
}
