#!/bin/bash
#
# tests/e2e/admin.sh: what the admin tool does to the running system, with
# real clients: the README's pam_mkhomedir line (taken from README.md as
# written) gives a database user a home at the first ssh login; `user del`
# refuses while an ssh session of the user runs; `user disable --terminate`
# ends that session; with Debian's stock nscd.conf and nscd running, a
# revoke is seen by `id` at once (and, to show the test would notice, a
# change nscd is not told about is not). Run by meson as e2e-admin:
#   tests/e2e/run.sh admin.sh BUILD_DIR SOURCE_DIR

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: admin.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: admin.sh BUILD_DIR SOURCE_DIR}
USERDB=$BUILD/cli/userdb
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
PORT=2231
PW_ALICE='Alice-pw.1'
PW_NEW='Newbie-pw.2'

for f in "$USERDB" "$PAM_MOD" "$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done
command -v nscd >/dev/null || e2e_skip_all "nscd is not installed"

e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
e2e_overlay /home || _e2e_die "cannot make /home private"
e2e_overlay /var/cache/nscd || _e2e_die "cannot make /var/cache/nscd private"
e2e_overlay /usr/share/pam-configs || _e2e_die "cannot make pam-configs private"
e2e_overlay /var/cache/debconf || _e2e_die "cannot make /var/cache/debconf private"
printf 'dbdir = /var/lib/userdb\n' >/etc/userdb.conf
chmod 0644 /etc/userdb.conf
unset USERDB_CONF

udb() { "$USERDB" "$@"; }
setup() { "$@" >/dev/null 2>&1 || _e2e_die "setup step failed: $*"; }

setup udb init
setup udb role add devs
setup udb role add ops
printf '%s\n' "$PW_ALICE" | setup udb user add alice --role devs --password-stdin --create-home
printf '%s\n' "$PW_NEW" | setup udb user add newbie --password-stdin
e2e_private_accounts
e2e_setup_nss "$BUILD/nss_userdb"

# --- Debian's stock stacks, the shipped profile, README's pam_mkhomedir ------
sed "s|@PAM_MODULE@|$PAM_MOD|" "$SRC/dist/pam-config.in" >/usr/share/pam-configs/userdb
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable userdb >/dev/null 2>&1 ||
	_e2e_die "pam-auth-update --enable userdb failed"
mkhomedir=$(sed -n 's/^ *\(session required pam_mkhomedir\.so .*\)$/\1/p' "$SRC/README.md")
[[ $(wc -l <<<"$mkhomedir") == 1 && -n $mkhomedir ]] ||
	_e2e_die "README.md has no (or more than one) pam_mkhomedir line"
grep -q '^# end of pam-auth-update config' /etc/pam.d/common-session ||
	_e2e_die "common-session has no end-of-block line"
# Where README says: after pam-auth-update's block, which it keeps.
printf '%s\n' "$mkhomedir" >>/etc/pam.d/common-session
e2e_start_sshd "$PORT"

e2e_expect_fail "newbie has no home before the first login" test -e /home/newbie
e2e_expect_output "newbie's first ssh login lands in a new home" '^/home/newbie$' \
	e2e_ssh newbie "$PW_NEW" pwd
newbie_uid=$(id -u newbie)
e2e_expect_output "the home is 0700 and newbie's (README's umask=0077)" \
	"^directory 700 $newbie_uid\$" stat -c '%F %a %u' /home/newbie
e2e_expect_ok "it holds a copy of /etc/skel" cmp /etc/skel/.bashrc /home/newbie/.bashrc
e2e_expect_output "user add --create-home made alice's home with the skeleton" \
	"^700 $(id -u alice) .bashrc\$" bash -c 'stat -c "%a %u" /home/alice | tr "\n" " "; ls -A /home/alice | grep -x .bashrc'
e2e_expect_ok "a second login keeps the home" e2e_ssh newbie "$PW_NEW" test -f .profile

# --- a running ssh session: user del refuses, --terminate ends it -----------
sshpass_session() {
	timeout -k 3 120 sshpass -d 3 ssh -F /dev/null -p "$PORT" -l alice \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o PreferredAuthentications=keyboard-interactive,password -o PubkeyAuthentication=no \
		-o NumberOfPasswordPrompts=1 127.0.0.1 -- sleep 100 3<<<"$PW_ALICE"
}
sshpass_session &
session=$!
for _ in $(seq 100); do pgrep -u alice -x sleep >/dev/null && break; sleep 0.1; done
e2e_expect_ok "alice's ssh session runs sleep as alice" pgrep -u alice -x sleep
e2e_expect_fail_output "user del refuses while alice has processes" \
	"user 'alice': [0-9]+ process(es are| is) running as uid" udb user del alice
e2e_expect_output "alice is still there" '^alice:' getent passwd alice
e2e_expect_output "user disable --terminate says how many processes it signalled" \
	'^disabled user alice; [1-9][0-9]* process(es)? signalled$' udb user disable alice --terminate
e2e_expect_fail "no process of alice is left" pgrep -u alice
wait "$session"
session_rc=$?
e2e_expect_ok "the ssh client saw its session end (status $session_rc)" test "$session_rc" -ne 0 -a "$session_rc" -ne 124
e2e_expect_fail "a disabled alice cannot log in again" e2e_ssh alice "$PW_ALICE" true
setup udb user enable alice
e2e_stop_sshd

# --- nscd with Debian's stock nscd.conf -------------------------------------
has_group() { id -Gn "$1" | tr ' ' '\n' | grep -qx "$2"; }
mkdir -p /run/nscd
nscd || _e2e_die "nscd did not start"
for _ in $(seq 50); do [[ -S /run/nscd/socket ]] && break; sleep 0.1; done
[[ -S /run/nscd/socket ]] || _e2e_die "nscd's socket did not appear"
e2e_expect_ok "through nscd, id alice shows devs" has_group alice devs
e2e_expect_output "getent group devs lists alice" '^devs:x:[0-9]+:alice$' getent group devs
setup udb revoke alice devs
e2e_expect_fail "a revoke is seen by id at once" has_group alice devs
e2e_expect_output "and by getent group at once" '^devs:x:[0-9]+:$' getent group devs
setup udb grant alice ops
e2e_expect_ok "a grant is seen at once" has_group alice ops
# The same change with nscd's socket hidden from the tool only: nscd keeps
# serving what it cached, so the checks above would fail without the flush.
e2e_expect_ok "id alice is cached with ops" has_group alice ops
e2e_expect_ok "a revoke nscd is not told about" \
	unshare -m sh -c "mount -t tmpfs tmpfs /run/nscd && '$USERDB' revoke alice ops >/dev/null"
e2e_expect_ok "is not seen: nscd still serves its cache" has_group alice ops
setup udb user mod alice --first-name Alice
e2e_expect_fail "the next change flushes it" has_group alice ops
