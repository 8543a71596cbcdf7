#!/bin/bash
# A password change through PAM on a fleet host goes to central first
# (userdb-central-passwd, userdb.host_set_password) and then to the host's
# own copy: changed on host web1, it works on host web2 after web2's sync
# and the old one no longer does; the forced change of a must-change
# password does the same; with central stopped or not answering, the change
# fails within seconds with a clear message and neither copy changes; a
# user not allowed on the host cannot have a password set through it; the
# helper refuses a caller that is not root. Through pamtester under
# pam_wrapper on each host's own store. Root only (PostgreSQL runs as
# `postgres`).
#
# Run by meson (suite central) as
#   passwd.sh USERDB PAM_MODULE CENTRAL_PASSWD_HELPER
#
# The helper functions (enrol_host, host_conf, pam_service, change_password,
# try_login, local_hash, central_hash) are meant to be reused by fleet e2e
# scripts.
set -u
USERDB=$(realpath "$1")
PAM_MODULE=$(realpath "$2")
HELPER=$(realpath "$3")
HERE=$(dirname "$(realpath "$0")")
export LC_ALL=C
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (PostgreSQL runs as postgres)"; exit 77; }
command -v pamtester >/dev/null || { echo "1..0 # SKIP pamtester not installed"; exit 77; }
. "$HERE/pg.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-passwd.XXXXXX") || exit 99
chmod 0755 "$T"
cleanup() {
	[ -n "${stopped_pid:-}" ] && kill -CONT "$stopped_pid" 2>/dev/null
	pg_stop
	rm -rf "$T"
}
pg_start
trap cleanup EXIT

. "$HERE/tap.sh"
psql_admin() { pg_psql "$PG_CONNINFO" "$@"; }
central() { # one central change: SQL after begin_change()
	printf 'BEGIN;\nSELECT userdb.begin_change();\n%s\nCOMMIT;\n' "$1" | psql_admin >/dev/null
}

# ---- helpers ----

