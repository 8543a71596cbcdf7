#!/bin/bash
# The demo's steps, run by scripts/demo inside tests/e2e/run.sh's private
# namespaces with the e2e harness (tests/e2e/lib.sh). Prints each command it
# runs and what the answer shows.
set -u
source "$(dirname "$0")/../tests/e2e/lib.sh"

BUILD=$1
SRC=$2
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
export PATH=$BUILD/cli:$PATH

step() { printf '\n### %s\n' "$*"; }
show() {
	printf '$ %s\n' "$*"
	"$@" 2>&1 | sed 's/^/  /'
}

step "1. A role database: roles admin ⊇ moderator ⊇ user, users with emails"
e2e_overlay /var/lib
e2e_overlay /home
printf 'dbdir = /var/lib/userdb\n' >/etc/userdb.conf
show userdb init
show userdb role add user --description "Can log in" --permission ssh:login
show userdb role add moderator --includes user --permission forum:moderate
show userdb role add admin --includes moderator --permission system:sudo
echo '$ echo ... | userdb user add alice --first-name Alice --last-name Liddell --email alice@example.org --role admin --create-home --password-stdin'
echo 'Wonderland-1865' | userdb user add alice --first-name Alice --last-name Liddell \
	--email alice@example.org --role admin --create-home --password-stdin 2>&1 | sed 's/^/  /'
echo '$ echo ... | userdb user add bob --first-name Bob --email bob@example.org --role user --create-home --password-stdin'
echo 'Builder-1999' | userdb user add bob --first-name Bob --email bob@example.org \
	--role user --create-home --password-stdin 2>&1 | sed 's/^/  /'
echo '$ echo ... | userdb user add carol --role moderator --create-home --password-stdin'
echo 'Carol-2024!' | userdb user add carol --role moderator --create-home --password-stdin 2>&1 | sed 's/^/  /'
show userdb user show alice

step "2. Every program sees the database through NSS (nsswitch: files userdb)"
e2e_private_accounts
e2e_setup_nss "$BUILD/nss_userdb"
show grep userdb /etc/nsswitch.conf
show getent passwd alice bob carol
show getent group admin moderator user
show id alice
show id bob
show ls -ld /home/alice /home/bob /home/carol

step "3. alice logs in over ssh; sshd's PAM stack uses pam_userdb with roles_required=user"
e2e_setup_pam sshd - <<PAM
auth     required $PAM_MOD
account  required $PAM_MOD roles_required=user
password required $PAM_MOD
session  optional $PAM_MOD
session  required pam_permit.so
PAM
e2e_start_sshd 2222
echo '$ sshpass -p ... ssh alice@127.0.0.1 "id; pwd"'
e2e_ssh alice 'Wonderland-1865' 'id; pwd' 2>&1 | sed 's/^/  /'
echo '$ sshpass -p wrong-password ssh alice@127.0.0.1 id     (a wrong password)'
if e2e_ssh alice 'wrong-password' id >/dev/null 2>&1; then
	echo "  UNEXPECTED: logged in"
else
	echo "  refused"
fi

step "4. sudo rule '%admin ALL=(ALL) NOPASSWD: /usr/bin/id': admitted by role, refused without it"
e2e_setup_sudoers '%admin ALL=(ALL) NOPASSWD: /usr/bin/id'
echo '$ runuser -u alice -- sudo -n /usr/bin/id -un      (alice has admin)'
e2e_as alice sudo -n /usr/bin/id -un 2>&1 | sed 's/^/  /'
echo '$ runuser -u bob -- sudo -n /usr/bin/id -un        (bob has only user)'
e2e_as bob sudo -n /usr/bin/id -un 2>&1 | sed 's/^/  /'
show userdb revoke alice admin
echo '$ runuser -u alice -- sudo -n /usr/bin/id -un      (right after the revoke)'
e2e_as alice sudo -n /usr/bin/id -un 2>&1 | sed 's/^/  /'
show userdb grant alice admin

step "4b. An ssh session opened before a revoke: sudo uses its login-time groups unless sudo.conf says 'Set group_source dynamic'"
revoke_during_session()
{
	echo '$ sshpass -p ... ssh alice@127.0.0.1 ...      (a session opens and waits)'
	e2e_open_session alice 'Wonderland-1865' 'id -Gn; sudo -n /usr/bin/id -un' ||
		echo "  UNEXPECTED: the session did not open"
	show userdb revoke alice admin
	echo '$ id -Gn; sudo -n /usr/bin/id -un             (in the session opened before)'
	e2e_session_continue 2>&1 | sed 's/^/  /'
	show userdb grant alice admin
}
revoke_during_session
echo '$ echo "Set group_source dynamic" >>/etc/sudo.conf'
echo 'Set group_source dynamic' >>/etc/sudo.conf
revoke_during_session

