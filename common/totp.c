/* The second factor's store and rules (see totp.h): enrolment, confirmation,
 * recovery codes, and the code check that the login attempt runs in its
 * write transaction. Called by the admin tool and the PAM module. TOTP
 * codes come from liboath; randomness from getrandom(2); the recovery
 * codes' hashes from libxcrypt (hash.c).
 *
 * The table holds no row for most users; a row appears at the first
 * enrolment and goes with `totp disable` or the account. Secret bytes read
 * from SQLite are copied into buffers of our own that are wiped before
 * they are freed. */
#include <liboath/oath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "db-internal.h"
#include "hash.h"
#include "totp.h"

/* Columns of UDB_Q_TOTP_GET. */
enum { COL_SECRET, COL_PENDING, COL_CONFIRMED, COL_CONFIRMED_AT, COL_LAST_STEP, COL_RECOVERY };

/* One row, read into memory of our own. */
struct row {
	unsigned char secret[UDB_TOTP_SECRET_BYTES];
	size_t secret_len; /* 0: no confirmed secret */
	unsigned char pending[UDB_TOTP_SECRET_BYTES];
	size_t pending_len;
	int64_t confirmed_at;
	int64_t last_step;
	char *recovery; /* NULL when none */
};

static void
row_wipe(struct row *row)
{
	free(row->recovery);
	explicit_bzero(row, sizeof(*row));
}

static size_t
copy_blob(sqlite3_stmt *stmt, int col, unsigned char *out)
{
	const void *p = sqlite3_column_blob(stmt, col);
	int n = sqlite3_column_bytes(stmt, col);

	if (!p || n != UDB_TOTP_SECRET_BYTES)
		return 0;
	memcpy(out, p, UDB_TOTP_SECRET_BYTES);
	return UDB_TOTP_SECRET_BYTES;
}

/* Reads user_id's row; UDB_NOT_FOUND without one. */
static enum udb_result
row_read(struct udb_db *db, int64_t user_id, struct row *ret)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;
	int rc;

	memset(ret, 0, sizeof(*ret));
	r = udb_stmt(db, UDB_Q_TOTP_GET, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, user_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_int(stmt, COL_CONFIRMED))
			ret->secret_len = copy_blob(stmt, COL_SECRET, ret->secret);
		ret->pending_len = copy_blob(stmt, COL_PENDING, ret->pending);
		ret->confirmed_at = udb_column_time(stmt, COL_CONFIRMED_AT);
		ret->last_step = sqlite3_column_int64(stmt, COL_LAST_STEP);
		if (sqlite3_column_type(stmt, COL_RECOVERY) != SQLITE_NULL) {
			ret->recovery = udb_column_strdup(stmt, COL_RECOVERY);
			if (!ret->recovery)
				r = UDB_NO_MEMORY;
		}
	} else {
		r = rc == SQLITE_DONE ? UDB_NOT_FOUND : udb_sqlite_result(rc);
	}
	udb_stmt_done(db, UDB_Q_TOTP_GET);
	if (r != UDB_OK)
		row_wipe(ret);
	return r;
}

/* Counts the recovery lines, and the unused ones. */
static void
count_recovery(const char *recovery, unsigned *ret_left, unsigned *ret_total)
{
	*ret_left = *ret_total = 0;
	for (const char *line = recovery; line && *line;) {
		const char *nl = strchr(line, '\n');

		(*ret_total)++;
		if (line[0] == '0')
			(*ret_left)++;
		if (!nl)
			break;
		line = nl + 1;
	}
}

enum udb_result
udb_totp_state(struct udb_db *db, int64_t user_id, struct udb_totp_state *ret)
{
	struct row row;
	enum udb_result r;

	memset(ret, 0, sizeof(*ret));
	r = row_read(db, user_id, &row);
	if (r == UDB_NOT_FOUND)
		return UDB_OK;
	if (r != UDB_OK)
		return r;
	ret->enrolled = row.secret_len > 0;
	ret->pending = row.pending_len > 0;
	ret->confirmed_at = ret->enrolled ? row.confirmed_at : 0;
	if (ret->enrolled)
		count_recovery(row.recovery, &ret->recovery_left, &ret->recovery_total);
	row_wipe(&row);
	return UDB_OK;
}

