/* Shared between the files of nss_userdb/ only: the module's entry points
 * as glibc declares them, the images (map.c), the enumeration lock, the one
 * mapping from enum udb_result to NSS status and errno (status.c). Nothing
 * outside nss_userdb/ includes this. */
#ifndef UDB_NSS_USERDB_H
#define UDB_NSS_USERDB_H

#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <shadow.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "image.h"
#include "result.h"

/* The whole library is built with -fvisibility=hidden; only the entry
 * points are default visibility (the version script also lists only
 * _nss_userdb_*). Declaring them through glibc's own macro makes a wrong
 * prototype a build error. */
#pragma GCC visibility push(default)
NSS_DECLARE_MODULE_FUNCTIONS(userdb)
#pragma GCC visibility pop

/* The lock of enumeration: it guards the enumeration cursors (passwd.c,
 * group.c, shadow.c) and nothing else; lookups take no lock. Every
 * enumeration entry point takes it once and releases it at its single exit,
 * handing back what udb_nss_lock() returned (the thread's cancellation
 * state, which is off while the lock is held). */
int udb_nss_lock(void);
void udb_nss_unlock(int cancel_state);

/* A mapping of the public image with the configuration read with it. */
struct udb_nss_view {
	void *map;
	size_t map_len;
	void *delta_map; /* NULL: the base answers alone */
	size_t delta_len;
	const uint64_t *gen_word;
	uint64_t seen;
	struct udb_img img;
	struct udb_config *cfg; /* the id ranges entries must keep */
	bool registered;
};

/* A mapping of its own for an enumeration: one snapshot for the whole
 * pass, whatever a writer publishes meanwhile (taken and dropped under the
 * enumeration lock). */
enum udb_result udb_nss_view_open(struct udb_nss_view *ret_view);
void udb_nss_view_close(struct udb_nss_view *view);

/* The calling thread's mapping of the public image (map.c), current as of
 * this call: remapped when a writer has published a new one since. Valid
 * until the thread's next call. */
enum udb_result udb_nss_image(const struct udb_img **ret_img);
/* The configuration read with that image (the id ranges every entry is
 * checked against); same lifetime. */
const struct udb_config *udb_nss_config(void);

/* The shadow image, opened and mapped for one call (or one enumeration):
 * the open is where the caller's credentials are checked. */
struct udb_nss_shadow {
	void *map;
	size_t len;
	void *delta_map;
	size_t delta_len;
	struct udb_img img;
};
enum udb_result udb_nss_shadow_open(struct udb_nss_shadow *ret_shadow);
void udb_nss_shadow_close(struct udb_nss_shadow *shadow);

/* The only mapping from enum udb_result to what glibc expects; sets
 * *errnop for everything but success. */
enum nss_status udb_nss_status(enum udb_result r, int *errnop);

#endif
