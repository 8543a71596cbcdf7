#!/bin/bash
#
# tests/e2e/totp.sh: the second factor through real clients. A database
# user with a confirmed TOTP factor logs in over ssh with the password and
# the code through keyboard-interactive, with sshd configured by README's
# lines (taken from README.md as written); a wrong or replayed code, and a
# wrong password with the right code, are refused after the same two
# prompts; sudo and su ask for the code after the password; with README's
# `AuthenticationMethods publickey,keyboard-interactive` a key alone does
# not log in, the key then the password and the code do; and with
# second_factor=enrol a user without a factor is shown the QR code and the
# key over ssh and enrolled by a right code. Codes come from oathtool, typed
# at the prompt on a pty (totp_pty.py). Run by meson as e2e-totp:
#   tests/e2e/run.sh totp.sh BUILD_DIR SOURCE_DIR

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: totp.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: totp.sh BUILD_DIR SOURCE_DIR}
USERDB=$BUILD/cli/userdb
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
PTY=$E2E_DIR/totp_pty.py
PORT=2231
PW='Tess-pw.1'
PW_UMA='Uma-pw.2'
PW_LOCAL='Local-pw.3'

for f in "$USERDB" "$PAM_MOD" "$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done
command -v oathtool >/dev/null || e2e_skip_all "oathtool is not installed"

e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
printf 'dbdir = /var/lib/userdb\ndeny = 10\nunlock_time = 600\n' >/etc/userdb.conf
chmod 0644 /etc/userdb.conf
unset USERDB_CONF
udb() { "$USERDB" "$@"; }
setup() { "$@" >/dev/null || _e2e_die "setup step failed: $*"; }

