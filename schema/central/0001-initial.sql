-- userdb central schema 1 (PostgreSQL 15), applied by `userdb central init`
-- (common/central_init.c) in one transaction.
--
-- Every change bumps one revision counter. A writer first calls
-- userdb.begin_change(), which updates the single row of userdb.state: the
-- row lock serializes writers, so commit order is revision order, and a
-- snapshot that sees state.rev = T sees every change with rev <= T. Each
-- replicated table has a `rev` column that a trigger fills from that
-- counter (and refuses a write without begin_change()); deletions leave a
-- row in userdb.tombstones. Hosts pull `rev > theirs`.
--
-- Embedded like the local migrations (schema/embed.py strips these
-- comment lines). Statements must not use `--` comments after code.

CREATE SCHEMA userdb;

CREATE TABLE userdb.meta (
	key text PRIMARY KEY,
	value text NOT NULL
);

CREATE TABLE userdb.state (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	rev bigint NOT NULL DEFAULT 0,
	min_rev bigint NOT NULL DEFAULT 0
);
INSERT INTO userdb.state (one, rev, min_rev) VALUES (true, 0, 0);

-- Starts a change: the next revision, kept for this transaction in the
-- setting userdb.rev that the triggers read. A second call in the same
-- transaction returns the same revision. Hosts listening on channel
-- `userdb` are woken at commit.
CREATE FUNCTION userdb.begin_change() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	r bigint;
	cur text := current_setting('userdb.rev', true);
BEGIN
	IF cur IS NOT NULL AND cur <> '' THEN
		RETURN cur::bigint;
	END IF;
	UPDATE userdb.state SET rev = rev + 1 RETURNING rev INTO r;
	PERFORM set_config('userdb.rev', r::text, true);
	PERFORM pg_notify('userdb', r::text);
	RETURN r;
END $$;

CREATE FUNCTION userdb.current_rev() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	cur text := current_setting('userdb.rev', true);
BEGIN
	IF cur IS NULL OR cur = '' THEN
		RAISE EXCEPTION 'userdb: a change must start with SELECT userdb.begin_change()'
			USING ERRCODE = 'P0001';
	END IF;
	RETURN cur::bigint;
END $$;

CREATE FUNCTION userdb.set_rev() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.rev := userdb.current_rev();
	RETURN NEW;
END $$;

CREATE TABLE userdb.tombstones (
	rev bigint NOT NULL,
	tbl text NOT NULL,
	pk jsonb NOT NULL
);
CREATE INDEX tombstones_rev ON userdb.tombstones (rev);

-- AFTER DELETE (and UPDATE of a primary key): TG_ARGV names the primary
-- key's columns; the tombstone holds them as a JSON object.
CREATE FUNCTION userdb.tombstone() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	old_pk jsonb;
	new_pk jsonb;
BEGIN
	SELECT jsonb_object_agg(k, to_jsonb(OLD) -> k) INTO old_pk FROM unnest(TG_ARGV) AS k;
	IF TG_OP = 'UPDATE' THEN
		SELECT jsonb_object_agg(k, to_jsonb(NEW) -> k) INTO new_pk FROM unnest(TG_ARGV) AS k;
		IF new_pk = old_pk THEN
			RETURN NULL;
		END IF;
	END IF;
	INSERT INTO userdb.tombstones (rev, tbl, pk)
		VALUES (userdb.current_rev(), TG_TABLE_NAME, old_pk);
	RETURN NULL;
END $$;

-- The identity tables: the local schema's tables and columns (schema/),
-- integers as bigint (ids reach 4294967294), plus rev.
CREATE TABLE userdb.roles (
	id bigint PRIMARY KEY,
	name text NOT NULL UNIQUE,
	gid bigint NOT NULL UNIQUE CHECK (gid BETWEEN 0 AND 4294967294),
	description text NOT NULL DEFAULT '',
	created_at bigint NOT NULL,
	rev bigint NOT NULL
);

CREATE TABLE userdb.users (
	id bigint PRIMARY KEY,
	username text NOT NULL UNIQUE,
	uid bigint NOT NULL UNIQUE CHECK (uid BETWEEN 0 AND 4294967294),
	gid bigint NOT NULL CHECK (gid BETWEEN 0 AND 4294967294),
	primary_role_id bigint REFERENCES userdb.roles(id),
	first_name text NOT NULL DEFAULT '',
	last_name text NOT NULL DEFAULT '',
	home text NOT NULL,
	shell text NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	rev bigint NOT NULL
);
CREATE INDEX users_primary_role ON userdb.users (primary_role_id);

