/* Validation of names, emails, permissions, free text, paths, numbers and
 * times. Pure functions with no I/O, called by every part of userdb; they are
 * also what the fuzz targets exercise first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "validate.h"

/* Byte classes of the name, text and path rules, one table lookup a byte:
 * the NSS module checks every entry it hands out (getpwent runs these over
 * every user), so the scans below cost a load and a test per byte. A NUL
 * is in no class, so a scan stops at the end of its string. */
enum {
	C_NAME_FIRST = 1, /* [a-z_] */
	C_NAME = 2,       /* [a-z0-9_-] */
	C_ROLE_FIRST = 4, /* [A-Za-z_] */
	C_ROLE = 8,       /* [A-Za-z0-9_.-] */
	C_TEXT = 16,      /* printable ASCII but ':' and ',' (bytes >= 0x80: UTF-8) */
	C_PATH = 32,      /* any byte but a control character, DEL or ':' */
};

#define IS_LOWER(c) ((c) >= 'a' && (c) <= 'z')
#define IS_UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define CLASS(c)                                                                                   \
	((IS_LOWER(c) || (c) == '_' ? C_NAME_FIRST : 0) |                                          \
	 (IS_LOWER(c) || IS_DIGIT(c) || (c) == '_' || (c) == '-' ? C_NAME : 0) |                   \
	 (IS_LOWER(c) || IS_UPPER(c) || (c) == '_' ? C_ROLE_FIRST : 0) |                           \
	 (IS_LOWER(c) || IS_UPPER(c) || IS_DIGIT(c) || (c) == '_' || (c) == '.' || (c) == '-'      \
		  ? C_ROLE                                                                         \
		  : 0) |                                                                           \
	 ((c) >= 0x20 && (c) < 0x7f && (c) != ':' && (c) != ',' ? C_TEXT : 0) |                    \
	 ((c) >= 0x20 && (c) != 0x7f && (c) != ':' ? C_PATH : 0))
#define CLASS4(c)  CLASS(c), CLASS((c) + 1), CLASS((c) + 2), CLASS((c) + 3)
#define CLASS16(c) CLASS4(c), CLASS4((c) + 4), CLASS4((c) + 8), CLASS4((c) + 12)

static const unsigned char byte_class[256] = {
	CLASS16(0x00), CLASS16(0x10), CLASS16(0x20), CLASS16(0x30), CLASS16(0x40), CLASS16(0x50),
	CLASS16(0x60), CLASS16(0x70), CLASS16(0x80), CLASS16(0x90), CLASS16(0xa0), CLASS16(0xb0),
	CLASS16(0xc0), CLASS16(0xd0), CLASS16(0xe0), CLASS16(0xf0),
};

/* The first byte at or after s that is not of class c: at the latest, the
 * string's NUL. */
static const unsigned char *
skip_class(const unsigned char *s, unsigned char c)
{
	while (byte_class[*s] & c)
		s++;
	return s;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool
udb_valid_username(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end;

	if (!s || !(byte_class[p[0]] & C_NAME_FIRST))
		return false;
	end = skip_class(p + 1, C_NAME);
	if (*end == '$')
		end++;
	return *end == '\0' && end - p <= UDB_NAME_MAX;
}

bool
udb_valid_host_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > UDB_HOST_NAME_MAX ||
	    !strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

bool
udb_valid_rolename(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end;

	if (!s || !(byte_class[p[0]] & C_ROLE_FIRST))
		return false;
	end = skip_class(p + 1, C_ROLE);
	return *end == '\0' && end - p <= UDB_NAME_MAX;
}

bool
udb_valid_email(const char *s)
{
	size_t n, at = 0, ats = 0;

	if (!s)
		return false;
	n = strnlen(s, UDB_EMAIL_MAX + 1);
	if (n == 0 || n > UDB_EMAIL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f)
			return false;
		if (c == '@') {
			ats++;
			at = i;
		}
	}
	return ats == 1 && at > 0 && at < n - 1;
}

bool
udb_valid_permission(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, UDB_PERMISSION_MAX + 1);
	if (n == 0 || n > UDB_PERMISSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!is_alpha(c) && !is_digit(c) && !strchr("_.:*-", c))
			return false;
	}
	return true;
}

/* Returns the length of the UTF-8 sequence starting at s, or 0 when it is
 * malformed, overlong, a surrogate or beyond U+10FFFF. */
static size_t
utf8_sequence_length(const unsigned char *s)
{
	unsigned cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Valid UTF-8 of at most max bytes without control characters, `:` or
 * `,`: one GECOS field (max UDB_TEXT_MAX) or the GECOS of a passwd entry,
 * "First Last" (max 2 * UDB_TEXT_MAX + 1). */
static bool
valid_text_max(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s)
		return false;
	for (;;) {
		size_t len;

		p = skip_class(p, C_TEXT);
		/* The NUL, or an ASCII byte the rule refuses. */
		if (*p < 0x80)
			break;
		len = utf8_sequence_length(p);
		/* U+0080..U+009F are C1 controls (U+009B is CSI to a terminal). */
		if (len == 0 || (p[0] == 0xc2 && p[1] < 0xa0))
			return false;
		p += len;
	}
	return *p == '\0' && (size_t)(p - (const unsigned char *)s) <= max;
}

bool
udb_valid_text(const char *s)
{
	return valid_text_max(s, UDB_TEXT_MAX);
}

bool
udb_valid_path(const char *s)
{
	const unsigned char *end;

	if (!s || s[0] != '/')
		return false;
	end = skip_class((const unsigned char *)s, C_PATH);
	return *end == '\0' && end - (const unsigned char *)s <= UDB_PATH_MAX;
}

