#!/bin/bash
# userdb backup, restore and check (suite cli, TAP), against a temporary
# database: backups taken while another process keeps adding users are
# pairs of one moment (every user of the public file has its account in the
# shadow file, and the other way round) and check clean; a restore brings
# back exactly the backup's users and leaves a store that checks clean,
# whose freed ids are still not handed out again; files of two moments or
# of two databases, and a damaged file, are reported with what to do, and a
# restore of them is refused with nothing changed.
#
#   test_backup.sh USERDB
set -u

USERDB=$(realpath "${1:?usage: test_backup.sh PATH/TO/userdb}")
export LC_ALL=C
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP needs sqlite3"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-backup.XXXXXX") || exit 99
writer=
cleanup() {
	[ -n "$writer" ] && kill "$writer" 2>/dev/null && wait "$writer" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
printf 'dbdir = %s/db\nhash_method = sha512\nhash_cost = 1000\n' "$T" >"$T/conf"
export USERDB_CONF=$T/conf

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
q() { sqlite3 "$1" "$2"; } # FILE SQL (a backup is a plain file)
dump() { # the live store's rows, read from copies
	rm -rf "$T/copy" && mkdir "$T/copy"
	for f in public shadow; do
		cp "$T/db/$f.db" "$T/copy/" && cp "$T/db/$f.db-wal" "$T/copy/" 2>/dev/null
		sqlite3 "$T/copy/$f.db" .dump
	done
}

"$USERDB" init >/dev/null && "$USERDB" role add crew >/dev/null || { echo "Bail out! setup"; exit 1; }

# A writer: users with a grant and an email, one after the other, each a
# change of both files.
(
	i=0
	while [ ! -e "$T/stop" ]; do
		i=$((i + 1))
		"$USERDB" user add "w$i" --role crew --email "w$i@example.com" >/dev/null 2>&1
	done
) &
writer=$!
sleep 1
for b in 1 2 3; do
	out=$("$USERDB" backup "$T/b$b" 2>&1)
	check "backup $b while a writer runs: exit 0" $? "$out"
	sleep 0.5
done
touch "$T/stop"
wait "$writer"
writer=

for b in 1 2 3; do
	users=$(q "$T/b$b/public.db" "SELECT count(*) FROM users")
	accounts=$(q "$T/b$b/shadow.db" "SELECT count(*) FROM accounts")
	names=$(q "$T/b$b/shadow.db" "SELECT count(*) FROM account_names")
	check "backup $b: $users users, as many accounts and names (one moment of both files)" \
		"$([ "$users" -gt 0 ] && [ "$users" = "$accounts" ] && [ "$users" = "$names" ]; echo $?)" \
		"users $users, accounts $accounts, names $names"
	out=$("$USERDB" check "$T/b$b")
	check "backup $b: check DIR is clean (exit 0)" $? "$out"
	check "backup $b: only the two files, 0600 in a 0700 directory" \
		"$([ "$(cd "$T/b$b" && stat -c '%n %a' * | tr '\n' ' ')" = "public.db 600 shadow.db 600 " ] &&
			[ "$(stat -c %a "$T/b$b")" = 700 ]; echo $?)" "$(ls -la "$T/b$b")"
done
before=$(q "$T/b2/public.db" "SELECT count(*) FROM users")
after=$(q "$T/b3/public.db" "SELECT count(*) FROM users")
check "the writer added users between backups 2 and 3 (the test saw writes)" \
	"$([ "$after" -gt "$before" ]; echo $?)" "$before, $after"

out=$("$USERDB" check)
check "check of the live store: clean, exit 0" $? "$out"
check "check says why it is sound" "$(grep -q 'is sound: both files pass integrity_check' <<<"$out"; echo $?)" "$out"

# Restore backup 2 over the live store.
high=$("$USERDB" --json user list | python3 -c 'import json,sys; print(max(u["uid"] for u in json.load(sys.stdin)))')
out=$("$USERDB" restore "$T/b2" 2>&1)
check "restore: exit 0" $? "$out"
want=$(q "$T/b2/public.db" "SELECT username FROM users ORDER BY username")
got=$("$USERDB" --json user list | python3 -c 'import json,sys; print("\n".join(sorted(u["username"] for u in json.load(sys.stdin))))')
check "restore: exactly the backup's users" "$([ "$want" = "$got" ]; echo $?)" \
	"want $(wc -l <<<"$want"), got $(wc -l <<<"$got")"
