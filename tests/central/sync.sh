#!/bin/bash
# `userdb sync` against a private PostgreSQL (tests/central/pg.sh): a host's
# copy follows central changes made through userdb.begin_change() (create,
# grant, revoke, delete, a name reused, names swapped), hashes arrive only
# where row-level security shows them, lookups (getent through nss_wrapper
# on the host's own store) go on while central is stopped and `sync
# --status` says stale, a copy behind central's kept history or drifted
# from it is rebuilt, and a refused login or an unreachable central fail
# clearly and change nothing. Root only (PostgreSQL runs as `postgres`).
#
# Run by meson (suite central) as `sync.sh USERDB NSS_MODULE PAM_MODULE`.
set -u
USERDB=$(realpath "$1")
NSS_MODULE=$(realpath "$2")
PAM_MODULE=$(realpath "$3")
HERE=$(dirname "$(realpath "$0")")
export LC_ALL=C
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (PostgreSQL runs as postgres)"; exit 77; }
. "$HERE/pg.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-sync.XXXXXX") || exit 99
cleanup() {
	pg_stop
	rm -rf "$T"
}
pg_start
trap cleanup EXIT

. "$HERE/tap.sh"
psql_admin() { pg_psql "$PG_CONNINFO" "$@"; }

# Central, created by userdb central init from the admin's config; roles
# ops and dev, written directly through begin_change() (what the admin
# commands do centrally).
ADMIN_CONF=$T/admin.conf
printf 'dbdir = %s/admin-db\ncentral = %s\n' "$T" "$PG_CONNINFO" >"$ADMIN_CONF"
"$USERDB" --config "$ADMIN_CONF" init >/dev/null || exit 99
"$USERDB" --config "$ADMIN_CONF" central init >/dev/null || exit 99
psql_admin <<SQL >/dev/null || exit 99
BEGIN;
SELECT userdb.begin_change();
INSERT INTO userdb.roles VALUES (1, 'ops', 13001, '', 1700000000), (2, 'dev', 13002, '', 1700000000);
INSERT INTO userdb.role_closure VALUES (1, 1), (2, 2);
UPDATE userdb.id_allocator SET high_water = CASE kind WHEN 'uid' THEN 10002 ELSE 13002 END;
COMMIT;
SQL
# The host web1, allowing ops, enrolled as the README says.
"$USERDB" --config "$ADMIN_CONF" --json host add web1 --allow-role ops --passfile "$T/web1.pgpass" \
	>"$T/host.json" || exit 99
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(o["config"]); open(sys.argv[3],"w").write(o["passfile_line"] + "\n")' \
	"$T/host.json" "$T/web1.conf.lines" "$T/web1.pgpass.line" || exit 99
install -m 0600 "$T/web1.pgpass.line" "$T/web1.pgpass"
HOST_CONNINFO=$(sed -n 's/^central = //p' "$T/web1.conf.lines")

# central_user ID NAME UID ROLE_ID: one change adding a user with a hash and a grant.
central_user() {
	psql_admin <<SQL >/dev/null
BEGIN;
SELECT userdb.begin_change();
INSERT INTO userdb.users VALUES ($1, '$2', $3, $3, NULL, '$2', '', '/home/$2', '/bin/bash', 1700000000, 1700000000);
INSERT INTO userdb.accounts (user_id, password_changed_at) VALUES ($1, 19000);
INSERT INTO userdb.account_names VALUES ('$2', $1);
INSERT INTO userdb.secrets VALUES ($1, '\$6\$salt\$$2hash');
INSERT INTO userdb.user_roles VALUES ($1, $4, NULL, NULL, 1700000000);
COMMIT;
SQL
}
central() { # one change: SQL after begin_change()
	printf 'BEGIN;\nSELECT userdb.begin_change();\n%s\nCOMMIT;\n' "$1" | psql_admin >/dev/null
}
central_user 10 alice 10001 1
central_user 11 bob 10002 2

DB=$T/db
CONF=$T/userdb.conf
{ echo "dbdir = $DB"; cat "$T/web1.conf.lines"; } >"$CONF"
export USERDB_CONF=$CONF
"$USERDB" init >/dev/null || exit 99

