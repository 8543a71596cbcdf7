#!/bin/bash
# `userdb sync` killed with SIGKILL at random points of its local writes
# (tests/faults/kill_shim.c kills it right before its Nth write or sync, N
# drawn over the whole pass, commits and image install included), against
# a private PostgreSQL (pg.sh). After every kill the local copy must be
# whole: integrity_check ok on both files, and what getent shows is either
# all of the state before the pass or all of the state after it (never a
# mix); the recorded revision is the one getent shows, or the new one when
# the kill fell between the commit and the images' install; the next pass
# completes and leaves exactly central's state. Root only.
#
# Run by meson (suite central) as
#   kill_sync.sh USERDB NSS_MODULE SHIM KILLS
set -u
USERDB=$(realpath "$1")
NSS_MODULE=$(realpath "$2")
SHIM=$(realpath "$3")
KILLS=${4:-30}
HERE=$(dirname "$(realpath "$0")")
export LC_ALL=C
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (PostgreSQL runs as postgres)"; exit 77; }
. "$HERE/pg.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-kill-sync.XXXXXX") || exit 99
cleanup() {
	pg_stop
	rm -rf "$T"
}
pg_start
trap cleanup EXIT

. "$HERE/tap.sh"
psql_admin() { pg_psql "$PG_CONNINFO" "$@"; }

ADMIN_CONF=$T/admin.conf
printf 'dbdir = %s/admin-db\ncentral = %s\n' "$T" "$PG_CONNINFO" >"$ADMIN_CONF"
"$USERDB" --config "$ADMIN_CONF" init >/dev/null || exit 99
"$USERDB" --config "$ADMIN_CONF" central init >/dev/null || exit 99
psql_admin <<'SQL' >/dev/null || exit 99
BEGIN;
SELECT userdb.begin_change();
INSERT INTO userdb.roles VALUES (1, 'ops', 13001, '', 1700000000), (2, 'dev', 13002, '', 1700000000);
INSERT INTO userdb.role_closure VALUES (1, 1), (2, 2);
INSERT INTO userdb.users SELECT i, 'u' || i, 10000 + i, 10000 + i, NULL, '', '', '/home/u' || i, '/bin/bash', 1700000000, 1700000000 FROM generate_series(1, 40) i;
INSERT INTO userdb.accounts (user_id) SELECT i FROM generate_series(1, 40) i;
INSERT INTO userdb.account_names SELECT 'u' || i, i FROM generate_series(1, 40) i;
INSERT INTO userdb.secrets SELECT i, '$6$salt$hash' || i FROM generate_series(1, 40) i;
INSERT INTO userdb.user_roles SELECT i, 1 + i % 2, NULL, NULL, 1700000000 FROM generate_series(1, 40) i;
COMMIT;
SQL
"$USERDB" --config "$ADMIN_CONF" --json host add h1 --allow-role ops --passfile "$T/h1.pgpass" \
	>"$T/host.json" || exit 99
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(o["config"]); open(sys.argv[3],"w").write(o["passfile_line"] + "\n")' \
	"$T/host.json" "$T/h1.conf.lines" "$T/h1.pgpass.line" || exit 99
install -m 0600 "$T/h1.pgpass.line" "$T/h1.pgpass"

DB=$T/db
CONF=$T/userdb.conf
{ echo "dbdir = $DB"; cat "$T/h1.conf.lines"; } >"$CONF"
chmod 644 "$CONF"
export USERDB_CONF=$CONF
"$USERDB" init >/dev/null || exit 99
"$USERDB" sync >/dev/null || exit 99

cp /etc/passwd "$T/passwd"
cp /etc/group "$T/group"
wrap() {
	env LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$T/passwd" NSS_WRAPPER_GROUP="$T/group" \
		NSS_WRAPPER_MODULE_SO_PATH="$NSS_MODULE" NSS_WRAPPER_MODULE_FN_PREFIX=userdb "$@" 2>/dev/null
}
# What NSS shows: every passwd entry and both groups.
view() {
	{
		wrap getent passwd | grep ':/home/u'
		wrap getent group ops dev
	} | sha256sum | cut -c1-16
}
# All of it: the view and every account's hash.
state() {
	{
		view
		sqlite3 -readonly "file:$DB/shadow.db?mode=ro" \
			"SELECT user_id, coalesce(password_hash, '-') FROM accounts ORDER BY user_id"
	} | sha256sum | cut -c1-16
}
# The revision the copy records, as `userdb sync --status` reports it.
local_rev() {
	"$USERDB" --json sync --status | python3 -c 'import json,sys; print(json.load(sys.stdin)["local_rev"])'
}
before=$(state)
view_before=$(view)
rev_before=$(local_rev)

