#!/usr/bin/env bash
# Fleet mode's admin box (issue 14), run by meson (suite 'central', TAP) as
# `admin.sh PATH/TO/userdb`: every kind of admin command run on an admin
# mirror (config `central =`, no `host`) lands in the central database in
# the same run, with the same messages and exit codes as on a single host;
# central unreachable, a mirror behind central, a change that central
# refuses and a concurrent admin all leave the mirror and central unchanged.
# The central database is a private cluster (tests/central/pg.sh) with the
# schema of `userdb central init`.
set -u

USERDB=$(realpath "${1:?usage: admin.sh PATH/TO/userdb}")
export LC_ALL=C
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE

. "$(dirname "$0")/pg.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-central-admin.XXXXXX") || exit 99
chmod 755 "$T"
cleanup() {
	pg_stop
	rm -rf "$T"
}
pg_start
trap cleanup EXIT

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for line in "$@"; do echo "# $line"; done
}
check() { # check DESCRIPTION COMMAND...: ok when the command succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what" "failed: $*"; fi
}
# What central holds, read as the cluster's superuser (no row security).
central() { pg_super_psql -c "$1"; }

# The admin mirror: a fresh store and central's revision 0.
M=$T/mirror
cat >"$T/mirror.conf" <<EOF
dbdir = $M
hash_method = sha512
hash_cost = 1000
uid_min = 70000
uid_max = 79999
gid_min = 70000
gid_max = 79999
central = $PG_CONNINFO
EOF
sed "s/port=$PG_PORT/port=$((PG_PORT + 1))/" "$T/mirror.conf" >"$T/down.conf"
udb() { "$USERDB" --config "$T/mirror.conf" "$@"; }
udb init >/dev/null || { echo "Bail out! userdb init failed"; exit 1; }
udb central init >/dev/null || { echo "Bail out! userdb central init failed"; exit 1; }

mirror_rev() { sqlite3 "file:$M/public.db?mode=ro" "SELECT value FROM meta WHERE key = 'central_rev'"; }
central_rev() { central "SELECT rev FROM userdb.state"; }
# What central and the mirror hold, to compare before and after a refusal.
central_dump() {
	local t
	for t in roles users role_includes role_closure role_permissions user_roles id_allocator \
		accounts user_emails account_names secrets; do
		central "SELECT * FROM userdb.$t ORDER BY 1, 2"
	done
	central_rev
}
mirror_dump() {
	sqlite3 "file:$M/public.db?mode=ro" .dump
	sqlite3 "file:$M/shadow.db?mode=ro" .dump
}


# --- every kind of admin command reaches central ---------------------------
out=$(udb role add fleetstaff --description "Fleet staff" --permission ssh:login 2>&1)
check "role add: same message as a single host" test "$out" = "added role fleetstaff (gid 70000)"
check "role add: the role, its permission and the gid mark are central" test \
	"$(central "SELECT name, gid, description FROM userdb.roles") $(central \
		"SELECT permission FROM userdb.role_permissions") $(central \
		"SELECT high_water FROM userdb.id_allocator WHERE kind = 'gid'")" = \
	"fleetstaff|70000|Fleet staff ssh:login 70000"
check "role add: central's revision 1 is the mirror's" test "$(central_rev)/$(mirror_rev)" = "1/1"

udb role add fleetadmin --includes fleetstaff --permission sudo:all >/dev/null
check "role add --includes: inclusion and closure are central" test \
	"$(central "SELECT count(*) FROM userdb.role_includes r JOIN userdb.roles a ON a.id = r.role_id
		JOIN userdb.roles b ON b.id = r.included_id WHERE a.name = 'fleetadmin' AND b.name = 'fleetstaff'")/$(central \
		"SELECT count(*) FROM userdb.role_closure")" = "1/3"

out=$(printf 'correct horse battery\n' | udb user add falice --first-name Alice --email alice@example.com \
	--role fleetstaff --password-stdin 2>/dev/null)
check "user add: same message as a single host" test "$out" = "added user falice (uid 70002, gid 70002)"
check "user add: user, account, name, email, grant and uid mark are central" test \
	"$(central "SELECT username || ' ' || uid || ' ' || first_name FROM userdb.users") $(central \
		"SELECT is_enabled FROM userdb.accounts") $(central \
		"SELECT username FROM userdb.account_names") $(central \
		"SELECT email || ' ' || is_primary FROM userdb.user_emails") $(central \
		"SELECT count(*) FROM userdb.user_roles") $(central \
		"SELECT high_water FROM userdb.id_allocator WHERE kind = 'uid'")" = \
	"falice 70002 Alice 1 falice alice@example.com 1 1 70002"
