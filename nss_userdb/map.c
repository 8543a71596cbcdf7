/* The module's view of the compiled images (common/image.h): opening and
 * mapping them, noticing new ones. Called by every entry point (passwd.c,
 * group.c, initgroups.c, shadow.c).
 *
 * Each thread keeps its own read-only mapping of nss.img and of the word in
 * nss.gen. A lookup compares that word with the value it had when the image
 * was mapped: equal, the mapping is current and the lookup is a load, an
 * index probe and a copy, with no system call and no lock shared with other
 * threads. A writer bumps the word after renaming a new image into place,
 * and the thread's next lookup maps the new file and unmaps the old one,
 * which no other thread uses. Mappings are immutable files, so a thread
 * that is in the middle of a lookup while a writer publishes still reads a
 * whole, consistent image. A thread's mappings go when it exits (a key
 * destructor); a fork child keeps the copies it inherited, which stay
 * valid.
 *
 * The shadow image is never kept: every getspnam opens it, so the caller's
 * credentials are checked at that call, as nss_files does with
 * /etc/shadow; a process that dropped privileges gets no hash. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "nss_userdb.h"

static __thread struct udb_nss_view view;
static pthread_key_t view_key;
static pthread_once_t view_once = PTHREAD_ONCE_INIT;
static bool view_key_ok;

static void
view_drop(struct udb_nss_view *v)
{
	if (v->map)
		munmap(v->map, v->map_len);
	if (v->delta_map)
		munmap(v->delta_map, v->delta_len);
	v->delta_map = NULL;
	v->delta_len = 0;
	if (v->gen_word)
		munmap((void *)(uintptr_t)v->gen_word, sizeof(uint64_t));
	udb_config_free(v->cfg);
	v->map = NULL;
	v->map_len = 0;
	v->gen_word = NULL;
	v->cfg = NULL;
}

static void
view_destroy(void *p)
{
	view_drop(p);
}

static void
view_key_create(void)
{
	view_key_ok = pthread_key_create(&view_key, view_destroy) == 0;
}

static enum udb_result
result_from_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return UDB_UNAVAILABLE;
	case ELOOP:
		return UDB_UNSAFE;
	case EACCES:
	case EPERM:
		return UDB_PERMISSION;
	case ENOMEM:
		return UDB_NO_MEMORY;
	default:
		return UDB_IO;
	}
}

/* The configured database directory, opened and checked; *ret_cfg (when
 * not NULL) gets the configuration it came from. */