static enum udb_result
random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0)
			return UDB_INTERNAL;
		p += got;
		n -= (size_t)got;
	}
	return UDB_OK;
}

static enum udb_result
begin(struct udb_db *db)
{
	enum udb_result r = udb_db_begin(db);

	/* The second factor is in no image. */
	if (r == UDB_OK)
		udb_db_limit_images(db, UDB_IMAGES_NONE);
	return r;
}

enum udb_result
udb_totp_enroll(struct udb_db *db, int64_t user_id, char **ret_base32)
{
	unsigned char secret[UDB_TOTP_SECRET_BYTES];
	sqlite3_stmt *stmt = NULL;
	char *text = NULL;
	size_t text_len = 0;
	enum udb_result r;

	r = random_bytes(secret, sizeof(secret));
	if (r == UDB_OK &&
	    oath_base32_encode((const char *)secret, sizeof(secret), &text, &text_len) != OATH_OK)
		r = UDB_NO_MEMORY;
	if (r == UDB_OK)
		r = begin(db);
	if (r != UDB_OK)
		goto out;
	r = udb_stmt(db, UDB_Q_TOTP_SET_PENDING, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, user_id);
		sqlite3_bind_blob(stmt, 2, secret, sizeof(secret), SQLITE_TRANSIENT);
		r = udb_stmt_exec(db, UDB_Q_TOTP_SET_PENDING);
	}
	r = udb_db_finish(db, r);
out:
	explicit_bzero(secret, sizeof(secret));
	if (r == UDB_OK)
		*ret_base32 = text;
	else
		udb_secret_free(text);
	return r;
}

/* Which step of now ± window code is the code of (the latest when two
 * are, which only a collision of six digits can make), 0 when none. Every
 * step is computed and compared. */
static int64_t
matching_step(const unsigned char *secret, size_t len, const char *code, int64_t now,
	      unsigned window)
{
	int64_t step = now / UDB_TOTP_STEP, found = 0;
	char otp[UDB_TOTP_DIGITS + 1];

	if (window > UDB_TOTP_WINDOW_MAX)
		window = UDB_TOTP_WINDOW_MAX;
	for (int64_t s = step - (int64_t)window; s <= step + (int64_t)window; s++) {
		if (s <= 0)
			continue;
		if (oath_totp_generate2((const char *)secret, len, (time_t)(s * UDB_TOTP_STEP),
					UDB_TOTP_STEP, 0, UDB_TOTP_DIGITS, 0, otp) != OATH_OK)
			continue;
		if (udb_equal_constant_time(otp, code))
			found = s;
	}
	explicit_bzero(otp, sizeof(otp));
	return found;
}

static bool
is_totp_code(const char *code)
{
	if (strlen(code) != UDB_TOTP_DIGITS)
		return false;
	for (const char *p = code; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

enum udb_result
udb_totp_confirm(struct udb_db *db, int64_t user_id, const char *code, int64_t now, unsigned window)
{
	sqlite3_stmt *stmt = NULL;
	struct row row;
	int64_t step = 0;
	enum udb_result r;

	r = begin(db);
	if (r != UDB_OK)
		return r;
	r = row_read(db, user_id, &row);
	if (r == UDB_OK && row.pending_len == 0)
		r = UDB_NOT_FOUND;
	if (r == UDB_OK && is_totp_code(code))
		step = matching_step(row.pending, row.pending_len, code, now, window);
	if (r == UDB_OK && step == 0)
		r = UDB_AUTH_FAILED;
	if (r == UDB_OK)
		r = udb_stmt(db, UDB_Q_TOTP_CONFIRM, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, user_id);
		sqlite3_bind_int64(stmt, 2, now);
		sqlite3_bind_int64(stmt, 3, step);
		r = udb_stmt_exec(db, UDB_Q_TOTP_CONFIRM);
	}
	if (r == UDB_OK && sqlite3_changes(db->sql) != 1)
		r = UDB_NOT_FOUND;
	row_wipe(&row);
	return udb_db_finish(db, r);
}

enum udb_result
udb_totp_disable(struct udb_db *db, int64_t user_id, bool *ret_changed)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = begin(db);
	if (r != UDB_OK)
		return r;
	r = udb_stmt(db, UDB_Q_TOTP_DELETE, &stmt);
	if (r == UDB_OK) {
		sqlite3_bind_int64(stmt, 1, user_id);
		r = udb_stmt_exec(db, UDB_Q_TOTP_DELETE);
	}
	if (r == UDB_OK)
		*ret_changed = sqlite3_changes(db->sql) > 0;
	return udb_db_finish(db, r);
}

