/* `userdb backup DIR`, `userdb restore DIR` and `userdb check [DIR]` (see
 * common/backup.h), with the advice in plain words for every problem
 * check can find. Dispatched from main.c. */
#include <json-c/json.h>
#include <stdio.h>

#include "backup.h"
#include "cli.h"
#include "output.h"

#define MAX_PROBLEMS 16

/* What to do about each kind of problem. */
static const char *
advice(enum udb_check_kind kind, bool backup)
{
	switch (kind) {
	case UDB_CHECK_MISSING:
		return backup ? "this is not a complete backup: use another one"
			      : "the store is incomplete: restore both files from a backup with "
				"`userdb restore DIR`";
	case UDB_CHECK_DAMAGED:
		return backup ? "this backup is damaged: use another one"
			      : "the file is damaged: stop changes and restore both files from "
				"a backup with `userdb restore DIR` (take a `userdb backup` of "
				"what is left first)";
	case UDB_CHECK_NOT_USERDB:
		return "this is not a userdb file: check the path";
	case UDB_CHECK_SCHEMA:
		return backup ? "made by another userdb version: restore it with the userdb "
				"that made it"
			      : "run `userdb init` to bring the store to this version";
	case UDB_CHECK_NOT_PAIR:
		return "the two files belong to two different databases: put back both files "
		       "of one backup (`userdb restore DIR`)";
	case UDB_CHECK_INTERRUPTED:
		return "a change was cut short between the two files: the next change repairs "
		       "it (any `userdb` command that changes something)";
	case UDB_CHECK_APART:
		return "the two files are from different times (one was copied back alone): "
		       "every change is refused until both come from one backup (`userdb "
		       "restore DIR`)";
	case UDB_CHECK_IMAGE:
		return "what NSS serves is out of step with the store: the next change "
		       "rebuilds it (any `userdb` command that changes something)";
	}
	return "";
}

static const char *
kind_name(enum udb_check_kind kind)
{
	static const char *const names[] = {
		[UDB_CHECK_MISSING] = "missing",         [UDB_CHECK_DAMAGED] = "damaged",
		[UDB_CHECK_NOT_USERDB] = "not userdb",   [UDB_CHECK_SCHEMA] = "schema version",
		[UDB_CHECK_NOT_PAIR] = "not a pair",     [UDB_CHECK_INTERRUPTED] = "interrupted",
		[UDB_CHECK_APART] = "generations apart", [UDB_CHECK_IMAGE] = "image",
	};
	return names[kind];
}

static enum udb_result
print_check(struct cli *c, const char *dir, bool backup, const struct udb_check_problem *v,
	    size_t n, long long generation)
{
	size_t shown = n < MAX_PROBLEMS ? n : MAX_PROBLEMS;

	if (c->json) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		bool ok = o && a;

		out_jset_str(o, "dir", dir, &ok);
		out_jset_bool(o, "ok", n == 0, &ok);
		out_jset_int(o, "generation", generation, &ok);
		for (size_t i = 0; i < shown && ok; i++) {
			struct json_object *p = json_object_new_object();

			out_jset_str(p, "problem", kind_name(v[i].kind), &ok);
			out_jset_str(p, "detail", v[i].detail, &ok);
			out_jset_str(p, "advice", advice(v[i].kind, backup), &ok);
			out_jpush(a, p, &ok);
		}
		out_jset(o, "problems", a, &ok);
		return out_jprint(o, ok, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	}
	for (size_t i = 0; i < shown; i++) {
		printf("problem: %s: ", kind_name(v[i].kind));
		out_text(v[i].detail);
		printf("\n  what to do: %s\n", advice(v[i].kind, backup));
	}
	if (n == 0) {
		printf("%s ", backup ? "the backup in" : "the database in");
		out_text(dir);
		printf(" is sound: both files pass integrity_check and are one pair at "
		       "generation %lld%s\n",
		       generation, backup ? "" : ", and the images match the store");
	}
	return UDB_OK;
}

static enum udb_result
one_dir(struct cli *c, int argc, char **argv, const char *help, bool optional, const char **ret_dir)
{
	static const char *const names[] = {"DIR"};
	struct cli_args a = {.help = help,
			     .names = names,
			     .min_args = optional ? 0 : 1,
			     .max_args = 1,
			     .args = ret_dir};
	enum cli_parse_result p = cli_parse(c, argc, argv, &a);

	if (p != CLI_PARSED)
		return p == CLI_HELP_SHOWN ? UDB_NOT_FOUND : cli_parse_status(p);
	return *ret_dir ? arg_path("DIR", *ret_dir) : UDB_OK;
}