cp /etc/passwd "$T/passwd"
cp /etc/group "$T/group"
wrap() {
	env LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$T/passwd" NSS_WRAPPER_GROUP="$T/group" \
		NSS_WRAPPER_MODULE_SO_PATH="$NSS_MODULE" NSS_WRAPPER_MODULE_FN_PREFIX=userdb "$@" 2>&1
}
hash_of() {
	sqlite3 -readonly "file:$DB/shadow.db?mode=ro" \
		"SELECT coalesce(password_hash, 'NULL') FROM accounts a JOIN account_names n USING (user_id) WHERE n.username = '$1'"
}
central_rev() { psql_admin -c "SELECT rev FROM userdb.state"; }

# 1. The first sync reads everything.
out=$("$USERDB" sync 2>&1); rc=$?
check "first sync exits 0" 0 "$rc"; [ "$rc" = 0 ] || echo "# $out"
check "first sync is a full one at central's revision" \
	"synced to revision $(central_rev) from 0 (full)" "$(printf '%s' "$out" | sed 's/:.*//')"
check "getent passwd alice on the host" "alice:x:10001:10001:alice:/home/alice:/bin/bash" \
	"$(wrap getent passwd alice)"
check "getent group ops lists alice" "ops:x:13001:alice" "$(wrap getent group ops)"
check "bob (role dev, not allowed here) has an identity" "bob:x:10002:10002:bob:/home/bob:/bin/bash" \
	"$(wrap getent passwd bob)"
check "alice's hash reached web1 (ops is allowed here)" '$6$salt$alicehash' "$(hash_of alice)"
check "bob's hash did not (RLS)" NULL "$(hash_of bob)"
check "the host's login cannot read bob's secret centrally either" 0 \
	"$(pg_psql "$HOST_CONNINFO" -c 'SELECT count(*) FROM userdb.secrets WHERE user_id = 11')"

# 2. Nothing new: exit 0, nothing applied.
out=$("$USERDB" sync --json 2>&1); rc=$?
check "a second sync exits 0" 0 "$rc"
check "a second sync applies nothing" false "$(printf '%s' "$out" | python3 -c 'import json,sys; print(str(json.load(sys.stdin)["applied"]).lower())')"

# 3. Revoke alice's ops grant: she leaves the group, and her hash leaves web1.
central "DELETE FROM userdb.user_roles WHERE user_id = 10 AND role_id = 1;"
"$USERDB" sync >/dev/null 2>&1
check "after a central revoke getent group ops is empty" "ops:x:13001:" "$(wrap getent group ops)"
check "after the revoke alice's hash is wiped on web1" NULL "$(hash_of alice)"
# And granted again: the hash comes back.
central "INSERT INTO userdb.user_roles VALUES (10, 1, NULL, NULL, 1700000000);"
"$USERDB" sync >/dev/null 2>&1
check "a new grant brings the hash back" '$6$salt$alicehash' "$(hash_of alice)"

# The host loses role ops centrally (userdb host deny): every hash it may see is
# looked at again.
"$USERDB" --config "$ADMIN_CONF" host deny web1 ops >/dev/null
"$USERDB" sync >/dev/null 2>&1
check "a role no longer allowed on the host takes its members' hashes away" NULL "$(hash_of alice)"
check "but not their identities" "ops:x:13001:alice" "$(wrap getent group ops)"
"$USERDB" --config "$ADMIN_CONF" host allow web1 ops >/dev/null
"$USERDB" sync >/dev/null 2>&1
check "allowed again, the hashes come back" '$6$salt$alicehash' "$(hash_of alice)"

# 4. bob deleted and a new bob created in one change: only the new uid.
central "DELETE FROM userdb.users WHERE id = 11;
INSERT INTO userdb.users VALUES (12, 'bob', 10003, 10003, NULL, 'bob', '', '/home/bob', '/bin/bash', 1700000000, 1700000000);
INSERT INTO userdb.accounts (user_id) VALUES (12);
INSERT INTO userdb.account_names VALUES ('bob', 12);"
"$USERDB" sync >/dev/null 2>&1
check "the reused name resolves to the new uid" "bob:x:10003:10003:bob:/home/bob:/bin/bash" \
	"$(wrap getent passwd bob)"
