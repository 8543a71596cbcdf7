/* Fuzz target: the number and time parsers of common/validate.c
 * (udb_parse_uint, udb_parse_id, udb_parse_time) and udb_format_time, each
 * checked against a reference written here (strtoull and timegm from the C
 * library), plus the round trip format -> parse. The first byte picks the
 * parser; parameters (max, now, t) come next, then the string. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "validate.h"

#define MAX_TIME 253402300799LL /* 9999-12-31T23:59:59Z */

static bool
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* A decimal without sign, spaces or other bytes, at most 20 digits, not
 * above max. */
static bool
ref_uint(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long long v;
	size_t n = strlen(s);

	if (n > 20 || !all_digits(s, n))
		return false;
	errno = 0;
	v = strtoull(s, NULL, 10);
	if (errno == ERANGE || v > max)
		return false;
	*ret = (unsigned long)v;
	return true;
}

static void
check_uint(const char *s, unsigned long max)
{
	unsigned long real = 0, ref = 0;
	bool ok = udb_parse_uint(s, max, &real) == UDB_OK, ref_ok = ref_uint(s, max, &ref);

	fuzz_check(ok == ref_ok && (!ok || real == ref),
		   "udb_parse_uint(\"%s\", %lu): ok %d value %lu, reference ok %d value %lu", s,
		   max, ok, real, ref_ok, ref);
}

static void
check_id(const char *s)
{
	unsigned long ref = 0;
	uint32_t real = 0;
	bool ok = udb_parse_id(s, &real) == UDB_OK, ref_ok = ref_uint(s, 4294967294UL, &ref);

	fuzz_check(ok == ref_ok && (!ok || real == ref), "udb_parse_id(\"%s\")", s);
}

/* Reads exactly n digits at *p. */
static bool
digits(const char **p, size_t n, int *ret)
{
	char buf[8];

	if (strlen(*p) < n || !all_digits(*p, n))
		return false;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*ret = atoi(buf);
	*p += n;
	return true;
}

/* The grammar of validate.h: YYYY-MM-DD, then optionally T or space,
 * HH:MM, optionally :SS, optionally Z; every field in range for its
 * month, year 1970 on. */
static bool
ref_date(const char *s, int64_t *ret)
{
	struct tm tm = {0}, check;
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	time_t t;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return false;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return false;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return false;
		}
		if (*p == 'Z')
			p++;
	}
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	check = tm;
	t = timegm(&tm);
	/* timegm normalises 2023-02-30 to March 2nd: a day past the month's
	 * end shows as a changed month. */
	if (tm.tm_mon != check.tm_mon || tm.tm_mday != check.tm_mday)
		return false;
	*ret = (int64_t)t;
	return true;
}

static bool
ref_time(const char *s, int64_t now, int64_t *ret)
{
	static const struct {
		char unit;
		int64_t seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
	unsigned long v;
	size_t n = strlen(s);

	if (s[0] == '@') {
		if (!ref_uint(s + 1, (unsigned long)MAX_TIME, &v))
			return false;
		*ret = (int64_t)v;
		return true;
	}
	if (s[0] != '+')
		return ref_date(s, ret);
	if (n < 3)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		char num[32];

		if (s[n - 1] != units[i].unit || n - 2 >= sizeof(num))
			continue;
		memcpy(num, s + 1, n - 2);
		num[n - 2] = '\0';
		/* At most a century ahead. */
		if (!ref_uint(num, (unsigned long)(100LL * 366 * 86400 / units[i].seconds), &v))
			return false;
		*ret = now + (int64_t)v * units[i].seconds;
		return true;
	}
	return false;
}

static void
check_time(const char *s, int64_t now)
{
	int64_t real = 0, ref = 0;
	bool ok = udb_parse_time(s, now, &real) == UDB_OK, ref_ok = ref_time(s, now, &ref);

	fuzz_check(ok == ref_ok && (!ok || real == ref),
		   "udb_parse_time(\"%s\", %lld): ok %d value %lld, reference ok %d value %lld", s,
		   (long long)now, ok, (long long)real, ref_ok, (long long)ref);
	/* Whatever parses formats back to the same instant. */
	if (ok && real >= 0 && real <= MAX_TIME) {
		char buf[32];
		int64_t again = -1;

		udb_format_time(real, buf, 21);
		fuzz_check(udb_parse_time(buf, now, &again) == UDB_OK && again == real,
			   "round trip of %lld through \"%s\" gave %lld", (long long)real, buf,
			   (long long)again);
	}
}

static void
check_format(int64_t t, size_t size)
{
	char buf[64];

	memset(buf, 'X', sizeof(buf));
	udb_format_time(t, buf, size);
	fuzz_check(memchr(buf, '\0', size) != NULL, "udb_format_time(%lld) unterminated",
		   (long long)t);
	for (size_t i = size; i < sizeof(buf); i++)
		fuzz_check(buf[i] == 'X', "udb_format_time(%lld, %zu) wrote past the end",
			   (long long)t, size);
	if (t >= 0 && t <= MAX_TIME && size >= 21) {
		int64_t again = -1;

		fuzz_check(strlen(buf) == 20 && udb_parse_time(buf, 0, &again) == UDB_OK &&
				   again == t,
			   "udb_format_time(%lld) = \"%s\" does not parse back", (long long)t, buf);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	uint8_t which = fuzz_byte(&in) % 4;
	unsigned long max;
	int64_t now;
	char *s;

	switch (which) {
	case 0:
		max = (unsigned long)fuzz_u64(&in);
		/* Small maxima are the interesting ones half of the time. */
		if (max & 1)
			max = (max >> 1) % 100000;
		s = fuzz_rest(&in);
		check_uint(s, max);
		break;
	case 1:
		s = fuzz_rest(&in);
		check_id(s);
		break;
	case 2:
		/* now is time(NULL) in userdb: any instant from 1970 to 9999. */
		now = (int64_t)(fuzz_u64(&in) % (uint64_t)MAX_TIME);
		s = fuzz_rest(&in);
		check_time(s, now);
		break;
	default:
		now = (int64_t)fuzz_u64(&in);
		/* Mostly instants in and around the range the tool writes. */
		if (!(fuzz_byte(&in) & 1))
			now = now % (2 * MAX_TIME) - MAX_TIME / 2;
		check_format(now, 1 + fuzz_byte(&in) % 40);
		s = NULL;
		break;
	}
	free(s);
	return 0;
}