enum udb_result
cmd_check(struct cli *c, int argc, char **argv)
{
	struct udb_check_problem v[MAX_PROBLEMS];
	const char *dir = NULL;
	long long generation = 0;
	size_t n = 0;
	enum udb_result r;

	r = one_dir(c, argc, argv,
		    "Checks the database (or the backup in DIR): each file's integrity, that\n"
		    "the two are one pair at one generation, and that the images NSS serves\n"
		    "are those of the store. Each problem comes with what to do; exit 1\n"
		    "when there is one.\n",
		    true, &dir);
	if (r != UDB_OK)
		return r == UDB_NOT_FOUND ? UDB_OK : r;
	r = cli_load_config(c);
	if (r != UDB_OK)
		return r;
	r = udb_check(dir ? dir : c->cfg->dbdir, !dir, v, MAX_PROBLEMS, &n, &generation);
	if (r != UDB_OK)
		return cli_fail(r, "check");
	c->refused = n > 0;
	return print_check(c, dir ? dir : c->cfg->dbdir, dir != NULL, v, n, generation);
}

enum udb_result
cmd_backup(struct cli *c, int argc, char **argv)
{
	struct udb_check_problem v[MAX_PROBLEMS];
	const char *dir = NULL;
	long long generation = 0;
	size_t n = 0;
	enum udb_result r;

	r = one_dir(c, argc, argv,
		    "Writes a consistent copy of both files, while the database is in use,\n"
		    "to the new directory DIR (0700): DIR/public.db and DIR/shadow.db.\n"
		    "Changes wait for the copy; lookups and logins do not.\n",
		    false, &dir);
	if (r != UDB_OK)
		return r == UDB_NOT_FOUND ? UDB_OK : r;
	/* Changes nothing (the writers' lock only holds changes back while
	 * it copies): a fleet host backs up its own copy. */
	c->host_local = true;
	r = cli_open(c, CLI_WRITE);
	if (r != UDB_OK)
		return r;
	r = udb_db_backup(c->db, dir);
	if (r == UDB_EXISTS)
		return cli_error(r, "backup %s: already exists (give a new directory)",
				 cli_quote(dir));
	if (r != UDB_OK)
		return cli_error(r, "backup %s: %s (nothing was kept)", cli_quote(dir),
				 udb_result_to_string(r));
	/* The copy is read back before it is called a backup. */
	r = udb_check(dir, false, v, MAX_PROBLEMS, &n, &generation);
	if (r == UDB_OK && n)
		return cli_error(UDB_IO, "backup %s: the copy does not check out: %s",
				 cli_quote(dir), v[0].detail);
	out_done(c, false, "backed up %s to %s (generation %lld)", c->cfg->dbdir, dir, generation);
	return r;
}

enum udb_result
cmd_restore(struct cli *c, int argc, char **argv)
{
	struct udb_check_problem v[MAX_PROBLEMS];
	const char *dir = NULL;
	long long generation = 0;
	size_t n = 0;
	enum udb_result r;

	r = one_dir(c, argc, argv,
		    "Puts back the backup in DIR (made by `userdb backup`) in one transaction:\n"
		    "every user, role, grant, email, account and key of the store is replaced\n"
		    "by the backup's; the audit trail stays, ids are never handed out twice.\n",
		    false, &dir);
	if (r != UDB_OK)
		return r == UDB_NOT_FOUND ? UDB_OK : r;
	r = cli_open(c, CLI_WRITE);
	if (r != UDB_OK)
		return r;
	r = udb_check(dir, false, v, MAX_PROBLEMS, &n, &generation);
	if (r == UDB_OK && n) {
		print_check(c, dir, true, v, n, generation);
		return cli_error(UDB_INVALID,
				 "restore %s: not a usable backup (see above; nothing was changed)",
				 cli_quote(dir));
	}
	if (r == UDB_OK)
		r = udb_db_restore(c->db, dir);
	if (r != UDB_OK)
		return cli_error(r, "restore %s: %s (nothing was changed)", cli_quote(dir),
				 udb_result_to_string(r));
	out_done(c, true, "restored %s from the backup in %s", c->cfg->dbdir, dir);
	return UDB_OK;
}
