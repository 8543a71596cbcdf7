#!/bin/bash
# userdb export and import FILE.json (suite cli, TAP): a database with every
# kind of record (roles with permissions and inclusion, users with emails,
# timed grants, account state, a password, an ssh key, a second factor when
# oathtool is there) exported with --with-secrets and imported into an empty
# dbdir gives the same `userdb --json user show` and `role show` for every
# record and the same password hashes; without --with-secrets no hash
# leaves; an import into a store that has users, or of a document that is
# not an export of this version, is refused with nothing changed.
#
#   test_export.sh USERDB
set -u
USERDB=$(realpath "${1:?usage: test_export.sh PATH/TO/userdb}")
export LC_ALL=C
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP needs sqlite3"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-export.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
for d in a b c; do
	printf 'dbdir = %s/%s\nhash_method = sha512\nhash_cost = 1000\n' "$T" "$d" >"$T/$d.conf"
done
A() { USERDB_CONF=$T/a.conf "$USERDB" "$@"; }
B() { USERDB_CONF=$T/b.conf "$USERDB" "$@"; }
C() { USERDB_CONF=$T/c.conf "$USERDB" "$@"; }
n=0
failed=0
check() { # DESCRIPTION STATUS [DETAIL]
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
		printf '%s\n' "${3:-}" | sed 's/^/#   /'
	fi
}
setup() { "$@" >/dev/null 2>&1 || { echo "Bail out! setup: $*"; exit 1; }; }
hashes() { # DIR: the stored hashes, by user name, read from a copy
	rm -rf "$T/copy" && mkdir "$T/copy"
	cp "$1/shadow.db" "$T/copy/" && cp "$1/shadow.db-wal" "$T/copy/" 2>/dev/null
	sqlite3 "$T/copy/shadow.db" "SELECT n.username, a.password_hash FROM accounts a JOIN \
		account_names n USING (user_id) ORDER BY 1"
}

setup A init
setup A role add user --description "Regular user" --permission ssh:login
setup A role add moderator --includes user --permission forum:moderate
setup A role add admin --includes moderator --permission sudo:all --gid 10100
printf 'alice password\n' | setup A user add alice --first-name Alice --last-name Liddell \
	--email alice@example.com --email alice@wonderland.example --role admin --password-stdin
setup A user add bob --primary-role user --shell /bin/sh --home /srv/bob
setup A email confirm alice alice@wonderland.example
setup A email primary alice alice@wonderland.example
setup A grant bob moderator --from 2020-01-01 --until 2031-06-01T12:00
setup A grant bob admin --from 2035-01-01
setup A user disable bob
setup A user expire alice --account 2032-01-01 --min-days 1 --max-days 90 --warn-days 7 --inactive-days 14
setup A user add carol
setup A user lock-password alice
setup A user unlock-password alice
ssh-keygen -q -t ed25519 -N '' -C carol@laptop -f "$T/key" && setup A ssh-key add carol "$(cat "$T/key.pub")"
if command -v oathtool >/dev/null; then
	key=$(A totp enroll carol | sed -n 's/^key: *//p')
	setup A totp confirm carol "$(oathtool --totp -b "$key")"
fi

A export --with-secrets >"$T/full.json"
check "export --with-secrets: exit 0" $?
check "the document says its format and version" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["format"] == "userdb-export" and d["version"] == 1 and d["with_secrets"] is True))' "$T/full.json"; echo $?)"
setup B init
out=$(B import "$T/full.json" 2>&1)
check "import FILE.json into an empty dbdir: exit 0" $? "$out"
for u in alice bob carol; do
	a=$(A --json user show "$u")
	b=$(B --json user show "$u")
	check "user show $u is the same after the round trip" "$([ "$a" = "$b" ]; echo $?)" "$a" "$b"
done
for r in user moderator admin; do
	a=$(A --json role show "$r")
	b=$(B --json role show "$r")
	check "role show $r is the same after the round trip" "$([ "$a" = "$b" ]; echo $?)" "$a" "$b"
done
a=$(A --json user list)
b=$(B --json user list)
check "user list is the same" "$([ "$a" = "$b" ]; echo $?)"
check "the password hashes came along" "$([ "$(hashes "$T/a")" = "$(hashes "$T/b")" ]; echo $?)"
a=$(A ssh-key list carol)
b=$(B ssh-key list carol)
check "carol's ssh key came along" "$([ -n "$a" ] && [ "$a" = "$b" ]; echo $?)" "$a" "$b"
if command -v oathtool >/dev/null; then
	a=$(A --json totp status carol)
	b=$(B --json totp status carol)
	check "carol's second factor came along" "$([ "$a" = "$b" ]; echo $?)" "$a" "$b"
fi
out=$(B check)
check "the imported store checks clean (images built)" $? "$out"
out=$(B --json user add dave)
uid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["uid"])' "$out")
check "a new user after the import gets a uid above the imported ones" \
	"$([ "$uid" -gt 10100 ]; echo $?)" "$uid"

A export >"$T/plain.json"
check "export without --with-secrets: no password hash, no second factor" \
	"$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = d["tables"]
sys.exit(not (d["with_secrets"] is False and "second_factors" not in t and
    all(a["password_hash"] is None for a in t["accounts"])))' "$T/plain.json"; echo $?)"
check "and no hash text in the file" "$(! grep -q '\$6\$' "$T/plain.json"; echo $?)"

before=$(B --json user list)
out=$(B import "$T/full.json" 2>&1)
rc=$?
check "import into a store with users: refused (exit 65)" \
	"$([ $rc = 65 ] && grep -q 'already has users or roles' <<<"$out"; echo $?)" "exit $rc: $out"
check "and nothing changed" "$([ "$(B --json user list)" = "$before" ]; echo $?)"

setup C init
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["tables"]["users"][0]["no_such_column"] = 1
json.dump(d, open(sys.argv[2], "w"))' "$T/full.json" "$T/badcol.json"
out=$(C import "$T/badcol.json" 2>&1)
rc=$?
check "a row with an unknown column: refused (exit 64)" "$([ $rc = 64 ]; echo $?)" "exit $rc: $out"
check "and the import left nothing behind" "$([ "$(C --json user list)" = "[]" ]; echo $?)" "$(C user list)"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["version"] = 2
json.dump(d, open(sys.argv[2], "w"))' "$T/full.json" "$T/v2.json"
out=$(C import "$T/v2.json" 2>&1)
check "another format version: refused (exit 64)" \
	"$([ $? = 64 ] && grep -q 'format version 2' <<<"$out"; echo $?)" "$out"
echo '{"hello": 1}' >"$T/other.json"
out=$(C import "$T/other.json" 2>&1)
check "a JSON document that is not an export: refused (exit 64)" "$([ $? = 64 ]; echo $?)" "$out"

echo "1..$n"
[ "$failed" = 0 ]