local_hash=$(sqlite3 "file:$M/shadow.db?mode=ro" "SELECT password_hash FROM accounts")
check "user add --password-stdin: the hash is in userdb.secrets, not in accounts" test \
	"$(central "SELECT password_hash FROM userdb.secrets")" = "$local_hash" -a \
	"$(central "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'userdb'
		AND table_name = 'accounts' AND column_name IN ('password_hash', 'failed_count')")" = 0

udb user mod falice --last-name Liddell >/dev/null
check "user mod: the change is central" test "$(central "SELECT last_name FROM userdb.users")" = Liddell

udb user disable falice >/dev/null
check "user disable: central's account is disabled" test "$(central "SELECT is_enabled FROM userdb.accounts")" = 0
udb user enable falice >/dev/null
check "user enable: central's account is enabled" test "$(central "SELECT is_enabled FROM userdb.accounts")" = 1

printf 'another good passphrase\n' | udb user passwd falice --password-stdin >/dev/null
new_hash=$(sqlite3 "file:$M/shadow.db?mode=ro" "SELECT password_hash FROM accounts")
check "user passwd: central has the new hash" test "$new_hash" != "$local_hash" -a \
	"$(central "SELECT password_hash FROM userdb.secrets")" = "$new_hash"

udb grant falice fleetadmin --from 2026-01-01 --until 2040-01-01 >/dev/null
check "grant --from --until: central has the window" test \
	"$(central "SELECT not_before || ' ' || not_after FROM userdb.user_roles ur JOIN userdb.roles r
		ON r.id = ur.role_id WHERE r.name = 'fleetadmin'")" = "1767225600 2208988800"
udb revoke falice fleetadmin >/dev/null
check "revoke: the grant is gone centrally" test \
	"$(central "SELECT count(*) FROM userdb.user_roles")" = 1

udb email add falice alice@wonderland.example --confirmed >/dev/null
udb email primary falice alice@wonderland.example >/dev/null
check "email add, email primary: central has both addresses, the new one primary" test \
	"$(central "SELECT email || ' ' || is_primary FROM userdb.user_emails ORDER BY email" | tr '\n' ' ')" = \
	"alice@example.com 0 alice@wonderland.example 1 "
# Two rows trade the primary mark: central's unique index on it must not
# see two primaries half way (either order of the two rows is sent).
udb email primary falice alice@example.com >/dev/null
check "email primary back: central follows" test \
	"$(central "SELECT email FROM userdb.user_emails WHERE is_primary <> 0")" = alice@example.com
udb email primary falice alice@wonderland.example >/dev/null
check "email primary again: central follows" test \
	"$(central "SELECT email FROM userdb.user_emails WHERE is_primary <> 0")" = alice@wonderland.example
udb email del falice alice@example.com >/dev/null
check "email del: the address is gone centrally" test \
	"$(central "SELECT count(*) FROM userdb.user_emails")" = 1

udb role mod fleetstaff --add-permission web:deploy >/dev/null
check "role mod --add-permission: central has it" test \
	"$(central "SELECT count(*) FROM userdb.role_permissions WHERE permission = 'web:deploy'")" = 1

# --- nothing changes when central is unreachable ---------------------------
before_c=$(central_dump)
before_m=$(mirror_dump)
out=$("$USERDB" --config "$T/down.conf" user add fbob 2>&1)
rc=$?
check "central down: user add fails (exit 69) saying so" test "$rc" = 69 -a \
	"${out#userdb: central database unreachable: nothing changed}" != "$out"
"$USERDB" --config "$T/down.conf" --json user del falice >"$T/out.json" 2>&1
check "central down: --json user del says why, exit 69" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if o["status"] == 69 and o["error"].startswith("central database unreachable: nothing changed") else 1)' "$T/out.json"
check "central down: the mirror and central are unchanged" test \
	"$(mirror_dump)" = "$before_m" -a "$(central_dump)" = "$before_c"

# --- central refusing a row at the commit rolls the mirror back -------------
central "CREATE FUNCTION userdb.test_refuse() RETURNS trigger LANGUAGE plpgsql AS
	\$\$ BEGIN RAISE EXCEPTION 'test: refused %', NEW.username; END \$\$;
	CREATE TRIGGER test_refuse BEFORE INSERT ON userdb.users FOR EACH ROW
	WHEN (NEW.username = 'frefused') EXECUTE FUNCTION userdb.test_refuse()"
