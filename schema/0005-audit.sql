-- userdb schema 5.
--
-- The audit trail of the admin tool: one row per command that changed
-- something (common/audit.c writes it, `userdb log` reads it). It lives in
-- the shadow file: that file is root's alone like the rest of the store, it
-- is the file a backup must keep anyway (it holds the passwords), and it is
-- the file whose commit comes first. PAM's own writes (failure counts,
-- login records, re-hashing) are not audited.
--
-- at: Unix time of the change; uid: the real uid that ran the tool; actor:
-- its user name ("#UID" when it has none); sudo_user: SUDO_USER when the
-- tool ran under sudo; command: the command words ("user add"); subject_user
-- and subject_role: the user and role the change touched, when it names
-- one; message: what the tool printed ("added user bob (uid 10003, ...)").
CREATE TABLE IF NOT EXISTS sec.audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	uid INTEGER NOT NULL,
	actor TEXT NOT NULL,
	sudo_user TEXT,
	command TEXT NOT NULL,
	subject_user TEXT,
	subject_role TEXT,
	message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sec.audit_by_user ON audit(subject_user, at);
CREATE INDEX IF NOT EXISTS sec.audit_by_time ON audit(at);
