#!/bin/bash
#
# tests/e2e/fleet_setup.sh: README's "Fleet" setup, its four blocks run as
# written, in order, against a private PostgreSQL cluster (tests/central/
# pg.sh) started in this run's namespace, serving TLS on 127.0.0.1:5432 as
# "TLS to central" says, with a test CA's certificate for
# central.example.org (named in this namespace's private /etc/hosts). This
# one machine plays the admin box (steps 1 and 3; its files are then moved
# aside), the central server (step 2, as postgres, PGHOST/PGPORT naming the
# cluster; the password typed at createuser's prompts) and the host web1
# (step 4; systemctl, which has no systemd here, is a stand-in that starts
# the installed unit's ExecStart in the background). Then: web1 answers
# getent and id for the fleet's users through nsswitch, holds the hash of a
# user allowed there and not of one who is not, a change on the admin box
# reaches it through the running `userdb sync --follow`, and a change made
# on web1 is refused. Run by meson as e2e-fleet-setup:
#   tests/e2e/run.sh fleet_setup.sh BUILD_DIR SOURCE_DIR

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: fleet_setup.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: fleet_setup.sh BUILD_DIR SOURCE_DIR}
UNIT=$BUILD/dist/userdb-sync.service
PW='Fleet-pass.31'

for f in "$BUILD/cli/userdb" "$BUILD/nss_userdb/libnss_userdb.so.2" "$UNIT"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done
command -v openssl >/dev/null || e2e_skip_all "openssl not installed"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || e2e_skip_all "PostgreSQL not installed"

# userdb where the unit's ExecStart runs it; the stores in a private /var/lib.
e2e_overlay /usr/local || _e2e_die "cannot make /usr/local private"
e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
sbin_userdb=${exec_start%% *}
[[ $sbin_userdb == /* ]] || _e2e_die "the unit's ExecStart is not an absolute path: $exec_start"
install -D -m 0755 "$BUILD/cli/userdb" "$sbin_userdb" || _e2e_die "cannot install userdb"
export PATH=$(dirname "$sbin_userdb"):$PATH
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE
rm -f /etc/userdb.conf

# The fenced block after the README marker that holds WORDS, without the
# list item's indentation.
readme_block() {
	awk -v want="$1" '
		index($0, "<!--") && index($0, want) { armed = 1; next }
		armed && /^ *```/ { if (inside) exit; inside = 1; match($0, /^ */); ind = RLENGTH; next }
		inside { print substr($0, ind + 1) }
	' "$SRC/README.md"
}
step1=$(readme_block "fleet_setup.sh runs these lines as written on its admin box (step 1)")
step2=$(readme_block "fleet_setup.sh runs these lines as written as postgres")
step3=$(readme_block "fleet_setup.sh runs these lines as written on its admin box (step 3)")
step4=$(readme_block "fleet_setup.sh runs these lines as written on its host")
tls_conf=$(readme_block "appends these lines as written to its private cluster's postgresql.conf")
tls_hba=$(readme_block "puts these lines as written in its private cluster's pg_hba.conf")
for b in step1 step2 step3 step4 tls_conf tls_hba; do
	[[ -n ${!b} ]] || _e2e_die "README.md: the block for $b is missing"
done

# --- the central server ------------------------------------------------------
# A test CA and central.example.org's certificate.
P=$E2E_TMP/pki
mkdir -p "$P"
(
	cd "$P" &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
			-subj "/CN=userdb fleet test CA" &&
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj "/CN=central.example.org" &&
		printf 'subjectAltName=DNS:central.example.org\n' >san.ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out server.crt -days 2 -extfile san.ext
) >"$P/openssl.log" 2>&1 || _e2e_die "openssl: $(tail -n 3 "$P/openssl.log")"
printf '127.0.0.1 central.example.org\n' >>/etc/hosts

