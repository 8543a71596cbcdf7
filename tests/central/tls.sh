#!/usr/bin/env bash
# Fleet mode over TLS with certificate verification (issue 14, "Secure by
# default"), run by meson (suite 'central', TAP) as `tls.sh PATH/TO/userdb
# README.md`: a private PostgreSQL (tests/central/pg.sh) serving TLS with a
# test CA, configured with README's "TLS to central" lines as written; the
# admin box and a host use `sslmode=verify-full`; a connection without TLS,
# a certificate from another CA and one for another name are refused, and
# the refused command changes nothing.
set -u

USERDB=$(realpath "${1:?usage: tls.sh PATH/TO/userdb README.md}")
README=$(realpath "${2:?usage: tls.sh PATH/TO/userdb README.md}")
export LC_ALL=C
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE PGSSLMODE \
	PGSSLROOTCERT

. "$(dirname "$0")/pg.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-central-tls.XXXXXX") || exit 99
chmod 755 "$T"
cleanup() {
	pg_stop
	rm -rf "$T"
}
pg_start --tcp
trap cleanup EXIT

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for line in "$@"; do echo "# $line"; done
}
check() { # check DESCRIPTION COMMAND...: ok when the command succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what" "failed: $*"; fi
}

# The fenced block right after the README marker that mentions WORDS.
readme_block() {
	awk -v want="$1" '
		index($0, "<!--") && index($0, want) { armed = 1; next }
		armed && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }
	' "$README"
}

# A test CA, a server certificate for "localhost" signed by it, and a
# second CA that signed nothing of this server's.
(
	cd "$T" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
		-subj "/CN=userdb test CA" &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt \
			-days 2 -subj "/CN=another CA" &&
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj "/CN=localhost" &&
		printf 'subjectAltName=DNS:localhost\n' >san.ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out server.crt -days 2 -extfile san.ext
) >"$T/openssl.log" 2>&1 || {
	echo "Bail out! openssl: $(tail -n 3 "$T/openssl.log")"
	exit 1
}
chmod 644 "$T/ca.crt" "$T/other-ca.crt"

conf_lines=$(readme_block "appends these lines as written to its private cluster's postgresql.conf")
hba_lines=$(readme_block "puts these lines as written in its private cluster's pg_hba.conf")
central_line=$(readme_block "uses this line with its own host name")
if [ -z "$conf_lines" ] || [ -z "$hba_lines" ] || [ -z "$central_line" ]; then
	echo "Bail out! README's TLS blocks not found"
	exit 1
fi
install -o postgres -m 0644 "$T/server.crt" "$PG_DIR/data/server.crt"
install -o postgres -m 0600 "$T/server.key" "$PG_DIR/data/server.key"
printf '%s\n' "$conf_lines" | runuser -u postgres -- sh -c "cat >>'$PG_DIR/data/postgresql.conf'"
# pg.sh's superuser line by peer, then README's lines and nothing else.
printf 'local all postgres peer\nlocal all all scram-sha-256\n%s\n' "$hba_lines" |
	runuser -u postgres -- sh -c "cat >'$PG_DIR/data/pg_hba.conf'"
pg_super_psql -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
check "central serves TLS with README's postgresql.conf lines" test \
	"$(pg_super_psql -c "SHOW ssl")" = on

# README's central line with this cluster's name, port and files.
admin_line=$(printf '%s\n' "$central_line" | sed -e "s|host=central.example.org|host=localhost|" \
	-e "s|port=5432|port=$PG_PORT|" -e "s|passfile=/etc/userdb/central.pgpass|passfile=$PG_ADMIN_PASSFILE|" \
	-e "s|sslrootcert=/etc/userdb/central-ca.crt|sslrootcert=$T/ca.crt|")
printf 'dbdir = %s/admin\nhash_method = sha512\nhash_cost = 1000\n%s\n' "$T" "$admin_line" >"$T/admin.conf"
udb() { "$USERDB" --config "$T/admin.conf" "$@"; }
check "README's central line keeps sslmode=verify-full" test \
	"${admin_line#*sslmode=verify-full}" != "$admin_line"

