#!/bin/bash
#
# tests/e2e/fleet_passwd.sh: a password change on a fleet host through the
# real, setuid `passwd` and `su` on Debian's stacks with the shipped
# profile. run.sh's namespace is the host web1 (/etc/userdb.conf with
# `host =`, the central login and passfile from `userdb host add`); a
# private PostgreSQL (tests/central/pg.sh) is central, managed from an admin
# box whose store and config live in the scratch directory. The write-back
# helper is installed where the module looks for it (HELPER_PATH).
#   1. alice runs `passwd` as herself: central has the new hash first, the
#      host's copy the same; su with the new password works, the old one not;
#   2. the admin box expires her password: su asks her to change it at
#      login (PAM_CHANGE_EXPIRED_AUTHTOK), and the new one reaches central;
#   3. central stopped: `passwd` says "The central user database is
#      unreachable: password not changed.", both copies keep the old hash,
#      which still works.
#
# Run by meson as e2e-fleet-passwd:
#   tests/e2e/run.sh fleet_passwd.sh BUILD_DIR SOURCE_DIR HELPER_PATH

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: fleet_passwd.sh BUILD_DIR SOURCE_DIR HELPER_PATH}
SRC=${2:?}
HELPER_PATH=${3:?}
USERDB=$(realpath -e "$BUILD/cli/userdb" 2>/dev/null) || e2e_skip_all "not built: userdb"
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
HELPER=$BUILD/pam_userdb/userdb-central-passwd
PW_OLD='Alice-old.1'
PW_NEW='Alice-new.2'
PW_FORCED='Alice-forced.3'
PW_LOCAL='Local-pw.5'

for f in "$PAM_MOD" "$HELPER" "$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done
command -v sqlite3 >/dev/null || e2e_skip_all "sqlite3 is not installed"
ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
	e2e_skip_all "PostgreSQL server binaries not found (scripts/deps installs postgresql-15)"
PAM_MOD=$(realpath -e "$PAM_MOD")

setup() { "$@" >"$E2E_TMP/setup.out" 2>&1 || _e2e_die "setup step failed: $* ($(tail -n3 "$E2E_TMP/setup.out"))"; }

# --- central and the admin box ----------------------------------------------
chmod 0755 "$E2E_TMP"
mkdir -m 0755 "$E2E_TMP/pg"
# shellcheck source=../central/pg.sh
source "$SRC/tests/central/pg.sh"
PG_TMPDIR=$E2E_TMP/pg pg_start
passwd_exit()
{
	local rc=$?
	pg_stop
	(exit "$rc")
	_e2e_exit
}
trap passwd_exit EXIT

ADMIN_CONF=$E2E_TMP/admin.conf
printf 'dbdir = %s/admin-db\ncentral = %s\n' "$E2E_TMP" "$PG_CONNINFO" >"$ADMIN_CONF"
admin() { "$USERDB" --config "$ADMIN_CONF" "$@"; }
setup admin init
setup admin central init
setup admin role add ops
printf '%s\n' "$PW_OLD" | setup admin user add alice --password-stdin
setup admin grant alice ops

# central_hash USER: the hash central holds.
central_hash()
{
	pg_psql "$PG_CONNINFO" -c "SELECT s.password_hash FROM userdb.secrets s
		JOIN userdb.users u ON u.id = s.user_id WHERE u.username = '$1'"
}
# local_hash USER: the hash this host's copy holds.
local_hash()
{
	sqlite3 -readonly "file:/var/lib/userdb/shadow.db?mode=ro" \
		"SELECT password_hash FROM accounts a JOIN account_names n USING (user_id)
		 WHERE n.username = '$1'"
}

# in_step USER: central and this host hold the same, non-empty hash.
in_step()
{
	local c l
	c=$(central_hash "$1") && l=$(local_hash "$1") && [[ -n $c && $c == "$l" ]]
}

