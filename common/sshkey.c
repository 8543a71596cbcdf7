/* Parsing and checking SSH public keys (see sshkey.h). The line syntax and
 * the option rules follow OpenSSH's authorized_keys format (sshd(8),
 * "AUTHORIZED_KEYS FILE FORMAT"): optional options, the key type, the
 * base64 blob, an optional comment. The blob is decoded and walked as the
 * SSH wire format (RFC 4253 section 6.6, RFC 5656, RFC 8709 and OpenSSH's
 * PROTOCOL.u2f for the sk- types), so a key whose blob holds another type,
 * is cut short or has bytes left over is refused here, not by sshd at
 * login. Base64 and SHA-256 come from nettle. */
#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sshkey.h"

/* What follows the type string in each type's blob. */
enum blob_shape {
	SHAPE_ED25519,    /* string pk (32 bytes) */
	SHAPE_SK_ED25519, /* string pk (32 bytes), string application */
	SHAPE_RSA,        /* mpint e, mpint n */
	SHAPE_ECDSA,      /* string curve, string point */
	SHAPE_SK_ECDSA,   /* string curve, string point, string application */
};

static const struct key_type {
	const char *name;
	enum blob_shape shape;
	const char *curve;
	size_t point_len; /* an uncompressed point: 0x04, x, y */
} key_types[] = {
	{"ssh-ed25519", SHAPE_ED25519, NULL, 0},
	{"sk-ssh-ed25519@openssh.com", SHAPE_SK_ED25519, NULL, 0},
	{"ssh-rsa", SHAPE_RSA, NULL, 0},
	{"ecdsa-sha2-nistp256", SHAPE_ECDSA, "nistp256", 65},
	{"ecdsa-sha2-nistp384", SHAPE_ECDSA, "nistp384", 97},
	{"ecdsa-sha2-nistp521", SHAPE_ECDSA, "nistp521", 133},
	{"sk-ecdsa-sha2-nistp256@openssh.com", SHAPE_SK_ECDSA, "nistp256", 65},
};

#define N_KEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

/* OpenSSH refuses RSA keys below 1024 bits (SSH_RSA_MINIMUM_MODULUS_SIZE). */
#define RSA_MIN_MODULUS_BYTES 128
/* sshkey.h's SSH_MAX_PUBKEY_BYTES. */
#define BLOB_MAX 16384

static const struct key_type *
find_type(const char *s, size_t len)
{
	for (size_t i = 0; i < N_KEY_TYPES; i++)
		if (strlen(key_types[i].name) == len && memcmp(key_types[i].name, s, len) == 0)
			return &key_types[i];
	return NULL;
}

bool
udb_sshkey_known_type(const char *s, size_t len)
{
	return find_type(s, len) != NULL;
}

