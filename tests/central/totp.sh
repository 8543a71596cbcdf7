#!/bin/bash
# Fleet mode's TOTP second factors (issue 14) against a private PostgreSQL
# (tests/central/pg.sh): `userdb totp` on the admin box writes central's
# userdb.second_factors in the same run; a host copies a user's factor only
# when central's row-level security shows it (one of the user's roles is
# allowed there, the rule of the password hashes), and wipes it when that
# stops (revoke, host deny) or the admin removes it. A login on the host
# (pamtester through pam_wrapper, the module's auth) then asks the copied
# factor's code; the host's own state survives syncs: the last accepted
# step (a code is not taken twice) and the recovery codes it saw used. A
# fleet host refuses `totp enroll` and the other changes (77), and
# second_factor=enrol enrols nobody there. Root only (PostgreSQL runs as
# `postgres`).
#
# Run by meson (suite central) as `totp.sh USERDB PAM_MODULE`.
set -u
USERDB=$(realpath "$1")
PAM_MODULE=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
export LC_ALL=C
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (PostgreSQL runs as postgres)"; exit 77; }
for p in oathtool pamtester; do
	command -v "$p" >/dev/null || { echo "1..0 # SKIP $p not installed"; exit 77; }
done
. "$HERE/pg.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-totp.XXXXXX") || exit 99
chmod 755 "$T"
cleanup() {
	pg_stop
	rm -rf "$T"
}
pg_start
trap cleanup EXIT

. "$HERE/tap.sh"
central() { pg_super_psql -c "$1"; }
PW='Totp-pass.5'

# The admin box, roles ops and dev, alice (ops) and bob (dev).
printf 'dbdir = %s/admin-db\nhash_method = sha512\nhash_cost = 1000\ncentral = %s\n' \
	"$T" "$PG_CONNINFO" >"$T/admin.conf"
adm() { "$USERDB" --config "$T/admin.conf" "$@"; }
adm init >/dev/null || exit 99
adm central init >/dev/null || exit 99
adm role add ops >/dev/null || exit 99
adm role add dev >/dev/null || exit 99
printf '%s\n' "$PW" | adm user add alice --role ops --password-stdin >/dev/null || exit 99
printf '%s\n' "$PW" | adm user add bob --role dev --password-stdin >/dev/null || exit 99

# web1 allows ops, db1 allows dev.
host_conf() { # host_conf NAME ROLE
	adm --json host add "$1" --allow-role "$2" --passfile "$T/$1.pgpass" >"$T/$1.json" || exit 99
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(o["config"]); open(sys.argv[3],"w").write(o["passfile_line"] + "\n")' \
		"$T/$1.json" "$T/$1.lines" "$T/$1.pgpass.line" || exit 99
	install -m 0600 "$T/$1.pgpass.line" "$T/$1.pgpass"
	# The admin box's hash method: a login does not re-hash alice's password.
	{ printf 'dbdir = %s/%s-db\nhash_method = sha512\nhash_cost = 1000\n' "$T" "$1"; cat "$T/$1.lines"; } >"$T/$1.conf"
	"$USERDB" --config "$T/$1.conf" init >/dev/null || exit 99
}
host_conf web1 ops
host_conf db1 dev
on() { local h=$1; shift; "$USERDB" --config "$T/$h.conf" "$@"; }
sync_all() { on web1 sync >/dev/null 2>&1 && on db1 sync >/dev/null 2>&1; }
factor_rows() { # factor_rows HOST USER: the local rows of USER's second factor
	sqlite3 -readonly "file:$T/$1-db/shadow.db?mode=ro" \
		"SELECT count(*) FROM second_factors f JOIN account_names n USING (user_id) WHERE n.username = '$2'"
}
secret_hex() { # secret_hex DBDIR USER
	sqlite3 -readonly "file:$1/shadow.db?mode=ro" \
		"SELECT hex(secret) FROM second_factors f JOIN account_names n USING (user_id) WHERE n.username = '$2'"
}
sync_all || { echo "Bail out! first sync failed"; exit 99; }

# PAM: the module's auth and account on each host, through pam_wrapper.
for h in web1 db1; do
	mkdir -p "$T/pam-$h"
	printf 'auth required %s conf=%s\naccount required %s conf=%s\n' \
		"$PAM_MODULE" "$T/$h.conf" "$PAM_MODULE" "$T/$h.conf" >"$T/pam-$h/login"
	printf 'auth required %s conf=%s second_factor=enrol\naccount required %s conf=%s\n' \
		"$PAM_MODULE" "$T/$h.conf" "$PAM_MODULE" "$T/$h.conf" >"$T/pam-$h/enrol"
done
login() { # login HOST SERVICE USER ANSWERS...: "ok" or "refused"
	local h=$1 svc=$2 u=$3
	shift 3
	if printf '%s\n' "$@" | LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$T/pam-$h" pamtester "$svc" "$u" authenticate >"$T/pamtester.log" 2>&1; then
		echo ok
	else
		echo refused
	fi
}

# 1. Enrolled on the admin box: central has it in the same run.
key=$(adm totp enroll alice | sed -n 's/^key: *//p')
check "totp enroll on the admin box prints a key" 1 "$([ -n "$key" ] && echo 1)"
out=$(adm totp confirm alice "$(oathtool --totp -b "$key")" 2>&1); rc=$?
check "totp confirm on the admin box exits 0" 0 "$rc"
check "central's userdb.second_factors holds the confirmed factor, bytes as on the admin box" \
	"1|$(secret_hex "$T/admin-db" alice)" \
	"$(central "SELECT f.confirmed || '|' || upper(encode(f.secret, 'hex')) FROM userdb.second_factors f
		JOIN userdb.users u ON u.id = f.user_id WHERE u.username = 'alice'")"