before_c=$(central_dump)
out=$(udb user add frefused 2>&1)
rc=$?
check "central refuses the commit: the command fails with central's reason" test "$rc" != 0 -a \
	"${out#userdb: central database refused the change: ERROR:  test: refused frefused}" != "$out"
check "central refuses the commit: mirror and central unchanged" test \
	"$(mirror_dump)" = "$before_m" -a "$(central_dump)" = "$before_c"

# --- a second admin box: `userdb sync` brings it every change ---------------
M2=$T/mirror2
sed "s|^dbdir = .*|dbdir = $M2|" "$T/mirror.conf" >"$T/mirror2.conf"
udb2() { "$USERDB" --config "$T/mirror2.conf" "$@"; }
udb2 init >/dev/null || { echo "Bail out! userdb init of the second mirror failed"; exit 1; }
udb2 sync >/dev/null 2>&1
# What an admin sees of the store, minus the creation and update times.
view() { "$USERDB" --config "$1" user show falice | grep -Ev '^(created|updated|password changed):'; }
check "second mirror after sync: same user, roles, grants, emails, account" test \
	"$(view "$T/mirror2.conf")" = "$(view "$T/mirror.conf")"
check "second mirror after sync: same roles" test \
	"$(udb2 role list)" = "$(udb role list)"
check "second mirror after sync: the same hash" test \
	"$(sqlite3 "file:$M2/shadow.db?mode=ro" "SELECT password_hash FROM accounts")" = "$new_hash"

# --- a mirror behind central catches up before it changes anything -----------
out=$(udb2 user add fbob 2>/dev/null)
check "second box adds a user: the next uid" test "$out" = "added user fbob (uid 70003, gid 70003)"
rev=$(central_rev)
out=$(udb user add fdave 2>/dev/null)
check "first box, now behind: synced first, then the next uid after the other box's" test \
	"$out" = "added user fdave (uid 70004, gid 70004)"
check "first box has the other box's user and central's revision" test \
	"$(udb user show fbob | sed -n 2p)/$(mirror_rev)" = "uid:               70003/$((rev + 1))"

# --- two admin boxes add users at once: the later commit reruns --------------
# A third session holds central's revision row; both boxes check central
# (current), run their command on their mirror and wait for the row at their
# commit. The first to get it commits; the other finds central moved on,
# rolls back, syncs and runs its command again, and gets the next uid.
udb2 sync >/dev/null 2>&1
pg_psql "$PG_CONNINFO" -c "BEGIN; SELECT rev FROM userdb.state FOR UPDATE; SELECT pg_sleep(2); COMMIT;" \
	>/dev/null 2>&1 &
holder=$!
sleep 0.5
printf 'first racer password\n' | udb user add frace1 --password-stdin >"$T/race1" 2>&1 &
box1=$!
printf 'second racer password\n' | udb2 user add frace2 --password-stdin >"$T/race2" 2>&1 &
box2=$!
wait "$box1"
rc1=$?
wait "$box2"
rc2=$?
wait "$holder"
check "two boxes at once: both commands succeed" test "$rc1/$rc2" = 0/0
check "two boxes at once: distinct uids, none reused" test \
	"$(central "SELECT string_agg(uid::text, ' ' ORDER BY uid) FROM userdb.users WHERE username LIKE 'frace%'")" = \
	"70005 70006"
check "two boxes at once: the rerun kept its password (--password-stdin read once)" test \
	"$(central "SELECT count(*) FROM userdb.secrets s JOIN userdb.users u ON u.id = s.user_id
		WHERE u.username LIKE 'frace%' AND s.password_hash LIKE '\$6\$%'")" = 2
udb2 sync >/dev/null 2>&1
udb sync >/dev/null 2>&1
check "two boxes at once: both mirrors then hold the same users" test \
	"$(udb user list)" = "$(udb2 user list)"

# --- user del ----------------------------------------------------------------
udb user del falice >/dev/null
check "user del: user, account, secret, email, name and grant are gone centrally" test \
	"$(central "SELECT (SELECT count(*) FROM userdb.users WHERE username = 'falice')
		+ (SELECT count(*) FROM userdb.account_names WHERE username = 'falice')
		+ (SELECT count(*) FROM userdb.accounts a JOIN userdb.secrets s USING (user_id)
			WHERE user_id = 1)
		+ (SELECT count(*) FROM userdb.user_emails WHERE email LIKE 'alice@%')
		+ (SELECT count(*) FROM userdb.user_roles WHERE user_id = 1)")" = 0
