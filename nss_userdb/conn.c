/* The module's process-wide database connections and its one lock. Called
 * by every entry point (passwd.c, group.c, shadow.c, initgroups.c).
 *
 * A process keeps at most two read-only connections: the public one, used
 * by passwd, group and initgroups lookups, and a shadow one, opened only
 * when a shadow function is called (most processes never may read the
 * shadow file, and the public connection then stays usable). Opening costs
 * a config read and a schema parse, so a connection lives as long as the
 * process; before every lookup it is checked against the files on disk and
 * reopened when they were replaced. Changes committed through SQLite need
 * no reopening: WAL readers see every commit at their next statement.
 *
 * Fork: the prepare handler takes the lock, so no thread is inside SQLite
 * with our connections when the address space is copied; parent and child
 * both release it. The child only marks the connections as inherited. Its
 * next lookup closes them before opening its own: closing a read-only
 * connection with no transaction open writes nothing and touches only the
 * child's copies of the descriptors and mappings, and it resets SQLite's
 * per-process lock bookkeeping, which still says the parent's shared lock on
 * the file is held although fcntl locks are not inherited. No SQLite call is
 * made from the handler itself. */
#include <pthread.h>
#include <stdlib.h>

#include "config.h"
#include "nss_userdb.h"

struct conn {
	struct udb_db *db;
	struct udb_config *cfg; /* read with db: the id ranges entries must keep */
	unsigned uses;          /* lookups since the open, counted up to MMAP_AFTER */
	uint64_t epoch;         /* which open this is: see udb_nss_db_epoch_locked() */
	bool inherited;         /* opened by the parent before a fork */
};

/* Lookups on a connection before the public file is mapped. */
#define MMAP_AFTER 16

static pthread_mutex_t udb_nss_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t udb_nss_atfork_once = PTHREAD_ONCE_INIT;
static struct conn conns[2];
static uint64_t opens;

static void
atfork_prepare(void)
{
	pthread_mutex_lock(&udb_nss_mutex);
}

static void
atfork_parent(void)
{
	pthread_mutex_unlock(&udb_nss_mutex);
}

static void
atfork_child(void)
{
	conns[UDB_NSS_PUBLIC].inherited = conns[UDB_NSS_PUBLIC].db != NULL;
	conns[UDB_NSS_SHADOW].inherited = conns[UDB_NSS_SHADOW].db != NULL;
	pthread_mutex_unlock(&udb_nss_mutex);
}

static void
atfork_register(void)
{
	/* glibc ties handlers registered from a dlopen()ed object to it and
	 * drops them when it is unloaded. A failure (ENOMEM) leaves fork
	 * unprotected; there is nobody to tell, and lookups still work. */
	(void)pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int
udb_nss_lock(void)
{
	int cancel_state = PTHREAD_CANCEL_ENABLE;

	/* SQLite's pread and glibc's own calls are cancellation points: a
	 * thread cancelled inside a lookup would leave with the lock held and
	 * hang every later lookup of the process. Cancellation waits until the
	 * lookup is over instead. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	pthread_once(&udb_nss_atfork_once, atfork_register);
	pthread_mutex_lock(&udb_nss_mutex);
	return cancel_state;
}

void
udb_nss_unlock(int cancel_state)
{
	pthread_mutex_unlock(&udb_nss_mutex);
	pthread_setcancelstate(cancel_state, NULL);
}

static enum udb_result
open_locked(enum udb_nss_handle which, struct udb_db **ret_db, struct udb_config **ret_cfg)
{
	struct udb_config *cfg = NULL;
	unsigned line = 0;
	enum udb_result r;

	/* The configuration is read at every (re)open, so a changed dbdir is
	 * picked up together with replaced files. USERDB_CONF is read with
	 * secure_getenv inside udb_config_load. */
	r = udb_config_load(NULL, &cfg, &line);
	if (r == UDB_OK)
		r = udb_db_open(cfg->dbdir,
				which == UDB_NSS_SHADOW ? UDB_OPEN_SHADOW : UDB_OPEN_PUBLIC,
				ret_db);
	if (r == UDB_OK)
		*ret_cfg = cfg;
	else
		udb_config_free(cfg);
	/* A config file that USERDB_CONF names but that is missing comes back
	 * as NOT_FOUND: that says nothing about the user looked up, and must
	 * not reach glibc as "no such entry". */
	return r == UDB_NOT_FOUND ? UDB_UNAVAILABLE : r;
}

static enum udb_result
db_locked(enum udb_nss_handle which, bool lookup, struct udb_db **ret_db)
{
	struct conn *c = &conns[which];
	enum udb_result r;

	/* Both connections go at once: the shadow one has the public file
	 * open too, and SQLite keeps one lock record per file and process, so
	 * an inherited connection left open would hand its stale record to the
	 * fresh one. */
	if (c->inherited) {
		for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++) {
			if (!conns[i].inherited)
				continue;
			udb_db_close(conns[i].db);
			udb_config_free(conns[i].cfg);
			conns[i].db = NULL;
			conns[i].cfg = NULL;
			conns[i].inherited = false;
		}
	}
	if (c->db && !udb_db_is_current(c->db)) {
		udb_db_close(c->db);
		udb_config_free(c->cfg);
		c->db = NULL;
		c->cfg = NULL;
	}
	if (!c->db) {
		r = open_locked(which, &c->db, &c->cfg);
		if (r != UDB_OK) {
			c->db = NULL;
			c->cfg = NULL;
			return r;
		}
		c->epoch = ++opens;
		c->uses = 0;
	}
	/* A process that keeps looking up gets the file mapped; one that
	 * makes a handful of lookups (most commands) does not pay for it, and
	 * enumeration does not count: a pass maps nothing, so its memory stays
	 * one page of entries whatever the number of users. */
	if (lookup && c->uses < MMAP_AFTER && ++c->uses == MMAP_AFTER)
		udb_db_enable_mmap(c->db);
	*ret_db = c->db;
	return UDB_OK;
}

enum udb_result
udb_nss_db_locked(enum udb_nss_handle which, struct udb_db **ret_db)
{
	return db_locked(which, true, ret_db);
}

enum udb_result
udb_nss_scan_db_locked(enum udb_nss_handle which, struct udb_db **ret_db)
{
	return db_locked(which, false, ret_db);
}

uint64_t
udb_nss_db_epoch_locked(enum udb_nss_handle which)
{
	return conns[which].epoch;
}

const struct udb_config *
udb_nss_config_locked(enum udb_nss_handle which)
{
	return conns[which].cfg;
}
