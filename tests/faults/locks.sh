#!/bin/sh
# An unprivileged user cannot make a write wait (suite faults, TAP; needs
# root, skipped otherwise): as nobody, the probe opens the database
# directory and every file in it that nobody can open, takes a read lock on
# every byte of each and keeps them; meanwhile every kind of admin change
# (user add, grant, revoke, user disable, user unlock) and a failed login
# through pam_userdb must each complete within a second, and the failure
# must be counted. With a store nobody can open (0600, see README
# "Decisions") the locks land on the images and the directory only.
#
#   locks.sh USERDB PAM_MODULE PROBE
set -u

userdb=$(realpath "$1")
pam=$(realpath "$2")
probe=$(realpath "$3")

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root to run the probe as nobody"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-locks-XXXXXX") || exit 99
chmod 755 "$T"
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$T"' EXIT

printf 'dbdir = %s/db\nhash_method = sha512crypt\nhash_cost = 1000\n' "$T" >"$T/userdb.conf"
chmod 644 "$T/userdb.conf"
export USERDB_CONF="$T/userdb.conf"
mkdir "$T/pam"
for phase in auth account password session; do
	echo "$phase required $pam conf=$USERDB_CONF nodelay"
done >"$T/pam/login"
{
	"$userdb" init &&
		"$userdb" role add crew --gid 40100 &&
		"$userdb" role add ops --gid 40101 &&
		printf 'alice password\n' |
		"$userdb" user add alice --uid 20001 --role crew --password-stdin
} >"$T/setup" 2>&1 || { echo "Bail out! setup failed: $(cat "$T/setup")"; exit 1; }

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

# The holder: its output file is opened by this (root) shell.
setpriv --reuid=65534 --regid=65534 --clear-groups -- "$probe" hold "$T/db" >"$T/held" &
holder=$!
for _ in $(seq 100); do
	grep -qx held "$T/held" && break
	sleep 0.1
done
if grep -qx held "$T/held"; then
	ok "nobody holds read locks on: $(grep ' locked$' "$T/held" | cut -d' ' -f1 | tr '\n' ' ')"
else
	echo "Bail out! the probe did not take its locks: $(cat "$T/held")"
	exit 1
fi

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# timed WHAT CMD...: CMD succeeds within 1000 ms (bounded at 10 s).
timed() {
	what=$1
	shift
	start=$(now_ms)
	timeout 10 "$@" >"$T/out" 2>"$T/err" </dev/null
	st=$?
	ms=$(($(now_ms) - start))
	if [ $st -eq 0 ] && [ $ms -lt 1000 ]; then
		ok "$what: done in $ms ms"
	else
		not_ok "$what: status $st after $ms ms: $(head -n 1 "$T/err")"
	fi
}

timed "user add" "$userdb" user add bob --uid 20002
timed "grant" "$userdb" grant alice ops
timed "revoke" "$userdb" revoke alice crew
timed "user disable" "$userdb" user disable bob
timed "a failed login through pam_userdb" "$probe" pam "$T/pam" login alice 'wrong password'
case $(cat "$T/out") in
auth=PAM_AUTH_ERR*) ok "the wrong password was refused: $(cat "$T/out")" ;;
*) not_ok "the wrong password gave: $(cat "$T/out")" ;;
esac
"$userdb" user show alice --json >"$T/show" 2>&1
if grep -q '"failed_count": 1[,} ]' "$T/show"; then
	ok "the failure was counted"
else
	not_ok "the failure was not counted: $(grep -o '"failed_count": [0-9]*' "$T/show")"
fi
timed "user unlock" "$userdb" user unlock alice
"$userdb" user show alice --json >"$T/show" 2>&1
if grep -q '"failed_count": 0[,} ]' "$T/show"; then
	ok "the unlock cleared the count"
else
	not_ok "the unlock did not clear the count: $(grep -o '"failed_count": [0-9]*' "$T/show")"
fi
# The holder held its locks throughout.
if kill -0 "$holder" 2>/dev/null; then
	ok "the holder was alive all along"
else
	not_ok "the holder died"
fi

echo "1..$n"
exit $((failed > 0))