out=$(wrap getent passwd 10002); rc=$?
check "the old uid is gone" "2 " "$rc $out"
check "one bob in the enumeration" 1 "$(wrap getent passwd | grep -c '^bob:')"

# 5. Role names swapped in one change: collide half way, applied in full.
central "UPDATE userdb.roles SET name = 'tmp' WHERE id = 1;
UPDATE userdb.roles SET name = 'ops' WHERE id = 2;
UPDATE userdb.roles SET name = 'dev' WHERE id = 1;"
out=$("$USERDB" sync 2>&1); rc=$?
check "a swap of two names syncs" 0 "$rc"
check "the swap is done with a full pass" "(full)" "$(printf '%s' "$out" | grep -o '(full)')"
check "the swapped names" "dev:x:13001:alice ops:x:13002:" "$(wrap getent group dev) $(wrap getent group ops)"
central "UPDATE userdb.roles SET name = 'tmp' WHERE id = 1;
UPDATE userdb.roles SET name = 'dev' WHERE id = 2;
UPDATE userdb.roles SET name = 'ops' WHERE id = 1;"
"$USERDB" sync >/dev/null 2>&1

# 6. A wrong password: exit 77, a clear message, nothing changed.
central "UPDATE userdb.users SET shell = '/bin/sh' WHERE id = 10;"
sed -i 's/:[^:]*$/:wrong/' "$T/web1.pgpass"
out=$("$USERDB" sync 2>&1); rc=$?
check "a refused login exits 77" 77 "$rc"; [ "$rc" = 77 ] || echo "# $out"
check "a refused login says so" "userdb: central database refused this host's login" \
	"$(printf '%s' "$out" | sed 's/: FATAL.*//; s/: connection to.*//')"
check "nothing changed" "/bin/bash" "$(wrap getent passwd alice | cut -d: -f7)"
install -m 0600 "$T/web1.pgpass.line" "$T/web1.pgpass"

# 7. Central stopped: lookups go on, sync fails clearly, --status says stale.
pg_pause
out=$("$USERDB" sync 2>&1); rc=$?
check "sync with central stopped exits 69" 69 "$rc"
check "and says central is unreachable" "userdb: central database unreachable" "${out%%: connection*}"
check "lookups go on while central is stopped" "alice:x:10001:10001:alice:/home/alice:/bin/bash" \
	"$(wrap getent passwd alice)"
out=$("$USERDB" sync --status --json 2>&1); rc=$?
check "sync --status exits 1 when stale" 1 "$rc"
check "sync --status --json says stale" "stale None" \
	"$(printf '%s' "$out" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["central_rev"])')"
pg_resume || exit 99
out=$("$USERDB" sync 2>&1); rc=$?
check "sync after central is back exits 0" 0 "$rc"
check "the change made meanwhile arrived" "/bin/sh" "$(wrap getent passwd alice | cut -d: -f7)"
out=$("$USERDB" sync --status 2>&1); rc=$?
check "sync --status exits 0 when current" 0 "$rc"
check "sync --status says current" "state: current" "$(printf '%s\n' "$out" | grep '^state:')"

# 8. Behind central's kept history: a full resync by itself.
central "UPDATE userdb.users SET first_name = 'Alice' WHERE id = 10;
UPDATE userdb.state SET min_rev = rev;"
out=$("$USERDB" sync 2>&1)
check "a host behind min_rev resyncs in full" "(full)" "$(printf '%s' "$out" | grep -o '(full)')"
check "and has the change" "Alice" "$(wrap getent passwd alice | cut -d: -f5)"

# 9. Drift (a row changed behind sync's back) is found and repaired.
sqlite3 "$DB/public.db" "DELETE FROM role_permissions; DELETE FROM user_roles WHERE user_id = 10" 2>/dev/null
out=$("$USERDB" sync --verify 2>&1); rc=$?
check "sync --verify repairs a drift" 0 "$rc"
check "sync --verify logs the drift" "userdb sync: drift from central (user_roles" \
	"$(printf '%s\n' "$out" | grep -o '^userdb sync: drift from central (user_roles')"
