/* Writing the compiled images (format in image.h; a base's sections built
 * by image_build.c, a delta's by image_delta.c) inside the write
 * transaction that changed the store, and installing them after its
 * commit. Called by transaction.c only: udb_image_build() before COMMIT (a
 * failure rolls the change back), udb_image_install() after it.
 *
 * Files in dbdir: nss.img and nss-delta.img (0644), nss-shadow.img and
 * nss-shadow-delta.img (0640, the shadow file's owner and group:
 * root:shadow, whatever the store's own 0600), each written as .NAME.new,
 * fsynced, and renamed over NAME after the commit; then the word in
 * nss.gen is bumped, which is how every process that has an image mapped
 * notices the new one. A delta is built over the installed base, mapped
 * here; installing new bases removes the deltas after them (a reader that
 * finds a delta of an older base ignores it, image.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db-internal.h"
#include "image-internal.h"
#include "image.h"

static enum udb_result
result_from_errno(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EIO:
		return UDB_IO;
	case EACCES:
	case EPERM:
		return UDB_PERMISSION;
	case ENOMEM:
		return UDB_NO_MEMORY;
	default:
		return UDB_IO;
	}
}

static enum udb_result
write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return result_from_errno(w < 0 ? errno : ENOSPC);
		c += w;
		n -= (size_t)w;
	}
	return UDB_OK;
}

/* Writes header and sections to fd, every section 8-byte aligned. */
static enum udb_result
write_image(int fd, const struct udb_image_sections *im, enum udb_img_kind kind,
	    uint64_t generation, uint64_t base_generation)
{
	static const unsigned char zeros[8];
	struct udb_img_header h = {.version = UDB_IMG_VERSION, .kind = kind};
	uint64_t at = sizeof(h);
	enum udb_result r;

	memcpy(h.magic, UDB_IMG_MAGIC, sizeof(h.magic));
	h.generation = generation;
	h.base_generation = base_generation;
	/* An empty section is (0, 0) and takes no room, not even padding:
	 * the file ends right after the last section that has bytes. */
	for (int s = 0; s < UDB_IMG_S_COUNT; s++) {
		if (!im->sect[s].len)
			continue;
		at = (at + 7) & ~(uint64_t)7;
		h.sect[s].off = at;
		h.sect[s].len = im->sect[s].len;
		at += im->sect[s].len;
	}
	h.size = at;
	r = write_all(fd, &h, sizeof(h));
	at = sizeof(h);
	for (int s = 0; s < UDB_IMG_S_COUNT && r == UDB_OK; s++) {
		if (!im->sect[s].len)
			continue;
		r = write_all(fd, zeros, h.sect[s].off - at);
		if (r == UDB_OK)
			r = write_all(fd, im->sect[s].p, im->sect[s].len);
		at = h.sect[s].off + im->sect[s].len;
	}
	return r;
}

static char *
tmp_name(const char *dbdir, const char *file)
{
	size_t n = strlen(dbdir) + strlen(file) + 8;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/.%s.new", dbdir, file);
	return p;
}

static char *
final_name(const char *dbdir, const char *file)
{
	size_t n = strlen(dbdir) + strlen(file) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", dbdir, file);
	return p;
}

static const char *
file_of(enum udb_img_kind kind)
{
	switch (kind) {
	case UDB_IMG_PUBLIC:
		return UDB_IMAGE_FILE;
	case UDB_IMG_SHADOW:
		return UDB_SHADOW_IMAGE_FILE;
	case UDB_IMG_PUBLIC_DELTA:
		return UDB_IMAGE_DELTA_FILE;
	default:
		return UDB_SHADOW_DELTA_FILE;
	}
}

/* The installed base of kind, mapped, if it is the generation expected. */
struct mapped_base {
	void *map;
	size_t len;
	struct udb_img_part part;
};

