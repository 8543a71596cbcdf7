/* Unit tests of common/attempt.c: a login attempt decided after the hash,
 * in the write transaction that records it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "account.h"
#include "attempt.h"
#include "db-internal.h"
#include "fixture.h"
#include "hash.h"
#include "totp.h"
#include "user.h"

#define HASH "$6$rounds=1000$s$h"

static int64_t
add_user(const char *name)
{
	struct udb_user_spec spec = {.username = name, .password_hash = HASH};
	struct udb_user *u = NULL;
	int64_t id;

	ck_assert_int_eq(udb_user_add(fx.db, fx.cfg, &spec, false, T0, &u), UDB_OK);
	id = u->id;
	udb_user_free(u);
	return id;
}

static struct udb_account *
get_account(const char *name)
{
	struct udb_account *a = NULL;

	ck_assert_int_eq(udb_account_by_name(fx.db, name, &a), UDB_OK);
	return a;
}

static enum udb_attempt
attempt(struct udb_account *a, bool right, int64_t now)
{
	enum udb_attempt at = (enum udb_attempt) - 1;

	ck_assert_int_eq(udb_attempt_record(fx.db, a, right, now, 3, 600, &at), UDB_OK);
	return at;
}

static enum udb_attempt
attempt_code(struct udb_account *a, const char *code, int64_t now)
{
	enum udb_attempt at = (enum udb_attempt) - 1;

	ck_assert_int_eq(udb_attempt_record_code(fx.db, a, true, code, 1, now, 3, 600, &at),
			 UDB_OK);
	return at;
}

START_TEST(test_udb_attempt_record_counts_locks_and_resets)
{
	struct udb_account *a;

	add_user("alice");
	a = get_account("alice");
	ck_assert_int_eq(attempt(a, false, T0), UDB_ATTEMPT_WRONG);
	ck_assert_int_eq(attempt(a, false, T0), UDB_ATTEMPT_WRONG);
	ck_assert_int_eq(attempt(a, true, T0), UDB_ATTEMPT_ACCEPTED);
	udb_account_free(a);
	a = get_account("alice");
	ck_assert_int_eq(a->failed_count, 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(attempt(a, false, T0 + 1), UDB_ATTEMPT_WRONG);
	ck_assert_int_eq(attempt(a, false, T0 + 1), UDB_ATTEMPT_LOCKED_NOW);
	/* Locked: a right password is refused and counted; the lock keeps
	 * its end. */
	ck_assert_int_eq(attempt(a, true, T0 + 2), UDB_ATTEMPT_LOCKED);
	ck_assert_int_eq(attempt(a, false, T0 + 3), UDB_ATTEMPT_LOCKED);
	udb_account_free(a);
	a = get_account("alice");
	ck_assert_int_eq(a->failed_count, 5);
	ck_assert_int_eq(a->locked_until, T0 + 601);
	/* After unlock_time the right password is accepted again. */
	ck_assert_int_eq(attempt(a, true, T0 + 601), UDB_ATTEMPT_ACCEPTED);
	udb_account_free(a);
}
END_TEST

/* The account was read unlocked before hashing; the lock came meanwhile. */
START_TEST(test_udb_attempt_record_lock_taken_during_the_hash)
{
	struct udb_account *stale, *other;

	add_user("alice");
	stale = get_account("alice");
	other = get_account("alice");
	for (int i = 0; i < 3; i++)
		attempt(other, false, T0);
	ck_assert_int_eq(attempt(stale, true, T0 + 1), UDB_ATTEMPT_LOCKED);
	udb_account_free(stale);
	udb_account_free(other);
}
END_TEST

