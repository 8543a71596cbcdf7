-- userdb schema 4.
--
-- The second factor (TOTP, RFC 6238) and its recovery codes, in the shadow
-- file only: the shadow file is root's alone, no compiled image reads this
-- table (common/image_write.c selects the columns NSS shows), and it goes
-- with the account. One row per user that has begun an enrolment; no row
-- (or a row with neither secret) is a user without a second factor.
--
-- `secret` is the confirmed TOTP key (raw bytes), set only by a right code
-- for `pending_secret` (`userdb totp confirm`, or self-enrolment at login),
-- so a factor the user has not proven is never required at login;
-- `confirmed` says `secret` is in force. `last_step` is the TOTP time step
-- (Unix time / 30) of the last code accepted: a code is accepted only for
-- a later step, checked and raised in the login attempt's write
-- transaction (common/attempt.c), so no code works twice. `recovery_codes`
-- holds one line per single-use code, `0:HASH` while unused and `1:HASH`
-- once used, where HASH is its libxcrypt hash; the codes themselves are
-- printed once and never stored.
CREATE TABLE IF NOT EXISTS sec.second_factors (
	user_id INTEGER PRIMARY KEY REFERENCES accounts(user_id) ON DELETE CASCADE,
	secret BLOB,
	pending_secret BLOB,
	confirmed INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),
	confirmed_at INTEGER,
	last_step INTEGER NOT NULL DEFAULT 0,
	recovery_codes TEXT
);