void
udb_sshkey_clear(struct udb_sshkey *key)
{
	if (!key)
		return;
	free(key->buf_);
	memset(key, 0, sizeof(*key));
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

bool
udb_sshkey_line_is_blank(const char *line)
{
	while (is_blank(*line))
		line++;
	return *line == '\0' || *line == '#' || *line == '\n' || *line == '\r';
}

/* A reader of the SSH wire format over the decoded blob. */
struct wire {
	const unsigned char *p;
	size_t left;
};

/* Takes one uint32-length-prefixed string; false when the blob is short. */
static bool
wire_string(struct wire *w, const unsigned char **ret_s, size_t *ret_len)
{
	uint32_t n;

	if (w->left < 4)
		return false;
	n = (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 | (uint32_t)w->p[2] << 8 | w->p[3];
	if (n > w->left - 4)
		return false;
	*ret_s = w->p + 4;
	*ret_len = n;
	w->p += 4 + (size_t)n;
	w->left -= 4 + (size_t)n;
	return true;
}

static bool
wire_string_is(struct wire *w, const char *expect)
{
	const unsigned char *s;
	size_t n;

	return wire_string(w, &s, &n) && n == strlen(expect) && memcmp(s, expect, n) == 0;
}

/* A positive mpint of at least min_bytes bytes of magnitude. */
static bool
wire_mpint(struct wire *w, size_t min_bytes)
{
	const unsigned char *s;
	size_t n;

	if (!wire_string(w, &s, &n) || n == 0 || (s[0] & 0x80))
		return false;
	if (s[0] == 0) {
		s++;
		n--;
	}
	return n >= min_bytes && n > 0;
}

static bool
wire_fixed(struct wire *w, size_t len)
{
	const unsigned char *s;
	size_t n;

	return wire_string(w, &s, &n) && n == len;
}

static bool
wire_point(struct wire *w, size_t len)
{
	const unsigned char *s;
	size_t n;

	return wire_string(w, &s, &n) && n == len && s[0] == 0x04;
}

static bool
wire_application(struct wire *w)
{
	const unsigned char *s;
	size_t n;

	/* OpenSSH's sk keys name a FIDO application, "ssh:" by default. */
	return wire_string(w, &s, &n) && n > 0;
}

/* The blob after its type string, by the type's shape; nothing may be left. */
static bool
check_shape(struct wire *w, const struct key_type *t)
{
	bool ok = false;

	switch (t->shape) {
	case SHAPE_ED25519:
		ok = wire_fixed(w, 32);
		break;
	case SHAPE_SK_ED25519:
		ok = wire_fixed(w, 32) && wire_application(w);
		break;
	case SHAPE_RSA:
		ok = wire_mpint(w, 1) && wire_mpint(w, RSA_MIN_MODULUS_BYTES);
		break;
	case SHAPE_ECDSA:
		ok = wire_string_is(w, t->curve) && wire_point(w, t->point_len);
		break;
	case SHAPE_SK_ECDSA:
		ok = wire_string_is(w, t->curve) && wire_point(w, t->point_len) &&
		     wire_application(w);
		break;
	}
	return ok && w->left == 0;
}

/* Strict base64: the alphabet, '=' only as the last one or two of a
 * length that is a multiple of four. nettle's decoder skips blanks, which
 * a key blob must not have. */
static bool
strict_base64(const char *s, size_t len)
{
	size_t pad = 0;

	if (len == 0 || len % 4 != 0)
		return false;
	while (pad < 2 && s[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return false;
	}
	return true;
}

static void
fingerprint(const unsigned char *blob, size_t len, char ret_fp[UDB_SSHKEY_FP_SIZE])
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char b64[BASE64_ENCODE_RAW_LENGTH(SHA256_DIGEST_SIZE) + 1];
	size_t n = BASE64_ENCODE_RAW_LENGTH(SHA256_DIGEST_SIZE);

	sha256_init(&ctx);
	sha256_update(&ctx, len, blob);
	sha256_digest(&ctx, sizeof(digest), digest);
	base64_encode_raw(b64, sizeof(digest), digest);
	/* OpenSSH prints the digest without base64's padding. */
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	memcpy(ret_fp, "SHA256:", 7);
	memcpy(ret_fp + 7, b64, n + 1);
}

enum udb_result
udb_sshkey_check_blob(const char *type, const char *blob, char ret_fp[UDB_SSHKEY_FP_SIZE],
		      const char **ret_why)
{
	const struct key_type *t = find_type(type, strlen(type));
	size_t len = strlen(blob), out_len;
	struct base64_decode_ctx ctx;
	unsigned char *raw = NULL;
	struct wire w;
	enum udb_result r = UDB_INVALID;

	*ret_why = "unknown key type";
	if (!t)
		return UDB_INVALID;
	*ret_why = "the key is not valid base64";
	if (!strict_base64(blob, len) || BASE64_DECODE_LENGTH(len) > BLOB_MAX + 3)
		return UDB_INVALID;
	raw = malloc(BASE64_DECODE_LENGTH(len));
	if (!raw)
		return UDB_NO_MEMORY;
	base64_decode_init(&ctx);
	out_len = BASE64_DECODE_LENGTH(len);
	if (!base64_decode_update(&ctx, &out_len, raw, len, blob) || !base64_decode_final(&ctx))
		goto out;
	w = (struct wire){raw, out_len};
	*ret_why = "the key's blob holds another key type than the one stated";
	if (!wire_string_is(&w, t->name))
		goto out;
	*ret_why = "the key's blob is damaged (cut short, too small or with bytes left over)";
	if (!check_shape(&w, t))
		goto out;
	fingerprint(raw, out_len, ret_fp);
	*ret_why = NULL;
	r = UDB_OK;
out:
	free(raw);
	return r;
}

/* OpenSSH's option names (auth-options.c). Flags take no value; the
 * negatable ones also exist with "no-" before them. */
static const char *const flag_options[] = {"restrict", "cert-authority", "no-touch-required",
					   "verify-required"};
static const char *const negatable_options[] = {"port-forwarding", "agent-forwarding",
						"x11-forwarding", "pty", "user-rc"};
static const char *const value_options[] = {"command",      "principals",  "from",
					    "expiry-time",  "environment", "permitopen",
					    "permitlisten", "tunnel"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool
name_in(const char *name, size_t len, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncasecmp(list[i], name, len) == 0)
			return true;
	return false;
}

static bool
is_flag_option(const char *name, size_t len)
{
	if (name_in(name, len, flag_options, N_OF(flag_options)) ||
	    name_in(name, len, negatable_options, N_OF(negatable_options)))
		return true;
	return len > 3 && strncasecmp(name, "no-", 3) == 0 &&
	       name_in(name + 3, len - 3, negatable_options, N_OF(negatable_options));
}

/* The value of expiry-time, tunnel and environment as sshd reads them. */
static bool
valid_value(const char *name, size_t name_len, const char *v, size_t len)
{
	size_t i = 0;

	if (name_len == 11 && strncasecmp(name, "expiry-time", 11) == 0) {
		for (; i < len; i++)
			if (v[i] < '0' || v[i] > '9')
				return false;
		return len == 8 || len == 12 || len == 14;
	}
	if (name_len == 6 && strncasecmp(name, "tunnel", 6) == 0) {
		for (; i < len; i++)
			if (v[i] < '0' || v[i] > '9')
				return false;
		return len > 0 && len <= 9;
	}
	if (name_len == 11 && strncasecmp(name, "environment", 11) == 0) {
		for (; i < len && v[i] != '='; i++)
			if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') ||
			      (v[i] >= '0' && v[i] <= '9') || v[i] == '_'))
				return false;
		return i > 0 && i < len;
	}
	return true;
}

