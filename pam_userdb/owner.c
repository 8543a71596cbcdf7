/* Whose name is it: a name that another NSS source resolves to an account
 * of its own is not the database's to answer for (see pud_check_owner in
 * module.h). Called by every entry point of pam_userdb.c before it opens
 * the shadow file, so that a local user's login costs one getpwnam and,
 * when that finds the name, one read of the public file.
 *
 * Authentication asks the image first (nss.img and its delta, what NSS
 * answers from): when it gives the name the uid NSS gave, the public file
 * is not opened, and the answer is confirmed once the shadow file is open
 * (pud_confirm_owner): the store records the generations of the images it
 * last published, and an image of other generations (a writer killed
 * before its install) is not trusted: the public file decides, as in the
 * other phases. The image only ever says "ours" this way; every other
 * answer comes from the store. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>

#include "image.h"
#include "module.h"
#include "user.h"

#define SHADOWED_KEY "pam_userdb:shadowed_logged"
/* glibc asks for more room with ERANGE; a passwd entry never needs this. */
#define PW_BUF_MAX (1 << 20)

/* getpwnam through every source nsswitch.conf lists. false when no source
 * has the name (or the lookup failed: then the database decides). */
static bool
lookup_uid(const char *user, uid_t *ret_uid)
{
	struct passwd pw, *found = NULL;
	size_t size = 4096;
	char *buf = NULL;
	int err;

	for (;;) {
		char *grown = realloc(buf, size);

		if (!grown)
			break;
		buf = grown;
		err = getpwnam_r(user, &pw, buf, size, &found);
		if (err != ERANGE || size >= PW_BUF_MAX)
			break;
		size *= 2;
	}
	if (found)
		*ret_uid = found->pw_uid;
	free(buf);
	return found != NULL;
}

static void
log_shadowed_once(struct pud_ctx *ctx, const char *user, uint32_t ours, uid_t theirs,
		  const char *what)
{
	const void *done = NULL;

	if (pam_get_data(ctx->pamh, SHADOWED_KEY, &done) == PAM_SUCCESS && done)
		return;
	pam_syslog(ctx->pamh, LOG_WARNING,
		   "%s refused for %s: the name resolves to uid %u through another source "
		   "before the database (uid %u)",
		   what, user, (unsigned)theirs, (unsigned)ours);
	pam_set_data(ctx->pamh, SHADOWED_KEY, (void *)(uintptr_t)1, NULL);
}

/* Maps dbdir/file read-only after the checks the NSS module makes. */
static enum udb_result
map_image_file(const char *dbdir, const char *file, void **ret_map, size_t *ret_len)
{
	enum udb_result r;
	struct stat st;
	char path[4096];
	void *map;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dbdir, file) >= sizeof(path))
		return UDB_INVALID;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT   ? UDB_UNAVAILABLE
		       : errno == EACCES ? UDB_PERMISSION
					 : UDB_IO;
	if (fstat(fd, &st) < 0)
		r = UDB_IO;
	else
		r = udb_check_trusted_stat(&st, 0);
	if (r == UDB_OK && (st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX))
		r = UDB_CORRUPT;
	map = r == UDB_OK ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0) : NULL;
	close(fd);
	if (r != UDB_OK)
		return r;
	if (map == MAP_FAILED)
		return UDB_IO;
	*ret_map = map;
	*ret_len = (size_t)st.st_size;
	return UDB_OK;
}

/* The user's uid from nss.img and the delta beside it, which is what NSS
 * answers: for a caller that may not read the store (it is root's alone),
 * such as a screen locker running as the user. The images are checked as
 * the NSS module checks them; a delta made for a newer base than the one
 * mapped (a writer between its renames) fails closed, as UDB_BUSY. */
static enum udb_result
image_uid(const char *dbdir, const char *user, uint32_t *ret_uid, uint64_t ret_gen[2])
{
	struct udb_img_passwd pw;
	struct udb_img img;
	enum udb_result r;
	void *map = NULL, *delta = NULL;
	size_t len = 0, delta_len = 0;

	r = map_image_file(dbdir, UDB_IMAGE_FILE, &map, &len);
	if (r != UDB_OK)
		return r;
	r = udb_img_open(map, len, UDB_IMG_PUBLIC, &img);
	if (r == UDB_OK) {
		r = map_image_file(dbdir, UDB_IMAGE_DELTA_FILE, &delta, &delta_len);
		if (r == UDB_OK)
			r = udb_img_attach_delta(&img, delta, delta_len);
		if (r == UDB_UNAVAILABLE || r == UDB_NOT_FOUND)
			r = UDB_OK; /* no delta, or one of an older base */
	}
	if (r == UDB_OK)
		r = udb_img_user_by_name(&img, user, &pw);
	if (r == UDB_OK) {
		*ret_uid = pw.uid;
		ret_gen[0] = img.part[0].generation;
		ret_gen[1] = img.has_delta ? img.part[1].generation : 0;
	}
	if (delta)
		munmap(delta, delta_len);
	munmap(map, len);
	return r;
}