void
udb_totp_codes_free(char **codes)
{
	if (!codes)
		return;
	for (size_t i = 0; i < UDB_RECOVERY_CODES; i++)
		udb_secret_free(codes[i]);
	free(codes);
}

/* A new recovery code: 12 characters of the base32 alphabet in lower case
 * (60 bits), grouped by four. */
static enum udb_result
new_code(char **ret_code)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char raw[12];
	char *code = malloc(UDB_RECOVERY_CODE_LEN + 1);
	size_t o = 0;
	enum udb_result r;

	if (!code)
		return UDB_NO_MEMORY;
	r = random_bytes(raw, sizeof(raw));
	for (size_t i = 0; r == UDB_OK && i < sizeof(raw); i++) {
		if (i > 0 && i % 4 == 0)
			code[o++] = '-';
		code[o++] = alphabet[raw[i] & 31];
	}
	code[o] = '\0';
	explicit_bzero(raw, sizeof(raw));
	if (r != UDB_OK) {
		udb_secret_free(code);
		return r;
	}
	*ret_code = code;
	return UDB_OK;
}

/* The stored form of a typed recovery code: dashes and spaces dropped,
 * lower case; false when it cannot be one. */
static bool
normalise_code(const char *typed, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = typed; *p; p++) {
		char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;

		if (ch == '-' || ch == ' ')
			continue;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '2' && ch <= '7')) || n + 1 >= size)
			return false;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n == 12;
}

/* Hashes each of codes into the stored text, one `0:HASH` line per code. */
static enum udb_result
recovery_text(char **codes, char **ret_text)
{
	char norm[16], *text = NULL, *hash = NULL;
	size_t len = 0;
	enum udb_result r = UDB_OK;

	for (size_t i = 0; r == UDB_OK && i < UDB_RECOVERY_CODES; i++) {
		char *grown;

		if (!normalise_code(codes[i], norm, sizeof(norm)))
			r = UDB_INTERNAL;
		if (r == UDB_OK)
			r = udb_hash_token(norm, &hash);
		if (r != UDB_OK)
			break;
		grown = realloc(text, len + strlen(hash) + 4);
		if (!grown) {
			r = UDB_NO_MEMORY;
		} else {
			text = grown;
			len += (size_t)sprintf(text + len, "%s0:%s", i ? "\n" : "", hash);
		}
		free(hash);
		hash = NULL;
	}
	explicit_bzero(norm, sizeof(norm));
	if (r != UDB_OK) {
		free(text);
		return r;
	}
	*ret_text = text;
	return UDB_OK;
}

static enum udb_result
store_recovery(struct udb_db *db, int64_t user_id, const char *text)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_TOTP_SET_RECOVERY, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, user_id);
	udb_bind_text(stmt, 2, text);
	return udb_stmt_exec(db, UDB_Q_TOTP_SET_RECOVERY);
}

enum udb_result
udb_totp_recovery_codes(struct udb_db *db, int64_t user_id, char ***ret_codes)
{
	char **codes = calloc(UDB_RECOVERY_CODES, sizeof(*codes));
	char *text = NULL;
	struct row row = {0};
	enum udb_result r = codes ? UDB_OK : UDB_NO_MEMORY;

	for (size_t i = 0; r == UDB_OK && i < UDB_RECOVERY_CODES; i++)
		r = new_code(&codes[i]);
	if (r == UDB_OK)
		r = recovery_text(codes, &text);
	if (r == UDB_OK)
		r = begin(db);
	if (r != UDB_OK)
		goto out;
	r = row_read(db, user_id, &row);
	if (r == UDB_OK && row.secret_len == 0)
		r = UDB_NOT_FOUND;
	if (r == UDB_OK)
		r = store_recovery(db, user_id, text);
	r = udb_db_finish(db, r);
out:
	row_wipe(&row);
	free(text);
	if (r == UDB_OK) {
		*ret_codes = codes;
	} else {
		udb_totp_codes_free(codes);
	}
	return r;
}

