/* Fuzz target: the NSS packers of nss_userdb/pack.c, which copy a user, a
 * group or a shadow record into the caller's struct and buffer. Random
 * records (any bytes but NUL, any number of members), random buffer sizes
 * around the exact need and random alignments; each answer is checked
 * against a reference computed here: either UDB_OK with every string
 * intact, NUL-terminated and inside the buffer (and the member array
 * aligned), or UDB_BUFFER_TOO_SMALL exactly when the need exceeds the size,
 * with the caller's struct untouched. Guard bytes on both sides of the
 * buffer catch a stray write in builds without ASan. */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pack.h"

#define GUARD      32
#define GUARD_BYTE 0xa5
#define DAY        86400

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

/* The enumeration path: the entry is packed into a page at some offset,
 * then copied out of the page into the caller's buffer. */
static void
fuzz_enum_passwd(struct fuzz_input *in, const struct udb_user_view *u, size_t need,
		 const char *gecos)
{
	struct udb_passwd_lens lens;
	struct udb_packed_passwd e;
	struct udb_passwd_entry entry = {.uid = u->uid, .gid = u->gid};
	struct passwd pw, before;
	size_t off = fuzz_byte(in), size;
	struct buffer page, b;
	enum udb_result r;
	char *strings, *p;

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
	udb_pack_passwd_entry(&entry, page.buf + off, &e);
	e.off = off;
	fuzz_check(e.len == size, "packed entry of %u bytes, want %zu", (unsigned)e.len, size);
	buffer_check_free(&page);
	/* The page may have moved since (it is reallocated as it fills):
	 * make a copy elsewhere and unpack from that. */
	buffer_make(&page, off + size, 0);
	udb_pack_passwd_entry(&entry, page.buf + off, &e);
	e.off = off;

	/* getpwuid's path: the entry straight into the caller's buffer. */
	buffer_make(&b, pick_len(in, need), fuzz_byte(in) % 16);
	memset(&pw, 0x5a, sizeof(pw));
	before = pw;
	r = udb_pack_passwd_from_entry(&entry, &pw, b.buf, b.len);
	if (b.len < need) {
		fuzz_check(r == UDB_BUFFER_TOO_SMALL, "from entry: %s with %zu of %zu bytes",
			   udb_result_to_string(r), b.len, need);
		fuzz_check(memcmp(&pw, &before, sizeof(pw)) == 0, "from entry: struct changed");
	} else {
		fuzz_check(r == UDB_OK, "from entry: %s with %zu of %zu bytes",
			   udb_result_to_string(r), b.len, need);
		check_str(&b, pw.pw_name, u->username, "pw_name");
		check_str(&b, pw.pw_passwd, "x", "pw_passwd");
		check_str(&b, pw.pw_gecos, gecos, "pw_gecos");
		check_str(&b, pw.pw_dir, u->home, "pw_dir");
		check_str(&b, pw.pw_shell, u->shell, "pw_shell");
		fuzz_check(pw.pw_uid == u->uid && pw.pw_gid == u->gid, "from entry: ids");
	}
	buffer_check_free(&b);
	free(strings);

	buffer_make(&b, pick_len(in, need), fuzz_byte(in) % 16);
	memset(&pw, 0x5a, sizeof(pw));
	before = pw;
	r = udb_unpack_passwd(&e, page.buf, &pw, b.buf, b.len);
	if (b.len < need) {
		fuzz_check(r == UDB_BUFFER_TOO_SMALL, "unpack: %s with %zu of %zu bytes",
			   udb_result_to_string(r), b.len, need);
		fuzz_check(memcmp(&pw, &before, sizeof(pw)) == 0, "unpack: struct changed");
	} else {
		fuzz_check(r == UDB_OK, "unpack: %s with %zu of %zu bytes", udb_result_to_string(r),
			   b.len, need);
		check_str(&b, pw.pw_name, u->username, "pw_name");
		check_str(&b, pw.pw_passwd, "x", "pw_passwd");
		check_str(&b, pw.pw_gecos, gecos, "pw_gecos");
		check_str(&b, pw.pw_dir, u->home, "pw_dir");
		check_str(&b, pw.pw_shell, u->shell, "pw_shell");
		fuzz_check(pw.pw_uid == u->uid && pw.pw_gid == u->gid, "unpack: ids");
	}
	buffer_check_free(&b);
	buffer_check_free(&page);
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

	r = udb_pack_passwd(&u, &pw, b.buf, b.len);
	if (b.len < need) {
		fuzz_check(r == UDB_BUFFER_TOO_SMALL, "passwd: %s with %zu of %zu bytes",
			   udb_result_to_string(r), b.len, need);
		fuzz_check(memcmp(&pw, &before, sizeof(pw)) == 0, "passwd: struct changed");
	} else {
		fuzz_check(r == UDB_OK, "passwd: %s with %zu of %zu bytes", udb_result_to_string(r),
			   b.len, need);
		check_str(&b, pw.pw_name, s[0], "pw_name");
		check_str(&b, pw.pw_passwd, "x", "pw_passwd");
		check_str(&b, pw.pw_gecos, gecos, "pw_gecos");
		check_str(&b, pw.pw_dir, s[3], "pw_dir");
		check_str(&b, pw.pw_shell, s[4], "pw_shell");
		fuzz_check(pw.pw_uid == u.uid && pw.pw_gid == u.gid, "passwd: ids");
	}
	buffer_check_free(&b);
	fuzz_enum_passwd(in, &u, need, gecos);
	for (int i = 0; i < 5; i++)
		free(s[i]);
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

	r = udb_pack_group(&g, &gr, b.buf, b.len);
	if (b.len < need) {
		fuzz_check(r == UDB_BUFFER_TOO_SMALL, "group: %s with %zu of %zu bytes",
			   udb_result_to_string(r), b.len, need);
		fuzz_check(memcmp(&gr, &before, sizeof(gr)) == 0, "group: struct changed");
	} else {
		fuzz_check(r == UDB_OK, "group: %s with %zu of %zu bytes", udb_result_to_string(r),
			   b.len, need);
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
	} else if (b.len < need) {
		fuzz_check(r == UDB_BUFFER_TOO_SMALL, "shadow: %s with %zu of %zu bytes",
			   udb_result_to_string(r), b.len, need);
		fuzz_check(memcmp(&sp, &before, sizeof(sp)) == 0, "shadow: struct changed");
	} else {
		fuzz_check(r == UDB_OK, "shadow: %s with %zu of %zu bytes", udb_result_to_string(r),
			   b.len, need);
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

	switch (fuzz_byte(&in) % 3) {
	case 0:
		fuzz_passwd(&in);
		break;
	case 1:
		fuzz_group(&in);
		break;
	default:
		fuzz_shadow(&in);
		break;
	}
	return 0;
}
