/* libxcrypt hashing, constant-time comparison and wiping. Called by the PAM
 * module (auth, password) and the CLI (user add, user passwd). */
#include <crypt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

void
udb_secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

static const char *
method_prefix(const struct udb_config *cfg)
{
	return cfg && cfg->hash_method ? cfg->hash_method : crypt_preferred_method();
}

size_t
udb_hash_password_max(const struct udb_config *cfg)
{
	const char *m = method_prefix(cfg);

	/* libxcrypt's bcrypt variants: $2b$, $2a$, $2y$ (and the broken $2x$,
	 * which it does not make new hashes with). */
	if (m && m[0] == '$' && m[1] == '2' && m[2] != '\0' && m[3] == '$')
		return UDB_PASSWORD_MAX_BCRYPT;
	return UDB_PASSWORD_MAX;
}

/* Makes a fresh setting (method, cost, random salt) into buf. */
static bool
make_setting(const struct udb_config *cfg, char *buf, int size)
{
	return crypt_gensalt_rn(method_prefix(cfg), cfg ? cfg->hash_cost : 0, NULL, 0, buf, size) !=
		       NULL &&
	       buf[0] != '*';
}

enum udb_result
udb_config_check_hash(const struct udb_config *cfg)
{
	/* Fixed salt bytes: only the method and cost are being checked, so
	 * this needs no entropy. */
	static const char rbytes[32];
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (!crypt_gensalt_rn(method_prefix(cfg), cfg ? cfg->hash_cost : 0, rbytes, sizeof(rbytes),
			      setting, sizeof(setting)) ||
	    setting[0] == '*')
		return UDB_INVALID;
	return UDB_OK;
}

/* Hashes password with setting into a wiped-on-free heap crypt_data;
 * returns a malloc'd copy of the result, or NULL. */
static char *
hash_with(const char *password, const char *setting)
{
	struct crypt_data *data;
	char *out = NULL;
	const char *res;

	data = calloc(1, sizeof(*data));
	if (!data)
		return NULL;
	res = crypt_rn(password, setting, data, sizeof(*data));
	if (res && res[0] != '*')
		out = strdup(res);
	explicit_bzero(data, sizeof(*data));
	free(data);
	return out;
}

enum udb_result
udb_hash_password(const struct udb_config *cfg, const char *password, char **ret_hash)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char *hash;

	if (!password || strlen(password) > udb_hash_password_max(cfg))
		return UDB_INVALID;
	if (!make_setting(cfg, setting, sizeof(setting)))
		return UDB_INVALID;
	hash = hash_with(password, setting);
	if (!hash)
		return UDB_NO_MEMORY;
	*ret_hash = hash;
	return UDB_OK;
}

void
udb_hash_burn(const struct udb_config *cfg, const char *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char passbuf[UDB_PASSWORD_MAX + 1];

	/* Hash at most UDB_PASSWORD_MAX bytes so a 1 MB password does not cost
	 * more here than it would on the real path. */
	strncpy(passbuf, password ? password : "", sizeof(passbuf) - 1);
	passbuf[sizeof(passbuf) - 1] = '\0';
	if (make_setting(cfg, setting, sizeof(setting)))
		udb_secret_free(hash_with(passbuf, setting));
	explicit_bzero(passbuf, sizeof(passbuf));
}

bool
udb_equal_constant_time(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la > lb ? la : lb;
	volatile unsigned char diff = la != lb;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(i < la ? a[i] : 0) ^ (unsigned char)(i < lb ? b[i] : 0);
	return diff == 0;
}

static bool
hash_is_usable(const char *hash)
{
	return hash && hash[0] != '\0' && hash[0] != '*' && hash[0] != '!' &&
	       crypt_checksalt(hash) != CRYPT_SALT_INVALID;
}

enum udb_result
udb_hash_check_stored(const char *hash)
{
	const char *tail;
	int check;

	if (!hash || strnlen(hash, CRYPT_OUTPUT_SIZE) >= CRYPT_OUTPUT_SIZE)
		return UDB_INVALID;
	for (const char *p = hash; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ':')
			return UDB_INVALID;
	if (!hash_is_usable(hash) || hash[0] != '$')
		return UDB_INVALID;
	/* After the method, its parameters and the salt, each ending in `$`,
	 * comes the hash proper: crypt's base-64 alphabet, never empty. */
	tail = strrchr(hash, '$') + 1;
	if (tail[0] == '\0' ||
	    strspn(tail, "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") !=
		    strlen(tail))
		return UDB_INVALID;
	check = crypt_checksalt(hash);
	return check == CRYPT_SALT_OK || check == CRYPT_SALT_METHOD_LEGACY ||
			       check == CRYPT_SALT_TOO_CHEAP
		       ? UDB_OK
		       : UDB_INVALID;
}

