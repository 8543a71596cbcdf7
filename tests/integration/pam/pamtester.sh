#!/bin/sh
# pamtester through pam_wrapper against a database built by pam_fixture:
# a user from the database logs in (auth, account, session), is refused
# when disabled, expired, locked after failed logins or missing a role,
# and changes a password. Run by meson (suite pam) with PAMTESTER,
# PAM_FIXTURE, PAM_USERDB_MODULE and LD_PRELOAD=libpam_wrapper.so set.
set -u

dir=$("$PAM_FIXTURE") || { echo "pam_fixture failed"; exit 1; }
trap 'rm -rf "$dir"' EXIT
module=$PAM_USERDB_MODULE
conf=$dir/userdb.conf
cat >"$dir/services/login" <<END
auth     required $module conf=$conf nodelay deny=3 unlock_time=0
account  required $module conf=$conf roles_required=staff
password required $module conf=$conf minlen=10
session  required $module conf=$conf
END
export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$dir/services"
failed=0

# run INPUT USER OPERATION... : pamtester's output and status
run() {
	input=$1
	shift
	printf '%s' "$input" | "$PAMTESTER" -v -I rhost=192.0.2.7 login "$@" 2>&1
}

# expect_ok WHAT INPUT USER OPERATION...
expect_ok() {
	what=$1
	shift
	if out=$(run "$@"); then
		echo "ok: $what"
	else
		echo "FAIL: $what"
		echo "$out" | sed 's/^/    /'
		failed=1
	fi
}

# expect_refused WHAT MESSAGE INPUT USER OPERATION...
expect_refused() {
	what=$1
	message=$2
	shift 2
	if out=$(run "$@"); then
		echo "FAIL: $what (accepted)"
		echo "$out" | sed 's/^/    /'
		failed=1
	elif echo "$out" | grep -q "$message"; then
		echo "ok: $what ($message)"
	else
		echo "FAIL: $what (not \"$message\")"
		echo "$out" | sed 's/^/    /'
		failed=1
	fi
}

expect_ok "alice logs in" "alice password 1
" alice authenticate acct_mgmt open_session close_session
expect_refused "wrong password" "Authentication failure" "not her password
" alice authenticate
expect_refused "dave is disabled" "Permission denied" "dave password 1
" dave authenticate acct_mgmt
expect_refused "eve has expired" "User account has expired" "eve password 1
" eve authenticate acct_mgmt
expect_refused "mallory lacks role staff" "Permission denied" "mallory password 1
" mallory authenticate acct_mgmt
expect_refused "unknown user" "User not known" "whatever
" nobody_here authenticate
expect_ok "frank logs in" "frank password 1
" frank authenticate
for i in 1 2 3; do
	expect_refused "frank mistypes ($i)" "Authentication failure" "wrong $i
" frank authenticate
done
expect_refused "frank is locked, right password or not" "Authentication failure" \
	"frank password 1
" frank authenticate
# Root changes a password without the old one; anyone else must give it.
old=
if [ "$(id -u)" != 0 ]; then
	old="alice password 1
"
fi
expect_refused "too short a new password" "Authentication token manipulation error" \
	"${old}short
short
" alice chauthtok
expect_ok "alice's password is changed" "${old}alice password 2
alice password 2
" alice chauthtok
expect_ok "alice logs in with the new password" "alice password 2
" alice authenticate acct_mgmt
expect_refused "the old password is gone" "Authentication failure" "alice password 1
" alice authenticate
exit $failed
