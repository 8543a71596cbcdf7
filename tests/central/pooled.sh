#!/bin/bash
# `userdb sync` through pgbouncer in transaction mode (what a fleet of a
# thousand hosts needs in front of central): a private pgbouncer, on its
# own unix socket, pools the host login's sessions to the private cluster
# (pg.sh). The initial sync (more rows than one FETCH), an incremental
# pass after a revoke, `sync --verify`, and `sync --follow` picking a
# change up by polling alone (no LISTEN through a pooler) all work there,
# and an incremental pass costs few statements (each one a wait for the
# pooled server session), counted in the server's statement log, and
# rebuilds keys.img only when what it holds changed. Root only.
#
# Run by meson (suite central) as `pooled.sh USERDB`.
set -u
USERDB=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
export LC_ALL=C
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (PostgreSQL runs as postgres)"; exit 77; }
command -v pgbouncer >/dev/null || { echo "1..0 # SKIP pgbouncer not installed (scripts/deps)"; exit 77; }
. "$HERE/pg.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-pooled.XXXXXX") || exit 99
FOLLOW=
cleanup() {
	[ -n "$FOLLOW" ] && kill "$FOLLOW" 2>/dev/null && wait "$FOLLOW" 2>/dev/null
	[ -f "$PG_DIR/bouncer/pgbouncer.pid" ] && kill "$(cat "$PG_DIR/bouncer/pgbouncer.pid")" 2>/dev/null
	pg_stop
	rm -rf "$T"
}
pg_start
trap cleanup EXIT

. "$HERE/tap.sh"
psql_admin() { pg_psql "$PG_CONNINFO" "$@"; }

# Central with 12,000 users holding role ops, allowed on host web1.
ADMIN_CONF=$T/admin.conf
printf 'dbdir = %s/admin-db\ncentral = %s\n' "$T" "$PG_CONNINFO" >"$ADMIN_CONF"
"$USERDB" --config "$ADMIN_CONF" init >/dev/null || exit 99
"$USERDB" --config "$ADMIN_CONF" central init >/dev/null || exit 99
psql_admin <<SQL >/dev/null || exit 99
BEGIN;
SELECT userdb.begin_change();
INSERT INTO userdb.roles VALUES (1, 'ops', 13001, '', 1700000000);
INSERT INTO userdb.role_closure VALUES (1, 1);
INSERT INTO userdb.users SELECT i, 'u' || i, 100000 + i, 100000 + i, NULL, 'First', 'Last',
	'/home/u' || i, '/bin/bash', 1700000000, 1700000000 FROM generate_series(1, 12000) i;
INSERT INTO userdb.accounts (user_id, password_changed_at) SELECT i, 19000 FROM generate_series(1, 12000) i;
INSERT INTO userdb.account_names SELECT 'u' || i, i FROM generate_series(1, 12000) i;
INSERT INTO userdb.secrets SELECT i, '\$6\$salt\$h' || i FROM generate_series(1, 12000) i;
INSERT INTO userdb.user_roles SELECT i, 1, NULL, NULL, 1700000000 FROM generate_series(1, 12000) i;
COMMIT;
SQL
"$USERDB" --config "$ADMIN_CONF" --json host add web1 --allow-role ops --passfile "$T/web1.pgpass" \
	>"$T/host.json" || exit 99
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(o["passfile_line"] + "\n")' \
	"$T/host.json" "$T/web1.pgpass.line" || exit 99
install -m 0600 "$T/web1.pgpass.line" "$T/web1.pgpass"

# pgbouncer in transaction mode, run as the cluster's user, unix socket only.
B=$PG_DIR/bouncer
BPORT=$(_pg_free_port) || exit 99
mkdir "$B"
printf '"userdb_host_web1" "%s"\n' "$(sed 's/^.*://' "$T/web1.pgpass")" >"$B/users.txt"
cat >"$B/pgbouncer.ini" <<INI
[databases]
userdb = host=$PG_SOCKDIR port=$PG_PORT dbname=userdb
[pgbouncer]
listen_addr =
listen_port = $BPORT
unix_socket_dir = $B
auth_type = scram-sha-256
auth_file = $B/users.txt
pool_mode = transaction
default_pool_size = 2
logfile = $B/pgbouncer.log
pidfile = $B/pgbouncer.pid
INI
chown -R "${_PG_RUNAS[2]:-$(id -un)}": "$B"
chmod 0600 "$B/users.txt"
(cd / && "${_PG_RUNAS[@]}" pgbouncer -d -q "$B/pgbouncer.ini") || { echo "Bail out! pgbouncer did not start"; exit 99; }

CONF=$T/web1.conf
printf 'dbdir = %s/web1-db\ncentral = dbname=userdb host=%s port=%s user=userdb_host_web1 passfile=%s\nhost = web1\n' \
	"$T" "$B" "$BPORT" "$T/web1.pgpass" >"$CONF"
export USERDB_CONF=$CONF
"$USERDB" init >/dev/null || exit 99
local_rev() { sqlite3 "file:$T/web1-db/public.db?mode=ro" "SELECT value FROM meta WHERE key = 'central_rev'"; }
count() { sqlite3 "file:$T/web1-db/public.db?mode=ro" "SELECT count(*) FROM users"; }
revoke() { # revoke ID: one central change
	psql_admin -c "BEGIN" -c "SELECT userdb.begin_change()" \
		-c "DELETE FROM userdb.user_roles WHERE user_id = $1" -c "COMMIT" >/dev/null
}

