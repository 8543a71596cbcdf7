-- userdb central schema 4: SSH public keys, replicated to every host.
--
-- The local schema's pub.ssh_keys (schema/0007-ssh-keys.sql) with rev. An
-- admin's `userdb ssh-key add/del` writes it through the changeset path
-- like any other change; every host copies all of it (keys are public, as
-- is the rest of a user's identity; the account phase's host gate still
-- refuses a user whose roles are not allowed there) and rebuilds its
-- keys.img, which sshd's AuthorizedKeysCommand reads. The checks on each
-- field are common/sshkey.c's, made on the admin box before the row is
-- written.
CREATE TABLE userdb.ssh_keys (
	id bigint PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES userdb.users(id) ON DELETE CASCADE,
	type text NOT NULL,
	blob text NOT NULL,
	options text NOT NULL DEFAULT '',
	comment text NOT NULL DEFAULT '',
	fingerprint text NOT NULL,
	added_at bigint NOT NULL,
	until bigint,
	rev bigint NOT NULL,
	UNIQUE (user_id, fingerprint)
);
CREATE INDEX ssh_keys_rev ON userdb.ssh_keys (rev);
CREATE TRIGGER set_rev BEFORE INSERT OR UPDATE ON userdb.ssh_keys
	FOR EACH ROW EXECUTE FUNCTION userdb.set_rev();
CREATE TRIGGER tombstone AFTER DELETE OR UPDATE ON userdb.ssh_keys
	FOR EACH ROW EXECUTE FUNCTION userdb.tombstone('id');

REVOKE ALL ON userdb.ssh_keys FROM PUBLIC;
GRANT ALL ON userdb.ssh_keys TO userdb_admin;
GRANT SELECT ON userdb.ssh_keys TO userdb_host;
