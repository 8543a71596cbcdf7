/* Printing for the admin tool: the quoting that makes any echoed input safe
 * for a terminal, the primitives of aligned `key: value` lines and of JSON
 * (json-c) with stable keys, and the output of init, of every change, and
 * of the email commands. Called by the command files of cli/ once they
 * have gathered what to show; output_user.c prints users and
 * output_role.c roles with the primitives declared in output.h. */
#include <inttypes.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "validate.h"

#define QUOTE_INPUT_MAX 128

const char *
cli_quote(const char *s)
{
	static char bufs[4][QUOTE_INPUT_MAX * 4 + 48];
	static unsigned next;
	char *buf = bufs[next++ % 4];
	size_t len = strlen(s), o = 0;

	buf[o++] = '\'';
	for (size_t i = 0; i < len && i < QUOTE_INPUT_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n')
			o += (size_t)sprintf(buf + o, "\\n");
		else if (ch == '\t')
			o += (size_t)sprintf(buf + o, "\\t");
		else if (ch == '\\' || ch == '\'')
			o += (size_t)sprintf(buf + o, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)sprintf(buf + o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	if (len > QUOTE_INPUT_MAX)
		snprintf(buf + o, sizeof(bufs[0]) - o, "... (%zu bytes)", len);
	return buf;
}

/* Length of a valid, printable UTF-8 sequence at s (C1 controls are not
 * printable), or 0. */
static size_t
printable_utf8(const unsigned char *s)
{
	size_t len;

	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (s[0] == 0xc2 && s[1] < 0xa0)
		return 0;
	return len;
}

/* The code point of a bidirectional formatting character at s (a valid
 * 3-byte sequence), or 0: U+200E-200F, U+202A-202E, U+2066-2069 and
 * U+061C. They print nothing but reorder what follows, so a name holding
 * one can make a line read differently from what it says. */
static unsigned
bidi_control(const unsigned char *s, size_t len)
{
	unsigned cp;

	if (len == 2 && s[0] == 0xd8 && s[1] == 0x9c)
		return 0x061c;
	if (len != 3)
		return 0;
	cp = ((unsigned)(s[0] & 0x0f) << 12) | ((unsigned)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
	if ((cp >= 0x200e && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return cp;
	return 0;
}

/* Writes stored text for people: validated on the way in, but escaped here
 * anyway so no database content can drive the terminal: control bytes and
 * invalid UTF-8 as \xNN, bidirectional controls as \uNNNN. */
void
out_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t len = printable_utf8(p);
		unsigned bidi = bidi_control(p, len);

		if (bidi) {
			printf("\\u%04x", bidi);
			p += len;
			continue;
		}
		if (len == 0) {
			printf("\\x%02x", *p);
			p++;
			continue;
		}
		fwrite(p, 1, len, stdout);
		p += len;
	}
}

/* Columns on a terminal of what out_text() writes for s: one per
 * printable character (wide characters count one: names are ASCII), four
 * per escaped byte. */
int
out_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int width = 0;

	while (*p) {
		size_t len = printable_utf8(p);

		width += bidi_control(p, len) ? 6 : len ? 1 : 4;
		p += len ? len : 1;
	}
	return width;
}

int
out_max(int a, int b)
{
	return a > b ? a : b;
}

void
out_padded(const char *s, int width)
{
	int len = out_width(s);

	out_text(s);
	if (len < width)
		printf("%*s", width - len, "");
}

void
out_key(const char *k)
{
	printf("%s:%*s", k, (int)(KEY_WIDTH - strlen(k)), "");
}

void
out_kv_text(const char *k, const char *value)
{
	out_key(k);
	out_text(value);
	putchar('\n');
}

void
out_kv_fmt(const char *k, const char *fmt, ...)
{
	va_list ap;

	out_key(k);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void
out_kv_list(const char *k, char *const *v, size_t n)
{
	out_key(k);
	if (n == 0)
		printf("(none)");
	for (size_t i = 0; i < n; i++) {
		if (i)
			printf(", ");
		out_text(v[i]);
	}
	putchar('\n');
}

/* A time for people; `none` for 0. */
const char *
out_when(int64_t t, char *buf, size_t size, const char *none)
{
	if (t == 0)
		return none;
	udb_format_time(t, buf, size);
	return buf;
}

/* Aging days for people; `-` when unset. */
const char *
out_days(int d, char *buf, size_t size)
{
	if (d < 0)
		return "-";
	snprintf(buf, size, "%d", d);
	return buf;
}

const char *
out_yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* json-c helpers. Each records an allocation failure in *ok instead of
 * returning it, so a builder reads straight through and checks once. */
void
out_jset(struct json_object *o, const char *k, struct json_object *v, bool *ok)
{
	if (!v || json_object_object_add(o, k, v) != 0) {
		json_object_put(v);
		*ok = false;
	}
}

void
out_jset_null(struct json_object *o, const char *k, bool *ok)
{
	if (json_object_object_add(o, k, NULL) != 0)
		*ok = false;
}

void
out_jset_str(struct json_object *o, const char *k, const char *s, bool *ok)
{
	if (s)
		out_jset(o, k, json_object_new_string(s), ok);
	else
		out_jset_null(o, k, ok);
}

void
out_jset_int(struct json_object *o, const char *k, int64_t v, bool *ok)
{
	out_jset(o, k, json_object_new_int64(v), ok);
}

void
out_jset_bool(struct json_object *o, const char *k, bool v, bool *ok)
{
	out_jset(o, k, json_object_new_boolean(v), ok);
}

/* A time as `YYYY-MM-DDTHH:MM:SSZ`, or null for 0. */
void
out_jset_time(struct json_object *o, const char *k, int64_t t, bool *ok)
{
	char buf[32];

	if (t == 0) {
		out_jset_null(o, k, ok);
		return;
	}
	udb_format_time(t, buf, sizeof(buf));
	out_jset_str(o, k, buf, ok);
}

void
out_jset_days(struct json_object *o, const char *k, int days, bool *ok)
{
	if (days < 0)
		out_jset_null(o, k, ok);
	else
		out_jset_int(o, k, days, ok);
}

void
out_jpush(struct json_object *array, struct json_object *v, bool *ok)
{
	if (!v || json_object_array_add(array, v) != 0) {
		json_object_put(v);
		*ok = false;
	}
}

struct json_object *
out_jstrv(char *const *v, size_t n, bool *ok)
{
	struct json_object *a = json_object_new_array();

	if (!a) {
		*ok = false;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		out_jpush(a, json_object_new_string(v[i]), ok);
	return a;
}

static int
print_empty_array(struct json_object *jso, struct printbuf *pb, int level, int flags)
{
	(void)jso;
	(void)level;
	(void)flags;
	return printbuf_memappend(pb, "[]", 2) < 0 ? -1 : 0;
}

/* json-c's pretty printer writes an empty array as "[\n]" at the top and
 * "[\n  ]" inside; every empty array prints as [] instead, the way `user
 * list` streams one. */
static void
compact_empty_arrays(struct json_object *o)
{
	if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);

		if (n == 0)
			json_object_set_serializer(o, print_empty_array, NULL, NULL);
		for (size_t i = 0; i < n; i++)
			compact_empty_arrays(json_object_array_get_idx(o, i));
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, value)
		{
			(void)key;
			compact_empty_arrays(value);
		}
	}
}

/* Prints and frees obj; a failed build (ok false) prints nothing. */
enum udb_result
out_jprint(struct json_object *obj, bool ok, int flags)
{
	const char *s = NULL;

	if (ok && obj) {
		compact_empty_arrays(obj);
		s = json_object_to_json_string_ext(obj, flags | JSON_C_TO_STRING_NOSLASHESCAPE);
	}
	if (s)
		puts(s);
	json_object_put(obj);
	return s ? UDB_OK : cli_error(UDB_NO_MEMORY, "printing JSON: out of memory");
}

static void
json_subject(struct json_object *o, const struct cli_subject *sub, bool *ok)
{
	if (sub->user)
		out_jset_str(o, "user", sub->user, ok);
	if (sub->role)
		out_jset_str(o, "role", sub->role, ok);
	if (sub->email)
		out_jset_str(o, "email", sub->email, ok);
	if (sub->uid)
		out_jset_int(o, "uid", sub->uid, ok);
	if (sub->gid)
		out_jset_int(o, "gid", sub->gid, ok);
	if (sub->from)
		out_jset_time(o, "from", sub->from, ok);
	if (sub->until)
		out_jset_time(o, "until", sub->until, ok);
	if (sub->terminate)
		out_jset_int(o, "terminated", sub->terminated, ok);
}

void
cli_changed(struct cli *c, const char *message)
{
	c->changed = true;
	if (c->audit_message[0])
		return;
	snprintf(c->audit_message, sizeof(c->audit_message), "%s", message);
	snprintf(c->audit_command, sizeof(c->audit_command), "%s", c->name);
	/* The audit row and log line are one line each. */
	for (char *p = c->audit_message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

void
out_done(struct cli *c, bool changed, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (changed)
		cli_changed(c, msg);
	if (c->json) {
		struct json_object *o = json_object_new_object();
		bool ok = o != NULL;

		if (o) {
			out_jset_bool(o, "changed", changed, &ok);
			out_jset_str(o, "message", msg, &ok);
			json_subject(o, &c->subject, &ok);
		}
		out_jprint(o, ok, JSON_C_TO_STRING_SPACED);
		return;
	}
	out_text(msg);
	putchar('\n');
}

/* Notes wait for main(), which prints them with the error, if any, so that
 * with --json a failed run still leaves exactly one object on stderr. */
static struct {
	char text[8][512];
	size_t n;
} notes;

void
out_note(const char *fmt, ...)
{
	va_list ap;

	if (notes.n == sizeof(notes.text) / sizeof(notes.text[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(notes.text[notes.n++], sizeof(notes.text[0]), fmt, ap);
	va_end(ap);
}

const char *
out_note_text(size_t i)
{
	return i < notes.n ? notes.text[i] : NULL;
}

void
out_notes_forget(void)
{
	notes.n = 0;
}

struct json_object *
out_json_emails(const struct udb_email *emails, size_t n, bool *ok)
{
	struct json_object *a = json_object_new_array();

	if (!a) {
		*ok = false;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();

		if (e) {
			out_jset_str(e, "address", emails[i].address, ok);
			out_jset_bool(e, "primary", emails[i].is_primary, ok);
			out_jset_bool(e, "confirmed", emails[i].confirmed_at != 0, ok);
			out_jset_time(e, "confirmed_at", emails[i].confirmed_at, ok);
			out_jset_time(e, "created_at", emails[i].created_at, ok);
		}
		out_jpush(a, e, ok);
	}
	return a;
}

enum udb_result
out_email_list(struct cli *c, const char *user, const struct udb_email *emails, size_t n)
{
	char buf[32];

	if (c->json) {
		bool ok = true;

		return out_jprint(out_json_emails(emails, n, &ok), ok,
				  JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	}
	if (n == 0) {
		printf("%s has no email addresses\n", user);
		return UDB_OK;
	}
	for (size_t i = 0; i < n; i++) {
		out_text(emails[i].address);
		printf("  %s%s%s\n", emails[i].is_primary ? "primary, " : "",
		       emails[i].confirmed_at ? "confirmed " : "unconfirmed",
		       emails[i].confirmed_at
			       ? out_when(emails[i].confirmed_at, buf, sizeof(buf), "-")
			       : "");
	}
	return UDB_OK;
}

enum udb_result
out_init(struct cli *c, const char *dbdir, unsigned old_version, unsigned new_version)
{
	const char *action = old_version == 0            ? "created"
			     : old_version < new_version ? "upgraded"
							 : "unchanged";
	char msg[512];

	if (old_version < new_version) {
		snprintf(msg, sizeof(msg), "%s the database in %s (schema version %u)", action,
			 dbdir, new_version);
		cli_changed(c, msg);
	}
	if (c->json) {
		struct json_object *o = json_object_new_object();
		bool ok = o != NULL;

		if (o) {
			out_jset_bool(o, "changed", old_version < new_version, &ok);
			out_jset_str(o, "dbdir", dbdir, &ok);
			out_jset_str(o, "action", action, &ok);
			out_jset_int(o, "old_version", old_version, &ok);
			out_jset_int(o, "version", new_version, &ok);
		}
		return out_jprint(o, ok, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	}
	if (old_version == 0)
		printf("created a new database in ");
	else if (old_version < new_version)
		printf("upgraded the database in ");
	else
		printf("the database in ");
	out_text(dbdir);
	if (old_version == 0)
		printf(" (schema version %u)\n", new_version);
	else if (old_version < new_version)
		printf(" from schema version %u to %u\n", old_version, new_version);
	else
		printf(" is up to date (schema version %u)\n", new_version);
	return UDB_OK;
}
