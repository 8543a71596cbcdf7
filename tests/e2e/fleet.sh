#!/bin/bash
#
# tests/e2e/fleet.sh: fleet mode end to end, through real clients. One
# private PostgreSQL cluster (tests/central/pg.sh: initdb in the run's
# scratch tmpfs, its own socket directory and port, stopped at exit) is
# central; the script's own namespace is the admin box (/etc/userdb.conf
# with `central =` naming the admin login, a full mirror in
# /var/lib/userdb); three hosts hosta, hostb and hostc are each a private
# mount, network and UTS namespace inside it (fleet_host.sh) with their own
# userdb.conf (`host =`, central login and passfile from `userdb host add`),
# dbdir, nsswitch.conf, PAM stacks (the shipped profile), sudoers, account
# files, /run, /var/log, loopback and sshd on 127.0.0.1:22, kept current by
# their own `userdb sync --follow`. Central reaches the hosts only through
# its unix socket, so a host is cut off by hiding that socket in its mount
# namespace.
#
# Roles: fleet is allowed on every host, web on hosta and hostb only.
# Scenarios (each checks what a user notices, on every host):
#   1. a user granted web logs in over ssh on hosta and hostb, is refused on
#      hostc, whose copy has no hash for her and whose own central login
#      cannot read it (row-level security);
#   2. a central revoke and a central disable refuse the next ssh and sudo
#      on every host within 10 s (measured and printed);
#   3. central stopped: getent, id and a loop of ssh logins go on on every
#      host; a change made while hostc is cut off reaches it once it is back;
#   4. `userdb sync` killed with SIGKILL at random moments on a host while
#      changes stream in: the copy stays whole and the next pass catches up
#      (tests/central/kill_sync.sh kills it at every kind of write point);
#   5. a user deleted and a new one made under the same name: every host
#      shows the new uid only, the old uid is gone; a deleted user is gone;
#   6. `passwd` on hosta: the new password logs in on hostb after its sync,
#      the old one no longer; with central stopped `passwd` fails with the
#      message and neither password nor copy changes;
#   7. with `central set fleet-deny 4`, two wrong ssh passwords on hosta and
#      two on hostb lock the user on all three hosts (ssh and sudo with the
#      right password refused, hostc included); the admin's `user unlock`
#      lets the user in on all three again.
#
# Run by meson as e2e-fleet (CENTRAL_PASSWD_PATH: where the module looks
# for userdb-central-passwd, which is installed there inside the namespace):
#   tests/e2e/run.sh fleet.sh BUILD_DIR SOURCE_DIR CENTRAL_PASSWD_PATH

set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${E2E_DIR:-$(dirname "$0")}/lib.sh"

BUILD=${1:?usage: fleet.sh BUILD_DIR SOURCE_DIR CENTRAL_PASSWD_PATH}
SRC=${2:?usage: fleet.sh BUILD_DIR SOURCE_DIR CENTRAL_PASSWD_PATH}
CENTRAL_PASSWD_PATH=${3:?usage: fleet.sh BUILD_DIR SOURCE_DIR CENTRAL_PASSWD_PATH}
CENTRAL_PASSWD=$BUILD/pam_userdb/userdb-central-passwd
USERDB=$(realpath -e "$BUILD/cli/userdb" 2>/dev/null) || e2e_skip_all "not built: userdb"
PAM_MOD=$BUILD/pam_userdb/pam_userdb.so
PW='Fleet-pw.1'
HOSTS=(hosta hostb hostc)
BAR=10 # seconds: a central change refuses logins on every host within this
declare -A HOST_PID=()

for f in "$PAM_MOD" "$CENTRAL_PASSWD" "$BUILD/nss_userdb/libnss_userdb.so.2"; do
	[[ -e $f ]] || e2e_skip_all "not built: $f"
done
for c in sqlite3 nsenter sudo sshpass; do
	command -v "$c" >/dev/null || e2e_skip_all "$c is not installed"
done
ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
	e2e_skip_all "PostgreSQL server binaries not found (scripts/deps installs postgresql-15)"
PAM_MOD=$(realpath -e "$PAM_MOD")

# ------------------------------------------------------------ the fleet --