out=$("$USERDB" sync --verify 2>&1); rc=$?
check "a second --verify finds no drift" "0 " "$rc $(printf '%s' "$out" | grep -o drift)"

# 10. --follow: changes arrive without anyone running sync, through an
# outage of central; SIGTERM ends it with exit 0.
wait_for() { # wait_for SECONDS COMMAND...: until COMMAND succeeds
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}
shell_is() { [ "$(wrap getent passwd alice | cut -d: -f7)" = "$1" ]; }
"$USERDB" sync --follow 2>"$T/follow.log" &
follow=$!
central "UPDATE userdb.users SET shell = '/bin/dash' WHERE id = 10;"
wait_for 30 shell_is /bin/dash
check "sync --follow applies a central change by itself" /bin/dash \
	"$(wrap getent passwd alice | cut -d: -f7)"
pg_pause
wait_for 30 grep -q 'central database unreachable' "$T/follow.log"
check "sync --follow logs that central is unreachable" 0 "$?"
check "lookups go on during the outage" /bin/dash "$(wrap getent passwd alice | cut -d: -f7)"
pg_resume || exit 99
central "UPDATE userdb.users SET shell = '/bin/bash' WHERE id = 10;"
wait_for 90 shell_is /bin/bash
check "after the outage sync --follow reconnects and applies the next change" /bin/bash \
	"$(wrap getent passwd alice | cut -d: -f7)"
check "sync --follow logs that central is back" 1 "$(grep -c 'central database reachable again' "$T/follow.log")"
kill -TERM "$follow"
wait "$follow"
check "SIGTERM ends sync --follow with exit 0" 0 "$?"
check "sync --follow says it stopped" "userdb sync: stopped" "$(tail -n1 "$T/follow.log")"

# 11. max_offline: a host that has not found central current for longer
# than the limit refuses, in the account phase, the users holding one of
# offline_roles, and only them; a successful sync lifts it. Through
# pamtester under pam_wrapper.
mkdir "$T/pam.d"
printf 'account required %s conf=%s\n' "$PAM_MODULE" "$CONF" >"$T/pam.d/login"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"
acct() { # acct USER: pamtester's account phase, "ok" or "refused"
	if LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
		pamtester login "$1" acct_mgmt >/dev/null 2>&1; then echo ok; else echo refused; fi
}
if command -v pamtester >/dev/null; then
	# The host gate refuses a user none of whose roles is allowed on web1,
	# whatever max_offline says: bob (the new one of step 4, without a
	# grant) gets dev, and dev is allowed on web1.
	central "INSERT INTO userdb.user_roles SELECT 12, id, NULL, NULL, 1700000000
		FROM userdb.roles WHERE name = 'dev' ON CONFLICT DO NOTHING;"
	"$USERDB" --config "$ADMIN_CONF" host allow web1 dev >/dev/null
	"$USERDB" sync >/dev/null 2>&1
	check "before the limit: alice (ops) and bob (dev) pass the account phase" "ok ok" \
		"$(acct alice) $(acct bob)"
	printf 'max_offline = 2s\noffline_roles = ops\n' >>"$CONF"
	pg_pause
	sleep 3
	check "past max_offline, alice (an offline role) is refused, bob is not" "refused ok" \
		"$(acct alice) $(acct bob)"
	# userdb explain gives the module's answer and says why.
	out=$("$USERDB" explain alice login --pam-dir "$T/pam.d" 2>&1); rc=$?
	check "explain refuses alice past max_offline (exit 1)" 1 "$rc"
	check "with the offline role, the host and the limit" \
		"refused: alice holds offline role ops and host web1 last found central current" \
		"$(head -n1 <<<"$out" | sed 's/ [0-9]*s ago.*//')"
	check "and the limit in its details" \
		"offline limit:     max_offline 2s for offline_roles ops (refuses this user)" \
		"$(grep '^offline limit:' <<<"$out")"
	out=$("$USERDB" explain bob login --pam-dir "$T/pam.d" 2>&1); rc=$?
	check "explain allows bob (no offline role)" "0 allowed: bob passes pam_userdb's account phase of login" \
		"$rc $(head -n1 <<<"$out")"
	check "explain --json says the copy's age refuses alice" "refused true" \
		"$("$USERDB" --json explain alice login --pam-dir "$T/pam.d" |
			python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["decision"], json.dumps(o["offline_refused"]))')"
	check "getent still answers for her" "alice" "$(wrap getent passwd alice | cut -d: -f1)"
	pg_resume || exit 99
	"$USERDB" sync >/dev/null 2>&1
	check "a successful sync lets her in again" ok "$(acct alice)"
	check "and explain allows her again" 0 \
		"$("$USERDB" explain alice login --pam-dir "$T/pam.d" >/dev/null 2>&1; echo $?)"
	sed -i '/^max_offline\|^offline_roles/d' "$CONF"