static enum udb_result
map_base(struct udb_db *db, enum udb_img_kind kind, uint64_t generation, struct mapped_base *ret)
{
	char *path = final_name(db->dbdir, file_of(kind));
	enum udb_result r = UDB_OK;
	struct stat st;
	int fd;

	ret->map = NULL;
	if (!path)
		return UDB_NO_MEMORY;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	free(path);
	if (fd < 0)
		return UDB_NOT_FOUND;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX)
		r = UDB_CORRUPT;
	if (r == UDB_OK) {
		ret->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (ret->map == MAP_FAILED) {
			ret->map = NULL;
			r = UDB_IO;
		}
	}
	close(fd);
	if (r != UDB_OK)
		return r;
	ret->len = (size_t)st.st_size;
	r = udb_img_part_open(ret->map, ret->len, kind, &ret->part);
	if (r == UDB_OK && ret->part.generation != generation)
		r = UDB_NOT_FOUND;
	if (r != UDB_OK) {
		munmap(ret->map, ret->len);
		ret->map = NULL;
	}
	return r;
}

/* The sections of the image of kind: a base from the whole store, or a
 * delta over the installed base of base_generation (UDB_NOT_FOUND when
 * that base is not there: the caller rebuilds the bases). */
static enum udb_result
build_sections(struct udb_db *db, enum udb_img_kind kind, uint64_t base_generation,
	       struct udb_image_sections *ret_im)
{
	struct mapped_base b = {0};
	enum udb_result r;

	switch (kind) {
	case UDB_IMG_PUBLIC:
		return udb_image_build_public(db, ret_im);
	case UDB_IMG_SHADOW:
		return udb_image_build_shadow(db, ret_im);
	case UDB_IMG_PUBLIC_DELTA:
		r = map_base(db, UDB_IMG_PUBLIC, base_generation, &b);
		if (r == UDB_OK)
			r = udb_image_build_public_delta(db, &b.part, ret_im);
		break;
	default:
		r = map_base(db, UDB_IMG_SHADOW, base_generation, &b);
		if (r == UDB_OK)
			r = udb_image_build_shadow_delta(db, &b.part, ret_im);
		break;
	}
	if (b.map)
		munmap(b.map, b.len);
	/* A base that is damaged or of another generation is rebuilt. */
	return r == UDB_CORRUPT || r == UDB_SCHEMA ? UDB_NOT_FOUND : r;
}

/* The new file for one image, written and synced, not yet in place. The
 * shadow images take the shadow file's owner, group and mode. */
static enum udb_result
write_file(struct udb_db *db, enum udb_img_kind kind, uint64_t generation, uint64_t base_generation)
{
	const char *file = file_of(kind);
	struct udb_image_sections im = {0};
	struct stat st;
	char *tmp = tmp_name(db->dbdir, file);
	enum udb_result r;
	int fd = -1;

	if (!tmp)
		return UDB_NO_MEMORY;
	r = build_sections(db, kind, base_generation, &im);
	if (r != UDB_OK)
		goto out;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		r = result_from_errno(errno);
		goto out;
	}
	if (kind == UDB_IMG_SHADOW || kind == UDB_IMG_SHADOW_DELTA) {
		if (stat(db->sec_path, &st) < 0 ||
		    (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0) ||
		    fchmod(fd, 0640) < 0)
			r = UDB_IO;
	} else if (fchmod(fd, 0644) < 0) {
		r = UDB_IO;
	}
	if (r == UDB_OK)
		r = write_image(fd, &im, kind, generation, base_generation);
	if (r == UDB_OK && fsync(fd) < 0)
		r = result_from_errno(errno);
out:
	if (fd >= 0)
		close(fd);
	if (r != UDB_OK && fd >= 0)
		(void)unlink(tmp);
	udb_image_sections_free(&im);
	free(tmp);
	return r;
}

