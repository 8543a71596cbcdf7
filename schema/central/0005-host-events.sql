-- userdb central schema 5: what hosts report, the fleet-wide lock and the
-- fleet's last login (issue 14).
--
-- A host pushes the failed logins and logins its PAM module queued
-- (common/outbox.h) with userdb.host_push(), in one transaction, as
-- parallel arrays. The host is the calling login's (session_user), never a
-- value the client sends. Each queued part carries a sequence number of the
-- host's store (p_stream names the store): userdb.host_outbox keeps the
-- last one taken, and a part at or below it (a push resent after a kill)
-- is ignored.
--
-- Failures go to userdb.events (count: the failures one part stands for).
-- When the failures of a user across the fleet since the last admin unlock
-- and within the window reach the total in userdb.settings (fleet_deny; 0,
-- the default, never locks), the push locks the account fleet-wide: one
-- change (begin_change()) setting accounts.fleet_locked_at, which every
-- host applies with its next sync. Logins only update userdb.last_logins,
-- which is central's alone and bumps no revision, so logins never make the
-- fleet sync.

ALTER TABLE userdb.events ADD COLUMN count bigint NOT NULL DEFAULT 1 CHECK (count > 0);

CREATE TABLE userdb.host_outbox (
	host text PRIMARY KEY REFERENCES userdb.hosts(name) ON DELETE CASCADE,
	stream text NOT NULL,
	last_seq bigint NOT NULL
);

CREATE TABLE userdb.last_logins (
	user_id bigint PRIMARY KEY REFERENCES userdb.users(id) ON DELETE CASCADE,
	host text NOT NULL,
	at bigint NOT NULL,
	detail text NOT NULL DEFAULT ''
);

CREATE TABLE userdb.settings (
	key text PRIMARY KEY CHECK (key IN ('fleet_deny', 'fleet_deny_window')),
	value bigint NOT NULL CHECK (value >= 0)
);
INSERT INTO userdb.settings VALUES ('fleet_deny', 0), ('fleet_deny_window', 900);

-- Locks fleet-wide each of the users whose failures reached the total.
CREATE FUNCTION userdb.fleet_lock_check(p_users bigint[], p_now bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	deny bigint := (SELECT value FROM userdb.settings WHERE key = 'fleet_deny');
	win bigint := (SELECT value FROM userdb.settings WHERE key = 'fleet_deny_window');
	n bigint := 0;
	u bigint;
BEGIN
	IF coalesce(deny, 0) = 0 THEN
		RETURN 0;
	END IF;
	FOR u IN SELECT a.user_id FROM userdb.accounts a
		WHERE a.user_id = ANY (p_users) AND a.fleet_locked_at IS NULL
		AND (SELECT coalesce(sum(e.count), 0) FROM userdb.events e
			WHERE e.user_id = a.user_id AND e.kind = 'failure'
			AND e.at > coalesce(a.unlocked_at, 0)
			AND (win = 0 OR e.at > p_now - win)) >= deny
		ORDER BY a.user_id
	LOOP
		PERFORM userdb.begin_change();
		UPDATE userdb.accounts SET fleet_locked_at = p_now WHERE user_id = u;
		n := n + 1;
	END LOOP;
	RETURN n;
END $$;

-- Returns how many users this push locked fleet-wide.
CREATE FUNCTION userdb.host_push(p_stream text, p_user bigint[], p_kind text[], p_seq bigint[],
	p_count bigint[], p_at bigint[], p_detail text[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h text := userdb.current_host();
	now_s bigint := extract(epoch FROM now())::bigint;
	n int := coalesce(cardinality(p_user), 0);
	last bigint;
	old_stream text;
	failed bigint[];
BEGIN
	IF h IS NULL THEN
		RAISE EXCEPTION 'userdb: % is not an enrolled host', session_user
			USING ERRCODE = '42501';
	END IF;
	IF p_stream IS NULL OR p_stream !~ '^[0-9a-f]{1,64}$' OR n > 10000
		OR coalesce(cardinality(p_kind), 0) <> n OR coalesce(cardinality(p_seq), 0) <> n
		OR coalesce(cardinality(p_count), 0) <> n OR coalesce(cardinality(p_at), 0) <> n
		OR coalesce(cardinality(p_detail), 0) <> n THEN
		RAISE EXCEPTION 'userdb: a malformed push' USING ERRCODE = '22023';
	END IF;
	INSERT INTO userdb.host_outbox VALUES (h, p_stream, 0) ON CONFLICT (host) DO NOTHING;
	SELECT stream, last_seq INTO old_stream, last FROM userdb.host_outbox
		WHERE host = h FOR UPDATE;
	IF old_stream <> p_stream THEN
		last := 0;
	END IF;
	WITH b AS (
		SELECT t.user_id, t.kind, t.seq, t.count, least(t.at, now_s) AS at,
			left(coalesce(t.detail, ''), 255) AS detail
		FROM unnest(p_user, p_kind, p_seq, p_count, p_at, p_detail)
			AS t(user_id, kind, seq, count, at, detail)
		WHERE t.seq > last AND t.count > 0 AND t.kind IN ('failure', 'login')
		AND t.at IS NOT NULL
		AND EXISTS (SELECT 1 FROM userdb.accounts a WHERE a.user_id = t.user_id)
	), f AS (
		INSERT INTO userdb.events (host, user_id, kind, at, detail, count)
			SELECT h, user_id, kind, at, detail, count FROM b WHERE kind = 'failure'
			RETURNING user_id
	), l AS (
		INSERT INTO userdb.last_logins (user_id, host, at, detail)
			SELECT DISTINCT ON (user_id) user_id, h, at, detail FROM b
			WHERE kind = 'login' ORDER BY user_id, at DESC
			ON CONFLICT (user_id) DO UPDATE SET host = excluded.host, at = excluded.at,
				detail = excluded.detail
			WHERE excluded.at >= userdb.last_logins.at
			RETURNING 1
	)
	SELECT array_agg(DISTINCT user_id) INTO failed FROM f;
	UPDATE userdb.host_outbox SET stream = p_stream,
		last_seq = greatest(last, (SELECT coalesce(max(s), 0) FROM unnest(p_seq) AS s))
		WHERE host = h;
	RETURN userdb.fleet_lock_check(coalesce(failed, '{}'), now_s);
END $$;

ALTER TABLE userdb.host_outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY host_outbox_admin ON userdb.host_outbox TO userdb_admin USING (true) WITH CHECK (true);
ALTER TABLE userdb.last_logins ENABLE ROW LEVEL SECURITY;
CREATE POLICY last_logins_admin ON userdb.last_logins TO userdb_admin USING (true) WITH CHECK (true);

REVOKE ALL ON userdb.host_outbox, userdb.last_logins, userdb.settings FROM PUBLIC;
GRANT ALL ON userdb.host_outbox, userdb.last_logins, userdb.settings TO userdb_admin;
REVOKE ALL ON FUNCTION userdb.fleet_lock_check(bigint[], bigint),
	userdb.host_push(text, bigint[], text[], bigint[], bigint[], bigint[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION userdb.fleet_lock_check(bigint[], bigint),
	userdb.host_push(text, bigint[], text[], bigint[], bigint[], bigint[], text[]) TO userdb_admin;
GRANT EXECUTE ON FUNCTION userdb.host_push(text, bigint[], text[], bigint[], bigint[], bigint[], text[])
	TO userdb_host;
