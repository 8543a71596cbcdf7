/* Unit tests of common/sshkey.c: which authorized_keys lines are keys,
 * split how, with which fingerprint. The good keys were made by ssh-keygen
 * (the sk- ones by hand from the wire format, ssh-keygen -l agreeing) and
 * their fingerprints are what `ssh-keygen -l` printed for them. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "sshkey.h"

static const struct good {
	const char *type, *blob, *comment, *fingerprint;
} good[] = {
	{"ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIECEhw8+5cbJkcCy4JsFQaXbdPFbll/UvVUL11qJ42Pb",
	 "c-ed25519", "SHA256:/TA9k/pxdB9iMIUIgjEGF0vjUOMSismsKWajim0keWc"},
	{"ssh-rsa",
	 "AAAAB3NzaC1yc2EAAAADAQABAAAAgQCrge2WyeirDNoyKwU0c5z2c5tf86UuKzpfueAb9esFKhrRQwDWT1L6scUnv"
	 "EI3BBQscmq/YVxuMdroV3GkHKmnzuKJ6roHzLFg0iDXjcDzolwhY/7WSY4uCQOXmi4JnYMDmLWMjO8cM3Ve9bykwo"
	 "MIOn9bh4wZ0uLQl8/B8V41hQ==",
	 "c-rsab1024", "SHA256:2KTRPh7UOVZqHMVXYIdc5HW8eVqhe1ss0JqbdlpIzgA"},
	{"ecdsa-sha2-nistp256",
	 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCrHr310VBZ2B0WnSGWM63OInftQEzyGmjyBS"
	 "lN5H72MhrioUCtp5RLAJUG70JasT6NeTV/6v142RiT4Skx4SNk=",
	 "c-ecdsab256", "SHA256:IPyR06m94w/t9cOymvEHBl0WmkNbG4PCJ/zbgLmxCqU"},
	{"ecdsa-sha2-nistp384",
	 "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBJ0A/Vqg/RaqQsR9HydZc/hjHEX9SU9VOylhe"
	 "RVb/JagYwHrPAmlBGfcDnkpwZOObGCSDecp+k0jMeqAOiP/nmzUv7h6eZGjn0ZR27/gtNVm69D7LQZoPgH0NlQ6lA"
	 "y4rQ==",
	 "c-ecdsab384", "SHA256:IuC7JRgvSSsw9DWKFDs5QvzxjvFdjb2STK8XyzJWLHs"},
	{"ecdsa-sha2-nistp521",
	 "AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAGJhtkjycdMb1mD/yvbzURzMUyw45s8r4u45"
	 "wUfdxfvD1XFGLMgCLx9WYQuJXKxW1HhPAijZJYQmWrF4INs8eVYdgCzCOQ3xzkU8PISDZpxRT/MnfOtNomQUzbSJn"
	 "xHCl2sHxMyzQa/FhxS1ueXw7Hs870zF8xfQAQEM2LSsBcj+sIVEw==",
	 "c-ecdsab521", "SHA256:GpAY5FKpdLH5rqIUfIYkxvP/6pwKtJs9bzYCFokG8Wc"},
	{"sk-ssh-ed25519@openssh.com",
	 "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fA"
	 "AAABHNzaDo=",
	 "sk1", "SHA256:/p0CbeE3dk2SyW1OXXsThGc12ezDVD8eGw2/vtztDfk"},
	{"sk-ecdsa-sha2-nistp256@openssh.com",
	 "AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBCrHr310VBZ2B0WnS"
	 "GWM63OInftQEzyGmjyBSlN5H72MhrioUCtp5RLAJUG70JasT6NeTV/6v142RiT4Skx4SNkAAAAEc3NoOg==",
	 "sk2", "SHA256:gL9EVJz3Bi/Blr5J39JGDLJGi4oSPDtAJ9UDhWlY6iQ"},
};

#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIECEhw8+5cbJkcCy4JsFQaXbdPFbll/UvVUL11qJ42Pb"

START_TEST(test_udb_sshkey_parse_good_types)
{
	const struct good *g = &good[_i];
	struct udb_sshkey k = {0};
	const char *why = NULL;
	char line[4096];

	snprintf(line, sizeof(line), "%s %s %s\n", g->type, g->blob, g->comment);
	ck_assert_int_eq(udb_sshkey_parse(line, &k, &why), UDB_OK);
	ck_assert_ptr_null(why);
	ck_assert_str_eq(k.type, g->type);
	ck_assert_str_eq(k.blob, g->blob);
	ck_assert_str_eq(k.comment, g->comment);
	ck_assert_str_eq(k.options, "");
	ck_assert_str_eq(k.fingerprint, g->fingerprint);
	udb_sshkey_clear(&k);
}
END_TEST

/* Lines sshd takes, and how they split. */
static const struct split {
	const char *line, *options, *comment;
} splits[] = {
	{ED25519, "", ""},
	{"  " ED25519 "  spaced  comment \t", "", "spaced  comment"},
	{"no-pty " ED25519 " x", "no-pty", "x"},
	{"NO-PTY,No-Agent-Forwarding " ED25519, "NO-PTY,No-Agent-Forwarding", ""},
	{"restrict,pty,command=\"echo a, b \\\"c\\\"\" " ED25519 " c",
	 "restrict,pty,command=\"echo a, b \\\"c\\\"\"", "c"},
	{"from=\"10.0.0.0/8,!10.1.2.3\",expiry-time=\"20301231\" " ED25519,
	 "from=\"10.0.0.0/8,!10.1.2.3\",expiry-time=\"20301231\"", ""},
	{"environment=\"LANG=C\",tunnel=\"0\",permitopen=\"localhost:80\",permitlisten=\"8080\","
	 "principals=\"a,b\",no-touch-required,verify-required,cert-authority,no-user-rc,"
	 "x11-forwarding,no-port-forwarding " ED25519 " all",
	 "environment=\"LANG=C\",tunnel=\"0\",permitopen=\"localhost:80\",permitlisten=\"8080\","
	 "principals=\"a,b\",no-touch-required,verify-required,cert-authority,no-user-rc,"
	 "x11-forwarding,no-port-forwarding",
	 "all"},
	{ED25519 " comment\r\n", "", "comment"},
};

