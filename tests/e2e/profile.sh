#!/bin/bash
#
# tests/e2e/profile.sh: the shipped pam-auth-update profile (dist/pam-config.in)
# on Debian's stock common-* stacks, through the clients an admin uses:
# password changes by passwd and chpasswd for /etc/shadow users, root and
# database users, with and without libpam-pwquality; which sessions record
# a login. Run by meson as e2e-profile:
#   tests/e2e/run.sh profile.sh BUILD_DIR SOURCE_DIR [DEB_DIR]
# DEB_DIR holds the libpam-pwquality .deb files scripts/deps fetched (never
# installed on the host); without them those checks are skipped.

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: profile.sh BUILD_DIR SOURCE_DIR [DEB_DIR]}
SRC=${2:?usage: profile.sh BUILD_DIR SOURCE_DIR [DEB_DIR]}
DEBS=${3:-/var/cache/userdb-test/debs}
USERDB=$BUILD/cli/userdb
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so

for f in "$USERDB" "$PAM_MOD" "$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done

udb() { "$USERDB" "$@"; }
setup() { "$@" >/dev/null || _e2e_die "setup step failed: $*"; }

# --- a database user, a local user, root ------------------------------------
e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
cat >/etc/userdb.conf <<'EOF'
dbdir = /var/lib/userdb
EOF
chmod 0644 /etc/userdb.conf
unset USERDB_CONF
setup udb init
printf '%s\n' 'Dana-pw.0a' | setup udb user add dana --password-stdin
setup udb role add admin
printf '%s\n' 'Alice-pw.0a' | setup udb user add alice --role admin --password-stdin

e2e_private_accounts --writable
e2e_add_user lena 4242 'Lena-pw.0a'
printf 'root:%s\n' 'Root-pw.0a' | chpasswd -c SHA512 || _e2e_die "cannot set root's password"
e2e_setup_nss "$BUILD/nss_userdb"

e2e_overlay /usr/share/pam-configs || _e2e_die "cannot make pam-configs private"
# pam-auth-update records its choices in debconf's database: keep it private.
e2e_overlay /var/cache/debconf || _e2e_die "cannot make /var/cache/debconf private"
sed "s|@PAM_MODULE@|$PAM_MOD|" "$SRC/dist/pam-config.in" >/usr/share/pam-configs/userdb
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable userdb >/dev/null 2>&1 ||
	_e2e_die "pam-auth-update --enable userdb failed"
# A service that logs in through the stock stacks, for checking passwords.
e2e_setup_pam e2e-login - <<'EOF'
@include common-auth
@include common-account
EOF

# login_ok USER PASSWORD: the password is accepted by common-auth.
login_ok() { printf '%s\n' "$2" | pamtester e2e-login "$1" authenticate acct_mgmt; }
dana_hash() { udb --json user show dana | python3 -c 'import json,sys; print(json.load(sys.stdin)["account"]["password_changed_at"])'; }

# A new password each time: pam_unix's obscure and pam_pwquality refuse one
# too similar to the last.
newpw() { printf 'Qv-%s.%s' "$(openssl rand -hex 4)" "$(openssl rand -base64 3)"; }
shadow_hash() { awk -F: -v n="$1" '$1 == n { print $2 }' /etc/shadow; }

