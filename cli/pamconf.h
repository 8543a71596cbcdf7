/* The lines of one PAM service's account phase, read the way libpam reads
 * /etc/pam.d: comments, backslash continuations, bracketed controls and
 * arguments, `@include FILE` and the `include` / `substack` controls
 * (followed to a depth of CLI_PAM_DEPTH_MAX; a file that includes itself,
 * directly or not, is refused), and `other` when the service has no file.
 * Which lines run userdb's pam_userdb.so is decided here too. Used by
 * explain.c only. */
#ifndef UDB_CLI_PAMCONF_H
#define UDB_CLI_PAMCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

/* libpam's own limit for substacks (PAM_SUBSTACK_MAX_LEVEL). */
#define CLI_PAM_DEPTH_MAX 16

struct cli_pam_line {
	char *where;   /* "sshd:12 < common-account:17", where it was read from */
	char *control; /* as written, brackets included */
	char *module;  /* as written */
	char *path;    /* the file it names (absolute), NULL when none */
	bool ours;     /* the file is userdb's pam_userdb.so */
	char *why;     /* why it was taken or not */
	char **argv;
	int argc;
};

struct cli_pam_stack {
	char *service_file;         /* the file read first (SERVICE or other) */
	bool used_other;            /* the service had no file: libpam uses `other` */
	struct cli_pam_line *lines; /* every account line, in stack order */
	size_t n_lines;
};

/* Reads service's account lines from dir. On failure reports it with
 * cli_error (a missing or unreadable file, a loop, too deep an include)
 * and returns its result; *ret_stack is then empty. */
enum udb_result cli_pam_stack_read(const char *dir, const char *service,
				   struct cli_pam_stack *ret_stack);
void cli_pam_stack_free(struct cli_pam_stack *stack);

#endif
