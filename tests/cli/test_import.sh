#!/usr/bin/env bash
# Tests of `userdb import --from-system` and of --password-hash-stdin on
# `user add` and `user passwd`, run by meson (suite 'cli', TAP output) as
# `test_import.sh PATH/TO/userdb`. The system files come from a copy under
# a temporary root (--root), the database is a temporary one named by
# USERDB_CONF; nothing outside the temporary directory is touched. Logins
# with imported hashes are tested for real in tests/e2e/import.sh.
set -u

USERDB=$(realpath "${1:?usage: test_import.sh PATH/TO/userdb}")
export LC_ALL=C PYTHONWARNINGS=ignore
T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-import.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
cat >"$T/conf" <<EOF
dbdir = $T/db
hash_method = sha512
hash_cost = 1000
EOF
chmod 644 "$T/conf"
export USERDB_CONF=$T/conf

n=0
failed=0
check() { # DESCRIPTION CONDITION-STATUS [DETAIL]
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
		printf '%s\n' "${3:-}" | sed 's/^/#   /'
	fi
}
run() { # ARGS...: stdin from $INPUT; sets RC, OUT, ERR
	"$USERDB" "$@" <"${INPUT:-/dev/null}" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
expect() { # DESCRIPTION RC REGEX(stdout+stderr) ARGS...
	local d=$1 want=$2 re=$3
	shift 3
	run "$@"
	[ "$RC" = "$want" ] && printf '%s\n%s\n' "$OUT" "$ERR" | grep -Eq -- "$re"
	check "$d" $? "exit $RC (want $want), stdout: $OUT, stderr: $ERR"
}
# The database's content, read from copies so sqlite3 never touches it.
dump() {
	local f
	rm -rf "$T/copy" && mkdir "$T/copy"
	for f in public shadow; do
		cp "$T/db/$f.db" "$T/copy/" && cp "$T/db/$f.db-wal" "$T/copy/" 2>/dev/null
		sqlite3 "$T/copy/$f.db" .dump
	done
}
stored_hash() { # USER
	rm -rf "$T/copy" && mkdir "$T/copy"
	cp "$T/db/shadow.db" "$T/copy/" && cp "$T/db/shadow.db-wal" "$T/copy/" 2>/dev/null
	sqlite3 "$T/copy/shadow.db" "SELECT password_hash FROM accounts WHERE user_id = \
		(SELECT user_id FROM account_names WHERE username = '$1')"
}
json_get() { # PYTHON-EXPRESSION over d, the JSON of $OUT
	python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1" <<<"$OUT"
}

"$USERDB" init >/dev/null || exit 99
H6=$(python3 -c 'import crypt; print(crypt.crypt("secret six", "$6$saltsalt$"))')
HY=$(python3 -c 'import crypt; print(crypt.crypt("secret y", "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$"))')
case $HY in '$y$'*) ;; *) echo "Bail out! no yescrypt in crypt(3)"; exit 99 ;; esac

# --- --password-hash-stdin -------------------------------------------------
printf '%s\n' "$H6" >"$T/h6"
printf '%s\r\n' "$HY" >"$T/hy_crlf"
INPUT=$T/h6 expect "user add --password-hash-stdin" 0 '^added user hash1' \
	user add hash1 --password-hash-stdin
check "the hash is stored as given" "$([ "$(stored_hash hash1)" = "$H6" ]; echo $?)" \
	"stored: $(stored_hash hash1)"
run --json user show hash1
check "with its change time set" "$(json_get 'd["account"]["password_changed_at"] is not None'\
	| grep -qx True; echo $?)" "$OUT"
INPUT=$T/hy_crlf expect "user passwd --password-hash-stdin (CRLF line)" 0 \
	'^changed the password of user hash1' user passwd hash1 --password-hash-stdin
check "the yescrypt hash replaced it, without the \\r" \
	"$([ "$(stored_hash hash1)" = "$HY" ]; echo $?)" "stored: $(stored_hash hash1)"