# password_changes LABEL: every way to change a password, for every kind of
# user, through the stack pam-auth-update made. Each change is checked by
# logging in with the new password (and not the old) through common-auth.
password_changes()
{
	local tag=$1 old new hash

	# lena, a user of /etc/passwd and /etc/shadow.
	old=$PW_LENA new=$(newpw)
	e2e_expect_ok "$tag: lena changes her password with passwd" \
		e2e_pty_answers 3 "$old" "$new" "$new" runuser -u lena -- passwd
	e2e_expect_ok "$tag: lena's new password works" login_ok lena "$new"
	e2e_expect_fail "$tag: lena's old password no longer works" login_ok lena "$old"
	PW_LENA=$new old=$new new=$(newpw)
	e2e_expect_fail "$tag: passwd with a wrong current password changes nothing" \
		e2e_pty_answers 3 "wrong-$old" "$new" "$new" runuser -u lena -- passwd
	e2e_expect_ok "$tag: ... lena's password is unchanged" login_ok lena "$old"
	e2e_expect_ok "$tag: root sets lena's password with passwd lena" \
		e2e_pty_answers 2 "$new" "$new" passwd lena
	e2e_expect_ok "$tag: ... it works" login_ok lena "$new"
	new=$(newpw)
	e2e_expect_ok "$tag: root sets lena's password with chpasswd" \
		bash -c 'printf "lena:%s\n" "$1" | chpasswd' _ "$new"
	e2e_expect_ok "$tag: ... it works" login_ok lena "$new"
	new=$(newpw)
	hash=$(openssl passwd -6 -stdin <<<"$new")
	e2e_expect_ok "$tag: root sets lena's hash with chpasswd -e" \
		bash -c 'printf "lena:%s\n" "$1" | chpasswd -e' _ "$hash"
	e2e_expect_ok "$tag: ... it works" login_ok lena "$new"
	PW_LENA=$new

	# root's own account goes through the same lines.
	new=$(newpw)
	e2e_expect_ok "$tag: root changes its own password with passwd" \
		e2e_pty_answers 2 "$new" "$new" passwd
	e2e_expect_ok "$tag: ... root's new password works" login_ok root "$new"
	e2e_expect_fail "$tag: ... root's old password no longer works" login_ok root "$PW_ROOT"
	PW_ROOT=$new

	# dana, a database user.
	old=$PW_DANA new=$(newpw)
	e2e_expect_ok "$tag: dana changes her password with passwd" \
		e2e_pty_answers 3 "$old" "$new" "$new" runuser -u dana -- passwd
	e2e_expect_ok "$tag: dana's new password works" login_ok dana "$new"
	e2e_expect_fail "$tag: dana's old password no longer works" login_ok dana "$old"
	PW_DANA=$new new=$(newpw)
	e2e_expect_ok "$tag: root sets dana's password with passwd dana" \
		e2e_pty_answers 2 "$new" "$new" passwd dana
	e2e_expect_ok "$tag: ... it works" login_ok dana "$new"
	new=$(newpw)
	e2e_expect_ok "$tag: root sets dana's password with chpasswd" \
		bash -c 'printf "dana:%s\n" "$1" | chpasswd' _ "$new"
	e2e_expect_ok "$tag: ... it works" login_ok dana "$new"
	PW_DANA=$new
	# chpasswd -e writes /etc/shadow itself, without PAM: a database user
	# is not there. Refused by design (hashes are imported by userdb).
	hash=$(openssl passwd -6 -stdin <<<"$(newpw)")
	e2e_expect_fail_output "$tag: chpasswd -e for a database user is refused" \
		"user 'dana' does not exist" \
		bash -c 'printf "dana:%s\n" "$1" | chpasswd -e' _ "$hash"
	e2e_expect_ok "$tag: ... dana's password is unchanged" login_ok dana "$PW_DANA"
	e2e_expect_fail "$tag: ... and /etc/shadow has no dana" grep -q '^dana:' /etc/shadow
}

PW_LENA='Lena-pw.0a' PW_ROOT='Root-pw.0a' PW_DANA='Dana-pw.0a'
password_changes "stock"

# A database that cannot be opened: local users (root) still change their
# passwords; a database user's change fails closed.
mv /var/lib/userdb /var/lib/userdb.away || _e2e_die "cannot move the database away"
new=$(newpw)
e2e_expect_ok "database missing: root sets lena's password with chpasswd" \
	bash -c 'printf "lena:%s\n" "$1" | chpasswd' _ "$new"
e2e_expect_ok "database missing: ... it works" login_ok lena "$new"
PW_LENA=$new new=$(newpw)
e2e_expect_ok "database missing: lena changes hers with passwd" \
	e2e_pty_answers 3 "$PW_LENA" "$new" "$new" runuser -u lena -- passwd
e2e_expect_ok "database missing: ... it works" login_ok lena "$new"
PW_LENA=$new
e2e_expect_fail "database missing: root cannot set dana's password (fails closed)" \
	bash -c 'printf "dana:%s\n" "$1" | chpasswd' _ "$(newpw)"
mv /var/lib/userdb.away /var/lib/userdb || _e2e_die "cannot move the database back"
e2e_expect_ok "database back: dana's password is unchanged" login_ok dana "$PW_DANA"

# An expired /etc/shadow password changed at login (su asks, as login and
# sshd do, with PAM_CHANGE_EXPIRED_AUTHTOK).
chage -d 0 lena || _e2e_die "chage -d 0 lena failed"
new=$(newpw)
e2e_expect_ok "an expired local password is changed when lena logs in with su" \
	e2e_pty_answers 4 "$PW_LENA" "$PW_LENA" "$new" "$new" runuser -u dana -- su lena -c true
e2e_expect_ok "... the new one works" login_ok lena "$new"
PW_LENA=$new

# --- the same next to libpam-pwquality ----------------------------------------
# Its files are unpacked from the .deb files and put in place inside this
# namespace only (overlays), then pam-auth-update adds it as on a host
# where the package is installed: pam_pwquality first, setting PAM_AUTHTOK.
pwquality_setup()
{
	local deb p x=$E2E_TMP/pwquality

	for p in libpam-pwquality libpwquality1 libpwquality-common libcrack2; do
		deb=$(compgen -G "$DEBS/${p}_*.deb" | head -1)
		[[ -n $deb ]] || return 1
		dpkg-deb -x "$deb" "$x" || _e2e_die "dpkg-deb -x $deb failed"
	done
	e2e_overlay /usr/lib/x86_64-linux-gnu || _e2e_die "cannot make the library directory private"
	cp -a "$x"/usr/lib/x86_64-linux-gnu/lib{pwquality,crack}.so.* /usr/lib/x86_64-linux-gnu/ &&
		cp "$x"/lib/x86_64-linux-gnu/security/pam_pwquality.so \
			/usr/lib/x86_64-linux-gnu/security/ &&
		cp "$x"/usr/share/pam-configs/pwquality /usr/share/pam-configs/ &&
		mkdir -p /etc/security &&
		cp "$x"/etc/security/pwquality.conf /etc/security/ ||
		_e2e_die "cannot put libpam-pwquality's files in place"
	# No cracklib dictionary here (cracklib-runtime builds it at install).
	echo 'dictcheck = 0' >>/etc/security/pwquality.conf
	DEBIAN_FRONTEND=noninteractive pam-auth-update --enable pwquality >/dev/null 2>&1 ||
		_e2e_die "pam-auth-update --enable pwquality failed"
	grep -q pam_pwquality.so /etc/pam.d/common-password ||
		_e2e_die "pam-auth-update did not add pam_pwquality"
}

