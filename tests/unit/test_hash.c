/* Unit tests of common/hash.c: hashing with the configured method, verifying
 * hashes of every method libxcrypt knows, hashes that must never verify,
 * the outdated-hash rule, the check of the configured method and cost, and
 * secret wiping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "hash.h"

/* Hashes of "secret" made by libxcrypt, as imported from other systems. */
#define SHA512_1000                                                                                \
	"$6$rounds=1000$abcdefghijklmnop$/"                                                        \
	"ySzNKkDy6wawo9hTH6WxjPbiNMjvDjUNjja1ca1Iw8M6hvIP5521AJRYCq2LKFri/5fZ6KSUYfs/3ZzFVhh./"
#define SHA512_DEFAULT                                                                             \
	"$6$abcdefghijklmnop$J/"                                                                   \
	"AWykHqo2Tx5UtavGnFc3ytI33la50JpzLTarSWVhkIXK6wOjNwwZjsrIw2UgmrER2EKrSHCeQyAINEEXAk1/"
#define YESCRYPT "$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe."
#define BCRYPT   "$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a"
#define MD5      "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1"
#define DES      "abNANd1rDfiNc"

/* The configuration with no hash settings: libxcrypt's defaults. */
static struct udb_config *
default_config(void)
{
	struct udb_config *c = NULL;
	unsigned line = 0;

	fx_write_file(fx_file("default.conf"), "", 0644);
	ck_assert_int_eq(udb_config_load(fx_file("default.conf"), &c, &line), UDB_OK);
	return c;
}

static struct udb_config *
config_with(const char *text)
{
	struct udb_config *c = NULL;
	unsigned line = 0;

	fx_write_file(fx_file("custom.conf"), text, 0644);
	ck_assert_int_eq(udb_config_load(fx_file("custom.conf"), &c, &line), UDB_OK);
	return c;
}

static char *
long_password(size_t n)
{
	char *p = malloc(n + 1);

	ck_assert_ptr_nonnull(p);
	memset(p, 'p', n);
	p[n] = '\0';
	return p;
}

/* --- udb_hash_check_stored --- */

START_TEST(test_udb_hash_check_stored_known_methods)
{
	const char *good[] = {SHA512_1000, SHA512_DEFAULT, YESCRYPT, BCRYPT, MD5};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(udb_hash_check_stored(good[i]) == UDB_OK, "refused %s", good[i]);
}
END_TEST

START_TEST(test_udb_hash_check_stored_refuses_what_cannot_be_a_shadow_hash)
{
	const char *bad[] = {"",          "*",           "!",           "!" YESCRYPT,
			     DES,         "_J9..rasm",   "$6$",         "$6$salt$",
			     "$6$a:b$cd", "$6$salt$a b", YESCRYPT "\n", "$nosuch$salt$abcd",
			     "plain"};
	char *huge = malloc(600);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(udb_hash_check_stored(bad[i]) == UDB_INVALID, "took '%s'", bad[i]);
	ck_assert_int_eq(udb_hash_check_stored(NULL), UDB_INVALID);
	ck_assert_ptr_nonnull(huge);
	memset(huge, 'a', 599);
	memcpy(huge, "$6$salt$", 8);
	huge[599] = '\0';
	ck_assert_int_eq(udb_hash_check_stored(huge), UDB_INVALID);
	free(huge);
}
END_TEST

/* --- udb_hash_password --- */

START_TEST(test_udb_hash_password_default_is_yescrypt)
{
	struct udb_config *c = default_config();
	char *hash = NULL;

	ck_assert_int_eq(udb_hash_password(c, "correct horse", &hash), UDB_OK);
	ck_assert_msg(strncmp(hash, "$y$", 3) == 0, "default hash %s is not yescrypt", hash);
	ck_assert_int_eq(udb_hash_verify(c, "correct horse", hash), UDB_OK);
	ck_assert_int_eq(udb_hash_verify(c, "correct horsE", hash), UDB_AUTH_FAILED);
	ck_assert(!udb_hash_is_outdated(c, hash));
	udb_secret_free(hash);
	udb_config_free(c);
}
END_TEST

