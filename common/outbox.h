/* Fleet mode: what a host reports to central (issue 14). The PAM module's
 * failed logins and logins are queued in the shadow file's sec.outbox
 * (schema/0010-outbox.sql) inside the write transaction that records them
 * anyway, so a login never waits on the network; `userdb sync` pushes the
 * queue to central (sync_push.c) and removes what central took.
 *
 * The queue holds one row per account and kind: a new event adds to the
 * row's count and takes the next sequence number of the store, so it is
 * bounded by the number of accounts whatever the number of events. A push
 * first marks what it sends (sent_count, sent_seq: one short write
 * transaction), then sends it, then takes it off (another one). A push
 * killed after central's commit leaves the marks: the next one sends the
 * same part under the same sequence number, which central has seen and
 * ignores, and events that came meanwhile go on the next push. */
#ifndef UDB_OUTBOX_H
#define UDB_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "result.h"

enum udb_outbox_kind {
	UDB_OUTBOX_FAILURE = 0,
	UDB_OUTBOX_LOGIN = 1,
};

/* Turns queueing on for this handle (a fleet host's PAM module and
 * userdb-chkpwd: `central` and `host` set in the configuration). Off by
 * default: a single host or the admin box queues nothing. */
void udb_db_set_outbox(struct udb_db *db, bool on);

/* Inside a write transaction: queues one event when queueing is on (else
 * does nothing). detail (may be NULL) is kept as given, cut to 255 bytes. */
enum udb_result udb_outbox_add_in_tx(struct udb_db *db, int64_t user_id, enum udb_outbox_kind kind,
				     int64_t at, const char *detail);

/* One queued part as a push sends it. */
struct udb_outbox_entry {
	int64_t user_id;
	enum udb_outbox_kind kind;
	int64_t seq, count, at;
	char detail[256];
};

/* Marks everything queued and not yet marked as sent (one write
 * transaction, only when there is something to mark), then reads every
 * marked part (those of an earlier push that did not finish too). *ret_v
 * is malloc'd (NULL when empty); stream is the store's identity (its pair
 * id), which central keeps with the last sequence number it took. */
enum udb_result udb_outbox_take(struct udb_db *db, struct udb_outbox_entry **ret_v, size_t *ret_n,
				char *stream, size_t stream_size);
/* After central committed the push: removes the marked parts (a row that
 * got new events meanwhile keeps those). */
enum udb_result udb_outbox_done(struct udb_db *db);
/* The number of queued rows (for `sync --status` and the tests). */
enum udb_result udb_outbox_count(struct udb_db *db, int64_t *ret_n);

#endif
