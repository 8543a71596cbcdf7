/* Fuzz target: the NSS packers of nss_userdb/pack.c, which copy a user, a
 * group or a shadow record into the caller's struct and buffer. Random
 * records (any bytes but NUL, any number of members), random ready-made
 * passwd entries (any bytes, NULs included, as a damaged passwd_entries
 * row holds them, in a block of exactly their length), random buffer sizes
 * around the exact need and random alignments; each answer is checked
 * against a reference computed here: UDB_BUFFER_TOO_SMALL exactly when the
 * need exceeds the size; else UDB_CORRUPT exactly when validate.h's entry
 * rules refuse the record as the reference lays it out, and otherwise
 * UDB_OK with every string intact, NUL-terminated and inside the buffer
 * (and the member array aligned); the caller's struct untouched unless
 * UDB_OK. Guard bytes on both sides of the buffer catch a stray write in
 * builds without ASan; ASan catches a read past an entry. */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pack.h"
#include "validate.h"

#define GUARD      32
#define GUARD_BYTE 0xa5
#define DAY        86400

/* The id ranges every record is checked against: the fuzzer's uids and
 * gids land inside them now and then (see pick_id). */
static const struct udb_config cfg = {
	.uid_min = 1000,
	.uid_max = 60000,
	.gid_min = 2000,
	.gid_max = 70000,
};

/* An id: inside or around the ranges most of the time, any value else. */
static uint32_t
pick_id(struct fuzz_input *in)
{
	uint8_t mode = fuzz_byte(in);
	uint32_t v = fuzz_u32(in);

	return mode % 2 ? 900 + v % 70000 : v;
}

/* Whether the reference layout of a passwd record passes the rules. */
static bool
ref_passwd_ok(const char *name, const char *gecos, const char *dir, const char *shell, uint32_t uid,
	      uint32_t gid)
{
	char x[] = "x";
	struct passwd pw = {
		.pw_name = (char *)(uintptr_t)name,
		.pw_passwd = x,
		.pw_uid = uid,
		.pw_gid = gid,
		.pw_gecos = (char *)(uintptr_t)gecos,
		.pw_dir = (char *)(uintptr_t)dir,
		.pw_shell = (char *)(uintptr_t)shell,
	};

	return udb_passwd_entry_check(&pw, &cfg) == UDB_OK;
}

/* A buffer of len bytes at an address that is align bytes past a 16-byte
 * boundary, with guard bytes in front and behind. */
struct buffer {
	unsigned char *region;
	char *buf;
	size_t len, align;
};

static void
buffer_make(struct buffer *b, size_t len, size_t align)
{
	b->len = len;
	b->align = align;
	b->region = malloc(GUARD + align + len + GUARD);
	fuzz_check(b->region != NULL, "out of memory");
	memset(b->region, GUARD_BYTE, GUARD + align + len + GUARD);
	b->buf = (char *)b->region + GUARD + align;
}

static void
buffer_check_free(struct buffer *b)
{
	for (size_t i = 0; i < GUARD + b->align; i++)
		fuzz_check(b->region[i] == GUARD_BYTE, "write before the buffer");
	for (size_t i = 0; i < GUARD; i++)
		fuzz_check(b->region[GUARD + b->align + b->len + i] == GUARD_BYTE,
			   "write past the buffer of %zu bytes", b->len);
	free(b->region);
}

/* s is a NUL-terminated string equal to want, wholly inside the buffer. */
static void
check_str(const struct buffer *b, const char *s, const char *want, const char *what)
{
	const char *end = b->buf + b->len;

	fuzz_check(s >= b->buf && s < end, "%s outside the buffer", what);
	fuzz_check(memchr(s, '\0', (size_t)(end - s)) != NULL, "%s not terminated inside", what);
	fuzz_check(strcmp(s, want) == 0, "%s is \"%s\", want \"%s\"", what, s, want);
}

/* Picks the buffer size: around the exact need most of the time. */
static size_t
pick_len(struct fuzz_input *in, size_t need)
{
	uint8_t mode = fuzz_byte(in);
	size_t delta = fuzz_byte(in);

	switch (mode % 4) {
	case 0:
		return need;
	case 1:
		return need > delta % 16 ? need - delta % 16 : 0;
	case 2:
		return need + delta % 64;
	default:
		return (size_t)fuzz_u32(in) % (2 * need + 64);
	}
}