int
pud_check_owner(struct pud_ctx *ctx, const char *user, const char *what)
{
	struct udb_user *u = NULL;
	struct udb_db *pub = NULL;
	uint64_t gen[2] = {0, 0};
	enum udb_result r;
	uint32_t ours = 0;
	uid_t uid = 0;
	int rc;

	if (!lookup_uid(user, &uid))
		return PAM_SUCCESS;
	rc = pud_ctx_config(ctx);
	if (rc != PAM_SUCCESS)
		return rc;
	/* Authentication by root: the image's "ours", to be confirmed. */
	if (ctx->image_owner && geteuid() == 0 &&
	    image_uid(ctx->cfg->dbdir, user, &ours, gen) == UDB_OK && ours == uid) {
		ctx->ours = true;
		ctx->owner_unconfirmed = true;
		ctx->owner_gen[0] = gen[0];
		ctx->owner_gen[1] = gen[1];
		return PAM_SUCCESS;
	}
	/* The public file has every user's uid; the handle is closed at once
	 * (see ctx_open on transient handles). Only root may read it: others
	 * (then sent to userdb-chkpwd) get the uid from the image. */
	r = udb_db_open_transient(ctx->cfg->dbdir, UDB_OPEN_PUBLIC, &pub);
	if (r == UDB_OK)
		r = udb_user_by_name(pub, user, &u);
	udb_db_close(pub);
	if (r == UDB_PERMISSION && geteuid() != 0) {
		r = image_uid(ctx->cfg->dbdir, user, &ours, gen);
	} else if (r == UDB_OK) {
		ours = u->uid;
	} else if (r != UDB_NOT_FOUND) {
		/* The store cannot be read (missing, damaged, its -shm
		 * gone): the image still says whose name it is. A database
		 * user is then refused by the caller (fail closed) instead of
		 * being handed to pam_unix, which would see the hash through
		 * NSS and none of this module's gates; a name the image does
		 * not have is a local one, so root still gets in. */
		enum udb_result store = r;

		r = image_uid(ctx->cfg->dbdir, user, &ours, gen);
		if (r == UDB_OK) {
			ctx->ours = ours == uid;
			r = ctx->ours ? store : UDB_NOT_FOUND;
		} else if (r != UDB_NOT_FOUND) {
			r = store;
		}
	}
	if (r == UDB_NOT_FOUND) {
		if (ctx->args.debug)
			pam_syslog(ctx->pamh, LOG_DEBUG, "%s: not a database user", what);
		return PAM_USER_UNKNOWN;
	}
	if (r != UDB_OK) {
		pam_syslog(ctx->pamh, LOG_ERR, "%s: cannot read the public file: %s", what,
			   udb_result_to_string(r));
		return pud_pam_code(PUD_STEP_OPEN, r);
	}
	rc = PAM_SUCCESS;
	ctx->ours = ours == uid;
	if (ours != uid) {
		log_shadowed_once(ctx, user, ours, uid, what);
		rc = PAM_USER_UNKNOWN;
	}
	udb_user_free(u);
	return rc;
}

int
pud_confirm_owner(struct pud_ctx *ctx, const char *user, const char *what)
{
	uint64_t base = 0, delta = 0;
	enum udb_result r;

	if (!ctx->owner_unconfirmed)
		return PAM_SUCCESS;
	ctx->owner_unconfirmed = false;
	r = udb_db_public_image_generations(ctx->db, &base, &delta);
	if (r == UDB_OK && base == ctx->owner_gen[0] && delta == ctx->owner_gen[1])
		return PAM_SUCCESS;
	/* The image may be staler than the store: ask the store. */
	ctx->image_owner = false;
	ctx->ours = false;
	return pud_check_owner(ctx, user, what);
}