/* A right password for a hash that was replaced meanwhile is not one. */
START_TEST(test_udb_attempt_record_password_changed_during_the_hash)
{
	struct udb_account *stale, *a;

	add_user("alice");
	stale = get_account("alice");
	ck_assert_int_eq(udb_account_set_password(fx.db, "alice", "$6$rounds=1000$t$new", T0),
			 UDB_OK);
	ck_assert_int_eq(attempt(stale, true, T0 + 1), UDB_ATTEMPT_WRONG);
	a = get_account("alice");
	ck_assert_int_eq(a->failed_count, 1);
	udb_account_free(a);
	udb_account_free(stale);
}
END_TEST

/* Concurrent failures, each through its own writer: none is lost. */
START_TEST(test_udb_attempt_record_concurrent_failures_all_counted)
{
	enum { N = 20 };
	struct udb_account *a;
	pid_t pids[N];
	int status;

	add_user("alice");
	a = get_account("alice");
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			struct udb_db *db = NULL;
			enum udb_attempt at;

			if (udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &db) != UDB_OK)
				_exit(2);
			/* Twenty writers on a loaded machine: wait rather than
			 * report busy (which the PAM module would refuse). */
			udb_db_set_busy_timeout(db, 120000);
			if (udb_attempt_record(db, a, false, T0, 3, 600, &at) != UDB_OK)
				_exit(3);
			_exit(0);
		}
	}
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	udb_account_free(a);
	a = get_account("alice");
	ck_assert_int_eq(a->failed_count, N);
	ck_assert_int_eq(a->locked_until, T0 + 600);
	udb_account_free(a);
}
END_TEST

/* Another writer holds the lock past the busy timeout: nothing is recorded
 * and nothing accepted. */
START_TEST(test_udb_attempt_record_busy_accepts_nothing)
{
	struct udb_account *a;
	struct udb_db *other = NULL;
	enum udb_attempt at = UDB_ATTEMPT_ACCEPTED;

	add_user("alice");
	a = get_account("alice");
	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &other), UDB_OK);
	ck_assert_int_eq(udb_db_begin(other), UDB_OK);
	udb_db_set_busy_timeout(fx.db, 50);
	ck_assert_int_eq(udb_attempt_record(fx.db, a, true, T0, 3, 600, &at), UDB_BUSY);
	ck_assert_int_eq(udb_attempt_record(fx.db, a, false, T0, 3, 600, &at), UDB_BUSY);
	ck_assert_int_eq(at, UDB_ATTEMPT_ACCEPTED); /* untouched */
	udb_db_rollback(other);
	udb_db_close(other);
	ck_assert_int_eq(attempt(a, true, T0), UDB_ATTEMPT_ACCEPTED);
	udb_account_free(a);
}
END_TEST

/* accept_unchanged on an attempt handle of its own, as auth opens it. */
static bool
accepted_unchanged(struct udb_account *a, int64_t now, enum udb_result expect)
{
	struct udb_db *db = NULL;
	bool accepted = true;

	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_SHADOW_ATTEMPT, &db), UDB_OK);
	udb_db_set_busy_timeout(db, 50);
	ck_assert_int_eq(udb_attempt_accept_unchanged(db, a, NULL, 1, now, &accepted), expect);
	udb_db_close(db);
	return accepted;
}

/* A right password with nothing to reset is accepted by the read alone,
 * and writes nothing; anything a success would change is left to the
 * writer (not accepted): a count, a lock (running or ended), a new hash. */
