-- userdb schema 6.
--
-- role_includes.included_id refers to roles(id) with ON DELETE CASCADE, but
-- only (role_id, included_id) was indexed, so deleting a role made SQLite's
-- foreign-key check read every row of role_includes to find those that
-- include it. Found by the plan audit of every statement
-- (tests/unit/test_sql.c, issue 13: every write costs O(change)). Like every
-- migration from schema 2 on, this one can run twice (see 0002-*.sql).
CREATE INDEX IF NOT EXISTS pub.role_includes_included ON role_includes(included_id);
