/* Packing a user, a group or an account into the caller's struct and
 * buffer. Called by the entry points of the module (passwd.c, group.c,
 * shadow.c); pure, so the tests can reach every buffer size through them.
 *
 * Each packer first computes the exact size the record needs at this
 * buffer's address and refuses anything smaller, so a short buffer never
 * yields a truncated record and the caller's struct stays untouched: glibc
 * answers TRYAGAIN/ERANGE with a larger buffer and calls again.
 *
 * Every record is checked with validate.h's entry rules after it is laid
 * out in the buffer and before the caller's struct is filled: a row that
 * breaks them (planted with sqlite3, or damaged) is UDB_CORRUPT, never
 * served. */
#include <stdalign.h>
#include <string.h>

#include "pack.h"
#include "validate.h"

#define DAY 86400

/* A cursor over the caller's buffer; sizes were checked beforehand. */
struct out {
	char *p;
};

static char *
put_str(struct out *o, const char *s, size_t len)
{
	char *start = o->p;

	memcpy(o->p, s, len);
	o->p[len] = '\0';
	o->p += len + 1;
	return start;
}

size_t
udb_pack_passwd_size(const struct udb_user_view *u, struct udb_passwd_lens *ret_lens)
{
	ret_lens->name = strlen(u->username);
	ret_lens->first = strlen(u->first_name);
	ret_lens->last = strlen(u->last_name);
	ret_lens->home = strlen(u->home);
	ret_lens->shell = strlen(u->shell);
	/* GECOS is "First Last", or whichever of the two is set, or "". */
	ret_lens->gecos =
		ret_lens->first + ret_lens->last + (ret_lens->first && ret_lens->last ? 1 : 0);
	return ret_lens->name + 1 + 2 + ret_lens->gecos + 1 + ret_lens->home + 1 + ret_lens->shell +
	       1;
}

/* Writes the strings of u at buf, which has room for them, and points
 * *result at them. */
static void
put_passwd(const struct udb_user_view *u, const struct udb_passwd_lens *lens, struct passwd *result,
	   char *buf)
{
	struct out o = {buf};

	result->pw_name = put_str(&o, u->username, lens->name);
	result->pw_passwd = put_str(&o, "x", 1);
	result->pw_uid = u->uid;
	result->pw_gid = u->gid;
	result->pw_gecos = o.p;
	memcpy(o.p, u->first_name, lens->first);
	o.p += lens->first;
	if (lens->first && lens->last)
		*o.p++ = ' ';
	put_str(&o, u->last_name, lens->last);
	result->pw_dir = put_str(&o, u->home, lens->home);
	result->pw_shell = put_str(&o, u->shell, lens->shell);
}

enum udb_result
udb_pack_passwd(const struct udb_user_view *u, const struct udb_config *cfg, struct passwd *result,
		char *buf, size_t buflen)
{
	struct udb_passwd_lens lens;
	struct passwd pw;
	enum udb_result r;

	if (buflen < udb_pack_passwd_size(u, &lens))
		return UDB_BUFFER_TOO_SMALL;
	put_passwd(u, &lens, &pw, buf);
	r = udb_passwd_entry_check(&pw, cfg);
	if (r == UDB_OK)
		*result = pw;
	return r;
}

/* Where the five strings of a ready-made entry start: each must end with
 * a NUL inside the entry, and the fifth with its last byte. Whatever the
 * row holds, no offset and no string runs past len. */
static enum udb_result
split_entry(const char *strings, size_t len, uint32_t ret_off[5])
{
	size_t at = 0;

	if (!strings || len > UINT32_MAX)
		return UDB_CORRUPT;
	for (int i = 0; i < 5; i++) {
		const char *nul = at < len ? memchr(strings + at, '\0', len - at) : NULL;

		if (!nul)
			return UDB_CORRUPT;
		ret_off[i] = (uint32_t)at;
		at = (size_t)(nul - strings) + 1;
	}
	return at == len ? UDB_OK : UDB_CORRUPT;
}

/* Points result's fields into buf, which holds the packed entry e. */
static void
point_passwd(const struct udb_packed_passwd *e, char *buf, struct passwd *result)
{
	result->pw_name = buf;
	result->pw_passwd = buf + e->passwd;
	result->pw_uid = e->uid;
	result->pw_gid = e->gid;
	result->pw_gecos = buf + e->gecos;
	result->pw_dir = buf + e->dir;
	result->pw_shell = buf + e->shell;
}

enum udb_result
udb_pack_passwd_entry(const struct udb_passwd_entry *e, const struct udb_config *cfg, char *block,
		      struct udb_packed_passwd *ret_entry)
{
	struct udb_packed_passwd packed;
	struct passwd pw;
	uint32_t off[5];
	enum udb_result r;