START_TEST(test_udb_attempt_accept_unchanged_only_when_nothing_changes)
{
	struct udb_account *a, *now;

	add_user("alice");
	a = get_account("alice");
	ck_assert(accepted_unchanged(a, T0, UDB_OK));
	now = get_account("alice");
	ck_assert_int_eq(now->failed_count, 0);
	udb_account_free(now);
	ck_assert_int_eq(attempt(a, false, T0), UDB_ATTEMPT_WRONG);
	ck_assert(!accepted_unchanged(a, T0, UDB_OK)); /* a count to reset */
	ck_assert_int_eq(attempt(a, true, T0), UDB_ATTEMPT_ACCEPTED);
	ck_assert(accepted_unchanged(a, T0, UDB_OK));
	for (int i = 0; i < 3; i++)
		attempt(a, false, T0 + 1);
	ck_assert(!accepted_unchanged(a, T0 + 2, UDB_OK));   /* locked */
	ck_assert(!accepted_unchanged(a, T0 + 700, UDB_OK)); /* lock ended, still set */
	ck_assert_int_eq(attempt(a, true, T0 + 700), UDB_ATTEMPT_ACCEPTED);
	ck_assert(accepted_unchanged(a, T0 + 700, UDB_OK));
	/* The hash changed after it was read (and verified). */
	ck_assert_int_eq(udb_account_upgrade_hash(fx.db, a->user_id, HASH, "$6$rounds=1000$t$u"),
			 UDB_OK);
	ck_assert(!accepted_unchanged(a, T0 + 700, UDB_OK));
	udb_account_free(a);
}
END_TEST

/* The code of base32 secret at Unix time t, by oathtool (as test_totp.c
 * computes it: not by the library under test). */
static const char *
code_at(const char *secret, int64_t t)
{
	static char out[16];
	char cmd[256];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "oathtool --totp -b -N @%lld %s", (long long)t, secret);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(out, sizeof(out), p));
	ck_assert_int_eq(pclose(p), 0);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* With a second factor: a right code is accepted and used up in the same
 * transaction (the same code again is a replay, left to the writer); a
 * wrong code is not accepted and uses nothing up. */
START_TEST(test_udb_attempt_accept_unchanged_uses_up_the_code)
{
	struct udb_account *a;
	struct udb_db *db = NULL;
	char *secret = NULL, code[16], wrong[16];
	bool accepted = false;
	int64_t id = add_user("alice");

	a = get_account("alice");
	ck_assert_int_eq(udb_totp_enroll(fx.db, id, &secret), UDB_OK);
	ck_assert_int_eq(udb_totp_confirm(fx.db, id, code_at(secret, T0), T0, 1), UDB_OK);
	snprintf(code, sizeof(code), "%s", code_at(secret, T0 + 60));
	snprintf(wrong, sizeof(wrong), "%s", code);
	wrong[5] = wrong[5] == '9' ? '0' : (char)(wrong[5] + 1);
	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_SHADOW_ATTEMPT, &db), UDB_OK);
	ck_assert_int_eq(udb_attempt_accept_unchanged(db, a, wrong, 1, T0 + 60, &accepted), UDB_OK);
	ck_assert(!accepted);
	ck_assert_int_eq(udb_attempt_accept_unchanged(db, a, code, 1, T0 + 60, &accepted), UDB_OK);
	ck_assert(accepted);
	ck_assert_int_eq(udb_attempt_accept_unchanged(db, a, code, 1, T0 + 60, &accepted), UDB_OK);
	ck_assert(!accepted);
	udb_db_close(db);
	/* The writer agrees: the code is spent. */
	ck_assert_int_eq(attempt_code(a, code, T0 + 60), UDB_ATTEMPT_WRONG);
	udb_secret_free(secret);
	udb_account_free(a);
}
END_TEST

/* A fleet-wide lock (central's) is a lock here too. */
START_TEST(test_udb_attempt_accept_unchanged_fleet_lock)
{
	struct udb_account *a;

	add_user("alice");
	a = get_account("alice");
	ck_assert_int_eq(udb_db_exec_sql(fx.db, "UPDATE sec.accounts SET fleet_locked_at = 1"),
			 UDB_OK);
	ck_assert(!accepted_unchanged(a, T0, UDB_OK));
	udb_account_free(a);
}
END_TEST

/* Another writer holds the write lock, or only image.lock, past the busy
 * timeout: a failure could not be recorded, so nothing is accepted. */
