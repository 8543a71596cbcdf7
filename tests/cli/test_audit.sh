#!/bin/sh
# The audit trail (suite cli, TAP): every command of `userdb` that changes
# something leaves exactly one row in the audit table (`userdb --json log`)
# and one authpriv line in the system log, naming the command, the invoking
# user and SUDO_USER; a refused command and a command that changes nothing
# leave neither. The table below must name every command of `userdb --help`,
# as changing or as read-only, so a new command cannot slip past it.
#
# Root only: inside a private mount namespace a tmpfs covers /dev (the
# device nodes the tool needs bound back) and a python3 listener bound to
# /dev/log receives the datagrams; the host's syslog never sees them.
#
#   test_audit.sh USERDB
set -u

if [ "${1:-}" != --inside ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null ||
		! command -v python3 >/dev/null || ! command -v sqlite3 >/dev/null; then
		echo "1..0 # SKIP needs root, unshare, python3 and sqlite3"
		exit 0
	fi
	# Made and removed out here, after the namespace and its mounts are gone.
	T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-audit-XXXXXX") || exit 99
	chmod 755 "$T"
	unshare -m --propagation private sh "$0" --inside "$T" "$@"
	st=$?
	rm -rf "$T"
	exit $st
fi
T=$2
USERDB=$(realpath "$3")
export LC_ALL=C
unset SUDO_USER

mkdir "$T/nodes"
for node in null zero full random urandom tty; do
	[ -e "/dev/$node" ] || continue
	touch "$T/nodes/$node" && mount --bind "/dev/$node" "$T/nodes/$node" ||
		{ echo "Bail out! bind /dev/$node"; exit 1; }
done
mount -t tmpfs -o mode=755 tmpfs /dev || { echo "Bail out! cannot cover /dev"; exit 1; }
for node in "$T"/nodes/*; do
	touch "/dev/${node##*/}" && mount --bind "$node" "/dev/${node##*/}"
done

# One datagram per line in $T/log (a datagram never holds a newline: the
# tool writes one line).
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).replace(b"\n", b"?") + b"\n")
' "$T/log" &
listener=$!
trap 'kill $listener 2>/dev/null' EXIT
i=0
while [ ! -e "$T/log.ready" ] && [ $i -lt 500 ]; do
	sleep 0.01
	i=$((i + 1))
done
: >"$T/log"

printf 'dbdir = %s/db\nhash_method = sha512\nhash_cost = 1000\n' "$T" >"$T/conf"
export USERDB_CONF="$T/conf"

n=0
failed=0
check() { # DESCRIPTION STATUS [DETAIL]
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
		printf '%s\n' "${3:-}" | sed 's/^/#   /'
	fi
}

rows() { "$USERDB" --json log | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
last_row() { # FIELD: the field of the newest row
	"$USERDB" --json log | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1][sys.argv[1]])' "$1"
}
# The log lines arrive asynchronously: wait for the count.
log_lines() { # WANT: waits up to 2 s until the log has WANT lines; prints the count
	i=0
	while [ "$(wc -l <"$T/log")" -lt "$1" ] && [ $i -lt 200 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	wc -l <"$T/log"
}

# audited COMMAND INPUT ARGS...: the run succeeds, adds one row whose
# command is COMMAND and whose message is what the tool printed last, and one
# authpriv line (facility 10, <8*10+5> = <85>: notice) with the same.
audited() {
	cmd=$1 input=$2
	shift 2
	before=$(rows)
	lines=$(wc -l <"$T/log")
	out=$(printf '%s' "$input" | SUDO_USER=alice "$USERDB" "$@" 2>"$T/err")
	rc=$?
	after=$(rows)
	# import prints its plan first: the message is the last line; totp
	# enroll and recovery-codes print the secret or the codes after it.
	if [ -n "${FIRST:-}" ]; then
		printf '%s\n' "$out" | tail -n +2 >"$T/secrets"
		out=$(printf '%s\n' "$out" | head -n 1)
	else
		out=$(printf '%s\n' "$out" | tail -n 1)
	fi
	check "$cmd: exit 0" $rc "$(cat "$T/err")"
	check "$cmd: one audit row" "$([ "$after" = $((before + 1)) ]; echo $?)" "$before -> $after"
	check "$cmd: the row names the command" "$([ "$(last_row command)" = "$cmd" ]; echo $?)" \
		"$(last_row command)"
	check "$cmd: the row's message is what it printed" \
		"$([ "$(last_row message)" = "$out" ]; echo $?)" "$(last_row message) / $out"
	check "$cmd: the row says who (root, SUDO_USER alice)" \
		"$([ "$(last_row by) $(last_row sudo_user)" = "root alice" ]; echo $?)"
	check "$cmd: one log line" "$([ "$(log_lines $((lines + 1)))" = $((lines + 1)) ]; echo $?)"
	line=$(tail -n 1 "$T/log")
	case $line in
	"<85>"*"userdb["*"]: $cmd by root (uid 0, sudo from alice): $out") ok=0 ;;
	*) ok=1 ;;
	esac
	check "$cmd: the authpriv line says what and who" $ok "$line"
	seen="$seen|$cmd|"
}

