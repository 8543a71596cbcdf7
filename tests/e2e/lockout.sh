#!/bin/bash
#
# tests/e2e/lockout.sh: the lockout through real clients on Debian's stock
# common-* stacks with the shipped pam-auth-update profile (issue 11):
#  - sshd: the right password, whose hash is held at a gate
#    (crypt_gate.so preloaded into sshd) until 20 parallel wrong passwords
#    have locked the account (deny=3), is refused; all 21 are counted;
#  - while locked: the NSS shadow entry shows "!", `passwd -S` says L;
#  - passwd on a pty with wrong current passwords reaches the lock, and the
#    right one is refused afterwards;
#  - a screen-locker-style call (pamtester run as the user through
#    common-auth): wrong guesses are counted through the setuid
#    userdb-chkpwd, the right password works, a locked user is refused, and
#    another user's password cannot be checked;
#  - a local /etc/passwd user's login leaves the database alone.
# Run by meson as e2e-lockout:
#   tests/e2e/run.sh lockout.sh BUILD_DIR SOURCE_DIR CHKPWD_PATH CRYPT_GATE

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: lockout.sh BUILD_DIR SOURCE_DIR CHKPWD_PATH CRYPT_GATE}
SRC=${2:?}
CHKPWD_PATH=${3:?}
CRYPT_GATE=${4:?}
USERDB=$BUILD/cli/userdb
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
CHKPWD=$BUILD/pam_userdb/userdb-chkpwd
PORT=2223
PW_ALICE='Alice-pw.1'
PW_BOB='Bob-pw.2'
PW_CAROL='Carol-pw.3'
PW_LOCAL='Local-pw.5'

for f in "$USERDB" "$PAM_MOD" "$CHKPWD" "$CRYPT_GATE" "$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done
command -v pamtester >/dev/null || e2e_skip_all "pamtester is not installed"

udb() { "$USERDB" "$@"; }
setup() { "$@" >/dev/null || _e2e_die "setup step failed: $*"; }
# shows USER REGEX: a line of `userdb user show USER` matches REGEX
shows() { udb user show "$1" | grep -E "$2"; }

# --- the database, NSS, the shipped profile ---------------------------------
e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
cat >/etc/userdb.conf <<'CONF'
dbdir = /var/lib/userdb
deny = 3
unlock_time = 0
CONF
chmod 0644 /etc/userdb.conf
unset USERDB_CONF
setup udb init
for u in alice:$PW_ALICE bob:$PW_BOB carol:$PW_CAROL; do
	printf '%s\n' "${u#*:}" | setup udb user add "${u%%:*}" --password-stdin
done
e2e_private_accounts
e2e_add_user localuser 4242 "$PW_LOCAL"
e2e_setup_nss "$BUILD/nss_userdb"
e2e_overlay /usr/share/pam-configs || _e2e_die "cannot make pam-configs private"
sed "s|@PAM_MODULE@|$PAM_MOD|" "$SRC/dist/pam-config.in" >/usr/share/pam-configs/userdb
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable userdb >/dev/null 2>&1 ||
	_e2e_die "pam-auth-update --enable userdb failed"
# The helper where the module looks for it, setuid root as installed.
# The nearest existing ancestor of its directory becomes private first, so
# nothing is created on the host.
top=$(dirname "$CHKPWD_PATH")
while [[ ! -d $top ]]; do top=$(dirname "$top"); done
e2e_overlay "$top" || _e2e_die "cannot make $top private"
mkdir -p "$(dirname "$CHKPWD_PATH")" || _e2e_die "cannot make $(dirname "$CHKPWD_PATH")"
install -o root -g root -m 4755 "$CHKPWD" "$CHKPWD_PATH" || _e2e_die "cannot install the helper"

# --- sshd: 20 wrong passwords lock alice while the right one hashes ---------
gate=$E2E_TMP/gate
mkdir -p "$gate"
chmod 0755 "$E2E_TMP"
# sshd passes its environment on to the processes it starts per connection.
export CRYPT_GATE_PASSWORD=$PW_ALICE CRYPT_GATE_DIR=$gate LD_PRELOAD=$CRYPT_GATE
e2e_start_sshd "$PORT" 'MaxStartups 100' 'MaxSessions 100'
unset CRYPT_GATE_PASSWORD CRYPT_GATE_DIR LD_PRELOAD
e2e_ssh alice "$PW_ALICE" id -un >"$E2E_TMP/right.out" 2>&1 &
right=$!
for _ in $(seq 200); do [[ -e $gate/reached ]] && break; sleep 0.1; done
e2e_expect_ok "the right password's hash started in sshd" test -e "$gate/reached"
pids=()
for i in $(seq 20); do
	e2e_ssh alice "wrong-$i" true >/dev/null 2>&1 &
	pids+=($!)
