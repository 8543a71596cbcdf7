/* The `ssh-key add`, `ssh-key del` and `ssh-key list` commands (a user's
 * SSH public keys in the store) and `ssh-authorized-keys`, which sshd's
 * AuthorizedKeysCommand runs, as `nobody`: it reads keys.img only, never
 * the store (root's), so it neither needs root nor waits for a writer.
 * Dispatched from main.c. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "sshkey_image.h"
#include "sshkey_store.h"
#include "validate.h"

/* The keys of a run, parsed from the arguments and stdin, each with where
 * it came from ("argument 2", "stdin line 3") for messages. */
struct key_set {
	struct udb_sshkey *v;
	char **source;
	size_t n, cap;
};

static void
key_set_free(struct key_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		udb_sshkey_clear(&s->v[i]);
		free(s->source[i]);
	}
	free(s->v);
	free(s->source);
}

static enum udb_result
key_set_grow(struct key_set *s)
{
	size_t cap = s->cap ? s->cap * 2 : 8;
	struct udb_sshkey *v = realloc(s->v, cap * sizeof(*v));
	char **src;

	if (!v)
		return UDB_NO_MEMORY;
	s->v = v;
	src = realloc(s->source, cap * sizeof(*src));
	if (!src)
		return UDB_NO_MEMORY;
	s->source = src;
	s->cap = cap;
	return UDB_OK;
}

/* Parses one line into the set; where (allocated, taken over) names it. */
static enum udb_result
add_line(struct key_set *s, const char *line, char *where)
{
	const char *why = NULL;
	enum udb_result r;

	if (!where)
		return cli_error(UDB_NO_MEMORY, "ssh-key add: out of memory");
	if (s->n == s->cap && key_set_grow(s) != UDB_OK) {
		free(where);
		return cli_error(UDB_NO_MEMORY, "ssh-key add: out of memory");
	}
	r = udb_sshkey_parse(line, &s->v[s->n], &why);
	if (r != UDB_OK) {
		if (r == UDB_INVALID)
			cli_error(r, "ssh-key add: %s: not a valid key: %s", where, why);
		else
			cli_fail(r, "ssh-key add");
		free(where);
		return r;
	}
	s->source[s->n++] = where;
	return UDB_OK;
}

static char *
label(const char *what, size_t no)
{
	char *s = NULL;

	return asprintf(&s, "%s %zu", what, no) < 0 ? NULL : s;
}

/* Lines of stdin, as authorized_keys has them: blank and '#' lines skipped. */
static enum udb_result
read_stdin(struct key_set *s)
{
	char *line = NULL;
	size_t cap = 0, before = s->n, no = 0;
	ssize_t len;
	enum udb_result r = UDB_OK;

	while (r == UDB_OK && (len = getline(&line, &cap, stdin)) >= 0) {
		no++;
		if ((size_t)len != strlen(line))
			r = cli_error(UDB_INVALID, "ssh-key add: stdin line %zu holds a NUL byte",
				      no);
		else if (!udb_sshkey_line_is_blank(line))
			r = add_line(s, line, label("stdin line", no));
	}
	free(line);
	if (r == UDB_OK && s->n == before)
		r = cli_error(UDB_INVALID, "ssh-key add: no key on stdin");
	return r;
}

/* args: the KEY arguments (the command's second positional on). */
static enum udb_result
parse_keys(struct key_set *s, const char *const *args)
{
	enum udb_result r = UDB_OK;
	bool used_stdin = false;

	for (size_t i = 0; args[i] && r == UDB_OK; i++) {
		if (strcmp(args[i], "-") == 0) {
			if (used_stdin)
				return cli_error(UDB_INVALID, "ssh-key add: '-' given twice");
			used_stdin = true;
			r = read_stdin(s);
		} else {
			r = add_line(s, args[i], label("argument", i + 2));
		}
	}
	return r;
}

/* The fingerprints the set holds twice: the store would refuse the second. */
static enum udb_result
check_repeats(const struct key_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->v[i].fingerprint, s->v[j].fingerprint) == 0)
				return cli_error(UDB_EXISTS,
						 "ssh-key add: key %s is given twice (%s)",
						 s->v[i].fingerprint, s->v[i].type);
	return UDB_OK;
}

