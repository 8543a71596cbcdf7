#!/bin/bash
#
# tests/e2e/sshkeys.sh: ssh logins with keys kept in the database, through a
# real sshd whose AuthorizedKeysCommand lines are README.md's, taken from it
# as written (the block marked `verbatim: keys /etc/ssh/sshd_config`): a key
# from the database logs in with no ~/.ssh anywhere; the key is refused once
# the user is disabled and works again once enabled; a key past its --until
# and a removed key are refused; pam_userdb's account phase still gates
# roles (a user with a key but without roles_required is refused); a local
# user's key file still works beside the command. Run by meson as
# e2e-sshkeys:
#   tests/e2e/run.sh sshkeys.sh BUILD_DIR SOURCE_DIR

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: sshkeys.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: sshkeys.sh BUILD_DIR SOURCE_DIR}
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
PORT=2241

for f in "$BUILD/cli/userdb" "$BUILD/cli/userdb-authorized-keys" "$PAM_MOD" \
	"$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done

# sshd runs the command only from a path whose every directory is root's
# and writable by no one else: where README's install puts it.
e2e_overlay /usr/local || _e2e_die "cannot make /usr/local private"
e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
for f in userdb userdb-authorized-keys; do
	install -D -m 0755 "$BUILD/cli/$f" "/usr/local/sbin/$f" || _e2e_die "cannot install $f"
done
printf 'dbdir = /var/lib/userdb\n' >/etc/userdb.conf
chmod 0644 /etc/userdb.conf
unset USERDB_CONF
udb() { /usr/local/sbin/userdb "$@"; }
setup() { "$@" >/dev/null 2>&1 || _e2e_die "setup step failed: $*"; }

# README's sshd_config lines, as written.
readme_lines=$(awk '
	/<!-- verbatim: keys \/etc\/ssh\/sshd_config -->/ { want = 1; next }
	want && /^ *```/ { if (inside) exit; inside = 1; next }
	inside { sub(/^ +/, ""); print }' "$SRC/README.md")
grep -q '^AuthorizedKeysCommand ' <<<"$readme_lines" ||
	_e2e_die "README.md has no sshd_config block with AuthorizedKeysCommand"
mapfile -t sshd_lines <<<"$readme_lines"

setup udb init
setup udb role add ops
setup udb user add dana --role ops
setup udb user add erin
setup udb user add frank --role ops
e2e_private_accounts
e2e_add_user localuser 1500 ''
e2e_setup_nss "$BUILD/nss_userdb"
# README's gate (step 3), with the module of this build.
printf '%s\n' \
	"account [success=ok user_unknown=ignore default=bad] $PAM_MOD roles_required=ops" \
	'account required pam_unix.so' \
	'session required pam_permit.so' >"$E2E_TMP/sshd.pam"
e2e_setup_pam sshd "$E2E_TMP/sshd.pam"

for u in dana erin frank other localuser; do
	ssh-keygen -q -t ed25519 -N '' -C "$u@client" -f "$E2E_TMP/id_$u" || _e2e_die "ssh-keygen"
done
setup udb ssh-key add dana "$(cat "$E2E_TMP/id_dana.pub")"
setup udb ssh-key add erin "$(cat "$E2E_TMP/id_erin.pub")"
setup udb ssh-key add frank "$(cat "$E2E_TMP/id_frank.pub")" --until +8s
KEYS=$E2E_TMP/keys
install -d -m 0755 "$KEYS"
install -m 0644 "$E2E_TMP/id_localuser.pub" "$KEYS/localuser"

ssh_key() { # USER KEY_OWNER CMD...: a key login, no password
	local user=$1 key=$2
	shift 2
	timeout -k 3 "$E2E_SSH_TIMEOUT" ssh -F /dev/null -p "$PORT" -l "$user" -i "$E2E_TMP/id_$key" \
		-o BatchMode=yes -o IdentitiesOnly=yes -o PreferredAuthentications=publickey \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		127.0.0.1 -- "$@"
}
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }

e2e_start_sshd "$PORT" "PubkeyAuthentication yes" "${sshd_lines[@]}" \
	"AuthorizedKeysFile $KEYS/%u" "StrictModes no"

e2e_expect_fail "dana has no home, so no ~/.ssh" test -e "$(getent passwd dana | cut -d: -f6)"
e2e_expect_output "dana logs in with her key from the database" '^dana$' ssh_key dana dana id -un
e2e_expect_fail "a key the database does not give dana is refused" ssh_key dana other id -un
e2e_expect_fail "erin has a key but not the role ops: the account phase refuses her" \
	ssh_key erin erin id -un
e2e_expect_output "... sshd found her key through the command (postponed for the signature)" \
	'Postponed publickey for erin' cat "$E2E_TMP/sshd/sshd.log"
e2e_expect_output "... and then PAM's account phase denied her" \
	'Access denied for user erin by PAM account configuration' cat "$E2E_TMP/sshd/sshd.log"
e2e_expect_output "a local user's key file works beside the command" '^localuser$' \
	ssh_key localuser localuser id -un

e2e_expect_ok "(setup) user disable dana" udb user disable dana
e2e_expect_fail "dana's key is refused once she is disabled" ssh_key dana dana id -un
e2e_expect_output "... and the command, as nobody, serves nothing for her" '^$' \
	as_nobody /usr/local/sbin/userdb-authorized-keys dana
e2e_expect_ok "(setup) user enable dana" udb user enable dana
e2e_expect_output "dana's key works again once enabled" '^dana$' ssh_key dana dana id -un

e2e_expect_output "frank logs in with a key before its --until" '^frank$' ssh_key frank frank id -un
until_at=$(udb --json ssh-key list frank | sed -n 's/.*"until": "\(.*\)".*/\1/p')
while (($(date +%s) < $(date -d "$until_at" +%s))); do sleep 0.5; done
e2e_expect_fail "frank's key is refused after its --until, with no write since" \
	ssh_key frank frank id -un

e2e_expect_ok "(setup) ssh-key del dana's key" \
	udb ssh-key del dana "$(ssh-keygen -lf "$E2E_TMP/id_dana.pub" | cut -d' ' -f2)"
e2e_expect_fail "a removed key is refused" ssh_key dana dana id -un