FLEET=$E2E_TMP/fleet
mkdir -m 0755 "$FLEET" "$FLEET/hosts" "$FLEET/pg"
# shellcheck source=../central/pg.sh
source "$SRC/tests/central/pg.sh"
PG_TMPDIR=$FLEET/pg pg_start

stop_hosts()
{
	local h pid

	for h in "${!HOST_PID[@]}"; do
		pid=${HOST_PID[$h]}
		[[ -s $FLEET/hosts/$h/follow.pid ]] && kill -KILL "$(cat "$FLEET/hosts/$h/follow.pid")" 2>/dev/null
		pkill -KILL -P "$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	done
}
fleet_exit()
{
	local rc=$?
	stop_hosts
	pg_stop
	(exit "$rc")
	_e2e_exit
}
trap fleet_exit EXIT

# on HOST CMD...: CMD run on HOST (fleet_host.sh `run`).
on()
{
	local h=$1
	shift
	nsenter -t "${HOST_PID[$h]}" -m -n -u -- \
		bash "$E2E_DIR/fleet_host.sh" "$h" "$FLEET/hosts/$h" "$USERDB" run "$@"
}

udb() { "$USERDB" "$@"; }
setup() { "$@" >"$FLEET/setup.out" 2>&1 || _e2e_die "setup step failed: $* ($(tail -n3 "$FLEET/setup.out"))"; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }

# wait_until SECONDS CMD...: runs CMD until it succeeds; 1 after SECONDS.
wait_until()
{
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}

# The admin box: this namespace.
e2e_overlay /var/lib || _e2e_die "cannot make /var/lib private"
e2e_overlay /usr/share/pam-configs || _e2e_die "cannot make pam-configs private"
mkdir -p /var/lib/userdb /etc/userdb
printf 'dbdir = /var/lib/userdb\ncentral = %s\n' "$PG_CONNINFO" >/etc/userdb.conf
chmod 0644 /etc/userdb.conf
unset USERDB_CONF
setup udb init
setup udb central init
setup udb role add fleet
setup udb role add web

# What every host starts from: the shipped profile on Debian's stacks,
# NSS with userdb, sudo for everyone (PAM alone decides).
e2e_private_accounts
e2e_setup_nss "$BUILD/nss_userdb"
sed "s|@PAM_MODULE@|$PAM_MOD|" "$SRC/dist/pam-config.in" >/usr/share/pam-configs/userdb
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable userdb >/dev/null 2>&1 ||
	_e2e_die "pam-auth-update --enable userdb failed"
e2e_setup_sudoers 'ALL ALL=(root) /usr/bin/id'
# The password write-back helper where the module looks for it, as
# installed; the nearest existing ancestor of its directory is made private
# first, so nothing is created on the host.
top=$(dirname "$CENTRAL_PASSWD_PATH")
while [[ ! -d $top ]]; do top=$(dirname "$top"); done
e2e_overlay "$top" || _e2e_die "cannot make $top private"
mkdir -p "$(dirname "$CENTRAL_PASSWD_PATH")" || _e2e_die "cannot make $(dirname "$CENTRAL_PASSWD_PATH")"
install -o root -g root -m 0755 "$CENTRAL_PASSWD" "$CENTRAL_PASSWD_PATH" ||
	_e2e_die "cannot install the write-back helper"