START_TEST(test_udb_sshkey_parse_splits_options_and_comment)
{
	const struct split *t = &splits[_i];
	struct udb_sshkey k = {0};
	const char *why = NULL;

	ck_assert_msg(udb_sshkey_parse(t->line, &k, &why) == UDB_OK, "%s: %s", t->line,
		      why ? why : "?");
	ck_assert_str_eq(k.options, t->options);
	ck_assert_str_eq(k.comment, t->comment);
	ck_assert_str_eq(k.type, "ssh-ed25519");
	ck_assert_str_eq(k.fingerprint, good[0].fingerprint);
	udb_sshkey_clear(&k);
}
END_TEST

/* Lines that are refused, each with a word of the reason given. */
static const struct bad {
	const char *line, *why;
} bads[] = {
	{"", "no key"},
	{"   ", "no key"},
	{"# a comment", "no key"},
	{"ssh-dss AAAAB3NzaC1kc3MAAACBAP1 x", "unknown key type"},
	{"ssh-ed25519", "missing"},
	{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIECEhw8+5cbJkcCy4JsFQaXbdPFbll/UvVUL11qJ42P",
	 "base64"},
	{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIECEhw8+5cbJkc!y4JsFQaXbdPFbll/UvVUL11qJ42Pb",
	 "base64"},
	{"ssh-ed25519 AAAA=C3NzaC1lZDI1NTE5AAAAIECEhw8+5cbJkcCy4JsFQaXbdPFbll/UvVUL11qJ42Pb",
	 "base64"},
	/* An RSA blob stated as ed25519 and the other way round. */
	{"ssh-ed25519 "
	 "AAAAB3NzaC1yc2EAAAADAQABAAAAgQCrge2WyeirDNoyKwU0c5z2c5tf86UuKzpfueAb9esFKhrRQwD"
	 "WT1L6scUnvEI3BBQscmq/YVxuMdroV3GkHKmnzuKJ6roHzLFg0iDXjcDzolwhY/7WSY4uCQOXmi4JnYMDmLWMjO8"
	 "cM3Ve9bykwoMIOn9bh4wZ0uLQl8/B8V41hQ==",
	 "another key type"},
	{"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIECEhw8+5cbJkcCy4JsFQaXbdPFbll/UvVUL11qJ42Pb",
	 "another key type"},
	{"ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCrHr310VBZ2B0WnS"
	 "GWM63OInftQEzyGmjyBSlN5H72MhrioUCtp5RLAJUG70JasT6NeTV/6v142RiT4Skx4SNk=",
	 "another key type"},
	/* A 31-byte ed25519 key, and one with a byte left over. */
	{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAHwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	 "damaged"},
	{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
	 "damaged"},
	/* A 768-bit RSA key: sshd refuses RSA below 1024 bits. */
	{"ssh-rsa "
	 "AAAAB3NzaC1yc2EAAAADAQABAAAAYQDFRCCCPP3m8cJrMPkOx90B5Ih1NKIPCw0Ew27YDnHg/XewdnDrlAv"
	 "VM1+XParYYZuR/8kR9XzO1Fi7vyzgN1PJvfoP8BadyVdWdAZmds+wtOuJAsRCadoc9rpm0/i21LE=",
	 "damaged"},
	{"no-such-option " ED25519, "unknown option"},
	{"command " ED25519, "needs a value"},
	{"no-pty=\"x\" " ED25519, "unknown option"},
	{"command=echo " ED25519, "double quotes"},
	{"command=\"echo " ED25519, "unknown key type"},
	{"no-pty,,pty " ED25519, "unknown option"},
	{"no-pty, " ED25519, "separated by commas"},
	{"no-pty, pty " ED25519, "unknown key type"},
	{"expiry-time=\"2030\" " ED25519, "expiry-time"},
	{"tunnel=\"x\" " ED25519, "tunnel"},
	{"environment=\"NOEQUALS\" " ED25519, "environment"},
	{"command=\"a\"b " ED25519, "separated by commas"},
	{ED25519 " two\nlines", "control character"},
	{ED25519 " bell\a", "control character"},
	{"command=\"a\nb\" " ED25519, "control character"},
};

