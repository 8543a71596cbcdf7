#!/bin/sh
# getent and id through nss_wrapper with libnss_userdb.so.2 as the wrapper's
# module, on the standard test population (fixture.h): what a user sees of
# passwd entries, a role's effective members (inclusion counted, an expired
# and a future grant not), personal groups, and group lists.
#
# Run by meson (suite nss) with NSS_USERDB_MODULE and NSS_FIXTURE set. The
# wrapper also reads copies of the host's passwd and group first (it does
# nothing unless both are set), like `passwd: files userdb`. nss_wrapper
# routes only passwd and group to a module, never shadow: shadow, and
# initgroups through glibc's real code, are in nss_glibc.sh.
set -u

fail=0
check() {
	# check DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "FAIL - $1"
		echo "  expected: $2"
		echo "  actual:   $3"
		fail=1
	fi
}

# Sorts the comma-separated list after the last ':' (member order is not
# part of the contract).
sort_members() {
	sed 's/^\(.*:\)\(.*\)$/\1 \2/' | while read -r head list; do
		printf '%s%s\n' "$head" "$(printf '%s' "$list" | tr ',' '\n' | sort | paste -sd, -)"
	done
}

# id's groups=... list, sorted.
sort_groups() {
	sed 's/ groups=/\n/' | {
		read -r ids
		read -r groups
		printf '%s groups=%s\n' "$ids" "$(printf '%s' "$groups" | tr ',' '\n' | sort | paste -sd, -)"
	}
}

out=$("$NSS_FIXTURE") || exit 99
dir=$(printf '%s\n' "$out" | sed -n 1p)
conf=$(printf '%s\n' "$out" | sed -n 2p)
trap 'rm -rf "$dir"' EXIT
cp /etc/passwd "$dir/passwd"
# Debian has a system group called staff (gid 50); files come first, so it
# would hide the role of the same name.
grep -v '^staff:' /etc/group >"$dir/group"

wrap() {
	env USERDB_CONF="$conf" LD_PRELOAD=libnss_wrapper.so \
		NSS_WRAPPER_PASSWD="$dir/passwd" NSS_WRAPPER_GROUP="$dir/group" \
		NSS_WRAPPER_MODULE_SO_PATH="$NSS_USERDB_MODULE" \
		NSS_WRAPPER_MODULE_FN_PREFIX=userdb "$@" 2>&1
}

check "getent passwd alice" \
	"alice:x:2001:2001:Alice Liddell:/home/alice:/bin/bash" "$(wrap getent passwd alice)"
check "getent passwd 2002 (primary group a role)" \
	"bob:x:2002:3001:Bob:/home/bob:/bin/bash" "$(wrap getent passwd 2002)"
check "getent passwd carol (empty GECOS)" \
	"carol:x:2003:2003::/home/carol:/bin/bash" "$(wrap getent passwd carol)"
check "getent group staff: alice through admins, bob; not dave (expired) or erin (future)" \
	"staff:x:3001:alice,bob" "$(wrap getent group staff | sort_members)"
check "getent group admins" "admins:x:3000:alice" "$(wrap getent group admins)"
check "getent group 3002 (no members)" "churn:x:3002:" "$(wrap getent group 3002)"
check "getent group alice (personal group)" "alice:x:2001:" "$(wrap getent group alice)"
check "getent passwd for a missing user fails" "2" "$(wrap getent passwd zoe >/dev/null; echo $?)"
check "id alice" "uid=2001(alice) gid=2001(alice) groups=2001(alice),3000(admins),3001(staff)" \
	"$(wrap id alice | sort_groups)"
check "id bob" "uid=2002(bob) gid=3001(staff) groups=3001(staff)" "$(wrap id bob | sort_groups)"
check "id dave (expired grant)" "uid=2004(dave) gid=2004(dave) groups=2004(dave)" \
	"$(wrap id dave | sort_groups)"
check "getent passwd lists every user" "alice bob carol dave erin" \
	"$(wrap getent passwd | awk -F: '$3 >= 2001 && $3 <= 2005 { printf "%s%s", s, $1; s = " " }')"
check "getent group lists roles and personal groups" "admins alice carol churn dave erin staff" \
	"$(wrap getent group | awk -F: '$3 >= 2001 && $3 <= 3002 { print $1 }' | sort | paste -sd' ' -)"
exit $fail
