#!/bin/sh
# The lockout against concurrent and unrecordable attempts, with pamtester
# through pam_wrapper (suite pam):
#  - the right password, which read the account before any failure and is
#    held in its hash (crypt_gate.c) while 20 wrong passwords lock the
#    account (deny=3), is refused, and all 21 attempts are counted;
#  - while another process holds shadow.db's write lock (sqlite3 in BEGIN
#    IMMEDIATE), the right password is refused and a wrong one is not
#    lost, and once the lock is released the right password works again.
# Run by meson with PAMTESTER, PAM_FIXTURE, PAM_USERDB_MODULE, CRYPT_GATE,
# USERDB and LD_PRELOAD=libpam_wrapper.so set.
set -u

dir=$("$PAM_FIXTURE") || { echo "pam_fixture failed"; exit 1; }
trap 'rm -rf "$dir"' EXIT
cat >"$dir/services/login" <<END
auth required $PAM_USERDB_MODULE conf=$dir/userdb.conf nodelay deny=3 unlock_time=0
END
export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$dir/services" PAM_WRAPPER_DISABLE_DEEPBIND=1
export USERDB_CONF="$dir/userdb.conf"
failed=0

check() { # WHAT COMMAND...: ok when COMMAND succeeds
	what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failed=1; fi
}

auth() { # USER PASSWORD: pamtester's status
	printf '%s\n' "$2" | "$PAMTESTER" login "$1" authenticate >/dev/null 2>&1
}

shows() { # USER REGEX: `userdb user show USER` has a line matching REGEX
	"$USERDB" user show "$1" >"$dir/show.out" 2>&1
	grep -Eq "$2" "$dir/show.out" || { grep -E 'locked|failed' "$dir/show.out"; false; }
}

waitfor() { # PATH: up to 20 s
	i=0
	while [ ! -e "$1" ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i + 1)); done
	[ -e "$1" ]
}

gated() { # USER PASSWORD: auth with PASSWORD's hash held at $dir/gate
	CRYPT_GATE_PASSWORD=$2 CRYPT_GATE_DIR="$dir/gate" LD_PRELOAD="$LD_PRELOAD:$CRYPT_GATE" \
		auth "$1" "$2"
}

# --- 20 wrong passwords lock the account while the right one hashes -------
mkdir "$dir/gate" "$dir/gate-open"
touch "$dir/gate-open/open"
check "the gate passes a password through when open" \
	env CRYPT_GATE_PASSWORD='mallory password 1' CRYPT_GATE_DIR="$dir/gate-open" \
	LD_PRELOAD="$LD_PRELOAD:$CRYPT_GATE" sh -c \
	'printf "%s\n" "mallory password 1" | "$PAMTESTER" login mallory authenticate >/dev/null 2>&1'
check "and holds it at the gate" test -e "$dir/gate-open/reached"
gated alice 'alice password 1' &
right=$!
check "the right password's hash started" waitfor "$dir/gate/reached"
# Each attempt's log (pam_wrapper prints pam_syslog's lines on stderr):
# on a loaded machine an attempt can wait past the 5 s busy timeout, and
# is then refused and logged as not recorded, never counted silently.
pids=
for i in $(seq 20); do
	printf 'wrong %s\n' "$i" | "$PAMTESTER" login alice authenticate >"$dir/wrong.$i" 2>&1 &
	pids="$pids $!"
done
wrong_in=0
for p in $pids; do wait "$p" || wrong_in=$((wrong_in + 1)); done
check "no wrong password got in" test "$wrong_in" -eq 20
touch "$dir/gate/open"
wait "$right"
rc=$?
check "the right password, hashed across the lock, is refused (pamtester: $rc)" test "$rc" -ne 0
check "alice is locked" shows alice '^locked: +yes'
unrecorded=$(cat "$dir"/wrong.* | grep -c "cannot be recorded")
# pam_wrapper picks its /tmp/pam.X directory racily: among 20 processes
# started at once, one now and then fails in pam_start, before any module
# runs (pamtester: "Initialization failure"). Such an attempt never
# reached pam_userdb, so it is not one to count; nor is one where
# pam_wrapper gave up and exited in its constructor ("Failed to copy config
# files", "Failed to find a possible path": pamtester prints nothing then).
# A PWRAP_ERROR line alone ("Failed to create pam_wrapper config dir:
# /tmp/pam.A - File exists") is pam_wrapper trying the next name: that
# attempt goes on and is counted.
unstarted=$(grep -l -e "Initialization failure" -e "Failed to copy config files" \
	-e "Failed to find a possible path" "$dir"/wrong.* | wc -l)
[ "$unstarted" -eq 0 ] || echo "# $unstarted attempt(s) failed in pam_wrapper before the module ran"
check "pam_wrapper started most attempts ($((20 - unstarted)) of 20)" test "$unstarted" -le 2
counted=$((21 - unrecorded - unstarted))
check "every attempt not reported unrecorded ($unrecorded) is counted: $counted" \
	shows alice "^failed logins: +$counted "

# --- a write lock held elsewhere: nothing gets in uncounted ---------------
mkfifo "$dir/sql"
sqlite3 "$dir/db/shadow.db" <"$dir/sql" >"$dir/sql.out" 2>&1 &
holder=$!
exec 3>"$dir/sql"
# Keep -wal and -shm on close, as userdb's own writers do: readers need them.
printf '.filectrl persist_wal 1\nBEGIN IMMEDIATE;\n.print held\n' >&3
i=0
while ! grep -q held "$dir/sql.out" && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
check "sqlite3 holds the write lock" grep -q held "$dir/sql.out"
check "the right password is refused while attempts cannot be recorded" \
	sh -c '! { printf "%s\n" "frank password 1" | "$PAMTESTER" login frank authenticate; } >/dev/null 2>&1'
check "a wrong password is refused too" sh -c '! { printf "wrong\n" | "$PAMTESTER" login frank authenticate; } >/dev/null 2>&1'
printf 'ROLLBACK;\n' >&3
exec 3>&-
wait "$holder"
check "nothing was recorded meanwhile" shows frank '^failed logins: +0$'
check "the right password works once attempts can be recorded" auth frank 'frank password 1'
exit $failed
