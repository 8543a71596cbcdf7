#!/usr/bin/env bash
# The central database of fleet mode against a private PostgreSQL cluster
# (tests/central/pg.sh): `userdb central init` (creation, idempotence,
# clear refusals), the revision counter and tombstones every change goes
# through, and `userdb host add/allow/deny/list/del` with what a host's own
# login may and may not do (checked with psql as that login). Run by meson
# (suite 'central', TAP) as `test_central.sh PATH/TO/userdb`.
set -u

USERDB=$(realpath "${1:?usage: test_central.sh PATH/TO/userdb}")
# The central schema version this userdb has: one per migration.
CV=$(find "$(dirname "$0")/../../schema/central" -name '[0-9][0-9][0-9][0-9]-*.sql' | wc -l)
export LC_ALL=C
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE

. "$(dirname "$0")/pg.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-central.XXXXXX") || exit 99
cleanup() {
	pg_stop
	rm -rf "$T"
}
pg_start
trap cleanup EXIT

n=0
failed=0
pass() {
	n=$((n + 1))
	echo "ok $n - $1"
}
flunk() {
	local d=$1
	shift
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $d"
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}
# run ARGS...: userdb with the test config; sets RC, OUT, ERR.
run() {
	"$USERDB" --config "${CONF:-$T/userdb.conf}" "$@" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
# expect RC DESCRIPTION ARGS...: the exit status, and $MATCH (an ERE) in
# stdout + stderr when set.
expect() {
	local want=$1 d=$2
	shift 2
	run "$@"
	if [ "$RC" -ne "$want" ]; then
		flunk "$d" "exit $RC, wanted $want" "stdout: $OUT" "stderr: $ERR"
	elif [ -n "${MATCH:-}" ] && ! printf '%s\n%s\n' "$OUT" "$ERR" | grep -Eq -- "$MATCH"; then
		flunk "$d" "output does not match /$MATCH/" "stdout: $OUT" "stderr: $ERR"
	else
		pass "$d"
	fi
}
# check DESCRIPTION GOT WANT
check() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		flunk "$1" "got:  $2" "want: $3"
	fi
}
admin_sql() {
	pg_psql "$PG_CONNINFO" "$@" 2>&1
}
rev() {
	admin_sql -c 'SELECT rev FROM userdb.state'
}

printf 'dbdir = %s/db\ncentral = %s\n' "$T" "$PG_CONNINFO" >"$T/userdb.conf"
printf 'dbdir = %s/db\n' "$T" >"$T/single.conf"

# ----------------------------------------------------------- central init
CONF=$T/single.conf MATCH='no central database configured: set `central = CONNINFO`' \
	expect 78 "central init without central = says what to set" central init

printf 'dbdir = %s/db\ncentral = host=%s/nowhere dbname=userdb user=udb_admin\n' "$T" "$T" \
	>"$T/unreachable.conf"
CONF=$T/unreachable.conf MATCH='^userdb: central database unreachable: .*nowhere' \
	expect 69 "an unreachable central database is reported as such" central init

(umask 077 && printf '*:*:*:udb_admin:wrong-password\n' >"$T/wrong.pgpass")
printf 'dbdir = %s/db\ncentral = host=%s port=%s dbname=userdb user=udb_admin passfile=%s\n' \
	"$T" "$PG_SOCKDIR" "$PG_PORT" "$T/wrong.pgpass" >"$T/wrongpw.conf"
CONF=$T/wrongpw.conf MATCH='^userdb: central database refused the login: .*authentication failed' \
	expect 77 "a wrong password is reported as a refused login" central init

printf 'dbdir = %s/db\ncentral = host=%s port=%s dbname=userdb user=udb_admin nonsense=1\n' \
	"$T" "$PG_SOCKDIR" "$PG_PORT" >"$T/badconninfo.conf"
