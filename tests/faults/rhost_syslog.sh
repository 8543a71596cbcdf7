#!/bin/sh
# PAM_RHOST with control characters reaches the system log escaped (suite
# faults, TAP; root: inside a private mount namespace a tmpfs covers /dev,
# with the usual device nodes bound back, and a python3 listener takes the
# datagrams sent to /dev/log, which this machine does not have). A login
# whose remote host holds a newline, an escape sequence, a bell, a
# backslash and bytes above 0x7e, and a failed login with the same host,
# must produce log lines with "rhost=" followed by the escaped form
# (\xNN), and no raw control byte in any datagram.
#
#   rhost_syslog.sh PROBE PAM_MODULE USERDB
set -u

if [ "${1:-}" != --inside ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v python3 >/dev/null; then
		echo "1..0 # SKIP needs root, unshare and python3"
		exit 0
	fi
	# The temporary directory is made and removed out here, after the
	# namespace and all its mounts are gone: nothing ever deletes
	# recursively in a tree that has a mount in it.
	T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-syslog-XXXXXX") || exit 99
	chmod 755 "$T"
	unshare -m --propagation private sh "$0" --inside "$T" "$@"
	st=$?
	rm -rf "$T"
	exit $st
fi
T=$2
shift 2
probe=$(realpath "$1")
pam=$(realpath "$2")
userdb=$(realpath "$3")

trap 'kill $listener 2>/dev/null' EXIT
printf 'dbdir = %s/db\nhash_method = sha512crypt\nhash_cost = 1000\n' "$T" >"$T/userdb.conf"
export USERDB_CONF="$T/userdb.conf"
mkdir "$T/pam"
for phase in auth account password session; do
	echo "$phase required $pam conf=$USERDB_CONF nodelay"
done >"$T/pam/syslog"
{
	"$userdb" init && printf 'alice password\n' | "$userdb" user add alice --password-stdin
} >/dev/null || { echo "Bail out! setup failed"; exit 1; }

# A tmpfs over /dev (in this namespace only), with the few device nodes
# the probe needs bound back one by one from copies of the real ones'
# mounts, taken before /dev is covered.
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

python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        data = s.recv(65536)
        out.write(len(data).to_bytes(4, "big") + data)
' "$T/log" &
listener=$!
i=0
while [ ! -e "$T/log.ready" ] && [ $i -lt 500 ]; do
	sleep 0.01
	i=$((i + 1))
done

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

rhost=$(printf 'evil\nhost\033[31m\007back\\slash\177\377')
want='rhost=evil\x0ahost\x1b[31m\x07back\x5cslash\x7f\xff'
got=$("$probe" pam "$T/pam" syslog alice 'alice password' "$rhost")
[ "$got" = "auth=PAM_SUCCESS account=PAM_SUCCESS session=PAM_SUCCESS" ] &&
	ok "login with a hostile PAM_RHOST: $got" || not_ok "login: $got"
got=$("$probe" pam "$T/pam" syslog alice 'wrong password' "$rhost")
case $got in
auth=PAM_AUTH_ERR*) ok "failed login with a hostile PAM_RHOST: $got" ;;
*) not_ok "failed login: $got" ;;
esac
# A configuration that does not load is logged with its path, line, key
# and reason: never "(default)", "line 0", or the text of the line.
printf 'uid_min = 500\nuid_max = 100\n' >"$T/range.conf"
printf '# ok\nuid_min = SECRET-VALUE\n' >"$T/badline.conf"
chmod 644 "$T/range.conf" "$T/badline.conf"
echo "auth required $pam nodelay" >"$T/pam/noconf"
echo "auth required $pam conf=$T/badline.conf nodelay" >"$T/pam/badline"
got=$(USERDB_CONF="$T/range.conf" "$probe" pam "$T/pam" noconf alice 'alice password' host)
case $got in
auth=PAM_AUTHINFO_UNAVAIL*) ok "an empty uid range refuses the login: $got" ;;
*) not_ok "empty uid range: $got" ;;
esac
got=$("$probe" pam "$T/pam" badline alice 'alice password' host)
case $got in
auth=PAM_AUTHINFO_UNAVAIL*) ok "a bad config line refuses the login: $got" ;;
*) not_ok "bad config line: $got" ;;
esac
sleep 0.2
kill $listener 2>/dev/null
wait $listener 2>/dev/null

# Check the datagrams: split by their length prefix.
python3 - "$T/log" "$want" "$T" "$n" <<'PY_END' || failed=$((failed + 1))
import sys
data = open(sys.argv[1], "rb").read()
want = sys.argv[2].encode()
lines, i = [], 0
while i + 4 <= len(data):
    n = int.from_bytes(data[i:i + 4], "big")
    lines.append(data[i + 4:i + 4 + n])
    i += 4 + n
raw = [l for l in lines if any(b < 0x20 or b >= 0x7f for b in l.rstrip(b"\n\0"))]
hits = [l for l in lines if want in l]
print("# %d datagrams on /dev/log" % len(lines))
for l in hits:
    print("# " + l.decode("ascii", "replace"))
ok = len(lines) > 0 and not raw and len(hits) >= 2
n = int(sys.argv[4])
print(("ok" if len(hits) >= 2 else "not ok") +
      " %d - the session and the failure are logged with %s (%d lines)" % (n + 1, sys.argv[2], len(hits)))
print(("ok" if lines and not raw else "not ok") +
      " %d - no raw control byte or byte above 0x7e in %d datagrams (%d with)" % (n + 2, len(lines), len(raw)))
t = sys.argv[3].encode()
wants = [b"config " + t + b"/range.conf: uid_min is above uid_max: the range is empty",
         b"config " + t + b"/badline.conf, line 2: uid_min must be a number from 1 to 4294967294"]
for i, w in enumerate(wants):
    found = [l for l in lines if w in l]
    ok = ok and bool(found)
    print(("ok" if found else "not ok") + " %d - logged: %s" % (n + 3 + i, w.decode()))
bad = [l for l in lines if b"(default)" in l or b"line 0" in l or b"SECRET" in l]
ok = ok and not bad
print(("ok" if not bad else "not ok") +
      " %d - no line says (default), line 0 or quotes the file (%d do)" % (n + 5, len(bad)))
for l in bad:
    print("# " + l.decode("ascii", "replace"))
sys.exit(0 if ok else 1)
PY_END
n=$((n + 5))
echo "1..$n"
exit $((failed > 0))