	r = split_entry(e->strings, e->len, off);
	if (r != UDB_OK)
		return r;
	memcpy(block, e->strings, e->len);
	packed = (struct udb_packed_passwd){
		.len = (uint32_t)e->len,
		.uid = e->uid,
		.gid = e->gid,
		.passwd = off[1],
		.gecos = off[2],
		.dir = off[3],
		.shell = off[4],
	};
	point_passwd(&packed, block, &pw);
	r = udb_passwd_entry_check(&pw, cfg);
	if (r == UDB_OK)
		*ret_entry = packed;
	return r;
}

enum udb_result
udb_pack_passwd_from_entry(const struct udb_passwd_entry *entry, const struct udb_config *cfg,
			   struct passwd *result, char *buf, size_t buflen)
{
	struct udb_packed_passwd e;
	enum udb_result r;

	if (buflen < entry->len)
		return UDB_BUFFER_TOO_SMALL;
	r = udb_pack_passwd_entry(entry, cfg, buf, &e);
	if (r == UDB_OK)
		point_passwd(&e, buf, result);
	return r;
}

enum udb_result
udb_pack_img_passwd(const struct udb_img_passwd *u, const struct udb_config *cfg,
		    struct passwd *result, char *buf, size_t buflen)
{
	struct passwd pw;
	enum udb_result r;

	if (buflen < u->len)
		return UDB_BUFFER_TOO_SMALL;
	/* The copy is what is checked and handed out. */
	memcpy(buf, u->entry, u->len);
	pw = (struct passwd){
		.pw_name = buf,
		.pw_passwd = buf + u->name_len + 1,
		.pw_uid = u->uid,
		.pw_gid = u->gid,
		.pw_gecos = buf + u->gecos,
		.pw_dir = buf + u->dir,
		.pw_shell = buf + u->shell,
	};
	r = udb_passwd_entry_check(&pw, cfg);
	if (r == UDB_OK)
		*result = pw;
	return r;
}

enum udb_result
udb_unpack_passwd(const struct udb_packed_passwd *e, const char *page, struct passwd *result,
		  char *buf, size_t buflen)
{
	if (buflen < e->len)
		return UDB_BUFFER_TOO_SMALL;
	memcpy(buf, page + e->off, e->len);
	point_passwd(e, buf, result);
	return UDB_OK;
}

enum udb_result
udb_pack_group(const struct udb_group *g, const struct udb_config *cfg, struct group *result,
	       char *buf, size_t buflen)
{
	/* gr_mem points into buf, so the pointer array goes first, at the first
	 * address in buf aligned for char *; the strings follow it. */
	size_t pad = (alignof(char *) - (uintptr_t)buf % alignof(char *)) % alignof(char *);
	size_t name = strlen(g->name), need, strings = 0;
	struct group gr;
	struct out o;
	enum udb_result r;
	char **mem;

	if (g->n_members >= (SIZE_MAX - pad) / sizeof(char *) - 1)
		return UDB_BUFFER_TOO_SMALL;
	for (size_t i = 0; i < g->n_members; i++)
		strings += strlen(g->members[i]) + 1;
	need = pad + (g->n_members + 1) * sizeof(char *) + name + 1 + 2 + strings;
	if (buflen < need)
		return UDB_BUFFER_TOO_SMALL;
	mem = (char **)(void *)(buf + pad);
	o.p = (char *)(mem + g->n_members + 1);
	for (size_t i = 0; i < g->n_members; i++)
		mem[i] = put_str(&o, g->members[i], strlen(g->members[i]));
	mem[g->n_members] = NULL;
	gr.gr_name = put_str(&o, g->name, name);
	gr.gr_passwd = put_str(&o, "x", 1);
	gr.gr_gid = g->gid;
	gr.gr_mem = mem;
	r = udb_group_entry_check(&gr, cfg);
	if (r == UDB_OK)
		*result = gr;
	return r;
}

/* The timed members of role shown at now: how many, and the bytes of
 * their names. */
static enum udb_result
timed_shown(const struct udb_img_group *role, int64_t now, size_t *ret_n, size_t *ret_bytes)
{
	for (uint32_t t = 0; t < role->n_timed; t++) {
		const char *name;
		size_t len;
		bool shown;
		enum udb_result r = udb_img_timed_member(role, t, now, &name, &len, &shown);

		if (r != UDB_OK)
			return r;
		if (shown) {
			(*ret_n)++;
			*ret_bytes += len + 1;
		}
	}
	return UDB_OK;
}