START_TEST(test_udb_hash_password_configured_sha512)
{
	char *a = NULL, *b = NULL;

	ck_assert_int_eq(udb_hash_password(fx.cfg, "s3cret!", &a), UDB_OK);
	ck_assert_msg(strncmp(a, "$6$rounds=1000$", 15) == 0, "hash %s", a);
	ck_assert_int_eq(udb_hash_verify(fx.cfg, "s3cret!", a), UDB_OK);
	/* A fresh salt every time. */
	ck_assert_int_eq(udb_hash_password(fx.cfg, "s3cret!", &b), UDB_OK);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(udb_hash_verify(fx.cfg, "s3cret!", b), UDB_OK);
	udb_secret_free(a);
	udb_secret_free(b);
}
END_TEST

START_TEST(test_udb_hash_password_length_limit)
{
	char *max = long_password(UDB_PASSWORD_MAX), *over = long_password(UDB_PASSWORD_MAX + 1);
	char *hash = NULL;

	ck_assert_int_eq(udb_hash_password(fx.cfg, over, &hash), UDB_INVALID);
	free(over);
	over = long_password(513);
	ck_assert_int_eq(udb_hash_password(fx.cfg, over, &hash), UDB_INVALID);
	ck_assert_ptr_null(hash);
	ck_assert_int_eq(udb_hash_password(fx.cfg, NULL, &hash), UDB_INVALID);
	ck_assert_int_eq(udb_hash_password(fx.cfg, max, &hash), UDB_OK);
	ck_assert_int_eq(udb_hash_verify(fx.cfg, max, hash), UDB_OK);
	/* An over-long password never verifies, even against the hash of its
	 * first bytes. */
	ck_assert_int_eq(udb_hash_verify(fx.cfg, over, hash), UDB_AUTH_FAILED);
	udb_secret_free(hash);
	free(max);
	free(over);
}
END_TEST

/* bcrypt ignores every byte past the 72nd: a longer password is refused
 * rather than cut, and only with bcrypt. */
START_TEST(test_udb_hash_password_bcrypt_limit)
{
	struct udb_config *bcrypt = config_with("hash_method = bcrypt\nhash_cost = 4\n");
	char *max = long_password(72), *over = long_password(73);
	char *hash = NULL;

	ck_assert_uint_eq(udb_hash_password_max(bcrypt), 72);
	ck_assert_uint_eq(udb_hash_password_max(fx.cfg), UDB_PASSWORD_MAX);
	ck_assert_int_eq(udb_hash_password(bcrypt, over, &hash), UDB_INVALID);
	ck_assert_ptr_null(hash);
	ck_assert_int_eq(udb_hash_password(bcrypt, max, &hash), UDB_OK);
	ck_assert_msg(strncmp(hash, "$2b$04$", 7) == 0, "hash %s is not bcrypt", hash);
	ck_assert_int_eq(udb_hash_verify(bcrypt, max, hash), UDB_OK);
	udb_secret_free(hash);
	hash = NULL;
	ck_assert_int_eq(udb_hash_password(fx.cfg, over, &hash), UDB_OK);
	ck_assert_int_eq(udb_hash_verify(fx.cfg, over, hash), UDB_OK);
	ck_assert_int_eq(udb_hash_verify(fx.cfg, max, hash), UDB_AUTH_FAILED);
	udb_secret_free(hash);
	udb_config_free(bcrypt);
	free(max);
	free(over);
}
END_TEST

START_TEST(test_udb_hash_password_empty_and_unicode)
{
	char *hash = NULL;

	ck_assert_int_eq(udb_hash_password(fx.cfg, "p\xc3\xa4ssw\xc3\xb6rd", &hash), UDB_OK);
	ck_assert_int_eq(udb_hash_verify(fx.cfg, "p\xc3\xa4ssw\xc3\xb6rd", hash), UDB_OK);
	ck_assert_int_eq(udb_hash_verify(fx.cfg, "passwörd", hash), UDB_AUTH_FAILED);
	ck_assert_int_eq(udb_hash_verify(fx.cfg, "", hash), UDB_AUTH_FAILED);
	udb_secret_free(hash);
}
END_TEST

/* --- udb_hash_verify --- */

START_TEST(test_udb_hash_verify_every_method)
{
	static const char *const hashes[] = {SHA512_1000, SHA512_DEFAULT, YESCRYPT, BCRYPT, MD5,
					     DES};

	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		ck_assert_msg(udb_hash_verify(fx.cfg, "secret", hashes[i]) == UDB_OK,
			      "%s does not verify", hashes[i]);
		ck_assert_msg(udb_hash_verify(fx.cfg, "Secret", hashes[i]) == UDB_AUTH_FAILED,
			      "%s verifies a wrong password", hashes[i]);
	}
}
END_TEST