enum udb_result
udb_parse_uint(const char *s, unsigned long max, unsigned long *ret_value)
{
	unsigned long v = 0;

	if (!s || !*s || strlen(s) > 20)
		return UDB_INVALID;
	for (const char *p = s; *p; p++) {
		if (!is_digit(*p))
			return UDB_INVALID;
		if ((unsigned long)(*p - '0') > max || v > (max - (unsigned long)(*p - '0')) / 10)
			return UDB_INVALID;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	*ret_value = v;
	return UDB_OK;
}

enum udb_result
udb_parse_id(const char *s, uint32_t *ret_id)
{
	unsigned long v;
	enum udb_result r;

	r = udb_parse_uint(s, 4294967294UL, &v);
	if (r != UDB_OK)
		return r;
	*ret_id = (uint32_t)v;
	return UDB_OK;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's
 * well-known civil-date arithmetic, written out here). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool
read_digits(const char **p, unsigned n, unsigned *ret)
{
	unsigned v = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static enum udb_result
parse_relative(const char *s, int64_t now, int64_t *ret_time)
{
	unsigned long n, unit;
	char digits[21];
	size_t len = strlen(s);

	if (len < 2 || len > sizeof(digits))
		return UDB_INVALID;
	switch (s[len - 1]) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return UDB_INVALID;
	}
	memcpy(digits, s, len - 1);
	digits[len - 1] = '\0';
	if (udb_parse_uint(digits, 100UL * 366 * 86400 / unit, &n) != UDB_OK)
		return UDB_INVALID;
	*ret_time = now + (int64_t)(n * unit);
	return UDB_OK;
}

static bool
leap_year(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

enum udb_result
udb_parse_time(const char *s, int64_t now, int64_t *ret_time)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h = 0, mi = 0, sec = 0;
	const char *p = s;

	if (!s)
		return UDB_INVALID;
	if (s[0] == '+')
		return parse_relative(s + 1, now, ret_time);
	if (s[0] == '@') {
		unsigned long v;

		if (udb_parse_uint(s + 1, 253402300799UL, &v) != UDB_OK)
			return UDB_INVALID;
		*ret_time = (int64_t)v;
		return UDB_OK;
	}
	if (!read_digits(&p, 4, &y) || *p++ != '-' || !read_digits(&p, 2, &mo) || *p++ != '-' ||
	    !read_digits(&p, 2, &d))
		return UDB_INVALID;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!read_digits(&p, 2, &h) || *p++ != ':' || !read_digits(&p, 2, &mi))
			return UDB_INVALID;
		if (*p == ':') {
			p++;
			if (!read_digits(&p, 2, &sec))
				return UDB_INVALID;
		}
		if (*p == 'Z')
			p++;
	}
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
		return UDB_INVALID;
	if (d > mdays[mo - 1] + (mo == 2 && leap_year(y)))
		return UDB_INVALID;
	*ret_time = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return UDB_OK;
}

void
udb_format_time(int64_t t, char *buf, unsigned long size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%lld", (long long)t);
}

/* The served id rules. 0 is root's and (uint32_t)-1 "no id" whatever the
 * configuration says (config.c refuses a range starting at 0 already). */
static bool
id_in(uint32_t id, uint32_t min, uint32_t max)
{
	return id != 0 && id != UINT32_MAX && id >= min && id <= max;
}

bool
udb_served_uid(const struct udb_config *cfg, uint32_t uid)
{
	return id_in(uid, cfg->uid_min, cfg->uid_max);
}

bool
udb_served_gid(const struct udb_config *cfg, uint32_t gid)
{
	/* A personal group's gid is its user's uid, from the uid range. */
	return id_in(gid, cfg->gid_min, cfg->gid_max) || id_in(gid, cfg->uid_min, cfg->uid_max);
}

enum udb_result
udb_passwd_entry_check(const struct passwd *pw, const struct udb_config *cfg)
{
	if (!udb_valid_username(pw->pw_name) || !pw->pw_passwd || strcmp(pw->pw_passwd, "x") != 0)
		return UDB_CORRUPT;
	if (!udb_served_uid(cfg, pw->pw_uid) || !udb_served_gid(cfg, pw->pw_gid))
		return UDB_CORRUPT;
	if (!valid_text_max(pw->pw_gecos, 2 * UDB_TEXT_MAX + 1) || !udb_valid_path(pw->pw_dir) ||
	    !udb_valid_path(pw->pw_shell))
		return UDB_CORRUPT;
	return UDB_OK;
}

enum udb_result
udb_group_entry_check(const struct group *gr, const struct udb_config *cfg)
{
	if (!udb_valid_rolename(gr->gr_name) && !udb_valid_username(gr->gr_name))
		return UDB_CORRUPT;
	if (!gr->gr_passwd || strcmp(gr->gr_passwd, "x") != 0 || !udb_served_gid(cfg, gr->gr_gid) ||
	    !gr->gr_mem)
		return UDB_CORRUPT;
	for (char **m = gr->gr_mem; *m; m++)
		if (!udb_valid_username(*m))
			return UDB_CORRUPT;
	return UDB_OK;
}

enum udb_result
udb_shadow_entry_check(const struct spwd *sp)
{
	size_t n;

	if (!udb_valid_username(sp->sp_namp) || !sp->sp_pwdp)
		return UDB_CORRUPT;
	/* A hash is printable ASCII; one with `:` or a newline would split
	 * the line getent and the shadow tools print. */
	n = strnlen(sp->sp_pwdp, UDB_HASH_MAX + 1);
	if (n == 0 || n > UDB_HASH_MAX)
		return UDB_CORRUPT;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)sp->sp_pwdp[i];

		if (c <= ' ' || c >= 0x7f || c == ':')
			return UDB_CORRUPT;
	}
	return UDB_OK;
}