out=$(PSQLRC=/dev/null psql -X -At "host=localhost port=$PG_PORT dbname=userdb user=udb_admin passfile=$PG_ADMIN_PASSFILE sslmode=disable" \
	-c "SELECT 1" 2>&1)
check "a connection without TLS is refused by README's pg_hba.conf lines" test \
	"${out#*no pg_hba.conf entry}" != "$out"

udb init >/dev/null
out=$(udb central init 2>&1)
check "central init over verify-full" test "${out#created the central schema (version }" != "$out"
udb role add tlsops --permission ssh:login >/dev/null 2>&1
out=$(printf 'tls user password\n' | udb user add tlsuser --role tlsops --password-stdin 2>/dev/null)
check "an admin command over verify-full reaches central" test \
	"$out/$(pg_super_psql -c "SELECT username FROM userdb.users")" = \
	"added user tlsuser (uid 10001, gid 10001)/tlsuser"
check "the admin box's session to central is encrypted" test \
	"$(PSQLRC=/dev/null psql -X -At "$(sed -n 's/^central = //p' "$T/admin.conf")" \
		-c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")" = t

# --- refusals: another CA, another name -----------------------------------
mirror_dump() {
	sqlite3 "file:$T/admin/public.db?mode=ro" .dump
	sqlite3 "file:$T/admin/shadow.db?mode=ro" .dump
}
central_state() { pg_super_psql -c "SELECT rev, (SELECT count(*) FROM userdb.users) FROM userdb.state"; }
before_m=$(mirror_dump)
before_c=$(central_state)
sed "s|sslrootcert=$T/ca.crt|sslrootcert=$T/other-ca.crt|" "$T/admin.conf" >"$T/wrong-ca.conf"
out=$("$USERDB" --config "$T/wrong-ca.conf" user add tlsnot 2>&1)
rc=$?
check "a certificate from another CA: refused, exit 69, libpq's reason" test "$rc" = 69 -a \
	"${out#userdb: central database unreachable: nothing changed (}" != "$out" -a \
	"${out#*certificate verify failed}" != "$out"
sed "s|host=localhost|host=127.0.0.1|" "$T/admin.conf" >"$T/wrong-name.conf"
out=$("$USERDB" --config "$T/wrong-name.conf" user add tlsnot 2>&1)
rc=$?
check "a certificate for another name: refused, exit 69, libpq's reason" test "$rc" = 69 -a \
	"${out#*does not match host name}" != "$out"
check "the refused commands changed nothing, locally or centrally" test \
	"$(mirror_dump)" = "$before_m" -a "$(central_state)" = "$before_c"

# --- a host enrolled over TLS syncs over verify-full ------------------------
udb --json host add web1 --allow-role tlsops --passfile "$T/web1.pgpass" >"$T/host.json" 2>/dev/null
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(o["config"]); open(sys.argv[3],"w").write(o["passfile_line"] + "\n")' \
	"$T/host.json" "$T/web1.lines" "$T/web1.pgpass.line"
install -m 0600 "$T/web1.pgpass.line" "$T/web1.pgpass"
check "host add keeps sslmode=verify-full and the CA in the host's line" grep -q \
	"^central = .*sslmode=verify-full.*sslrootcert=$T/ca.crt" "$T/web1.lines"
{
	printf 'dbdir = %s/web1\n' "$T"
	cat "$T/web1.lines"
} >"$T/web1.conf"
"$USERDB" --config "$T/web1.conf" init >/dev/null
"$USERDB" --config "$T/web1.conf" sync >/dev/null 2>&1
check "the host syncs over verify-full: the user and its hash arrive" test \
	"$(sqlite3 "file:$T/web1/shadow.db?mode=ro" "SELECT count(*) FROM accounts a JOIN account_names n USING (user_id)
		WHERE n.username = 'tlsuser' AND a.password_hash LIKE '\$6\$%'")" = 1

echo "1..$n"
exit $((failed > 0))
