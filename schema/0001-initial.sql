-- userdb schema 1.
--
-- Two files, split by secrecy like /etc/passwd and /etc/shadow. Every
-- statement names its file: `pub` is the public file (0644, what getent
-- shows), `sec` the shadow file (root:shadow 0640, credentials and account
-- state). Times are integer Unix seconds, UTC; NULL means "not set".

CREATE TABLE pub.meta (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE pub.roles (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	gid INTEGER NOT NULL UNIQUE CHECK (gid BETWEEN 0 AND 4294967294),
	description TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);

-- primary_role_id NULL: the primary group is the user's personal group,
-- named like the user, with gid = uid (Debian's convention).
CREATE TABLE pub.users (
	id INTEGER PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	uid INTEGER NOT NULL UNIQUE CHECK (uid BETWEEN 0 AND 4294967294),
	gid INTEGER NOT NULL CHECK (gid BETWEEN 0 AND 4294967294),
	primary_role_id INTEGER REFERENCES roles(id),
	first_name TEXT NOT NULL DEFAULT '',
	last_name TEXT NOT NULL DEFAULT '',
	home TEXT NOT NULL,
	shell TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX pub.users_primary_role ON users(primary_role_id);

-- Role role_id includes role included_id: members of role_id are effective
-- members of included_id ("admin includes moderator").
CREATE TABLE pub.role_includes (
	role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
	included_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
	PRIMARY KEY (role_id, included_id),
	CHECK (role_id <> included_id)
) WITHOUT ROWID;

-- The transitive, reflexive closure of role_includes, kept by common/role.c:
-- a row (role_id, member_role_id) says members of member_role_id are
-- effective members of role_id. Lookups read it instead of recursing.
CREATE TABLE pub.role_closure (
	role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
	member_role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
	PRIMARY KEY (role_id, member_role_id)
) WITHOUT ROWID;
CREATE INDEX pub.role_closure_member ON role_closure(member_role_id, role_id);

CREATE TABLE pub.role_permissions (
	role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
	permission TEXT NOT NULL,
	PRIMARY KEY (role_id, permission)
) WITHOUT ROWID;

CREATE TABLE pub.user_roles (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
	not_before INTEGER,
	not_after INTEGER,
	granted_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, role_id)
) WITHOUT ROWID;
CREATE INDEX pub.user_roles_role ON user_roles(role_id, user_id, not_before, not_after);

CREATE TABLE sec.meta (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per user, keyed by pub.users.id. A user whose row is missing
-- (a writer killed between the two files' commits) cannot log in.
CREATE TABLE sec.accounts (
	user_id INTEGER PRIMARY KEY,
	password_hash TEXT,
	password_changed_at INTEGER,
	min_days INTEGER,
	max_days INTEGER,
	warn_days INTEGER,
	inactive_days INTEGER,
	must_change INTEGER NOT NULL DEFAULT 0,
	is_enabled INTEGER NOT NULL DEFAULT 1,
	not_before INTEGER,
	not_after INTEGER,
	failed_count INTEGER NOT NULL DEFAULT 0,
	last_failed_at INTEGER,
	locked_until INTEGER,
	last_login_at INTEGER,
	current_login_at INTEGER,
	last_login_ip TEXT,
	current_login_ip TEXT,
	login_count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sec.user_emails (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES accounts(user_id) ON DELETE CASCADE,
	email TEXT NOT NULL COLLATE NOCASE UNIQUE,
	confirmed_at INTEGER,
	is_primary INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE INDEX sec.user_emails_user ON user_emails(user_id);
CREATE UNIQUE INDEX sec.user_emails_one_primary ON user_emails(user_id) WHERE is_primary;
