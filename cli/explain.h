/* Shared by explain.c (the decision) and explain_out.c (printing it). */
#ifndef UDB_CLI_EXPLAIN_H
#define UDB_CLI_EXPLAIN_H

#include "cli.h"
#include "gate.h"
#include "pamconf.h"

struct explain_view {
	const char *user, *service;
	const struct cli_pam_stack *stack;
	const struct cli_pam_line *line; /* the deciding line of ours */
	const struct udb_pam_args *args; /* its arguments */
	const char *bad_arg;             /* non-NULL: the module fails with PAM_SERVICE_ERR */
	const struct udb_gate_verdict *verdict;
	const struct udb_account *account;
	int64_t now;
	/* Fleet mode's offline limit (udb_gate_offline), checked by the module
	 * after the verdict allows: the copy is too old for one of the user's
	 * offline_roles. offline_age: seconds since the last sync found central
	 * current, -1 never. */
	bool offline_refused;
	int64_t offline_age;
};

enum udb_result explain_print(struct cli *c, const struct explain_view *v);
/* The user is not in the database: the module answers PAM_USER_UNKNOWN. */
enum udb_result explain_print_unknown(struct cli *c, const struct explain_view *v);

#endif
