#!/bin/sh
# Whose name is it (issue 11, "local users pay nothing"), with pamtester
# under pam_wrapper and nss_wrapper (suite pam): the module asks NSS, files
# first, before it touches the database.
#  - a user of the passwd file only: PAM_USER_UNKNOWN in every phase at
#    once: no password prompt, no hash, no write;
#  - a name known nowhere: the dummy hash and the counted write, as before;
#  - a database user whose name the passwd file now gives another uid:
#    refused in every phase, even with the database password;
#  - a database user whose name NSS resolves through userdb logs in;
#  - with the store unreadable (its files moved away, the images left),
#    that database user is refused in auth, account and password change
#    (never AUTHINFO_UNAVAIL, which the shipped profile ignores, handing
#    the login to pam_unix and the hash NSS shows), while a local user
#    stays PAM_USER_UNKNOWN;
#  - with damage inside public.db that its size does not show, alice's
#    password passes auth (decided on the shadow file alone) and her login
#    (authenticate, then acct_mgmt) is refused in the account phase;
#  - with the image staler than the store (alice's uid changed, the images
#    of before put back, as a writer killed between its commit and their
#    install leaves them), NSS and the image still agree on her old uid,
#    but auth, which takes the image's word only at the generations the
#    store recorded, asks the store, whose uid is no longer that one:
#    refused with her password; once a write puts the image in step, she
#    logs in under the new uid.
# Run by meson with PAMTESTER, PAM_FIXTURE, PAM_USERDB_MODULE, CRYPT_GATE,
# NSS_USERDB_MODULE, USERDB and LD_PRELOAD=libpam_wrapper.so set.
set -u

dir=$("$PAM_FIXTURE") || { echo "pam_fixture failed"; exit 1; }
trap 'rm -rf "$dir"' EXIT
module=$PAM_USERDB_MODULE
conf=$dir/userdb.conf
cat >"$dir/services/login" <<END
auth     required $module conf=$conf nodelay
account  required $module conf=$conf
password required $module conf=$conf
session  required $module conf=$conf
END
cp /etc/passwd "$dir/passwd"
cp /etc/group "$dir/group"
echo "lena:x:4242:4242:Lena:/home/lena:/bin/sh" >>"$dir/passwd"
echo "frank:x:4243:4243:Frank (local):/home/frank:/bin/sh" >>"$dir/passwd"
mkdir "$dir/gate"
touch "$dir/gate/open"
export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$dir/services" PAM_WRAPPER_DISABLE_DEEPBIND=1
export LD_PRELOAD="libnss_wrapper.so:$LD_PRELOAD:$CRYPT_GATE"
export NSS_WRAPPER_PASSWD="$dir/passwd" NSS_WRAPPER_GROUP="$dir/group"
export NSS_WRAPPER_MODULE_SO_PATH="$NSS_USERDB_MODULE" NSS_WRAPPER_MODULE_FN_PREFIX=userdb
export USERDB_CONF="$conf" CRYPT_GATE_DIR="$dir/gate"
failed=0

check() { # WHAT COMMAND...
	what=$1
	shift
	out=
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what: $out"; failed=1; fi
}

# pam USER INPUT OPERATION...: pamtester's output in $out, its status returned
pam() {
	user=$1 input=$2
	shift 2
	out=$(printf '%s' "$input" | "$PAMTESTER" -v login "$user" "$@" 2>&1)
}

unknown_failures() {
	sqlite3 -readonly "$dir/db/shadow.db" \
		"SELECT coalesce((SELECT value FROM meta WHERE key = 'unknown_user_failures'), 0)"
}

# refused_unknown WHAT USER PASSWORD OPERATION: refused as "User not known"
refused_unknown() {
	what=$1 user=$2 pw=$3
	shift 3
	if pam "$user" "$pw
" "$@"; then
		echo "FAIL: $what (accepted)"
		failed=1
	elif echo "$out" | grep -q "User not known"; then
		echo "ok: $what"
	else
		echo "FAIL: $what: $out"
		failed=1
	fi
}

check "nss_wrapper resolves lena from the passwd file" sh -c 'getent passwd lena | grep -q ":4242:"'
check "and alice through the userdb module" sh -c 'getent passwd alice | grep -q "^alice:x:"'

before=$(unknown_failures)
rm -f "$dir/gate/reached"
export CRYPT_GATE_PASSWORD='lena password'
for op in authenticate acct_mgmt chauthtok open_session close_session; do
	refused_unknown "a local user is unknown to the module: $op" lena 'lena password' "$op"