else
	pass "# SKIP pamtester not installed"
fi

# 11a. A central that sends what no local write could set (damaged, or an
# attacker's): the pass is refused with the reason, nothing applied.
before=$(wrap getent passwd alice)
hash_before=$(hash_of alice)
central "UPDATE userdb.users SET uid = 0 WHERE id = 10;"
out=$("$USERDB" sync 2>&1); rc=$?
check "a user of uid 0 from central: sync fails" 1 "$([ "$rc" != 0 ] && echo 1)"
check "... saying why" "central sent a row of users that breaks this host's rules" \
	"$(printf '%s\n' "$out" | grep -o "central sent a row of users that breaks this host's rules")"
check "... and alice is served as before" "$before" "$(wrap getent passwd alice)"
central "UPDATE userdb.users SET uid = 10001 WHERE id = 10; UPDATE userdb.secrets SET password_hash = 'x:0:0:::' WHERE user_id = 10;"
out=$("$USERDB" sync 2>&1); rc=$?
check "a hash with ':' from central: sync fails" "1 central sent a row of secrets" \
	"$([ "$rc" != 0 ] && echo 1) $(printf '%s\n' "$out" | grep -o 'central sent a row of secrets')"
check "... and alice's hash is the one before" "$hash_before" "$(hash_of alice)"
central "UPDATE userdb.secrets SET password_hash = '$hash_before' WHERE user_id = 10;"
out=$("$USERDB" sync 2>&1); rc=$?
check "central repaired: the next sync applies" 0 "$rc"
check "... and alice is served as before" "$before" "$(wrap getent passwd alice)"

# 11b. The host's store is a copy: a change made on it is refused, nothing
# changed; what is the host's own (failed logins, second factors; keys are replicated: tests/central/keys.sh) is not.
before=$(wrap getent passwd | grep -c .)
out=$("$USERDB" role add local-only 2>&1); rc=$?
check "a change on the fleet host is refused (77)" 77 "$rc"
check "with the reason" "userdb: this is fleet host 'web1': its store is a copy of the central database; make changes on the admin box (nothing changed)" "$out"
out=$("$USERDB" user disable alice 2>&1); rc=$?
check "user disable on the host is refused too" 77 "$rc"
check "nothing changed on the host" "$before" "$(wrap getent passwd | grep -c .)"
out=$("$USERDB" user unlock alice 2>&1); rc=$?
check "user unlock (the host's own failed logins) works on the host" 0 "$rc"
out=$("$USERDB" backup "$T/web1-backup" 2>&1); rc=$?
check "a backup (which changes nothing) works on the host" 0 "$rc"

# 12. Bad input to the command: a clear error.
out=$("$USERDB" sync --status --follow 2>&1); rc=$?
check "--status with --follow is refused" "64 userdb: sync: --status and --follow go alone" "$rc $out"
sed -i '/^central/d' "$CONF"
out=$("$USERDB" sync 2>&1); rc=$?
check "sync without central = is a config error" 78 "$rc"

echo "1..$n"
[ "$failed" = 0 ]
