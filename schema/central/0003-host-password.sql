-- userdb central schema 3: a host writes a password change back.
--
-- A password changed through PAM on a host goes to central first (then to
-- the host's own copy), through this function only: it runs as the schema
-- owner for the host login that calls it, and only for a user the host may
-- read the hash of (userdb.host_may_read), so a host cannot set the
-- password of a user who may not log in there. It is one change of its
-- own (begin_change()), so every other host allowed for the user gets the
-- new hash with its next sync. The hash must look like a crypt(3) hash.
CREATE FUNCTION userdb.host_set_password(p_user_id bigint, p_hash text, p_at bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h text := userdb.current_host();
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
	UPDATE userdb.accounts SET password_changed_at = p_at, must_change = 0
		WHERE user_id = p_user_id;
	RETURN r;
END $$;

REVOKE ALL ON FUNCTION userdb.host_set_password(bigint, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION userdb.host_set_password(bigint, text, bigint) TO userdb_admin, userdb_host;
