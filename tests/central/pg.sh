# shellcheck shell=bash
#
# tests/central/pg.sh: a private PostgreSQL cluster for one test script.
# Sourced by the tests of the `central` suite (and by e2e scripts that need
# a central database). Never touches the host's own cluster: the cluster
# lives in a temporary directory, listens on its own unix socket directory
# (and, with pg_start --tcp, on 127.0.0.1 at a free port), and is stopped
# and removed when the script exits, even when it fails or is killed (a
# watchdog outside the script's process group does it then).
#
#   pg_start [--tcp] [--bare]  initdb + start, in $PG_TMPDIR (default /tmp),
#                      on port $PG_WANT_PORT when set (an e2e script's
#                      network namespace has 5432 free), else a free one;
#                      unless --bare, creates the database `userdb` owned by
#                      the login `udb_admin` (CREATEROLE, password in a
#                      passfile); exports (--bare: the first three):
#     PG_DIR           the cluster's temporary directory
#     PG_SOCKDIR       its unix socket directory
#     PG_PORT          its port
#     PG_CONNINFO      libpq conninfo of udb_admin on database userdb
#     PG_ADMIN_PASSFILE  the passfile PG_CONNINFO names
#   pg_super_psql ARGS...  psql as the cluster's superuser on `userdb`
#   pg_psql CONNINFO ARGS...  psql with that conninfo (-X -q -At, no ~/.psqlrc)
#   pg_stop            stops and removes the cluster (pg_start's EXIT trap
#                      calls it; a script with its own EXIT trap calls it there)
#
# As root the cluster runs as the `postgres` system user (PostgreSQL
# refuses root); otherwise as the calling user.

PG_DIR=
PG_SOCKDIR=
PG_PORT=
PG_CONNINFO=
PG_ADMIN_PASSFILE=
_PG_BIN=
_PG_RUNAS=()
_PG_SUPER=
_PG_WATCHDOG=

_pg_die()
{
	printf 'Bail out! pg.sh: %s\n' "$*"
	exit 99
}

_pg_bin()
{
	local d

	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	[[ -n $d && -x $d/initdb ]] || return 1
	_PG_BIN=$d
}

# A password for a test login: letters and digits only.
pg_random_password()
{
	head -c 64 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 24
}

