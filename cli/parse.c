/* The one command-line parse of every command: a command describes its
 * options (where each value goes) and its positional arguments, and
 * cli_parse() fills them in, prints --help, or reports the one error line.
 * --json, --config and --help are accepted by every command. Called by the
 * command files of cli/. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define OPT_BASE   0x200
#define OPT_JSON   0x100
#define OPT_CONFIG 0x101
#define MAX_OPTS   32

/* Where the values of a repeatable option go: an array with room for every
 * argument, owned by c (cli_parse_free releases it). */
static enum udb_result
list_init(struct cli *c, struct cli_list *l, int argc)
{
	const char **v;

	if (c->n_lists == sizeof(c->lists) / sizeof(c->lists[0]))
		return UDB_INTERNAL;
	v = calloc((size_t)argc + 1, sizeof(*v));
	if (!v)
		return UDB_NO_MEMORY;
	c->lists[c->n_lists++] = v;
	l->v = v;
	l->n = 0;
	return UDB_OK;
}

void
cli_parse_free(struct cli *c)
{
	for (size_t i = 0; i < c->n_lists; i++)
		free(c->lists[i]);
	c->n_lists = 0;
}

/* The getopt table: the command's options, then the common ones. Also
 * prepares the lists. */
static enum udb_result
build_table(struct cli *c, int argc, const struct cli_opt *opts, struct option *all)
{
	size_t n = 0;
	enum udb_result r;

	for (; opts && opts[n].name; n++) {
		if (n >= MAX_OPTS - 4)
			return UDB_INTERNAL;
		all[n] = (struct option){opts[n].name,
					 opts[n].kind == CLI_FLAG ? no_argument : required_argument,
					 NULL, OPT_BASE + (int)n};
		if (opts[n].kind == CLI_LIST) {
			r = list_init(c, opts[n].dest, argc);
			if (r != UDB_OK)
				return r;
		}
	}
	all[n++] = (struct option){"json", no_argument, NULL, OPT_JSON};
	all[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	all[n++] = (struct option){"help", no_argument, NULL, 'h'};
	all[n] = (struct option){0};
	return UDB_OK;
}

static void
store(const struct cli_opt *o, const char *value)
{
	struct cli_list *l;

	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)o->dest = true;
		break;
	case CLI_VALUE:
		*(const char **)o->dest = value;
		break;
	case CLI_LIST:
		l = o->dest;
		l->v[l->n++] = value;
		break;
	}
}

/* Reports an option getopt refused: unknown, or missing its value. */
static void
report_option(struct cli *c, char **argv, const struct option *all, int opt)
{
	const char *name = NULL;

	if (opt == ':') {
		for (size_t i = 0; all[i].name; i++)
			if (all[i].val == optopt)
				name = all[i].name;
		cli_error(UDB_INVALID, "%s: option --%s needs a value (see `userdb %s --help`)",
			  c->name, name ? name : "?", c->name);
		return;
	}
	/* For a long option glibc has already moved past it; for a short one
	 * optopt holds the letter. */
	if (optopt > 0x20 && optopt < 0x7f)
		cli_error(UDB_INVALID,
			  "%s: unknown option '-%c' (put `--` before a name that starts with "
			  "'-'; see `userdb %s --help`)",
			  c->name, optopt, c->name);
	else
		cli_error(UDB_INVALID, "%s: unknown option %s (see `userdb %s --help`)", c->name,
			  cli_quote(argv[optind - 1]), c->name);
}

/* Between min and max positionals remain after the options, none empty. */
static enum cli_parse_result
take_positionals(struct cli *c, int argc, char **argv, const struct cli_args *a)
{
	int have = argc - optind;

	if (have < a->min_args) {
		cli_error(UDB_INVALID, "%s: missing %s (see `userdb %s --help`)", c->name,
			  a->names[have], c->name);
		return CLI_BAD_ARGS;
	}
	if (have > a->max_args) {
		cli_error(UDB_INVALID, "%s: unexpected argument %s", c->name,
			  cli_quote(argv[optind + a->max_args]));
		return CLI_BAD_ARGS;
	}
	for (int i = 0; i < have; i++) {
		if (argv[optind + i][0] == '\0') {
			cli_error(UDB_INVALID, "%s: %s must not be empty", c->name, a->names[i]);
			return CLI_BAD_ARGS;
		}
		a->args[i] = argv[optind + i];
	}
	return CLI_PARSED;
}

enum cli_parse_result
cli_parse(struct cli *c, int argc, char **argv, const struct cli_args *a)
{
	struct option all[MAX_OPTS];
	enum udb_result r;
	int opt;

	r = build_table(c, argc, a->opts, all);
	if (r != UDB_OK) {
		cli_error(r, "%s: %s", c->name, udb_result_to_string(r));
		return CLI_BAD_ARGS;
	}
	opterr = 0;
	/* 0, not 1: glibc then also forgets the state of main()'s parse. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, ":h", all, NULL)) != -1) {
		if (opt == OPT_JSON) {
			c->json = true;
		} else if (opt == OPT_CONFIG) {
			c->config_path = optarg;
		} else if (opt == 'h') {
			printf("usage: userdb %s %s\n%s", c->name, c->synopsis,
			       a->help ? a->help : "");
			return CLI_HELP_SHOWN;
		} else if (opt >= OPT_BASE && opt < OPT_BASE + MAX_OPTS) {
			store(&a->opts[opt - OPT_BASE], optarg);
		} else {
			report_option(c, argv, all, opt);
			return CLI_BAD_ARGS;
		}
	}
	return take_positionals(c, argc, argv, a);
}

enum udb_result
cli_parse_status(enum cli_parse_result p)
{
	return p == CLI_BAD_ARGS ? UDB_INVALID : UDB_OK;
}

enum udb_result
cli_user_command(struct cli *c, int argc, char **argv, const char *help, const struct cli_opt *opts,
		 const char **ret_name)
{
	static const char *const names[] = {"NAME"};
	const char *name = NULL;
	struct cli_args a = {.help = help,
			     .opts = opts,
			     .names = names,
			     .min_args = 1,
			     .max_args = 1,
			     .args = &name};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = arg_username(name);
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r == UDB_OK) {
		*ret_name = name;
		c->subject.user = name;
	}
	return r;
}
