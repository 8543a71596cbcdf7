/* Unit tests of common/validate.c: the name, email, permission, text and
 * path rules of SPEC.md's "Names", number parsing, time parsing and the
 * rules every entry the NSS module serves must pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "validate.h"

struct case_ {
	const char *s;
	bool ok;
};

/* A string of n copies of c followed by tail, in a static buffer. */
static const char *
repeat(char c, size_t n, const char *tail)
{
	static char buf[16384];

	memset(buf, c, n);
	snprintf(buf + n, sizeof(buf) - n, "%s", tail);
	return buf;
}

static void
check_cases(bool (*fn)(const char *), const struct case_ *cases, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(fn(cases[i].s) == cases[i].ok, "%s case %zu (\"%s\"): expected %s",
			      what, i, cases[i].s ? cases[i].s : "(null)",
			      cases[i].ok ? "valid" : "invalid");
}

#define CHECK_CASES(fn, cases) check_cases(fn, cases, sizeof(cases) / sizeof(cases[0]), #fn)

START_TEST(test_udb_valid_username_accepts_debian_names)
{
	static const struct case_ cases[] = {
		{"alice", true}, {"_apt", true},      {"a", true},
		{"_", true},     {"bob-smith", true}, {"user_1", true},
		{"host$", true}, {"a9-_", true},      {"www-data", true},
	};

	CHECK_CASES(udb_valid_username, cases);
}
END_TEST

START_TEST(test_udb_valid_username_refuses_everything_else)
{
	static const struct case_ cases[] = {
		{NULL, false},      {"", false},         {"Alice", false},   {"1alice", false},
		{"+alice", false},  {"-alice", false},   {"al:ice", false},  {"al\nice", false},
		{"al ice", false},  {"al.ice", false},   {"al$ice", false},  {"$", false},
		{"alice$$", false}, {"al/ice", false},   {"al\tice", false}, {"ali\xc3\xa9", false},
		{"\xff", false},    {"alice'--", false}, {"a,b", false},     {"é", false},
	};

	CHECK_CASES(udb_valid_username, cases);
}
END_TEST

START_TEST(test_udb_valid_username_length_limit)
{
	ck_assert(udb_valid_username(repeat('a', 32, "")));
	ck_assert(udb_valid_username(repeat('a', 31, "$")));
	ck_assert(!udb_valid_username(repeat('a', 33, "")));
	ck_assert(!udb_valid_username(repeat('a', 32, "$")));
	ck_assert(!udb_valid_username(repeat('a', 10240, "")));
}
END_TEST

START_TEST(test_udb_valid_host_name_rules)
{
	static const struct case_ cases[] = {
		{"web1", true},       {"1web", true},   {"web-1.example", true}, {NULL, false},
		{"", false},          {"Web1", false},  {"-web", false},         {".web", false},
		{"web_1", false},     {"web 1", false}, {"web\n", false},        {"a'; --", false},
		{"w\xc3\xa9", false},
	};

	CHECK_CASES(udb_valid_host_name, cases);
	ck_assert(udb_valid_host_name(repeat('h', 50, "")));
	ck_assert(!udb_valid_host_name(repeat('h', 51, "")));
}
END_TEST

START_TEST(test_udb_valid_rolename_rules)
{
	static const struct case_ cases[] = {
		{"admin", true},     {"Admin", true},      {"_x", true},      {"team.ops-1", true},
		{"A_b", true},       {NULL, false},        {"", false},       {"1admin", false},
		{".admin", false},   {"-admin", false},    {"+admin", false}, {"ad:min", false},
		{"ad min", false},   {"ad\nmin", false},   {"admin$", false}, {"ad,min", false},
		{"\xc3\xa9", false}, {"adm\xffin", false}, {"a'; --", false},
	};

	CHECK_CASES(udb_valid_rolename, cases);
	ck_assert(udb_valid_rolename(repeat('R', 32, "")));
	ck_assert(!udb_valid_rolename(repeat('R', 33, "")));
	ck_assert(!udb_valid_rolename(repeat('R', 10240, "")));
}
END_TEST

