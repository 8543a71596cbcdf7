/* Fuzz target: the validators of common/validate.c (user and role names,
 * emails, permissions, GECOS text, paths), each checked against a
 * reference written independently here (POSIX regular expressions for the
 * patterns, a table-driven UTF-8 decoder for text). The first byte picks
 * the validator, the rest is the string (cut at a NUL, as C would). */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validate.h"

static regex_t re_username, re_rolename, re_permission;

static void
compile(regex_t *re, const char *pattern)
{
	fuzz_check(regcomp(re, pattern, REG_EXTENDED | REG_NOSUB) == 0, "regcomp %s", pattern);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The C locale: bracket ranges are ASCII ranges. */
	compile(&re_username, "^[a-z_][a-z0-9_-]*[$]?$");
	compile(&re_rolename, "^[A-Za-z_][A-Za-z0-9_.-]*$");
	compile(&re_permission, "^[A-Za-z0-9_.:*-]+$");
	return 0;
}

static bool
matches(const regex_t *re, const char *s)
{
	return regexec(re, s, 0, NULL, 0) == 0;
}

static bool
ref_username(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && matches(&re_username, s);
}

static bool
ref_rolename(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && matches(&re_rolename, s);
}

static bool
ref_permission(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 128 && matches(&re_permission, s);
}

static bool
ref_email(const char *s)
{
	size_t n = strlen(s), ats = 0;
	const char *at = strchr(s, '@');

	if (n < 3 || n > 254 || !at || at == s || at == s + n - 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
		ats += s[i] == '@';
	}
	return ats == 1;
}

/* Decodes one code point per the Unicode standard's table of well-formed
 * UTF-8 byte sequences (Table 3-7); -1 when s does not start with one. */
static long
decode_utf8(const unsigned char *s, size_t *ret_len)
{
	static const struct {
		unsigned char lo0, hi0, lo1, hi1;
		size_t len;
	} rows[] = {
		{0xc2, 0xdf, 0x80, 0xbf, 2}, {0xe0, 0xe0, 0xa0, 0xbf, 3},
		{0xe1, 0xec, 0x80, 0xbf, 3}, {0xed, 0xed, 0x80, 0x9f, 3},
		{0xee, 0xef, 0x80, 0xbf, 3}, {0xf0, 0xf0, 0x90, 0xbf, 4},
		{0xf1, 0xf3, 0x80, 0xbf, 4}, {0xf4, 0xf4, 0x80, 0x8f, 4},
	};

	if (s[0] < 0x80) {
		*ret_len = 1;
		return s[0];
	}
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		long cp;

		if (s[0] < rows[r].lo0 || s[0] > rows[r].hi0)
			continue;
		if (s[1] < rows[r].lo1 || s[1] > rows[r].hi1)
			return -1;
		for (size_t i = 2; i < rows[r].len; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return -1;
		cp = s[0] & (0xff >> (rows[r].len + 1));
		for (size_t i = 1; i < rows[r].len; i++)
			cp = cp << 6 | (s[i] & 0x3f);
		*ret_len = rows[r].len;
		return cp;
	}
	return -1;
}

static bool
ref_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (strlen(s) > 256)
		return false;
	while (*p) {
		size_t len = 0;
		long cp = decode_utf8(p, &len);

		if (cp < 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == ':' || cp == ',')
			return false;
		p += len;
	}
	return true;
}

static bool
ref_path(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 4096 || s[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ':')
			return false;
	return true;
}

static const struct {
	const char *name;
	bool (*real)(const char *);
	bool (*ref)(const char *);
} checks[] = {
	{"username", udb_valid_username, ref_username},
	{"rolename", udb_valid_rolename, ref_rolename},
	{"email", udb_valid_email, ref_email},
	{"permission", udb_valid_permission, ref_permission},
	{"text", udb_valid_text, ref_text},
	{"path", udb_valid_path, ref_path},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	size_t n = sizeof(checks) / sizeof(checks[0]);
	size_t which = fuzz_byte(&in) % n;
	char *s = fuzz_rest(&in);
	bool real = checks[which].real(s), ref = checks[which].ref(s);

	fuzz_check(real == ref, "udb_valid_%s(\"%s\") = %d, reference %d", checks[which].name, s,
		   real, ref);
	/* Facts the rest of userdb relies on. A valid user or role name is a
	 * safe file and group name; valid text never breaks a passwd line. */
	if (which <= 1 && real)
		fuzz_check(!strpbrk(s, ":,/\n") && s[0] != '-' && s[0] != '+', "unsafe name %s", s);
	if (which == 4 && real)
		fuzz_check(!strpbrk(s, ":\n"), "unsafe text");
	fuzz_check(!checks[which].real(NULL), "NULL accepted");
	free(s);
	return 0;
}