/* One quoted value at *p (after the '='); moves *p past the closing quote. */
static bool
scan_value(const char **p, const char **ret_v, size_t *ret_len)
{
	const char *s = *p;

	if (*s != '"')
		return false;
	s++;
	*ret_v = s;
	while (*s && *s != '"') {
		if (*s == '\\' && s[1] == '"')
			s++;
		s++;
	}
	if (*s != '"')
		return false;
	*ret_len = (size_t)(s - *ret_v);
	*p = s + 1;
	return true;
}

bool
udb_sshkey_valid_options(const char *options, const char **ret_why)
{
	const char *p = options;

	*ret_why = "the options are too long or hold a control character";
	if (strlen(options) > UDB_SSHKEY_OPTIONS_MAX)
		return false;
	for (const char *c = options; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	while (*p) {
		const char *name = p, *v = NULL;
		size_t len, vlen = 0;

		while (*p && *p != '=' && *p != ',' && *p != '"' && !is_blank(*p))
			p++;
		len = (size_t)(p - name);
		*ret_why = "unknown option (OpenSSH's authorized_keys options only)";
		if (*p == '=') {
			if (!name_in(name, len, value_options, N_OF(value_options)))
				return false;
			p++;
			*ret_why = "an option's value must be in double quotes";
			if (!scan_value(&p, &v, &vlen))
				return false;
			*ret_why = "a bad value for expiry-time, tunnel or environment";
			if (!valid_value(name, len, v, vlen))
				return false;
		} else if (!is_flag_option(name, len)) {
			if (name_in(name, len, value_options, N_OF(value_options)))
				*ret_why = "an option that needs a value has none";
			return false;
		}
		*ret_why = "options must be separated by commas, without blanks";
		if (*p == ',' && p[1] != '\0')
			p++;
		else if (*p != '\0')
			return false;
	}
	*ret_why = NULL;
	return true;
}

bool
udb_sshkey_valid_comment(const char *comment)
{
	size_t n = 0;

	for (const char *c = comment; *c; c++, n++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return n <= UDB_SSHKEY_COMMENT_MAX;
}

/* Where the options end: the first blank outside double quotes. */
static char *
options_end(char *p)
{
	bool quoted = false;

	for (; *p; p++) {
		if (*p == '\\' && p[1] == '"' && quoted)
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (is_blank(*p) && !quoted)
			return p;
	}
	return NULL;
}

static char *
next_word(char **p)
{
	char *w;

	while (is_blank(**p))
		(*p)++;
	w = *p;
	while (**p && !is_blank(**p))
		(*p)++;
	if (**p)
		*(*p)++ = '\0';
	return w;
}

/* Splits buf into options, type, blob and comment. */
static enum udb_result
split_line(char *buf, struct udb_sshkey *k, const char **ret_why)
{
	char *p = buf, *end, *word;

	while (is_blank(*p))
		p++;
	end = p;
	while (*end && !is_blank(*end))
		end++;
	k->options = "";
	if (!udb_sshkey_known_type(p, (size_t)(end - p))) {
		/* Not a type: options come first, as sshd reads the line. */
		*ret_why = "unknown key type";
		end = options_end(p);
		if (!end)
			return UDB_INVALID;
		*end = '\0';
		k->options = p;
		p = end + 1;
	}
	k->type = next_word(&p);
	*ret_why = "unknown key type";
	if (!udb_sshkey_known_type(k->type, strlen(k->type)))
		return UDB_INVALID;
	word = next_word(&p);
	*ret_why = "the key is missing after its type";
	if (*word == '\0')
		return UDB_INVALID;
	k->blob = word;
	while (is_blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && is_blank(end[-1]))
		*--end = '\0';
	k->comment = p;
	return UDB_OK;
}

enum udb_result
udb_sshkey_parse(const char *line, struct udb_sshkey *ret_key, const char **ret_why)
{
	struct udb_sshkey k = {0};
	size_t len = strlen(line);
	enum udb_result r;

	*ret_why = "the line is too long";
	if (len > UDB_SSHKEY_LINE_MAX)
		return UDB_INVALID;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	*ret_why = "the line holds a newline or another control character";
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
			return UDB_INVALID;
	*ret_why = "no key on the line";
	if (udb_sshkey_line_is_blank(line))
		return UDB_INVALID;
	k.buf_ = strndup(line, len);
	if (!k.buf_)
		return UDB_NO_MEMORY;
	r = split_line(k.buf_, &k, ret_why);
	if (r == UDB_OK && !udb_sshkey_valid_options(k.options, ret_why))
		r = UDB_INVALID;
	if (r == UDB_OK)
		r = udb_sshkey_check_blob(k.type, k.blob, k.fingerprint, ret_why);
	if (r == UDB_OK && !udb_sshkey_valid_comment(k.comment)) {
		*ret_why = "the comment is too long";
		r = UDB_INVALID;
	}
	if (r != UDB_OK) {
		udb_sshkey_clear(&k);
		return r;
	}
	*ret_why = NULL;
	*ret_key = k;
	return UDB_OK;
}