CONF=$T/badconninfo.conf MATCH='config: central: not a libpq connection string: .*nonsense' \
	expect 78 "a conninfo libpq refuses is a configuration error" central init

check "nothing was created by the refused runs" \
	"$(admin_sql -c "SELECT to_regnamespace('userdb') IS NULL")" "t"

MATCH="^created the central schema \\(version $CV\\)\$" \
	expect 0 "central init creates the schema" central init
check "the revision counter starts at 0" "$(rev)" "0"
check "the schema version is recorded" \
	"$(admin_sql -c "SELECT value FROM userdb.meta WHERE key = 'schema_version'")" "$CV"

MATCH="^the central database is current \\(schema version $CV\\)\$" \
	expect 0 "central init again changes nothing" central init
MATCH='"changed": false' expect 0 "central init --json says unchanged" --json central init
check "the counter did not move" "$(rev)" "0"

# Two at once: one creates, the other waits and finds it current.
pg_super_psql -c "CREATE DATABASE race OWNER udb_admin" >/dev/null
sed "s/dbname=userdb/dbname=race/" "$T/userdb.conf" >"$T/race.conf"
"$USERDB" --config "$T/race.conf" central init >"$T/race1" 2>&1 &
"$USERDB" --config "$T/race.conf" central init >"$T/race2" 2>&1
wait $!
check "two concurrent inits: one creates, one finds it current" \
	"$(cat "$T/race1" "$T/race2" | sort | tr '\n' '|')" \
	"created the central schema (version $CV)|the central database is current (schema version $CV)|"

pg_super_psql -c "CREATE DATABASE foreign_db OWNER udb_admin" >/dev/null
sed "s/dbname=userdb/dbname=foreign_db/" "$T/userdb.conf" >"$T/foreign.conf"
pg_psql "$(sed -n 's/^central = //p' "$T/foreign.conf")" \
	-c "CREATE SCHEMA userdb; CREATE TABLE userdb.users (x int)" >/dev/null
CONF=$T/foreign.conf MATCH='^userdb: central init: the database has a schema "userdb" that userdb did not create' \
	expect 69 "a database with someone else's schema userdb is refused" central init
check "... and left alone" \
	"$(pg_psql "$(sed -n 's/^central = //p' "$T/foreign.conf")" \
		-c "SELECT count(*) FROM pg_tables WHERE schemaname = 'userdb'")" "1"

sed "s/dbname=userdb/dbname=race/" "$T/userdb.conf" >"$T/race.conf"
pg_psql "$(sed -n 's/^central = //p' "$T/race.conf")" \
	-c "UPDATE userdb.meta SET value = '99' WHERE key = 'schema_version'" >/dev/null
CONF=$T/race.conf MATCH="central schema version 99 is newer than this userdb.s $CV \\(upgrade userdb; nothing changed\\)" \
	expect 69 "a newer central schema is refused by init" central init
CONF=$T/race.conf MATCH='central schema version 99 is newer' \
	expect 69 "... and by the host commands" host list

pg_super_psql -c "CREATE DATABASE noperm" >/dev/null
sed "s/dbname=userdb/dbname=noperm/" "$T/userdb.conf" >"$T/noperm.conf"
CONF=$T/noperm.conf MATCH='^userdb: central init: permission denied' \
	expect 77 "a login that may not create the schema is told so" central init
CONF=$T/noperm.conf MATCH='no userdb schema \(run `userdb central init`\)' \
	expect 69 "host commands on a database without the schema say to run init" host list

# ------------------------------------------------------ the revision counter
out=$(admin_sql -c "INSERT INTO userdb.roles (id, name, gid, created_at) VALUES (1, 'x', 1, 0)")
case $out in
*"a change must start with SELECT userdb.begin_change()"*) pass "a write without begin_change() is refused" ;;
*) flunk "a write without begin_change() is refused" "$out" ;;
esac
check "... and bumps nothing" "$(rev)" "0"

