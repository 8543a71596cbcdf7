#!/bin/sh
# A full disk (suite faults, TAP; root: it mounts a 1 MiB tmpfs for the
# database inside a private mount namespace, which vanishes with it).
#   - With no space left, every kind of change fails with exit 74 (I/O) and
#     one line "userdb: ..." and changes nothing: the same users, roles,
#     emails and account state afterwards, integrity_check ok.
#   - Lookups keep working (NSS answers, a PAM password check succeeds;
#     recording the session fails with PAM_SESSION_ERR, which the module
#     documents for a failed write).
#   - With 0 to 40 pages of space left, `user add` with two emails, a role
#     and a password either succeeds whole or fails with 74 and leaves at
#     most an account row without its user (invisible: no passwd or shadow
#     entry, no login), which the next write removes.
#   - Once space is freed, the next command works.
#
#   full_disk.sh USERDB NSS_MODULE PAM_MODULE PROBE
set -u

if [ "${1:-}" != --inside ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
		echo "1..0 # SKIP needs root and unshare (mounts a small tmpfs)"
		exit 0
	fi
	# Made and removed out here, once the namespace and its mount are gone.
	T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-full-XXXXXX") || exit 99
	chmod 755 "$T"
	unshare -m --propagation private sh "$0" --inside "$T" "$@"
	st=$?
	rm -rf "$T"
	exit $st
fi
T=$2
shift 2
userdb=$(realpath "$1")
nss=$(realpath "$2")
pam=$(realpath "$3")
probe=$(realpath "$4")

mkdir "$T/small"
mount -t tmpfs -o size=1m,mode=755 tmpfs "$T/small" || { echo "Bail out! mount tmpfs"; exit 1; }
db=$T/small/db
printf 'dbdir = %s\nhash_method = sha512crypt\nhash_cost = 1000\n' "$db" >"$T/userdb.conf"
export USERDB_CONF="$T/userdb.conf"
mkdir "$T/pam"
for phase in auth account password session; do
	echo "$phase required $pam conf=$USERDB_CONF nodelay"
done >"$T/pam/full"
{
	"$userdb" init &&
		"$userdb" role add crew --gid 40100 &&
		"$userdb" role add spare --gid 40101 &&
		printf 'alice password\n' | "$userdb" user add alice --uid 20001 --role crew \
			--email alice@example.com --password-stdin
} >/dev/null || { echo "Bail out! setup failed"; exit 1; }

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

# Everything the tool shows about the database, for before/after.
snapshot() {
	{
		"$userdb" --json user list
		"$userdb" --json role list
		"$userdb" --json user show alice
		"$userdb" --json email list alice
	} 2>&1
}

fill() {
	rm -f "$T/small/fill"
	dd if=/dev/zero of="$T/small/fill" bs=4096 2>/dev/null
	# What is left (free blocks of a tmpfs are whole pages).
	if [ -n "${1:-}" ] && [ "$1" -gt 0 ]; then
		truncate -s -$(($1 * 4096)) "$T/small/fill"
	fi
}

fill 0
echo "# free after filling: $(df -B1 --output=avail "$T/small" | tail -n 1) bytes"
before=$(snapshot)
for cmd in "user add bob --email bob@example.com --role crew --password-stdin" \
	"role add big --description filler --permission a:b --permission c:d --includes crew" \
	"grant alice spare" "revoke alice crew" "user disable alice" \
	"user passwd alice --password-stdin" "email add alice alice@else.example" \
	"user mod alice --first-name Alicia" "user del alice"; do
	# shellcheck disable=SC2086 # cmd is a list of words
	printf 'new password 1\n' | "$userdb" $cmd >/dev/null 2>"$T/err"
	st=$?
	msg=$(head -n 1 "$T/err")
	if [ $st -eq 74 ] && [ "$(wc -l <"$T/err")" -eq 1 ]; then
		ok "disk full: userdb $cmd exits 74: $msg"
	else
		not_ok "disk full: userdb $cmd exits $st: $(cat "$T/err")"
	fi
done
after=$(snapshot)
if [ "$before" = "$after" ]; then
	ok "disk full: nothing changed"
else
	not_ok "disk full: the database changed: $(printf '%s\n' "$before" "$after" | head -c 2000)"
fi
got=$("$probe" integrity "$db")
[ "$got" = "integrity=ok half=0" ] && ok "disk full: $got" || not_ok "disk full: $got"

got=$("$probe" nss "$nss" alice 20001 crew)
case $got in
*=[!S]*) not_ok "disk full: NSS$got" ;;
*) ok "disk full: NSS still answers:$got" ;;
esac
# Auth records every attempt in the write transaction that decides it: with
# no room to record, the right password is refused too (no uncounted
# guessing); the account phase only reads.
got=$("$probe" pam "$T/pam" full alice 'alice password')
if [ "$got" = "auth=PAM_AUTH_ERR account=PAM_SUCCESS session=PAM_SESSION_ERR" ]; then
	ok "disk full: PAM $got"
else
	not_ok "disk full: PAM $got"
fi

# A little space: the add succeeds whole, or fails and leaves nothing
# visible.
whole=0 refused=0 orphans=0
for pages in $(seq 0 40); do
	fill "$pages"
	name=bob$pages
	printf 'bob password\n' | "$userdb" user add "$name" --uid $((20100 + pages)) \
		--email "$name@example.com" --email "$name@else.example" --role crew \
		--password-stdin >/dev/null 2>"$T/err"
	st=$?
	rm -f "$T/small/fill"
	integ=$("$probe" integrity "$db")
	pw=$("$probe" nss "$nss" "$name" $((20100 + pages)) crew | sed 's/ getpwuid.*//')
	auth=$("$probe" pam "$T/pam" full "$name" 'bob password' | sed 's/ .*//')
	case $st:$integ in
	0:"integrity=ok half=0")
		if [ "$pw" = " getpwnam=SUCCESS" ] && [ "$auth" = auth=PAM_SUCCESS ]; then
			whole=$((whole + 1))
		else
			not_ok "$pages pages free: added, but getpwnam '$pw', $auth"
		fi
		;;
	74:"integrity=ok half=0" | 74:"integrity=ok half=1")
		refused=$((refused + 1))
		[ "$integ" = "integrity=ok half=1" ] && orphans=$((orphans + 1))
		if [ "$pw" != " getpwnam=NOTFOUND" ] || [ "$auth" != auth=PAM_USER_UNKNOWN ]; then
			not_ok "$pages pages free: refused, but getpwnam '$pw', $auth"
		fi
		;;
	*) not_ok "$pages pages free: user add exits $st ($(cat "$T/err")), $integ" ;;
	esac
	# The next write leaves nothing half done.
	"$userdb" user enable alice >/dev/null 2>&1
	integ=$("$probe" integrity "$db")
	[ "$integ" = "integrity=ok half=0" ] || not_ok "$pages pages free: after the next write: $integ"
done
ok "0 to 40 pages free: $whole adds whole, $refused refused with 74 ($orphans left an invisible account row, removed by the next write)"

rm -f "$T/small/fill"
if printf 'carol password\n' | "$userdb" user add carol --password-stdin >/dev/null 2>"$T/err"; then
	ok "space freed: the next command works"
else
	not_ok "space freed: user add carol: $(cat "$T/err")"
fi
got=$("$probe" integrity "$db")
[ "$got" = "integrity=ok half=0" ] && ok "at the end: $got" || not_ok "at the end: $got"

echo "1..$n"
exit $((failed > 0))