# --- this namespace is the host web1 ----------------------------------------
e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
mkdir -p /var/lib/userdb /etc/userdb
chmod 0700 /etc/userdb
setup admin --json host add web1 --allow-role ops
python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))
open("/etc/userdb.conf","w").write("dbdir = /var/lib/userdb\n" + o["config"].rstrip("\n") + "\n")
open(o["passfile"],"w").write(o["passfile_line"] + "\n")' "$E2E_TMP/setup.out" ||
	_e2e_die "cannot read host add's output"
chmod 0644 /etc/userdb.conf
chmod 0600 /etc/userdb/*
unset USERDB_CONF
setup "$USERDB" init
setup "$USERDB" sync
e2e_private_accounts
e2e_add_user localuser 4242 "$PW_LOCAL"
e2e_setup_nss "$BUILD/nss_userdb"
e2e_overlay /usr/share/pam-configs || _e2e_die "cannot make pam-configs private"
sed "s|@PAM_MODULE@|$PAM_MOD|" "$SRC/dist/pam-config.in" >/usr/share/pam-configs/userdb
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable userdb >/dev/null 2>&1 ||
	_e2e_die "pam-auth-update --enable userdb failed"
# The helper where the module looks for it, as installed (0755, root's).
# The nearest existing ancestor of its directory becomes private first.
top=$(dirname "$HELPER_PATH")
while [[ ! -d $top ]]; do top=$(dirname "$top"); done
e2e_overlay "$top" || _e2e_die "cannot make $top private"
mkdir -p "$(dirname "$HELPER_PATH")" || _e2e_die "cannot make $(dirname "$HELPER_PATH")"
install -o root -g root -m 0755 "$HELPER" "$HELPER_PATH" || _e2e_die "cannot install the helper"

e2e_expect_output "su to alice with her password" '^alice$' e2e_su localuser alice "$PW_OLD" 'id -un'

# --- 1. passwd as alice -------------------------------------------------------
old_hash=$(local_hash alice)
e2e_expect_output "1. alice's passwd succeeds" 'password updated successfully' \
	e2e_pty_answers 3 "$PW_OLD" "$PW_NEW" "$PW_NEW" runuser -u alice -- passwd
e2e_expect_ok "1. the host's copy has a new hash" test "$(local_hash alice)" != "$old_hash"
e2e_expect_ok "1. central has the same hash" in_step alice
e2e_expect_output "1. su with the new password" '^alice$' e2e_su localuser alice "$PW_NEW" 'id -un'
e2e_expect_fail "1. su with the old one is refused" e2e_su localuser alice "$PW_OLD" 'id -un'

# --- 2. the forced change at login -------------------------------------------
setup admin user expire alice --password-now
setup "$USERDB" sync
e2e_expect_output "2. su makes alice change her expired password, and lets her in" '^alice$' \
	e2e_pty_answers 4 "$PW_NEW" "$PW_NEW" "$PW_FORCED" "$PW_FORCED" \
	runuser -u localuser -- su alice -c 'id -un'
e2e_expect_ok "2. central has the new hash" in_step alice
e2e_expect_output "2. su with it, no change asked now" '^alice$' \
	e2e_su localuser alice "$PW_FORCED" 'id -un'

# --- 3. central stopped -------------------------------------------------------
before=$(local_hash alice)
pg_pause
e2e_expect_fail_output "3. with central stopped passwd fails and says why" \
	'The central user database is unreachable: password not changed\.' \
	e2e_pty_answers 3 "$PW_FORCED" 'Alice-lost.4' 'Alice-lost.4' runuser -u alice -- passwd
e2e_expect_ok "3. the host's copy is unchanged" test -n "$before" -a "$(local_hash alice)" = "$before"
e2e_expect_output "3. the current password still works" '^alice$' \
	e2e_su localuser alice "$PW_FORCED" 'id -un'
pg_resume || _e2e_die "cannot start central again"
e2e_expect_ok "3. central's hash is unchanged" test "$(central_hash alice)" = "$before"
