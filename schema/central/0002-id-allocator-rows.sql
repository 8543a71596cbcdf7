-- userdb central schema 2: the id allocator's two rows (kind 'uid' and
-- 'gid', high-water mark 0), as `userdb init` makes them in a new local
-- store. Ids are allocated on the admin mirror from these rows, and the
-- change that raises a mark is sent to central like any other
-- (common/central_admin.c), so the revision check makes every id unique
-- fleet-wide and never handed out twice. They are written at revision 0,
-- the state every new store starts in: a mirror or host at revision 0
-- already has them. A database that already has the rows keeps them.

DO $$
BEGIN
	PERFORM set_config('userdb.rev', '0', true);
	INSERT INTO userdb.id_allocator (kind, high_water) VALUES ('uid', 0), ('gid', 0)
		ON CONFLICT (kind) DO NOTHING;
	PERFORM set_config('userdb.rev', '', true);
END $$;
