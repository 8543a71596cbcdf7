#!/bin/bash
# tests/install: `meson install` into a scratch root (DESTDIR) lays out the
# files where glibc, Linux-PAM, pam-auth-update and man find them; with a
# foreign pam_userdb.so (Linux-PAM's Berkeley DB module) where ours goes it
# installs nothing at all; `ninja uninstall-userdb` leaves the root as it
# found it. Run by meson as install-layout: test_install.sh BUILD_DIR
set -u
build=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail=0
n=0
check() { # description, command...
	local d=$1
	shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fail=1; fi
}

prefix=$(meson introspect --buildoptions "$build" |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
libdir=$(meson introspect --buildoptions "$build" |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"][0])')
moddir=$prefix/$libdir/security

meson install --no-rebuild --quiet -C "$build" --destdir "$root" >"$root.log" 2>&1
check "meson install into DESTDIR succeeds" test $? -eq 0
check "libnss_userdb.so.2 is in the prefix's libdir" test -f "$root$prefix/$libdir/libnss_userdb.so.2"
check "its SONAME is libnss_userdb.so.2" \
	sh -c "objdump -p '$root$prefix/$libdir/libnss_userdb.so.2' | grep -q 'SONAME *libnss_userdb.so.2'"
check "pam_userdb.so is in the PAM module dir under the prefix" test -f "$root$moddir/pam_userdb.so"
check "userdb is in sbin" test -x "$root$prefix/sbin/userdb"
check "userdb-chkpwd is in libexec, setuid (4755)" \
	test "$(stat -c %a "$root$prefix/libexec/userdb-chkpwd" 2>&1)" = 4755
check "userdb-central-passwd is in libexec, not setuid (755)" \
	test "$(stat -c %a "$root$prefix/libexec/userdb-central-passwd" 2>&1)" = 755
check "pam_userdb.so does not link libpq (the helper does)" \
	sh -c "! objdump -p '$root$moddir/pam_userdb.so' | grep -q 'NEEDED *libpq'"
# pam-auth-update reads /usr/share/pam-configs only: a /usr install puts
# the profile there, any other prefix under its own datadir.
# A build directory configured before the option's default became '' may
# still carry -Dpam_configs_dir=/usr/share/pam-configs: the option wins.
pcd=$(meson introspect --buildoptions "$build" |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="pam_configs_dir"][0])')
if [ -n "$pcd" ]; then profile=$pcd/userdb
elif [ "$prefix" = /usr ]; then profile=/usr/share/pam-configs/userdb
else profile=$prefix/share/pam-configs/userdb; fi
check "the profile is at $profile" test -f "$root$profile"
check "the pam-auth-update profile names the module by absolute path" \
	grep -q "$moddir/pam_userdb.so" "$root$profile"
for m in man8/userdb.8 man8/pam_userdb.8 man8/libnss_userdb.so.2.8 man5/userdb.conf.5; do
	check "man page $m is installed" test -f "$root$prefix/share/man/$m"
done
check "the bash completion is in share/bash-completion/completions" \
	test -f "$root$prefix/share/bash-completion/completions/userdb"
unit=$root$prefix/lib/systemd/system/userdb-sync.service
check "userdb-sync.service is installed" test -f "$unit"
check "the unit runs the installed userdb sync --follow" \
	grep -qx "ExecStart=$prefix/sbin/userdb sync --follow" "$unit"
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify accepts the unit ($(systemd-analyze verify --man=no "$unit" 2>&1 | grep -v 'not executable\|No such file' | head -c 200))" \
		sh -c "! systemd-analyze verify --man=no '$unit' 2>&1 | grep -v 'not executable\|No such file' | grep -q ."
fi
check "the example nsswitch.conf lines are installed" \
	grep -q '^passwd: *files systemd userdb' "$root$prefix/share/doc/userdb/nsswitch.conf.example"
# The example config with every key uncommented (its defaults) loads: the
# tool then gets as far as the missing database (69), not a config error (78).
sed -e 's/^#\([a-z_]* = \)/\1/' -e "s|^dbdir = .*|dbdir = $root.nodb|" \
	"$root$prefix/share/doc/userdb/userdb.conf.example" >"$root.conf"
"$build/cli/userdb" --config "$root.conf" role list >/dev/null 2>"$root.err"
rc=$?
check "the example userdb.conf, every key uncommented, loads ($(head -c 200 "$root.err"))" test "$rc" -eq 69
rm -f "$root.conf" "$root.err"

# Installed twice (an upgrade), then uninstalled: nothing is left, not even
# the directories the install created.
meson install --no-rebuild --quiet -C "$build" --destdir "$root" >"$root.log" 2>&1
check "a second install over the first succeeds" test $? -eq 0
DESTDIR=$root ninja -C "$build" uninstall-userdb >"$root.log" 2>&1
check "ninja uninstall-userdb succeeds" test $? -eq 0
check "the DESTDIR is empty again ($(find "$root" -mindepth 1 | head -3 | tr '\n' ' '))" \
	test -z "$(find "$root" -mindepth 1)"
DESTDIR=$root ninja -C "$build" uninstall-userdb >"$root.log" 2>&1
check "a second uninstall says there is nothing to uninstall" grep -q "nothing to uninstall" "$root.log"

# A foreign pam_userdb.so where ours goes: nothing at all is installed.
foreign=$root$moddir/pam_userdb.so
mkdir -p "$(dirname "$foreign")"
printf 'not userdb: a stand-in for Linux-PAM Berkeley DB pam_userdb.so\n' >"$foreign"
sum=$(sha256sum <"$foreign")
meson install --no-rebuild --quiet -C "$build" --destdir "$root" >"$root.log" 2>&1
rc=$?
check "install refuses when a foreign pam_userdb.so is where ours goes" test "$rc" -ne 0
check "it says why" grep -q "nothing installed: .*pam_userdb.so is a different pam_userdb.so" "$root.log"
check "the foreign module is left byte for byte" test "$(sha256sum <"$foreign")" = "$sum"
check "nothing else was installed ($(find "$root" -type f | grep -v "$foreign" | head -3 | tr '\n' ' '))" \
	test "$(find "$root" -type f)" = "$foreign"
if [ -f /usr/lib/x86_64-linux-gnu/security/pam_userdb.so ]; then
	cp /usr/lib/x86_64-linux-gnu/security/pam_userdb.so "$foreign"
	meson install --no-rebuild --quiet -C "$build" --destdir "$root" >"$root.log" 2>&1
	check "install refuses Linux-PAM's real pam_userdb.so too" test $? -ne 0
	check "and installs nothing" test "$(find "$root" -type f)" = "$foreign"
fi
rm -f "$root.log"
echo "1..$n"
exit $fail