START_TEST(test_udb_sshkey_parse_refuses_bad_lines)
{
	const struct bad *t = &bads[_i];
	struct udb_sshkey k = {0};
	const char *why = NULL;

	ck_assert_msg(udb_sshkey_parse(t->line, &k, &why) == UDB_INVALID, "took %s", t->line);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, t->why) != NULL, "%s: reason '%s', wanted '%s'", t->line, why,
		      t->why);
	ck_assert_ptr_null(k.buf_);
}
END_TEST

START_TEST(test_udb_sshkey_parse_too_long)
{
	static char line[UDB_SSHKEY_LINE_MAX + 64];
	struct udb_sshkey k = {0};
	const char *why = NULL;
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "%s ", ED25519);
	memset(line + n, 'c', sizeof(line) - n - 1);
	ck_assert_int_eq(udb_sshkey_parse(line, &k, &why), UDB_INVALID);
	ck_assert_ptr_nonnull(strstr(why, "too long"));
}
END_TEST

START_TEST(test_udb_sshkey_valid_comment_rules)
{
	static char long_comment[UDB_SSHKEY_COMMENT_MAX + 2];

	ck_assert(udb_sshkey_valid_comment(""));
	ck_assert(udb_sshkey_valid_comment("alice@laptop (2024) \xc3\xa9t\xc3\xa9"));
	ck_assert(!udb_sshkey_valid_comment("tab\there"));
	ck_assert(!udb_sshkey_valid_comment("del\x7f"));
	memset(long_comment, 'x', sizeof(long_comment) - 1);
	ck_assert(!udb_sshkey_valid_comment(long_comment));
	long_comment[UDB_SSHKEY_COMMENT_MAX] = '\0';
	ck_assert(udb_sshkey_valid_comment(long_comment));
}
END_TEST

START_TEST(test_udb_sshkey_line_is_blank_cases)
{
	ck_assert(udb_sshkey_line_is_blank(""));
	ck_assert(udb_sshkey_line_is_blank(" \t\n"));
	ck_assert(udb_sshkey_line_is_blank("  # ssh-ed25519 AAAA"));
	ck_assert(!udb_sshkey_line_is_blank(ED25519));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sshkey");
	TCase *tc;

	tc = fx_tcase(s, "udb_sshkey_parse", false);
	tcase_add_loop_test(tc, test_udb_sshkey_parse_good_types, 0,
			    (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, test_udb_sshkey_parse_splits_options_and_comment, 0,
			    (int)(sizeof(splits) / sizeof(splits[0])));
	tcase_add_loop_test(tc, test_udb_sshkey_parse_refuses_bad_lines, 0,
			    (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, test_udb_sshkey_parse_too_long);
	tc = fx_tcase(s, "udb_sshkey_valid_comment", false);
	tcase_add_test(tc, test_udb_sshkey_valid_comment_rules);
	tc = fx_tcase(s, "udb_sshkey_line_is_blank", false);
	tcase_add_test(tc, test_udb_sshkey_line_is_blank_cases);
	return fx_main(s);
}