CREATE TABLE userdb.role_includes (
	role_id bigint NOT NULL REFERENCES userdb.roles(id) ON DELETE CASCADE,
	included_id bigint NOT NULL REFERENCES userdb.roles(id) ON DELETE CASCADE,
	rev bigint NOT NULL,
	PRIMARY KEY (role_id, included_id),
	CHECK (role_id <> included_id)
);

CREATE TABLE userdb.role_closure (
	role_id bigint NOT NULL REFERENCES userdb.roles(id) ON DELETE CASCADE,
	member_role_id bigint NOT NULL REFERENCES userdb.roles(id) ON DELETE CASCADE,
	rev bigint NOT NULL,
	PRIMARY KEY (role_id, member_role_id)
);
CREATE INDEX role_closure_member ON userdb.role_closure (member_role_id, role_id);

CREATE TABLE userdb.role_permissions (
	role_id bigint NOT NULL REFERENCES userdb.roles(id) ON DELETE CASCADE,
	permission text NOT NULL,
	rev bigint NOT NULL,
	PRIMARY KEY (role_id, permission)
);

CREATE TABLE userdb.user_roles (
	user_id bigint NOT NULL REFERENCES userdb.users(id) ON DELETE CASCADE,
	role_id bigint NOT NULL REFERENCES userdb.roles(id) ON DELETE CASCADE,
	not_before bigint,
	not_after bigint,
	granted_at bigint NOT NULL,
	rev bigint NOT NULL,
	PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON userdb.user_roles (role_id, user_id);

CREATE TABLE userdb.id_allocator (
	kind text PRIMARY KEY CHECK (kind IN ('uid', 'gid')),
	high_water bigint NOT NULL CHECK (high_water BETWEEN 0 AND 4294967294),
	rev bigint NOT NULL
);

-- The shadow file's account row without the hash (userdb.secrets) and
-- without the columns each host keeps for itself (failed_count,
-- last_failed_at, locked_until, the login columns). unlocked_at is set by
-- an admin `user unlock`; fleet_locked_at when failures across the fleet
-- reach the configured total.
CREATE TABLE userdb.accounts (
	user_id bigint PRIMARY KEY REFERENCES userdb.users(id) ON DELETE CASCADE,
	password_changed_at bigint,
	min_days bigint,
	max_days bigint,
	warn_days bigint,
	inactive_days bigint,
	must_change bigint NOT NULL DEFAULT 0,
	is_enabled bigint NOT NULL DEFAULT 1,
	not_before bigint,
	not_after bigint,
	unlocked_at bigint,
	fleet_locked_at bigint,
	rev bigint NOT NULL
);

CREATE TABLE userdb.user_emails (
	id bigint PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES userdb.accounts(user_id) ON DELETE CASCADE,
	email text NOT NULL,
	confirmed_at bigint,
	is_primary bigint NOT NULL DEFAULT 0,
	created_at bigint NOT NULL,
	rev bigint NOT NULL
);
CREATE UNIQUE INDEX user_emails_email ON userdb.user_emails (lower(email));
CREATE INDEX user_emails_user ON userdb.user_emails (user_id);
CREATE UNIQUE INDEX user_emails_one_primary ON userdb.user_emails (user_id) WHERE is_primary <> 0;

CREATE TABLE userdb.account_names (
	username text PRIMARY KEY,
	user_id bigint NOT NULL UNIQUE REFERENCES userdb.accounts(user_id) ON DELETE CASCADE,
	confirmed bigint NOT NULL DEFAULT 1,
	rev bigint NOT NULL
);

-- Password hashes, apart: a host login reads a row only when the user
-- holds a role allowed on that host (row-level security below).
CREATE TABLE userdb.secrets (
	user_id bigint PRIMARY KEY REFERENCES userdb.accounts(user_id) ON DELETE CASCADE,
	password_hash text,
	rev bigint NOT NULL
);

-- Central only: the enrolled hosts, their PostgreSQL logins and the roles
-- allowed to log in on each (replicated to that host alone).
CREATE TABLE userdb.hosts (
	name text PRIMARY KEY,
	login text NOT NULL UNIQUE,
	created_at bigint NOT NULL,
	rev bigint NOT NULL
);

CREATE TABLE userdb.host_roles (
	host text NOT NULL REFERENCES userdb.hosts(name) ON DELETE CASCADE,
	role_id bigint NOT NULL REFERENCES userdb.roles(id) ON DELETE CASCADE,
	rev bigint NOT NULL,
	PRIMARY KEY (host, role_id)
);
CREATE INDEX host_roles_role ON userdb.host_roles (role_id);

-- What hosts report: failed logins, logins. Written through
-- userdb.host_event() only, which names the calling host itself.
CREATE TABLE userdb.events (
	id bigserial PRIMARY KEY,
	host text NOT NULL,
	user_id bigint NOT NULL,
	kind text NOT NULL CHECK (kind IN ('failure', 'login')),
	at bigint NOT NULL,
	detail text NOT NULL DEFAULT ''
);
CREATE INDEX events_user ON userdb.events (user_id, kind, at);

DO $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT * FROM (VALUES
		('roles', ARRAY['id']),
		('users', ARRAY['id']),
		('role_includes', ARRAY['role_id', 'included_id']),
		('role_closure', ARRAY['role_id', 'member_role_id']),
		('role_permissions', ARRAY['role_id', 'permission']),
		('user_roles', ARRAY['user_id', 'role_id']),
		('id_allocator', ARRAY['kind']),
		('accounts', ARRAY['user_id']),
		('user_emails', ARRAY['id']),
		('account_names', ARRAY['username']),
		('secrets', ARRAY['user_id']),
		('hosts', ARRAY['name']),
		('host_roles', ARRAY['host', 'role_id'])) AS v(name, pk)
	LOOP
		EXECUTE format('CREATE INDEX %I ON userdb.%I (rev)', t.name || '_rev', t.name);
		EXECUTE format('CREATE TRIGGER set_rev BEFORE INSERT OR UPDATE ON userdb.%I '
			'FOR EACH ROW EXECUTE FUNCTION userdb.set_rev()', t.name);
		EXECUTE format('CREATE TRIGGER tombstone AFTER DELETE OR UPDATE ON userdb.%I '
			'FOR EACH ROW EXECUTE FUNCTION userdb.tombstone(%s)', t.name,
			(SELECT string_agg(quote_literal(c), ', ') FROM unnest(t.pk) AS c));
	END LOOP;
END $$;

-- The PostgreSQL roles. Roles are per cluster, so a second userdb
-- database in the same cluster shares them.
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'userdb_admin') THEN
		CREATE ROLE userdb_admin NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'userdb_host') THEN
		CREATE ROLE userdb_host NOLOGIN;
	END IF;
