-- userdb central schema 6: TOTP second factors, replicated like the
-- password hashes.
--
-- The local schema's sec.second_factors (schema/0004-second-factor.sql)
-- without last_step, the step of the last code a host accepted, which each
-- host keeps for itself; the keys are bytea. An admin's `userdb totp
-- enroll/confirm/disable/recovery-codes` writes it through the changeset
-- path. A host login reads a row only when the user holds a role allowed
-- on that host (userdb.host_may_read, the rule of userdb.secrets), and a
-- host wipes its copy of a row it no longer sees.
CREATE TABLE userdb.second_factors (
	user_id bigint PRIMARY KEY REFERENCES userdb.accounts(user_id) ON DELETE CASCADE,
	secret bytea,
	pending_secret bytea,
	confirmed bigint NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),
	confirmed_at bigint,
	recovery_codes text,
	rev bigint NOT NULL
);
CREATE INDEX second_factors_rev ON userdb.second_factors (rev);
CREATE TRIGGER set_rev BEFORE INSERT OR UPDATE ON userdb.second_factors
	FOR EACH ROW EXECUTE FUNCTION userdb.set_rev();
CREATE TRIGGER tombstone AFTER DELETE OR UPDATE ON userdb.second_factors
	FOR EACH ROW EXECUTE FUNCTION userdb.tombstone('user_id');

ALTER TABLE userdb.second_factors ENABLE ROW LEVEL SECURITY;
CREATE POLICY second_factors_admin ON userdb.second_factors TO userdb_admin
	USING (true) WITH CHECK (true);
CREATE POLICY second_factors_host ON userdb.second_factors FOR SELECT TO userdb_host
	USING (userdb.host_may_read(user_id));

REVOKE ALL ON userdb.second_factors FROM PUBLIC;
GRANT ALL ON userdb.second_factors TO userdb_admin;
GRANT SELECT ON userdb.second_factors TO userdb_host;
