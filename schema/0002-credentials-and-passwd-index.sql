-- userdb schema 2.
--
-- The shadow file learns each account's user name (written once, when the
-- user is added: names never change), so that an authentication reads the
-- shadow file alone: one file to open instead of two is most of what a
-- login costs beyond its password hash. NULL only for an account whose user
-- is missing from the public file (a writer killed between the two commits,
-- see common/db.h); no name ever matches it.
ALTER TABLE sec.accounts ADD COLUMN username TEXT;
UPDATE sec.accounts SET username = (SELECT u.username FROM pub.users u WHERE u.id = accounts.user_id);
CREATE UNIQUE INDEX sec.accounts_username ON accounts(username);

-- Everything a passwd entry shows, in name order: getpwnam and the personal
-- group by name then read one b-tree instead of the name index and then the
-- table (a third less time at a million users).
CREATE INDEX pub.users_passwd_by_name ON users(username, id, uid, gid, primary_role_id, first_name,
	last_name, home, shell);