enum udb_result
udb_image_read_generation(const char *dbdir, int kind, uint64_t *ret_generation)
{
	struct udb_img_header h;
	char *path = final_name(dbdir, file_of(kind));
	enum udb_result r = UDB_OK;
	int fd;

	if (!path)
		return UDB_NO_MEMORY;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	free(path);
	if (fd < 0)
		return UDB_NOT_FOUND;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, UDB_IMG_MAGIC, sizeof(h.magic)) != 0 || h.version != UDB_IMG_VERSION ||
	    h.kind != (uint32_t)kind)
		r = UDB_CORRUPT;
	else
		*ret_generation = h.generation;
	close(fd);
	return r;
}

enum udb_result
udb_image_build(struct udb_db *db, unsigned which, bool delta, uint64_t generation,
		const uint64_t base_generation[2])
{
	static const enum udb_img_kind bases[2] = {UDB_IMG_PUBLIC, UDB_IMG_SHADOW};
	static const enum udb_img_kind deltas[2] = {UDB_IMG_PUBLIC_DELTA, UDB_IMG_SHADOW_DELTA};
	enum udb_result r = UDB_OK;

	for (int i = 0; i < 2 && r == UDB_OK; i++) {
		if (!(which & (1u << i)))
			continue;
		if (delta)
			r = write_file(db, deltas[i], generation, base_generation[i]);
		else
			r = write_file(db, bases[i], generation, 0);
	}
	if (r != UDB_OK)
		udb_image_discard(db, which);
	return r;
}

static const char *const all_files[2][2] = {
	{UDB_IMAGE_FILE, UDB_SHADOW_IMAGE_FILE},
	{UDB_IMAGE_DELTA_FILE, UDB_SHADOW_DELTA_FILE},
};

void
udb_image_discard(struct udb_db *db, unsigned which)
{
	for (int d = 0; d < 2; d++)
		for (int i = 0; i < 2; i++) {
			char *tmp;

			if (!(which & (1u << i)))
				continue;
			tmp = tmp_name(db->dbdir, all_files[d][i]);
			if (tmp)
				(void)unlink(tmp);
			free(tmp);
		}
}

/* Bumps the word in nss.gen that mapped readers compare at every lookup.
 * Any change of value makes them look again, so a torn write is harmless. */
static enum udb_result
bump_generation_word(const char *dbdir)
{
	char *path = final_name(dbdir, UDB_IMAGE_GEN_FILE);
	uint64_t word = 0;
	enum udb_result r = UDB_OK;
	int fd;

	if (!path)
		return UDB_NO_MEMORY;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
	free(path);
	if (fd < 0)
		return result_from_errno(errno);
	if (pread(fd, &word, sizeof(word), 0) != (ssize_t)sizeof(word))
		word = 0;
	word++;
	if (fchmod(fd, 0644) < 0 || pwrite(fd, &word, sizeof(word), 0) != (ssize_t)sizeof(word))
		r = UDB_IO;
	close(fd);
	return r;
}

enum udb_result
udb_image_install(struct udb_db *db, unsigned which, bool delta)
{
	enum udb_result r = UDB_OK;

	for (int i = 0; i < 2 && r == UDB_OK; i++) {
		char *tmp, *dst;

		if (!(which & (1u << i)))
			continue;
		tmp = tmp_name(db->dbdir, all_files[delta][i]);
		dst = final_name(db->dbdir, all_files[delta][i]);
		if (!tmp || !dst)
			r = UDB_NO_MEMORY;
		else if (rename(tmp, dst) < 0)
			r = result_from_errno(errno);
		free(tmp);
		free(dst);
	}
	/* New bases have every change: the deltas after the old ones go
	 * (readers already ignore a delta of an older base). */
	for (int i = 0; i < 2 && r == UDB_OK && !delta; i++) {
		char *dst;

		if (!(which & (1u << i)))
			continue;
		dst = final_name(db->dbdir, all_files[1][i]);
		if (!dst)
			r = UDB_NO_MEMORY;
		else if (unlink(dst) < 0 && errno != ENOENT)
			r = result_from_errno(errno);
		free(dst);
	}
	if (r == UDB_OK && which)
		r = bump_generation_word(db->dbdir);
	return r;
}