START_TEST(test_udb_valid_email_rules)
{
	static const struct case_ cases[] = {
		{"alice@example.com", true},
		{"A.Lice+tag@Example.COM", true},
		{"a@b", true},
		{NULL, false},
		{"", false},
		{"alice", false},
		{"@example.com", false},
		{"alice@", false},
		{"al@ice@example.com", false},
		{"al ice@example.com", false},
		{"alice@exam\nple.com", false},
		{"alice@example.com\r", false},
		{"al\tice@example.com", false},
		{"al\x7f@example.com", false},
		{"ali\xc3\xa9@example.com", false},
		{"\xff@example.com", false},
	};

	CHECK_CASES(udb_valid_email, cases);
	/* 254 bytes is the limit of a forward path (RFC 5321). */
	ck_assert(udb_valid_email(repeat('a', 242, "@example.com")));
	ck_assert(!udb_valid_email(repeat('a', 243, "@example.com")));
	ck_assert(!udb_valid_email(repeat('a', 10240, "@example.com")));
}
END_TEST

START_TEST(test_udb_valid_permission_rules)
{
	static const struct case_ cases[] = {
		{"ssh:login", true}, {"sudo:*", true}, {"a.b-c_d", true},    {"X", true},
		{NULL, false},       {"", false},      {"ssh login", false}, {"ssh\nlogin", false},
		{"a,b", false},      {"a/b", false},   {"a'b", false},       {"\xc3\xa9", false},
	};

	CHECK_CASES(udb_valid_permission, cases);
	ck_assert(udb_valid_permission(repeat('p', 128, "")));
	ck_assert(!udb_valid_permission(repeat('p', 129, "")));
}
END_TEST

START_TEST(test_udb_valid_text_accepts_utf8)
{
	static const struct case_ cases[] = {
		{"", true},
		{"Alice Smith", true},
		{"Ren\xc3\xa9"
		 "e",
		 true},                                  /* é */
		{"\xe6\x97\xa5\xe6\x9c\xac", true},      /* 日本 */
		{"\xf0\x9f\x98\x80", true},              /* U+1F600 */
		{"\xf4\x8f\xbf\xbf", true},              /* U+10FFFF */
		{"\xed\x9f\xbf", true},                  /* U+D7FF, just below the surrogates */
		{"Robert'); DROP TABLE users;--", true}, /* bound, never interpolated */
	};

	CHECK_CASES(udb_valid_text, cases);
	ck_assert(udb_valid_text(repeat('x', 256, "")));
}
END_TEST

START_TEST(test_udb_valid_text_refuses_bad_utf8_and_separators)
{
	static const struct case_ cases[] = {
		{NULL, false},
		{"a:b", false},  /* passwd field separator */
		{"a,b", false},  /* GECOS sub-field separator */
		{"a\nb", false}, /* would split a passwd line */
		{"a\tb", false},
		{"a\x7f", false},
		{"a\x1b[2Jb", false}, /* terminal escape */
		{"\xc2\x85", false},  /* U+0085 NEL, a C1 control */
		{"\xc2\x9b"
		 "2J",
		 false}, /* U+009B CSI, a C1 control */
		{"\xff", false},
		{"\x80", false},             /* lone continuation byte */
		{"\xc3", false},             /* truncated sequence */
		{"\xe6\x97", false},         /* truncated sequence */
		{"\xc0\xaf", false},         /* overlong '/' */
		{"\xc1\xbf", false},         /* overlong */
		{"\xe0\x80\xaf", false},     /* overlong '/' in three bytes */
		{"\xf0\x80\x80\xaf", false}, /* overlong '/' in four bytes */
		{"\xed\xa0\x80", false},     /* U+D800, a surrogate */
		{"\xed\xbf\xbf", false},     /* U+DFFF, a surrogate */
		{"\xf4\x90\x80\x80", false}, /* U+110000 */
		{"\xf5\x80\x80\x80", false}, /* beyond Unicode */
		{"\xf8\x88\x80\x80\x80", false},
	};

	CHECK_CASES(udb_valid_text, cases);
	ck_assert(!udb_valid_text(repeat('x', 257, "")));
	ck_assert(!udb_valid_text(repeat('x', 10240, "")));
}
END_TEST