/* Checks a packed passwd record against the strings it came from. */
static void
check_passwd(const struct buffer *b, const struct passwd *pw, const struct udb_user_view *u,
	     const char *gecos, const char *what)
{
	check_str(b, pw->pw_name, u->username, "pw_name");
	check_str(b, pw->pw_passwd, "x", "pw_passwd");
	check_str(b, pw->pw_gecos, gecos, "pw_gecos");
	check_str(b, pw->pw_dir, u->home, "pw_dir");
	check_str(b, pw->pw_shell, u->shell, "pw_shell");
	fuzz_check(pw->pw_uid == u->uid && pw->pw_gid == u->gid, "%s: ids", what);
}

/* The answer of a packer given a buffer of b->len bytes for a record of
 * need bytes that the rules accept (ok) or not: see the top of the file. */
static bool
check_answer(enum udb_result r, const struct buffer *b, size_t need, bool ok, const void *result,
	     const void *before, size_t size, const char *what)
{
	enum udb_result want = b->len < need ? UDB_BUFFER_TOO_SMALL : ok ? UDB_OK : UDB_CORRUPT;

	fuzz_check(r == want, "%s: %s with %zu of %zu bytes, want %s", what,
		   udb_result_to_string(r), b->len, need, udb_result_to_string(want));
	if (r != UDB_OK)
		fuzz_check(memcmp(result, before, size) == 0, "%s: struct changed", what);
	return r == UDB_OK;
}

/* The enumeration path: the entry is packed into a page at some offset,
 * then copied out of the page into the caller's buffer. */
static void
fuzz_enum_passwd(struct fuzz_input *in, const struct udb_user_view *u, size_t need,
		 const char *gecos)
{
	struct udb_passwd_lens lens;
	struct udb_packed_passwd e, e_before;
	struct udb_passwd_entry entry = {.uid = u->uid, .gid = u->gid};
	struct passwd pw, before;
	size_t off = fuzz_byte(in), size;
	struct buffer page, b;
	enum udb_result r;
	char *strings, *p;
	bool ok = ref_passwd_ok(u->username, gecos, u->home, u->shell, u->uid, u->gid);

	size = udb_pack_passwd_size(u, &lens);
	fuzz_check(size == need, "udb_pack_passwd_size %zu, want %zu", size, need);
	/* The ready-made entry of schema 2, as user.c hands it over. */
	strings = malloc(need);
	if (!strings)
		abort();
	p = stpcpy(strings, u->username) + 1;
	p = stpcpy(p, "x") + 1;
	p = stpcpy(p, gecos) + 1;
	p = stpcpy(p, u->home) + 1;
	p = stpcpy(p, u->shell) + 1;
	entry.strings = strings;
	entry.len = (size_t)(p - strings);
	fuzz_check(entry.len == need, "entry of %zu bytes, want %zu", entry.len, need);
	buffer_make(&page, off + size, 0);
	memset(&e, 0x5a, sizeof(e));
	e_before = e;
	r = udb_pack_passwd_entry(&entry, &cfg, page.buf + off, &e);
	fuzz_check(r == (ok ? UDB_OK : UDB_CORRUPT), "pack entry: %s", udb_result_to_string(r));
	fuzz_check(r == UDB_OK || memcmp(&e, &e_before, sizeof(e)) == 0, "pack entry: changed");
	fuzz_check(r != UDB_OK || e.len == size, "packed entry of %u bytes, want %zu",
		   (unsigned)e.len, size);
	buffer_check_free(&page);

	/* getpwuid's path: the entry straight into the caller's buffer. */
	buffer_make(&b, pick_len(in, need), fuzz_byte(in) % 16);
	memset(&pw, 0x5a, sizeof(pw));
	before = pw;
	r = udb_pack_passwd_from_entry(&entry, &cfg, &pw, b.buf, b.len);
	if (check_answer(r, &b, need, ok, &pw, &before, sizeof(pw), "from entry"))
		check_passwd(&b, &pw, u, gecos, "from entry");
	buffer_check_free(&b);
	if (!ok) {
		free(strings);
		return;
	}
	/* The page may have moved since (it is reallocated as it fills):
	 * make a copy elsewhere and unpack from that. */
	buffer_make(&page, off + size, 0);
	r = udb_pack_passwd_entry(&entry, &cfg, page.buf + off, &e);
	fuzz_check(r == UDB_OK, "pack entry again: %s", udb_result_to_string(r));
	e.off = off;
	free(strings);

	buffer_make(&b, pick_len(in, need), fuzz_byte(in) % 16);
	memset(&pw, 0x5a, sizeof(pw));
	before = pw;
	r = udb_unpack_passwd(&e, page.buf, &pw, b.buf, b.len);
	if (check_answer(r, &b, need, true, &pw, &before, sizeof(pw), "unpack"))
		check_passwd(&b, &pw, u, gecos, "unpack");
	buffer_check_free(&b);
	buffer_check_free(&page);
}