# not_audited DESCRIPTION ARGS...: no row, no log line.
not_audited() {
	d=$1
	shift
	before=$(rows)
	lines=$(wc -l <"$T/log")
	"$USERDB" "$@" </dev/null >/dev/null 2>&1
	sleep 0.1
	check "$d: no audit row" "$([ "$(rows)" = "$before" ]; echo $?)"
	check "$d: no log line" "$([ "$(wc -l <"$T/log")" = "$lines" ]; echo $?)"
}

seen=
# init is the first change: its row is the first one.
out=$("$USERDB" init)
check "init: exit 0" $?
check "init: one row" "$([ "$(rows)" = 1 ] && [ "$(last_row command)" = init ]; echo $?)"
check "init: one log line" "$([ "$(log_lines 1)" = 1 ]; echo $?)"
seen="|init|"

R=$T/root
mkdir -p "$R/etc"
echo 'imp:x:12000:12000::/home/imp:/bin/sh' >"$R/etc/passwd"
echo 'imp:!:19000:0:99999:7:::' >"$R/etc/shadow"
echo 'imp:x:12000:' >"$R/etc/group"
: >"$R/etc/gshadow"

audited "role add" "" role add crew --permission ssh:login
audited "role add" "" role add deck
audited "role mod" "" role mod crew --description Crew --include deck
audited "user add" "secret one
" user add bob --role crew --password-stdin
audited "user mod" "" user mod bob --first-name Bob
audited "user passwd" "secret two
" user passwd bob --password-stdin
audited "user disable" "" user disable bob
audited "user enable" "" user enable bob
audited "user expire" "" user expire bob --account 2030-01-01
audited "grant" "" grant bob deck --until +1d
audited "revoke" "" revoke bob deck
audited "email add" "" email add bob bob@example.com
audited "email add" "" email add bob bob@example.org
audited "email confirm" "" email confirm bob bob@example.org
audited "email primary" "" email primary bob bob@example.org
audited "email del" "" email del bob bob@example.com
SSH_KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIECEhw8+5cbJkcCy4JsFQaXbdPFbll/UvVUL11qJ42Pb k'
audited "ssh-key add" "" ssh-key add bob "$SSH_KEY"
SSH_KEY2='ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCrHr310VBZ2B0WnSGWM63OInftQEzyGmjyBSlN5H72MhrioUCtp5RLAJUG70JasT6NeTV/6v142RiT4Skx4SNk='
audited "ssh-key add" "$SSH_KEY2" ssh-key add bob - --until +1d
audited "ssh-key del" "" ssh-key del bob SHA256:/TA9k/pxdB9iMIUIgjEGF0vjUOMSismsKWajim0keWc
# A failed-login count as PAM would leave it (PAM's own write is not
# audited: this one goes straight to the file).
sqlite3 "$T/db/shadow.db" "UPDATE accounts SET failed_count = 3, locked_until = 4102444800" ||
	echo "Bail out! cannot set a failure count"