done
check "no password was asked for the local user" sh -c "! echo \"\$0\" | grep -q Password" "$out"
pam lena 'lena password
' authenticate
check "no prompt in auth either" sh -c "! echo \"\$0\" | grep -q Password" "$out"
check "no hash was made of the local user's password" test ! -e "$dir/gate/reached"
check "nothing was written for the local user" test "$(unknown_failures)" = "$before"

export CRYPT_GATE_PASSWORD='whatever'
refused_unknown "a name known nowhere is unknown" nobody_here whatever authenticate
check "after the dummy hash" test -e "$dir/gate/reached"
check "and a counted write" test "$(unknown_failures)" = "$((before + 1))"

refused_unknown "frank, now a local name with another uid, is refused with his database password" \
	frank 'frank password 1' authenticate
refused_unknown "and in the account phase" frank '' acct_mgmt
refused_unknown "and in the session" frank '' open_session

check "alice, resolved through userdb, logs in" pam alice 'alice password 1
' authenticate acct_mgmt open_session close_session
# refused_as WHAT MESSAGE USER INPUT OPERATION...: refused with MESSAGE
refused_as() {
	what=$1 msg=$2 user=$3 input=$4
	shift 4
	if pam "$user" "$input" "$@"; then
		echo "FAIL: $what (accepted)"
		failed=1
	elif echo "$out" | grep -q "$msg"; then
		echo "ok: $what"
	else
		echo "FAIL: $what: $out"
		failed=1
	fi
}

mkdir "$dir/away"
mv "$dir/db/"*.db* "$dir/away/"
check "with the store moved away, NSS still resolves alice from the image" \
	sh -c 'getent passwd alice | grep -q "^alice:x:"'
export CRYPT_GATE_PASSWORD='alice password 1'
refused_as "store unreadable: alice's password is refused" "Authentication failure" \
	alice 'alice password 1
' authenticate
refused_as "store unreadable: alice's account phase denies" "Permission denied" alice '' acct_mgmt
refused_as "store unreadable: alice's password change fails" "Authentication token manipulation error" \
	alice 'alice password 1
new one 1
new one 1
' chauthtok
export CRYPT_GATE_PASSWORD='lena password'
refused_unknown "store unreadable: lena is still unknown to the module" lena '' acct_mgmt
mv "$dir/away/"* "$dir/db/"
check "store back: alice logs in" pam alice 'alice password 1
' authenticate acct_mgmt

# Damage inside the public file that its size does not show: auth decides
# on the shadow file alone and takes the password; the account phase,
# which opens both files, refuses the database user, so the login as sshd,
# su and sudo run it (authenticate, then acct_mgmt) is refused.
cp -p "$dir/db/public.db" "$dir/public.good"
dd if=/dev/urandom of="$dir/db/public.db" bs=4 seek=25 count=999 conv=notrunc 2>/dev/null
check "public.db damaged in place: NSS still resolves alice from the image" \
	sh -c 'getent passwd alice | grep -q "^alice:x:"'
check "public.db damaged in place: alice's password passes auth" pam alice 'alice password 1
' authenticate
refused_as "public.db damaged in place: alice's login is refused in the account phase" \
	"Permission denied" alice 'alice password 1
' authenticate acct_mgmt
cp -p "$dir/public.good" "$dir/db/public.db.new" && mv "$dir/db/public.db.new" "$dir/db/public.db"
check "public.db back: alice logs in" pam alice 'alice password 1
' authenticate acct_mgmt

old_uid=$(getent passwd alice | cut -d: -f3)
mkdir "$dir/images"
cp -p "$dir/db/"*.img "$dir/db/nss.gen" "$dir/images/"
check "the store changes alice's uid" "$USERDB" user mod alice --uid 20777
for f in "$dir/images/"*; do
	b=$(basename "$f")
	cp -p "$f" "$dir/db/$b.new" && mv "$dir/db/$b.new" "$dir/db/$b"
done
check "the image of before still gives alice uid $old_uid" \
	sh -c "getent passwd alice | grep -q '^alice:x:$old_uid:'"
refused_unknown "stale image: alice under her old uid is refused with her password" \
	alice 'alice password 1
' authenticate
check "a write puts the image in step" "$USERDB" compact
check "NSS gives alice her new uid" sh -c 'getent passwd alice | grep -q "^alice:x:20777:"'
check "and she logs in" pam alice 'alice password 1
' authenticate acct_mgmt
exit $failed