# 1. The initial sync through the pooler: more rows than one FETCH.
out=$("$USERDB" sync 2>&1); rc=$?
check "the initial sync through pgbouncer succeeds" 0 "$rc"
check "it reads every user (more than one FETCH of 5,000)" 12000 "$(count)"
check "and every grant" 12000 "$(sqlite3 "file:$T/web1-db/public.db?mode=ro" "SELECT count(*) FROM user_roles")"

# 2. One revoke, one incremental pass: applied, in few statements.
# Every statement logged with its login (a reload reaches the pooled
# sessions already open).
pg_super_psql -c "ALTER SYSTEM SET log_statement = 'all'" \
	-c "ALTER SYSTEM SET log_line_prefix = '%m [%p] %u '" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
log=$PG_DIR/data/server.log
mark=$(wc -l <"$log")
revoke 17
out=$("$USERDB" sync 2>&1); rc=$?
check "the pass after a revoke succeeds" "0 synced to revision $(psql_admin -c 'SELECT rev FROM userdb.state') from 2: 0 rows, 2 deletions" "$rc $out"
check "the grant is gone on the host" 0 \
	"$(sqlite3 "file:$T/web1-db/public.db?mode=ro" "SELECT count(*) FROM user_roles WHERE user_id = 17")"
check "u17's hash is wiped on the host" 0 \
	"$(sqlite3 "file:$T/web1-db/shadow.db?mode=ro" "SELECT count(*) FROM accounts WHERE user_id = 17 AND password_hash IS NOT NULL")"
stmts=$(tail -n +"$((mark + 1))" "$log" | grep -c 'userdb_host_web1 LOG:  statement: ')
if [ "$stmts" -ge 1 ] && [ "$stmts" -le 8 ]; then
	pass "the pass sent $stmts statements (round trips) to central (at most 8)"
else
	flunk "a pass after one revoke costs at most 8 statements" "actual: $stmts" \
		"$(tail -n +"$((mark + 1))" "$log" | grep 'statement: ' | head -n 40)"
fi
pg_super_psql -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null

# 2a. One change revoking 500 users: the pass names them all to read
# their secrets again (a statement longer than a fixed buffer would hold).
psql_admin -c "BEGIN" -c "SELECT userdb.begin_change()" \
	-c "DELETE FROM userdb.user_roles WHERE user_id BETWEEN 1001 AND 1500" -c "COMMIT" >/dev/null
rev=$(psql_admin -c 'SELECT rev FROM userdb.state')
out=$("$USERDB" sync 2>&1); rc=$?
check "a pass after revoking 500 users succeeds" "0 synced to revision $rev from $((rev - 1)): 0 rows, 1000 deletions" "$rc $out"
check "their 500 hashes are wiped on the host" 0 \
	"$(sqlite3 "file:$T/web1-db/shadow.db?mode=ro" "SELECT count(*) FROM accounts WHERE user_id BETWEEN 1001 AND 1500 AND password_hash IS NOT NULL")"

# 2b. A revoke leaves keys.img (names, accounts, keys) alone: not rebuilt
# (a new file has a new inode); a disable rebuilds it.
ino() { stat -c %i "$T/web1-db/keys.img"; }
before=$(ino)
revoke 19
"$USERDB" sync >/dev/null 2>&1
check "a pass that only revokes does not rebuild keys.img" "$before" "$(ino)"
psql_admin -c "BEGIN" -c "SELECT userdb.begin_change()" \
	-c "UPDATE userdb.accounts SET is_enabled = 0 WHERE user_id = 20" -c "COMMIT" >/dev/null
"$USERDB" sync >/dev/null 2>&1
check "u20 is disabled on the host" 0 \
	"$(sqlite3 "file:$T/web1-db/shadow.db?mode=ro" "SELECT is_enabled FROM accounts WHERE user_id = 20")"
if [ "$before" != "$(ino)" ]; then pass "a pass that disables a user rebuilds keys.img"; else flunk "a disable rebuilds keys.img"; fi

# 3. --verify compares every table through the pooler.
out=$("$USERDB" sync --verify 2>&1); rc=$?
check "sync --verify through pgbouncer finds no drift" "0 already at revision $(local_rev)" "$rc $out"

# 4. --follow through the pooler: the poll alone brings a change.
"$USERDB" sync --follow 2>"$T/follow.log" &
FOLLOW=$!
sleep 2
revoke 18
want=$(psql_admin -c 'SELECT rev FROM userdb.state')
for _ in $(seq 1 100); do
	[ "$(local_rev)" = "$want" ] && break
	sleep 0.1
done
check "sync --follow through pgbouncer applies a central change within 10 s" "$want" "$(local_rev)"
kill "$FOLLOW"
wait "$FOLLOW"
check "sync --follow ends on SIGTERM with status 0" 0 "$?"
FOLLOW=
check "and logged no error" "" "$(grep -v 'synced to revision\|stopped' "$T/follow.log")"

echo "1..$n"
[ "$failed" = 0 ]
