#!/bin/bash
#
# tests/e2e/userdb.sh: the built userdb, libnss_userdb.so.2 and pam_userdb.so
# on a real system: getent / id through glibc, ssh logins through sshd and
# Linux-PAM, sudo rules on roles, su, a password change through the PAM
# password group, and Debian's stock common-* stacks with the shipped
# pam-auth-update profile. Run by meson as e2e-userdb:
#   tests/e2e/run.sh userdb.sh BUILD_DIR SOURCE_DIR

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: userdb.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: userdb.sh BUILD_DIR SOURCE_DIR}
USERDB=$BUILD/cli/userdb
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
PORT=2222
PW_ALICE='Alice-pw.1'
PW_BOB='Bob-pw.2'
PW_CAROL='Carol-pw.3'
PW_DAVE='Dave-pw.4'
PW_LOCAL='Local-pw.5'

for f in "$USERDB" "$PAM_MOD" "$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done

# --- the database: roles admin ⊇ moderator ⊇ user, four users -------------
e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
cat >/etc/userdb.conf <<'EOF'
dbdir = /var/lib/userdb
deny = 3
unlock_time = 600
EOF
chmod 0644 /etc/userdb.conf
unset USERDB_CONF

udb() { "$USERDB" "$@"; }
setup() { "$@" >/dev/null || _e2e_die "setup step failed: $*"; }

setup udb init
setup udb role add user --description 'Everyone' --permission ssh:login
setup udb role add moderator --includes user --permission forum:moderate
setup udb role add admin --includes moderator --permission system:sudo
printf '%s\n' "$PW_ALICE" | setup udb user add alice --first-name Alice --last-name Liddell \
	--email alice@example.org --role admin --password-stdin
printf '%s\n' "$PW_BOB" | setup udb user add bob --role user --password-stdin
printf '%s\n' "$PW_CAROL" | setup udb user add carol --role moderator --password-stdin
printf '%s\n' "$PW_DAVE" | setup udb user add dave --password-stdin

e2e_private_accounts
e2e_add_user localuser 4242 "$PW_LOCAL"
e2e_setup_nss "$BUILD/nss_userdb"