enum udb_result
udb_pack_img_role(const struct udb_img_group *role, const struct udb_config *cfg, int64_t now,
		  struct group *result, char *buf, size_t buflen)
{
	size_t pad = (alignof(char *) - (uintptr_t)buf % alignof(char *)) % alignof(char *);
	size_t n_timed = 0, timed_bytes = 0, n, need;
	char *no_members[] = {NULL};
	struct group gr = {(char *)(uintptr_t)role->name, (char *)(uintptr_t) "x", role->gid,
			   no_members};
	struct out o;
	char **mem;
	enum udb_result r;

	/* The name and gid here, the members by the writer (validate.h's rule
	 * for a member is the user name rule): a role with a bad one is not
	 * served. */
	if (role->bad_member)
		return UDB_CORRUPT;
	r = udb_group_entry_check(&gr, cfg);
	if (r == UDB_OK)
		r = timed_shown(role, now, &n_timed, &timed_bytes);
	if (r != UDB_OK)
		return r;
	/* The reader checked the block (inside the image, ending with a NUL,
	 * at least one byte per name): n bounds the pointer array. */
	n = (size_t)role->n_members + n_timed;
	if (n >= (SIZE_MAX - pad) / sizeof(char *) - 1)
		return UDB_BUFFER_TOO_SMALL;
	need = pad + (n + 1) * sizeof(char *) + role->members_len + timed_bytes + role->name_len +
	       1 + 2;
	if (buflen < need)
		return UDB_BUFFER_TOO_SMALL;
	mem = (char **)(void *)(buf + pad);
	o.p = (char *)(mem + n + 1);
	/* The block in one copy, then its names by their lengths, which the
	 * reader checked add up to the block. */
	if (role->members_len > 0)
		memcpy(o.p, role->members, role->members_len);
	{
		/* Locals: a store to mem[] could alias *role otherwise. */
		const uint8_t *lens = role->lens;
		uint32_t n_members = role->n_members;
		char *at = o.p;

		for (uint32_t i = 0; i < n_members; i++) {
			mem[i] = at;
			at += lens[i] + 1;
		}
		o.p = at;
	}
	for (uint32_t t = 0, k = role->n_members; t < role->n_timed; t++) {
		const char *name;
		size_t len;
		bool shown;

		/* Checked by timed_shown(); the same answer again. */
		(void)udb_img_timed_member(role, t, now, &name, &len, &shown);
		if (shown && k < n)
			mem[k++] = put_str(&o, name, len);
	}
	mem[n] = NULL;
	gr.gr_name = put_str(&o, role->name, role->name_len);
	gr.gr_passwd = put_str(&o, "x", 1);
	gr.gr_mem = mem;
	*result = gr;
	return UDB_OK;
}

static long
days(int64_t t)
{
	/* Floor, also for times before 1970, and without overflow for any
	 * value a damaged database may hold (-t overflows at INT64_MIN). */
	return (long)(t / DAY - (t % DAY < 0));
}

enum udb_result
udb_pack_shadow(const struct udb_account *a, int64_t now, struct spwd *result, char *buf,
		size_t buflen)
{
	const char *prefix, *hash;
	size_t name, plen, hlen;
	struct out o = {buf};
	struct spwd sp;
	enum udb_result r;

	if (!a->username)
		return UDB_INTERNAL;
	udb_account_shadow_pwdp(a, now, &prefix, &hash);
	name = strlen(a->username);
	plen = strlen(prefix);
	hlen = strlen(hash);
	if (buflen < name + 1 + plen + hlen + 1)
		return UDB_BUFFER_TOO_SMALL;
	sp.sp_namp = put_str(&o, a->username, name);
	sp.sp_pwdp = o.p;
	memcpy(o.p, prefix, plen);
	o.p += plen;
	put_str(&o, hash, hlen);
	/* 0 forces a change at the next login; -1 (empty) disables aging. */
	if (a->must_change)
		sp.sp_lstchg = 0;
	else
		sp.sp_lstchg = a->password_changed_at ? days(a->password_changed_at) : -1;
	sp.sp_min = a->min_days;
	sp.sp_max = a->max_days;
	sp.sp_warn = a->warn_days;
	sp.sp_inact = a->inactive_days;
	/* A disabled or not yet valid account shows as expired since day 1
	 * (0 would read as "never" to some tools). not_after is the first
	 * second the account is invalid; flooring it to a day expires the
	 * account at most a day early, never late. */
	if (!a->is_enabled || (a->not_before && now < a->not_before))
		sp.sp_expire = 1;
	else if (a->not_after)
		sp.sp_expire = days(a->not_after) > 1 ? days(a->not_after) : 1;
	else
		sp.sp_expire = -1;
	sp.sp_flag = (unsigned long)-1;
	r = udb_shadow_entry_check(&sp);
	if (r == UDB_OK)
		*result = sp;
	return r;
}
