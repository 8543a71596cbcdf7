#!/bin/sh
# Counts the instructions pam_sm_authenticate spends beyond the hash, which
# a shared machine's load does not move: a database with the cheap hash of
# pam_bench's table (a) (sha512crypt, 1000 rounds), one user also in a
# private copy of /etc/passwd (bound in a private mount namespace, so the
# owner check finds it in NSS as pam_bench's user; the host's file never
# changes), N logins (default 20) of bench/pam_auth_loop.c under
# `valgrind --tool=callgrind --toggle-collect=pam_sm_authenticate`. Prints
# the instructions a login inside pam_sm_authenticate, in libcrypt's
# crypt_rn, and the difference. Needs root (the mount namespace).
#
#   bench/run-pam-callgrind.sh BUILD_DIR [MODULE [N]]
#
# MODULE (an absolute path) defaults to BUILD_DIR's pam_userdb.so: give an
# older build's module to compare the same driver against both.
set -eu

build=$1
module=${2:-$(realpath "$build/pam_userdb/pam_userdb.so")}
n=${3:-20}
[ "$(id -u)" = 0 ] || { echo "run-pam-callgrind.sh: needs root" >&2; exit 1; }
ninja -C "$build" cli/userdb pam_userdb/pam_auth_loop >/dev/null
userdb=$(realpath "$build/cli/userdb")
loop=$(realpath "$build/pam_userdb/pam_auth_loop")
T=$(mktemp -d /var/tmp/pamcg.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
mkdir "$T/pam.d"
printf 'dbdir = %s/db\nhash_method = sha512\nhash_cost = 1000\n' "$T" >"$T/userdb.conf"
export USERDB_CONF="$T/userdb.conf"
"$userdb" init >/dev/null
printf 'bench password 1\n' | "$userdb" user add udbbench --uid 20501 --password-stdin \
	>/dev/null 2>&1
# The next write confirms the name in the shadow file, as on any store in use.
"$userdb" user mod udbbench --first-name Bench >/dev/null
echo "auth required $module conf=$T/userdb.conf" >"$T/pam.d/bench"
cp /etc/passwd "$T/passwd"
echo 'udbbench:x:20501:20501::/nonexistent:/bin/sh' >>"$T/passwd"
unshare -m sh -c "mount --bind '$T/passwd' /etc/passwd && valgrind --tool=callgrind \
	--callgrind-out-file='$T/cg.out' --toggle-collect=pam_sm_authenticate \
	'$loop' '$T/pam.d' bench udbbench 'bench password 1' $n" 2>"$T/valgrind.log" ||
	{ cat "$T/valgrind.log" >&2; exit 1; }
callgrind_annotate --inclusive=yes "$T/cg.out" | awk -v n="$n" '
	{ v = $1; gsub(",", "", v) }
	/:pam_sm_authenticate / { total = v }
	/:crypt_rn / { crypt = v }
	END { printf "per login: %.2f M instructions in pam_sm_authenticate, %.2f M in crypt_rn, %.2f M outside libcrypt\n", total / n / 1e6, crypt / n / 1e6, (total - crypt) / n / 1e6 }'
