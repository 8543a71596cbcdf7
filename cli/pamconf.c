/* Reading a PAM service's account lines for `userdb explain`: see
 * pamconf.h. Follows libpam's file syntax (pam_handlers.c): one rule per
 * line, `\` at the end joins the next, `#` starts a comment, a control or
 * an argument in [brackets] may hold spaces, a leading `-` on the type
 * only silences a missing module. Called by explain.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "pam_args.h"
#include "pamconf.h"

#ifndef UDB_PAM_SECUREDIR
#define UDB_PAM_SECUREDIR "/usr/lib/security"
#endif

#define MAX_TOKENS 64
#define MODULE_MAX (64UL << 20)

struct reader {
	const char *dir;
	char *chain[CLI_PAM_DEPTH_MAX + 1]; /* the files being read, outermost first */
	size_t depth;
	struct cli_pam_stack *out;
};

/* Splits line into tokens in place; a token that starts with '[' runs to
 * the next ']' (the brackets stay, as libpam keeps them for the control;
 * arguments lose them below). */
static int
tokenize(char *line, char **tok)
{
	int n = 0;
	char *p = line;

	while (n < MAX_TOKENS) {
		p += strspn(p, " \t\r\n");
		if (!*p)
			break;
		tok[n++] = p;
		if (*p == '[') {
			char *end = strchr(p, ']');

			p = end ? end + 1 : p + strlen(p);
		} else {
			p += strcspn(p, " \t\r\n");
		}
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/* Whether path is userdb's module: it carries UDB_PAM_MODULE_MARKER.
 * Linux-PAM's Berkeley DB pam_userdb.so has the same name and does not. */
static bool
is_ours(const char *path, bool *ret_exists)
{
	struct stat st;
	void *map;
	bool found = false;
	int fd;

	*ret_exists = false;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	*ret_exists = true;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (unsigned long long)st.st_size <= MODULE_MAX) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			found = memmem(map, (size_t)st.st_size, UDB_PAM_MODULE_MARKER,
				       strlen(UDB_PAM_MODULE_MARKER)) != NULL;
			munmap(map, (size_t)st.st_size);
		}
	}
	close(fd);
	return found;
}

static char *__attribute__((format(printf, 1, 2))) xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	char *s = NULL;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* Fills where the module is and whether it is ours. */
static enum udb_result
resolve(struct cli_pam_line *l)
{
	bool exists, ours;

	if (l->module[0] == '/')
		l->path = strdup(l->module);
	else
		l->path = xasprintf("%s/%s", UDB_PAM_SECUREDIR, l->module);
	if (!l->path)
		return UDB_NO_MEMORY;
	ours = is_ours(l->path, &exists);
	l->ours = ours;
	if (ours && l->module[0] == '/')
		l->why = strdup("taken: the absolute path is userdb's pam_userdb.so");
	else if (ours)
		l->why = xasprintf("taken: %s resolves to %s, userdb's module", l->module, l->path);
	else if (!exists)
		l->why = xasprintf("skipped: %s does not exist%s", l->path,
				   " (libpam fails this line)");
	else
		l->why = xasprintf("skipped: %s is not userdb's module (Linux-PAM ships an "
				   "unrelated Berkeley DB pam_userdb.so)%s",
				   l->path, "");
	return l->why ? UDB_OK : UDB_NO_MEMORY;
}

/* Keeps one account line that names a pam_userdb.so. */
static enum udb_result
add_line(struct reader *rd, const char *where, char **tok, int n)
{
	struct cli_pam_stack *s = rd->out;
	struct cli_pam_line *lines, *l;

	lines = realloc(s->lines, (s->n_lines + 1) * sizeof(*lines));
	if (!lines)
		return UDB_NO_MEMORY;
	s->lines = lines;
	l = &lines[s->n_lines++];
	*l = (struct cli_pam_line){0};
	l->where = strdup(where);
	l->control = strdup(tok[1]);
	l->module = strdup(tok[2]);
	l->argv = calloc((size_t)n, sizeof(*l->argv));
	if (!l->where || !l->control || !l->module || !l->argv)
		return UDB_NO_MEMORY;
	for (int i = 3; i < n; i++) {
		char *a = tok[i];
		size_t len = strlen(a);

		/* libpam drops the brackets around an argument. */
		if (a[0] == '[' && len >= 2 && a[len - 1] == ']')
			l->argv[l->argc] = strndup(a + 1, len - 2);
		else
			l->argv[l->argc] = strdup(a);
		if (!l->argv[l->argc++])
			return UDB_NO_MEMORY;
	}
	return resolve(l);
}

static enum udb_result read_file(struct reader *rd, const char *name, const char *prefix);

static bool
named_pam_userdb(const char *module)
{
	const char *base = strrchr(module, '/');

	return strcmp(base ? base + 1 : module, "pam_userdb.so") == 0;
}

