#!/bin/bash
#
# tests/e2e/selftest.sh: proves the harness in lib.sh with stock pieces only
# (nss files, pam_unix, OpenSSH, sudo, su). userdb.sh tests the real
# modules on top of the same harness.
# Run it as `tests/e2e/run.sh selftest.sh`; meson runs it as e2e-selftest.

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

PORT=2222 # the namespace has its own network: no clash with the host
PW_TEST='e2e-Test.pass1'
PW_OTHER='e2e-Other.pass2'

# Accounts: private copies of passwd, group, shadow, gshadow.
e2e_private_accounts
e2e_add_group e2eadmins 4244
e2e_add_user e2etest 4242 "$PW_TEST" e2eadmins
e2e_add_user e2eother 4243 "$PW_OTHER"

# NSS: "files userdb" (userdb is absent from an empty dir: glibc skips it).
empty_dir=$E2E_TMP/nss
mkdir -p "$empty_dir"
e2e_setup_nss "$empty_dir"

e2e_expect_output "the private nsswitch.conf is in effect (passwd: files userdb)" \
	'^passwd: +files userdb$' cat /etc/nsswitch.conf
e2e_expect_output "getent passwd finds e2etest" \
	'^e2etest:x:4242:4242:' getent passwd e2etest
# shellcheck disable=SC2016 # a regex, not an expansion
e2e_expect_output "getent shadow shows e2etest's SHA-512 hash" \
	'^e2etest:\$6\$' getent shadow e2etest
e2e_expect_output "id shows e2etest in e2eadmins" \
	'groups=.*\(e2eadmins\)' id e2etest
e2e_expect_rc "getent passwd says 2 (not found) for an unknown user" \
	2 getent passwd e2enobody

# sshd with Debian's stock /etc/pam.d/sshd (pam_unix); AllowGroups shows
# that extra config lines reach sshd.
e2e_start_sshd "$PORT" 'AllowGroups e2eadmins'
e2e_expect_output "e2etest logs in over ssh with the right password" \
	'^e2etest$' e2e_ssh e2etest "$PW_TEST" id -un
e2e_expect_output "the ssh session has e2etest's supplementary groups" \
	'(^| )e2eadmins( |$)' e2e_ssh e2etest "$PW_TEST" id -Gn
e2e_expect_fail "e2etest is refused over ssh with a wrong password" \
	e2e_ssh e2etest 'not-the-password' id -un
e2e_expect_fail "e2eother (not in AllowGroups e2eadmins) is refused over ssh" \
	e2e_ssh e2eother "$PW_OTHER" id -un
e2e_expect_output "sshd logged AllowGroups as the reason" \
	"User e2eother from 127.0.0.1 not allowed because none of user's groups are listed in AllowGroups" \
	e2e_sshd_log

# A private PAM service over the existing /etc/pam.d/sshd takes effect for
# the running sshd (PAM reads it at each login); removing it restores Debian's.
e2e_setup_pam sshd - <<'EOF'
auth     requisite pam_deny.so
account  required  pam_permit.so
session  required  pam_permit.so
password requisite pam_deny.so
EOF
e2e_expect_fail "a private /etc/pam.d/sshd (pam_deny) refuses e2etest's right password" \
	e2e_ssh e2etest "$PW_TEST" id -un
e2e_unbind /etc/pam.d/sshd
e2e_expect_output "with the stock /etc/pam.d/sshd back, e2etest logs in again" \
	'^e2etest$' e2e_ssh e2etest "$PW_TEST" id -un

# A PAM service that does not exist on the host, driven by pamtester.
e2e_setup_pam e2e-selftest - <<'EOF'
auth    required pam_unix.so
account required pam_unix.so
EOF
pamtester_as()
{
	printf '%s\n' "$2" | timeout -k 3 "$E2E_TIMEOUT" pamtester e2e-selftest "$1" authenticate acct_mgmt
}
e2e_expect_ok "pamtester authenticates e2etest against a new private PAM service" \
	pamtester_as e2etest "$PW_TEST"
e2e_expect_fail "pamtester refuses a wrong password" \
	pamtester_as e2etest 'not-the-password'

# sudo: a group rule in a private /etc/sudoers.d.
e2e_setup_sudoers '%e2eadmins ALL=(ALL) NOPASSWD: /usr/bin/id'
e2e_expect_output "e2etest (in %e2eadmins) runs sudo -n /usr/bin/id as root" \
	'^uid=0\(root\)' e2e_as e2etest sudo -n /usr/bin/id
e2e_expect_fail_output "e2eother (not in %e2eadmins) is refused by sudo -n" \
	'password is required|not allowed|may not run' e2e_as e2eother sudo -n /usr/bin/id

# su: from a non-root user (root's su skips the password via pam_rootok).
e2e_expect_output "su from nobody to e2etest with the right password on a pty" \
	'^e2etest$' e2e_su nobody e2etest "$PW_TEST" 'id -un'
e2e_expect_fail_output "su refuses a wrong password on a pty" \
	'Authentication failure' e2e_su nobody e2etest 'not-the-password' 'id -un'
su_from_pipe()
{
	printf '%s\n' "$PW_TEST" | e2e_as nobody su e2etest -c 'id -un'
}
# su's prompt goes to stderr without a newline, so the output is
# "Password: e2etest".
e2e_expect_output "su also reads the password from a pipe when there is no tty" \
	'(^|: )e2etest$' su_from_pipe

# The private /etc: a new file is visible here (and never on the host).
e2e_expect_ok "a new file can be created in the private /etc" \
	bash -c 'echo probe >/etc/userdb-e2e-probe && grep -qx probe /etc/userdb-e2e-probe'