enum udb_result
cmd_ssh_key_add(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"USER", "KEY"};
	const char *comment = NULL, *until_s = NULL, **args;
	const struct cli_opt opts[] = {
		{"comment", CLI_VALUE, &comment},
		{"until", CLI_VALUE, &until_s},
		{0},
	};
	struct cli_args a = {
		.help = "KEY is a whole authorized_keys line (options, type, base64 key, "
			"comment),\n"
			"quoted as one argument, or - for such lines on stdin.\n"
			"  --comment S   the comment to store instead of the lines' own\n"
			"  --until TIME  stop serving the keys at TIME\n",
		.opts = opts,
		.names = names,
		.min_args = 2,
		.max_args = argc,
	};
	struct key_set set = {0};
	enum cli_parse_result p;
	enum udb_result r;
	int64_t until = 0;
	size_t failed = 0;

	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return cli_error(UDB_NO_MEMORY, "ssh-key add: out of memory");
	a.args = args;
	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED) {
		free(args);
		return cli_parse_status(p);
	}
	c->subject.user = args[0];
	r = arg_username(args[0]);
	if (r == UDB_OK && comment && !udb_sshkey_valid_comment(comment))
		r = cli_error(UDB_INVALID,
			      "ssh-key add: --comment %s: control characters or longer than %d "
			      "bytes",
			      cli_quote(comment), UDB_SSHKEY_COMMENT_MAX);
	if (r == UDB_OK && until_s)
		r = arg_time("--until", until_s, c->now, false, &until);
	if (r == UDB_OK && until && until <= c->now)
		r = cli_error(UDB_INVALID, "ssh-key add: --until %s is not in the future",
			      cli_quote(until_s));
	if (r == UDB_OK)
		r = parse_keys(&set, args + 1);
	if (r == UDB_OK)
		r = check_repeats(&set);
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r == UDB_OK) {
		r = udb_sshkey_add(c->db, args[0], set.v, set.n, comment, until, c->now, &failed);
		if (r == UDB_EXISTS)
			cli_error(r, "ssh-key add: user %s already has key %s (%s)",
				  cli_quote(args[0]), set.v[failed].fingerprint,
				  set.source[failed]);
		else if (r != UDB_OK)
			report_user(r, args[0]);
	}
	if (r == UDB_OK) {
		c->subject.until = until;
		if (set.n == 1)
			out_done(c, true, "added key %s to user %s", set.v[0].fingerprint, args[0]);
		else
			out_done(c, true, "added %zu keys to user %s", set.n, args[0]);
	}
	key_set_free(&set);
	free(args);
	return r;
}

enum udb_result
cmd_ssh_key_del(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"USER", "FINGERPRINT"};
	const char *args[2] = {0};
	struct cli_args a = {.help = "FINGERPRINT as `userdb ssh-key list` shows it "
				     "(SHA256:...).\n",
			     .names = names,
			     .min_args = 2,
			     .max_args = 2,
			     .args = args};
	struct udb_user *u = NULL;
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	c->subject.user = args[0];
	r = arg_username(args[0]);
	if (r == UDB_OK &&
	    (strncmp(args[1], "SHA256:", 7) != 0 || strlen(args[1]) != UDB_SSHKEY_FP_SIZE - 1))
		r = cli_error(UDB_INVALID,
			      "ssh-key del: %s is not a fingerprint (SHA256: and 43 characters, "
			      "as `userdb ssh-key list` shows)",
			      cli_quote(args[1]));
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r != UDB_OK)
		return r;
	r = udb_sshkey_delete(c->db, args[0], args[1]);
	if (r == UDB_NOT_FOUND && udb_user_by_name(c->db, args[0], &u) == UDB_OK)
		r = cli_error(r, "ssh-key del: user %s has no key %s", cli_quote(args[0]),
			      cli_quote(args[1]));
	else if (r != UDB_OK)
		r = report_user(r, args[0]);
	udb_user_free(u);
	if (r == UDB_OK)
		out_done(c, true, "removed key %s from user %s", args[1], args[0]);
	return r;
}

