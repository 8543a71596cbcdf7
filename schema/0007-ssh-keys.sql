-- userdb schema 7.
--
-- SSH public keys of users, served to sshd by `userdb ssh-authorized-keys`
-- (AuthorizedKeysCommand) from keys.img, never from here (see
-- common/sshkey_image.h). Keys are public, so they live in the public
-- file. `blob` is the key's base64 text as an authorized_keys line has it,
-- `type` the key type it was checked to hold, `options` the OpenSSH options
-- as given ('': none), `fingerprint` OpenSSH's "SHA256:..." form of the
-- decoded blob (unique per user: a key is added once), `until` when the
-- key stops being served (NULL: never). common/sshkey.c checks every field
-- before a row is written. Like every migration from schema 2 on, this one
-- can run twice.
CREATE TABLE IF NOT EXISTS pub.ssh_keys (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	type TEXT NOT NULL,
	blob TEXT NOT NULL,
	options TEXT NOT NULL DEFAULT '',
	comment TEXT NOT NULL DEFAULT '',
	fingerprint TEXT NOT NULL,
	added_at INTEGER NOT NULL,
	until INTEGER,
	UNIQUE (user_id, fingerprint)
);
