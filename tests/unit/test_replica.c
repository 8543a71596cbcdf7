/* Unit tests of common/replica.c, the local apply engine of fleet mode:
 * central rows and tombstones applied in one local transaction, read back
 * through the same lookups NSS and PAM use. No PostgreSQL: the rows are
 * what a sync pass would hand over. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "attempt.h"
#include "fixture.h"
#include "group.h"
#include "image.h"
#include "replica.h"
#include "sshkey.h"
#include "user.h"
#include "validate.h"

#define HASH "$6$salt$abcdefghijklmnopqrstuvwxyz"

static struct udb_replica_apply *ap;

static void
row(enum udb_replica_table t, const char *const *values)
{
	ck_assert_int_eq(udb_replica_apply_row(ap, t, values), UDB_OK);
}

static void
tomb(enum udb_replica_table t, const char *const *pk)
{
	ck_assert_int_eq(udb_replica_apply_tombstone(ap, t, pk), UDB_OK);
}

static void
begin(bool full)
{
	ck_assert_int_eq(udb_replica_apply_begin(fx.db, full, &ap), UDB_OK);
}

/* Everything central holds for one user: the users row, its account, its
 * name, and (hash != NULL) its secret. */
static void
central_user(const char *id, const char *name, const char *uid, const char *hash)
{
	char home[64];

	snprintf(home, sizeof(home), "/home/%s", name);
	row(UDB_REPLICA_USERS, (const char *const[]){id, name, uid, uid, NULL, "First", "", home,
						     "/bin/bash", "1700000000", "1700000000"});
	row(UDB_REPLICA_ACCOUNTS, (const char *const[]){id, "19000", NULL, NULL, NULL, NULL, "0",
							"1", NULL, NULL, NULL, NULL});
	row(UDB_REPLICA_ACCOUNT_NAMES, (const char *const[]){name, id});
	if (hash)
		row(UDB_REPLICA_SECRETS, (const char *const[]){id, hash});
}

static void
central_role(const char *id, const char *name, const char *gid)
{
	row(UDB_REPLICA_ROLES, (const char *const[]){id, name, gid, "", "1700000000"});
	row(UDB_REPLICA_ROLE_CLOSURE, (const char *const[]){id, id});
}

static void
commit(int64_t rev)
{
	ck_assert_int_eq(udb_replica_apply_commit(ap, rev, T0), UDB_OK);
	ap = NULL;
}

static int64_t
local_rev(void)
{
	int64_t rev = -1, at = -1;

	ck_assert_int_eq(udb_replica_state(fx.db, &rev, &at), UDB_OK);
	return rev;
}

static const char *
members_of(const char *role)
{
	static char out[256];
	struct udb_group *g = NULL;

	ck_assert_int_eq(udb_group_by_name(fx.db, role, T0, &g), UDB_OK);
	snprintf(out, sizeof(out), "%s", fx_join(g->members, g->n_members));
	g->members = NULL; /* fx_join freed them */
	g->n_members = 0;
	udb_group_free(g);
	return out;
}

static uint32_t
uid_of(const char *name)
{
	struct udb_user *u = NULL;
	uint32_t uid;

	if (udb_user_by_name(fx.db, name, &u) != UDB_OK)
		return 0;
	uid = u->uid;
	udb_user_free(u);
	return uid;
}

/* A host with alice (uid 2001) in role ops (gid 3001) at revision 5. */
static void
setup_synced(void)
{
	begin(false);
	central_role("1", "ops", "3001");
	central_user("10", "alice", "2001", HASH);
	row(UDB_REPLICA_USER_ROLES, (const char *const[]){"10", "1", NULL, NULL, "1700000000"});
	commit(5);
}

/* --- udb_replica_apply_commit --- */

START_TEST(test_udb_replica_apply_commit_new_rows_are_served)
{
	struct udb_account *a = NULL;

	ck_assert_int_eq(local_rev(), 5);
	ck_assert_uint_eq(uid_of("alice"), 2001);
	ck_assert_str_eq(members_of("ops"), "alice");
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert_str_eq(a->password_hash, HASH);
	ck_assert(a->is_enabled);
	udb_account_free(a);
}
END_TEST