setup udb init
printf '%s\n' "$PW" | setup udb user add tess --password-stdin
printf '%s\n' "$PW_UMA" | setup udb user add uma --password-stdin
key=$(udb --json totp enroll tess | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
[[ -n $key ]] || _e2e_die "totp enroll gave no key"
setup udb totp confirm tess "$(oathtool --totp -b -N "@$(($(date +%s) - 30))" "$key")"

e2e_private_accounts
e2e_add_user localuser 4242 "$PW_LOCAL"
e2e_setup_nss "$BUILD/nss_userdb"
for svc in sshd sudo su; do
	printf '%s\n' "auth required $PAM_MOD" "account required $PAM_MOD" \
		'session required pam_permit.so' >"$E2E_TMP/$svc.pam"
	e2e_setup_pam "$svc" "$E2E_TMP/$svc.pam"
done
e2e_setup_sudoers 'tess ALL=(ALL) /usr/bin/id'

# README's sshd_config lines for the code, as written.
readme_block() { # the fenced block after the not-run marker naming PATTERN
	awk -v pat="$1" '
		index($0, "<!-- not-run: tests/e2e/totp.sh") && index($0, pat) { want = 1; next }
		want && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' "$SRC/README.md"
}
mapfile -t kbd_lines < <(readme_block 'keyboard-interactive')
[[ ${kbd_lines[*]} == *KbdInteractiveAuthentication* ]] ||
	_e2e_die "README.md has no sshd_config block for the code"
mapfile -t both_lines < <(readme_block 'a key alone')
[[ ${both_lines[*]} == 'AuthenticationMethods publickey,keyboard-interactive' ]] ||
	_e2e_die "README.md has no AuthenticationMethods line: '${both_lines[*]}'"

ssh_opts=(-F /dev/null -p "$PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
	-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR -o NumberOfPasswordPrompts=1
	-o GSSAPIAuthentication=no -o HostbasedAuthentication=no -o ControlMaster=no
	-o ControlPath=none -o RequestTTY=no)
kbd() { # PTY_ARGS... -- USER CMD: ssh by keyboard-interactive on a pty
	local -a pa=()
	while [[ $1 != -- ]]; do pa+=("$1"); shift; done
	shift
	python3 "$PTY" "${pa[@]}" -- ssh "${ssh_opts[@]}" -o PubkeyAuthentication=no \
		-o PreferredAuthentications=keyboard-interactive -l "$1" 127.0.0.1 -- "${@:2}"
}
code_now() { oathtool --totp -b "$key"; }
# Until the next 30 s step: an accepted login uses up its step's code, and
# the next login needs a later one.
wait_step() {
	local s=$(($(date +%s) / 30))
	while (($(date +%s) / 30 == s)); do sleep 0.5; done
}
# CMD's output on one line, its newlines as tabs, so that a check's regex
# can say what came after what (the checks grep line by line).
flat() {
	"$@" | tr '\n' '\t'
	return "${PIPESTATUS[0]}"
}

# --- ssh: password and code through keyboard-interactive ------------------
e2e_start_sshd "$PORT" "${kbd_lines[@]}"
e2e_expect_output "ssh: the password, then the code, logs in" \
	$'Password: .*Verification code: .*\ttess\t' \
	flat kbd --password "$PW" --totp "$key" -- tess id -un
used=$(grep -o '# code: [0-9]*' <<<"$E2E_OUTPUT" | head -n 1 | cut -d' ' -f3)
e2e_expect_ok "ssh: it typed a code" test -n "$used"
e2e_expect_fail_output "ssh: the same code again is refused" 'Verification code:' \
	kbd --password "$PW" --code "$used" -- tess id -un
wrong=$(printf '%06d' $(((10#$(code_now) + 500000) % 1000000)))
e2e_expect_fail_output "ssh: a wrong code is refused" 'Verification code:' \
	kbd --password "$PW" --code "$wrong" -- tess id -un
e2e_expect_fail_output "ssh: a wrong password is asked the code too, and refused" \
	$'Password: .*Verification code:' \
	flat kbd --password 'not-her-password' --totp "$key" -- tess id -un
e2e_expect_output "ssh: a user without a factor logs in with the password alone" '^uma$' \
	kbd --password "$PW_UMA" -- uma id -un
e2e_expect_fail_output "ssh: password authentication (which answers every prompt with the password) is off" \
	'Permission denied \(keyboard-interactive\)' ssh "${ssh_opts[@]}" -o BatchMode=yes \
	-o PubkeyAuthentication=no -o PreferredAuthentications=password -l tess 127.0.0.1 -- id
e2e_expect_output "the refusals were counted (3 attempts)" '^failed logins: +3 ' \
	"$USERDB" user show tess

# --- sudo and su ask for the code after the password -----------------------
wait_step
e2e_expect_output "sudo: the password and the code" $'Verification code: .*\tuid=0\\(root\\)' \
	flat python3 "$PTY" --password "$PW" --totp "$key" -- runuser -u tess -- sudo -k /usr/bin/id
e2e_expect_fail_output "sudo: a wrong code is refused" 'Verification code:' \
	python3 "$PTY" --password "$PW" --code "$wrong" -- runuser -u tess -- sudo -k /usr/bin/id
wait_step
e2e_expect_output "su: the password and the code" $'Verification code: .*\ttess\t' \
	flat python3 "$PTY" --password "$PW" --totp "$key" -- runuser -u localuser -- su tess -c 'id -un'
e2e_stop_sshd

# --- a key, then keyboard-interactive --------------------------------------
install -d -m 0755 "$E2E_TMP/keys"
ssh-keygen -q -t ed25519 -N '' -C tess@client -f "$E2E_TMP/id_tess" || _e2e_die "ssh-keygen"
install -m 0644 "$E2E_TMP/id_tess.pub" "$E2E_TMP/keys/tess"
e2e_start_sshd "$PORT" "${both_lines[@]}" "${kbd_lines[@]}" "PubkeyAuthentication yes" \
	"AuthorizedKeysFile $E2E_TMP/keys/%u" "StrictModes no"
keyed=("${ssh_opts[@]}" -i "$E2E_TMP/id_tess" -o IdentitiesOnly=yes -o PubkeyAuthentication=yes
	-o PreferredAuthentications=publickey,keyboard-interactive -l tess 127.0.0.1 -- id -un)
e2e_expect_fail_output "AuthenticationMethods: the key alone does not log in" \
	'Permission denied' ssh -o BatchMode=yes "${keyed[@]}"
wait_step
e2e_expect_output "AuthenticationMethods: after the key, the password and the code log in" \
	$'Password: .*Verification code: .*\ttess\t' \
	flat python3 "$PTY" --password "$PW" --totp "$key" -- ssh "${keyed[@]}"
e2e_expect_output "... and sshd accepted the key first, then keyboard-interactive" \
	$'Partial publickey for tess.*\tAccepted keyboard-interactive/pam for tess' \
	flat grep -E 'publickey for tess|keyboard-interactive/pam for tess' "$E2E_TMP/sshd/sshd.log"
e2e_stop_sshd

# --- self-enrolment at login ----------------------------------------------
printf '%s\n' "auth required $PAM_MOD second_factor=enrol" "account required $PAM_MOD" \
	'session required pam_permit.so' >"$E2E_TMP/sshd.pam"
e2e_setup_pam sshd "$E2E_TMP/sshd.pam"
e2e_start_sshd "$PORT" "${kbd_lines[@]}"
enrol_driver() { # logs uma in, typing the code of the key the login shows
	python3 - "$PTY" "$PW_UMA" "$PORT" <<-'PYEOF'
	import os, pty, re, select, subprocess, sys, time
	pty_py, pw, port = sys.argv[1:4]
	pid, fd = pty.fork()
	if pid == 0:
	    os.execvp("ssh", ["ssh", "-F", "/dev/null", "-p", port, "-o", "StrictHostKeyChecking=no",
	                      "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
	                      "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
	                      "-o", "PreferredAuthentications=keyboard-interactive",
	                      "-l", "uma", "127.0.0.1", "--", "id", "-un"])
	out, deadline = b"", time.monotonic() + 30
	state = 0
	while time.monotonic() < deadline:
	    if not select.select([fd], [], [], 0.2)[0]:
	        continue
	    try:
	        chunk = os.read(fd, 65536)
	    except OSError:
	        break
	    if not chunk:
	        break
	    out += chunk
	    if state == 0 and re.search(rb"Password: ?$", out):
	        time.sleep(0.05); os.write(fd, pw.encode() + b"\n"); state = 1
	    elif state == 1 and re.search(rb"Verification code: ?$", out):
	        key = re.search(rb"secret=([A-Z2-7]+)", out).group(1).decode()
	        code = subprocess.run(["oathtool", "--totp", "-b", key], capture_output=True,
	                              text=True).stdout.strip()
	        time.sleep(0.05); os.write(fd, code.encode() + b"\n"); state = 2
	_, st = os.waitpid(pid, 0)
	sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
	sys.exit(os.waitstatus_to_exitcode(st))
	PYEOF
}
e2e_expect_output "enrol: uma sees the QR code and the key over ssh, types a code, logs in" \
	$'enter the key [A-Z2-7 ]{39}.*\t.*\u2580.*\totpauth://totp/[^\t]*%3Auma[^\t]*.*Verification code: .*\tuma\t' \
	flat enrol_driver
e2e_expect_output "enrol: she has a confirmed second factor now" 'second factor: +TOTP, confirmed' \
	"$USERDB" totp status uma
e2e_expect_fail_output "enrol: and the password alone no longer logs her in" 'Verification code:' \
	kbd --password "$PW_UMA" --code 000000 -- uma id -un
e2e_stop_sshd
