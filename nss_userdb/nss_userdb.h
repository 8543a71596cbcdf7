/* Shared between the files of nss_userdb/ only: the module's entry points
 * as glibc declares them, the process-wide connections (conn.c), the one
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

#include "config.h"
#include "db.h"
#include "result.h"

/* The whole library is built with -fvisibility=hidden; only the entry
 * points are default visibility (the version script also lists only
 * _nss_userdb_*). Declaring them through glibc's own macro makes a wrong
 * prototype a build error. */
#pragma GCC visibility push(default)
NSS_DECLARE_MODULE_FUNCTIONS(userdb)
#pragma GCC visibility pop

/* Enumeration pages. Users, personal groups and shadow entries are small:
 * a page of 1024 costs about 100 KiB and makes the per-page work (a stat, a
 * read transaction, a keyset seek: some 15 µs) vanish in a million-user
 * pass. Roles carry member lists (20,000 names at 1M users), so group
 * enumeration fetches them a few at a time. */
#define UDB_NSS_PAGE      1024
#define UDB_NSS_ROLE_PAGE 8

enum udb_nss_handle {
	UDB_NSS_PUBLIC, /* public file only: every caller */
	UDB_NSS_SHADOW, /* both files: root and group shadow */
};

/* The one lock of the module: it guards both connections, the enumeration
 * cursors and the group retry cache. Every entry point takes it once and
 * releases it at its single exit, handing back what udb_nss_lock() returned
 * (the thread's cancellation state, which is off while the lock is held). */
int udb_nss_lock(void);
void udb_nss_unlock(int cancel_state);

/* The connection for `which`, opened (or reopened, when the files were
 * replaced or this process is a fork child) as needed. The caller holds the
 * lock and must not keep the pointer past udb_nss_unlock(). */
enum udb_result udb_nss_db_locked(enum udb_nss_handle which, struct udb_db **ret_db);
/* The same for enumeration: its pages do not count toward mapping the file
 * (see conn.c). */
enum udb_result udb_nss_scan_db_locked(enum udb_nss_handle which, struct udb_db **ret_db);
/* The configuration read when that connection was opened (the id ranges
 * every entry is checked against); same lifetime rules as the handle. */
const struct udb_config *udb_nss_config_locked(enum udb_nss_handle which);
/* Changes whenever udb_nss_db_locked() opened a new connection for which:
 * values tied to one connection (its data_version) are void after that. */
uint64_t udb_nss_db_epoch_locked(enum udb_nss_handle which);

/* The only mapping from enum udb_result to what glibc expects; sets
 * *errnop for everything but success. */
enum nss_status udb_nss_status(enum udb_result r, int *errnop);

#endif
