-- userdb schema 3.
--
-- Ids are never handed out twice. Until schema 2 a new uid or role gid was
-- the lowest free id of its range, so deleting a user gave the next user
-- its uid and with it every file the old one left behind. From schema 3 on
-- each kind of id has a high-water mark: the highest id of its configured
-- range ever handed out or named by the admin. New ids come from above it
-- (common/ids.c), and the mark never goes down. Deleting a user or role
-- leaves the marks alone, so a freed id comes back only when the admin
-- names it (`--uid`, `--gid`).
--
-- One row per kind, so that a central allocator can later own the same
-- rows. uids and personal groups share the 'uid' row (a personal group's
-- gid is its uid); role gids have the 'gid' row. The allocator reads both,
-- because the two ranges may overlap (they are the same pool by default).
--
-- An existing database starts from its current largest ids: what was freed
-- before the upgrade cannot be known any more. Like every migration from
-- schema 2 on, this one can run twice (see 0002-*.sql).
CREATE TABLE IF NOT EXISTS pub.id_allocator (
	kind TEXT PRIMARY KEY CHECK (kind IN ('uid', 'gid')),
	high_water INTEGER NOT NULL CHECK (high_water BETWEEN 0 AND 4294967294)
) WITHOUT ROWID;
INSERT OR IGNORE INTO pub.id_allocator (kind, high_water)
	SELECT 'uid', coalesce(max(uid), 0) FROM pub.users;
INSERT OR IGNORE INTO pub.id_allocator (kind, high_water)
	SELECT 'gid', coalesce(max(gid), 0) FROM pub.roles;