/* A ready-made entry as a damaged passwd_entries row may hold it: any
 * bytes, NULs included, in a block of exactly its length, so ASan sees a
 * read past it. The reference splits it with a plain loop: it is served
 * only as five NUL-terminated strings filling it exactly, "x" second,
 * passing the rules. */
static void
fuzz_entry_blob(struct fuzz_input *in)
{
	struct udb_passwd_entry entry;
	struct passwd pw, before;
	struct buffer b;
	size_t len = fuzz_byte(in), nuls = 0;
	const char *field[5] = {0};
	char *blob = malloc(len ? len : 1);
	enum udb_result r;
	bool ok;

	fuzz_check(blob != NULL, "out of memory");
	entry.uid = pick_id(in);
	entry.gid = pick_id(in);
	for (size_t i = 0; i < len; i++)
		blob[i] = (char)fuzz_byte(in);
	for (size_t i = 0, start = 0; i < len; i++) {
		if (blob[i] != '\0')
			continue;
		if (nuls < 5)
			field[nuls] = blob + start;
		nuls++;
		start = i + 1;
	}
	ok = nuls == 5 && blob[len - 1] == '\0' && strcmp(field[1], "x") == 0 &&
	     ref_passwd_ok(field[0], field[2], field[3], field[4], entry.uid, entry.gid);
	entry.strings = blob;
	entry.len = len;
	buffer_make(&b, pick_len(in, len), fuzz_byte(in) % 16);
	memset(&pw, 0x5a, sizeof(pw));
	before = pw;
	r = udb_pack_passwd_from_entry(&entry, &cfg, &pw, b.buf, b.len);
	if (check_answer(r, &b, len, ok, &pw, &before, sizeof(pw), "blob")) {
		check_str(&b, pw.pw_name, field[0], "pw_name");
		check_str(&b, pw.pw_passwd, "x", "pw_passwd");
		check_str(&b, pw.pw_gecos, field[2], "pw_gecos");
		check_str(&b, pw.pw_dir, field[3], "pw_dir");
		check_str(&b, pw.pw_shell, field[4], "pw_shell");
		fuzz_check(pw.pw_uid == entry.uid && pw.pw_gid == entry.gid, "blob: ids");
	}
	buffer_check_free(&b);
	free(blob);
}

static void
fuzz_passwd(struct fuzz_input *in)
{
	struct udb_user_view u = {0};
	struct passwd pw, before;
	struct buffer b;
	char *s[5], gecos[700];
	size_t need, align;
	enum udb_result r;

	for (int i = 0; i < 5; i++)
		s[i] = fuzz_string(in, 300);
	u.username = s[0];
	u.first_name = s[1];
	u.last_name = s[2];
	u.home = s[3];
	u.shell = s[4];
	u.uid = fuzz_u32(in);
	u.gid = fuzz_u32(in);
	snprintf(gecos, sizeof(gecos), "%s%s%s", s[1], *s[1] && *s[2] ? " " : "", s[2]);
	need = strlen(s[0]) + 1 + 2 + strlen(gecos) + 1 + strlen(s[3]) + 1 + strlen(s[4]) + 1;
	align = fuzz_byte(in) % 16;
	buffer_make(&b, pick_len(in, need), align);
	memset(&pw, 0x5a, sizeof(pw));
	before = pw;

	r = udb_pack_passwd(&u, &cfg, &pw, b.buf, b.len);
	if (check_answer(r, &b, need, ref_passwd_ok(s[0], gecos, s[3], s[4], u.uid, u.gid), &pw,
			 &before, sizeof(pw), "passwd"))
		check_passwd(&b, &pw, &u, gecos, "passwd");
	buffer_check_free(&b);
	fuzz_enum_passwd(in, &u, need, gecos);
	for (int i = 0; i < 5; i++)
		free(s[i]);
}