START_TEST(test_udb_hash_verify_unusable_hashes_never_verify)
{
	static const char *const hashes[] = {
		"",
		"*",
		"*LK*",
		"!",
		"!!",
		"!" SHA512_1000, /* locked with usermod -L: the right password still fails */
		"*" SHA512_1000,
		"x",
		"garbage",
		"$6$",
		"$6$rounds=1000$abcdefghijklmnop$",
		"$6$rounds=1000$abcdefghijklmnop",
		"$y$j9T$abcdefghijklmnop$",
		"$99$abc$def",
		"$6$rounds=1000$abcdefghijklmnop$/"
		"ySzNKkDy6wawo9hTH6WxjPbiNMjvDjUNjja1ca1Iw8M6hvIP5521",
		SHA512_1000 "x",
	};

	ck_assert_int_eq(udb_hash_verify(fx.cfg, "secret", NULL), UDB_AUTH_FAILED);
	ck_assert_int_eq(udb_hash_verify(fx.cfg, NULL, SHA512_1000), UDB_AUTH_FAILED);
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		ck_assert_msg(udb_hash_verify(fx.cfg, "secret", hashes[i]) == UDB_AUTH_FAILED,
			      "\"%s\" verified", hashes[i]);
		ck_assert_msg(udb_hash_verify(fx.cfg, "", hashes[i]) == UDB_AUTH_FAILED,
			      "\"%s\" verified the empty password", hashes[i]);
		ck_assert_msg(udb_hash_verify(fx.cfg, hashes[i], hashes[i]) == UDB_AUTH_FAILED,
			      "\"%s\" verified itself", hashes[i]);
	}
}
END_TEST

/* --- udb_hash_is_outdated --- */

START_TEST(test_udb_hash_is_outdated_method_change)
{
	struct udb_config *yes = default_config();

	/* Configured sha512 (cost 1000): a yescrypt hash is outdated... */
	ck_assert(udb_hash_is_outdated(fx.cfg, YESCRYPT));
	ck_assert(!udb_hash_is_outdated(fx.cfg, SHA512_1000));
	/* ...and with the default (yescrypt) a sha512 one is. */
	ck_assert(udb_hash_is_outdated(yes, SHA512_1000));
	ck_assert(udb_hash_is_outdated(yes, SHA512_DEFAULT));
	ck_assert(udb_hash_is_outdated(yes, BCRYPT));
	ck_assert(!udb_hash_is_outdated(yes, YESCRYPT));
	udb_config_free(yes);
}
END_TEST

START_TEST(test_udb_hash_is_outdated_cost_change)
{
	struct udb_config *sha_default = config_with("hash_method = sha512\n");
	struct udb_config *sha_5000 = config_with("hash_method = sha512\nhash_cost = 5000\n");
	struct udb_config *bcrypt_10 = config_with("hash_method = bcrypt\nhash_cost = 10\n");

	/* fx.cfg asks for 1000 rounds: a hash with the default 5000 is not it. */
	ck_assert(udb_hash_is_outdated(fx.cfg, SHA512_DEFAULT));
	/* With the default cost, a cheaper hash must be upgraded too. */
	ck_assert(udb_hash_is_outdated(sha_default, SHA512_1000));
	ck_assert(!udb_hash_is_outdated(sha_default, SHA512_DEFAULT));
	ck_assert(udb_hash_is_outdated(sha_5000, SHA512_1000));
	ck_assert(udb_hash_is_outdated(bcrypt_10, BCRYPT));
	udb_config_free(sha_default);
	udb_config_free(sha_5000);
	udb_config_free(bcrypt_10);
}
END_TEST

START_TEST(test_udb_hash_is_outdated_legacy_and_unusable)
{
	struct udb_config *md5_world = default_config();

	/* md5crypt and DES still verify (above) but must be replaced. */
	ck_assert(udb_hash_is_outdated(fx.cfg, MD5));
	ck_assert(udb_hash_is_outdated(md5_world, MD5));
	ck_assert(udb_hash_is_outdated(fx.cfg, DES));
	ck_assert(udb_hash_is_outdated(fx.cfg, NULL));
	ck_assert(udb_hash_is_outdated(fx.cfg, ""));
	ck_assert(udb_hash_is_outdated(fx.cfg, "!" SHA512_1000));
	udb_config_free(md5_world);
}
END_TEST

