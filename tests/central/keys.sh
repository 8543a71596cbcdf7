#!/bin/bash
# Fleet mode's SSH keys (issue 14) against a private PostgreSQL
# (tests/central/pg.sh): a key added on the admin box with `userdb ssh-key
# add` is in central's userdb.ssh_keys in the same run, reaches every
# host's keys.img with its next `userdb sync` (userdb-authorized-keys,
# what sshd's AuthorizedKeysCommand runs, prints it there), and a key
# removed, or its user deleted, leaves every host; a fleet host refuses
# `ssh-key add/del` (exit 77, nothing changed), since its keys are
# central's. Root only (PostgreSQL runs as `postgres`).
#
# Run by meson (suite central) as `keys.sh USERDB`.
set -u
USERDB=$(realpath "$1")
AUTHKEYS=$(dirname "$USERDB")/userdb-authorized-keys
HERE=$(dirname "$(realpath "$0")")
export LC_ALL=C
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (PostgreSQL runs as postgres)"; exit 77; }
command -v ssh-keygen >/dev/null || { echo "1..0 # SKIP ssh-keygen not installed"; exit 77; }
. "$HERE/pg.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-keys.XXXXXX") || exit 99
chmod 755 "$T"
cleanup() {
	pg_stop
	rm -rf "$T"
}
pg_start
trap cleanup EXIT

. "$HERE/tap.sh"
central() { pg_super_psql -c "$1"; }

# The admin box: central init, two roles, alice (ops) and bob (dev).
# Ids far from any running process's uid: user del refuses a user whose
# uid runs a process (on this machine, any test's).
printf 'dbdir = %s/admin-db\nhash_method = sha512\nhash_cost = 1000\nuid_min = 71000\nuid_max = 71999\ngid_min = 71000\ngid_max = 71999\ncentral = %s\n' \
	"$T" "$PG_CONNINFO" >"$T/admin.conf"
adm() { "$USERDB" --config "$T/admin.conf" "$@"; }
adm init >/dev/null || exit 99
adm central init >/dev/null || exit 99
adm role add ops >/dev/null || exit 99
adm role add dev >/dev/null || exit 99
printf 'pw alice 1\n' | adm user add alice --role ops --password-stdin >/dev/null 2>&1 || exit 99
adm user add bob --role dev >/dev/null || exit 99

# Two hosts: web1 allows ops, db1 allows dev. Each has its own store.
host_conf() { # host_conf NAME ROLE: enrols NAME, writes $T/NAME.conf, inits its store
	adm --json host add "$1" --allow-role "$2" --passfile "$T/$1.pgpass" >"$T/$1.json" || exit 99
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(o["config"]); open(sys.argv[3],"w").write(o["passfile_line"] + "\n")' \
		"$T/$1.json" "$T/$1.lines" "$T/$1.pgpass.line" || exit 99
	install -m 0600 "$T/$1.pgpass.line" "$T/$1.pgpass"
	{ echo "dbdir = $T/$1-db"; cat "$T/$1.lines"; } >"$T/$1.conf"
	"$USERDB" --config "$T/$1.conf" init >/dev/null || exit 99
}
host_conf web1 ops
host_conf db1 dev
on() { local h=$1; shift; "$USERDB" --config "$T/$h.conf" "$@"; }
keys_on() { USERDB_CONF=$T/$1.conf "$AUTHKEYS" "$2"; }
sync_all() { on web1 sync >/dev/null 2>&1 && on db1 sync >/dev/null 2>&1; }
sync_all || { echo "Bail out! first sync failed"; exit 99; }

ssh-keygen -q -t ed25519 -N '' -C alice@laptop -f "$T/alice_key" || exit 99
ssh-keygen -q -t ed25519 -N '' -C bob@laptop -f "$T/bob_key" || exit 99
alice_pub=$(cat "$T/alice_key.pub")
fp=$(ssh-keygen -l -E sha256 -f "$T/alice_key.pub" | cut -d' ' -f2)