static enum udb_result
open_dbdir(int *ret_fd, struct udb_config **ret_cfg)
{
	struct udb_config *cfg = NULL;
	unsigned line = 0;
	enum udb_result r;
	int fd;

	/* Read at every (re)map, so a changed dbdir is picked up with a new
	 * image. USERDB_CONF is read with secure_getenv inside. */
	r = udb_config_load(NULL, &cfg, &line);
	if (r != UDB_OK) {
		/* A named config file that is missing says nothing about the
		 * user looked up: never NOTFOUND. */
		return r == UDB_NOT_FOUND ? UDB_UNAVAILABLE : r;
	}
	/* O_NOFOLLOW: a database directory that is a symlink is refused, as
	 * the writer refuses it. */
	fd = open(cfg->dbdir,
		  O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		r = result_from_errno(errno);
	else
		r = udb_check_trusted_fd(fd, 1);
	if (r != UDB_OK) {
		if (fd >= 0)
			close(fd);
		udb_config_free(cfg);
		return r;
	}
	*ret_fd = fd;
	if (ret_cfg)
		*ret_cfg = cfg;
	else
		udb_config_free(cfg);
	return UDB_OK;
}

#define HUGE_MAPPING (2u << 20)

/* Maps file (in dirfd) read-only after checking it may be trusted.
 * min_len: the least size that makes sense. */
static enum udb_result
map_file(int dirfd, const char *file, size_t min_len, void **ret_map, size_t *ret_len)
{
	struct stat st;
	enum udb_result r;
	void *map;
	int fd;

	fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return result_from_errno(errno);
	if (fstat(fd, &st) < 0) {
		r = UDB_IO;
		goto out;
	}
	r = udb_check_trusted_stat(&st, 0);
	if (r != UDB_OK)
		goto out;
	if (st.st_size < (off_t)min_len || (uint64_t)st.st_size > SIZE_MAX) {
		r = UDB_CORRUPT;
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = result_from_errno(errno);
		goto out;
	}
	/* Pages read in by this mapping's faults come in 2 MiB pieces that
	 * one TLB entry maps (a lookup touches two random places of a file
	 * of hundreds of MB): at 1M users, 207 of 208 MB of nss.img were
	 * mapped that way after it was read in by faults, against 166 MB
	 * without (FilePmdMapped, Linux 6.18, ext4). A kernel without it
	 * says EINVAL, and nothing changes. */
	if ((size_t)st.st_size >= HUGE_MAPPING)
		(void)madvise(map, (size_t)st.st_size, MADV_HUGEPAGE);
	*ret_map = map;
	*ret_len = (size_t)st.st_size;
out:
	close(fd);
	return r;
}

/* The delta beside a base already opened in *img, mapped into *ret_map:
 * none (no file, or one made for an older base) leaves the base alone.
 * UDB_BUSY: the delta is newer than the base, whose install is under way. */
static enum udb_result
map_delta(int dirfd, const char *file, struct udb_img *img, void **ret_map, size_t *ret_len)
{
	enum udb_result r;

	*ret_map = NULL;
	r = map_file(dirfd, file, sizeof(struct udb_img_header), ret_map, ret_len);
	if (r == UDB_UNAVAILABLE)
		return UDB_OK; /* no delta */
	if (r != UDB_OK)
		return r;
	r = udb_img_attach_delta(img, *ret_map, *ret_len);
	if (r == UDB_NOT_FOUND)
		r = UDB_OK;
	if (r != UDB_OK || !img->has_delta) {
		munmap(*ret_map, *ret_len);
		*ret_map = NULL;
	}
	return r;
}

/* One attempt at mapping the word, the base and its delta. */
static enum udb_result
remap_once(struct udb_nss_view *fresh)
{
	void *gen = NULL, *map = NULL;
	size_t gen_len = 0, len = 0;
	enum udb_result r;
	int dirfd = -1;

	r = open_dbdir(&dirfd, &fresh->cfg);
	if (r != UDB_OK)
		goto out;
	/* The word first: a writer that publishes after this read bumps it
	 * again, and the next lookup maps once more. */
	r = map_file(dirfd, UDB_IMAGE_GEN_FILE, sizeof(uint64_t), &gen, &gen_len);
	if (r != UDB_OK)
		goto out;
	fresh->gen_word = gen;
	fresh->seen = __atomic_load_n(fresh->gen_word, __ATOMIC_ACQUIRE);
	/* The base before its delta: a writer installs a new base before it
	 * removes the deltas of the old one (image.h). */
	r = map_file(dirfd, UDB_IMAGE_FILE, sizeof(struct udb_img_header), &map, &len);
	if (r != UDB_OK)
		goto out;
	fresh->map = map;
	fresh->map_len = len;
	r = udb_img_open(map, len, UDB_IMG_PUBLIC, &fresh->img);
	if (r == UDB_OK)
		r = map_delta(dirfd, UDB_IMAGE_DELTA_FILE, &fresh->img, &fresh->delta_map,
			      &fresh->delta_len);
out:
	if (dirfd >= 0)
		close(dirfd);
	/* The word was mapped with the page it lives on; only its first
	 * bytes are ever read, and it is unmapped with that length. */
	(void)gen_len;
	return r;
}

/* A delta newer than the base is a writer between its two renames: the
 * base it needs is in place already, so mapping again finds it. */
#define REMAP_TRIES 8

static enum udb_result
remap(struct udb_nss_view *v)
{
	struct udb_nss_view fresh = {0};
	enum udb_result r = UDB_BUSY;

	for (int i = 0; i < REMAP_TRIES && r == UDB_BUSY; i++) {
		view_drop(&fresh);
		r = remap_once(&fresh);
	}
	view_drop(v);
	if (r != UDB_OK) {
		view_drop(&fresh);
		return r == UDB_BUSY ? UDB_UNAVAILABLE : r;
	}
	fresh.registered = v->registered;
	*v = fresh;
	return UDB_OK;
}

enum udb_result
udb_nss_view_open(struct udb_nss_view *v)
{
	*v = (struct udb_nss_view){0};
	return remap(v);
}

void
udb_nss_view_close(struct udb_nss_view *v)
{
	view_drop(v);
}

enum udb_result
udb_nss_image(const struct udb_img **ret_img)
{
	struct udb_nss_view *v = &view;
	enum udb_result r;

	if (v->map && __atomic_load_n(v->gen_word, __ATOMIC_ACQUIRE) == v->seen) {
		*ret_img = &v->img;
		return UDB_OK;
	}
	if (!v->registered) {
		pthread_once(&view_once, view_key_create);
		/* Without the key (ENOMEM, or out of keys) the thread's
		 * mapping stays until the process ends: lookups still work. */
		if (view_key_ok && pthread_setspecific(view_key, v) == 0)
			v->registered = true;
	}
	r = remap(v);
	if (r != UDB_OK)
		return r;
	*ret_img = &v->img;
	return UDB_OK;
}

const struct udb_config *
udb_nss_config(void)
{
	return view.cfg;
}

enum udb_result
udb_nss_shadow_open(struct udb_nss_shadow *ret_shadow)
{
	enum udb_result r;
	int dirfd = -1;

	ret_shadow->map = NULL;
	ret_shadow->delta_map = NULL;
	r = open_dbdir(&dirfd, NULL);
	for (int i = 0; i < REMAP_TRIES && r == UDB_OK; i++) {
		udb_nss_shadow_close(ret_shadow);
		r = map_file(dirfd, UDB_SHADOW_IMAGE_FILE, sizeof(struct udb_img_header),
			     &ret_shadow->map, &ret_shadow->len);
		if (r == UDB_OK)
			r = udb_img_open(ret_shadow->map, ret_shadow->len, UDB_IMG_SHADOW,
					 &ret_shadow->img);
		if (r == UDB_OK)
			r = map_delta(dirfd, UDB_SHADOW_DELTA_FILE, &ret_shadow->img,
				      &ret_shadow->delta_map, &ret_shadow->delta_len);
		if (r != UDB_BUSY)
			break;
		r = i + 1 < REMAP_TRIES ? UDB_OK : UDB_UNAVAILABLE;
	}
	if (dirfd >= 0)
		close(dirfd);
	if (r != UDB_OK)
		udb_nss_shadow_close(ret_shadow);
	return r;
}

void
udb_nss_shadow_close(struct udb_nss_shadow *shadow)
{
	if (shadow->map)
		munmap(shadow->map, shadow->len);
	if (shadow->delta_map)
		munmap(shadow->delta_map, shadow->delta_len);
	shadow->map = NULL;
	shadow->delta_map = NULL;
}

/* Enumeration's lock. Fork: the prepare handler takes it, so no thread is
 * inside an enumeration call when the address space is copied; parent and
 * child both release it. */
static pthread_mutex_t enum_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
atfork_prepare(void)
{
	pthread_mutex_lock(&enum_mutex);
}

static void
atfork_release(void)
{
	pthread_mutex_unlock(&enum_mutex);
}

static void
atfork_register(void)
{
	/* glibc ties handlers registered from a dlopen()ed object to it and
	 * drops them when it is unloaded. A failure (ENOMEM) leaves fork
	 * unprotected; there is nobody to tell, and enumeration still works. */
	(void)pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

int
udb_nss_lock(void)
{
	int cancel_state = PTHREAD_CANCEL_ENABLE;

	/* A thread cancelled inside an enumeration call would leave with the
	 * lock held and hang every later one: cancellation waits instead. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&enum_mutex);
	return cancel_state;
}

void
udb_nss_unlock(int cancel_state)
{
	pthread_mutex_unlock(&enum_mutex);
	pthread_setcancelstate(cancel_state, NULL);
}