/* --- udb_hash_burn and udb_secret_free --- */

START_TEST(test_udb_hash_burn_any_input)
{
	char *huge = long_password(1 << 20);

	udb_hash_burn(fx.cfg, "secret");
	udb_hash_burn(fx.cfg, NULL);
	udb_hash_burn(fx.cfg, huge);
	free(huge);
	/* A huge password against a real hash fails like a wrong one. */
	huge = long_password(1 << 20);
	ck_assert_int_eq(udb_hash_verify(fx.cfg, huge, SHA512_1000), UDB_AUTH_FAILED);
	free(huge);
}
END_TEST

/* --- udb_config_check_hash --- */

START_TEST(test_udb_config_check_hash_cost_the_method_cannot_take)
{
	static const char *const bad[] = {
		"hash_method = yescrypt\nhash_cost = 1000\n",
		"hash_method = bcrypt\nhash_cost = 99\n",
		"hash_method = bcrypt\nhash_cost = 3\n",
		/* The default method is yescrypt, whose cost stops at 11. */
		"hash_cost = 5000\n",
	};
	static const char *const good[] = {
		"",
		"hash_method = bcrypt\nhash_cost = 12\n",
		"hash_method = sha512\nhash_cost = 5000\n",
		"hash_method = yescrypt\nhash_cost = 5\n",
	};

	/* Otherwise every password change, and the dummy hash that gives
	 * unknown users the cost of a wrong password, would fail at login. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct udb_config *c = config_with(bad[i]);
		char *hash = NULL;

		ck_assert_msg(udb_config_check_hash(c) == UDB_INVALID, "accepted: %s", bad[i]);
		ck_assert_int_eq(udb_hash_password(c, "secret", &hash), UDB_INVALID);
		udb_config_free(c);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct udb_config *c = config_with(good[i]);

		ck_assert_msg(udb_config_check_hash(c) == UDB_OK, "refused: %s", good[i]);
		udb_config_free(c);
	}
	/* No configuration at all means libxcrypt's defaults. */
	ck_assert_int_eq(udb_config_check_hash(NULL), UDB_OK);
}
END_TEST

START_TEST(test_udb_secret_free_null_and_secret)
{
	char *s = strdup("hunter2");

	ck_assert_ptr_nonnull(s);
	udb_secret_free(s);
	udb_secret_free(NULL);
}
END_TEST

static Suite *
hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc;

	tc = fx_tcase(s, "udb_hash_check_stored", false);
	tcase_add_test(tc, test_udb_hash_check_stored_known_methods);
	tcase_add_test(tc, test_udb_hash_check_stored_refuses_what_cannot_be_a_shadow_hash);
	tc = fx_tcase(s, "udb_hash_password", false);
	tcase_add_test(tc, test_udb_hash_password_default_is_yescrypt);
	tcase_add_test(tc, test_udb_hash_password_configured_sha512);
	tcase_add_test(tc, test_udb_hash_password_length_limit);
	tcase_add_test(tc, test_udb_hash_password_bcrypt_limit);
	tcase_add_test(tc, test_udb_hash_password_empty_and_unicode);
	tc = fx_tcase(s, "udb_hash_verify", false);
	tcase_add_test(tc, test_udb_hash_verify_every_method);
	tcase_add_test(tc, test_udb_hash_verify_unusable_hashes_never_verify);
	tc = fx_tcase(s, "udb_hash_is_outdated", false);
	tcase_add_test(tc, test_udb_hash_is_outdated_method_change);
	tcase_add_test(tc, test_udb_hash_is_outdated_cost_change);
	tcase_add_test(tc, test_udb_hash_is_outdated_legacy_and_unusable);
	tc = fx_tcase(s, "udb_hash_burn", false);
	tcase_add_test(tc, test_udb_hash_burn_any_input);
	tc = fx_tcase(s, "udb_config_check_hash", false);
	tcase_add_test(tc, test_udb_config_check_hash_cost_the_method_cannot_take);
	tc = fx_tcase(s, "udb_secret_free", false);
	tcase_add_test(tc, test_udb_secret_free_null_and_secret);
	return s;
}

int
main(void)
{
	return fx_main(hash_suite());
}
