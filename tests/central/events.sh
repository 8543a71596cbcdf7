#!/bin/bash
# Fleet events (issue 14): the PAM module on a fleet host queues failed
# logins and logins in the host's store (sec.outbox), and `userdb sync`
# pushes them to central through userdb.host_push(), which names the host
# itself. Three hosts (web1, web2, web3: three stores, three configs, PAM
# through pamtester under pam_wrapper) and an admin box on one private
# PostgreSQL (tests/central/pg.sh). Root only (PostgreSQL runs as postgres).
#
# Run by meson (suite central) as `events.sh USERDB PAM_MODULE`.
set -u
USERDB=$(realpath "$1")
PAM_MODULE=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
export LC_ALL=C
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (PostgreSQL runs as postgres)"; exit 77; }
command -v pamtester >/dev/null || { echo "1..0 # SKIP pamtester not installed"; exit 77; }
. "$HERE/pg.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-events.XXXXXX") || exit 99
chmod 755 "$T"
cleanup() {
	pg_stop
	rm -rf "$T"
}
pg_start
trap cleanup EXIT

. "$HERE/tap.sh"
# What central holds, read as the cluster's superuser (no row security).
central() { pg_super_psql -c "$1"; }

# The admin box, central, role fleetstaff, users alice and bob with passwords.
ADMIN_CONF=$T/admin.conf
cat >"$ADMIN_CONF" <<EOF
dbdir = $T/admin-db
hash_method = sha512
hash_cost = 1000
central = $PG_CONNINFO
EOF
admin() { "$USERDB" --config "$ADMIN_CONF" "$@"; }
admin init >/dev/null || exit 99
admin central init >/dev/null || exit 99
admin role add fleetstaff >/dev/null || exit 99
printf 'alice password 1\n' | admin user add falice --role fleetstaff --password-stdin >/dev/null || exit 99
printf 'bob password 1\n' | admin user add fbob --role fleetstaff --password-stdin >/dev/null || exit 99
# fcarol holds a role no host allows: she may log in on none of them.
admin role add fleetadmins >/dev/null || exit 99
printf 'carol password 1\n' | admin user add fcarol --role fleetadmins --password-stdin >/dev/null || exit 99
ALICE=$(central "SELECT id FROM userdb.users WHERE username = 'falice'")
CAROL=$(central "SELECT id FROM userdb.users WHERE username = 'fcarol'")

# The hosts, enrolled as the README says, each with its own store and PAM
# stack: deny=5 locks locally at the fifth failure, as today.
for h in web1 web2 web3; do
	admin --json host add "$h" --allow-role fleetstaff --passfile "$T/$h.pgpass" >"$T/$h.json" || exit 99
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(o["config"]); open(sys.argv[3],"w").write(o["passfile_line"] + "\n")' \
		"$T/$h.json" "$T/$h.conf.lines" "$T/$h.pgpass.line" || exit 99
	install -m 0600 "$T/$h.pgpass.line" "$T/$h.pgpass"
	{ echo "dbdir = $T/$h-db"; cat "$T/$h.conf.lines"; } >"$T/$h.conf"
	"$USERDB" --config "$T/$h.conf" init >/dev/null || exit 99
	"$USERDB" --config "$T/$h.conf" sync >/dev/null || exit 99
	mkdir "$T/pam-$h"
	cat >"$T/pam-$h/login" <<EOF
auth     required $PAM_MODULE conf=$T/$h.conf nodelay deny=5 unlock_time=0
account  required $PAM_MODULE conf=$T/$h.conf
session  required $PAM_MODULE conf=$T/$h.conf
EOF
done
host_sync() { "$USERDB" --config "$T/$1.conf" sync 2>&1; }
host_conninfo() { sed -n 's/^central = //p' "$T/$1.conf.lines"; }
outbox() { # outbox HOST: "rows|events" queued on the host
	sqlite3 -readonly "file:$T/$1-db/shadow.db?mode=ro" "SELECT count(*) || '|' || coalesce(sum(count), 0) FROM outbox"
}
# pam HOST USER PASSWORD OPERATION...: "ok" or "refused"
pam() {
	local h=$1 user=$2 pw=$3
	shift 3
	if printf '%s\n' "$pw" | LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$T/pam-$h" pamtester -I rhost=192.0.2.7 login "$user" "$@" \
		>"$T/pam.out" 2>&1; then echo ok; else echo refused; fi
}
failures_at() { # failures_at HOST: failures central has from HOST for alice
	central "SELECT coalesce(sum(count), 0) FROM userdb.events WHERE host = '$1' AND user_id = $ALICE AND kind = 'failure'"
}