# shellcheck source=../central/pg.sh
source "$SRC/tests/central/pg.sh"
PG_TMPDIR=$E2E_TMP PG_WANT_PORT=5432 pg_start --tcp --bare
# pg.sh's EXIT trap replaced lib.sh's: both run, lib.sh's last (it reports).
stop_follow() { [[ -s $E2E_TMP/follow.pid ]] && kill "$(cat "$E2E_TMP/follow.pid")" 2>/dev/null; }
trap 'rc=$?; stop_follow; pg_stop; (exit $rc); _e2e_exit' EXIT
install -o postgres -m 0644 "$P/server.crt" "$PG_DIR/data/server.crt"
install -o postgres -m 0600 "$P/server.key" "$PG_DIR/data/server.key"
printf '%s\n' "$tls_conf" | runuser -u postgres -- sh -c "cat >>'$PG_DIR/data/postgresql.conf'"
printf 'local all postgres peer\nlocal all all scram-sha-256\n%s\n' "$tls_hba" |
	runuser -u postgres -- sh -c "cat >'$PG_DIR/data/pg_hba.conf'"
pg_pause && pg_resume || _e2e_die "PostgreSQL did not restart with README's TLS lines"

# --- step 1: the admin box's passfile ------------------------------------------
ADMIN_WD=$E2E_TMP/adminbox
mkdir -p "$ADMIN_WD"
printf '%s\n' "$step1" >"$E2E_TMP/step1.sh"
e2e_expect_output "README Fleet step 1 (admin box): the password is printed" '^[0-9a-f]{48}$' \
	sh -c "cd '$ADMIN_WD' && bash -e '$E2E_TMP/step1.sh'"
admin_pw=$E2E_OUTPUT
e2e_expect_output "step 1: the passfile is root's alone" '^600 root$' \
	stat -c '%a %U' /etc/userdb/central.pgpass

# --- step 2: the central server, as postgres -----------------------------------
printf '%s\n' "$step2" >"$E2E_TMP/step2.sh"
chmod 0644 "$E2E_TMP/step2.sh"
# setsid: no controlling terminal, so createuser reads the password from
# standard input, as typed at its two prompts.
step2_run() {
	printf '%s\n%s\n' "$admin_pw" "$admin_pw" |
		(cd / && setsid -w runuser -u postgres -- env PGHOST="$PG_SOCKDIR" PGPORT="$PG_PORT" \
			bash -e "$E2E_TMP/step2.sh")
}
e2e_expect_ok "README Fleet step 2 (central, as postgres): the admin login and the database" step2_run
e2e_expect_output "step 2: udb_admin may create roles and owns userdb" '^true\|udb_admin$' \
	pg_super_psql -c "SELECT r.rolcreaterole || '|' || pg_get_userbyid(d.datdba) FROM pg_roles r,
		pg_database d WHERE r.rolname = 'udb_admin' AND d.datname = 'userdb'"

# --- step 3: the admin box -----------------------------------------------------
install -m 0644 "$P/ca.crt" "$ADMIN_WD/central-ca.crt"
printf '%s\n' "$step3" >"$E2E_TMP/step3.sh"
e2e_expect_ok "README Fleet step 3 (admin box): config, store, central init, role, host add" \
	sh -c "cd '$ADMIN_WD' && bash -e '$E2E_TMP/step3.sh'"
e2e_expect_output "step 3: central knows web1 with role ops" '^web1 .* ops$' userdb host list
e2e_expect_output "step 3: web1.enrol holds the host's two lines and its passfile line" '^3$' \
	sh -c "grep -cE '^(central = .*user=userdb_host_web1|host = web1|\*:\*:\*:userdb_host_web1:)' '$ADMIN_WD/web1.enrol'"
e2e_expect_output "step 3: web1's central line keeps TLS with verification" \
	'sslmode=verify-full' grep '^central = ' "$ADMIN_WD/web1.enrol"
