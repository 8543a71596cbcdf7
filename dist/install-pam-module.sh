#!/bin/sh
# meson install script: installs pam_userdb.so into the PAM module directory
# unless a pam_userdb.so that is not ours is already there (Linux-PAM ships
# an unrelated Berkeley DB module of the same name). Ours carries the marker
# string below; anything else is refused with a clear message.
set -eu
src="$1"
dir="${DESTDIR:-}$2"
target="$dir/pam_userdb.so"
marker='userdb-role-database-pam-module'

if [ -e "$target" ] && ! grep -q "$marker" "$target"; then
	echo "userdb: refusing to install over $target: it is a different pam_userdb.so" >&2
	echo "userdb: (Linux-PAM's Berkeley DB module?). Choose another directory with" >&2
	echo "userdb: 'meson configure -Dpam_module_dir=DIR' and name that path in PAM files." >&2
	exit 1
fi
mkdir -p "$dir"
install -m 0644 "$src" "$target.userdb-new"
mv -f "$target.userdb-new" "$target"
echo "Installing pam_userdb.so to $dir"

# A real install (no DESTDIR): refresh the ld.so cache so glibc finds
# libnss_userdb.so.2 under the prefix's libdir.
if [ -z "${DESTDIR:-}" ] && command -v ldconfig >/dev/null 2>&1; then
	ldconfig
fi