static struct json_object *
json_keys(const struct udb_sshkey_row *rows, size_t n, bool *ok)
{
	struct json_object *arr = json_object_new_array();

	if (!arr) {
		*ok = false;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		if (o) {
			out_jset_str(o, "type", rows[i].type, ok);
			out_jset_str(o, "fingerprint", rows[i].fingerprint, ok);
			out_jset_str(o, "comment", rows[i].comment, ok);
			out_jset_str(o, "options", rows[i].options, ok);
			out_jset_time(o, "added", rows[i].added_at, ok);
			out_jset_time(o, "until", rows[i].until, ok);
		}
		out_jpush(arr, o, ok);
	}
	return arr;
}

static void
print_keys(const char *user, const struct udb_sshkey_row *rows, size_t n)
{
	char added[32], until[32];

	if (n == 0) {
		printf("%s has no ssh keys\n", user);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s %s ", rows[i].type, rows[i].fingerprint);
		out_text(*rows[i].comment ? rows[i].comment : "(no comment)");
		printf("\n  added %s, until %s%s",
		       out_when(rows[i].added_at, added, sizeof(added), "-"),
		       out_when(rows[i].until, until, sizeof(until), "never"),
		       *rows[i].options ? ", options " : "");
		out_text(rows[i].options);
		printf("\n");
	}
}

enum udb_result
cmd_ssh_key_list(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"USER"};
	struct udb_sshkey_row *rows = NULL;
	const char *user = NULL;
	size_t n = 0;
	struct cli_args a = {.help = "Lists the user's keys in the order they were added.\n"
				     "  --json  a JSON array of {type, fingerprint, comment, "
				     "options, added, until}\n",
			     .names = names,
			     .min_args = 1,
			     .max_args = 1,
			     .args = &user};
	enum cli_parse_result p;
	enum udb_result r;
	bool ok = true;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = arg_username(user);
	if (r == UDB_OK)
		r = cli_open(c, CLI_READ);
	if (r != UDB_OK)
		return r;
	r = udb_sshkey_list(c->db, user, &rows, &n);
	if (r != UDB_OK)
		return report_user(r, user);
	if (c->json)
		r = out_jprint(json_keys(rows, n, &ok), ok,
			       JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	else
		print_keys(user, rows, n);
	udb_sshkey_rows_free(rows, n);
	return r;
}

static void
print_line(const char *line, size_t len, void *data)
{
	(void)data;
	fwrite(line, 1, len, stdout);
	putchar('\n');
}

enum udb_result
cmd_ssh_authorized_keys(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = {"USER"};
	const char *user = NULL;
	struct cli_args a = {
		.help = "Prints USER's keys that are current, for sshd's AuthorizedKeysCommand\n"
			"(any user may run it: it reads the world-readable keys.img only).\n"
			"Nothing for an unknown, disabled or expired user; exit 0.\n",
		.names = names,
		.min_args = 1,
		.max_args = 1,
		.args = &user};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	/* sshd asks for every user who offers a key, local ones too: a name
	 * userdb could not have is "no keys", not an error sshd would log. */
	if (!udb_valid_username(user))
		return UDB_OK;
	r = cli_load_config(c);
	if (r != UDB_OK)
		return r;
	r = udb_keys_image_serve(c->cfg->dbdir, user, c->now, print_line, NULL);
	if (r == UDB_NOT_FOUND)
		r = UDB_OK;
	if (r == UDB_CORRUPT)
		return cli_error(r, "ssh-authorized-keys: %s/%s is damaged: serving no keys",
				 cli_quote(c->cfg->dbdir), UDB_KEYS_IMAGE_FILE);
	if (r != UDB_OK)
		return cli_error(r, "ssh-authorized-keys: %s/%s: %s: serving no keys",
				 cli_quote(c->cfg->dbdir), UDB_KEYS_IMAGE_FILE,
				 udb_result_to_string(r));
	return UDB_OK;
}