# 1. Failures are queued on the host, in one row, and pushed by sync.
check "alice mistypes on web1" refused "$(pam web1 falice 'wrong 1' authenticate)"
check "and again" refused "$(pam web1 falice 'wrong 2' authenticate)"
check "web1 queued the two failures in one row" "1|2" "$(outbox web1)"
check "central has nothing before the sync" 0 "$(failures_at web1)"
out=$(host_sync web1); rc=$?
check "web1's sync exits 0" 0 "$rc"
check "web1's sync says what it pushed" "pushed 1 queued login events to central" "$(printf '%s\n' "$out" | head -n1)"
check "central counts two failures of alice from web1" 2 "$(failures_at web1)"
check "the pushed row left web1's outbox" "0|0" "$(outbox web1)"

# 2. A push resent after central took it (a sync killed between central's
# commit and the local delete; here the store is put back as it was before
# the push) is not counted twice.
check "alice mistypes on web2" refused "$(pam web2 falice 'wrong 3' authenticate)"
cp -a "$T/web2-db" "$T/web2-db.before"
host_sync web2 >/dev/null
check "central counts the failure from web2" 1 "$(failures_at web2)"
rm -rf "$T/web2-db"
mv "$T/web2-db.before" "$T/web2-db"
check "the restored store still has it queued" "1|1" "$(outbox web2)"
out=$(host_sync web2); rc=$?
check "the resend exits 0" 0 "$rc"
check "central still counts one failure from web2" 1 "$(failures_at web2)"
check "and the outbox is empty now" "0|0" "$(outbox web2)"
check "a failure after that is counted" refused "$(pam web2 falice 'wrong 4' authenticate)"
host_sync web2 >/dev/null
check "central counts two failures from web2" 2 "$(failures_at web2)"

# 3. A flood of failures (and of unknown names) stays one row.
for i in $(seq 1 40); do
	pam web3 falice "flood $i" authenticate >/dev/null
	pam web3 "nobody$i" "flood $i" authenticate >/dev/null
done
check "40 failures of alice and 40 unknown names: one outbox row of 40" "1|40" "$(outbox web3)"
host_sync web3 >/dev/null
check "central counts the 40 in one event row" "1|40" \
	"$(central "SELECT count(*) || '|' || sum(count) FROM userdb.events WHERE host = 'web3'")"

# 4. What a host login may do centrally: push through host_push() only,
# as itself.
W1=$(host_conninfo web1)
check "a host login cannot insert events itself" "permission denied" \
	"$(pg_psql "$W1" -c "INSERT INTO userdb.events (host, user_id, kind, at) VALUES ('web2', $ALICE, 'failure', 1)" 2>&1 | grep -o 'permission denied' | head -n1)"
for t in events last_logins settings host_outbox; do
	check "a host login cannot read userdb.$t" "permission denied" \
		"$(pg_psql "$W1" -c "SELECT count(*) FROM userdb.$t" 2>&1 | grep -o 'permission denied' | head -n1)"
done
pg_psql "$W1" -c "SELECT userdb.host_push('00aa', '{$ALICE}', '{failure}', '{1}', '{7}', '{1}', '{web2}')" >/dev/null
check "host_push called by web1's login records web1, whatever the client says" "web1|7|web2" \
	"$(central "SELECT host || '|' || count || '|' || detail FROM userdb.events WHERE count = 7")"
check "a login that is not a host's may not push" "not an enrolled host" \
	"$(pg_psql "$PG_CONNINFO" -c "SELECT userdb.host_push('00aa', '{$ALICE}', '{failure}', '{1}', '{1}', '{1}', '{}')" 2>&1 | grep -o 'not an enrolled host')"
check "a malformed push is refused and records nothing" "malformed|0" \
	"$(pg_psql "$W1" -c "SELECT userdb.host_push('00aa', '{$ALICE}', '{failure}', '{2}', '{1}', '{1}', '{}')" 2>&1 | grep -o 'malformed')|$(central "SELECT count(*) FROM userdb.events WHERE host = 'web1' AND count = 1")"

# A compromised host (its own login) reporting a user who may not log in
# there: nothing is counted against her, and no last login.
pg_psql "$W1" -c "SELECT userdb.host_push('00aa', '{$CAROL,$CAROL}', '{failure,login}', '{10,11}', '{50,1}', '{1,1}', '{x,x}')" >/dev/null
check "host_push takes no failure or login of a user who may not log in on the host" "0|0" \
	"$(central "SELECT count(*) FROM userdb.events WHERE user_id = $CAROL")|$(central "SELECT count(*) FROM userdb.last_logins WHERE user_id = $CAROL")"