admin_sql -c "BEGIN; SELECT userdb.begin_change();
	INSERT INTO userdb.roles (id, name, gid, created_at) VALUES
		(1, 'web', 20001, 0), (2, 'dba', 20002, 0), (3, 'staff', 20003, 0);
	INSERT INTO userdb.role_closure (role_id, member_role_id) VALUES
		(1, 1), (2, 2), (3, 3), (1, 3);
	INSERT INTO userdb.users (id, username, uid, gid, home, shell, created_at, updated_at) VALUES
		(10, 'alice', 30010, 30010, '/home/alice', '/bin/bash', 0, 0),
		(11, 'bob', 30011, 30011, '/home/bob', '/bin/bash', 0, 0),
		(12, 'carol', 30012, 30012, '/home/carol', '/bin/bash', 0, 0);
	INSERT INTO userdb.accounts (user_id) VALUES (10), (11), (12);
	INSERT INTO userdb.secrets (user_id, password_hash) VALUES
		(10, '\$6\$alice'), (11, '\$6\$bob'), (12, '\$6\$carol');
	COMMIT;" >/dev/null
admin_sql -c "BEGIN; SELECT userdb.begin_change(); SELECT userdb.begin_change();
	INSERT INTO userdb.user_roles (user_id, role_id, granted_at) VALUES (10, 1, 0), (11, 2, 0), (12, 3, 0);
	COMMIT;" >/dev/null
check "each change is one revision (two begin_change() in one transaction: one)" "$(rev)" "2"
check "rows carry the revision of the change that wrote them" \
	"$(admin_sql -c "SELECT string_agg(DISTINCT rev::text, ',') FROM userdb.users")|$(admin_sql -c "SELECT string_agg(DISTINCT rev::text, ',') FROM userdb.user_roles")" \
	"1|2"
admin_sql -c "BEGIN; SELECT userdb.begin_change(); UPDATE userdb.users SET rev = 0, shell = '/bin/sh' WHERE id = 12; COMMIT" >/dev/null
check "an update cannot set its own revision" \
	"$(admin_sql -c "SELECT rev FROM userdb.users WHERE id = 12")" "3"
admin_sql -c "BEGIN; SELECT userdb.begin_change(); INSERT INTO userdb.roles (id, name, gid, created_at) VALUES (9, 'gone', 20009, 0); COMMIT" >/dev/null
admin_sql -c "BEGIN; SELECT userdb.begin_change(); INSERT INTO userdb.user_roles (user_id, role_id, granted_at) VALUES (12, 9, 0); COMMIT" >/dev/null
admin_sql -c "BEGIN; SELECT userdb.begin_change(); DELETE FROM userdb.roles WHERE id = 9; COMMIT" >/dev/null
check "a delete leaves tombstones, cascades included, at its revision" \
	"$(admin_sql -c "SELECT string_agg(rev || ' ' || tbl || ' ' || pk::text, '; ' ORDER BY tbl) FROM userdb.tombstones")" \
	'6 roles {"id": 9}; 6 user_roles {"role_id": 9, "user_id": 12}'

# ------------------------------------------------------------------ hosts
before=$(rev)
MATCH="^userdb: role 'nosuch': no such role \(nothing changed\)" \
	expect 67 "host add with an unknown role is refused" host add web1 --allow-role web --allow-role nosuch
check "... and creates neither the host nor its login" \
	"$(admin_sql -c "SELECT count(*) FROM userdb.hosts")|$(admin_sql -c "SELECT count(*) FROM pg_roles WHERE rolname = 'userdb_host_web1'")|$(rev)" \
	"0|0|$before"
MATCH="^userdb: host name 'Web_1': must be" expect 64 "host add refuses a bad name" host add Web_1
MATCH="^userdb: host name" expect 64 "host add refuses a name too long for a login" \
	host add "$(printf 'a%.0s' $(seq 1 51))"