START_TEST(test_udb_attempt_accept_unchanged_busy_accepts_nothing)
{
	struct udb_account *a;
	struct udb_db *other = NULL;

	add_user("alice");
	a = get_account("alice");
	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_WRITE, &other), UDB_OK);
	ck_assert_int_eq(udb_db_begin(other), UDB_OK);
	ck_assert(!accepted_unchanged(a, T0, UDB_BUSY));
	udb_db_rollback(other);
	ck_assert_int_eq(udb_db_writers_lock(other), UDB_OK);
	ck_assert(!accepted_unchanged(a, T0, UDB_BUSY));
	udb_db_writers_unlock(other);
	udb_db_close(other);
	ck_assert(accepted_unchanged(a, T0, UDB_OK));
	udb_account_free(a);
}
END_TEST

/* Only an attempt handle decides so; a reader or the writer is refused. */
START_TEST(test_udb_attempt_accept_unchanged_wrong_handle)
{
	struct udb_account *a;
	struct udb_db *db = NULL;
	bool accepted = true;

	add_user("alice");
	a = get_account("alice");
	ck_assert_int_eq(udb_attempt_accept_unchanged(fx.db, a, NULL, 1, T0, &accepted),
			 UDB_INTERNAL);
	ck_assert(!accepted);
	ck_assert_int_eq(udb_db_open(fx.dbdir, UDB_OPEN_SHADOW_ONLY, &db), UDB_OK);
	accepted = true;
	ck_assert_int_eq(udb_attempt_accept_unchanged(db, a, NULL, 1, T0, &accepted), UDB_INTERNAL);
	ck_assert(!accepted);
	udb_db_close(db);
	udb_account_free(a);
}
END_TEST

/* The shadow entry's password field while locked. */
START_TEST(test_udb_account_shadow_pwdp_locked)
{
	char stored[] = HASH;
	struct udb_account a = {.password_hash = stored, .is_enabled = true};
	const char *prefix, *hash;

	udb_account_shadow_pwdp(&a, T0, &prefix, &hash);
	ck_assert_str_eq(prefix, "");
	ck_assert_str_eq(hash, HASH);
	a.locked_until = T0 + 10;
	udb_account_shadow_pwdp(&a, T0, &prefix, &hash);
	ck_assert_str_eq(prefix, "!");
	ck_assert_str_eq(hash, HASH);
	udb_account_shadow_pwdp(&a, T0 + 10, &prefix, &hash);
	ck_assert_str_eq(prefix, "");
	a.locked_until = 0;
	a.is_enabled = false;
	udb_account_shadow_pwdp(&a, T0, &prefix, &hash);
	ck_assert_str_eq(prefix, "!");
	a.password_hash = NULL;
	udb_account_shadow_pwdp(&a, T0, &prefix, &hash);
	ck_assert_str_eq(prefix, "!");
	ck_assert_str_eq(hash, "");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("attempt");
	TCase *tc = fx_tcase(s, "udb_attempt_record", true);

	tcase_add_test(tc, test_udb_attempt_record_counts_locks_and_resets);
	tcase_add_test(tc, test_udb_attempt_record_lock_taken_during_the_hash);
	tcase_add_test(tc, test_udb_attempt_record_password_changed_during_the_hash);
	tcase_add_test(tc, test_udb_attempt_record_concurrent_failures_all_counted);
	tcase_add_test(tc, test_udb_attempt_record_busy_accepts_nothing);
	tc = fx_tcase(s, "udb_attempt_accept_unchanged", true);
	tcase_add_test(tc, test_udb_attempt_accept_unchanged_only_when_nothing_changes);
	tcase_add_test(tc, test_udb_attempt_accept_unchanged_uses_up_the_code);
	tcase_add_test(tc, test_udb_attempt_accept_unchanged_fleet_lock);
	tcase_add_test(tc, test_udb_attempt_accept_unchanged_busy_accepts_nothing);
	tcase_add_test(tc, test_udb_attempt_accept_unchanged_wrong_handle);
	tc = fx_tcase(s, "udb_account_shadow_pwdp", false);
	tcase_add_test(tc, test_udb_account_shadow_pwdp_locked);
	return fx_main(s);
}
