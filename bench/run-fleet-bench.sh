#!/usr/bin/env bash
# Fleet mode's bars (issue 14) on this machine, against one private
# PostgreSQL (tests/central/pg.sh: initdb in a temporary directory, stopped
# and removed at exit). Run by hand as root; see bench/README.md ("Fleet").
#
#   bench/run-fleet-bench.sh [USERS] [HOSTS]     (defaults 100000 and 50; HOSTS 0: skip 3)
#
# 1. Initial sync: central holds USERS users (each with a hash and a grant
#    of a role the host allows); one `userdb sync` on an empty host store.
# 2. One change on that host: a revoke committed centrally, then one
#    `userdb sync` pass (FLEET_ROUNDS rounds, median).
# 3. HOSTS simulated hosts (`userdb sync --follow` with the default poll
#    settings, each with its own store, sharing one host login) against a
#    small central (1,000 users): commit -> applied latency per host over
#    FLEET_ROUNDS changes, PostgreSQL's CPU with every host idle, and the
#    spread of the reconnects after central restarts.
# Environment: USERDB (default build/cli/userdb), FLEET_ROUNDS (default 7),
# FLEET_BENCH_WORKDIR (default /var/tmp/userdb-fleet-bench).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
USERS=${1:-100000}
HOSTS=${2:-50}
ROUNDS=${FLEET_ROUNDS:-7}
USERDB=$(realpath "${USERDB:-$top/build/cli/userdb}")
W=${FLEET_BENCH_WORKDIR:-/var/tmp/userdb-fleet-bench}
HOSTDIR=${FLEET_HOSTDIR:-/dev/shm/userdb-fleet-hosts}
POOL=${FLEET_POOL:-pgbouncer}
case $POOL in pgbouncer | direct) ;; *) echo "FLEET_POOL: pgbouncer or direct" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "run as root (PostgreSQL runs as postgres)" >&2; exit 1; }
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE
export LC_ALL=C

load=$(cut -d' ' -f1 /proc/loadavg)
echo "# load average at start: $load (numbers compare only within one run on a quiet machine)"

. "$top/tests/central/pg.sh"
rm -rf "$W"
mkdir -p "$W"
pg_start
trap 'bouncer_stop; pg_stop; rm -rf "$W" "$HOSTDIR"' EXIT
pg_super_psql -c "ALTER SYSTEM SET log_connections = on" -c "SELECT pg_reload_conf()" >/dev/null

# populate N: central init, role 1 (ops) allowed on host h1, N users each
# with an account, a name, a hash and a grant of ops, in one change.
populate() {
	local n=$1
	printf 'dbdir = %s/admin\ncentral = %s\n' "$W" "$PG_CONNINFO" >"$W/admin.conf"
	"$USERDB" --config "$W/admin.conf" init >/dev/null
	"$USERDB" --config "$W/admin.conf" central init >/dev/null
	pg_psql "$PG_CONNINFO" <<SQL >/dev/null
BEGIN;
SELECT userdb.begin_change();
INSERT INTO userdb.roles VALUES (1, 'ops', 13001, '', 1700000000);
INSERT INTO userdb.role_closure VALUES (1, 1);
INSERT INTO userdb.users SELECT i, 'u' || i, 100000 + i, 100000 + i, NULL, 'First', 'Last',
	'/home/u' || i, '/bin/bash', 1700000000, 1700000000 FROM generate_series(1, $n) i;
INSERT INTO userdb.accounts (user_id, password_changed_at) SELECT i, 19000 FROM generate_series(1, $n) i;
INSERT INTO userdb.account_names SELECT 'u' || i, i FROM generate_series(1, $n) i;
INSERT INTO userdb.secrets SELECT i, '\$6\$rounds=1000\$salt\$' || md5(i::text) FROM generate_series(1, $n) i;
INSERT INTO userdb.user_roles SELECT i, 1, NULL, NULL, 1700000000 FROM generate_series(1, $n) i;
COMMIT;
ANALYZE userdb.users, userdb.accounts, userdb.account_names, userdb.secrets, userdb.user_roles;
SQL
	"$USERDB" --config "$W/admin.conf" --json host add h1 --allow-role ops --passfile "$W/h1.pgpass" >"$W/h1.json"
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(o["config"]); open(sys.argv[3],"w").write(o["passfile_line"] + "\n")' \
		"$W/h1.json" "$W/h1.conf.lines" "$W/h1.pgpass.line"
	install -m 0600 "$W/h1.pgpass.line" "$W/h1.pgpass"
}

# host_conf NAME: a host store NAME.db and its config NAME.conf under $W/hosts.
host_conf() {
	mkdir -p "$W/hosts"
	{ echo "dbdir = $W/hosts/$1.db"; cat "$W/h1.conf.lines"; } >"$W/hosts/$1.conf"
	USERDB_CONF=$W/hosts/$1.conf "$USERDB" init >/dev/null
}