enum udb_result
udb_hash_verify(const struct udb_config *cfg, const char *password, const char *hash)
{
	enum udb_result r = UDB_AUTH_FAILED;
	char *computed;

	if (!password || strlen(password) > UDB_PASSWORD_MAX || !hash_is_usable(hash)) {
		udb_hash_burn(cfg, password);
		return UDB_AUTH_FAILED;
	}
	computed = hash_with(password, hash);
	if (!computed)
		return UDB_AUTH_FAILED;
	if (udb_equal_constant_time(computed, hash))
		r = UDB_OK;
	udb_secret_free(computed);
	return r;
}

bool
udb_hash_is_outdated(const struct udb_config *cfg, const char *hash)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *last;
	size_t params;
	int check;

	if (!hash_is_usable(hash))
		return true;
	check = crypt_checksalt(hash);
	if (check == CRYPT_SALT_METHOD_LEGACY || check == CRYPT_SALT_TOO_CHEAP ||
	    check == CRYPT_SALT_METHOD_DISABLED)
		return true;
	/* A fresh setting is "<method and cost>$<salt>" (bcrypt: the salt
	 * follows the last `$` directly): everything up to its last `$` must
	 * be the hash's prefix too. */
	if (!make_setting(cfg, setting, sizeof(setting)))
		return false;
	last = strrchr(setting, '$');
	if (!last)
		return false;
	params = (size_t)(last - setting) + 1;
	if (strncmp(setting, hash, params) != 0)
		return true;
	/* What follows is "<salt>$<checksum>" (bcrypt: no `$` at all); a second
	 * `$` is a parameter the configured setting lacks, such as sha512's
	 * "rounds=1000$" when the default cost is configured. */
	last = strchr(hash + params, '$');
	return last && strchr(last + 1, '$');
}

/* A hash of the configured method, made beside the verification of an
 * outdated one (udb_hash_verify_timed). */
struct rehash {
	const struct udb_config *cfg;
	const char *password;
	char *hash;
	enum udb_result r;
};

static void *
rehash(void *arg)
{
	struct rehash *h = arg;

	h->r = udb_hash_password(h->cfg, h->password, &h->hash);
	return NULL;
}

enum udb_result
udb_hash_verify_timed(const struct udb_config *cfg, const char *password, const char *hash,
		      char **ret_new_hash)
{
	struct rehash h = {.cfg = cfg, .password = password, .r = UDB_INVALID};
	sigset_t all, old;
	bool threaded;
	enum udb_result r;
	pthread_t t;

	*ret_new_hash = NULL;
	if (!password || strlen(password) > UDB_PASSWORD_MAX || !hash_is_usable(hash) ||
	    !udb_hash_is_outdated(cfg, hash))
		return udb_hash_verify(cfg, password, hash);
	/* The second thread takes no signal: the caller's handlers (sshd's
	 * login grace alarm) run where the caller expects them. Without a
	 * thread the configured hash follows the verification: slower than
	 * any other user, never faster. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	threaded = pthread_create(&t, NULL, rehash, &h) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	r = udb_hash_verify(cfg, password, hash);
	if (threaded)
		pthread_join(t, NULL);
	else
		rehash(&h);
	/* On a fleet host the hash is central's: a local replacement would
	 * differ from every other copy (and be undone by the next full sync);
	 * a new method reaches hosts through a password change. The time is
	 * spent all the same. */
	if (h.r == UDB_OK && r == UDB_OK && !(cfg && cfg->host))
		*ret_new_hash = h.hash;
	else
		udb_secret_free(h.hash);
	return r;
}

/* A token is random (a recovery code carries 60 bits), so no slow hash is
 * needed against guessing it from its hash: sha256crypt at its least cost
 * keeps a check of all ten codes of a user near a millisecond. */
#define TOKEN_PREFIX "$5$"
#define TOKEN_COST   1000

enum udb_result
udb_hash_token(const char *token, char **ret_hash)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char *hash;

	if (!crypt_gensalt_rn(TOKEN_PREFIX, TOKEN_COST, NULL, 0, setting, sizeof(setting)))
		return UDB_INTERNAL;
	hash = hash_with(token, setting);
	if (!hash)
		return UDB_NO_MEMORY;
	*ret_hash = hash;
	return UDB_OK;
}

bool
udb_hash_token_matches(const char *token, const char *hash)
{
	char *again;
	bool same;

	if (strncmp(hash, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
		return false;
	again = hash_with(token, hash);
	same = again && udb_equal_constant_time(again, hash);
	udb_secret_free(again);
	return same;
}