# host_make NAME ROLE...: enrols NAME centrally (`userdb host add`, as the
# README says), fills its directory, starts it and its first sync.
host_make()
{
	local h=$1 d=$FLEET/hosts/$1 f r
	local -a allow=()
	shift

	for r in "$@"; do allow+=(--allow-role "$r"); done
	mkdir -p "$d/etc/userdb" "$d/db"
	chmod 0700 "$d/etc/userdb"
	setup udb --json host add "$h" "${allow[@]}"
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))
open(sys.argv[2],"w").write("dbdir = /var/lib/userdb\n" + o["config"].rstrip("\n") + "\n")
open(sys.argv[3],"w").write(o["passfile_line"] + "\n")' \
		"$FLEET/setup.out" "$d/etc/userdb.conf" "$d/etc/userdb/central.pgpass" ||
		_e2e_die "$h: cannot read host add's output"
	chmod 0644 "$d/etc/userdb.conf"
	chmod 0600 "$d/etc/userdb/central.pgpass"
	for f in nsswitch.conf passwd group shadow gshadow; do
		[[ -e /etc/$f ]] && cp -p "/etc/$f" "$d/etc/$f"
	done
	printf '127.0.0.1\tlocalhost %s\n' "$h" >"$d/etc/hosts"
	cp -a /etc/pam.d "$d/etc/pam.d"
	cp -a /etc/sudoers.d "$d/etc/sudoers.d"
	unshare -m -n -u --propagation private \
		bash "$E2E_DIR/fleet_host.sh" "$h" "$d" "$USERDB" setup >"$d/setup.log" 2>&1 &
	HOST_PID[$h]=$!
	disown
	wait_until 30 test -s "$d/ready" || _e2e_die "$h did not come up: $(tail -n5 "$d/setup.log")"
	setup on "$h" userdb init
	setup on "$h" userdb sync
	setup on "$h" follow_start
}

host_make hosta fleet web
host_make hostb fleet web
host_make hostc fleet

# user_add NAME ROLE...: a user made on the admin box with PW and grants.
user_add()
{
	local u=$1 r
	shift
	printf '%s\n' "$PW" | setup udb user add "$u" --password-stdin
	for r in "$@"; do setup udb grant "$u" "$r"; done
}

