#!/bin/bash
#
# tests/e2e/import.sh: moving accounts from /etc/passwd, shadow and group
# into userdb on a real system. Accounts with SHA-512 and yescrypt hashes,
# a shared group and memberships in a system group are made in private
# copies of the account files; `userdb import --from-system --dry-run`
# changes nothing, a conflict refuses the whole import, then README's
# "Migrating existing accounts" recipe runs as written (the block after its
# not-run marker, which names this script), and afterwards the old
# passwords work through Debian's stock stacks with the shipped profile
# (su, ssh) and `id` shows the same groups as before. Also: a hash set with
# `user add --password-hash-stdin` authenticates through PAM. Run by meson
# as e2e-import:
#   tests/e2e/run.sh import.sh BUILD_DIR SOURCE_DIR

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: import.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: import.sh BUILD_DIR SOURCE_DIR}
USERDB=$BUILD/cli/userdb
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
PORT=2224
PW_ALICE='Alice-old.1'
PW_BOB='Bob-old.2'
PW_CAROL='Carol-old.3'
PW_DANA='Dana-hash.4'
PW_LOCAL='Local-pw.5'

for f in "$USERDB" "$PAM_MOD" "$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done
export PYTHONWARNINGS=ignore
setup() { "$@" >/dev/null || _e2e_die "setup step failed: $*"; }

# --- the database, empty ----------------------------------------------------
e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
cat >/etc/userdb.conf <<'EOF'
dbdir = /var/lib/userdb
EOF
chmod 0644 /etc/userdb.conf
unset USERDB_CONF
# The recipe says `sudo userdb`: the built tool stands in for the installed one.
mkdir -p "$E2E_TMP/bin" && ln -s "$(realpath "$USERDB")" "$E2E_TMP/bin/userdb"
export PATH=$E2E_TMP/bin:$PATH
setup userdb init

# --- accounts in the files: sha512 (alice, bob), yescrypt (carol) -----------
e2e_private_accounts --writable
e2e_add_group dev 10100
e2e_add_user alice 10001 "$PW_ALICE" dev sudo
e2e_add_user bob 10002 "$PW_BOB" dev
e2e_add_user carol 10003 '' users
hash_carol=$(python3 -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], "$y$j9T$GuQ3bK8KgAXDQpl0a7yu91$"))' "$PW_CAROL")
[[ $hash_carol == '$y$'* ]] || _e2e_die "no yescrypt hash: $hash_carol"
setup usermod -p "$hash_carol" carol
e2e_add_user localuser 4242 "$PW_LOCAL"
e2e_expect_output "carol's hash in the files is yescrypt" '^carol:\$y\$' getent shadow carol

declare -A before
for u in alice bob carol; do
	before[$u]="$(id -u "$u") $(id -g "$u") $(id -G "$u" | tr ' ' '\n' | sort -n | tr '\n' ' ')"
done

e2e_setup_nss "$BUILD/nss_userdb"
e2e_overlay /usr/share/pam-configs || _e2e_die "cannot make pam-configs private"
sed "s|@PAM_MODULE@|$PAM_MOD|" "$SRC/dist/pam-config.in" >/usr/share/pam-configs/userdb
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable userdb >/dev/null 2>&1 ||
	_e2e_die "pam-auth-update --enable userdb failed"

# --- dry run and a refused import change nothing ------------------------------
e2e_expect_output "import --dry-run lists the three users and the role dev" \
	'would import 3 users and 1 role' userdb import --from-system --dry-run
e2e_expect_output "the dry run names memberships left in /etc/group" \
	'note: user alice stays a member of group sudo' userdb import --from-system --dry-run
e2e_expect_rc "after the dry run the database has no alice" 67 userdb user show alice
# A group in the gid range shared with a user who stays in the files.
e2e_add_group qa 10200 carol localuser
e2e_expect_rc "a group with a member that is not imported refuses the whole import" 65 \
	userdb import --from-system
e2e_expect_fail_output "the refusal names the clash" \
	'conflict: group qa: member localuser is not among the imported users' \
	userdb import --from-system
e2e_expect_rc "and nothing else was imported (no alice)" 67 userdb user show alice
e2e_expect_rc "nor the role dev" 67 userdb role show dev
setup sed -i '/^qa:/d' /etc/group /etc/gshadow

# --- README's recipe, as written -------------------------------------------
recipe=$E2E_TMP/recipe.sh
awk '/<!-- not-run: run as written by tests\/e2e\/import.sh/ { m = 1; next }
	m && /^```/ { if (in_block) exit; in_block = 1; next }
	in_block { print }' "$SRC/README.md" >"$recipe"
e2e_expect_output "README has the migration recipe" 'userdb import --from-system' cat "$recipe"
# Root needs no sudo; the recipe's `sudo` is a no-op prefix here.
sudo() { "$@"; }
export -f sudo
e2e_expect_ok "README's migration recipe runs as written" bash -e "$recipe"
e2e_expect_fail "alice is no longer in /etc/passwd" grep -q '^alice:' /etc/passwd
e2e_expect_fail "dev is no longer in /etc/group" grep -q '^dev:' /etc/group
e2e_expect_output "alice's sudo membership stayed in /etc/group" '^sudo:.*alice' cat /etc/group
e2e_expect_output "getent passwd alice now comes from userdb" \
	'^alice:x:10001:10001:alice \(e2e\):' getent passwd alice
e2e_expect_output "getent group dev: the role with its members" '^dev:x:10100:alice,bob$' \
	getent group dev
for u in alice bob carol; do
	e2e_expect_output "id $u: the same uid, gid and groups as before" "^${before[$u]}\$" \
		bash -c "echo \"\$(id -u $u) \$(id -g $u) \$(id -G $u | tr ' ' '\n' | sort -n | tr '\n' ' ')\""
done

# --- the old passwords, through the stock stacks with the profile -----------
e2e_expect_output "su to alice with her old password (sha512 from /etc/shadow)" '^alice$' \
	e2e_su localuser alice "$PW_ALICE" 'id -un'
e2e_expect_output "su to carol with her old password (yescrypt)" '^carol$' \
	e2e_su localuser carol "$PW_CAROL" 'id -un'
e2e_expect_fail "a wrong password is refused" e2e_su localuser bob 'wrong-password' 'id -un'
e2e_start_sshd "$PORT"
e2e_expect_output "bob logs in over ssh with his old password" '^bob$' \
	e2e_ssh bob "$PW_BOB" id -un
e2e_expect_output "the ssh session has the role dev" '(^| )dev( |$)' e2e_ssh bob "$PW_BOB" id -Gn
e2e_stop_sshd

# --- a hash handed to user add --password-hash-stdin --------------------------
python3 -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], "$6$Gh7mPq2ZsalT$"))' "$PW_DANA" \
	>"$E2E_TMP/hash_dana"
e2e_expect_ok "user add --password-hash-stdin" \
	bash -c "userdb user add dana --password-hash-stdin <'$E2E_TMP/hash_dana'"
e2e_expect_output "su to dana with the password of that hash" '^dana$' \
	e2e_su localuser dana "$PW_DANA" 'id -un'

