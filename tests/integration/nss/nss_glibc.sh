#!/bin/sh
# getent and id through real glibc (nsswitch.conf `files userdb`) for what
# nss_wrapper cannot route to a module: shadow entries (root sees hash,
# aging and expiry; an unprivileged caller sees nothing) and initgroups.
# The standard test population of fixture.h.
#
# Run by meson (suite nss) with NSS_USERDB_MODULE and NSS_FIXTURE set. Needs
# root for a private mount namespace (exits 77, skipped, otherwise): there a
# private nsswitch.conf is bind-mounted over /etc/nsswitch.conf, which
# vanishes with the namespace; the host's /etc is never written. glibc finds
# libnss_userdb.so.2 through LD_LIBRARY_PATH (getent and id are not setuid).
set -u

if [ "${1:-}" != --inner ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
		echo "skipped: needs root and unshare"
		exit 77
	fi
	exec unshare -m --propagation private sh "$0" --inner
fi

fail=0
check() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "FAIL - $1"
		echo "  expected: $2"
		echo "  actual:   $3"
		fail=1
	fi
}

out=$("$NSS_FIXTURE") || exit 99
dir=$(printf '%s\n' "$out" | sed -n 1p)
conf=$(printf '%s\n' "$out" | sed -n 2p)
trap 'rm -rf "$dir"' EXIT
printf 'passwd: files userdb\ngroup: files userdb\nshadow: files userdb\n' >"$dir/nsswitch.conf"
mount --bind "$dir/nsswitch.conf" /etc/nsswitch.conf || exit 99
# A host nscd would answer instead of the module.
if [ -d /run/nscd ]; then
	mount -t tmpfs tmpfs /run/nscd || exit 99
fi
export USERDB_CONF="$conf"
LD_LIBRARY_PATH=$(dirname "$NSS_USERDB_MODULE")
export LD_LIBRARY_PATH
days=$(($(date +%s) / 86400))
# The fixture's hash, literally.
# shellcheck disable=SC2016
hash='$6$saltsalt$5hQeVkmxxhGkvYBJkFLrUaNn9hMvSQHvPTqJ3hIlmpU'

check "getent passwd alice" \
	"alice:x:2001:2001:Alice Liddell:/home/alice:/bin/bash" "$(getent passwd alice)"
check "getent shadow alice (hash, change day, aging)" \
	"alice:$hash:$days:1:90:7:14::" "$(getent shadow alice)"
check "getent shadow carol (disabled: locked hash, expired)" \
	"carol:!$hash:$days:::::1:" "$(getent shadow carol)"
check "getent shadow bob (no password)" "bob:!:::::::" "$(getent shadow bob)"
check "getent shadow erin (must change: day 0)" "erin:!:0::::::" "$(getent shadow erin)"
check "getent shadow lists every user" "alice bob carol dave erin" \
	"$(getent shadow | awk -F: '$1 ~ /^(alice|bob|carol|dave|erin)$/ { printf "%s%s", s, $1; s = " " }')"
check "getent shadow as nobody finds nothing" "2" \
	"$(setpriv --reuid=65534 --regid=65534 --clear-groups getent shadow alice >/dev/null 2>&1; echo $?)"
check "getent passwd as nobody still works" "alice" \
	"$(setpriv --reuid=65534 --regid=65534 --clear-groups getent passwd alice | cut -d: -f1)"
check "getent initgroups alice" "3000 3001 alice" \
	"$(getent initgroups alice | tr -s ' ' '\n' | sort | paste -sd' ' -)"
check "getent initgroups dave (expired grant)" "dave" "$(getent initgroups dave | tr -d ' ')"
check "id -G alice" "2001 3000 3001" "$(id -G alice | tr ' ' '\n' | sort -n | paste -sd' ' -)"
check "id alice: names of uid, gid and roles" "alice alice admins staff" \
	"$(id -un alice) $(id -gn alice) $(id -Gn alice | tr ' ' '\n' | grep -v '^alice$' | sort | paste -sd' ' -)"
check "getent group admins" "admins:x:3000:alice" "$(getent group admins)"
exit $fail