check "user del: the uid mark stays (ids are never reused)" test \
	"$(central "SELECT high_water FROM userdb.id_allocator WHERE kind = 'uid'")" = 70006
out=$(udb user add fnew 2>/dev/null)
check "user add after a delete: a new uid, not the freed one" test \
	"$out" = "added user fnew (uid 70007, gid 70007)"

# --- central push-local: a single host grows into a fleet ---------------------
pg_super_psql -c "CREATE DATABASE pushdb OWNER udb_admin" >/dev/null
P=$T/single
cat >"$T/single.conf" <<EOF
dbdir = $P
hash_method = sha512
hash_cost = 1000
uid_min = 80000
uid_max = 89999
gid_min = 80000
gid_max = 89999
EOF
single() { "$USERDB" --config "$T/single.conf" "$@"; }
single init >/dev/null
single role add pstaff --permission ssh:login >/dev/null
single role add padmin --includes pstaff >/dev/null
printf 'single host password\n' | single user add pcarol --role padmin --email carol@example.com \
	--password-stdin >/dev/null 2>&1
single user add pdan --first-name Dan >/dev/null 2>&1
single grant pdan pstaff --until 2040-01-01 >/dev/null
before_view=$(single user show pcarol | grep -Ev '^(created|updated|password changed):')
# The same box, now pointing at an empty central database.
sed "s|dbname=userdb|dbname=pushdb|" "$T/mirror.conf" | grep '^central' >>"$T/single.conf"
single central init >/dev/null
out=$(single central push-local 2>&1)
check "push-local: copies the store and says so" test \
	"$out" = "copied 2 users and 2 roles to the central database (revision 1); this box is now its admin mirror"
push() { pg_super_psql -d pushdb -c "$1"; }
check "push-local: every row is central, hashes in userdb.secrets" test \
	"$(push "SELECT (SELECT count(*) FROM userdb.users) || ' ' || (SELECT count(*) FROM userdb.roles)
		|| ' ' || (SELECT count(*) FROM userdb.user_roles) || ' ' || (SELECT count(*) FROM userdb.role_closure)
		|| ' ' || (SELECT count(*) FROM userdb.user_emails) || ' ' || (SELECT count(*) FROM userdb.secrets)
		|| ' ' || (SELECT high_water FROM userdb.id_allocator WHERE kind = 'uid')")" = "2 2 2 3 1 1 80003" -a \
	"$(push "SELECT password_hash FROM userdb.secrets")" = \
	"$(sqlite3 "file:$P/shadow.db?mode=ro" "SELECT password_hash FROM accounts WHERE password_hash IS NOT NULL")"
check "push-local: the store's audit trail has it" grep -q "copied 2 users and 2 roles" \
	<(single log 2>&1)
check "push-local: the box is the admin mirror at central's revision" test \
	"$(sqlite3 "file:$P/public.db?mode=ro" "SELECT value FROM meta WHERE key = 'central_rev'")" = 1
before_p=$(for t in roles users user_roles secrets id_allocator; do push "SELECT * FROM userdb.$t ORDER BY 1"; done)
out=$(single central push-local 2>&1)
rc=$?
check "push-local into a central that is not empty: refused, exit 65" test "$rc" = 65 -a \
	"$out" = "userdb: central push-local: the central database is not empty (it has roles, users, hosts or ids handed out): nothing changed"
check "push-local refused: central unchanged" test \
	"$(for t in roles users user_roles secrets id_allocator; do push "SELECT * FROM userdb.$t ORDER BY 1"; done)" = "$before_p"
out=$(single user add pemil 2>/dev/null)
check "after push-local: a change goes to central, ids go on from the store's" test \
	"$out/$(push "SELECT uid FROM userdb.users WHERE username = 'pemil'")" = "added user pemil (uid 80004, gid 80004)/80004"
sed "s|^dbdir = .*|dbdir = $T/pushmirror|" "$T/single.conf" >"$T/pushmirror.conf"
"$USERDB" --config "$T/pushmirror.conf" init >/dev/null
"$USERDB" --config "$T/pushmirror.conf" sync >/dev/null 2>&1
check "after push-local: another admin box syncs the same users" test \
	"$("$USERDB" --config "$T/pushmirror.conf" user show pcarol | grep -Ev '^(created|updated|password changed|last login \(fleet\)):')" = \
	"$before_view"

echo "1..$n"
exit $((failed > 0))