START_TEST(test_udb_valid_path_rules)
{
	static const struct case_ cases[] = {
		{"/home/alice", true},
		{"/bin/bash", true},
		{"/", true},
		{NULL, false},
		{"", false},
		{"home/alice", false},
		{"./x", false},
		{"/home/al:ice", false},
		{"/home/al\nice", false},
		{"/bin/sh\x7f", false},
	};

	CHECK_CASES(udb_valid_path, cases);
	ck_assert(udb_valid_path(repeat('/', 4096, "")));
	ck_assert(!udb_valid_path(repeat('/', 4097, "")));
}
END_TEST

START_TEST(test_udb_parse_id_edges)
{
	uint32_t id = 7;

	ck_assert_int_eq(udb_parse_id("0", &id), UDB_OK);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(udb_parse_id("10000", &id), UDB_OK);
	ck_assert_uint_eq(id, 10000);
	ck_assert_int_eq(udb_parse_id("4294967294", &id), UDB_OK);
	ck_assert_uint_eq(id, 4294967294U);
	ck_assert_int_eq(udb_parse_id("007", &id), UDB_OK);
	ck_assert_uint_eq(id, 7);
	id = 1;
	/* (uid_t)-1 means "no change" to chown and setreuid: never an id. */
	ck_assert_int_eq(udb_parse_id("4294967295", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id("4294967296", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id("18446744073709551615", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id("18446744073709551616", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id("99999999999999999999999", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id("-1", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id("+1", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id(" 1", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id("1 ", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id("0x10", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id("1e3", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id("", &id), UDB_INVALID);
	ck_assert_int_eq(udb_parse_id(NULL, &id), UDB_INVALID);
	ck_assert_uint_eq(id, 1);
}
END_TEST

START_TEST(test_udb_parse_uint_respects_max)
{
	unsigned long v = 42;

	ck_assert_int_eq(udb_parse_uint("512", 512, &v), UDB_OK);
	ck_assert_uint_eq(v, 512);
	ck_assert_int_eq(udb_parse_uint("513", 512, &v), UDB_INVALID);
	ck_assert_int_eq(udb_parse_uint("0", 0, &v), UDB_OK);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(udb_parse_uint("1", 0, &v), UDB_INVALID);
	/* A single digit above a small maximum. */
	ck_assert_int_eq(udb_parse_uint("7", 5, &v), UDB_INVALID);
	ck_assert_int_eq(udb_parse_uint("9", 1, &v), UDB_INVALID);
	ck_assert_int_eq(udb_parse_uint("5", 5, &v), UDB_OK);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(udb_parse_uint("18446744073709551615", (unsigned long)-1, &v), UDB_OK);
	ck_assert_uint_eq(v, (unsigned long)-1);
	ck_assert_int_eq(udb_parse_uint("18446744073709551616", (unsigned long)-1, &v),
			 UDB_INVALID);
	ck_assert_int_eq(udb_parse_uint("-0", 10, &v), UDB_INVALID);
}
END_TEST

static int64_t
parse_ok(const char *s, int64_t now)
{
	int64_t t = -1;

	ck_assert_msg(udb_parse_time(s, now, &t) == UDB_OK, "\"%s\" should parse", s);
	return t;
}

START_TEST(test_udb_parse_time_dates_and_times)
{
	ck_assert_int_eq(parse_ok("1970-01-01", T0), 0);
	ck_assert_int_eq(parse_ok("2023-11-14", T0), T0 - (22 * 3600 + 13 * 60 + 20));
	ck_assert_int_eq(parse_ok("2023-11-14T22:13:20", 0), T0);
	ck_assert_int_eq(parse_ok("2023-11-14T22:13:20Z", 0), T0);
	ck_assert_int_eq(parse_ok("2023-11-14 22:13:20", 0), T0);
	ck_assert_int_eq(parse_ok("2023-11-14T22:13", 0), T0 - 20);
	ck_assert_int_eq(parse_ok("2024-03-01", 0) - parse_ok("2024-02-28", 0), 2 * DAY);
	ck_assert_int_eq(parse_ok("2023-03-01", 0) - parse_ok("2023-02-28", 0), DAY);
	ck_assert_int_eq(parse_ok("2000-02-29", 0), 951782400);
	ck_assert_int_eq(parse_ok("2038-01-19T03:14:08Z", 0), 2147483648LL);
	ck_assert_int_eq(parse_ok("9999-12-31T23:59:59", 0), 253402300799LL);
	ck_assert_int_eq(parse_ok("2024-12-31T23:59:59", 0) + 1, parse_ok("2025-01-01", 0));
}
END_TEST

START_TEST(test_udb_parse_time_refuses_impossible_dates)
{
	static const char *const bad[] = {
		"2023-02-29",
		"2100-02-29",
		"2024-02-30",
		"2024-04-31",
		"2024-13-01",
		"2024-00-10",
		"2024-01-00",
		"2024-01-32",
		"1969-12-31",
		"2024-01-01T24:00",
		"2024-01-01T23:60",
		"2024-01-01T23:59:60",
		"2024-1-01",
		"24-01-01",
		"2024/01/01",
		"2024-01-01T",
		"2024-01-01T1:00",
		"2024-01-01Z",
		"2024-01-01T10:00+02:00",
		"2024-01-01 ",
		" 2024-01-01",
		"2024-01-01T10:00:00ZZ",
		"",
		"tomorrow",
		"@",
		"@-1",
		"@12x",
		"@253402300800",
		"+",
		"+d",
		"+30",
		"+30x",
		"+-30d",
		"++30d",
		"+3 0d",
		"+99999999999999999999w",
		"+36601d",
	};
	int64_t t = 1234;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(udb_parse_time(bad[i], T0, &t) == UDB_INVALID,
			      "\"%s\" should be refused", bad[i]);
	ck_assert_int_eq(udb_parse_time(NULL, T0, &t), UDB_INVALID);
	ck_assert_int_eq(t, 1234);
}
END_TEST

START_TEST(test_udb_parse_time_leap_days)
{
	ck_assert_int_eq(parse_ok("2024-02-29", 0) + DAY, parse_ok("2024-03-01", 0));
	ck_assert_int_eq(parse_ok("2000-02-29", 0) + DAY, parse_ok("2000-03-01", 0));
	ck_assert_int_eq(parse_ok("2400-02-29", 0) + DAY, parse_ok("2400-03-01", 0));
}
END_TEST

START_TEST(test_udb_parse_time_epoch_and_relative)
{
	ck_assert_int_eq(parse_ok("@0", T0), 0);
	ck_assert_int_eq(parse_ok("@1700000000", 5), T0);
	ck_assert_int_eq(parse_ok("+0s", T0), T0);
	ck_assert_int_eq(parse_ok("+45s", T0), T0 + 45);
	ck_assert_int_eq(parse_ok("+15m", T0), T0 + 15 * 60);
	ck_assert_int_eq(parse_ok("+12h", T0), T0 + 12 * 3600);
	ck_assert_int_eq(parse_ok("+30d", T0), T0 + 30 * DAY);
	ck_assert_int_eq(parse_ok("+2w", T0), T0 + 14 * DAY);
	ck_assert_int_eq(parse_ok("+36600d", T0), T0 + 36600 * DAY);
}
END_TEST

START_TEST(test_udb_format_time_round_trips)
{
	char buf[32];
	int64_t t = 0;

	udb_format_time(T0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2023-11-14T22:13:20Z");
	ck_assert_int_eq(udb_parse_time(buf, 0, &t), UDB_OK);
	ck_assert_int_eq(t, T0);
	udb_format_time(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
}
END_TEST

/* --- entries the NSS module may serve -------------------------------------- */

static const struct udb_config entry_cfg = {
	.uid_min = 10000,
	.uid_max = 59999,
	.gid_min = 20000,
	.gid_max = 29999,
};

START_TEST(test_udb_passwd_entry_check_rules)
{
	char name[] = "alice", x[] = "x", y[] = "", gecos[] = "Alice Liddell",
	     home[] = "/home/alice", shell[] = "/bin/bash", nl[] = "Alice\nroot::0:0::/:/bin/sh",
	     colon[] = "a:b", rel[] = "home", upper[] = "Alice", long_gecos[600];
	struct passwd ok = {name, x, 10000, 10000, gecos, home, shell}, pw;

	ck_assert_int_eq(udb_passwd_entry_check(&ok, &entry_cfg), UDB_OK);
	pw = ok;
	pw.pw_gid = 20000; /* a role's gid */
	ck_assert_int_eq(udb_passwd_entry_check(&pw, &entry_cfg), UDB_OK);
	/* "First Last" of two full fields is longer than one field. */
	memset(long_gecos, 'a', 513);
	long_gecos[256] = ' ';
	long_gecos[513] = '\0';
	pw = ok;
	pw.pw_gecos = long_gecos;
	ck_assert_int_eq(udb_passwd_entry_check(&pw, &entry_cfg), UDB_OK);
	long_gecos[513] = 'a';
	long_gecos[514] = '\0';
	ck_assert_int_eq(udb_passwd_entry_check(&pw, &entry_cfg), UDB_CORRUPT);

	struct {
		uid_t uid;
		gid_t gid;
		char *name, *passwd, *gecos, *dir, *shell;
	} bad[] = {
		{0, 10000, name, x, gecos, home, shell},
		{10000, 0, name, x, gecos, home, shell},
		{9999, 10000, name, x, gecos, home, shell},
		{60000, 20000, name, x, gecos, home, shell},
		{10000, 60000, name, x, gecos, home, shell},
		{10000, 10000, upper, x, gecos, home, shell},
		{10000, 10000, name, y, gecos, home, shell},
		{10000, 10000, name, x, nl, home, shell},
		{10000, 10000, name, x, colon, home, shell},
		{10000, 10000, name, x, gecos, rel, shell},
		{10000, 10000, name, x, gecos, home, colon},
		{10000, 10000, name, x, gecos, home, nl},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pw = (struct passwd){bad[i].name,  bad[i].passwd, bad[i].uid,  bad[i].gid,
				     bad[i].gecos, bad[i].dir,    bad[i].shell};
		ck_assert_msg(udb_passwd_entry_check(&pw, &entry_cfg) == UDB_CORRUPT, "case %zu",
			      i);
	}
}
END_TEST

START_TEST(test_udb_group_entry_check_rules)
{
	char name[] = "Staff.ops", x[] = "x", alice[] = "alice", bad_member[] = "al\nice";
	char *members[] = {alice, NULL}, *bad_members[] = {alice, bad_member, NULL};
	struct group ok = {name, x, 20000, members}, gr;

	ck_assert_int_eq(udb_group_entry_check(&ok, &entry_cfg), UDB_OK);
	gr = ok;
	gr.gr_gid = 10000; /* a personal group: gid = uid */
	ck_assert_int_eq(udb_group_entry_check(&gr, &entry_cfg), UDB_OK);
	gr.gr_gid = 0;
	ck_assert_int_eq(udb_group_entry_check(&gr, &entry_cfg), UDB_CORRUPT);
	gr.gr_gid = 60000;
	ck_assert_int_eq(udb_group_entry_check(&gr, &entry_cfg), UDB_CORRUPT);
	gr = ok;
	gr.gr_mem = bad_members;
	ck_assert_int_eq(udb_group_entry_check(&gr, &entry_cfg), UDB_CORRUPT);
	gr = ok;
	gr.gr_name = bad_member;
	ck_assert_int_eq(udb_group_entry_check(&gr, &entry_cfg), UDB_CORRUPT);
}
END_TEST

START_TEST(test_udb_shadow_entry_check_rules)
{
	char name[] = "alice", hash[] = "$y$j9T$salt$hash", locked[] = "!$6$a$b", bang[] = "!",
	     colon[] = "$6$a$b:0:0", nl[] = "$6$a\nb", empty[] = "", bad_name[] = "root:";
	struct spwd sp = {.sp_namp = name, .sp_pwdp = hash};

	ck_assert_int_eq(udb_shadow_entry_check(&sp), UDB_OK);
	sp.sp_pwdp = locked;
	ck_assert_int_eq(udb_shadow_entry_check(&sp), UDB_OK);
	sp.sp_pwdp = bang;
	ck_assert_int_eq(udb_shadow_entry_check(&sp), UDB_OK);
	sp.sp_pwdp = colon;
	ck_assert_int_eq(udb_shadow_entry_check(&sp), UDB_CORRUPT);
	sp.sp_pwdp = nl;
	ck_assert_int_eq(udb_shadow_entry_check(&sp), UDB_CORRUPT);
	sp.sp_pwdp = empty;
	ck_assert_int_eq(udb_shadow_entry_check(&sp), UDB_CORRUPT);
	sp.sp_pwdp = hash;
	sp.sp_namp = bad_name;
	ck_assert_int_eq(udb_shadow_entry_check(&sp), UDB_CORRUPT);
}
END_TEST

static Suite *
validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc;

	tc = fx_tcase(s, "udb_valid_username", false);
	tcase_add_test(tc, test_udb_valid_username_accepts_debian_names);
	tcase_add_test(tc, test_udb_valid_username_refuses_everything_else);
	tcase_add_test(tc, test_udb_valid_username_length_limit);
	tc = fx_tcase(s, "udb_valid_host_name", false);
	tcase_add_test(tc, test_udb_valid_host_name_rules);
	tc = fx_tcase(s, "udb_valid_rolename", false);
	tcase_add_test(tc, test_udb_valid_rolename_rules);
	tc = fx_tcase(s, "udb_valid_email", false);
	tcase_add_test(tc, test_udb_valid_email_rules);
	tc = fx_tcase(s, "udb_valid_permission", false);
	tcase_add_test(tc, test_udb_valid_permission_rules);
	tc = fx_tcase(s, "udb_valid_text", false);
	tcase_add_test(tc, test_udb_valid_text_accepts_utf8);
	tcase_add_test(tc, test_udb_valid_text_refuses_bad_utf8_and_separators);
	tc = fx_tcase(s, "udb_valid_path", false);
	tcase_add_test(tc, test_udb_valid_path_rules);
	tc = fx_tcase(s, "udb_parse_id", false);
	tcase_add_test(tc, test_udb_parse_id_edges);
	tc = fx_tcase(s, "udb_parse_uint", false);
	tcase_add_test(tc, test_udb_parse_uint_respects_max);
	tc = fx_tcase(s, "udb_parse_time", false);
	tcase_add_test(tc, test_udb_parse_time_dates_and_times);
	tcase_add_test(tc, test_udb_parse_time_refuses_impossible_dates);
	tcase_add_test(tc, test_udb_parse_time_leap_days);
	tcase_add_test(tc, test_udb_parse_time_epoch_and_relative);
	tc = fx_tcase(s, "udb_format_time", false);
	tcase_add_test(tc, test_udb_format_time_round_trips);
	tc = fx_tcase(s, "udb_passwd_entry_check", false);
	tcase_add_test(tc, test_udb_passwd_entry_check_rules);
	tc = fx_tcase(s, "udb_group_entry_check", false);
	tcase_add_test(tc, test_udb_group_entry_check_rules);
	tc = fx_tcase(s, "udb_shadow_entry_check", false);
	tcase_add_test(tc, test_udb_shadow_entry_check_rules);
	return s;
}

int
main(void)
{
	return fx_main(validate_suite());
}
