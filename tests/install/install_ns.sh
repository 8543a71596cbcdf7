#!/bin/bash
# tests/install: real `meson install` (no DESTDIR) on this system's /usr and
# /etc, made private by overlays inside tests/e2e/run.sh's namespaces, so
# what the install writes can be read from the overlays' upper layers:
#   1. --prefix=/usr, where Linux-PAM's Berkeley DB pam_userdb.so lives:
#      nothing is installed, the message says why;
#   2. the build's own prefix (/usr/local): everything lands, ldconfig knows
#      libnss_userdb.so.2, the profile is under the prefix's datadir and
#      README's recipe links it in for pam-auth-update; uninstall refuses
#      while PAM still names the module, then removes every file and
#      directory it made and drops the ld.so cache entry.
# Run by meson as install-namespace: run.sh install_ns.sh BUILD SRC
set -u
source "$E2E_DIR/lib.sh"
BUILD=$1
SRC=$2
LINUX_PAM_MOD=/usr/lib/x86_64-linux-gnu/security/pam_userdb.so

[[ -f $LINUX_PAM_MOD ]] || e2e_skip_all "Linux-PAM's pam_userdb.so is not installed"
grep -q userdb-role-database-pam-module "$LINUX_PAM_MOD" &&
	e2e_skip_all "$LINUX_PAM_MOD is userdb's own module: this host is not stock"
e2e_overlay /usr || _e2e_die "cannot make /usr private"
e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private" # pam-auth-update's state
# pam-auth-update goes through debconf: its database (and the lock another
# apt-get on the host may hold) stays private.
e2e_overlay /var/cache/debconf || _e2e_die "cannot make /var/cache/debconf private"
USR_UPPER=$E2E_TMP/overlay/_usr/upper
ETC_BEFORE=$E2E_TMP/etc-before
cp -a /etc "$ETC_BEFORE" 2>/dev/null

# What an install left in /usr: regular files, symlinks and whiteouts
# (character devices) in the upper layer; directories copied up to hold
# them do not count once they are empty again.
usr_changes() { find "$USR_UPPER" \( -type f -o -type l -o -type c \) -printf '%P\n'; }
no_usr_changes() { [[ -z $(usr_changes) ]]; }

# --- 1. --prefix=/usr on a system with Linux-PAM's module -----------------
B2=$E2E_TMP/build-usr
meson setup "$B2" "$SRC" --prefix=/usr -Dtests=disabled -De2e=disabled >"$E2E_TMP/setup.log" 2>&1 ||
	_e2e_die "meson setup --prefix=/usr failed: $(tail -5 "$E2E_TMP/setup.log")"
ninja -C "$B2" cli/userdb nss_userdb/libnss_userdb.so.2 pam_userdb/pam_userdb.so \
	>"$E2E_TMP/build.log" 2>&1 || _e2e_die "building for --prefix=/usr failed"
linux_pam_sum=$(sha256sum <"$LINUX_PAM_MOD")

e2e_expect_fail_output "meson install --prefix=/usr refuses, naming Linux-PAM's module" \
	"nothing installed: $LINUX_PAM_MOD is a different pam_userdb.so" \
	meson install --no-rebuild -C "$B2"
e2e_expect_ok "it installed nothing under /usr" no_usr_changes
e2e_expect_ok "no profile naming Linux-PAM's module reached pam-configs" \
	test ! -e /usr/share/pam-configs/userdb
e2e_expect_ok "Linux-PAM's module is unchanged" \
	test "$(sha256sum <"$LINUX_PAM_MOD")" = "$linux_pam_sum"
e2e_expect_ok "nothing changed in /etc" diff -r --no-dereference "$ETC_BEFORE" /etc

# --- 2. the build's prefix, installed for real ----------------------------
prefix=$(meson introspect --buildoptions "$BUILD" |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
libdir=$(meson introspect --buildoptions "$BUILD" |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"][0])')
[[ $prefix != /usr ]] || e2e_skip_all "the build's prefix is /usr"
MOD=$prefix/$libdir/security/pam_userdb.so
# The option wins over the default (a build directory configured before
# the default became '' may still name /usr/share/pam-configs).
pcd=$(meson introspect --buildoptions "$BUILD" |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="pam_configs_dir"][0])')
PROFILE=${pcd:-$prefix/share/pam-configs}/userdb

e2e_expect_ok "meson install into $prefix succeeds" meson install --no-rebuild --quiet -C "$BUILD"
e2e_expect_output "ldconfig knows libnss_userdb.so.2 under the prefix" \
	"libnss_userdb.so.2 .*=> $prefix/$libdir/libnss_userdb.so.2" ldconfig -p
e2e_expect_ok "the module is at $MOD" test -f "$MOD"
if [[ -z $pcd ]]; then
	e2e_expect_ok "the profile is under the prefix's datadir, not /usr/share" \
		test -f "$PROFILE" -a ! -e /usr/share/pam-configs/userdb
else
	e2e_expect_ok "the profile is where -Dpam_configs_dir=$pcd says" test -f "$PROFILE"
fi
e2e_expect_output "the profile names our module" "$MOD" cat "$PROFILE"
for page in man8/userdb.8 man8/pam_userdb.8 man8/libnss_userdb.so.2.8 man5/userdb.conf.5; do
	e2e_expect_ok "man page $page is installed" test -f "$prefix/share/man/$page"
done

# README: link the profile in, then enable it.
[[ $PROFILE == /usr/share/pam-configs/userdb ]] || ln -s "$PROFILE" /usr/share/pam-configs/userdb
e2e_expect_ok "pam-auth-update --enable userdb" \
	env DEBIAN_FRONTEND=noninteractive pam-auth-update --enable userdb
e2e_expect_output "common-auth names our module" "$MOD" cat /etc/pam.d/common-auth
e2e_expect_fail_output "uninstall refuses while common-auth names the module" \
	"nothing removed: these PAM files still name" ninja -C "$BUILD" uninstall-userdb
e2e_expect_ok "the module is still there" test -f "$MOD"
e2e_expect_ok "pam-auth-update --disable userdb" \
	env DEBIAN_FRONTEND=noninteractive pam-auth-update --disable userdb
[[ $PROFILE == /usr/share/pam-configs/userdb ]] || rm -f /usr/share/pam-configs/userdb
e2e_expect_ok "uninstall succeeds" ninja -C "$BUILD" uninstall-userdb
e2e_expect_ok "it left nothing in /usr (files: $(usr_changes | tr '\n' ' '))" no_usr_changes
e2e_expect_fail "ldconfig no longer lists libnss_userdb.so.2" \
	sh -c 'ldconfig -p | grep -q libnss_userdb'