# 1. ssh-key add on the admin box: central has it in the same run.
out=$(adm ssh-key add alice "$alice_pub" 2>&1); rc=$?
check "ssh-key add on the admin box exits 0" 0 "$rc"
check "central's userdb.ssh_keys holds the key" "alice|$fp|alice@laptop" \
	"$(central "SELECT u.username, k.fingerprint, k.comment FROM userdb.ssh_keys k JOIN userdb.users u ON u.id = k.user_id")"
check "central's revision is the mirror's" \
	"$(central 'SELECT rev FROM userdb.state')" \
	"$(sqlite3 "file:$T/admin-db/public.db?mode=ro" "SELECT value FROM meta WHERE key = 'central_rev'")"
check "before a sync, web1 serves no key for alice" "" "$(keys_on web1 alice 2>&1)"

# 2. The next sync brings it to every host's keys.img.
sync_all
check "after a sync web1 serves alice's key (AuthorizedKeysCommand)" "$alice_pub" \
	"$(keys_on web1 alice)"
check "db1 (where alice's roles are not allowed) has the key too: keys are public" \
	"$alice_pub" "$(keys_on db1 alice)"
check "web1 lists it like the admin box does" "$(adm ssh-key list alice)" "$(on web1 ssh-key list alice)"

# 3. A fleet host's keys are central's: ssh-key add and del are refused there.
before=$(keys_on web1 alice)
out=$(on web1 ssh-key add bob "$(cat "$T/bob_key.pub")" 2>&1); rc=$?
check "ssh-key add on a fleet host is refused (77)" 77 "$rc"
check "with the reason" "userdb: this is fleet host 'web1': its store is a copy of the central database; make changes on the admin box (nothing changed)" "$out"
out=$(on web1 ssh-key del alice "$fp" 2>&1); rc=$?
check "ssh-key del on a fleet host is refused (77)" 77 "$rc"
check "nothing changed on the host" "$before|" "$(keys_on web1 alice)|$(keys_on web1 bob)"

# 4. --until and a second key travel too; del removes one key everywhere.
adm ssh-key add bob --until 2099-01-01 "$(cat "$T/bob_key.pub")" >/dev/null 2>&1
check "a key with --until reaches central" "2099-01-01" \
	"$(central "SELECT to_char(to_timestamp(until) AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM userdb.ssh_keys k JOIN userdb.users u ON u.id = k.user_id WHERE u.username = 'bob'")"
adm ssh-key del alice "$fp" >/dev/null
check "ssh-key del on the admin box removes the central row" 0 \
	"$(central "SELECT count(*) FROM userdb.ssh_keys k JOIN userdb.users u ON u.id = k.user_id WHERE u.username = 'alice'")"
sync_all
check "after a sync web1 serves no key for alice" "" "$(keys_on web1 alice)"
check "nor does db1" "" "$(keys_on db1 alice)"
check "bob's key is on db1" "$(cat "$T/bob_key.pub")" "$(keys_on db1 bob)"

# 5. A user deleted on the admin box takes his keys with him, on every host.
out=$(adm user del bob 2>&1) || echo "# user del: $out"
check "the central key row went with the user" 0 "$(central "SELECT count(*) FROM userdb.ssh_keys")"
sync_all
out=$(keys_on db1 bob 2>&1)
check "db1 no longer serves bob's key" "" "$out"

# 6. A host that copies in full (behind central's kept history) gets the keys too.
adm ssh-key add alice "$alice_pub" >/dev/null
central "UPDATE userdb.state SET min_rev = rev"
out=$(on web1 sync 2>&1)
check "a full resync" "(full)" "$(grep -o '(full)' <<<"$out")"
check "brings the key" "$alice_pub" "$(keys_on web1 alice)"
out=$(on web1 sync --verify 2>&1); rc=$?
check "sync --verify finds no drift in the keys" "0 " "$rc $(grep -o drift <<<"$out")"

echo "1..$n"
[ "$failed" = 0 ]