MATCH='^added host web1 \(PostgreSQL login userdb_host_web1\)$' \
	expect 0 "host add creates the host" host add web1 --allow-role web --passfile "$T/web1.pgpass"
sed -n '/^# on web1, in \/etc\/userdb.conf:$/,/^# /{/^#/d;p}' "$T/out" >"$T/web1.conf.lines"
sed -n "/^# on web1, in ${T//\//\\/}\/web1.pgpass (root's, mode 0600):\$/{n;p}" "$T/out" >"$T/web1.pgpass.line"
check "it prints the host's userdb.conf lines" \
	"$(sed 's/=.*//' "$T/web1.conf.lines" | tr '\n' '|')" "central |host |"
check "... naming the host" "$(sed -n 's/^host = //p' "$T/web1.conf.lines")" "web1"
(umask 077 && cp "$T/web1.pgpass.line" "$T/web1.pgpass")
HOST_CI=$(sed -n 's/^central = //p' "$T/web1.conf.lines")
case $HOST_CI in
*"user=userdb_host_web1"*"passfile=$T/web1.pgpass"*) pass "the conninfo names the host's login and passfile" ;;
*) flunk "the conninfo names the host's login and passfile" "$HOST_CI" ;;
esac
host_sql() {
	pg_psql "$HOST_CI" "$@" 2>&1
}
check "the host logs in with the printed lines as its login" \
	"$(host_sql -c "SELECT current_user")" "userdb_host_web1"

MATCH='"config": "central = [^"]*user=userdb_host_db1[^"]*\\nhost = db1\\n"' \
	expect 0 "host add --json gives the config lines in one field" \
	--json host add db1 --allow-role dba --passfile "$T/db1.pgpass"
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(o["passfile_line"], end="")' \
	"$T/out" >"$T/db1.pgpass" && chmod 600 "$T/db1.pgpass"
DB1_CI=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(o["config"].split("\n")[0][len("central = "):])' "$T/out")
check "the JSON passfile line logs the host in" \
	"$(pg_psql "$DB1_CI" -c "SELECT current_user" 2>&1)" "userdb_host_db1"
check "the password never reached the server in clear (a SCRAM verifier is stored)" \
	"$(pg_super_psql -c "SELECT rolpassword LIKE 'SCRAM-SHA-256\$%' FROM pg_authid WHERE rolname = 'userdb_host_db1'")" "t"

before=$(rev)
MATCH="^userdb: host 'web1': already enrolled \(nothing changed\)" \
	expect 65 "host add of an enrolled host is refused" host add web1
check "... and changes nothing" "$(rev)" "$before"

# What a host's login may read: every identity, only its users' secrets.
check "a host reads every identity" \
	"$(host_sql -c "SELECT string_agg(username, ',' ORDER BY username) FROM userdb.users")" \
	"alice,bob,carol"
check "a host reads the hashes of users holding an allowed role (directly or included) only" \
	"$(host_sql -c "SELECT string_agg(user_id::text, ',' ORDER BY user_id) FROM userdb.secrets")" \
	"10,12"
check "another host reads its own users' hashes only" \
	"$(pg_psql "$DB1_CI" -c "SELECT string_agg(user_id::text, ',' ORDER BY user_id) FROM userdb.secrets" 2>&1)" \
	"11"
check "a host sees its own host rows only" \
	"$(host_sql -c "SELECT string_agg(name, ',') FROM userdb.hosts")|$(host_sql -c "SELECT string_agg(host, ',') FROM userdb.host_roles")" \
	"web1|web1"