before=$(dump)
for bad in '' '*' '!' "!$H6" 'plain' 'ab01FAX.bQRSU' '$6$' '$6$salt$' '$6$salt$a:b' \
	"$H6"$'\x01' '$6$salt$ab cd' '$nosuch$salt$abcd'; do
	printf '%s\n' "$bad" >"$T/bad"
	INPUT=$T/bad expect "user passwd refuses the hash '$(printf %q "$bad")'" 64 \
		'password hash: not a hash' user passwd hash1 --password-hash-stdin
	INPUT=$T/bad expect "user add refuses the hash '$(printf %q "$bad")'" 64 \
		'password hash: not a hash' user add hash2 --password-hash-stdin
done
INPUT=$T/h6 expect "--password-stdin and --password-hash-stdin together are refused" 64 \
	'exclude each other' user add hash2 --password-stdin --password-hash-stdin
check "refused hashes changed nothing" "$([ "$(dump)" = "$before" ]; echo $?)"

# --- import --from-system --------------------------------------------------
R=$T/root
mkdir -p "$R/etc"
cat >"$R/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/bash
alice:x:10001:10001:Alice Liddell,Room 1,,:/home/alice:/bin/bash
bob:x:10002:10100:Bob:/home/bob:/bin/sh
carol:x:10003:10003::/home/carol:/usr/sbin/nologin
old:x:1000:1000:Outside the range:/home/old:/bin/bash
EOF
cat >"$R/etc/shadow" <<EOF
root:*:19000:0:99999:7:::
alice:$H6:19500:0:99999:7:::
bob:$HY:0::::::
carol:!$H6:19600:1:90:7:30:21000:
old:$H6:19000:0:99999:7:::
EOF
cat >"$R/etc/group" <<EOF
root:x:0:
sudo:x:27:alice,old
old:x:1000:
alice:x:10001:
carol:x:10003:
dev:x:10100:alice,bob
unrelated:x:10200:
EOF
cat >"$R/etc/gshadow" <<EOF
dev:!::alice,bob,carol
EOF
before=$(dump)
expect "import --dry-run lists what it would do" 0 \
	'would import 3 users and 1 role \(dry run' import --from-system --root "$R" --dry-run
printf '%s\n' "$OUT" | grep -qx 'would import role dev (gid 10100), members: alice, bob, carol'
check "dry run: the role with gshadow's members too" $? "$OUT"
printf '%s\n' "$OUT" | grep -q 'note: user alice stays a member of group sudo (gid 27'
check "dry run: a group outside the gid range is named as left in the files" $? "$OUT"
check "dry run changed nothing" "$([ "$(dump)" = "$before" ]; echo $?)"
run user show alice
check "dry run created no user" "$([ "$RC" = 67 ]; echo $?)" "$RC $OUT $ERR"

expect "import creates users and roles" 0 '^imported 3 users and 1 role$' \
	import --from-system --root "$R"
run --json user show alice
check "alice: uid, personal group, names from the GECOS, home, shell" "$(json_get \
	'(d["uid"], d["gid"], d["primary_role"], d["first_name"], d["last_name"], d["home"], d["shell"])' |
	grep -qxF "(10001, 10001, None, 'Alice', 'Liddell', '/home/alice', '/bin/bash')"; echo $?)" "$OUT"
check "alice: hash as in shadow, changed on day 19500, aging as in shadow" "$(json_get \
	'(d["account"]["password_changed_at"], d["account"]["min_days"], d["account"]["max_days"], d["account"]["warn_days"], d["account"]["inactive_days"], d["account"]["enabled"])' |
	grep -qxF "('2023-05-23T00:00:00Z', 0, 99999, 7, None, True)" &&
	[ "$(stored_hash alice)" = "$H6" ]; echo $?)" "$OUT"
check "alice: the group dev as a role grant" "$(json_get '[g["role"] for g in d["grants"]]' |
	grep -qxF "['dev']"; echo $?)" "$OUT"
run --json user show bob
check "bob: primary group dev becomes his primary role; lstchg 0 forces a change" "$(json_get \
	'(d["gid"], d["primary_role"], d["account"]["must_change_password"])' |
	grep -qxF "(10100, 'dev', True)" && [ "$(stored_hash bob)" = "$HY" ]; echo $?)" "$OUT"