# synced_all SECONDS: every host's copy at central's revision.
synced_all()
{
	local h end=$((SECONDS + $1)) rev

	rev=$(pg_psql "$PG_CONNINFO" -c 'SELECT rev FROM userdb.state') || return 1
	for h in "${HOSTS[@]}"; do
		until [[ $(on "$h" userdb --json sync --status 2>/dev/null |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["local_rev"])' 2>/dev/null) -ge $rev ]]; do
			((SECONDS < end)) || return 1
			sleep 0.2
		done
	done
}

# ----------------------------------------------- 1. a role for two hosts --

user_add alice web
synced_all 30 || _e2e_die "the hosts did not sync alice within 30 s"
for h in hosta hostb; do
	e2e_expect_output "1. alice (web) logs in over ssh on $h" '^alice$' on "$h" host_ssh alice "$PW" id -un
done
e2e_expect_output "1. hostc knows alice (getent passwd)" '^alice:' on hostc getent passwd alice
e2e_expect_fail "1. alice is refused over ssh on hostc, where web is not allowed" \
	on hostc host_ssh alice "$PW" id -un
e2e_expect_output "1. hosta's copy holds alice's hash" '^\$' on hosta host_hash alice
e2e_expect_output "1. hostc's copy holds no hash for alice" '^<none>$' on hostc host_hash alice
e2e_expect_output "1. hosta's own central login reads alice's hash" '^1$' \
	on hosta host_psql "SELECT count(*) FROM userdb.secrets s JOIN userdb.users u ON u.id = s.user_id WHERE u.username = 'alice' AND s.password_hash LIKE '\$%'"
e2e_expect_output "1. hostc's own central login (psql with its passfile) cannot read it" '^0$' \
	on hostc host_psql "SELECT count(*) FROM userdb.secrets s JOIN userdb.users u ON u.id = s.user_id WHERE u.username = 'alice'"

# ---------------------------------------- 2. revoke and disable, timed --

# refused_after HOST USER T0 OUT: logs USER in over ssh on HOST again and
# again until one is refused; writes the milliseconds from T0 to the end
# of that refused login to OUT (nothing after the bar and a few seconds).
refused_after()
{
	local h=$1 u=$2 t0=$3 out=$4 end=$((SECONDS + BAR + 10)) rc

	while ((SECONDS < end)); do
		on "$h" host_ssh "$u" "$PW" true >/dev/null 2>&1
		rc=$?
		if ((rc != 0 && rc != 124)); then
			echo $(($(now_ms) - t0)) >"$out"
			return 0
		fi
		sleep 0.1
	done
}

# timed_refusal WHAT USER ADMIN_CMD...: every host logs USER in until it is
# refused, while the admin box runs ADMIN_CMD; then checks the time each
# host took and that ssh and sudo are refused there.
timed_refusal()
{
	local what=$1 u=$2 h t0 ms
	local -a pids=()
	shift 2

	for h in "${HOSTS[@]}"; do
		e2e_expect_output "2. before the $what, $u logs in over ssh on $h" "^$u\$" \
			on "$h" host_ssh "$u" "$PW" id -un
		e2e_expect_output "2. before the $what, $u runs sudo on $h" '^root$' \
			on "$h" host_sudo "$u" "$PW" id -un
		rm -f "$FLEET/refused.$h"
	done
	t0=$(now_ms)
	for h in "${HOSTS[@]}"; do
		refused_after "$h" "$u" "$t0" "$FLEET/refused.$h" &
		pids+=($!)
	done
	setup "$@"
	wait "${pids[@]}"
	for h in "${HOSTS[@]}"; do
		ms=$(cat "$FLEET/refused.$h" 2>/dev/null)
		[[ -n $ms ]] && printf '# %s of %s: ssh refused on %s %d.%03d s after the admin command began\n' \
			"$what" "$u" "$h" $((ms / 1000)) $((ms % 1000))
		e2e_expect_ok "2. after the $what, ssh on $h is refused within ${BAR} s (${ms:-never} ms)" \
			test "${ms:-999999}" -le $((BAR * 1000))
		e2e_expect_fail "2. after the $what, $u's next ssh on $h is refused" \
			on "$h" host_ssh "$u" "$PW" id -un
		e2e_expect_fail "2. after the $what, $u's sudo on $h is refused" \
			on "$h" host_sudo "$u" "$PW" id -un
	done
}

user_add dave fleet
user_add erin fleet
synced_all 30 || _e2e_die "the hosts did not sync dave and erin within 30 s"
timed_refusal revoke dave udb revoke dave fleet
timed_refusal disable erin udb user disable erin

# ------------------------------------- 3. central down, a host cut off --

# logins_ok HOST USER N: N ssh logins of USER in a row on HOST; prints how
# many were refused or failed, fails if any.
logins_ok()
{
	local h=$1 u=$2 n=$3 i bad=0

	for ((i = 0; i < n; i++)); do
		[[ $(on "$h" host_ssh "$u" "$PW" id -un 2>/dev/null) == "$u" ]] || bad=$((bad + 1))
	done
	echo "$bad of $n logins failed"
	((bad == 0))
}

# shows HOST REGEX CMD...: CMD's output on HOST has a line matching REGEX.
shows() { local h=$1 re=$2; shift 2; on "$h" "$@" 2>/dev/null | grep -qE -- "$re"; }

user_add bob fleet
synced_all 30 || _e2e_die "the hosts did not sync bob within 30 s"
pg_pause || _e2e_die "could not stop central"
for h in "${HOSTS[@]}"; do
	e2e_expect_output "3. central down: getent passwd bob on $h" '^bob:' on "$h" getent passwd bob
	e2e_expect_output "3. central down: id bob on $h shows the role group" '^bob fleet$' \
		on "$h" id -nG bob
	e2e_expect_ok "3. central down: 5 ssh logins of bob in a row on $h, none refused" \
		logins_ok "$h" bob 5
	e2e_expect_fail_output "3. central down: userdb sync --status on $h says stale" '\bstale\b' \
		on "$h" userdb sync --status
done
pg_resume || _e2e_die "could not start central again"
synced_all 120 || _e2e_die "the hosts did not reconnect within 120 s of central's return"

# hostc cut off: central's socket directory hidden in its mount namespace,
# its sessions ended by central.
setup on hostc mount -t tmpfs -o mode=0755 fleet-cut "$PG_SOCKDIR"
setup pg_super_psql -c "SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a
	JOIN userdb.hosts h ON h.login = a.usename WHERE h.name = 'hostc'"
e2e_expect_fail_output "3. cut off: userdb sync on hostc cannot reach central" 'unreachable' \
	on hostc userdb sync
user_add frank fleet
for h in hosta hostb; do
	wait_until 60 shows "$h" '^frank:' getent passwd frank
	e2e_expect_output "3. a change made while hostc is cut off reaches $h" '^frank$' \
		on "$h" host_ssh frank "$PW" id -un
done
e2e_expect_fail "3. ... but not hostc while it is cut off" on hostc getent passwd frank
setup on hostc umount "$PG_SOCKDIR"
t0=$SECONDS
wait_until 90 shows hostc '^frank:' getent passwd frank &&
	echo "# hostc caught up $((SECONDS - t0)) s after its path to central came back"
e2e_expect_output "3. once back, hostc has the change: frank logs in over ssh" '^frank$' \
	on hostc host_ssh frank "$PW" id -un

# ------------------------------------- 4. sync killed at random moments --

# hostb's --follow stopped; while the admin box makes a stream of changes,
# full passes are killed at random moments of their run. Each time the copy
# must stay whole and answer; the next pass catches up with central and
# shows what hosta shows. tests/central/kill_sync.sh kills at each kind of
# write point (commits, image install) and checks before-or-after views.
setup on hostb follow_stop
t0=$(now_ms)
setup on hostb userdb sync --full
pass_ms=$(($(now_ms) - t0))
echo "# a full pass on hostb takes about $pass_ms ms"
(
	for i in 1 2 3 4 5 6 7 8; do
		printf '%s\n' "$PW" | udb user add "kill$i" --password-stdin >/dev/null 2>&1
		udb grant "kill$i" fleet >/dev/null 2>&1
		udb user mod bob --shell "$([[ $((i % 2)) == 0 ]] && echo /bin/bash || echo /bin/sh)" >/dev/null 2>&1
	done
) &
stream=$!
killed=0 broken=0
for i in 1 2 3 4 5 6 7 8; do
	rc=$(on hostb sync_killed $((RANDOM % (pass_ms + 1))))
	[[ $rc == 137 ]] && killed=$((killed + 1))
	out=$(on hostb store_ok) || { broken=$((broken + 1)); echo "# after kill $i: $out"; }
	on hostb getent passwd bob >/dev/null || { broken=$((broken + 1)); echo "# after kill $i: no bob"; }
done
wait "$stream"
echo "# $killed of 8 passes on hostb were killed before they ended"
e2e_expect_ok "4. after every kill hostb's store is whole and getent answers" test "$broken" -eq 0
e2e_expect_ok "4. at least one pass was killed mid-way ($killed of 8)" test "$killed" -gt 0
e2e_expect_ok "4. the next pass completes" on hostb userdb sync
setup on hosta userdb sync
view() { on "$1" getent passwd | grep -E '^(bob|kill[0-9]+|frank|alice):' | sort; }
e2e_expect_ok "4. hostb then shows what hosta shows" test "$(view hostb)" = "$(view hosta)"
e2e_expect_output "4. ... the last change of the stream included" '^bob:.*:/bin/bash$' \
	on hostb getent passwd bob
setup on hostb follow_start

# ------------------------------ 5. a name reused by a new user --

count_name() { on "$1" getent passwd | grep -c "^$2:"; }

user_add gina fleet
user_add henry fleet
synced_all 30 || _e2e_die "the hosts did not sync gina and henry within 30 s"
old_uid=$(on hosta id -u gina) || _e2e_die "no uid for gina"
henry_uid=$(on hosta id -u henry) || _e2e_die "no uid for henry"
setup udb user del gina
setup udb user del henry
printf '%s\n' "$PW.new" | setup udb user add gina --password-stdin
setup udb grant gina fleet
new_uid=$(udb --json user show gina | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
[[ -n $new_uid && $new_uid != "$old_uid" ]] ||
	_e2e_die "the new gina did not get a new uid ($old_uid, $new_uid)"
synced_all 30 || _e2e_die "the hosts did not sync the new gina within 30 s"
for h in "${HOSTS[@]}"; do
	e2e_expect_output "5. on $h getent passwd gina shows the new uid" "^gina:x:$new_uid:" \
		on "$h" getent passwd gina
	e2e_expect_rc "5. on $h the old uid $old_uid is gone (getent passwd $old_uid)" 2 \
		on "$h" getent passwd "$old_uid"
	e2e_expect_output "5. on $h the user list (getent passwd) holds one gina" '^1$' \
		count_name "$h" gina
	e2e_expect_output "5. the new gina logs in on $h with her password, as her uid" "^$new_uid\$" \
		on "$h" host_ssh gina "$PW.new" id -u
	e2e_expect_rc "5. on $h henry, deleted, is gone (getent passwd henry)" 2 \
		on "$h" getent passwd henry
	e2e_expect_rc "5. on $h henry's uid is gone too (getent passwd $henry_uid)" 2 \
		on "$h" getent passwd "$henry_uid"
done

# ----------------------------------- 6. passwd on a host, central first --

PW2="$PW-two" PW3="$PW-three"
user_add ivy web
synced_all 30 || _e2e_die "the hosts did not sync ivy within 30 s"
e2e_expect_ok "6. ivy changes her password with passwd on hosta" \
	on hosta e2e_pty_answers 3 "$PW" "$PW2" "$PW2" runuser -u ivy -- passwd
e2e_expect_output "6. ivy's new password logs in on hosta" '^ivy$' on hosta host_ssh ivy "$PW2" id -un
t0=$SECONDS
wait_until 30 on hostb host_ssh ivy "$PW2" true &&
	echo "# hostb took the new password $((SECONDS - t0)) s after passwd on hosta ended"
e2e_expect_output "6. ... and on hostb after its sync" '^ivy$' on hostb host_ssh ivy "$PW2" id -un
e2e_expect_fail "6. the old one no longer works on hostb" on hostb host_ssh ivy "$PW" id -un
e2e_expect_output "6. hostc, where web is not allowed, still has no hash for ivy" '^<none>$' \
	on hostc host_hash ivy
hash_a=$(on hosta host_hash ivy)
pg_pause || _e2e_die "could not stop central"
e2e_expect_fail_output "6. central down: passwd on hosta fails and says why" \
	'central user database is unreachable: password not changed' \
	on hosta e2e_pty_answers 3 "$PW2" "$PW3" "$PW3" runuser -u ivy -- passwd
e2e_expect_ok "6. ... hosta's copy keeps the hash" test "$(on hosta host_hash ivy)" = "$hash_a"
e2e_expect_output "6. ... the password in force still logs in on hosta" '^ivy$' \
	on hosta host_ssh ivy "$PW2" id -un
e2e_expect_fail "6. ... the one refused does not" on hosta host_ssh ivy "$PW3" id -un
pg_resume || _e2e_die "could not start central again"
e2e_expect_output "6. central back: central holds the hash hosta has" '^1$' \
	pg_psql "$PG_CONNINFO" -c "SELECT count(*) FROM userdb.secrets s JOIN userdb.users u ON u.id = s.user_id WHERE u.username = 'ivy' AND s.password_hash = '$hash_a'"

# --------------------------- 7. failures on two hosts lock on the third --

# locked_on HOST USER: the shadow entry on HOST shows USER locked ('!').
locked_on() { [[ $(on "$1" getent shadow "$2" | cut -d: -f2) == '!'* ]]; }
unlocked_on() { ! locked_on "$@"; }

setup udb central set fleet-deny 4
user_add jack fleet
synced_all 30 || _e2e_die "the hosts did not sync jack within 30 s"
for h in hosta hostb; do
	for i in 1 2; do
		e2e_expect_fail "7. a wrong password for jack over ssh on $h ($i)" \
			on "$h" host_ssh jack "$PW-wrong" id -un
	done
done
t0=$SECONDS
if wait_until 30 locked_on hostc jack; then
	echo "# hostc showed jack locked $((SECONDS - t0)) s after the fourth failure"
fi
for h in "${HOSTS[@]}"; do
	e2e_expect_fail "7. four failures across hosta and hostb lock jack on $h: his password is refused" \
		on "$h" host_ssh jack "$PW" id -un
	e2e_expect_fail "7. ... and by sudo on $h" on "$h" host_sudo jack "$PW" id -un
done
setup udb user unlock jack
wait_until 30 unlocked_on hostc jack
for h in "${HOSTS[@]}"; do
	wait_until 30 on "$h" host_ssh jack "$PW" true
	e2e_expect_output "7. after user unlock on the admin box jack logs in on $h" '^jack$' \
		on "$h" host_ssh jack "$PW" id -un
done
