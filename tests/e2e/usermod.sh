#!/bin/bash
#
# tests/e2e/usermod.sh: usermod and passwd -l parity through real clients,
# on Debian's stock stacks with the shipped pam-auth-update profile:
#  - `user lock-password`: an ssh password login is refused while an ssh
#    key still logs in, the NSS shadow entry shows "!" before the hash
#    (`getent shadow`, `passwd -S` says L); `user unlock-password` lets the
#    password in again.
#  - `user mod --name/--uid/--primary-role`, `role mod --name/--gid`: getent,
#    id and an ssh login see the new name and ids at once, the old name is
#    gone, the personal group follows the uid, a primary role's users follow
#    its gid, the files left to the old uid under the home are counted, and
#    a freed id is not handed out again.
# Run by meson as e2e-usermod:
#   tests/e2e/run.sh usermod.sh BUILD_DIR SOURCE_DIR

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: usermod.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: usermod.sh BUILD_DIR SOURCE_DIR}
USERDB=$BUILD/cli/userdb
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
PORT=2241
PW='Alice-pw.1'

for f in "$USERDB" "$PAM_MOD" "$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done

e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
e2e_overlay /home || _e2e_die "cannot make /home private"
e2e_overlay /usr/share/pam-configs || _e2e_die "cannot make pam-configs private"
e2e_overlay /var/cache/debconf || _e2e_die "cannot make /var/cache/debconf private"
printf 'dbdir = /var/lib/userdb\n' >/etc/userdb.conf
chmod 0644 /etc/userdb.conf
unset USERDB_CONF

udb() { "$USERDB" "$@"; }
setup() { "$@" >/dev/null 2>&1 || _e2e_die "setup step failed: $*"; }

setup udb init
setup udb role add devs
printf '%s\n' "$PW" | setup udb user add alice --role devs --password-stdin --create-home
e2e_private_accounts
e2e_setup_nss "$BUILD/nss_userdb"
sed "s|@PAM_MODULE@|$PAM_MOD|" "$SRC/dist/pam-config.in" >/usr/share/pam-configs/userdb
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable userdb >/dev/null 2>&1 ||
	_e2e_die "pam-auth-update --enable userdb failed"

# Keys from a root-owned file per user (StrictModes off: the file lives
# under the run's temporary directory).
KEYS=$E2E_TMP/keys
install -d -m 0755 "$KEYS"
ssh-keygen -q -t ed25519 -N '' -C e2e-alice -f "$E2E_TMP/alice_key" ||
	_e2e_die "ssh-keygen failed"
install -m 0644 "$E2E_TMP/alice_key.pub" "$KEYS/alice"
e2e_start_sshd "$PORT" "PubkeyAuthentication yes" "AuthorizedKeysFile $KEYS/%u" "StrictModes no"

ssh_key() { # USER CMD...: a login with the key alone
	local user=$1
	shift
	timeout -k 3 30 ssh -F /dev/null -p "$PORT" -l "$user" -i "$E2E_TMP/alice_key" \
		-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR -o PreferredAuthentications=publickey -o IdentitiesOnly=yes \
		-o ControlMaster=no -o ControlPath=none 127.0.0.1 -- "$@"
}

# --- lock-password / unlock-password ----------------------------------------
e2e_expect_output "before: alice logs in with her password" '^alice$' e2e_ssh alice "$PW" id -un
e2e_expect_output "before: and with her key" '^alice$' ssh_key alice id -un
e2e_expect_output "lock-password says so" '^locked the password of user alice$' \
	udb user lock-password alice
e2e_expect_fail "locked: the password login is refused" e2e_ssh alice "$PW" id -un
e2e_expect_output "locked: the key still logs in" '^alice$' ssh_key alice id -un
e2e_expect_output "locked: getent shadow shows ! before the hash" '^alice:!\$[a-z0-9]+\$' \
	getent shadow alice