for stmt in "INSERT INTO userdb.roles (id, name, gid, created_at, rev) VALUES (50, 'evil', 29999, 0, 99)" \
	"UPDATE userdb.secrets SET password_hash = 'x'" \
	"DELETE FROM userdb.user_roles" \
	"INSERT INTO userdb.host_roles (host, role_id, rev) VALUES ('web1', 2, 99)" \
	"INSERT INTO userdb.events (host, user_id, kind, at) VALUES ('db1', 11, 'failure', 0)" \
	"SELECT * FROM userdb.events" \
	"SELECT userdb.begin_change()" \
	"SELECT userdb.host_add('evil', 'x', 0)" \
	"UPDATE userdb.state SET rev = 0" \
	"CREATE TABLE userdb.mine (x int)"; do
	out=$(host_sql -c "$stmt")
	case $out in
	*"permission denied"*) pass "a host may not: $stmt" ;;
	*) flunk "a host may not: $stmt" "$out" ;;
	esac
done
host_sql -c "SELECT userdb.host_event(10, 'failure', 1234, 'ssh')" >/dev/null
check "a host reports events through host_event(), under its own name" \
	"$(admin_sql -c "SELECT host || ' ' || user_id || ' ' || kind || ' ' || at FROM userdb.events")" \
	"web1 10 failure 1234"
# User 11's grants name no role allowed on web1 (yet).
out=$(host_sql -c "SELECT userdb.host_event(11, 'failure', 1234, 'ssh')" 2>&1)
check "a host may not report events of a user who may not log in on it" \
	"$(printf '%s' "$out" | grep -o 'may not log in on host web1')|$(admin_sql -c "SELECT count(*) FROM userdb.events WHERE user_id = 11")" \
	"may not log in on host web1|0"

# allow / deny
before=$(rev)
MATCH='^role dba may log in on host web1$' expect 0 "host allow adds a role" host allow web1 dba
check "... as one change" "$(rev)" "$((before + 1))"
check "... and the host now reads that role's hashes" \
	"$(host_sql -c "SELECT string_agg(user_id::text, ',' ORDER BY user_id) FROM userdb.secrets")" \
	"10,11,12"
MATCH='^role dba already may log in on host web1$' expect 0 "host allow again changes nothing" \
	host allow web1 dba
check "... not even the revision" "$(rev)" "$((before + 1))"
MATCH="^userdb: host 'nohost': no such host" expect 67 "host allow on an unknown host" host allow nohost dba
MATCH="^userdb: role 'norole': no such role" expect 67 "host allow of an unknown role" host allow web1 norole
MATCH='^role dba may no longer log in on host web1$' expect 0 "host deny removes it" host deny web1 dba
check "... and the host reads those hashes no more" \
	"$(host_sql -c "SELECT string_agg(user_id::text, ',' ORDER BY user_id) FROM userdb.secrets")" \
	"10,12"
MATCH='^role dba was not allowed on host web1$' expect 0 "host deny again changes nothing" host deny web1 dba

# list
expect 0 "host list" host list
check "host list shows each host with its roles" \
	"$(printf '%s\n' "$OUT" | awk 'NR > 1 {print $1, $3}' | tr '\n' '|')" "db1 dba|web1 web|"
expect 0 "host list --json" --json host list
check "host list --json gives name, login and roles" \
	"$(python3 -c 'import json,sys; print([(h["name"], h["login"], h["roles"]) for h in json.load(open(sys.argv[1]))])' "$T/out")" \
	"[('db1', 'userdb_host_db1', ['dba']), ('web1', 'userdb_host_web1', ['web'])]"

# del
MATCH='^deleted host db1$' expect 0 "host del removes a host" host del db1
check "... its rows and its login" \
	"$(admin_sql -c "SELECT count(*) FROM userdb.hosts WHERE name = 'db1'")|$(admin_sql -c "SELECT count(*) FROM pg_roles WHERE rolname = 'userdb_host_db1'")" \
	"0|0"
