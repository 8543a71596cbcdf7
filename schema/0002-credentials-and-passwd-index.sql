-- userdb schema 2.
--
-- From this migration on, every migration can run twice: a change spans
-- both files, SQLite commits the shadow file first, and an upgrade cut short
-- between the two commits leaves the shadow file one version ahead;
-- `userdb init` then runs the migration again to finish the public file
-- (common/db.c). Hence IF NOT EXISTS and OR IGNORE below.

-- Each account's user name, in the shadow file, so that an authentication
-- reads the shadow file alone: one file to open instead of two is most of
-- what a login costs beyond its password hash. Written once, when the user
-- is added (names never change), and gone with the account. `confirmed`
-- says the public file is known to have the user too: a user add cut short
-- between the two commits (a crash, a full disk) leaves an unconfirmed name,
-- which an authentication checks against the public file (common/account.c);
-- the next write transaction confirms every name whose user exists
-- (common/db.c).
CREATE TABLE IF NOT EXISTS sec.account_names (
	username TEXT PRIMARY KEY,
	user_id INTEGER NOT NULL UNIQUE REFERENCES accounts(user_id) ON DELETE CASCADE,
	confirmed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sec.account_names_unconfirmed ON account_names(user_id)
	WHERE NOT confirmed;
INSERT OR IGNORE INTO sec.account_names (username, user_id, confirmed)
	SELECT u.username, a.user_id, 1 FROM sec.accounts a JOIN pub.users u ON u.id = a.user_id;

-- Everything a passwd entry shows, in name order: getpwnam and the personal
-- group by name then read one b-tree instead of the name index and then the
-- table (a third less time at a million users).
CREATE INDEX IF NOT EXISTS pub.users_passwd_by_name ON users(username, id, uid, gid,
	primary_role_id, first_name, last_name, home, shell);

-- Each user's passwd entry, ready-made: `entry` is the name, "x", the GECOS
-- ("First Last", or whichever is set), the home and the shell, each ended by
-- a NUL, in that order; the gid beside it, the uid as the row's key. getpwuid
-- reads this one narrow b-tree, and enumerating a million users reads it
-- instead of seven columns of users per row (half the time). common/user.c
-- rewrites a user's row in the transaction that adds or changes the user,
-- with the same expression (UDB_Q_PASSWD_ENTRY_REFRESH in common/sql.c); it
-- goes with the user.
CREATE TABLE IF NOT EXISTS pub.passwd_entries (
	uid INTEGER PRIMARY KEY,
	id INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
	gid INTEGER NOT NULL,
	entry BLOB NOT NULL
);
INSERT OR IGNORE INTO pub.passwd_entries (uid, id, gid, entry)
	SELECT uid, id, gid, CAST(username || x'00' || 'x' || x'00' ||
		CASE WHEN first_name <> '' AND last_name <> '' THEN first_name || ' ' || last_name
			ELSE first_name || last_name END || x'00' ||
		home || x'00' || shell || x'00' AS BLOB)
	FROM pub.users;