adm totp recovery-codes alice >"$T/codes" || exit 99
mapfile -t codes < <(grep -E '^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$' "$T/codes")
check "ten recovery codes" 10 "${#codes[@]}"

# 2. The sync brings it where alice may log in, and only there.
sync_all
check "web1 (ops allowed) has alice's factor, the same bytes" "$(secret_hex "$T/admin-db" alice)" \
	"$(secret_hex "$T/web1-db" alice)"
check "web1's totp status says so" "yes" \
	"$(on web1 --json totp status alice | python3 -c 'import json,sys; print("yes" if json.load(sys.stdin)["enrolled"] else "no")')"
check "db1 (ops not allowed) has no copy" 0 "$(factor_rows db1 alice)"
check "db1's own login cannot read it centrally (row-level security)" 0 \
	"$(pg_psql "$(sed -n 's/^central = //p' "$T/db1.lines")" -c "SELECT count(*) FROM userdb.second_factors")"

# 3. A login on web1 asks the code of the copied factor.
check "web1: password and a wrong code are refused" refused "$(login web1 login alice "$PW" 000000)"
code=$(oathtool --totp -b "$key")
check "web1: password and the right code log in" ok "$(login web1 login alice "$PW" "$code")"
check "web1: the same code again is refused (the step is used)" refused "$(login web1 login alice "$PW" "$code")"
check "web1: a recovery code logs in" ok "$(login web1 login alice "$PW" "${codes[0]}")"

# 4. The host's own state survives syncs: new recovery codes change alice's
# central row; the used step stays, so the code is still refused.
adm totp recovery-codes alice >"$T/codes2" || exit 99
mapfile -t codes2 < <(grep -E '^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$' "$T/codes2")
on web1 sync >/dev/null 2>&1
check "after a sync that rewrote alice's row, the used code is still refused" refused \
	"$(login web1 login alice "$PW" "$code")"
check "the new recovery codes work on web1" ok "$(login web1 login alice "$PW" "${codes2[0]}")"
check "the old ones no longer do" refused "$(login web1 login alice "$PW" "${codes[1]}")"
# A full copy keeps the use marks of the same codes (web1 is then behind
# central's kept history).
adm user mod bob --first-name Bob >/dev/null
central "UPDATE userdb.state SET min_rev = rev"
out=$(on web1 sync 2>&1)
check "a full resync" "(full)" "$(grep -o '(full)' <<<"$out")"
check "after it the recovery code used on web1 is still used" refused \
	"$(login web1 login alice "$PW" "${codes2[0]}")"
check "9 of the 10 left on web1" "9 of 10 left" \
	"$(on web1 totp status alice | sed -n 's/^recovery codes: *//p')"

# 5. Visibility: a revoke wipes the copy, a grant brings it back; so do
# host deny and host allow.
adm revoke alice ops >/dev/null
on web1 sync >/dev/null 2>&1
check "after a revoke web1 has no copy of alice's factor" 0 "$(factor_rows web1 alice)"
adm grant alice ops >/dev/null
on web1 sync >/dev/null 2>&1
check "granted again, it is back" 1 "$(factor_rows web1 alice)"
adm host deny web1 ops >/dev/null
on web1 sync >/dev/null 2>&1
check "host deny web1 ops wipes it" 0 "$(factor_rows web1 alice)"
adm host allow web1 ops >/dev/null
on web1 sync >/dev/null 2>&1
check "host allow brings it back" 1 "$(factor_rows web1 alice)"

# 6. A fleet host refuses the admin's totp commands; nothing changes.
out=$(on web1 totp disable alice 2>&1); rc=$?
check "totp disable on a fleet host is refused (77)" 77 "$rc"
check "with the reason" "userdb: this is fleet host 'web1': its store is a copy of the central database; make changes on the admin box (nothing changed)" "$out"
out=$(on db1 totp enroll bob 2>&1); rc=$?
check "totp enroll on a fleet host is refused (77)" "77 0" "$rc $(factor_rows db1 bob)"

# 7. second_factor=enrol on a fleet host enrols nobody: bob (no factor)
# is asked a code he cannot have, refused, and db1 still has no factor.
check "db1: enrol does not enrol bob there; he is refused" refused \
	"$(login db1 enrol bob "$PW" 000000)"
check "db1: no factor was made for bob" 0 "$(factor_rows db1 bob)"
check "db1: bob without second_factor= logs in with his password" ok "$(login db1 login bob "$PW")"

# 8. totp disable on the admin box removes it everywhere.
adm totp disable alice >/dev/null
check "central's row is gone" 0 "$(central "SELECT count(*) FROM userdb.second_factors")"
on web1 sync >/dev/null 2>&1
check "web1's copy is gone" 0 "$(factor_rows web1 alice)"
check "web1: alice logs in with her password alone" ok "$(login web1 login alice "$PW")"
out=$(on web1 sync --verify 2>&1); rc=$?
check "sync --verify finds no drift" "0 " "$rc $(grep -o drift <<<"$out")"
[ "$rc $(grep -o drift <<<"$out")" = "0 " ] || printf '# %s\n' "$out"

echo "1..$n"
[ "$failed" = 0 ]
