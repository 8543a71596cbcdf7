/* Writing the compiled images (format in image.h, sections built by
 * image_build.c) inside the write transaction that changed the store, and
 * installing them after its commit. Called by transaction.c only:
 * udb_image_build() before COMMIT (a failure rolls the change back),
 * udb_image_install() after it. Both images are rebuilt whole from the
 * transaction's snapshot.
 *
 * Files in dbdir: nss.img (0644), nss-shadow.img (0640, the shadow file's
 * owner and group: root:shadow, whatever the store's own 0600), each
 * written as .NAME.new, fsynced, and renamed over NAME after the commit;
 * then the word in nss.gen is bumped, which is how every process that has
 * an image mapped notices the new one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	    uint64_t generation)
{
	static const unsigned char zeros[8];
	struct udb_img_header h = {.version = UDB_IMG_VERSION, .kind = kind};
	uint64_t at = sizeof(h);
	enum udb_result r;

	memcpy(h.magic, UDB_IMG_MAGIC, sizeof(h.magic));
	h.generation = generation;
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

/* The new file for one image, written and synced, not yet in place. The
 * shadow image takes the shadow file's owner, group and mode. */
static enum udb_result
write_file(struct udb_db *db, enum udb_img_kind kind, uint64_t generation)
{
	const char *file = kind == UDB_IMG_PUBLIC ? UDB_IMAGE_FILE : UDB_SHADOW_IMAGE_FILE;
	struct udb_image_sections im = {0};
	struct stat st;
	char *tmp = tmp_name(db->dbdir, file);
	enum udb_result r;
	int fd = -1;

	if (!tmp)
		return UDB_NO_MEMORY;
	r = kind == UDB_IMG_PUBLIC ? udb_image_build_public(db, &im)
				   : udb_image_build_shadow(db, &im);
	if (r != UDB_OK)
		goto out;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		r = result_from_errno(errno);
		goto out;
	}
	if (kind == UDB_IMG_SHADOW) {
		if (stat(db->sec_path, &st) < 0 ||
		    (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0) ||
		    fchmod(fd, 0640) < 0)
			r = UDB_IO;
	} else if (fchmod(fd, 0644) < 0) {
		r = UDB_IO;
	}
	if (r == UDB_OK)
		r = write_image(fd, &im, kind, generation);
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
	char *path =
		final_name(dbdir, kind == UDB_IMG_PUBLIC ? UDB_IMAGE_FILE : UDB_SHADOW_IMAGE_FILE);
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
udb_image_build(struct udb_db *db, unsigned which, uint64_t generation)
{
	enum udb_result r = UDB_OK;

	if (which & UDB_IMAGE_PUBLIC)
		r = write_file(db, UDB_IMG_PUBLIC, generation);
	if (r == UDB_OK && (which & UDB_IMAGE_SHADOW))
		r = write_file(db, UDB_IMG_SHADOW, generation);
	if (r != UDB_OK)
		udb_image_discard(db, which);
	return r;
}

void
udb_image_discard(struct udb_db *db, unsigned which)
{
	static const char *const files[] = {UDB_IMAGE_FILE, UDB_SHADOW_IMAGE_FILE};

	for (int i = 0; i < 2; i++) {
		char *tmp;

		if (!(which & (1u << i)))
			continue;
		tmp = tmp_name(db->dbdir, files[i]);
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
udb_image_install(struct udb_db *db, unsigned which)
{
	static const char *const files[] = {UDB_IMAGE_FILE, UDB_SHADOW_IMAGE_FILE};
	enum udb_result r = UDB_OK;

	for (int i = 0; i < 2 && r == UDB_OK; i++) {
		char *tmp, *dst;

		if (!(which & (1u << i)))
			continue;
		tmp = tmp_name(db->dbdir, files[i]);
		dst = final_name(db->dbdir, files[i]);
		if (!tmp || !dst)
			r = UDB_NO_MEMORY;
		else if (rename(tmp, dst) < 0)
			r = result_from_errno(errno);
		free(tmp);
		free(dst);
	}
	if (r == UDB_OK && which)
		r = bump_generation_word(db->dbdir);
	return r;
}
