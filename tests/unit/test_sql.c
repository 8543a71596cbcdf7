/* The plan audit of every statement in sql.c (issue 13: every write costs
 * O(change)). Each statement's EXPLAIN QUERY PLAN, as SQLite plans it on a
 * write handle with both files attached, must reach its rows through a key
 * or an index: a step that passes over a whole table ("SCAN t", with or
 * without "USING ... INDEX", which reads a whole index instead) fails the
 * test unless the statement is on the list below, which says why it may.
 * The schema has no ANALYZE statistics, so a plan does not depend on how
 * many rows there are; bench/sql_plans prints the same plans from a
 * populated store (bench/README.md, "Query plans at 1M"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "fixture.h"
#include "user.h"

/* Statements that may pass over a whole table, and why none of them is a
 * cost proportional to the users on a write: listings the admin asked for,
 * the role closure (roles only), the whole image rebuild, and the repair
 * after a writer killed mid-commit. */
static const struct {
	enum udb_query q;
	const char *why;
} allowed_scans[] = {
	{UDB_Q_REPAIR_ORPHAN_ACCOUNTS,
	 "repair after a writer killed between its two commits: runs only when the "
	 "two files' generations differ (transaction.c, repair_if_needed)"},
	{UDB_Q_REPAIR_ORPHAN_USERS, "the same repair, the other file"},
	{UDB_Q_REPAIR_NAMES_DROP, "the same repair: a rename cut short between the commits"},
	{UDB_Q_REPAIR_NAMES_ADD, "the same repair: the names put back"},
	{UDB_Q_ROLE_LIST, "`userdb role list`: every role, asked for"},
	{UDB_Q_OUTBOX_MARK,
	 "a fleet host's push (outbox.c): the outbox holds at most two rows per account and "
	 "is emptied by every push; run by `userdb sync`, never by a login"},
	{UDB_Q_OUTBOX_MARKED, "the same push: the rows it sends"},
	{UDB_Q_OUTBOX_TAKE_OFF, "the same push: the rows it sent"},
	{UDB_Q_OUTBOX_DROP_SENT, "the same push: the rows it emptied"},
	{UDB_Q_OUTBOX_COUNT,
	 "`userdb sync`: whether there is something to push (the same small table)"},
	{UDB_Q_ROLE_CLOSURE_CLEAR,
	 "role add, del, include, exclude: the closure is rebuilt from the roles and "
	 "their inclusions, which hold no user rows"},
	{UDB_Q_ROLE_CLOSURE_BUILD, "the same rebuild"},
	{UDB_Q_AUDIT_LIST, "`userdb log`: the audit trail, asked for"},
	{UDB_Q_IMAGE_USERS, "the whole image rebuild: every user, by design"},
	{UDB_Q_IMAGE_ROLES, "the whole image rebuild: every role"},
	{UDB_Q_IMAGE_MEMBERSHIPS, "the whole image rebuild: every grant"},
	{UDB_Q_IMAGE_ACCOUNTS, "the whole shadow image rebuild: every account"},
	{UDB_Q_IMAGE_CHANGES_PENDING,
	 "the change tables (schema 9), which hold what changed since the image bases, read "
	 "up to UDB_IMAGE_DELTA_MAX + 1 rows: bounded by the rebuild threshold"},
	{UDB_Q_IMAGE_CHANGED_ACCOUNTS,
	 "the change tables again: what changed since the bases, which a write keeps under "
	 "the rebuild threshold"},
	{UDB_Q_SSHKEY_IMAGE_ROWS,
	 "the keys.img rebuild (sshkey_image.c): every key, only when a key or the "
	 "account state keys depend on changed"},
};

/* Partial indexes hold only the rows a write left to finish (a user add's
 * name, confirmed by the next write transaction), so walking one whole
 * costs what changed, not what is stored. */
static const char *const partial_indexes[] = {"account_names_unconfirmed"};

static const char *
allowed_why(enum udb_query q)
{
	for (size_t i = 0; i < sizeof(allowed_scans) / sizeof(allowed_scans[0]); i++)
		if (allowed_scans[i].q == q)
			return allowed_scans[i].why;
	return NULL;
}

static enum udb_result
noop_entry(const struct udb_passwd_entry *entry, void *userdata)
{
	(void)entry;
	(void)userdata;
	return UDB_OK;
}

static bool
uses_partial_index(const char *step)
{
	const char *idx = strstr(step, " USING INDEX ");

	if (!idx)
		return false;
	idx += strlen(" USING INDEX ");
	for (size_t i = 0; i < sizeof(partial_indexes) / sizeof(partial_indexes[0]); i++) {
		size_t n = strlen(partial_indexes[i]);

		if (strncmp(idx, partial_indexes[i], n) == 0 && (idx[n] == '\0' || idx[n] == ' '))
			return true;
	}
	return false;
}