done
wrong_in=0
for p in "${pids[@]}"; do wait "$p" && wrong_in=$((wrong_in + 1)); done
e2e_expect_ok "no wrong password got in over ssh" test "$wrong_in" -eq 0
touch "$gate/open"
wait "$right"
right_rc=$?
e2e_expect_ok "the right password, hashed across the lock, is refused over ssh (ssh: $right_rc)" \
	test "$right_rc" -eq 5
e2e_expect_output "alice is locked" '^locked: +yes' shows alice '^locked:'
# Exactly 21 unless an attempt waited past the 5 s busy timeout on a loaded
# machine (then it was refused and logged as not recorded, which this
# namespace's missing /dev/log cannot show; pam_race checks the exact count).
e2e_expect_output "the attempts were counted (21 unless some could not be recorded)" \
	'^failed logins: +(1[0-9]|2[01]) ' shows alice '^failed logins:'
e2e_stop_sshd

# --- every caller sees the lock ---------------------------------------------
e2e_expect_output "the locked account's shadow entry shows \"!\" before the hash" \
	'^alice:!\$y\$' getent shadow alice
e2e_expect_output "passwd -S says L" '^alice L ' passwd -S alice
setup udb user unlock alice
e2e_expect_output "unlocked: the hash without \"!\"" '^alice:\$y\$' getent shadow alice
e2e_expect_output "passwd -S says P" '^alice P ' passwd -S alice

# --- passwd: wrong current passwords reach the lock -------------------------
for i in 1 2 3; do
	e2e_expect_fail "passwd refuses a wrong current password ($i)" \
		e2e_pty_run "wrong-current-$i" runuser -u bob -- passwd
done
e2e_expect_output "three wrong current passwords locked bob" '^locked: +yes' shows bob '^locked:'
e2e_expect_fail "passwd then refuses bob's right current password" \
	e2e_pty_run "$PW_BOB" runuser -u bob -- passwd
e2e_expect_output "every passwd attempt was counted" '^failed logins: +4 ' shows bob '^failed logins:'
e2e_expect_fail "and bob cannot log in with it either" \
	e2e_su localuser bob "$PW_BOB" 'id -un'
setup udb user unlock bob

# --- a screen locker: pamtester as the user through common-auth -------------
e2e_setup_pam locker - <<'PAM'
@include common-auth
PAM
locker() { # USER PASSWORD [AS]: pamtester as AS (default USER), password on stdin
	printf '%s\n' "$2" | e2e_as "${3:-$1}" pamtester locker "$1" authenticate
}
e2e_expect_output "a screen locker checks carol's password as carol" 'successfully' \
	locker carol "$PW_CAROL"
for i in 1 2; do
	e2e_expect_fail "a wrong password at the screen locker is refused ($i)" \
		locker carol "wrong-$i"
done
e2e_expect_output "and counted (the shadow file was never readable by carol)" \
	'^failed logins: +2 ' shows carol '^failed logins:'
e2e_expect_fail "a third wrong one" locker carol wrong-3
e2e_expect_output "locks carol" '^locked: +yes' shows carol '^locked:'
e2e_expect_fail "the locked user is refused at the screen locker, right password or not" \
	locker carol "$PW_CAROL"
setup udb user unlock carol
e2e_expect_fail "carol cannot check alice's password through the helper" \
	locker alice "$PW_ALICE" carol
e2e_expect_output "which is not counted against alice" '^failed logins: +0( |$)' \
	shows alice '^failed logins:'
e2e_expect_rc "the helper refuses another user's name run by hand (status 3)" 3 \
	bash -c "printf '%s' '$PW_ALICE' | runuser -u carol -- '$CHKPWD_PATH' alice"
e2e_expect_output "a local user's screen locker still works through pam_unix" 'successfully' \
	locker localuser "$PW_LOCAL"

# --- a local user's login leaves the database alone -------------------------
before=$(stat -c '%.9Y %s' /var/lib/userdb/shadow.db /var/lib/userdb/shadow.db-wal)
e2e_expect_output "localuser logs in through su on the stock stack" '^localuser$' \
	e2e_su carol localuser "$PW_LOCAL" 'id -un'
e2e_expect_fail "a wrong password for localuser is refused" \
	e2e_su carol localuser wrong 'id -un'
e2e_expect_ok "neither wrote to the shadow file" \
	test "$(stat -c '%.9Y %s' /var/lib/userdb/shadow.db /var/lib/userdb/shadow.db-wal)" = "$before"
