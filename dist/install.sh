#!/bin/sh
# meson install script: puts every file of userdb on the system, after
# checking that it may. Registered by dist/meson.build as the only install
# step (no target is installed by meson itself), so that the check below
# runs before anything is copied:
#
#   install.sh MODULE MANIFEST [MODE DIR FILE]...
#
# MODULE is where pam_userdb.so goes (prefix and all, without DESTDIR).
# Linux-PAM ships an unrelated Berkeley DB module of the same name; when a
# pam_userdb.so without our marker string is at MODULE, nothing at all is
# installed (the pam-auth-update profile names MODULE, and enabling it
# would then break every login). Each MODE DIR FILE triple installs FILE
# into DIR with MODE (e.g. 0755, or 4755 for a setuid helper); a file is
# copied next to its place and renamed over it, so a running process never
# sees half a library. MANIFEST lists every file installed and every
# directory created, for dist/uninstall.sh. Without DESTDIR, ldconfig runs
# at the end so glibc finds libnss_userdb.so.2.
set -eu
marker='userdb-role-database-pam-module'
module=$1
manifest=$2
shift 2
dest=${DESTDIR:-}

say() { [ -n "${MESON_INSTALL_QUIET:-}" ] || echo "$@"; }

if [ -e "$dest$module" ] && ! grep -q "$marker" "$dest$module"; then
	echo "userdb: nothing installed: $dest$module is a different pam_userdb.so" >&2
	echo "userdb: (Linux-PAM's Berkeley DB module?), which the pam-auth-update profile" >&2
	echo "userdb: would name. Install under another prefix (the default /usr/local), or" >&2
	echo "userdb: choose the module's directory with 'meson configure -Dpam_module_dir=DIR'." >&2
	exit 1
fi
if [ $(($# % 3)) -ne 0 ]; then
	echo "userdb: install.sh: arguments must be MODE DIR FILE triples" >&2
	exit 2
fi

# Directories created now, plus those an earlier install created (a
# reinstall finds them existing, but they are still ours to remove).
dirs=$(mktemp)
files=$(mktemp)
trap 'rm -f "$dirs" "$files"' EXIT
if [ -f "$dest$manifest" ]; then
	sed -n 's/^d //p' "$dest$manifest" >"$dirs"
fi

# mkdir -p that notes every directory it had to create, outermost first.
make_dir() {
	case $1 in
	/*) ;;
	*) echo "userdb: install.sh: not an absolute directory: $1" >&2; exit 2 ;;
	esac
	if [ "$1" = / ]; then
		mkdir -p "$dest/" # DESTDIR itself: not ours to remove
	elif [ ! -d "$dest$1" ]; then
		make_dir "$(dirname "$1")"
		mkdir "$dest$1"
		echo "$1" >>"$dirs"
	fi
}

put() { # mode dir file
	make_dir "$2"
	target=$2/$(basename "$3")
	install -m "$1" "$3" "$dest$target.userdb-new"
	mv -f "$dest$target.userdb-new" "$dest$target"
	echo "$target" >>"$files"
	say "Installing $(basename "$3") to $dest$2"
}

while [ $# -gt 0 ]; do
	put "$1" "$2" "$3"
	shift 3
done

make_dir "$(dirname "$manifest")"
{
	echo "# userdb: files and directories installed, for dist/uninstall.sh"
	sort -u "$dirs" | sed 's/^/d /'
	sed 's/^/f /' "$files"
	echo "f $manifest"
} >"$dest$manifest.userdb-new"
mv -f "$dest$manifest.userdb-new" "$dest$manifest"

# A real install: refresh the ld.so cache so that glibc finds
# libnss_userdb.so.2 in the prefix's libdir.
if [ -z "$dest" ] && command -v ldconfig >/dev/null 2>&1; then
	ldconfig
fi
