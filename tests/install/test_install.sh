#!/bin/bash
# tests/install: `meson install` into a scratch root (DESTDIR) lays out the
# files where glibc, Linux-PAM, pam-auth-update and man find them, and
# refuses to overwrite a foreign pam_userdb.so (Linux-PAM's Berkeley DB
# module). Run by meson as install-layout: test_install.sh BUILD_DIR
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
check "the pam-auth-update profile names the module by absolute path" \
	grep -q "$moddir/pam_userdb.so" "$root/usr/share/pam-configs/userdb"
for m in userdb.8 pam_userdb.8 libnss_userdb.so.2.8; do
	check "man page $m is installed" test -f "$root$prefix/share/man/man8/$m"
done
check "the example nsswitch.conf lines are installed" \
	grep -q '^passwd: *files userdb' "$root$prefix/share/doc/userdb/nsswitch.conf.example"

# Put a foreign pam_userdb.so where ours goes, then install again.
foreign=$root$moddir/pam_userdb.so
printf 'not userdb: a stand-in for Linux-PAM Berkeley DB pam_userdb.so\n' >"$foreign"
sum=$(sha256sum <"$foreign")
meson install --no-rebuild --quiet -C "$build" --destdir "$root" >"$root.log" 2>&1
rc=$?
check "install refuses to overwrite a foreign pam_userdb.so" test "$rc" -ne 0
check "it says why" grep -q "refusing to install over .*pam_userdb.so" "$root.log"
check "the foreign module is left byte for byte" test "$(sha256sum <"$foreign")" = "$sum"
if [ -f /usr/lib/x86_64-linux-gnu/security/pam_userdb.so ]; then
	cp /usr/lib/x86_64-linux-gnu/security/pam_userdb.so "$foreign"
	meson install --no-rebuild --quiet -C "$build" --destdir "$root" >"$root.log" 2>&1
	check "install refuses Linux-PAM's real pam_userdb.so too" test $? -ne 0
fi
rm -f "$root.log"
echo "1..$n"
exit $fail