/* Whether the reference layout of a group passes the rules. */
static bool
ref_group_ok(const struct udb_group *g)
{
	char x[] = "x";
	struct group gr = {
		.gr_name = g->name,
		.gr_passwd = x,
		.gr_gid = g->gid,
		.gr_mem = g->members, /* calloc'd with a NULL after the last */
	};

	return udb_group_entry_check(&gr, &cfg) == UDB_OK;
}

static void
fuzz_group(struct fuzz_input *in)
{
	struct udb_group g = {0};
	struct group gr, before;
	struct buffer b;
	size_t need, strings = 0, pad, align, n;
	uint8_t shape = fuzz_byte(in);
	char *many;
	enum udb_result r;

	g.name = fuzz_string(in, 300);
	g.gid = fuzz_u32(in);
	/* Mostly a few members from the input; sometimes thousands of short
	 * ones, the shape of a large role. */
	n = shape & 0x80 ? (size_t)fuzz_u32(in) % 5000 : shape % 40;
	g.members = calloc(n + 1, sizeof(char *));
	/* The many short names live in one block: thousands of mallocs per
	 * input would make the fuzzer crawl. */
	many = shape & 0x80 ? malloc(n * 8 + 1) : NULL;
	fuzz_check(g.members != NULL && (many || !(shape & 0x80)), "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (many) {
			g.members[i] = many + i * 8;
			snprintf(g.members[i], 8, "m%zu", i);
		} else {
			g.members[i] = fuzz_string(in, 64);
		}
		strings += strlen(g.members[i]) + 1;
	}
	g.n_members = n;
	align = fuzz_byte(in) % 16;
	pad = (alignof(char *) - (GUARD + align) % alignof(char *)) % alignof(char *);
	need = pad + (n + 1) * sizeof(char *) + strlen(g.name) + 1 + 2 + strings;
	buffer_make(&b, pick_len(in, need), align);
	fuzz_check((uintptr_t)b.buf % alignof(char *) == (GUARD + align) % alignof(char *),
		   "malloc alignment");
	memset(&gr, 0x5a, sizeof(gr));
	before = gr;

	r = udb_pack_group(&g, &cfg, &gr, b.buf, b.len);
	if (check_answer(r, &b, need, ref_group_ok(&g), &gr, &before, sizeof(gr), "group")) {
		check_str(&b, gr.gr_name, g.name, "gr_name");
		check_str(&b, gr.gr_passwd, "x", "gr_passwd");
		fuzz_check(gr.gr_gid == g.gid, "group: gid");
		fuzz_check((uintptr_t)gr.gr_mem % alignof(char *) == 0, "gr_mem misaligned");
		fuzz_check((char *)gr.gr_mem >= b.buf &&
				   (char *)(gr.gr_mem + n + 1) <= b.buf + b.len,
			   "gr_mem outside the buffer");
		for (size_t i = 0; i < n; i++)
			check_str(&b, gr.gr_mem[i], g.members[i], "member");
		fuzz_check(gr.gr_mem[n] == NULL, "gr_mem not NULL-terminated");
	}
	buffer_check_free(&b);
	for (size_t i = 0; i < n && !many; i++)
		free(g.members[i]);
	free(many);
	free(g.members);
	free(g.name);
}

/* Whether the reference layout of a shadow entry passes the rules. */
static bool
ref_shadow_ok(const char *name, const char *pwdp)
{
	struct spwd sp = {
		.sp_namp = (char *)(uintptr_t)name,
		.sp_pwdp = (char *)(uintptr_t)pwdp,
	};

	return udb_shadow_entry_check(&sp) == UDB_OK;
}