check "host_event refuses a user who may not log in on the host" "may not log in on host web1|0" \
	"$(pg_psql "$W1" -c "SELECT userdb.host_event($CAROL, 'failure', 1, 'x')" 2>&1 | grep -o 'may not log in on host web1')|$(central "SELECT count(*) FROM userdb.events WHERE user_id = $CAROL")"

# 5. A login is queued by the session and pushed: central has its host.
check "alice logs in on web1" ok "$(pam web1 falice 'alice password 1' authenticate acct_mgmt open_session close_session)"
check "web1 queued the login" "1|1" "$(outbox web1)"
host_sync web1 >/dev/null
check "central's last login of alice is on web1, from the client's address" "web1|192.0.2.7" \
	"$(central "SELECT host || '|' || detail FROM userdb.last_logins WHERE user_id = $ALICE")"
check "a login bumps no revision" "$(central "SELECT rev FROM userdb.state")" \
	"$(sqlite3 -readonly "file:$T/web1-db/public.db?mode=ro" "SELECT value FROM meta WHERE key = 'central_rev'")"

# 6. The fleet-wide lock. Off by default: web3's 40 failures above locked
# nothing fleet-wide.
check "fleet-deny is 0 (off) by default: no fleet lock yet" "" \
	"$(central "SELECT fleet_locked_at FROM userdb.accounts WHERE user_id = $ALICE")"
check "central set refuses a setting it does not have" 64 \
	"$(admin central set fleet-lock 3 >/dev/null 2>&1; echo $?)"
check "central set refuses a value that is not a number" 64 \
	"$(admin central set fleet-deny -1 >/dev/null 2>&1; echo $?)"
check "central set fleet-deny 8" "fleet-deny set to 8" "$(admin central set fleet-deny 8 2>&1)"
check "central set fleet-deny-window 3600" "fleet-deny-window set to 3600" \
	"$(admin central set fleet-deny-window 3600 2>&1)"
# Start from an admin unlock, so that the earlier failures no longer count.
admin sync >/dev/null
check "the admin's user unlock" "user falice was not locked (0 failed logins cleared)" \
	"$(admin user unlock falice 2>&1)"
check "... sets unlocked_at centrally" 1 \
	"$(central "SELECT count(*) FROM userdb.accounts WHERE user_id = $ALICE AND unlocked_at IS NOT NULL")"
sleep 1 # failures are counted after the unlock's second
for h in web1 web2 web3; do host_sync "$h" >/dev/null; done
# With the total set, a host reporting fcarol's failures by the hundred
# still locks her nowhere.
pg_psql "$W1" -c "SELECT userdb.host_push('00aa', '{$CAROL}', '{failure}', '{20}', '{500}', '{$(date +%s)}', '{x}')" >/dev/null
check "failures reported by a host fcarol may not log in on do not lock her fleet-wide" "" \
	"$(central "SELECT fleet_locked_at FROM userdb.accounts WHERE user_id = $CAROL")"
# web1: five failures, which lock alice on web1 itself (deny=5), as today.
for i in 1 2 3 4 5; do pam web1 falice "bad $i" authenticate >/dev/null; done
check "web1 locked alice locally at the fifth failure" refused \
	"$(pam web1 falice 'alice password 1' authenticate)"
check "web2 still lets alice in" ok "$(pam web2 falice 'alice password 1' authenticate)"
check "web3 too" ok "$(pam web3 falice 'alice password 1' authenticate)"
host_sync web1 >/dev/null
check "six failures from web1 (the refused right password counts): no fleet lock yet" "" \
	"$(central "SELECT fleet_locked_at FROM userdb.accounts WHERE user_id = $ALICE")"
# web2: two more, eight in all.
pam web2 falice 'bad 6' authenticate >/dev/null
pam web2 falice 'bad 7' authenticate >/dev/null
out=$(host_sync web2)
check "web2's push locks alice fleet-wide, and says so" \
	"pushed 1 queued login events to central (an account is now locked fleet-wide)" \
	"$(printf '%s\n' "$out" | head -n1)"
check "central has the fleet lock" 1 \
	"$(central "SELECT count(*) FROM userdb.accounts WHERE user_id = $ALICE AND fleet_locked_at IS NOT NULL")"
