#!/bin/bash
#
# tests/e2e/host_gate.sh: fleet mode's host-based access control through
# real clients. On a host whose userdb.conf names it (`host = web1`), the
# account phase lets in only users one of whose effective roles is allowed
# on web1 (the local copy of central's host_roles, which `userdb sync`
# fills; written here straight into the store, as the sync's apply engine
# would), with or without roles_required=: an ssh login of a user with an
# allowed role (directly, or through an included role) goes through, one
# without is refused, a grant that expired no longer counts, and `userdb
# explain` says why. Without `host =` the same store lets everyone in.
# Run by meson as e2e-host-gate:
#   tests/e2e/run.sh host_gate.sh BUILD_DIR SOURCE_DIR

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: host_gate.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: host_gate.sh BUILD_DIR SOURCE_DIR}
USERDB=$BUILD/cli/userdb
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
PORT=2243
PW='Fleet-pw.1'

for f in "$USERDB" "$PAM_MOD" "$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done
command -v sqlite3 >/dev/null || e2e_skip_all "sqlite3 is not installed"

e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
e2e_overlay /usr/share/pam-configs || _e2e_die "cannot make pam-configs private"
e2e_overlay /var/cache/debconf || _e2e_die "cannot make /var/cache/debconf private"
# The store is filled as the admin box's sync would, before the config
# names the host: a fleet host refuses changes to replicated data.
printf 'dbdir = /var/lib/userdb\n' >/etc/userdb.conf
chmod 0644 /etc/userdb.conf
unset USERDB_CONF

udb() { "$USERDB" "$@"; }
setup() { "$@" >/dev/null 2>&1 || _e2e_die "setup step failed: $*"; }

setup udb init
setup udb role add web
setup udb role add webadmin --includes web
setup udb role add db
# This host's rows of central's userdb.host_roles: web1 allows web; db1's
# row (which central would never send here) must not count. Written before
# the tool's own writes below, which leave the store's WAL index in place
# for the module's read-only handle (sqlite3 removes it when it closes).
setup sqlite3 /var/lib/userdb/public.db \
	"INSERT INTO host_roles (host, role_id) SELECT 'web1', id FROM roles WHERE name = 'web';
	 INSERT INTO host_roles (host, role_id) SELECT 'db1', id FROM roles WHERE name = 'db';"
for u in alice carol bob dave; do
	printf '%s\n' "$PW" | setup udb user add "$u" --password-stdin
done
setup udb grant alice web
setup udb grant carol webadmin
setup udb grant bob db
setup udb grant dave web --until +3s
printf 'host = web1\n' >>/etc/userdb.conf
e2e_expect_fail "on the fleet host, a change of replicated data is refused" udb role add other
e2e_private_accounts
e2e_setup_nss "$BUILD/nss_userdb"
sed "s|@PAM_MODULE@|$PAM_MOD|" "$SRC/dist/pam-config.in" >/usr/share/pam-configs/userdb
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable userdb >/dev/null 2>&1 ||
	_e2e_die "pam-auth-update --enable userdb failed"
e2e_start_sshd "$PORT"

e2e_expect_output "a user with a role allowed on the host logs in over ssh" '^alice$' \
	e2e_ssh alice "$PW" id -un
e2e_expect_output "... and one whose role includes it" '^carol$' e2e_ssh carol "$PW" id -un
e2e_expect_fail "a user none of whose roles is allowed on the host is refused" \
	e2e_ssh bob "$PW" id -un
e2e_expect_fail_output "userdb explain says so" \
	"^refused: none of bob's roles is allowed on host web1" udb explain bob sshd
e2e_expect_output "userdb explain allows alice" "^allowed: alice passes" udb explain alice sshd
sleep 4
e2e_expect_fail "a grant that expired no longer counts for the host" e2e_ssh dave "$PW" id -un

# The same store without `host =`: not a fleet host, no host gate.
printf 'dbdir = /var/lib/userdb\n' >/etc/userdb.conf
e2e_expect_output "without host = the same user logs in" '^bob$' e2e_ssh bob "$PW" id -un