step "5. A disabled user is refused at once"
show userdb user disable bob
echo '$ sshpass -p ... ssh bob@127.0.0.1 id'
if e2e_ssh bob 'Builder-1999' id >/dev/null 2>&1; then
	echo "  UNEXPECTED: logged in"
else
	echo "  refused (account disabled)"
fi
show userdb user show bob

step "6. A second factor: carol enrols a TOTP app, then logs in with her password and a code"
echo '$ userdb totp enroll carol      (the key, the otpauth:// URI and a QR code to scan)'
enrolment=$(userdb totp enroll carol 2>&1)
sed 's/^/  /' <<<"$enrolment"
key=$(sed -n 's/^key: *//p' <<<"$enrolment")
echo '$ userdb totp confirm carol "$(oathtool --totp -b KEY)"      (oathtool stands in for her phone)'
userdb totp confirm carol "$(oathtool --totp -b -N "@$(($(date +%s) - 30))" "$key")" 2>&1 | sed 's/^/  /'
kbd_carol() {
	python3 "$SRC/tests/e2e/totp_pty.py" --password 'Carol-2024!' "$@" -- ssh -F /dev/null -p 2222 \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o PubkeyAuthentication=no -o PreferredAuthentications=keyboard-interactive \
		-o NumberOfPasswordPrompts=1 -l carol 127.0.0.1 -- id -un 2>&1
}
echo '$ ssh carol@127.0.0.1 id -un      (keyboard-interactive: her password, then the code of her app)'
login=$(kbd_carol --totp "$key")
grep -v '^# code' <<<"$login" | sed 's/^/  /'
code=$(sed -n 's/^# code: //p' <<<"$login")
echo "\$ ssh carol@127.0.0.1 id -un      (the same code, $code, typed again)"
kbd_carol --code "$code" | sed 's/^/  /'
show userdb totp status carol
e2e_stop_sshd

step "7. Fleet mode: this box's store moves into a PostgreSQL database (private, started here for the demo); host web1 keeps a copy"
# shellcheck source=/dev/null
source "$SRC/tests/central/pg.sh"
pg_start >/dev/null
trap 'pg_stop; _e2e_exit' EXIT
echo "central = $PG_CONNINFO" >>/etc/userdb.conf
echo '$ echo "central = host=... dbname=userdb user=udb_admin passfile=..." >>/etc/userdb.conf'
show userdb central init
show userdb central push-local
echo '$ userdb host add web1 --allow-role admin --passfile /etc/userdb-web1.pgpass'
userdb host add web1 --allow-role admin --passfile /etc/userdb-web1.pgpass >"$E2E_TMP/web1.out" 2>&1
sed 's/\(:userdb_host_web1:\).*/\1(a random password)/; s/^/  /' "$E2E_TMP/web1.out"
# web1 is simulated on this box: its own dbdir and config, as the lines say.
{
	echo "dbdir = /var/lib/userdb-web1"
	sed -n '/^# on web1, in \/etc\/userdb.conf:$/,/^# /{/^#/d;p}' "$E2E_TMP/web1.out"
} >/etc/userdb-web1.conf
(umask 077 && sed -n '/^# on web1, in \/etc\/userdb-web1.pgpass/{n;p}' "$E2E_TMP/web1.out" \
	>/etc/userdb-web1.pgpass)
web1() { userdb --config /etc/userdb-web1.conf "$@"; }
echo '$ web1: userdb init && userdb sync      (on web1, with the lines above in its userdb.conf)'
{ web1 init >/dev/null && web1 sync; } 2>&1 | sed 's/^/  /'
show web1 user list --role admin
show userdb revoke alice admin
echo '$ web1: userdb sync      (userdb-sync.service runs `userdb sync --follow` there)'
web1 sync 2>&1 | sed 's/^/  /'
show web1 user list --role admin
echo '$ (central stops)'
pg_stop
echo '$ web1: userdb sync'
web1 sync 2>&1 | sed 's/^/  /'
echo '$ web1: userdb user show alice      (the local copy answers; logins never wait for central)'
web1 user show alice 2>&1 | sed -n '1,4p' | sed 's/^/  /'
printf '\nDemo done. Nothing on the host changed: it all ran in a private namespace.\n'