# enrol_host NAME ROLE: `userdb host add` as README says; writes
# $T/NAME.conf.lines (the config lines) and $T/NAME.pgpass (0600).
enrol_host() {
	"$USERDB" --config "$ADMIN_CONF" --json host add "$1" --allow-role "$2" \
		--passfile "$T/$1.pgpass" >"$T/$1.json" || return 1
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(o["config"]); open(sys.argv[3],"w").write(o["passfile_line"] + "\n")' \
		"$T/$1.json" "$T/$1.conf.lines" "$T/$1.pgpass.line" || return 1
	install -m 0600 "$T/$1.pgpass.line" "$T/$1.pgpass"
}
# host_conf NAME: the host's own store $T/NAME-db and config $T/NAME.conf,
# initialised and synced once.
host_conf() {
	{ echo "dbdir = $T/$1-db"; cat "$T/$1.conf.lines"; } >"$T/$1.conf"
	USERDB_CONF=$T/$1.conf "$USERDB" init >/dev/null || return 1
	USERDB_CONF=$T/$1.conf "$USERDB" sync >/dev/null
}
# pam_service NAME: the PAM service `passwd` of host NAME for pam_wrapper,
# in $T/NAME-pam.d: pam_userdb for auth, account and password, with the
# helper built here.
pam_service() {
	local args="conf=$T/$1.conf central_passwd=$HELPER nodelay"

	mkdir -p "$T/$1-pam.d"
	printf 'auth required %s %s\naccount required %s %s\npassword required %s %s\n' \
		"$PAM_MODULE" "$args" "$PAM_MODULE" "$args" "$PAM_MODULE" "$args" \
		>"$T/$1-pam.d/passwd"
	printf 'auth required pam_deny.so\naccount required pam_deny.so\npassword required pam_deny.so\n' \
		>"$T/$1-pam.d/other"
}
pamtest() { # pamtest HOST USER OPERATION: pamtester on HOST's service, stdin the answers
	LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/$1-pam.d" \
		pamtester passwd "$2" "$3" 2>&1
}
# change_password HOST USER NEW [OLD]: root's `passwd USER` on HOST (no old
# password), or with OLD the forced change of an expired password
# (PAM_CHANGE_EXPIRED_AUTHTOK: the user gives the old one). Prints
# pamtester's output; its exit status.
change_password() {
	if [ $# -ge 4 ]; then
		printf '%s\n%s\n%s\n' "$4" "$3" "$3" |
			pamtest "$1" "$2" 'chauthtok(PAM_CHANGE_EXPIRED_AUTHTOK)'
	else
		printf '%s\n%s\n' "$3" "$3" | pamtest "$1" "$2" chauthtok
	fi
}
try_login() { # try_login HOST USER PASSWORD: "ok" or "refused"
	if printf '%s\n' "$3" | pamtest "$1" "$2" authenticate >/dev/null; then
		echo ok
	else
		echo refused
	fi
}
local_hash() { # local_hash HOST USER
	sqlite3 -readonly "file:$T/$1-db/shadow.db?mode=ro" \
		"SELECT coalesce(password_hash, 'NULL') FROM accounts a JOIN account_names n USING (user_id) WHERE n.username = '$2'"
}
local_rev() { # local_rev HOST: the central revision its copy holds
	sqlite3 -readonly "file:$T/$1-db/public.db?mode=ro" \
		"SELECT value FROM meta WHERE key = 'central_rev'"
}
central_hash() { # central_hash USER
	psql_admin -c "SELECT coalesce(s.password_hash, 'NULL') FROM userdb.users u LEFT JOIN userdb.secrets s ON s.user_id = u.id WHERE u.username = '$1'"
}
central_rev() { psql_admin -c "SELECT rev FROM userdb.state"; }
sync_host() { USERDB_CONF=$T/$1.conf "$USERDB" sync "${@:2}" 2>&1; }

# ---- the fleet: central, roles ops and dev, alice (ops), bob (dev) ----
ADMIN_CONF=$T/admin.conf
printf 'dbdir = %s/admin-db\ncentral = %s\n' "$T" "$PG_CONNINFO" >"$ADMIN_CONF"
"$USERDB" --config "$ADMIN_CONF" init >/dev/null || exit 99
"$USERDB" --config "$ADMIN_CONF" central init >/dev/null || exit 99
ALICE_OLD='alice old 1'
BOB_OLD='bob old 1'
alice_hash=$(openssl passwd -6 -salt alicesalt "$ALICE_OLD") || exit 99
bob_hash=$(openssl passwd -6 -salt bobsalt "$BOB_OLD") || exit 99
psql_admin <<SQL >/dev/null || exit 99
BEGIN;
SELECT userdb.begin_change();
INSERT INTO userdb.roles VALUES (1, 'ops', 13001, '', 1700000000), (2, 'dev', 13002, '', 1700000000);
INSERT INTO userdb.role_closure VALUES (1, 1), (2, 2);
UPDATE userdb.id_allocator SET high_water = CASE kind WHEN 'uid' THEN 10002 ELSE 13002 END;
INSERT INTO userdb.users VALUES (10, 'alice', 10001, 10001, NULL, 'alice', '', '/home/alice', '/bin/bash', 1700000000, 1700000000),
	(11, 'bob', 10002, 10002, NULL, 'bob', '', '/home/bob', '/bin/bash', 1700000000, 1700000000);
INSERT INTO userdb.accounts (user_id, password_changed_at) VALUES (10, 1700000000), (11, 1700000000);
INSERT INTO userdb.account_names VALUES ('alice', 10), ('bob', 11);
INSERT INTO userdb.secrets VALUES (10, '$alice_hash'), (11, '$bob_hash');
INSERT INTO userdb.user_roles VALUES (10, 1, NULL, NULL, 1700000000), (11, 2, NULL, NULL, 1700000000);
COMMIT;
SQL
# Two hosts allowing ops: alice may log in on both, bob on neither.
for h in web1 web2; do
	enrol_host "$h" ops || exit 99
	host_conf "$h" || exit 99
	pam_service "$h"
done
# Both copies current (web2's enrolment came after web1's first sync).
sync_host web1 >/dev/null
sync_host web2 >/dev/null
check "alice logs in on web1 with her password" ok "$(try_login web1 alice "$ALICE_OLD")"
check "and on web2" ok "$(try_login web2 alice "$ALICE_OLD")"
# The hosts' hash_method (the default) is not central's sha512crypt: a
# login there still leaves the hash alone, it is central's.
check "a login on a host does not re-hash its copy of central's hash" "$alice_hash" \
	"$(local_hash web1 alice)"

# 1. Root changes alice's password on web1: central has it first, then web1.
rev_before=$(central_rev)
out=$(change_password web1 alice 'alice new 2'); rc=$?
check "the change on web1 succeeds" 0 "$rc"; [ "$rc" = 0 ] || echo "# $out"
new_hash=$(local_hash web1 alice)
check "web1's copy has a new hash" yes "$([ "$new_hash" != "$alice_hash" ] && echo yes)"
check "central has the same hash" "$new_hash" "$(central_hash alice)"
check "central counted one change" "$((rev_before + 1))" "$(central_rev)"
check "web1's copy is at that revision (nothing between)" "$(central_rev)" "$(local_rev web1)"
out=$(sync_host web1 --json)
check "web1's next sync has nothing to apply" false \
	"$(printf '%s' "$out" | python3 -c 'import json,sys; print(str(json.load(sys.stdin)["applied"]).lower())')"
out=$(USERDB_CONF=$T/web1.conf "$USERDB" check 2>&1); rc=$?
check "web1's store passes userdb check after the change" 0 "$rc"; [ "$rc" = 0 ] || echo "# $out"
out=$(sync_host web1 --verify); rc=$?
check "and matches central row for row (sync --verify finds no drift)" "0 no" \
	"$rc $(printf '%s' "$out" | grep -qi 'drift\|full' && echo yes || echo no)"; [ "$rc" = 0 ] || echo "# $out"
check "alice logs in on web1 with the new password" ok "$(try_login web1 alice 'alice new 2')"
check "not with the old one" refused "$(try_login web1 alice "$ALICE_OLD")"

# 2. web2 gets it with its sync.
check "before its sync web2 still has the old one" ok "$(try_login web2 alice "$ALICE_OLD")"
sync_host web2 >/dev/null
check "after its sync web2 has central's hash" "$new_hash" "$(local_hash web2 alice)"
check "alice logs in on web2 with the new password" ok "$(try_login web2 alice 'alice new 2')"
check "not with the old one" refused "$(try_login web2 alice "$ALICE_OLD")"

# 3. The forced change of a password that must be changed (login's
# PAM_CHANGE_EXPIRED_AUTHTOK, the old password asked) on web2.
"$USERDB" --config "$ADMIN_CONF" user passwd --expire alice >/dev/null 2>&1 ||
	central "UPDATE userdb.accounts SET must_change = 1 WHERE user_id = 10;"
sync_host web2 >/dev/null
check "alice must change her password on web2" 1 \
	"$(sqlite3 -readonly "file:$T/web2-db/shadow.db?mode=ro" 'SELECT must_change FROM accounts WHERE user_id = 10')"
# A change web2 has not seen yet comes between: its own change below then
# leaves the revision to its sync.
central "UPDATE userdb.users SET shell = '/bin/sh' WHERE id = 11;"
out=$(change_password web2 alice 'alice new 3' 'alice new 2'); rc=$?
check "the forced change on web2 succeeds" 0 "$rc"; [ "$rc" = 0 ] || echo "# $out"
check "central has web2's new hash" "$(local_hash web2 alice)" "$(central_hash alice)"
check "web2's copy was behind: its revision is left for the sync" yes \
	"$([ "$(local_rev web2)" -lt "$(central_rev)" ] && echo yes)"
out=$(sync_host web2 --json)
check "whose next pass reads the change back, hash unchanged" "true $(central_hash alice)" \
	"$(printf '%s' "$out" | python3 -c 'import json,sys; print(str(json.load(sys.stdin)["applied"]).lower())') $(local_hash web2 alice)"
check "central no longer asks for a change" 0 \
	"$(psql_admin -c 'SELECT must_change FROM userdb.accounts WHERE user_id = 10')"
sync_host web1 >/dev/null
check "web1 has it after its sync" ok "$(try_login web1 alice 'alice new 3')"
check "and the previous one is gone there" refused "$(try_login web1 alice 'alice new 2')"

# 4. Central stopped: the change fails with the message, nothing changed.
h1=$(local_hash web1 alice)
hc=$(central_hash alice)
pg_pause
out=$(change_password web1 alice 'alice new 4'); rc=$?
check "with central stopped the change fails" yes "$([ "$rc" != 0 ] && echo yes)"
check "and says so" 1 "$(printf '%s\n' "$out" | grep -c '^The central user database is unreachable: password not changed\.$')"
check "web1's hash is unchanged" "$h1" "$(local_hash web1 alice)"
check "the old password still works on web1" ok "$(try_login web1 alice 'alice new 3')"
pg_resume || exit 99
check "central's hash is unchanged" "$hc" "$(central_hash alice)"

# 5. Central not answering (its postmaster stopped with SIGSTOP): the change
# gives up within seconds instead of hanging the login.
stopped_pid=$(head -n1 "$PG_DIR/data/postmaster.pid")
kill -STOP "$stopped_pid"
start=$(date +%s)
out=$(change_password web1 alice 'alice new 5'); rc=$?
took=$(($(date +%s) - start))
kill -CONT "$stopped_pid"
stopped_pid=
check "with central not answering the change fails" yes "$([ "$rc" != 0 ] && echo yes)"
check "and says central is unreachable" 1 "$(printf '%s\n' "$out" | grep -c '^The central user database is unreachable: password not changed\.$')"
check "it gave up within 12 s (took ${took}s)" yes "$([ "$took" -le 12 ] && echo yes)"
check "web1's hash is unchanged" "$h1" "$(local_hash web1 alice)"
check "central's hash is unchanged" "$hc" "$(central_hash alice)"

# 6. bob is not allowed on web1 (role dev): root on web1 cannot set his
# password, centrally or locally.
check "web1 does not have bob's hash" NULL "$(local_hash web1 bob)"
rev_before=$(central_rev)
out=$(change_password web1 bob 'bob new 2'); rc=$?
check "changing bob's password on web1 fails" yes "$([ "$rc" != 0 ] && echo yes)"
check "central refused it, says the module" 1 "$(printf '%s\n' "$out" | grep -c '^The central user database refused the change: password not changed\.$')"
check "bob's central hash is unchanged" "$bob_hash" "$(central_hash bob)"
check "central's revision did not move" "$rev_before" "$(central_rev)"
check "web1 still has no hash for bob" NULL "$(local_hash web1 bob)"

# 7. The helper itself: root only, and only for users allowed on the host.
new=$(openssl passwd -6 -salt evil 'evil 1')
out=$(printf '%s\n' "$new" | setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env USERDB_CONF="$T/web1.conf" "$HELPER" 10 1700000000 2>&1); rc=$?
check "the helper refuses a caller that is not root (3)" 3 "$rc"
check "with a message" "userdb-central-passwd: only root may run this" "$out"
check "alice's central hash is unchanged" "$hc" "$(central_hash alice)"
out=$(printf '%s\n' "$new" | env USERDB_CONF="$T/web1.conf" "$HELPER" 11 1700000000 2>&1); rc=$?
check "root's helper on web1 cannot set bob's password (1)" 1 "$rc"
check "bob's central hash is unchanged" "$bob_hash" "$(central_hash bob)"
out=$(printf 'not a hash\n' | env USERDB_CONF="$T/web1.conf" "$HELPER" 10 1700000000 2>&1); rc=$?
check "nor store something that is not a hash (1)" 1 "$rc"
check "alice's central hash is still unchanged" "$hc" "$(central_hash alice)"
out=$(printf '%s\n' "$new" | env USERDB_CONF="$ADMIN_CONF" "$HELPER" 10 1700000000 2>&1); rc=$?
check "the helper refuses a config that is not a host's (4)" 4 "$rc"

echo "1..$n"
exit $((failed > 0))