# hosts_conf N: N host configs $W/hosts/hostI.conf, each with its own
# store $HOSTDIR/hostI.db (copies of one empty store).
hosts_conf() {
	local i
	mkdir -p "$W/hosts" "$HOSTDIR"
	printf 'dbdir = %s/template.db\n' "$HOSTDIR" >"$W/template.conf"
	USERDB_CONF=$W/template.conf "$USERDB" init >/dev/null
	for i in $(seq 1 "$1"); do
		{ echo "dbdir = $HOSTDIR/host$i.db"; cat "$W/h1.conf.lines"; } >"$W/hosts/host$i.conf"
		cp -a "$HOSTDIR/template.db" "$HOSTDIR/host$i.db"
	done
}

# bouncer_start: a private pgbouncer in transaction mode in front of the
# cluster, on its own unix socket (no TCP) and port, run as postgres like
# the cluster; stopped at exit (fleet_bench.py restarts it with central).
BOUNCER_DIR=
bouncer_start() {
	local pw
	BOUNCER_DIR=$PG_DIR/bouncer
	BOUNCER_PORT=$(_pg_free_port)
	mkdir "$BOUNCER_DIR"
	pw=$(sed 's/^.*://' "$W/h1.pgpass")
	printf '"userdb_host_h1" "%s"\n' "$pw" >"$BOUNCER_DIR/users.txt"
	cat >"$BOUNCER_DIR/pgbouncer.ini" <<INI
[databases]
userdb = host=$PG_SOCKDIR port=$PG_PORT dbname=userdb
[pgbouncer]
listen_addr =
listen_port = $BOUNCER_PORT
unix_socket_dir = $BOUNCER_DIR
auth_type = scram-sha-256
auth_file = $BOUNCER_DIR/users.txt
pool_mode = transaction
max_client_conn = $((HOSTS + 100))
default_pool_size = 20
server_login_retry = 1
logfile = $BOUNCER_DIR/pgbouncer.log
pidfile = $BOUNCER_DIR/pgbouncer.pid
INI
	chown -R postgres: "$BOUNCER_DIR"
	chmod 0600 "$BOUNCER_DIR/users.txt"
	# A descriptor per client: raise the soft limit (runuser's is 1024).
	(cd / && runuser -u postgres -- sh -c 'ulimit -n "$(ulimit -Hn)" && exec pgbouncer -d -q "$0"' \
		"$BOUNCER_DIR/pgbouncer.ini") ||
		{ echo "pgbouncer did not start: $(tail -n3 "$BOUNCER_DIR/pgbouncer.log")" >&2; exit 1; }
}

bouncer_stop() {
	[ -n "$BOUNCER_DIR" ] && [ -f "$BOUNCER_DIR/pgbouncer.pid" ] || return 0
	kill "$(cat "$BOUNCER_DIR/pgbouncer.pid")" 2>/dev/null || true
}

echo "== $USERS users"
t0=$(date +%s.%N)
populate "$USERS"
echo "# central populated in $(echo "$(date +%s.%N) - $t0" | bc) s"
host_conf big
t0=$(date +%s.%N)
USERDB_CONF=$W/hosts/big.conf "$USERDB" sync
echo "initial sync of $USERS users: $(echo "$(date +%s.%N) - $t0" | bc) s (one run)"
python3 "$here/fleet_bench.py" single "$USERDB" "$PG_CONNINFO" "$W/hosts/big.conf" "$ROUNDS"

[ "$HOSTS" -gt 0 ] || exit 0
echo "== $HOSTS hosts, 1000 users, through $POOL"
pg_psql "$PG_CONNINFO" -c "SET client_min_messages = warning" -c "DROP SCHEMA userdb CASCADE" >/dev/null
pg_super_psql -c "DROP ROLE IF EXISTS userdb_host_h1" >/dev/null
rm -rf "$W/admin" "$W/hosts" "$HOSTDIR"
populate 1000
if [ "$POOL" = pgbouncer ]; then
	bouncer_start
	# The hosts' conninfo names pgbouncer's socket instead of PostgreSQL's.
	printf 'central = dbname=userdb host=%s port=%s user=userdb_host_h1 passfile=%s/h1.pgpass\nhost = h1\n' \
		"$BOUNCER_DIR" "$BOUNCER_PORT" "$W" >"$W/h1.conf.lines"
else
	# One backend per host: room for all of them (and the admin).
	pg_super_psql -c "ALTER SYSTEM SET max_connections = $((HOSTS + 20))" >/dev/null
	pg_pause
	pg_resume
fi
hosts_conf "$HOSTS"
echo "# host stores: $HOSTDIR ($(stat -f -c %T "$HOSTDIR"))"
PG_BIN=$_PG_BIN PG_RUNAS="${_PG_RUNAS[*]}" BOUNCER_CONF=${BOUNCER_DIR:+$BOUNCER_DIR/pgbouncer.ini} \
	python3 "$here/fleet_bench.py" fleet "$USERDB" "$PG_CONNINFO" "$W/hosts" "$HOSTS" "$ROUNDS" "$PG_DIR/data"