# One central change touching every table kind: users deleted, added,
# renamed shells, grants moved, a role no longer allowed for some.
psql_admin <<'SQL' >/dev/null || exit 99
BEGIN;
SELECT userdb.begin_change();
DELETE FROM userdb.users WHERE id BETWEEN 1 AND 10;
INSERT INTO userdb.users SELECT i, 'u' || i, 10000 + i, 10000 + i, NULL, '', '', '/home/u' || i, '/bin/sh', 1700000000, 1700000000 FROM generate_series(41, 60) i;
INSERT INTO userdb.accounts (user_id) SELECT i FROM generate_series(41, 60) i;
INSERT INTO userdb.account_names SELECT 'u' || i, i FROM generate_series(41, 60) i;
INSERT INTO userdb.secrets SELECT i, '$6$salt$hash' || i FROM generate_series(41, 60) i;
INSERT INTO userdb.user_roles SELECT i, 1, NULL, NULL, 1700000000 FROM generate_series(41, 60) i;
UPDATE userdb.users SET shell = '/bin/zsh' WHERE id BETWEEN 11 AND 20;
UPDATE userdb.user_roles SET role_id = 2 WHERE user_id BETWEEN 21 AND 30 AND role_id = 1;
COMMIT;
SQL
rev_after=$(psql_admin -c "SELECT rev FROM userdb.state")

# The state after, and how many writes a whole pass makes, from a copy.
cp -a "$DB" "$T/db.before"
UDB_FAULT_COUNT=$T/count LD_PRELOAD=$SHIM "$USERDB" sync >/dev/null || exit 99
after=$(state)
view_after=$(view)
writes=$(cat "$T/count")
[ "$before" != "$after" ] || { echo "Bail out! the change changed nothing"; exit 99; }
echo "# a pass makes $writes writes; $KILLS kills"

killed=0
mixed=0
incomplete=0
for k in $(seq 1 "$KILLS"); do
	rm -rf "$DB"
	cp -a "$T/db.before" "$DB"
	at=$((1 + (RANDOM * 32768 + RANDOM) % writes))
	UDB_FAULT_KILL_AT=$at LD_PRELOAD=$SHIM "$USERDB" sync >/dev/null 2>&1
	rc=$?
	[ "$rc" = 137 ] && killed=$((killed + 1))
	ic="$(sqlite3 -readonly "file:$DB/public.db?mode=ro" 'PRAGMA integrity_check') $(sqlite3 -readonly "file:$DB/shadow.db?mode=ro" 'PRAGMA integrity_check')"
	if [ "$ic" != "ok ok" ]; then
		flunk "kill at write $at: integrity_check" "$ic"
		continue
	fi
	# What NSS serves and the revision the copy records belong to the
	# same side: a kill between the shadow and the public commit leaves
	# the accounts ahead, which the next write repairs (db.h), but what
	# NSS serves and the revision are still the old ones.
	v=$(view)
	r=$(local_rev)
	# A kill between the COMMIT and the images' install (commit protocol,
	# 8) leaves the new revision with the old images: NSS still shows the
	# whole state before, and the next write (the next pass) republishes.
	if ! { [ "$v" = "$view_before" ] && [ "$r" = "$rev_before" ]; } &&
		! { [ "$v" = "$view_before" ] && [ "$r" = "$rev_after" ]; } &&
		! { [ "$v" = "$view_after" ] && [ "$r" = "$rev_after" ]; }; then
		mixed=$((mixed + 1))
		echo "# kill at write $at (exit $rc): rev $r, view $v (before $view_before, after $view_after)"
	fi
	"$USERDB" sync >/dev/null 2>&1
	rc2=$?
	if [ "$rc2" != 0 ] || [ "$(state)" != "$after" ] || [ "$(local_rev)" != "$rev_after" ]; then
		incomplete=$((incomplete + 1))
		echo "# kill at write $at: after the next pass: exit $rc2, rev $(local_rev), state $(state) (after $after)"
	fi
done
check "no kill left a mix of before and after, or a revision not matching the copy" 0 "$mixed"
[ "$killed" -gt 0 ] && pass "$killed of $KILLS passes were killed" || flunk "no pass was killed"
check "every pass after a kill completed and left central's state" 0 "$incomplete"

echo "1..$n"
[ "$failed" = 0 ]