last=$(tail -n 1 <<<"$want")
out=$("$USERDB" --json user show "$last")
check "restore: a restored user has its grant and email" \
	"$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["emails"][0]["address"].startswith(d["username"]) and any(r["name"] == "crew" for r in d["roles"])))' "$out"; echo $?)" "$out"
out=$("$USERDB" check)
check "restore: the store checks clean (images republished)" $? "$out"
out=$("$USERDB" --json user add newcomer)
uid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["uid"])' "$out")
check "restore: a new user's uid is above every uid used before the restore" \
	"$([ "$uid" -gt "$high" ]; echo $?)" "new $uid, highest before $high"
check "restore: it is in the audit trail" \
	"$("$USERDB" log | tail -n 2 | grep -q "restore: restored $T/db from the backup in $T/b2"; echo $?)"

# Files of two moments, of two databases, damaged.
mkdir "$T/mixed" && cp "$T/b1/public.db" "$T/mixed/" && cp "$T/b3/shadow.db" "$T/mixed/"
out=$("$USERDB" check "$T/mixed")
rc=$?
check "two moments: check exits 1" "$([ $rc = 1 ]; echo $?)" "exit $rc: $out"
check "two moments: the problem and what to do" \
	"$(grep -q '^problem: generations apart: shadow.db generation [0-9]*, public.db [0-9]*' <<<"$out" &&
		grep -q 'what to do: the two files are from different times' <<<"$out"; echo $?)" "$out"
out=$("$USERDB" --json check "$T/mixed")
check "two moments: --json gives the problem and advice" \
	"$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["ok"] is False and d["problems"][0]["problem"] == "generations apart" and d["problems"][0]["advice"]))' "$out"; echo $?)" "$out"
dumped=$(dump)
out=$("$USERDB" restore "$T/mixed" 2>&1)
rc=$?
check "two moments: restore refused (exit 64)" "$([ $rc = 64 ]; echo $?)" "exit $rc: $out"
check "two moments: restore changed nothing" "$([ "$(dump)" = "$dumped" ]; echo $?)"

mkdir "$T/other"
printf 'dbdir = %s/other/db\nhash_method = sha512\nhash_cost = 1000\n' "$T" >"$T/conf2"
USERDB_CONF=$T/conf2 "$USERDB" init >/dev/null
USERDB_CONF=$T/conf2 "$USERDB" backup "$T/other/b" >/dev/null
mkdir "$T/foreign" && cp "$T/b1/public.db" "$T/foreign/" && cp "$T/other/b/shadow.db" "$T/foreign/"
out=$("$USERDB" check "$T/foreign")
check "two databases: reported as not a pair, with what to do" \
	"$([ $? = 1 ] && grep -q '^problem: not a pair' <<<"$out" &&
		grep -q 'belong to two different databases' <<<"$out"; echo $?)" "$out"

mkdir "$T/damaged" && cp "$T/b3/public.db" "$T/b3/shadow.db" "$T/damaged/"
size=$(stat -c %s "$T/damaged/public.db")
dd if=/dev/urandom of="$T/damaged/public.db" bs=1 seek=$((size / 2)) count=4096 conv=notrunc 2>/dev/null
out=$("$USERDB" check "$T/damaged")
check "a damaged file: reported, exit 1, with what to do" \
	"$([ $? = 1 ] && grep -Eq '^problem: (damaged|missing|not userdb): ' <<<"$out" &&
		grep -q 'what to do: ' <<<"$out"; echo $?)" "$out"
rm "$T/damaged/shadow.db"
out=$("$USERDB" check "$T/damaged")
check "a missing file: reported, exit 1" \
	"$([ $? = 1 ] && grep -q '^problem: missing: shadow.db' <<<"$out"; echo $?)" "$out"

out=$("$USERDB" backup "$T/b1" 2>&1)
rc=$?
check "backup into an existing directory: refused (exit 65)" \
	"$([ $rc = 65 ] && grep -q 'already exists' <<<"$out"; echo $?)" "exit $rc: $out"
out=$("$USERDB" backup relative/dir 2>&1)
check "backup to a relative path: refused (exit 64)" "$([ $? = 64 ]; echo $?)" "$out"

echo "1..$n"
[ "$failed" = 0 ]
