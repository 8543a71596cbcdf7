-- userdb schema 10.
--
-- Fleet mode (issue 14): what a host reports to central, and central's
-- fleet-wide lock. Like every migration from schema 2 on this one can run
-- twice: the runner (common/db.c) skips an ADD COLUMN whose column exists.

-- sec.outbox: failed logins (kind 0) and logins (kind 1) that the PAM
-- module recorded on this host and `userdb sync` has not yet pushed to
-- central (common/outbox.c). Written inside the attempt's or the login
-- record's own write transaction. One row per user and kind: a new event
-- adds to the row's count and takes a new sequence number (seq, from
-- sec.meta's outbox_seq), so a flood of failures never grows the table
-- beyond two rows per account. sent_count and sent_seq are the part of the
-- row a push has sent (0: none): a push killed after central's commit
-- sends that part again under the same seq, which central ignores.
CREATE TABLE IF NOT EXISTS sec.outbox (
	user_id INTEGER NOT NULL REFERENCES accounts(user_id) ON DELETE CASCADE,
	kind INTEGER NOT NULL CHECK (kind IN (0, 1)),
	count INTEGER NOT NULL,
	at INTEGER NOT NULL,
	detail TEXT NOT NULL DEFAULT '',
	seq INTEGER NOT NULL,
	sent_count INTEGER NOT NULL DEFAULT 0,
	sent_seq INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;

-- Replicated from central's userdb.accounts: unlocked_at, the last admin
-- `user unlock` (a host clears its own lock and count when it is newer
-- than its last failure); fleet_locked_at, set while central holds the
-- account locked fleet-wide (the PAM module refuses it like a locked one).
ALTER TABLE sec.accounts ADD COLUMN unlocked_at INTEGER;
ALTER TABLE sec.accounts ADD COLUMN fleet_locked_at INTEGER;
