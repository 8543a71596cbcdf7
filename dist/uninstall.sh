#!/bin/sh
# Removes what dist/install.sh installed, from the manifest it wrote:
#
#   uninstall.sh MANIFEST      (ninja -C build uninstall-userdb)
#
# Every file listed goes, then every directory the install created, if it
# is empty. Without DESTDIR it first refuses while a PAM service file still
# names our pam_userdb.so (removing the module under an enabled profile or
# a gate would break those logins: run `pam-auth-update --disable userdb`
# and remove the gate lines first), and it reruns ldconfig at the end so no
# stale cache entry for libnss_userdb.so.2 remains. The database in the
# configured dbdir is not touched.
set -eu
manifest=$1
dest=${DESTDIR:-}
pamdir=${USERDB_PAM_DIR:-/etc/pam.d}

if [ ! -f "$dest$manifest" ]; then
	echo "userdb: nothing to uninstall: no $dest$manifest (install.sh writes it)" >&2
	exit 1
fi

module=$(sed -n 's|^f \(.*/pam_userdb\.so\)$|\1|p' "$dest$manifest")
if [ -z "$dest" ] && [ -n "$module" ] && [ -d "$pamdir" ]; then
	users=$(grep -lF "$module" "$pamdir"/* 2>/dev/null || true)
	if [ -n "$users" ]; then
		echo "userdb: nothing removed: these PAM files still name $module:" >&2
		echo "$users" | sed 's/^/userdb:   /' >&2
		echo "userdb: run 'pam-auth-update --disable userdb' and remove other lines naming it first." >&2
		exit 1
	fi
fi

# The manifest lists itself: work from a copy.
list=$(mktemp)
trap 'rm -f "$list"' EXIT
cp "$dest$manifest" "$list"
sed -n 's/^f //p' "$list" | while IFS= read -r f; do
	if [ -e "$dest$f" ] || [ -L "$dest$f" ]; then
		rm -f "$dest$f"
		echo "Removed $dest$f"
	fi
done
# Innermost first; a directory that holds something else stays.
sed -n 's/^d //p' "$list" | sort -r | while IFS= read -r d; do
	rmdir "$dest$d" 2>/dev/null || true
done

if [ -z "$dest" ] && command -v ldconfig >/dev/null 2>&1; then
	ldconfig
fi