# The fleet's users, made on the admin box: alice may log in on web1, bob not.
e2e_expect_ok "(setup) on the admin box: alice (ops) and bob (no role), with passwords" sh -c "
	printf '%s\n' '$PW' | userdb user add alice --role ops --password-stdin >/dev/null &&
	printf '%s\n' '$PW' | userdb user add bob --password-stdin >/dev/null"

# The admin box moves aside: web1 is this machine from here on.
A=$E2E_TMP/admin
mkdir -p "$A"
mv /etc/userdb.conf "$A/userdb.conf" && mv /etc/userdb "$A/etc" && mv /var/lib/userdb "$A/db" ||
	_e2e_die "cannot move the admin box aside"
sed -i -e "s|/etc/userdb/|$A/etc/|g" "$A/userdb.conf" && printf 'dbdir = %s/db\n' "$A" >>"$A/userdb.conf"

# --- step 4: the host web1 -----------------------------------------------------
HOST_WD=$E2E_TMP/web1
mkdir -p "$HOST_WD" "$E2E_TMP/bin"
cp "$ADMIN_WD/web1.enrol" "$ADMIN_WD/central-ca.crt" "$HOST_WD/"
# No systemd in the namespace: what `systemctl enable --now
# userdb-sync.service` would start, the unit's ExecStart, in the background.
cat >"$E2E_TMP/bin/systemctl" <<EOF
#!/bin/bash
[ "\$*" = "enable --now userdb-sync.service" ] || { echo "systemctl stand-in: not \$*" >&2; exit 1; }
setsid $exec_start </dev/null >"$E2E_TMP/follow.log" 2>&1 &
echo \$! >"$E2E_TMP/follow.pid"
EOF
chmod 0755 "$E2E_TMP/bin/systemctl"
printf '%s\n' "$step4" >"$E2E_TMP/step4.sh"
e2e_expect_output "README Fleet step 4 (web1): config, store, first sync, the service" \
	'^synced to revision [0-9]+ from 0 \(full\)' \
	sh -c "cd '$HOST_WD' && PATH='$E2E_TMP/bin':\$PATH bash -e '$E2E_TMP/step4.sh'"
e2e_expect_output "step 4: web1's passfile is root's alone" '^600 root$' \
	stat -c '%a %U' /etc/userdb/central.pgpass
e2e_expect_output "step 4: web1's userdb.conf names it and central" \
	'^host = web1$' grep '^host = ' /etc/userdb.conf
e2e_expect_ok "step 4: the service's userdb sync --follow runs" \
	sh -c "sleep 1; kill -0 \$(cat '$E2E_TMP/follow.pid')"

# --- what web1 then does -------------------------------------------------------
e2e_setup_nss "$BUILD/nss_userdb"
e2e_expect_output "web1: getent passwd alice through nsswitch" '^alice:x:[0-9]+:[0-9]+:' \
	getent passwd alice
e2e_expect_output "web1: id alice lists ops" '\(ops\)' id alice
e2e_expect_output "web1: alice's hash is there (ops is allowed on web1)" '^alice:\$' \
	getent shadow alice
e2e_expect_output "web1: bob has an identity there" '^bob:x:' getent passwd bob
no_hash_bob() { ! getent shadow bob | grep -q '^bob:\$'; }
e2e_expect_ok "web1: but not his hash (none of his roles is allowed there)" no_hash_bob
e2e_expect_output "web1: sync --status says current" '^state: +current' userdb sync --status
e2e_expect_fail_output "web1: a change made there is refused" 'make changes on the admin box' \
	userdb role add local-only
e2e_expect_ok "(setup) on the admin box: carol (ops)" sh -c "
	printf '%s\n' '$PW' | userdb --config '$A/userdb.conf' user add carol --role ops --password-stdin"
carol_arrived() {
	local i
	for i in $(seq 1 100); do
		getent passwd carol >/dev/null && return 0
		sleep 0.2
	done
	return 1
}
e2e_expect_ok "web1: the admin box's new user arrives through the running service" carol_arrived
e2e_expect_output "web1: with her hash" '^carol:\$' getent shadow carol
stop_follow