alice_uid=$(udb --json user show alice | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')

# --- NSS through real glibc -------------------------------------------------
e2e_expect_output "getent passwd shows alice from the database" \
	"^alice:x:$alice_uid:$alice_uid:Alice Liddell:/home/alice:/bin/bash\$" getent passwd alice
e2e_expect_output "getent passwd by uid finds alice" "^alice:" getent passwd "$alice_uid"
e2e_expect_output "getent passwd still shows local users first (files)" "^localuser:x:4242:" \
	getent passwd localuser
e2e_expect_output "getent group admin lists alice" '^admin:x:[0-9]+:alice$' getent group admin
e2e_expect_output "getent group user lists effective members through inclusion" \
	'^user:x:[0-9]+:(alice|bob|carol)(,(alice|bob|carol)){2}$' getent group user
e2e_expect_output "alice's personal group has gid = uid" "^alice:x:$alice_uid:\$" getent group alice
e2e_expect_output "id alice shows admin, moderator and user" \
	'groups=.*admin.*' id alice
e2e_expect_output "id alice includes the inherited role user" '\(user\)' id alice
e2e_expect_output "id dave shows only his personal group" '^uid=[0-9]+\(dave\) gid=[0-9]+\(dave\) groups=[0-9]+\(dave\)$' id dave
e2e_expect_output "getent initgroups alice lists the three role gids" \
	'^alice +[0-9]+ [0-9]+ [0-9]+$' getent initgroups alice
e2e_expect_output "getent shadow alice (as root) shows her hash" '^alice:\$y\$' getent shadow alice
e2e_expect_fail "getent shadow as an unprivileged user shows nothing of the database" \
	e2e_as nobody getent shadow alice
setup udb grant dave moderator
e2e_expect_output "a new grant shows at once" '^moderator:x:[0-9]+:.*dave' getent group moderator
setup udb revoke dave moderator
e2e_expect_output "a revoked grant disappears at once" \
	'^moderator:x:[0-9]+:(alice|carol),(alice|carol)$' getent group moderator
setup udb grant dave user --until +2s
e2e_expect_output "a grant with an expiry counts before it" '^user:.*dave' getent group user
sleep 3
e2e_expect_output "an expired grant disappears by itself" \
	'^user:x:[0-9]+:(alice|bob|carol)(,(alice|bob|carol)){2}$' getent group user

# --- sshd with pam_userdb -------------------------------------------------
e2e_setup_pam sshd - <<EOF
auth     required $PAM_MOD
account  required $PAM_MOD roles_required=user
password required $PAM_MOD
session  optional $PAM_MOD
session  required pam_permit.so
EOF
e2e_start_sshd "$PORT"
e2e_expect_output "alice logs in over ssh with her password and runs a command" \
	'^alice$' e2e_ssh alice "$PW_ALICE" id -un
e2e_expect_output "the ssh session has alice's role groups" '(^| )admin( |$)' \
	e2e_ssh alice "$PW_ALICE" id -Gn
e2e_expect_output "the login was recorded by the session group" '"login_count": *2' \
	udb --json user show alice
e2e_expect_fail "a wrong password is refused" e2e_ssh alice 'wrong-password' id -un
e2e_expect_output "carol (moderator, which includes user) passes roles_required=user" \
	'^carol$' e2e_ssh carol "$PW_CAROL" id -un
e2e_expect_fail "dave, without the role user, is refused" e2e_ssh dave "$PW_DAVE" id -un
setup udb user disable bob
e2e_expect_fail "a disabled user is refused" e2e_ssh bob "$PW_BOB" id -un
setup udb user enable bob
e2e_expect_output "an enabled user gets in again" '^bob$' e2e_ssh bob "$PW_BOB" id -un
setup udb user expire bob --account 2001-01-01
e2e_expect_fail "an account past not_after is refused" e2e_ssh bob "$PW_BOB" id -un
setup udb user expire bob --account never
for _ in 1 2 3; do e2e_ssh carol 'wrong-password' true >/dev/null 2>&1; done
e2e_expect_fail "after deny=3 failures the right password is refused (locked)" \
	e2e_ssh carol "$PW_CAROL" id -un
setup udb user unlock carol
e2e_expect_output "userdb user unlock lets carol in again" '^carol$' e2e_ssh carol "$PW_CAROL" id -un
e2e_stop_sshd
e2e_start_sshd "$PORT" 'AllowGroups admin'
e2e_expect_output "AllowGroups admin (a role, through NSS) admits alice" '^alice$' \
	e2e_ssh alice "$PW_ALICE" id -un
e2e_expect_fail "AllowGroups admin refuses bob" e2e_ssh bob "$PW_BOB" id -un
e2e_stop_sshd

# --- sudo on roles ---------------------------------------------------------
e2e_setup_sudoers '%admin ALL=(ALL) NOPASSWD: /usr/bin/id' '%moderator ALL=(ALL) NOPASSWD: /usr/bin/whoami'
e2e_expect_output "sudo admits alice through %admin" '^root$' e2e_as alice sudo -n /usr/bin/id -un
e2e_expect_fail "sudo refuses bob (no admin)" e2e_as bob sudo -n /usr/bin/id -un
e2e_expect_output "sudo admits alice through %moderator by role inclusion" '^root$' \
	e2e_as alice sudo -n /usr/bin/whoami
setup udb revoke alice admin
e2e_expect_fail "after revoking admin, alice's next sudo is refused" \
	e2e_as alice sudo -n /usr/bin/id -un
setup udb grant alice admin

# --- Debian's stock common-* with the shipped pam-auth-update profile --------
e2e_overlay /usr/share/pam-configs || _e2e_die "cannot make pam-configs private"
# pam-auth-update records its choices in debconf's database: keep it private.
e2e_overlay /var/cache/debconf || _e2e_die "cannot make /var/cache/debconf private"
sed "s|@PAM_MODULE@|$PAM_MOD|" "$SRC/dist/pam-config.in" >/usr/share/pam-configs/userdb
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable userdb >/dev/null 2>&1 ||
	_e2e_die "pam-auth-update --enable userdb failed"
e2e_expect_output "pam-auth-update put pam_userdb into common-auth" "$PAM_MOD" cat /etc/pam.d/common-auth
e2e_unbind /etc/pam.d/sshd
e2e_start_sshd "$PORT"
e2e_expect_output "stock stack: a database user logs in" '^alice$' e2e_ssh alice "$PW_ALICE" id -un
e2e_expect_output "stock stack: a local /etc/passwd user logs in" '^localuser$' \
	e2e_ssh localuser "$PW_LOCAL" id -un
for _ in 1 2 3; do e2e_ssh bob 'wrong-password' true >/dev/null 2>&1; done
e2e_expect_fail "stock stack: a locked database user cannot get in through pam_unix either" \
	e2e_ssh bob "$PW_BOB" id -un
setup udb user unlock bob
e2e_expect_fail "stock stack: the local user's password does not work for a database user" \
	e2e_ssh alice "$PW_LOCAL" id -un
e2e_expect_output "su from a local user to alice with her password" '^alice$' \
	e2e_su localuser alice "$PW_ALICE" 'id -un'
e2e_expect_ok "passwd's PAM password group (chpasswd as root) changes alice's password" \
	bash -c "printf 'alice:%s\n' 'Alice-new.9' | chpasswd"
e2e_expect_output "the new password works for the next ssh login" '^alice$' \
	e2e_ssh alice 'Alice-new.9' id -un
e2e_expect_fail "the old password no longer works" e2e_ssh alice "$PW_ALICE" id -un
e2e_stop_sshd
