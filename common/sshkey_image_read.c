/* Reading keys.img (format in sshkey_image.h): mapping the file and the
 * pure lookup over its bytes. Called by `userdb ssh-authorized-keys` and
 * the unit tests. Every offset and length is checked against the mapped
 * size before it is used; a record whose lines hold a newline or another
 * control character is damaged too, so that nothing sshd reads as a second
 * authorized_keys line can come out of it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "sshkey_image.h"
#include "window.h"

enum udb_result
udb_keys_img_open(const void *base, size_t len, struct udb_keys_img *ret_img)
{
	struct udb_keys_header h;

	if (!base || len < sizeof(h))
		return UDB_CORRUPT;
	memcpy(&h, base, sizeof(h));
	if (memcmp(h.magic, UDB_KEYS_MAGIC, sizeof(h.magic)) != 0)
		return UDB_CORRUPT;
	if (h.version != UDB_KEYS_VERSION)
		return UDB_SCHEMA;
	if (h.size != len || h.index_off < sizeof(h) || h.index_off > len ||
	    (len - h.index_off) / sizeof(uint64_t) < h.n_users)
		return UDB_CORRUPT;
	*ret_img = (struct udb_keys_img){
		.base = base, .size = len, .n_users = h.n_users, .index_off = h.index_off};
	return UDB_OK;
}

static size_t
pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Record i's header and name, checked to lie inside the image. */
static enum udb_result
record_at(const struct udb_keys_img *img, uint32_t i, struct udb_keys_rec *ret_rec,
	  const char **ret_name, uint64_t *ret_next)
{
	uint64_t off;

	memcpy(&off, img->base + img->index_off + (size_t)i * sizeof(off), sizeof(off));
	if (off > img->size || img->size - off < sizeof(*ret_rec))
		return UDB_CORRUPT;
	memcpy(ret_rec, img->base + off, sizeof(*ret_rec));
	off += sizeof(*ret_rec);
	if (ret_rec->name_len == 0 || img->size - off < ret_rec->name_len)
		return UDB_CORRUPT;
	*ret_name = (const char *)img->base + off;
	*ret_next = off + pad8(ret_rec->name_len);
	return UDB_OK;
}

static int
compare_name(const char *want, size_t want_len, const char *name, size_t len)
{
	int c = memcmp(want, name, want_len < len ? want_len : len);

	if (c != 0)
		return c;
	return want_len < len ? -1 : want_len > len;
}

static bool
clean_line(const unsigned char *p, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return false;
	return true;
}

/* Walks the keys after a record's name; with fn NULL only checks them. */
static enum udb_result
walk_keys(const struct udb_keys_img *img, uint64_t off, uint32_t n_keys, int64_t now,
	  void (*fn)(const char *line, size_t len, void *data), void *data)
{
	for (uint32_t k = 0; k < n_keys; k++) {
		struct udb_keys_key key;
		const unsigned char *line;

		if (off > img->size || img->size - off < sizeof(key))
			return UDB_CORRUPT;
		memcpy(&key, img->base + off, sizeof(key));
		off += sizeof(key);
		if (img->size - off < key.line_len)
			return UDB_CORRUPT;
		line = img->base + off;
		if (!clean_line(line, key.line_len))
			return UDB_CORRUPT;
		off += pad8(key.line_len);
		if (fn && udb_window_state(0, key.until, now) == UDB_WINDOW_OPEN)
			fn((const char *)line, key.line_len, data);
	}
	return UDB_OK;
}

enum udb_result
udb_keys_img_lookup(const struct udb_keys_img *img, const char *user, int64_t now,
		    void (*fn)(const char *line, size_t len, void *data), void *data)
{
	size_t want_len = strlen(user);
	uint32_t lo = 0, hi = img->n_users;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct udb_keys_rec rec;
		const char *name;
		uint64_t next;
		enum udb_result r;
		int c;

		r = record_at(img, mid, &rec, &name, &next);
		if (r != UDB_OK)
			return r;
		c = compare_name(user, want_len, name, rec.name_len);
		if (c < 0) {
			hi = mid;
			continue;
		}
		if (c > 0) {
			lo = mid + 1;
			continue;
		}
		if (rec.flags & UDB_KEYS_DAMAGED)
			return UDB_CORRUPT;
		/* The whole record first, so a damaged one prints nothing. */
		r = walk_keys(img, next, rec.n_keys, now, NULL, NULL);
		if (r != UDB_OK)
			return r;
		if (!(rec.flags & UDB_KEYS_ENABLED) ||
		    udb_window_state(rec.not_before, rec.not_after, now) != UDB_WINDOW_OPEN)
			return UDB_OK;
		return walk_keys(img, next, rec.n_keys, now, fn, data);
	}
	return UDB_NOT_FOUND;
}

static enum udb_result
result_from_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return UDB_UNAVAILABLE;
	case EACCES:
	case EPERM:
		return UDB_PERMISSION;
	case ELOOP:
		return UDB_UNSAFE;
	case ENOMEM:
		return UDB_NO_MEMORY;
	default:
		return UDB_IO;
	}
}

/* The directory first, refused like the NSS module refuses it (a symlink,
 * writable by others), then the file in it. */
enum udb_result
udb_keys_image_map(const char *dbdir, const void **ret_base, size_t *ret_len)
{
	struct stat st;
	enum udb_result r;
	void *map;
	int dirfd, fd = -1;

	dirfd = open(dbdir,
		     O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_DIRECTORY | O_NOFOLLOW);
	if (dirfd < 0)
		return result_from_errno(errno);
	r = udb_check_trusted_fd(dirfd, 1);
	if (r != UDB_OK)
		goto out;
	/* O_NONBLOCK: a FIFO planted in its place must not hang sshd. */
	fd = openat(dirfd, UDB_KEYS_IMAGE_FILE,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = result_from_errno(errno);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = UDB_IO;
		goto out;
	}
	r = udb_check_trusted_stat(&st, 0);
	if (r != UDB_OK)
		goto out;
	if (st.st_size < (off_t)sizeof(struct udb_keys_header) || (uint64_t)st.st_size > SIZE_MAX) {
		r = UDB_CORRUPT;
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = result_from_errno(errno);
		goto out;
	}
	*ret_base = map;
	*ret_len = (size_t)st.st_size;
out:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return r;
}

void
udb_keys_image_unmap(const void *base, size_t len)
{
	if (base)
		munmap((void *)(uintptr_t)base, len);
}

enum udb_result
udb_keys_image_serve(const char *dbdir, const char *user, int64_t now,
		     void (*fn)(const char *line, size_t len, void *data), void *data)
{
	struct udb_keys_img img;
	const void *base = NULL;
	size_t len = 0;
	enum udb_result r;

	r = udb_keys_image_map(dbdir, &base, &len);
	if (r == UDB_OK)
		r = udb_keys_img_open(base, len, &img);
	if (r == UDB_OK)
		r = udb_keys_img_lookup(&img, user, now, fn, data);
	udb_keys_image_unmap(base, len);
	return r;
}
