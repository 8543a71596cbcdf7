/* Fuzz target: the admin tool's argument checks (cli/args.c) and the
 * quoting of echoed input in its messages (cli_quote in cli/output.c).
 * cli_error, which main.c defines, is replaced by a stub that keeps the
 * message and checks the promise of cli.h: one line of printable ASCII,
 * whatever the argument held, so that nothing typed can reach the
 * terminal raw. Each check's verdict must be the validator's; cli_quote's
 * output must decode back to its input. The first byte picks the check,
 * the rest is the argument. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"
#include "validate.h"

static char message[1024];
static unsigned n_errors;

enum udb_result
cli_error(enum udb_result r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	/* main.c's cli_error replaces control bytes as a last resort; the
	 * quoting must have made that unnecessary. */
	for (const char *p = message; *p; p++)
		fuzz_check(*p >= 0x20 && *p < 0x7f, "message byte 0x%02x: %s", (unsigned char)*p,
			   message);
	n_errors++;
	return r;
}

/* Decodes cli_quote's output and checks it gives back s (up to the
 * 128 bytes it shows, then the length note). */
static void
check_quote(const char *s)
{
	const char *q = cli_quote(s), *p = q + 1;
	size_t len = strlen(s), n = 0;

	fuzz_check(q[0] == '\'', "quote does not open with a quote: %s", q);
	for (const char *c = q; *c; c++)
		fuzz_check(*c >= 0x20 && *c < 0x7f, "quote byte 0x%02x", (unsigned char)*c);
	while (*p && *p != '\'') {
		unsigned char want = (unsigned char)s[n], got;

		if (*p == '\\') {
			if (p[1] == 'n' || p[1] == 't' || p[1] == '\\' || p[1] == '\'') {
				got = p[1] == 'n' ? '\n' : p[1] == 't' ? '\t' : (unsigned char)p[1];
				p += 2;
			} else {
				unsigned x = 0;

				fuzz_check(p[1] == 'x' && isxdigit((unsigned char)p[2]) &&
						   isxdigit((unsigned char)p[3]),
					   "bad escape in %s", q);
				sscanf(p + 2, "%2x", &x);
				got = (unsigned char)x;
				p += 4;
			}
		} else {
			got = (unsigned char)*p++;
		}
		fuzz_check(n < len && got == want, "quote of byte %zu differs: %s", n, q);
		n++;
	}
	fuzz_check(*p == '\'', "quote not closed: %s", q);
	fuzz_check(n == (len < 128 ? len : 128), "quote shows %zu of %zu bytes", n, len);
	if (len > 128) {
		char note[64];

		snprintf(note, sizeof(note), "... (%zu bytes)", len);
		fuzz_check(strcmp(p + 1, note) == 0, "length note %s", p + 1);
	} else {
		fuzz_check(p[1] == '\0', "text after the quote: %s", q);
	}
}

/* One result for one verdict: UDB_OK without a message, or the error with
 * exactly one message. */
static void
check_verdict(enum udb_result r, bool valid, const char *what, const char *s)
{
	if (valid)
		fuzz_check(r == UDB_OK && n_errors == 0, "%s \"%s\" refused", what, s);
	else
		fuzz_check(r == UDB_INVALID && n_errors == 1 && message[0],
			   "%s \"%s\" accepted or reported %u times", what, s, n_errors);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	uint8_t which = fuzz_byte(&in) % 11;
	int64_t now = (int64_t)(fuzz_u64(&in) % 253402300800ULL), t = -1;
	char *s = fuzz_rest(&in);
	unsigned long days;
	uint32_t id = 0;
	enum udb_result r;
	int d = -2;

	n_errors = 0;
	message[0] = '\0';
	switch (which) {
	case 0:
		check_verdict(arg_username(s), udb_valid_username(s), "user name", s);
		break;
	case 1:
		check_verdict(arg_rolename(s), udb_valid_rolename(s), "role name", s);
		break;
	case 2:
		check_verdict(arg_email(s), udb_valid_email(s), "email", s);
		break;
	case 3:
		check_verdict(arg_permission(s), udb_valid_permission(s), "permission", s);
		break;
	case 4:
		check_verdict(arg_text("--first-name", s), udb_valid_text(s), "text", s);
		break;
	case 5:
		check_verdict(arg_path("--home", s), udb_valid_path(s), "path", s);
		break;
	case 6:
		r = arg_id("--uid", s, &id);
		check_verdict(r, udb_parse_id(s, &id) == UDB_OK && id != 0, "id", s);
		break;
	case 7:
	case 8: {
		bool never = which == 8, ok;
		int64_t want = 0;

		r = arg_time("--until", s, now, never, &t);
		ok = (never && strcmp(s, "never") == 0) ||
		     (udb_parse_time(s, now, &want) == UDB_OK && want > 0);
		check_verdict(r, ok, "time", s);
		fuzz_check(!ok || t == want, "time \"%s\" is %lld, want %lld", s, (long long)t,
			   (long long)want);
		break;
	}
	case 9:
		r = arg_days("--max-days", s, &d);
		if (strcmp(s, "never") == 0)
			check_verdict(r, d == UDB_DAYS_UNSET, "days", s);
		else
			check_verdict(r,
				      udb_parse_uint(s, 99999, &days) == UDB_OK && d == (int)days,
				      "days", s);
		break;
	default:
		/* The lookup failure messages echo a name of any length. */
		r = report_user((enum udb_result)(size % 19), s);
		fuzz_check(n_errors == 1, "report_user");
		r = report_role(r, s);
		check_quote(s);
		break;
	}
	free(s);
	return 0;
}