run --json user show carol
check "carol: '!hash' imports disabled with the hash; expiry day 21000 is the validity end" \
	"$(json_get '(d["account"]["enabled"], d["account"]["not_after"], d["account"]["max_days"], d["account"]["inactive_days"])' |
	grep -qxF "(False, '2027-07-01T00:00:00Z', 90, 30)" && [ "$(stored_hash carol)" = "$H6" ]
	echo $?)" "$OUT"
run --json role show dev
check "role dev: gid 10100, members alice, bob, carol" "$(json_get '(d["gid"], sorted(d["members"]))' |
	grep -qxF "(10100, ['alice', 'bob', 'carol'])"; echo $?)" "$OUT"
for x in "user show old" "role show unrelated" "role show sudo"; do
	run $x
	check "not imported: $x (outside the uid range, or no imported member)" \
		"$([ "$RC" = 67 ]; echo $?)" "$RC $OUT $ERR"
done

before=$(dump)
expect "a second import refuses every clash, listed" 65 'conflict: user alice: the name is already' \
	import --from-system --root "$R"
printf '%s\n' "$OUT" | grep -q 'conflict: group dev: the name is already a userdb user or role'
check "the list names the role too" $? "$OUT"
printf '%s\n' "$ERR" | grep -qx 'userdb: import: 4 conflicts, nothing was imported (the conflicts are listed on stdout)'
check "one error line on stderr" $? "$ERR"

# A conflict anywhere refuses the whole import.
cat >>"$R/etc/passwd" <<EOF
dave:x:10004:10004:Dave:/home/dave:/bin/bash
erin:x:10005:10005:Erin:/home/erin:/bin/bash
EOF
printf 'dave:%s:19500:0:99999:7:::\nerin:%s:19500:0:99999:7:::\n' "$H6" "$H6" >>"$R/etc/shadow"
printf 'dave:x:10400:\nops:x:10300:erin,mallory\n' >>"$R/etc/group"
expect "dave and erin alone: still refused as a whole" 65 \
	'group dave: the personal group of user dave has gid 10400, not the uid 10004' \
	import --from-system --root "$R" --min-uid 10004
printf '%s\n' "$OUT" | grep -q 'conflict: group ops: member mallory is not among the imported users'
check "a member that is not imported is a conflict" $? "$OUT"
check "nothing of a refused import was written" "$([ "$(dump)" = "$before" ]; echo $?)"
run --json import --from-system --root "$R" --min-uid 10004 --dry-run
check "--json: one object with the conflicts" "$(json_get '(d["changed"], d["dry_run"], len(d["conflicts"]))' |
	grep -qxF "(False, True, 2)"; echo $?)" "$OUT"

# Names and ids that the host's own sources give to other accounts.
R2=$T/root2
mkdir -p "$R2/etc"
printf 'nobody:x:10050:10050::/home/n:/bin/sh\nfrank:x:10051:10051::/home/f:/bin/sh\n' \
	>"$R2/etc/passwd"
printf 'nobody:%s:19500::::::\nfrank:%s:19500::::::\n' "$H6" "$H6" >"$R2/etc/shadow"
printf 'nobody:x:10050:\nfrank:x:10051:\nsudo:x:10060:frank\n' >"$R2/etc/group"
if getent passwd nobody >/dev/null && getent group sudo >/dev/null; then
	expect "a name another source gives another uid is a conflict" 65 \
		'conflict: user nobody: another account has this name or uid 10050' \
		import --from-system --root "$R2"
	printf '%s\n' "$OUT" | grep -q 'conflict: group sudo: another group has this name or gid 10060'
	check "a group name another source has with another gid is a conflict" $? "$OUT"
else
	echo "ok $((n += 1)) - # SKIP the host has no user nobody or group sudo"
fi

expect "--min-uid above --max-uid" 64 'above --max-uid' import --from-system --root "$R" --min-uid 5 --max-uid 4
expect "without --from-system" 64 'from-system' import --root "$R"
expect "a uid outside uid_min..uid_max is refused" 65 'uid 1000 is outside uid_min..uid_max' \
	import --from-system --root "$R" --min-uid 1000 --max-uid 1000
expect "a root without the files" 74 "cannot read '$T/nosuch/etc/passwd'" \
	import --from-system --root "$T/nosuch"
check "the refusals changed nothing" "$([ "$(dump)" = "$before" ]; echo $?)"

echo "1..$n"
[ "$failed" = 0 ]
