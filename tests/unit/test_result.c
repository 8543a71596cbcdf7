/* Unit tests of common/result.c: every result code has its own message,
 * since the CLI prints it and the PAM module logs it. */
#include <string.h>

#include "fixture.h"
#include "result.h"

START_TEST(test_udb_result_to_string_distinct)
{
	const char *seen[UDB_INTERNAL + 1];

	ck_assert_int_eq(UDB_OK, 0);
	for (int r = UDB_OK; r <= UDB_INTERNAL; r++) {
		seen[r] = udb_result_to_string((enum udb_result)r);
		ck_assert_ptr_nonnull(seen[r]);
		ck_assert_msg(strlen(seen[r]) > 0, "result %d has an empty message", r);
		ck_assert_str_ne(seen[r], "unknown error");
		for (int s = 0; s < r; s++)
			ck_assert_msg(strcmp(seen[r], seen[s]) != 0,
				      "results %d and %d share the message \"%s\"", s, r, seen[r]);
	}
}
END_TEST

START_TEST(test_udb_result_to_string_out_of_range)
{
	ck_assert_str_eq(udb_result_to_string((enum udb_result)(UDB_INTERNAL + 1)),
			 "unknown error");
	ck_assert_str_eq(udb_result_to_string((enum udb_result) - 1), "unknown error");
}
END_TEST

static Suite *
result_suite(void)
{
	Suite *s = suite_create("result");
	TCase *tc;

	tc = fx_tcase(s, "udb_result_to_string", false);
	tcase_add_test(tc, test_udb_result_to_string_distinct);
	tcase_add_test(tc, test_udb_result_to_string_out_of_range);
	return s;
}

int
main(void)
{
	return fx_main(result_suite());
}