END $$;

-- The host the calling login belongs to, NULL for any other login. The
-- login is session_user: inside these SECURITY DEFINER functions
-- current_user is their owner.
CREATE FUNCTION userdb.current_host() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT name FROM userdb.hosts WHERE login = session_user
$$;

-- Whether the calling host may read the user's secrets: one of the user's
-- grants names a role that includes (role_closure) a role allowed there.
-- Grant windows are not looked at: a grant that starts tomorrow needs its
-- hash there tomorrow, offline; the host checks the window at login.
CREATE FUNCTION userdb.host_may_read(p_user_id bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT EXISTS (
		SELECT 1 FROM userdb.hosts h
		JOIN userdb.host_roles hr ON hr.host = h.name
		JOIN userdb.role_closure rc ON rc.role_id = hr.role_id
		JOIN userdb.user_roles ur ON ur.role_id = rc.member_role_id
		WHERE h.login = session_user AND ur.user_id = p_user_id)
$$;

-- A host reports a failed login or a login of one of its users.
CREATE FUNCTION userdb.host_event(p_user_id bigint, p_kind text, p_at bigint, p_detail text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h text := userdb.current_host();
BEGIN
	IF h IS NULL THEN
		RAISE EXCEPTION 'userdb: % is not an enrolled host', session_user
			USING ERRCODE = '42501';
	END IF;
	INSERT INTO userdb.events (host, user_id, kind, at, detail)
		VALUES (h, p_user_id, p_kind, p_at, coalesce(p_detail, ''));
END $$;

-- Enrols a host: its login role (a member of userdb_host, password given
-- as a SCRAM verifier computed by the client, so the password itself never
-- reaches the server or its log) and its row. Run by an admin.
CREATE FUNCTION userdb.host_add(p_name text, p_verifier text, p_at bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	l text := 'userdb_host_' || p_name;
BEGIN
	PERFORM userdb.begin_change();
	IF EXISTS (SELECT 1 FROM userdb.hosts WHERE name = p_name) THEN
		RAISE EXCEPTION 'already enrolled' USING ERRCODE = '23505';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = l) THEN
		RAISE EXCEPTION 'PostgreSQL role % exists already', l USING ERRCODE = '42710';
	END IF;
	EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE userdb_host', l, p_verifier);
	INSERT INTO userdb.hosts (name, login, created_at) VALUES (p_name, l, p_at);
	RETURN l;
END $$;

-- Removes a host: its row (with its allowed roles) and its login.
CREATE FUNCTION userdb.host_del(p_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	l text;
BEGIN
	PERFORM userdb.begin_change();
	DELETE FROM userdb.hosts WHERE name = p_name RETURNING login INTO l;
	IF l IS NULL THEN
		RAISE EXCEPTION 'userdb: no host %', p_name USING ERRCODE = 'P0002';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = l) THEN
		EXECUTE format('DROP ROLE %I', l);
	END IF;
END $$;

ALTER TABLE userdb.secrets ENABLE ROW LEVEL SECURITY;
CREATE POLICY secrets_admin ON userdb.secrets TO userdb_admin USING (true) WITH CHECK (true);
CREATE POLICY secrets_host ON userdb.secrets FOR SELECT TO userdb_host
	USING (userdb.host_may_read(user_id));

ALTER TABLE userdb.hosts ENABLE ROW LEVEL SECURITY;
CREATE POLICY hosts_admin ON userdb.hosts TO userdb_admin USING (true) WITH CHECK (true);
CREATE POLICY hosts_host ON userdb.hosts FOR SELECT TO userdb_host
	USING (name = userdb.current_host());

ALTER TABLE userdb.host_roles ENABLE ROW LEVEL SECURITY;
CREATE POLICY host_roles_admin ON userdb.host_roles TO userdb_admin USING (true) WITH CHECK (true);
CREATE POLICY host_roles_host ON userdb.host_roles FOR SELECT TO userdb_host
	USING (host = userdb.current_host());

-- Host tombstones name hosts and host_roles rows of other hosts: a host
-- sees the tombstones of its own rows and of the identity tables only.
ALTER TABLE userdb.tombstones ENABLE ROW LEVEL SECURITY;
CREATE POLICY tombstones_admin ON userdb.tombstones TO userdb_admin USING (true) WITH CHECK (true);
CREATE POLICY tombstones_host ON userdb.tombstones FOR SELECT TO userdb_host
	USING (tbl NOT IN ('hosts', 'host_roles') OR pk ->> 'host' = userdb.current_host()
		OR pk ->> 'name' = userdb.current_host());

ALTER TABLE userdb.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY events_admin ON userdb.events TO userdb_admin USING (true) WITH CHECK (true);

REVOKE ALL ON ALL TABLES IN SCHEMA userdb FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA userdb FROM PUBLIC;
REVOKE ALL ON SCHEMA userdb FROM PUBLIC;
GRANT USAGE ON SCHEMA userdb TO userdb_admin, userdb_host;
GRANT ALL ON ALL TABLES IN SCHEMA userdb TO userdb_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA userdb TO userdb_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA userdb TO userdb_admin;
GRANT SELECT ON userdb.meta, userdb.state, userdb.tombstones, userdb.roles, userdb.users,
	userdb.role_includes, userdb.role_closure, userdb.role_permissions, userdb.user_roles,
	userdb.id_allocator, userdb.accounts, userdb.user_emails, userdb.account_names,
	userdb.secrets, userdb.hosts, userdb.host_roles TO userdb_host;
GRANT EXECUTE ON FUNCTION userdb.current_host(), userdb.host_may_read(bigint),
	userdb.host_event(bigint, text, bigint, text) TO userdb_host;