/* One rule of a file, tokenised; where is "file:line" with its prefix. */
static enum udb_result
rule(struct reader *rd, const char *where, char **tok, int n)
{
	const char *type = tok[0][0] == '-' ? tok[0] + 1 : tok[0];

	if (strcmp(tok[0], "@include") == 0)
		return n < 2 ? UDB_OK : read_file(rd, tok[1], where);
	if (n < 3 || strcasecmp(type, "account") != 0)
		return UDB_OK;
	if (strcmp(tok[1], "include") == 0 || strcmp(tok[1], "substack") == 0)
		return read_file(rd, tok[2], where);
	if (!named_pam_userdb(tok[2]))
		return UDB_OK;
	return add_line(rd, where, tok, n);
}

static enum udb_result
read_lines(struct reader *rd, FILE *f, const char *name, const char *prefix)
{
	char *line = NULL, *joined = NULL, *where = NULL, *tok[MAX_TOKENS];
	size_t cap = 0, len = 0;
	unsigned lineno = 0, first = 0;
	enum udb_result r = UDB_OK;
	ssize_t got;

	while (r == UDB_OK && (got = getline(&line, &cap, f)) >= 0) {
		char *j;
		bool more;

		lineno++;
		if (!first)
			first = lineno;
		/* As libpam: the comment goes first, then a trailing `\`
		 * joins the next line. */
		line[strcspn(line, "#")] = '\0';
		got = (ssize_t)strlen(line);
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		more = got > 0 && line[got - 1] == '\\';
		if (more)
			line[--got] = ' ';
		j = realloc(joined, len + (size_t)got + 2);
		if (!j) {
			r = UDB_NO_MEMORY;
			break;
		}
		joined = j;
		memcpy(joined + len, line, (size_t)got + 1);
		len += (size_t)got;
		if (more)
			continue;
		free(where);
		where = NULL;
		if (asprintf(&where, "%s%s%s:%u", prefix, *prefix ? " > " : "", name, first) < 0) {
			r = UDB_NO_MEMORY;
			break;
		}
		int n = tokenize(joined, tok);

		if (n > 0)
			r = rule(rd, where, tok, n);
		len = 0;
		first = 0;
	}
	free(line);
	free(joined);
	free(where);
	return r;
}

/* A regular file only: a FIFO or a device named by an include must not
 * hang or feed the reader. */
static FILE *
open_regular(const char *path)
{
	struct stat st;
	FILE *f;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

static enum udb_result
read_file(struct reader *rd, const char *name, const char *prefix)
{
	char *path = NULL, real[PATH_MAX];
	enum udb_result r = UDB_OK;
	FILE *f = NULL;

	path = name[0] == '/' ? strdup(name) : xasprintf("%s/%s", rd->dir, name);
	if (!path)
		return UDB_NO_MEMORY;
	if (!realpath(path, real) || !(f = open_regular(real))) {
		int e = errno;

		r = cli_error(e == EACCES ? UDB_PERMISSION : UDB_UNAVAILABLE,
			      "%s%sPAM configuration: cannot read %s: %s", prefix,
			      *prefix ? ": " : "", cli_quote(path), strerror(e));
		goto out;
	}
	for (size_t i = 0; i < rd->depth; i++)
		if (strcmp(rd->chain[i], real) == 0) {
			r = cli_error(UDB_CYCLE, "%s: %s includes itself (a loop libpam refuses)",
				      prefix, cli_quote(path));
			goto out;
		}
	if (rd->depth == CLI_PAM_DEPTH_MAX) {
		r = cli_error(UDB_CYCLE, "%s: includes nested deeper than %d levels", prefix,
			      CLI_PAM_DEPTH_MAX);
		goto out;
	}
	rd->chain[rd->depth] = strdup(real);
	if (!rd->chain[rd->depth]) {
		r = UDB_NO_MEMORY;
		goto out;
	}
	rd->depth++;
	r = read_lines(rd, f, name, prefix);
	free(rd->chain[--rd->depth]);
out:
	if (f)
		fclose(f);
	free(path);
	return r;
}

enum udb_result
cli_pam_stack_read(const char *dir, const char *service, struct cli_pam_stack *ret_stack)
{
	struct reader rd = {.dir = dir, .out = ret_stack};
	char *path;
	enum udb_result r;

	*ret_stack = (struct cli_pam_stack){0};
	path = xasprintf("%s/%s", dir, service);
	if (!path)
		return UDB_NO_MEMORY;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		/* libpam's fallback for a service without a file. */
		ret_stack->used_other = true;
		service = "other";
		free(path);
		path = xasprintf("%s/%s", dir, service);
		if (!path)
			return UDB_NO_MEMORY;
	}
	ret_stack->service_file = path;
	r = read_file(&rd, service, "");
	if (r != UDB_OK)
		cli_pam_stack_free(ret_stack);
	return r;
}

void
cli_pam_stack_free(struct cli_pam_stack *s)
{
	for (size_t i = 0; i < s->n_lines; i++) {
		struct cli_pam_line *l = &s->lines[i];

		for (int k = 0; k < l->argc; k++)
			free(l->argv[k]);
		free(l->argv);
		free(l->where);
		free(l->control);
		free(l->module);
		free(l->path);
		free(l->why);
	}
	free(s->lines);
	free(s->service_file);
	*s = (struct cli_pam_stack){0};
}
