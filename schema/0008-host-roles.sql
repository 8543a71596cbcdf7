-- userdb schema 8.
--
-- Fleet mode, on a host: the roles allowed to log in on this host, as
-- `userdb host add/allow/deny` set them centrally (userdb.host_roles;
-- `userdb sync` copies this host's own rows only). The account phase
-- refuses a user none of whose effective roles is among this host's when
-- the configuration names the host (`host =`), with or without
-- roles_required= (common/gate.c). Like every migration from schema 2 on,
-- this one can run twice (see 0002-*.sql).
CREATE TABLE IF NOT EXISTS pub.host_roles (
	host TEXT NOT NULL,
	role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
	PRIMARY KEY (host, role_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pub.host_roles_role ON host_roles(role_id);