/* Whole days since the epoch, rounded down, also before 1970. */
static long
ref_days(int64_t t)
{
	return (long)(t / DAY - (t % DAY < 0));
}

static int64_t
pick_time(struct fuzz_input *in)
{
	uint8_t mode = fuzz_byte(in);
	int64_t t = (int64_t)fuzz_u64(in);

	/* Stored times are 0 (unset) or instants from 1970 to 9999; a few
	 * inputs try other values a damaged database could hold. */
	if (mode % 4 == 0)
		return 0;
	if (mode % 4 != 3)
		return (int64_t)((uint64_t)t % 253402300800ULL);
	return t;
}

static void
fuzz_shadow(struct fuzz_input *in)
{
	struct udb_account a = {0};
	struct spwd sp, before;
	struct buffer b;
	uint8_t flags = fuzz_byte(in);
	char *name = fuzz_string(in, 300), *hash = fuzz_string(in, 300), want[400];
	const char *usable;
	size_t need, align;
	enum udb_result r;
	int64_t now;
	long expire;

	a.username = flags & 1 ? NULL : name;
	a.password_hash = flags & 2 ? NULL : hash;
	a.must_change = flags & 4;
	a.is_enabled = flags & 8;
	a.password_changed_at = pick_time(in);
	a.min_days = (int)fuzz_u32(in);
	a.max_days = (int)fuzz_u32(in);
	a.warn_days = (int)fuzz_u32(in);
	a.inactive_days = (int)fuzz_u32(in);
	a.not_before = pick_time(in);
	a.not_after = pick_time(in);
	now = pick_time(in);

	usable = a.password_hash && a.password_hash[0] ? a.password_hash : NULL;
	snprintf(want, sizeof(want), "%s%s", !usable || !a.is_enabled ? "!" : "",
		 usable ? usable : "");
	need = strlen(name) + 1 + strlen(want) + 1;
	align = fuzz_byte(in) % 16;
	buffer_make(&b, pick_len(in, need), align);
	memset(&sp, 0x5a, sizeof(sp));
	before = sp;

	r = udb_pack_shadow(&a, now, &sp, b.buf, b.len);
	if (!a.username) {
		fuzz_check(r != UDB_OK, "shadow: success without a name");
	} else if (check_answer(r, &b, need, ref_shadow_ok(name, want), &sp, &before, sizeof(sp),
				"shadow")) {
		check_str(&b, sp.sp_namp, name, "sp_namp");
		check_str(&b, sp.sp_pwdp, want, "sp_pwdp");
		/* Never an empty password field: pam_unix reads that as "no
		 * password needed". */
		fuzz_check(sp.sp_pwdp[0] != '\0', "empty sp_pwdp");
		fuzz_check(sp.sp_lstchg == (a.must_change ? 0
					    : a.password_changed_at
						    ? ref_days(a.password_changed_at)
						    : -1),
			   "sp_lstchg %ld", sp.sp_lstchg);
		fuzz_check(sp.sp_min == a.min_days && sp.sp_max == a.max_days &&
				   sp.sp_warn == a.warn_days && sp.sp_inact == a.inactive_days,
			   "aging");
		if (!a.is_enabled || (a.not_before && now < a.not_before))
			expire = 1;
		else if (a.not_after)
			expire = ref_days(a.not_after) > 1 ? ref_days(a.not_after) : 1;
		else
			expire = -1;
		fuzz_check(sp.sp_expire == expire, "sp_expire %ld, want %ld", sp.sp_expire, expire);
		fuzz_check(sp.sp_flag == (unsigned long)-1, "sp_flag");
	}
	buffer_check_free(&b);
	free(name);
	free(hash);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};

	switch (fuzz_byte(&in) % 4) {
	case 0:
		fuzz_passwd(&in);
		break;
	case 1:
		fuzz_group(&in);
		break;
	case 3:
		fuzz_entry_blob(&in);
		break;
	default:
		fuzz_shadow(&in);
		break;
	}
	return 0;
}