START_TEST(test_udb_replica_apply_commit_keeps_host_local_columns)
{
	struct udb_account *a = NULL;
	enum udb_attempt at;

	/* Three wrong passwords here lock alice on this host. */
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(udb_attempt_record(fx.db, a, false, T0, 3, 600, &at), UDB_OK);
	ck_assert_int_eq(at, UDB_ATTEMPT_LOCKED_NOW);
	udb_account_free(a);
	/* Central disables her and changes her aging. */
	begin(false);
	row(UDB_REPLICA_ACCOUNTS, (const char *const[]){"10", "19001", "1", "90", "7", NULL, "0",
							"0", NULL, NULL, NULL, NULL});
	commit(6);
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert(!a->is_enabled);
	ck_assert_int_eq(a->max_days, 90);
	ck_assert_int_eq(a->failed_count, 3);
	ck_assert_int_eq(a->locked_until, T0 + 600);
	ck_assert_str_eq(a->password_hash, HASH);
	udb_account_free(a);
}
END_TEST

static void *
map_file(const char *name, size_t *ret_len)
{
	struct stat st;
	void *map;
	int fd = open(fx_dbfile(name), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	ck_assert_int_eq(fstat(fd, &st), 0);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	close(fd);
	*ret_len = (size_t)st.st_size;
	return map;
}

/* The lock end the installed shadow image (base and delta, as the NSS
 * module reads them) shows for name. */
static int64_t
image_locked_until(const char *name)
{
	size_t len = 0, delta_len = 0;
	struct udb_img_shadow a;
	void *map, *delta;
	struct udb_img img;
	int64_t until;

	map = map_file(UDB_SHADOW_IMAGE_FILE, &len);
	ck_assert_ptr_nonnull(map);
	ck_assert_int_eq(udb_img_open(map, len, UDB_IMG_SHADOW, &img), UDB_OK);
	delta = map_file(UDB_SHADOW_DELTA_FILE, &delta_len);
	if (delta) {
		enum udb_result r = udb_img_attach_delta(&img, delta, delta_len);

		ck_assert(r == UDB_OK || r == UDB_NOT_FOUND);
	}
	ck_assert_int_eq(udb_img_account_by_name(&img, name, &a), UDB_OK);
	until = a.account.locked_until;
	munmap(map, len);
	if (delta)
		munmap(delta, delta_len);
	return until;
}

/* An admin unlock (central's unlocked_at) newer than the host's last
 * failure ends the host's own lock; an older one leaves it; a fleet lock
 * (fleet_locked_at) locks whatever the host's count. */
START_TEST(test_udb_replica_apply_commit_unlock_and_fleet_lock)
{
	char before[24], after[24], at_s[24];
	struct udb_account *a = NULL;
	enum udb_attempt at;

	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(udb_attempt_record(fx.db, a, false, T0, 3, 600, &at), UDB_OK);
	udb_account_free(a);
	snprintf(before, sizeof(before), "%lld", (long long)(T0 - 10));
	snprintf(after, sizeof(after), "%lld", (long long)(T0 + 10));
	snprintf(at_s, sizeof(at_s), "%lld", (long long)(T0 + 5));
	begin(false);
	row(UDB_REPLICA_ACCOUNTS, (const char *const[]){"10", "19000", NULL, NULL, NULL, NULL, "0",
							"1", NULL, NULL, before, NULL});
	commit(6);
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert_int_eq(a->failed_count, 3);
	ck_assert(udb_account_is_locked(a, T0 + 1));
	udb_account_free(a);
	begin(false);
	row(UDB_REPLICA_ACCOUNTS, (const char *const[]){"10", "19000", NULL, NULL, NULL, NULL, "0",
							"1", NULL, NULL, after, NULL});
	commit(7);
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert_int_eq(a->failed_count, 0);
	ck_assert(!udb_account_is_locked(a, T0 + 1));
	ck_assert_int_eq(image_locked_until("alice"), 0);
	udb_account_free(a);
	begin(false);
	row(UDB_REPLICA_ACCOUNTS, (const char *const[]){"10", "19000", NULL, NULL, NULL, NULL, "0",
							"1", NULL, NULL, after, at_s});
	commit(8);
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert_int_eq(a->failed_count, 0);
	ck_assert(udb_account_is_locked(a, T0 + 1000000));
	/* The shadow entry NSS serves shows it too (its "!"). */
	ck_assert_int_eq(image_locked_until("alice"), INT64_MAX);
	ck_assert_int_eq(udb_attempt_record(fx.db, a, true, T0 + 20, 3, 600, &at), UDB_OK);
	ck_assert_int_eq(at, UDB_ATTEMPT_LOCKED);
	udb_account_free(a);
}
END_TEST

START_TEST(test_udb_replica_apply_commit_revoke_and_delete)
{
	begin(false);
	tomb(UDB_REPLICA_USER_ROLES, (const char *const[]){"10", "1"});
	commit(6);
	ck_assert_str_eq(members_of("ops"), "");
	begin(false);
	tomb(UDB_REPLICA_USERS, (const char *const[]){"10"});
	tomb(UDB_REPLICA_ACCOUNTS, (const char *const[]){"10"});
	commit(7);
	ck_assert_uint_eq(uid_of("alice"), 0);
	ck_assert_int_eq(udb_user_by_uid(fx.db, 2001, &(struct udb_user *){NULL}), UDB_NOT_FOUND);
	ck_assert_int_eq(local_rev(), 7);
}
END_TEST

/* A user deleted and another created with the same name in one window: the
 * host shows the new one only, never the old uid. */
START_TEST(test_udb_replica_apply_commit_same_name_new_user)
{
	struct udb_account *a = NULL;
	struct udb_user *u = NULL;

	begin(false);
	tomb(UDB_REPLICA_USER_ROLES, (const char *const[]){"10", "1"});
	tomb(UDB_REPLICA_ACCOUNT_NAMES, (const char *const[]){"alice"});
	tomb(UDB_REPLICA_ACCOUNTS, (const char *const[]){"10"});
	tomb(UDB_REPLICA_USERS, (const char *const[]){"10"});
	central_user("11", "alice", "2002", NULL);
	commit(8);
	ck_assert_uint_eq(uid_of("alice"), 2002);
	ck_assert_int_eq(udb_user_by_uid(fx.db, 2001, &u), UDB_NOT_FOUND);
	ck_assert_str_eq(members_of("ops"), "");
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert_int_eq(a->user_id, 11);
	ck_assert_ptr_null(a->password_hash);
	udb_account_free(a);
}
END_TEST

/* Two role names swapped in one window collide half way: the incremental
 * batch changes nothing, and a full one applies the swap. */
START_TEST(test_udb_replica_apply_commit_swap_needs_full)
{
	begin(false);
	central_role("2", "dev", "3002");
	commit(6);
	begin(false);
	row(UDB_REPLICA_ROLES, (const char *const[]){"1", "dev", "3001", "", "1700000000"});
	row(UDB_REPLICA_ROLES, (const char *const[]){"2", "ops", "3002", "", "1700000000"});
	ck_assert_int_eq(udb_replica_apply_commit(ap, 7, T0), UDB_EXISTS);
	ap = NULL;
	ck_assert_int_eq(local_rev(), 6);
	ck_assert_str_eq(members_of("ops"), "alice");

	begin(true);
	row(UDB_REPLICA_ROLES, (const char *const[]){"1", "dev", "3001", "", "1700000000"});
	row(UDB_REPLICA_ROLES, (const char *const[]){"2", "ops", "3002", "", "1700000000"});
	row(UDB_REPLICA_ROLE_CLOSURE, (const char *const[]){"1", "1"});
	row(UDB_REPLICA_ROLE_CLOSURE, (const char *const[]){"2", "2"});
	central_user("10", "alice", "2001", HASH);
	row(UDB_REPLICA_USER_ROLES, (const char *const[]){"10", "1", NULL, NULL, "1700000000"});
	commit(7);
	ck_assert_int_eq(local_rev(), 7);
	ck_assert_str_eq(members_of("dev"), "alice");
	ck_assert_str_eq(members_of("ops"), "");
}
END_TEST

/* A row pointing at a role the host does not have fails at the commit and
 * leaves the copy and its revision as they were. */
START_TEST(test_udb_replica_apply_commit_dangling_changes_nothing)
{
	begin(false);
	row(UDB_REPLICA_USER_ROLES, (const char *const[]){"10", "99", NULL, NULL, "1700000000"});
	central_user("12", "bob", "2003", NULL);
	ck_assert_int_ne(udb_replica_apply_commit(ap, 9, T0), UDB_OK);
	ap = NULL;
	ck_assert_int_eq(local_rev(), 5);
	ck_assert_uint_eq(uid_of("bob"), 0);
}
END_TEST

/* --- secrets --- */

START_TEST(test_udb_replica_apply_commit_secret_tombstone_wipes_hash)
{
	struct udb_account *a = NULL;

	begin(false);
	tomb(UDB_REPLICA_SECRETS, (const char *const[]){"10"});
	commit(6);
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert_ptr_null(a->password_hash);
	ck_assert(a->is_enabled);
	udb_account_free(a);
	ck_assert_uint_eq(uid_of("alice"), 2001);
}
END_TEST

START_TEST(test_udb_replica_apply_commit_full_drops_what_central_lacks)
{
	struct udb_account *a = NULL;
	enum udb_attempt at;

	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert_int_eq(udb_attempt_record(fx.db, a, false, T0, 3, 600, &at), UDB_OK);
	udb_account_free(a);
	/* Central now has alice without a visible secret, no role, and bob. */
	begin(true);
	central_user("10", "alice", "2001", NULL);
	central_user("12", "bob", "2003", HASH);
	commit(20);
	ck_assert_int_eq(local_rev(), 20);
	ck_assert_int_eq(udb_group_by_name(fx.db, "ops", T0, &(struct udb_group *){NULL}),
			 UDB_NOT_FOUND);
	ck_assert_int_eq(udb_account_by_name(fx.db, "alice", &a), UDB_OK);
	ck_assert_ptr_null(a->password_hash);
	ck_assert_int_eq(a->failed_count, 1);
	udb_account_free(a);
	ck_assert_int_eq(udb_account_by_name(fx.db, "bob", &a), UDB_OK);
	ck_assert_str_eq(a->password_hash, HASH);
	udb_account_free(a);
}
END_TEST

START_TEST(test_udb_replica_apply_abort_changes_nothing)
{
	begin(false);
	central_user("12", "bob", "2003", HASH);
	udb_replica_apply_abort(ap);
	ap = NULL;
	ck_assert_uint_eq(uid_of("bob"), 0);
	ck_assert_int_eq(local_rev(), 5);
}
END_TEST

/* Rows a damaged or hostile central could send: each refused, and the
 * batch they were in, aborted, changes nothing. */
static void
refused(enum udb_replica_table t, const char *const *values)
{
	ck_assert_int_eq(udb_replica_apply_row(ap, t, values), UDB_INVALID);
}

static void
refused_user(const char *name, const char *uid, const char *gid, const char *first,
	     const char *home)
{
	refused(UDB_REPLICA_USERS,
		(const char *const[]){"10", name, uid, gid, NULL, first, "", home, "/bin/bash",
				      "1700000000", "1700000000"});
}

START_TEST(test_udb_replica_apply_row_refuses_hostile_rows)
{
	char long_hash[UDB_HASH_MAX + 2], big_blob[UDB_SSHKEY_LINE_MAX + 2];

	memset(long_hash, 'a', sizeof(long_hash) - 1);
	long_hash[0] = '$';
	long_hash[sizeof(long_hash) - 1] = '\0';
	memset(big_blob, 'A', sizeof(big_blob) - 1);
	big_blob[sizeof(big_blob) - 1] = '\0';
	begin(false);
	refused_user("alice", "0", "2001", "First", "/home/alice");
	refused_user("alice", "2001", "0", "First", "/home/alice");
	refused_user("alice", "-1", "2001", "First", "/home/alice");
	refused_user("alice", "4294967295", "2001", "First", "/home/alice");
	refused_user("Alice:x", "2001", "2001", "First", "/home/alice");
	refused_user("alice\nroot", "2001", "2001", "First", "/home/alice");
	refused_user("", "2001", "2001", "First", "/home/alice");
	refused_user("alice", "2001", "2001", "a:0:0", "/home/alice");
	refused_user("alice", "2001", "2001", "First", "/root:/bin/sh");
	refused_user("alice", "2001", "2001", "First", "home");
	refused(UDB_REPLICA_ROLES, (const char *const[]){"1", "ops", "0", "", "1700000000"});
	refused(UDB_REPLICA_ROLES, (const char *const[]){"1", "o:ps", "3001", "", "1700000000"});
	refused(UDB_REPLICA_ROLE_PERMISSIONS, (const char *const[]){"1", "ssh login"});
	refused(UDB_REPLICA_ACCOUNT_NAMES, (const char *const[]){"ro:ot", "10"});
	refused(UDB_REPLICA_SECRETS, (const char *const[]){"10", ""});
	refused(UDB_REPLICA_SECRETS, (const char *const[]){"10", "$6$a:b"});
	refused(UDB_REPLICA_SECRETS, (const char *const[]){"10", "$6$a\n$6$b"});
	refused(UDB_REPLICA_SECRETS, (const char *const[]){"10", long_hash});
	refused(UDB_REPLICA_SSH_KEYS, (const char *const[]){"1", "10", "ssh-ed25519", "AAAA", "",
							    "me\nssh-ed25519 AAAB other",
							    "SHA256:x", "1700000000", NULL});
	refused(UDB_REPLICA_SSH_KEYS, (const char *const[]){"1", "10", "ssh-nonsense", "AAAA", "",
							    "", "SHA256:x", "1700000000", NULL});
	refused(UDB_REPLICA_SSH_KEYS, (const char *const[]){"1", "10", "ssh-ed25519", big_blob, "",
							    "", "SHA256:x", "1700000000", NULL});
	refused(UDB_REPLICA_SSH_KEYS,
		(const char *const[]){"1", "10", "ssh-ed25519", "AAAA", "no-pty ,command=\"sh\"",
				      "", "SHA256:x", "1700000000", NULL});
	refused(UDB_REPLICA_USER_EMAILS,
		(const char *const[]){"1", "10", "no address", NULL, "1", "1700000000"});
	refused(UDB_REPLICA_HOST_ROLES, (const char *const[]){"Web1 ", "1"});
	udb_replica_apply_abort(ap);
	ap = NULL;
	ck_assert_uint_eq(uid_of("alice"), 2001);
	ck_assert_str_eq(members_of("ops"), "alice");
	ck_assert_int_eq(local_rev(), 5);
	/* The same rows with the fields fixed are taken. */
	begin(false);
	central_user("10", "alice", "2002", "$y$j9T$salt$hash");
	commit(6);
	ck_assert_uint_eq(uid_of("alice"), 2002);
}
END_TEST

START_TEST(test_udb_replica_state_never_synced)
{
	int64_t rev = -1, at = -1;

	ck_assert_int_eq(udb_replica_state(fx.db, &rev, &at), UDB_OK);
	ck_assert_int_eq(rev, 0);
	ck_assert_int_eq(at, 0);
}
END_TEST

static Suite *
replica_suite(void)
{
	Suite *s = suite_create("replica");
	TCase *tc;

	tc = fx_tcase(s, "udb_replica_apply_commit", true);
	tcase_add_checked_fixture(tc, setup_synced, NULL);
	tcase_add_test(tc, test_udb_replica_apply_commit_new_rows_are_served);
	tcase_add_test(tc, test_udb_replica_apply_commit_keeps_host_local_columns);
	tcase_add_test(tc, test_udb_replica_apply_commit_unlock_and_fleet_lock);
	tcase_add_test(tc, test_udb_replica_apply_commit_revoke_and_delete);
	tcase_add_test(tc, test_udb_replica_apply_commit_same_name_new_user);
	tcase_add_test(tc, test_udb_replica_apply_commit_swap_needs_full);
	tcase_add_test(tc, test_udb_replica_apply_commit_dangling_changes_nothing);
	tcase_add_test(tc, test_udb_replica_apply_commit_secret_tombstone_wipes_hash);
	tcase_add_test(tc, test_udb_replica_apply_commit_full_drops_what_central_lacks);
	tcase_add_test(tc, test_udb_replica_apply_abort_changes_nothing);
	tcase_add_test(tc, test_udb_replica_apply_row_refuses_hostile_rows);
	tc = fx_tcase(s, "udb_replica_state", true);
	tcase_add_test(tc, test_udb_replica_state_never_synced);
	return s;
}

int
main(void)
{
	return fx_main(replica_suite());
}