out=$(pg_psql "$DB1_CI" -c "SELECT 1" 2>&1)
case $out in
*"authentication failed"*) pass "... so its credentials no longer log in" ;;
*) flunk "... so its credentials no longer log in" "$out" ;;
esac
check "... and it leaves tombstones for the hosts that sync" \
	"$(admin_sql -c "SELECT string_agg(tbl || ' ' || pk::text, '; ' ORDER BY tbl || ' ' || pk::text) FROM userdb.tombstones WHERE tbl LIKE 'host%'")" \
	'host_roles {"host": "db1", "role_id": 2}; host_roles {"host": "web1", "role_id": 2}; hosts {"name": "db1"}'
check "a host sees the tombstones of its own host rows only" \
	"$(host_sql -c "SELECT string_agg(tbl || ' ' || pk::text, '; ' ORDER BY tbl || ' ' || pk::text) FROM userdb.tombstones WHERE tbl LIKE 'host%'")" \
	'host_roles {"host": "web1", "role_id": 2}'
MATCH="^userdb: host 'db1': no such host" expect 67 "host del of an unknown host" host del db1

# A host writes a password change back, for its own users only.
before=$(rev)
check "a host sets the hash of a user allowed on it" \
	"$(host_sql -c "SELECT userdb.host_set_password(10, '\$6\$new\$hash', 5000)")" "$((before + 1))"
check "... central has it, with the change time, at that revision" \
	"$(admin_sql -c "SELECT s.password_hash || ' ' || a.password_changed_at || ' ' || s.rev FROM userdb.secrets s JOIN userdb.accounts a USING (user_id) WHERE user_id = 10")" \
	"\$6\$new\$hash 5000 $((before + 1))"
for call in "userdb.host_set_password(11, '\$6\$evil\$x', 1)" "userdb.host_set_password(10, 'plain', 1)" \
	"userdb.host_set_password(10, '\$6\$a:b\$c', 1)"; do
	out=$(host_sql -c "SELECT $call")
	case $out in
	*"may not log in on host web1"* | *"not a password hash"*) pass "a host may not: $call" ;;
	*) flunk "a host may not: $call" "$out" ;;
	esac
done
check "... and nothing changed" \
	"$(admin_sql -c "SELECT string_agg(password_hash, ' ' ORDER BY user_id) FROM userdb.secrets")|$(rev)" \
	"\$6\$new\$hash \$6\$bob \$6\$carol|$((before + 1))"

# Forward-only upgrade: a database at schema 3 gets migrations 4 on
# (4: userdb.ssh_keys; 5: the host events; 6: userdb.second_factors;
# each dropped here too).
admin_sql -c "DROP TABLE userdb.ssh_keys; DROP TABLE userdb.second_factors;
	DROP FUNCTION userdb.host_push(text, bigint[], text[], bigint[], bigint[], bigint[], text[]);
	DROP FUNCTION userdb.fleet_lock_check(bigint[], bigint);
	DROP TABLE userdb.host_outbox, userdb.last_logins, userdb.settings;
	ALTER TABLE userdb.events DROP COLUMN count;
	UPDATE userdb.meta SET value = '3' WHERE key = 'schema_version'" >/dev/null
MATCH="^userdb: central database: central schema version 3 is older than this userdb's $CV \(run .userdb central init.\)" \
	expect 69 "host commands refuse an older central schema" host list
MATCH="^upgraded the central schema from version 3 to $CV\$" expect 0 "central init upgrades it" central init
check "... with the migrations applied and the data kept" \
	"$(admin_sql -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'userdb' AND tablename IN ('ssh_keys', 'last_logins')")|$(admin_sql -c "SELECT count(*) FROM userdb.users")" \
	"2|3"

# A host login cannot run the admin commands.
printf 'dbdir = %s/db\ncentral = %s\n' "$T" "$HOST_CI" >"$T/hostadmin.conf"
CONF=$T/hostadmin.conf MATCH='permission denied by the central database' \
	expect 77 "a host's login cannot enrol hosts" host add evil
CONF=$T/hostadmin.conf MATCH='permission denied' \
	expect 77 "a host's login cannot allow roles" host allow web1 dba

echo "1..$n"
[ "$failed" -eq 0 ]
