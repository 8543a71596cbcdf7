#!/bin/bash
# Docs that work verbatim: every snippet README.md and the man pages tell an
# admin to paste, applied exactly as written (docs_blocks.py extracts them by
# their markers; see README.md in this directory), in the order an admin
# follows them, on this Debian 12 made private by run.sh's namespaces and
# overlays over /usr, /etc and /var/lib. After each document, checks of what
# the admin should then see: the install and the database, getent and id
# through the nsswitch lines, the sshd gate (root by key, a local user, a
# database user with the role get in; one without is refused, by password
# and by key), passwd -S seeing the account state and chage -l not knowing
# database users (as README says), the back-out leaving nothing installed;
# the man pages' examples the same way; the README tour's schema version is
# the one `userdb init` prints. Run by meson as e2e-docs: run.sh docs.sh BUILD SRC
set -u
source "$E2E_DIR/lib.sh"
BUILD=$1
SRC=$2
PORT=2240
PW_DB='Db-pass.77'
PW_LOCAL='Local-pass.42'
export DEBIAN_FRONTEND=noninteractive # pam-auth-update without a terminal

e2e_overlay /usr || _e2e_die "cannot make /usr private"
e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
# pam-auth-update goes through debconf: its database (and the lock another
# apt-get on the host may hold) stays private.
e2e_overlay /var/cache/debconf || _e2e_die "cannot make /var/cache/debconf private"
e2e_private_accounts
e2e_add_user localuser 1500 "$PW_LOCAL"
cp /etc/nsswitch.conf "$E2E_TMP/nsswitch.conf.orig"
cp /etc/pam.d/sshd "$E2E_TMP/sshd.pam.orig"
cp /etc/ssh/sshd_config "$E2E_TMP/sshd_config.orig"
grep -q '^passwd:.*systemd' /etc/nsswitch.conf ||
	_e2e_die "not Debian 12's stock nsswitch.conf (no systemd on the passwd line)"

# --- the mechanism ---------------------------------------------------------

# docs_apply_one KIND ARG... BODY: applies one extracted block.
docs_apply_one()
{
	local body=${*: -1} kind=$1 path=${2:-}

	case $kind in
	sh) (cd "$DOCS_CWD" && bash -e "$body") ;;
	file)
		if (($# == 3)); then
			cat "$body" >"$path"
		else
			# $3 is "before", $4 the start of the line to insert before.
			awk -v text="$4" -v body="$body" '
				!done && index($0, text) == 1 {
					while ((getline l < body) > 0) print l
					done = 1
				}
				{ print }
				END { exit !done }' "$path" >"$E2E_TMP/insert" &&
				cat "$E2E_TMP/insert" >"$path"
		fi
		;;
	keys)
		awk -v body="$body" '
			BEGIN { while ((getline l < body) > 0) if (l != "") { split(l, f, " "); want[f[1]] = l; order[++n] = f[1] } }
			{ if ($1 in want) { print want[$1]; seen[$1] = 1 } else print }
			END { for (i = 1; i <= n; i++) if (!(order[i] in seen)) print want[order[i]] }' \
			"$path" >"$E2E_TMP/keys" && cat "$E2E_TMP/keys" >"$path"
		;;
	*) return 2 ;;
	esac
}

# docs_apply FILE: every block of FILE in order, one check each.
docs_apply()
{
	local out=$E2E_TMP/blocks/$(basename "$1") n where
	local -a spec

	python3 "$E2E_DIR/docs_blocks.py" "$out" "$1" ||
		_e2e_die "$1: snippets without a valid marker"
	while IFS=$'\t' read -r -a spec; do
		n=${spec[0]} where=${spec[1]}
		spec=("${spec[@]:2}")
		case ${spec[0]} in
		not-run*) e2e_skip "$where (not run)" "${spec[*]#not-run }" ;;
		*) e2e_expect_ok "$where: ${spec[*]}" docs_apply_one "${spec[@]}" "$out/$n.body" ;;
		esac
	done <"$out/index"
}