host_sync web3 >/dev/null
check "on web3, after its sync, alice's right password is refused" refused \
	"$(pam web3 falice 'alice password 1' authenticate)"
check "... with the same message as a local lock" "Authentication failure" \
	"$(grep -o 'Authentication failure' "$T/pam.out" | head -n1)"
check "bob still logs in on web3" ok "$(pam web3 fbob 'bob password 1' authenticate)"
check "web3's user show says alice is locked" '!' \
	"$("$USERDB" --config "$T/web3.conf" user show falice --json | python3 -c 'import json,sys; print("!" if json.load(sys.stdin)["account"]["locked"] else "-")')"

# 7. The admin's user unlock clears it everywhere.
admin sync >/dev/null
check "the admin box shows alice locked" "True" \
	"$(admin user show falice --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["account"]["locked"])')"
out=$(admin user unlock falice 2>&1)
check "the admin's user unlock" "unlocked user falice (0 failed logins cleared)" "$out"
check "central's fleet lock is gone" 0 \
	"$(central "SELECT count(*) FROM userdb.accounts WHERE user_id = $ALICE AND fleet_locked_at IS NOT NULL")"
for h in web1 web2 web3; do host_sync "$h" >/dev/null; done
for h in web1 web2 web3; do
	check "after its sync alice logs in on $h again" ok "$(pam "$h" falice 'alice password 1' authenticate)"
done
check "web1's own lock and count were cleared by the unlock" "0|" \
	"$(sqlite3 -readonly "file:$T/web1-db/shadow.db?mode=ro" "SELECT failed_count || '|' || coalesce(locked_until, '') FROM accounts WHERE user_id = $ALICE")"

# 8. The admin's user show: the fleet's last login, with its host.
check "bob logs in on web2" ok "$(pam web2 fbob 'bob password 1' authenticate acct_mgmt open_session close_session)"
check "before web2's sync the admin box shows bob never logged in" "last login (fleet): never" \
	"$(admin user show fbob | grep '^last login (fleet)' | tr -s ' ')"
host_sync web2 >/dev/null
line=$(admin user show fbob | grep '^last login (fleet)' | tr -s ' ')
case $line in
"last login (fleet): 20"*" on web2 from 192.0.2.7") pass "the admin's user show: last login (fleet) on web2" ;;
*) flunk "the admin's user show: last login (fleet) on web2" "got: $line" ;;
esac
check "user show --json: fleet_last_login" "web2|192.0.2.7|True|True" \
	"$(admin --json user show fbob | python3 -c 'import json,sys; d=json.load(sys.stdin); f=d["fleet_last_login"]; print("%s|%s|%s|%s" % (f["host"], f["from"], f["at"] is not None, d["fleet_reachable"]))')"
check "alice's last login is still the one on web1" "web1" \
	"$(admin --json user show falice | python3 -c 'import json,sys; print(json.load(sys.stdin)["fleet_last_login"]["host"])')"
check "a host's user show has no fleet line" "" \
	"$("$USERDB" --config "$T/web2.conf" user show fbob | grep '^last login (fleet)')"
# Central unreachable: said so, the local fields still shown.
sed "s/port=$PG_PORT/port=$((PG_PORT + 1))/" "$ADMIN_CONF" >"$T/admin-down.conf"
out=$("$USERDB" --config "$T/admin-down.conf" user show fbob 2>&1); rc=$?
check "central unreachable: user show still exits 0" 0 "$rc"
check "... and says the fleet's last login is not known" \
	"last login (fleet): not known: central database unreachable" \
	"$(printf '%s\n' "$out" | grep '^last login (fleet)' | tr -s ' ')"
check "... with the local fields" "user: fbob" "$(printf '%s\n' "$out" | head -n1 | tr -s ' ')"
check "... and in JSON fleet_reachable false" "None|False" \
	"$("$USERDB" --config "$T/admin-down.conf" --json user show fbob 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%s|%s" % (d["fleet_last_login"], d["fleet_reachable"]))')"

# 9. A compromised host setting a password of its own users cannot date it
# past central's clock (password_changed_at decides when it expires).
pg_psql "$W1" -c "SELECT userdb.host_set_password($ALICE, '\$6\$salt\$hash', 99999999999)" >/dev/null
check "host_set_password dated in the future is dated central's now" 1 \
	"$(central "SELECT count(*) FROM userdb.accounts WHERE user_id = $ALICE AND password_changed_at <= extract(epoch FROM now()) + 1")"

echo "1..$n"
[ "$failed" = 0 ]
