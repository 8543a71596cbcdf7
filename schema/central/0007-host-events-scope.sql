-- userdb central schema 7: what a host login may write is bounded to its
-- own users, and a password it sets cannot be dated past central's clock.
--
-- userdb.host_push() (schema 5) took failures and logins for any account,
-- and userdb.host_event() (schema 1) for any user id: a host login (a
-- compromised host's) could count failures against any user of the fleet,
-- an admin's too, and lock them fleet-wide, or give anyone a last login on
-- it. Both now take a user only where the host may read the user's hash
-- (userdb.host_may_read: a user who may log in there); host_push() leaves
-- the other parts out (they are still taken as sent, so the host's outbox
-- does not resend them), host_event() refuses them. A host can so count
-- failures, and lock fleet-wide, only users who may log in on it.

CREATE OR REPLACE FUNCTION userdb.host_push(p_stream text, p_user bigint[], p_kind text[], p_seq bigint[],
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
		AND userdb.host_may_read(t.user_id)
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

CREATE OR REPLACE FUNCTION userdb.host_event(p_user_id bigint, p_kind text, p_at bigint,
	p_detail text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h text := userdb.current_host();
BEGIN
	IF h IS NULL THEN
		RAISE EXCEPTION 'userdb: % is not an enrolled host', session_user
			USING ERRCODE = '42501';
	END IF;
	IF NOT userdb.host_may_read(p_user_id) THEN
		RAISE EXCEPTION 'userdb: user % may not log in on host %', p_user_id, h
			USING ERRCODE = '42501';
	END IF;
	INSERT INTO userdb.events (host, user_id, kind, at, detail)
		VALUES (h, p_user_id, p_kind, p_at, left(coalesce(p_detail, ''), 255));
END $$;

-- A host's password change carries the time of the change (p_at), which
-- sets password_changed_at and so when the password expires: a time past
-- central's clock is taken as central's now, so that a host cannot make a
-- password it sets never expire.
CREATE OR REPLACE FUNCTION userdb.host_set_password(p_user_id bigint, p_hash text, p_at bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h text := userdb.current_host();
	now_s bigint := extract(epoch FROM now())::bigint;
	r bigint;
BEGIN
	IF h IS NULL THEN
		RAISE EXCEPTION 'userdb: % is not an enrolled host', session_user
			USING ERRCODE = '42501';
	END IF;
	IF NOT userdb.host_may_read(p_user_id) THEN
		RAISE EXCEPTION 'userdb: user % may not log in on host %', p_user_id, h
			USING ERRCODE = '42501';
	END IF;
	IF p_hash IS NULL OR length(p_hash) > 512 OR p_hash !~ '^[$][0-9a-z]{1,3}[$][^:[:space:]]+$' THEN
		RAISE EXCEPTION 'userdb: not a password hash' USING ERRCODE = '22023';
	END IF;
	r := userdb.begin_change();
	UPDATE userdb.secrets SET password_hash = p_hash WHERE user_id = p_user_id;
	IF NOT FOUND THEN
		INSERT INTO userdb.secrets (user_id, password_hash) VALUES (p_user_id, p_hash);
	END IF;
	UPDATE userdb.accounts SET password_changed_at = least(coalesce(p_at, now_s), now_s),
		must_change = 0
		WHERE user_id = p_user_id;
	RETURN r;
END $$;