/* The first step of plan that passes over a whole table, or NULL:
 * - "SCAN t", with or without "USING [COVERING] INDEX i" (a whole index is
 *   as many rows), except "SCAN CONSTANT ROW" (a SELECT without FROM),
 *   "SCAN (subquery-N)" (rows a step above produced) and a scan of a
 *   partial index (partial_indexes);
 * - "USING ROWID SEARCH ON TABLE t FOR IN-OPERATOR" or "USING INDEX i FOR
 *   IN-OPERATOR" right after a "SEARCH ... (c=?)": `c IN (SELECT k FROM
 *   t)` then drives the search with every key of t, one seek each, which
 *   is what the account-name confirmation did at the start of every write
 *   (issue 13). After a SCAN, or under NOT IN, the same words mean one
 *   membership probe per row, which the SCAN rule already judges. */
static const char *
whole_table_step(const char *plan, char *line, size_t linelen)
{
	char prev[512] = "";
	const char *p = plan;

	while (*p) {
		size_t n = strcspn(p, "\n");

		snprintf(line, linelen, "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (strstr(line, " FOR IN-OPERATOR") && strncmp(prev, "SEARCH ", 7) == 0 &&
		    strstr(prev, "=?"))
			return line;
		snprintf(prev, sizeof(prev), "%s", line);
		if (strncmp(line, "SCAN ", 5) != 0)
			continue;
		if (strcmp(line, "SCAN CONSTANT ROW") == 0 ||
		    strncmp(line, "SCAN (subquery", 14) == 0)
			continue;
		if (uses_partial_index(line))
			continue;
		return line;
	}
	return NULL;
}

static char *
plan_of(enum udb_query q)
{
	char *plan = NULL;
	enum udb_result r = udb_stmt_plan(fx.db, q, &plan);

	ck_assert_msg(r == UDB_OK, "statement %d: no plan (%s): %s", (int)q,
		      udb_result_to_string(r), udb_sql_text(q));
	return plan;
}

static void
register_functions(void)
{
	size_t n = 0;

	/* UDB_Q_PASSWD_PAGE names a function that user.c registers before its
	 * first use; any page does. */
	ck_assert_int_eq(udb_passwd_entry_page(fx.db, 0, 1, noop_entry, NULL, &n), UDB_OK);
}

/* --- udb_stmt_plan --- */

START_TEST(test_udb_stmt_plan_names_search_and_scan)
{
	char *plan = plan_of(UDB_Q_USER_BY_NAME);

	ck_assert_msg(strncmp(plan, "SEARCH u USING ", 15) == 0, "plan: %s", plan);
	free(plan);
	plan = plan_of(UDB_Q_ROLE_LIST);
	ck_assert_msg(strstr(plan, "SCAN ") != NULL, "plan: %s", plan);
	free(plan);
	plan = plan_of(UDB_Q_BEGIN_WRITE);
	ck_assert_str_eq(plan, "");
	free(plan);
}
END_TEST

/* --- the audit --- */

START_TEST(test_sql_no_statement_scans_a_table_unless_listed)
{
	char line[512];
	unsigned bad = 0;

	register_functions();
	for (int q = 0; q < UDB_Q_COUNT; q++) {
		char *plan = plan_of((enum udb_query)q);
		const char *step = whole_table_step(plan, line, sizeof(line));

		if (step && !allowed_why((enum udb_query)q)) {
			fprintf(stderr,
				"statement %d passes over a whole table (%s):\n  %s\nplan:\n%s", q,
				step, udb_sql_text((enum udb_query)q), plan);
			bad++;
		}
		free(plan);
	}
	ck_assert_msg(bad == 0, "%u statement(s) pass over a whole table (see above)", bad);
}
END_TEST

/* The list stays honest: a statement that no longer scans leaves it. */
START_TEST(test_sql_every_listed_statement_still_scans)
{
	char line[512];

	register_functions();
	for (size_t i = 0; i < sizeof(allowed_scans) / sizeof(allowed_scans[0]); i++) {
		char *plan = plan_of(allowed_scans[i].q);

		ck_assert_msg(whole_table_step(plan, line, sizeof(line)) != NULL,
			      "statement %d is listed as scanning (%s) but does not: %s",
			      (int)allowed_scans[i].q, allowed_scans[i].why, plan);
		free(plan);
	}
}
END_TEST

static Suite *
sql_suite(void)
{
	Suite *s = suite_create("sql");
	TCase *tc;

	tc = fx_tcase(s, "udb_stmt_plan", true);
	tcase_add_test(tc, test_udb_stmt_plan_names_search_and_scan);
	tc = fx_tcase(s, "audit", true);
	tcase_add_test(tc, test_sql_no_statement_scans_a_table_unless_listed);
	tcase_add_test(tc, test_sql_every_listed_statement_still_scans);
	return s;
}

int
main(void)
{
	return fx_main(sql_suite());
}
