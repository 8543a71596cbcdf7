/* Printing primitives shared by output.c, output_user.c and totp.c only: text made
 * safe for a terminal, aligned `key: value` lines, and JSON building that
 * records an allocation failure in *ok instead of returning it, so a
 * builder reads straight through and checks once. */
#ifndef UDB_CLI_OUTPUT_H
#define UDB_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "email.h"
#include "result.h"

struct json_object;

/* Width of the key column of `key: value` lines. */
#define KEY_WIDTH 18

/* Stored text for people: valid UTF-8 passes, control characters and
 * invalid bytes are written as \xNN. */
void out_text(const char *s);
/* Terminal columns of out_text(s). */
int out_width(const char *s);
int out_max(int a, int b);
/* out_text, then spaces up to width columns. */
void out_padded(const char *s, int width);
/* `key:` padded to the value column. */
void out_key(const char *k);
void out_kv_text(const char *k, const char *value);
void out_kv_fmt(const char *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A comma-separated list, `(none)` when empty. */
void out_kv_list(const char *k, char *const *v, size_t n);
/* A time as `YYYY-MM-DDTHH:MM:SSZ` in buf, or none for 0. */
const char *out_when(int64_t t, char *buf, size_t size, const char *none);
/* Aging days, `-` when unset. */
const char *out_days(int d, char *buf, size_t size);
const char *out_yes_no(bool b);

/* Adds v under key k; a NULL v is an allocation failure. */
void out_jset(struct json_object *o, const char *k, struct json_object *v, bool *ok);
void out_jset_null(struct json_object *o, const char *k, bool *ok);
/* A string, or null when s is NULL. */
void out_jset_str(struct json_object *o, const char *k, const char *s, bool *ok);
void out_jset_int(struct json_object *o, const char *k, int64_t v, bool *ok);
void out_jset_bool(struct json_object *o, const char *k, bool v, bool *ok);
/* A time as `YYYY-MM-DDTHH:MM:SSZ`, or null for 0. */
void out_jset_time(struct json_object *o, const char *k, int64_t t, bool *ok);
/* Aging days, or null when unset. */
void out_jset_days(struct json_object *o, const char *k, int days, bool *ok);
void out_jpush(struct json_object *array, struct json_object *v, bool *ok);
struct json_object *out_jstrv(char *const *v, size_t n, bool *ok);
/* Prints and frees obj; a failed build (ok false) prints nothing and
 * reports UDB_NO_MEMORY. */
enum udb_result out_jprint(struct json_object *obj, bool ok, int flags);
/* The addresses as an array of {address, primary, confirmed, ...}. */
struct json_object *out_json_emails(const struct udb_email *emails, size_t n, bool *ok);

#endif
