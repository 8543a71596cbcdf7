#!/usr/bin/env bash
# Tests of `userdb ssh-key add|del|list`, `userdb ssh-authorized-keys` and
# `userdb-authorized-keys`, run by meson (suite 'cli', TAP output) as
# `test_sshkey.sh PATH/TO/userdb PATH/TO/userdb-authorized-keys`, against a
# fresh database in a temporary directory named by USERDB_CONF. The lookups
# run as `nobody` (setpriv), as sshd runs them, and both programs must give
# the same output and exit status each time; without root those checks are
# skipped.
set -u

USERDB=$(realpath "${1:?usage: test_sshkey.sh PATH/TO/userdb PATH/TO/userdb-authorized-keys}")
HELPER=$(realpath "${2:?usage: test_sshkey.sh PATH/TO/userdb PATH/TO/userdb-authorized-keys}")
export LC_ALL=C
T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-sshkey.XXXXXX") || exit 99
LOCKER=
cleanup() {
	[ -n "$LOCKER" ] && kill "$LOCKER" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
chmod 755 "$T"
DB=$T/db
cat >"$T/userdb.conf" <<CONF
dbdir = $DB
hash_method = sha512
hash_cost = 1000
CONF
chmod 644 "$T/userdb.conf"
export USERDB_CONF=$T/userdb.conf

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
# run ARGS...: sets RC, OUT, ERR (stdin from $INPUT, default empty).
run() {
	"$@" <"${INPUT:-/dev/null}" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
check() { # check DESC EXPECTED_RC EXPECTED_OUT [ERR_REGEX]
	local problems=()
	[ "$RC" = "$2" ] || problems+=("exit $RC, expected $2")
	[ "$OUT" = "$3" ] || problems+=("stdout:" "$OUT" "expected:" "$3")
	if [ -n "${4:-}" ]; then
		[[ $ERR =~ $4 ]] || problems+=("stderr does not match /$4/: $ERR")
	elif [ "$2" = 0 ] && [ -n "$ERR" ]; then
		problems+=("stderr: $ERR")
	fi
	if [ ${#problems[@]} = 0 ]; then ok "$1"; else not_ok "$1" "${problems[@]}"; fi
}
AS_NOBODY=()
if [ "$(id -u)" = 0 ]; then
	AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
# keys USER: both lookups as nobody; RC, OUT, ERR are the tool's, and a
# helper that answers otherwise (output, status, or stderr present or not)
# is a failed check of its own.
keys() {
	local rc out err
	run "${AS_NOBODY[@]}" "$HELPER" "$@"
	rc=$RC out=$OUT err=$ERR
	run "${AS_NOBODY[@]}" "$USERDB" ssh-authorized-keys "$@"
	if [ "$rc" != "$RC" ] || [ "$out" != "$OUT" ] || [ "${err:+1}" != "${ERR:+1}" ]; then
		not_ok "userdb-authorized-keys $* answers as userdb ssh-authorized-keys" \
			"helper: exit $rc, stdout '$out', stderr '$err'" "tool: exit $RC, stdout '$OUT', stderr '$ERR'"
	fi
}

"$USERDB" init >/dev/null && "$USERDB" user add alice >/dev/null 2>&1 &&
	"$USERDB" user add bob >/dev/null 2>&1 || exit 99
for k in ed25519 ecdsa rsa; do
	ssh-keygen -q -t $k -N '' -C "$k@test" -f "$T/$k" || exit 99
done
ED=$(cat "$T/ed25519.pub")
EC=$(cat "$T/ecdsa.pub")
RSA=$(cat "$T/rsa.pub")
fp() { ssh-keygen -lf "$1" | cut -d' ' -f2; }

run "$USERDB" ssh-key add alice "$ED"
check "ssh-key add: one key, its fingerprint as ssh-keygen -l prints it" 0 \
	"added key $(fp "$T/ed25519.pub") to user alice"
INPUT=$T/in
printf '# a comment line\n\n%s\nno-pty,from="10.0.0.0/8" %s\n' "$EC" "$RSA" >"$INPUT"
run "$USERDB" ssh-key add bob - --comment "bob's keys" --until +1d
INPUT=
check "ssh-key add -: lines of stdin, comments and blank lines skipped" 0 "added 2 keys to user bob"
run "$USERDB" --json ssh-key list bob
got=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(k["type"]+"|"+k["fingerprint"]+"|"+k["comment"]+"|"+k["options"]+"|"+str(k["until"] is not None) for k in d))' <"$T/out")
check "ssh-key list --json: type, fingerprint, comment, options, until" 0 "$OUT"
[ "$got" = "ecdsa-sha2-nistp256|$(fp "$T/ecdsa.pub")|bob's keys||True ssh-rsa|$(fp "$T/rsa.pub")|bob's keys|no-pty,from=\"10.0.0.0/8\"|True" ] &&
	ok "ssh-key list --json: the values" || not_ok "ssh-key list --json: the values" "$got"

sum_before=$(sha256sum "$DB/public.db" "$DB/keys.img")
run "$USERDB" ssh-key add alice "$EC" "$ED"
check "ssh-key add: a key the user has is refused, and none of the others is added" 65 "" \
	"already has key SHA256:.*[(]argument 3[)]"
run "$USERDB" ssh-key add alice "$EC" "$EC"
check "ssh-key add: the same key twice is refused" 65 "" "given twice"
run "$USERDB" ssh-key add alice "ssh-rsa ${ED#ssh-ed25519 }"
check "ssh-key add: a blob of another type than stated is refused" 64 "" "another key type"
run "$USERDB" ssh-key add alice "bogus-opt $ED"
check "ssh-key add: an unknown option is refused" 64 "" "unknown option"
run "$USERDB" ssh-key add alice "$ED" --comment $'a\nb'
check "ssh-key add: a comment with a newline is refused" 64 "" "comment"
run "$USERDB" ssh-key add alice "$EC" --until 2001-01-01
check "ssh-key add: an --until in the past is refused" 64 "" "not in the future"
run "$USERDB" ssh-key add nobody1 "$EC"
check "ssh-key add: no such user" 67 "" "no such user"
[ "$sum_before" = "$(sha256sum "$DB/public.db" "$DB/keys.img")" ] &&
	ok "refused adds changed neither the store nor keys.img" ||
	not_ok "refused adds changed neither the store nor keys.img"

if [ ${#AS_NOBODY[@]} = 0 ]; then
	for d in served disabled enabled until expired unknown local badname usage config busy busy2 damaged damaged2 missing rebuilt; do
		n=$((n + 1)); echo "ok $n - # SKIP ssh-authorized-keys as nobody needs root ($d)"
	done
else
	keys alice
	check "ssh-authorized-keys as nobody: the user's key (the store is root's 0600)" 0 "$ED"
	keys bob
	check "ssh-authorized-keys: options and the stored comment" 0 \
		"${EC% *} bob's keys
no-pty,from=\"10.0.0.0/8\" ${RSA% *} bob's keys"
	"$USERDB" user disable alice >/dev/null
	keys alice
	check "ssh-authorized-keys: nothing for a disabled user" 0 ""
	if grep -q alice "$DB/keys.img"; then
		not_ok "the world-readable keys.img does not name a disabled user"
	else
		ok "the world-readable keys.img does not name a disabled user"
	fi
	"$USERDB" user enable alice >/dev/null
	keys alice
	check "ssh-authorized-keys: served again once enabled" 0 "$ED"
	"$USERDB" ssh-key add alice "$EC" --until +2s >/dev/null
	keys alice
	check "ssh-authorized-keys: a key before its --until" 0 "$ED
$EC"
	sleep 2.2
	keys alice
	check "ssh-authorized-keys: a key past its --until is left out, with no write since" 0 "$ED"
	"$USERDB" user expire alice --account +2s >/dev/null
	keys alice
	check "ssh-authorized-keys: before the account's end" 0 "$ED"
	sleep 2.2
	keys alice
	check "ssh-authorized-keys: nothing once the account has expired" 0 ""
	keys nobody1
	check "ssh-authorized-keys: nothing for an unknown user, exit 0" 0 ""
	keys root
	check "ssh-authorized-keys: nothing for a local user, exit 0" 0 ""
	keys 'Not/A Name'
	check "ssh-authorized-keys: nothing for a name userdb could not have, exit 0" 0 ""
	run "${AS_NOBODY[@]}" "$HELPER"
	check "userdb-authorized-keys without a user: usage, exit 64" 64 "" "^usage: "
	run env USERDB_CONF=$T/nonexistent.conf "${AS_NOBODY[@]}" "$HELPER" alice
	check "userdb-authorized-keys with a missing config: nothing, exit 78" 78 "" "serving no keys"
	# The store locked by a writer: the lookup does not wait for it.
	python3 - "$DB/public.db" "$T/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(30)
PY
	LOCKER=$!
	for _ in $(seq 100); do [ -e "$T/locked" ] && break; sleep 0.1; done
	run timeout 3 "${AS_NOBODY[@]}" "$USERDB" ssh-authorized-keys bob
	check "ssh-authorized-keys: answers at once while a writer holds the store" 0 \
		"${EC% *} bob's keys
no-pty,from=\"10.0.0.0/8\" ${RSA% *} bob's keys"
	run timeout 3 "${AS_NOBODY[@]}" "$HELPER" bob
	check "userdb-authorized-keys: the same while the store is held" 0 \
		"${EC% *} bob's keys
no-pty,from=\"10.0.0.0/8\" ${RSA% *} bob's keys"
	kill "$LOCKER"; wait "$LOCKER" 2>/dev/null; LOCKER=
	cp "$DB/keys.img" "$T/keys.good"
	head -c 200 "$T/keys.good" >"$DB/keys.img"
	keys bob
	check "ssh-authorized-keys: a cut keys.img serves nothing, exit 69, one line on stderr" 69 "" \
		"^userdb: ssh-authorized-keys: .*keys.img is damaged: serving no keys$"
	run "${AS_NOBODY[@]}" "$HELPER" bob
	check "userdb-authorized-keys: the same, in its own words" 69 "" \
		"^userdb-authorized-keys: .*keys.img is damaged: serving no keys$"
	rm "$DB/keys.img"
	keys bob
	check "ssh-authorized-keys: no keys.img serves nothing, exit 69" 69 "" "serving no keys"
	"$USERDB" user add carol >/dev/null 2>&1
	keys bob
	check "the next write puts keys.img back" 0 "${EC% *} bob's keys
no-pty,from=\"10.0.0.0/8\" ${RSA% *} bob's keys"
fi

run "$USERDB" ssh-key del bob "$(fp "$T/ecdsa.pub")"
check "ssh-key del: by fingerprint" 0 "removed key $(fp "$T/ecdsa.pub") from user bob"
run "$USERDB" ssh-key del bob "$(fp "$T/ecdsa.pub")"
check "ssh-key del: a key the user does not have is an error" 67 "" "has no key"
run "$USERDB" ssh-key del bob "MD5:aa"
check "ssh-key del: not a fingerprint" 64 "" "not a fingerprint"
run "$USERDB" ssh-key list bob
[[ $OUT == "ssh-rsa $(fp "$T/rsa.pub") bob's keys"$'\n'"  added "*", until "*", options no-pty,from=\"10.0.0.0/8\"" ]] &&
	ok "ssh-key list: type, fingerprint, comment, added, until, options" ||
	not_ok "ssh-key list: type, fingerprint, comment, added, until, options" "$OUT"
"$USERDB" user del bob >/dev/null
if [ ${#AS_NOBODY[@]} != 0 ]; then
	keys bob
	check "ssh-authorized-keys: nothing for a deleted user" 0 ""
fi

echo "1..$n"
[ "$failed" = 0 ]