/* Which unused line of recovery the typed code matches; -1 when none.
 * Every unused line is tried, whatever matched. */
static int
matching_recovery(const char *recovery, const char *typed)
{
	char norm[16];
	int line_no = 0, found = -1;

	if (!recovery || !normalise_code(typed, norm, sizeof(norm)))
		return -1;
	for (const char *line = recovery; *line; line_no++) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char hash[256];

		if (line[0] == '0' && line[1] == ':' && len - 2 < sizeof(hash)) {
			memcpy(hash, line + 2, len - 2);
			hash[len - 2] = '\0';
			if (udb_hash_token_matches(norm, hash))
				found = line_no;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	explicit_bzero(norm, sizeof(norm));
	return found;
}

/* Marks line line_no of row's recovery text used, in the store. */
static enum udb_result
spend_recovery(struct udb_db *db, int64_t user_id, char *recovery, int line_no)
{
	char *line = recovery;

	for (int i = 0; i < line_no && line; i++) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line)
		return UDB_INTERNAL;
	line[0] = '1';
	return store_recovery(db, user_id, recovery);
}

static enum udb_result
use_step(struct udb_db *db, int64_t user_id, int64_t step)
{
	sqlite3_stmt *stmt = NULL;
	enum udb_result r;

	r = udb_stmt(db, UDB_Q_TOTP_USE_STEP, &stmt);
	if (r != UDB_OK)
		return r;
	sqlite3_bind_int64(stmt, 1, user_id);
	sqlite3_bind_int64(stmt, 2, step);
	return udb_stmt_exec(db, UDB_Q_TOTP_USE_STEP);
}

enum udb_result
udb_totp_check_in_tx(struct udb_db *db, int64_t user_id, const char *code, int64_t now,
		     unsigned window, bool consume, bool *ret_right)
{
	struct row row;
	enum udb_result r;
	int64_t step = 0;
	int line_no = -1;

	*ret_right = false;
	r = row_read(db, user_id, &row);
	if (r == UDB_NOT_FOUND)
		return UDB_OK;
	if (r != UDB_OK)
		return r;
	if (row.secret_len && is_totp_code(code)) {
		step = matching_step(row.secret, row.secret_len, code, now, window);
		/* A step at or before the last one used is a replay. */
		if (step <= row.last_step)
			step = 0;
	} else if (row.secret_len) {
		line_no = matching_recovery(row.recovery, code);
	}
	*ret_right = step > 0 || line_no >= 0;
	if (*ret_right && consume)
		r = step > 0 ? use_step(db, user_id, step)
			     : spend_recovery(db, user_id, row.recovery, line_no);
	row_wipe(&row);
	return r;
}

/* Appends s percent-encoded (RFC 3986: all but the unreserved characters)
 * at out + *len. out has room for 3 * strlen(s) more bytes. */
static void
append_encoded(char *out, size_t *len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			out[(*len)++] = (char)*p;
		} else {
			out[(*len)++] = '%';
			out[(*len)++] = hex[*p >> 4];
			out[(*len)++] = hex[*p & 15];
		}
	}
	out[*len] = '\0';
}

char *
udb_totp_uri(const char *issuer, const char *user, const char *secret_base32)
{
	size_t size = 3 * (2 * strlen(issuer) + strlen(user) + strlen(secret_base32)) + 128;
	char *out = malloc(size);
	size_t len = 0;

	if (!out)
		return NULL;
	len = (size_t)snprintf(out, size, "otpauth://totp/");
	append_encoded(out, &len, issuer);
	/* The label's colon separates issuer and account; encoded, as the
	 * format allows, so that every app reads it the same way. */
	append_encoded(out, &len, ":");
	append_encoded(out, &len, user);
	len += (size_t)snprintf(out + len, size - len, "?secret=");
	append_encoded(out, &len, secret_base32);
	len += (size_t)snprintf(out + len, size - len, "&issuer=");
	append_encoded(out, &len, issuer);
	snprintf(out + len, size - len, "&algorithm=SHA1&digits=%d&period=%d", UDB_TOTP_DIGITS,
		 UDB_TOTP_STEP);
	return out;
}