e2e_expect_output "locked: passwd -S says L" '^alice L ' passwd -S alice
e2e_expect_output "locked: user show says so" '^password: +locked \(' udb user show alice
e2e_expect_output "lock-password again changes nothing" \
	'^the password of user alice was already locked$' udb user lock-password alice
e2e_expect_output "unlock-password says so" '^unlocked the password of user alice$' \
	udb user unlock-password alice
e2e_expect_output "unlocked: the password logs in again" '^alice$' e2e_ssh alice "$PW" id -un
e2e_expect_output "unlocked: getent shadow shows the hash alone" '^alice:\$[a-z0-9]+\$' \
	getent shadow alice
e2e_expect_output "unlock-password again changes nothing" \
	'^the password of user alice was not locked$' udb user unlock-password alice
setup udb user add nopw
e2e_expect_fail_output "lock-password of a user without a password is refused" \
	'has no password to lock' udb user lock-password nopw

# --- usermod -l / -u / -g and groupmod -n / -g parity -----------------------
setup udb role add ops
setup udb ssh-key add alice "$(cat "$E2E_TMP/alice_key.pub")"
old_uid=$(id -u alice)
touch /home/alice/kept
chown "$old_uid" /home/alice/kept
e2e_expect_output "user mod --name --uid: the note counts the home's files of the old uid" \
	"files under '/home/alice' still belong to uid $old_uid" \
	bash -c "'$USERDB' user mod alice --name alys --uid 12345 2>&1"
e2e_expect_output "getent passwd alys: the new name and uid, personal group following" \
	'^alys:x:12345:12345:' getent passwd alys
e2e_expect_fail "getent passwd alice: the old name is gone" getent passwd alice
e2e_expect_output "ssh-authorized-keys serves the key under the new name" 'e2e-alice' \
	udb ssh-authorized-keys alys
e2e_expect_ok "and nothing under the old one" \
	bash -c "[ -z \"\$('$USERDB' ssh-authorized-keys alice 2>/dev/null)\" ]"
e2e_expect_output "getent group alys: the personal group with the new gid" '^alys:x:12345:' 	getent group alys
e2e_expect_output "id alys: the new uid and the roles kept" 	'^uid=12345\(alys\) gid=12345\(alys\) groups=12345\(alys\),[0-9]+\(devs\)$' id alys
e2e_expect_output "alys logs in over ssh with the same password" '^alys 12345$' \
	e2e_ssh alys "$PW" 'echo $(id -un) $(id -u)'
e2e_expect_fail "the old name does not log in" e2e_ssh alice "$PW" id -un
cp "$KEYS/alice" "$KEYS/alys"
e2e_expect_output "the key logs in under the new name" '^alys$' ssh_key alys id -un
e2e_expect_output "user mod --primary-role ops: the passwd entry's gid is the role's" \
	"^alys:x:12345:$(getent group ops | cut -d: -f3):" \
	bash -c "'$USERDB' user mod alys --primary-role ops >/dev/null && getent passwd alys"
e2e_expect_output "role mod --name --gid: getent group shows the new name and gid" \
	'^operators:x:23456:' bash -c "'$USERDB' role mod ops --name operators --gid 23456 \
		>/dev/null 2>&1 && getent group operators"
e2e_expect_fail "the old role name is gone" getent group ops
e2e_expect_output "the primary role's users follow its gid" '^alys:x:12345:23456:' \
	getent passwd alys
e2e_expect_output "id alys shows the renamed role" '\(operators\)' id alys
e2e_expect_output "user mod --primary-role none: the personal group again" \
	'^alys:x:12345:12345:' bash -c "'$USERDB' user mod alys --primary-role none >/dev/null \
		&& getent passwd alys"
setup udb user add later
e2e_expect_ok "a new user gets an id above the highest ever named (ids never reused)" \
	bash -c '[ "$(id -u later)" -gt 23456 ]'
e2e_expect_fail_output "a taken name is refused" 'already taken' udb user mod alys --name later
e2e_expect_fail_output "a taken uid is refused" 'already used' udb user mod alys --uid 23456