_pg_free_port()
{
	local p

	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

pg_stop()
{
	[[ -n $PG_DIR && -d $PG_DIR ]] || return 0
	if [[ -f $PG_DIR/data/postmaster.pid ]]; then
		"${_PG_RUNAS[@]}" "$_PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
	fi
	[[ -n $_PG_WATCHDOG ]] && kill "$_PG_WATCHDOG" 2>/dev/null
	rm -rf -- "$PG_DIR"
	PG_DIR=
}

pg_psql()
{
	local conninfo=$1

	shift
	PSQLRC=/dev/null "$_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$conninfo" "$@"
}

pg_super_psql()
{
	(cd / && PSQLRC=/dev/null "${_PG_RUNAS[@]}" "$_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
		-h "$PG_SOCKDIR" -p "$PG_PORT" -U "$_PG_SUPER" -d userdb "$@")
}

# The watchdog: a process in its own session that stops the cluster when
# the test script ($1) is gone, however it ended.
_pg_watchdog()
{
	local script=$1 bin=$_PG_BIN dir=$PG_DIR

	setsid bash -c '
		while kill -0 "$0" 2>/dev/null; do sleep 1; done
		if [ -f "$2/data/postmaster.pid" ]; then
			pid=$(head -n1 "$2/data/postmaster.pid")
			kill -QUIT "$pid" 2>/dev/null
			sleep 1
		fi
		rm -rf -- "$2"' "$script" "$bin" "$dir" </dev/null >/dev/null 2>&1 &
	_PG_WATCHDOG=$!
}

pg_start()
{
	local tcp=0 bare=0 password listen="" a

	for a in "$@"; do
		case $a in
		--tcp) tcp=1 ;;
		--bare) bare=1 ;;
		*) _pg_die "pg_start: unknown option $a" ;;
		esac
	done
	_pg_bin || _pg_die "PostgreSQL server binaries not found (scripts/deps installs postgresql-15)"
	PG_DIR=$(mktemp -d "${PG_TMPDIR:-/tmp}/userdb-pg.XXXXXX") || _pg_die "mktemp failed"
	chmod 755 "$PG_DIR"
	if [[ $(id -u) -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || _pg_die "no postgres system user"
		_PG_RUNAS=(runuser -u postgres --)
		_PG_SUPER=postgres
		mkdir "$PG_DIR/data" "$PG_DIR/sock"
		chown postgres: "$PG_DIR/data" "$PG_DIR/sock"
	else
		_PG_RUNAS=()
		_PG_SUPER=$(id -un)
		mkdir "$PG_DIR/data" "$PG_DIR/sock"
	fi
	trap pg_stop EXIT
	_pg_watchdog $$
	PG_SOCKDIR=$PG_DIR/sock
	PG_PORT=${PG_WANT_PORT:-$(_pg_free_port)} || _pg_die "no free port"
	(cd / && "${_PG_RUNAS[@]}" "$_PG_BIN/initdb" -D "$PG_DIR/data" -U "$_PG_SUPER" \
		--auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
		>"$PG_DIR/initdb.log" 2>&1) || _pg_die "initdb failed: $(tail -n5 "$PG_DIR/initdb.log")"
	# The superuser by peer authentication; every other login by password.
	"${_PG_RUNAS[@]}" sh -c "cat >'$PG_DIR/data/pg_hba.conf'" <<-HBA
		local all $_PG_SUPER peer
		local all all scram-sha-256
		host all all 127.0.0.1/32 scram-sha-256
	HBA
	[[ $tcp -eq 1 ]] && listen=127.0.0.1
	"${_PG_RUNAS[@]}" sh -c "cat >>'$PG_DIR/data/postgresql.conf'" <<-CONF
		listen_addresses = '$listen'
		port = $PG_PORT
		unix_socket_directories = '$PG_SOCKDIR'
		max_connections = 100
		shared_buffers = 32MB
		fsync = off
		log_min_messages = warning
		logging_collector = off
	CONF
	(cd / && "${_PG_RUNAS[@]}" "$_PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/data/server.log" \
		-w -t 60 start >/dev/null 2>&1) ||
		_pg_die "PostgreSQL did not start: $(tail -n5 "$PG_DIR/data/server.log" 2>/dev/null)"
	if ((bare)); then
		export PG_DIR PG_SOCKDIR PG_PORT
		return 0
	fi
	password=$(pg_random_password)
	(cd / && PSQLRC=/dev/null "${_PG_RUNAS[@]}" "$_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
		-h "$PG_SOCKDIR" -p "$PG_PORT" -U "$_PG_SUPER" -d postgres \
		-c "CREATE ROLE udb_admin LOGIN CREATEROLE PASSWORD '$password'" \
		-c "CREATE DATABASE userdb OWNER udb_admin" >/dev/null) ||
		_pg_die "could not create the admin login and database"
	PG_ADMIN_PASSFILE=$PG_DIR/admin.pgpass
	(umask 077 && printf '*:*:*:udb_admin:%s\n' "$password" >"$PG_ADMIN_PASSFILE")
	PG_CONNINFO="host=$PG_SOCKDIR port=$PG_PORT dbname=userdb user=udb_admin passfile=$PG_ADMIN_PASSFILE"
	export PG_DIR PG_SOCKDIR PG_PORT PG_CONNINFO PG_ADMIN_PASSFILE
}

# pg_pause / pg_resume: stop the running cluster (fast shutdown) and start it
# again on the same data, port and socket: central "down" and back, for the
# sync tests' outages.
pg_pause()
{
	"${_PG_RUNAS[@]}" "$_PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
}

pg_resume()
{
	(cd / && "${_PG_RUNAS[@]}" "$_PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/data/server.log" \
		-w -t 60 start >/dev/null 2>&1)
}
