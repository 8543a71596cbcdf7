-- userdb schema 9.
--
-- What changed since the images' bases were built (common/image_delta.c).
-- Every write transaction publishes a small delta beside each base image
-- (the entries these tables name, rebuilt from the store) instead of the
-- whole image. The transaction that changes the store records here, before
-- its COMMIT, what an SQLite session saw it change (common/image_changes.c),
-- so whatever writes through common/ (every command, PAM, the fleet's apply
-- engine) is seen; rebuilding the bases empties them. Like every migration
-- from schema 2 on, this one can run twice (see 0002-*.sql).
--
-- pub.image_changes: kind 0, a user whose passwd entry, personal group or
-- grants changed (its id); kind 1, a role that is new or renamed; kind 2
-- (id 0), a change that reaches beyond the entries it touches (an
-- inclusion between two roles, a role's gid or its deletion): the next
-- publication rebuilds the bases.
CREATE TABLE IF NOT EXISTS pub.image_changes (
	kind INTEGER NOT NULL,
	id INTEGER NOT NULL,
	PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- sec.image_changes: accounts whose shadow entry changed. A failure count
-- or a login record alone marks nothing: PAM's own bookkeeping never
-- publishes an image.
CREATE TABLE IF NOT EXISTS sec.image_changes (
	user_id INTEGER PRIMARY KEY
);
