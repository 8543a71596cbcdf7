#!/bin/bash
#
# tests/e2e/fleet_host.sh: one host of fleet.sh's fleet. Not a test by
# itself; fleet.sh starts it, inside run.sh's namespaces, in two ways:
#
#   unshare -m -n -u bash fleet_host.sh NAME DIR USERDB setup
#       the host's first process: makes the host out of DIR (fleet.sh fills
#       it: etc/ with userdb.conf, userdb/central.pgpass, nsswitch.conf,
#       hosts, pam.d/, sudoers.d/ and the account files; db/, the dbdir),
#       binds them over /etc and /var/lib/userdb in its own mount namespace,
#       gives it its own /run, /var/log and /var/lib/sudo, its own loopback
#       and host name, starts its sshd on 127.0.0.1:22, writes DIR/ready
#       and stays (the other processes of the host join its namespaces).
#   nsenter -t PID -m -n -u bash fleet_host.sh NAME DIR USERDB run CMD...
#       runs CMD on the host (a command, or one of the functions below or
#       lib.sh's, e.g. e2e_ssh); its output and status are CMD's.
#
# Functions for `run`:
#   host_ssh USER PASSWORD CMD...   e2e_ssh to this host's sshd
#   host_sudo USER PASSWORD CMD...  USER runs `sudo -S -k CMD` (the password
#                                   on stdin): this host's sudo, PAM stack
#                                   and sudoers
#   host_hash USER                  the password hash this host's copy holds
#                                   for USER (<none>; fails for no such user)
#   host_psql SQL                   SQL as this host's own central login (its
#                                   userdb.conf conninfo and passfile)
#   follow_start, follow_stop       `userdb sync --follow` (log DIR/follow.log)
#   sync_killed MS                  a full `userdb sync` pass, SIGKILLed after
#                                   MS milliseconds; prints its exit status
#                                   (137 when the kill came first)
#   store_ok                        integrity_check of both store files
#   userdb ARGS...                  the built tool, on this host's config

set -u
NAME=${1:?usage: fleet_host.sh NAME DIR USERDB setup|run CMD...}
DIR=${2:?}
USERDB=${3:?}
MODE=${4:?}
shift 4

export E2E_JOIN=1 E2E_TMP=$DIR
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"
E2E_SSHD_PORT=22
unset USERDB_CONF PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE PGPASSWORD PGSERVICE

userdb() { "$USERDB" "$@"; }

host_ssh() { e2e_ssh "$@"; }

host_sudo()
{
	local user=$1 pw=$2
	shift 2
	printf '%s\n' "$pw" | timeout -k 3 "$E2E_TIMEOUT" runuser -u "$user" -- sudo -S -k -p $'password:\n' "$@"
}

host_hash()
{
	local id

	id=$(sqlite3 -readonly "file:/var/lib/userdb/public.db?mode=ro" \
		"SELECT id FROM users WHERE username = '$1'") || return 1
	[[ -n $id ]] || { echo "no user $1" >&2; return 1; }
	sqlite3 -readonly "file:/var/lib/userdb/shadow.db?mode=ro" \
		"SELECT coalesce(nullif(password_hash, ''), '<none>') FROM accounts WHERE user_id = $id"
}

host_psql()
{
	local conninfo bin

	conninfo=$(sed -n 's/^central = //p' /etc/userdb.conf)
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	PSQLRC=/dev/null timeout -k 3 "$E2E_TIMEOUT" "$bin/psql" -X -q -At -v ON_ERROR_STOP=1 \
		"$conninfo" -c "$1"
}

follow_start()
{
	if [[ -s $DIR/follow.pid ]] && kill -0 "$(cat "$DIR/follow.pid")" 2>/dev/null; then
		return 0
	fi
	"$USERDB" sync --follow </dev/null >>"$DIR/follow.log" 2>&1 &
	echo $! >"$DIR/follow.pid"
}

follow_stop()
{
	local pid i

	[[ -s $DIR/follow.pid ]] || return 0
	pid=$(cat "$DIR/follow.pid")
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	: >"$DIR/follow.pid"
}

sync_killed()
{
	local pid

	"$USERDB" sync --full </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
	kill -KILL "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
	echo "$?"
}

store_ok()
{
	local f r

	for f in public shadow; do
		r=$(sqlite3 -readonly "file:/var/lib/userdb/$f.db?mode=ro" 'PRAGMA integrity_check') || return 1
		[[ $r == ok ]] || { echo "$f.db: $r"; return 1; }
	done
	echo ok
}

setup()
{
	local f

	[[ -d $DIR/etc && -d $DIR/db ]] || _e2e_die "$NAME: $DIR is not filled"
	ip link set lo up || _e2e_die "$NAME: ip link set lo up failed"
	hostname "$NAME" || _e2e_die "$NAME: hostname failed"
	mount -t tmpfs -o mode=0755 "fleet-$NAME-run" /run || _e2e_die "$NAME: no private /run"
	mkdir -m 0755 /run/sshd /run/lock
	install -m 0664 -o root -g utmp /dev/null /run/utmp 2>/dev/null || : >/run/utmp
	mount -t tmpfs -o mode=0755 "fleet-$NAME-log" /var/log || _e2e_die "$NAME: no private /var/log"
	mount -t tmpfs -o mode=0711 "fleet-$NAME-sudo" /var/lib/sudo ||
		_e2e_die "$NAME: no private /var/lib/sudo"
	for f in userdb.conf userdb nsswitch.conf hosts pam.d sudoers.d passwd group shadow gshadow; do
		[[ -e $DIR/etc/$f ]] || continue
		mount --bind "$DIR/etc/$f" "/etc/$f" || _e2e_die "$NAME: cannot bind /etc/$f"
	done
	mount --bind "$DIR/db" /var/lib/userdb || _e2e_die "$NAME: cannot bind /var/lib/userdb"
	e2e_start_sshd 22
	echo "$$" >"$DIR/ready"
	exec sleep infinity
}

case $MODE in
setup) setup ;;
run)
	cd / || exit 99
	if declare -F -- "$1" >/dev/null; then
		"$@"
	else
		timeout -k 3 "$E2E_TIMEOUT" "$@"
	fi
	;;
*) _e2e_die "fleet_host.sh: unknown mode $MODE" ;;
esac