e2e_expect_ok "every fenced block of README.md and every man page example has a marker" \
	python3 "$E2E_DIR/docs_blocks.py" "$E2E_TMP/blocks/all" "$SRC/README.md" "$SRC"/doc/*.[1-8]

# The source tree as an admin has it (no build directory), for the README's
# build commands.
DOCS_CWD=$E2E_TMP/src
mkdir -p "$DOCS_CWD"
tar -C "$SRC" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$DOCS_CWD" -xf - ||
	_e2e_die "cannot copy the source tree"

# --- the sshd gate: who gets in --------------------------------------------
KEYS=/run/docs-keys
install -d -m 0755 "$KEYS"
ssh-keygen -q -t ed25519 -N '' -C docs -f "$E2E_TMP/id_docs" || _e2e_die "ssh-keygen failed"
for u in root localuser dana erin; do
	install -m 0644 "$E2E_TMP/id_docs.pub" "$KEYS/$u"
done

ssh_key() { # USER CMD...: a key login, no password
	local user=$1
	shift
	timeout -k 3 "$E2E_SSH_TIMEOUT" ssh -F /dev/null -p "$PORT" -l "$user" -i "$E2E_TMP/id_docs" \
		-o BatchMode=yes -o IdentitiesOnly=yes -o PreferredAuthentications=publickey \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		127.0.0.1 -- "$@"
}

ssh_key_file() { # KEYFILE USER CMD...: a key login with that key
	local key=$1 user=$2
	shift 2
	timeout -k 3 "$E2E_SSH_TIMEOUT" ssh -F /dev/null -p "$PORT" -l "$user" -i "$key" \
		-o BatchMode=yes -o IdentitiesOnly=yes -o PreferredAuthentications=publickey \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		127.0.0.1 -- "$@"
}

check_gate() { # WHICH: the four logins through Debian's /etc/pam.d/sshd
	local which=$1

	e2e_start_sshd "$PORT" "PubkeyAuthentication yes" "AuthorizedKeysFile $KEYS/%u" "StrictModes no" \
		"PermitRootLogin prohibit-password"
	e2e_expect_output "$which: root logs in by key" '^root$' ssh_key root id -un
	e2e_expect_output "$which: a local user logs in by password" '^localuser$' \
		e2e_ssh localuser "$PW_LOCAL" id -un
	e2e_expect_output "$which: a local user logs in by key" '^localuser$' ssh_key localuser id -un
	e2e_expect_output "$which: a database user with the role logs in by password" '^dana$' \
		e2e_ssh dana "$PW_DB" id -un
	e2e_expect_output "$which: ... and by key" '^dana$' ssh_key dana id -un
	e2e_expect_fail "$which: a database user without the role is refused (password)" \
		e2e_ssh erin "$PW_DB" id -un
	e2e_expect_fail "$which: ... and by key" ssh_key erin id -un
	e2e_stop_sshd
}

# README step 6: the AuthorizedKeysCommand lines it wrote into
# /etc/ssh/sshd_config, given to this run's sshd as written; keys only from
# the database (no key file for dana and erin).
check_db_keys() {
	local -a lines
	mapfile -t lines < <(grep '^AuthorizedKeysCommand' /etc/ssh/sshd_config)
	e2e_expect_output "README's sshd_config: both AuthorizedKeysCommand lines are there" '^2$' \
		echo "${#lines[@]}"
	ssh-keygen -q -t ed25519 -N '' -C dbkey -f "$E2E_TMP/id_dbkey" || _e2e_die "ssh-keygen failed"
	e2e_expect_ok "(setup) ssh-key add dana and erin" sh -c \
		"userdb ssh-key add dana \"\$(cat '$E2E_TMP/id_dbkey.pub')\" >/dev/null &&
		userdb ssh-key add erin \"\$(cat '$E2E_TMP/id_dbkey.pub')\" >/dev/null"
	e2e_start_sshd "$PORT" "PubkeyAuthentication yes" "${lines[@]}" "PermitRootLogin prohibit-password"
	e2e_expect_output "README keys: dana logs in with a key from the database" '^dana$' \
		ssh_key_file "$E2E_TMP/id_dbkey" dana id -un
	e2e_expect_fail "README keys: erin's database key meets the role gate" \
		ssh_key_file "$E2E_TMP/id_dbkey" erin id -un
	e2e_expect_fail "README keys: root gets no key from the database" \
		ssh_key_file "$E2E_TMP/id_dbkey" root id -un
	e2e_stop_sshd
}

# The database users the gate examples speak of, made once the tool is
# installed (after the README's first block).
make_users() {
	userdb role add ops >/dev/null &&
		printf '%s\n' "$PW_DB" | userdb user add dana --role ops --password-stdin >/dev/null &&
		printf '%s\n' "$PW_DB" | userdb user add erin --password-stdin >/dev/null
}

# --- README.md -------------------------------------------------------------
# Applied up to the gate, then checked, then the back-out block.
readme=$E2E_TMP/blocks/README.md
python3 "$E2E_DIR/docs_blocks.py" "$readme" "$SRC/README.md" || _e2e_die "README.md markers"
backout=$(grep -n 'pam-auth-update --disable' "$readme"/*.body | head -1 | cut -d: -f1)
[[ -n $backout ]] || _e2e_die "README.md has no back-out block"
backout=$(basename "$backout" .body)
made_users=0
while IFS=$'\t' read -r -a spec; do
	n=${spec[0]} where=${spec[1]}
	spec=("${spec[@]:2}")
	if [[ $n == "$backout" ]]; then
		e2e_expect_output "after the README: getent passwd dana through nsswitch" \
			'^dana:x:[0-9]+:[0-9]+:' getent passwd dana
		e2e_expect_output "after the README: id dana lists the role" 'ops' id dana
		e2e_expect_output "after the README: root is still root" '^root:x:0:0:' getent passwd root
		check_gate "README gate"
		check_db_keys
		# README and libnss_userdb.so.2(8): passwd -S sees the state.
		e2e_expect_output "after the README: passwd -S dana says P (usable password)" \
			'^dana P ' passwd -S dana
		e2e_expect_ok "(setup) disable erin" userdb user disable erin
		e2e_expect_output "after the README: passwd -S erin says L once disabled" \
			'^erin L ' passwd -S erin
		# ... and chage does not (README says so rather than claim it).
		e2e_expect_fail "after the README: chage -l does not know database users" chage -l dana
	fi
	case ${spec[0]} in
	not-run*) e2e_skip "$where (not run)" "${spec[*]#not-run }" ;;
	*) e2e_expect_ok "$where: ${spec[*]}" docs_apply_one "${spec[@]}" "$readme/$n.body" ;;
	esac
	if ((!made_users)) && command -v userdb >/dev/null && [[ -e /var/lib/userdb/public.db ]]; then
		e2e_expect_ok "(setup) role ops, users dana (in ops) and erin" make_users
		made_users=1
	fi
done <"$readme/index"

no_install_left() { [[ -z $(find "$E2E_TMP/overlay/_usr/upper" \( -type f -o -type l -o -type c \) -print -quit) ]]; }
e2e_expect_ok "after the back-out: nothing of the install is left in /usr" no_install_left
e2e_expect_fail "after the back-out: ldconfig no longer lists libnss_userdb.so.2" \
	sh -c 'ldconfig -p | grep -q libnss_userdb'
e2e_expect_ok "after the back-out: nsswitch.conf is Debian's again" \
	diff "$E2E_TMP/nsswitch.conf.orig" /etc/nsswitch.conf
e2e_expect_ok "after the back-out: /etc/pam.d/sshd is Debian's again" \
	diff "$E2E_TMP/sshd.pam.orig" /etc/pam.d/sshd
e2e_expect_ok "after the back-out: sshd_config is Debian's again" \
	diff "$E2E_TMP/sshd_config.orig" /etc/ssh/sshd_config

# The tour's first line is what `userdb init` prints today.
tour_line=$(grep -m1 '^created a new database in /var/lib/userdb (schema version' "$SRC/README.md")
printf 'dbdir = %s\n' "$E2E_TMP/tourdb" >"$E2E_TMP/tour.conf"
e2e_expect_output "the README tour shows the schema version userdb init prints" \
	"^${tour_line//[()]/.}\$" \
	sh -c "'$BUILD/cli/userdb' --config '$E2E_TMP/tour.conf' init | sed 's|$E2E_TMP/tourdb|/var/lib/userdb|'"

# --- the man pages ---------------------------------------------------------
# Installed again from the README's build, with the profile enabled; each
# page's examples are then applied as written.
e2e_expect_ok "(setup) install again for the man pages" meson install --quiet -C "$DOCS_CWD/build"
ln -s /usr/local/share/pam-configs/userdb /usr/share/pam-configs/userdb
e2e_expect_ok "(setup) pam-auth-update --enable userdb" pam-auth-update --enable userdb

docs_apply "$SRC/doc/libnss_userdb.so.2.8"
e2e_expect_output "libnss_userdb.so.2(8): getent passwd dana" '^dana:x:' getent passwd dana
e2e_expect_output "libnss_userdb.so.2(8): getent group ops" '^ops:x:[0-9]+:dana$' getent group ops

docs_apply "$SRC/doc/pam_userdb.8"
check_gate "pam_userdb(8) gate"

docs_apply "$SRC/doc/userdb.8"

# Last: its example narrows the id ranges, which hides everyone made above.
docs_apply "$SRC/doc/userdb.conf.5"
e2e_expect_ok "userdb.conf(5): a new user gets a uid in its range 20000-29999" \
	sh -c 'userdb user add confuser >/dev/null && uid=$(id -u confuser) && [ "$uid" -ge 20000 ] && [ "$uid" -le 29999 ]'