audited "user unlock" "" user unlock bob
audited "user lock-password" "" user lock-password bob
audited "user unlock-password" "" user unlock-password bob
audited "import" "" import --from-system --root "$R" --min-uid 11000
FIRST=1 audited "totp enroll" "" totp enroll bob
key=$(sed -n 's/^key: *//p' "$T/secrets")
audited "totp confirm" "" totp confirm bob "$(oathtool --totp -b "$key")"
FIRST=1 audited "totp recovery-codes" "" totp recovery-codes bob
code=$(head -n 1 "$T/secrets")
"$USERDB" --json log >"$T/rows"
check "the TOTP key and the recovery codes are in no audit row and no log line" \
	"$(! grep -q -e "$key" -e "$code" "$T/rows" "$T/log" && [ -n "$key" ] && [ -n "$code" ]; echo $?)"
audited "totp disable" "" totp disable bob
"$USERDB" backup "$T/backup" >/dev/null 2>&1 || echo "Bail out! backup"
audited "restore" "" restore "$T/backup"
audited "user del" "" user del bob
audited "role del" "" role del deck
audited "compact" "" compact --force
not_audited "compact with nothing to take in" compact

check "the row of a user's change names the user" \
	"$("$USERDB" --json log --user bob | python3 -c '
import json, sys
rows = json.load(sys.stdin)
sys.exit(not (len(rows) >= 10 and all(r["user"] == "bob" for r in rows)))'; echo $?)"
check "log --since in the future shows nothing" \
	"$([ "$("$USERDB" log --since +1h)" = "" ]; echo $?)"
"$USERDB" log >"$T/text"
check "log (text) shows who, the command and the message" \
	"$(grep -Eq '^[0-9-]{10}T[0-9:]{8}Z  root \(sudo from alice\)  user del: deleted user bob' "$T/text"; echo $?)" \
	"$(cat "$T/text")"

not_audited "a refused command (bad input)" user add 'Bad Name'
not_audited "a refused command (no such user)" user disable nosuch
not_audited "a command that changes nothing" revoke imp crew
not_audited "a read command" user list
"$USERDB" log --user 'x y' >/dev/null 2>&1
check "log --user with a bad name: exit 64" "$([ $? = 64 ]; echo $?)"

# Every command of --help is in the table above, or known not to change
# anything.
readonly_cmds="|user show|user list|role show|role list|email list|explain|log|totp status|ssh-key list|ssh-authorized-keys|"
# The fleet commands change the central PostgreSQL database only: they send
# the authpriv line but write no local row (tests/central runs them; their
# line is not checked here, which would need a PostgreSQL in the namespace).
readonly_cmds="$readonly_cmds|central init|central set|host add|host allow|host deny|host list|host del|"
# central push-local needs a PostgreSQL too: tests/central/admin.sh runs it
# and checks its local row.
readonly_cmds="$readonly_cmds|central push-local|"
# `sync` only copies what central's own commands changed.
readonly_cmds="$readonly_cmds|sync|"
# backup writes a new directory and check reads: neither changes the store.
readonly_cmds="$readonly_cmds|backup|check|export|"
"$USERDB" --help | sed -n 's/^  userdb //p' | while read -r w1 w2 rest; do
	case $w2 in
	[a-z]*) c="$w1 $w2" ;;
	*) c=$w1 ;;
	esac
	case "$seen$readonly_cmds" in
	*"|$c|"*) ;;
	*) echo "$c" ;;
	esac
done >"$T/missing"
check "every command of --help is audited or read-only" "$([ ! -s "$T/missing" ]; echo $?)" \
	"not covered by tests/cli/test_audit.sh: $(cat "$T/missing")"

echo "1..$n"
[ "$failed" = 0 ]