if pwquality_setup; then
	password_changes "pwquality"
	e2e_expect_fail_output "pwquality: a weak password for dana is refused by pam_pwquality" \
		'BAD PASSWORD' e2e_pty_answers 2 abc abc passwd dana
	e2e_expect_ok "pwquality: ... dana's password is unchanged" login_ok dana "$PW_DANA"
else
	e2e_skip "libpam-pwquality: password changes" "no .deb files in $DEBS (scripts/deps fetches them)"
fi

# --- which sessions are logins -------------------------------------------------
logins() { udb --json user show dana | python3 -c 'import json,sys; print(json.load(sys.stdin)["account"]["login_count"])'; }
# login_count_is N CMD...: CMD succeeds and dana's login count is then N.
login_count_is()
{
	local want=$1
	shift
	"$@" || return
	[[ $(logins) == "$want" ]] || { echo "login_count is $(logins), expected $want"; return 1; }
}

e2e_start_sshd 2222
n=$(logins)
e2e_expect_output "stock sshd: dana logs in over ssh" '^dana$' e2e_ssh dana "$PW_DANA" id -un
n=$((n + 1))
e2e_expect_output "... the ssh login is recorded" "^$n\$" logins
e2e_stop_sshd
# A cron job's session: a service through common-session-noninteractive,
# as /etc/pam.d/cron is.
e2e_setup_pam e2e-cron - <<'EOF'
@include common-account
@include common-session-noninteractive
EOF
e2e_expect_ok "a cron-style session (common-session-noninteractive) leaves the login record alone" \
	login_count_is "$n" pamtester e2e-cron dana open_session close_session
e2e_expect_ok "root's su - dana -c (no terminal) is not dana's login" \
	login_count_is "$n" su - dana -c true
e2e_expect_ok "root's su - dana on a terminal is not dana's login" \
	login_count_is "$n" e2e_pty_run unused su - dana -c true
e2e_expect_ok "su dana from lena with dana's password is a switch, not a login" \
	login_count_is "$n" e2e_su lena dana "$PW_DANA" true
e2e_setup_sudoers 'lena ALL=(dana) NOPASSWD: /usr/bin/id'
e2e_expect_ok "sudo -u dana by lena is not dana's login" \
	login_count_is "$n" e2e_as lena sudo -n -u dana /usr/bin/id
# An interactive session through common-session by dana herself is.
e2e_setup_pam e2e-session - <<'EOF'
@include common-account
@include common-session
EOF
e2e_expect_ok "an interactive session (common-session) by dana counts" \
	login_count_is "$((n + 1))" pamtester e2e-session dana open_session close_session

# --- revokes reach open sessions with sudo's group_source dynamic ---------------
# sudo matches %admin against the group list a session got at login unless
# /etc/sudo.conf says otherwise: README's command, run as written.
sudo_conf_cmd=$(sed -n "s/^ *\(echo 'Set group_source dynamic' | .*\)$/\1/p" "$SRC/README.md")
[[ $(wc -l <<<"$sudo_conf_cmd") == 1 && -n $sudo_conf_cmd ]] ||
	_e2e_die "README has no one 'Set group_source dynamic' command"
e2e_setup_sudoers '%admin ALL=(ALL) NOPASSWD: /usr/bin/id'
e2e_start_sshd 2222
revoke_in_open_session()
{
	e2e_open_session alice 'Alice-pw.0a' 'id -Gn; sudo -n /usr/bin/id -un' ||
		_e2e_die "alice's ssh session did not open"
	setup udb revoke alice admin
}
revoke_in_open_session
e2e_expect_output "without group_source dynamic: an open session still sudos after the revoke" \
	$'admin.*\nroot$' e2e_session_continue
setup udb grant alice admin
bash -e -c "$sudo_conf_cmd" >/dev/null || _e2e_die "README's sudo.conf command failed"
grep -qx 'Set group_source dynamic' /etc/sudo.conf || _e2e_die "sudo.conf lacks the line"
revoke_in_open_session
e2e_expect_fail_output "with group_source dynamic in sudo.conf: the open session (still in admin) cannot sudo" \
	$'admin\nsudo: a password is required$' e2e_session_continue
e2e_expect_fail "... and a new one's too" e2e_as alice sudo -n /usr/bin/id -un
setup udb grant alice admin
e2e_expect_output "... and the grant admits a new sudo again" '^root$' \
	e2e_as alice sudo -n /usr/bin/id -un
e2e_stop_sshd
