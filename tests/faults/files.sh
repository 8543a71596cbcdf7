#!/bin/sh
# Broken database files, seen by every part of userdb (suite faults, TAP):
# the public or the shadow file, or one of the two compiled images,
# truncated (to nothing, to one page, to half), replaced by garbage, by a
# directory, by a symlink, owned by a non-root user, writable by others,
# unreadable for a non-root reader; the database directory a symlink,
# writable by all or owned by someone else. In each case:
#   - the NSS module (probe nss, a fresh process), which reads the images
#     only, answers from them whatever happens to the store; a broken image
#     gives UNAVAIL for every lookup that needs it, never NOTFOUND, and
#     nothing crashes; a process that was already answering (probe
#     nss-warm) keeps the image it mapped, whole and consistent, until a
#     writer publishes a new one (noticing costs no system call), and then
#     fails closed on a broken one;
#   - PAM gives PAM_AUTHINFO_UNAVAIL in auth, account and session, except
#     for damage inside public.db that its size does not show: auth, which
#     reads the shadow file alone, accepts the password, and the account
#     phase refuses, so a whole login (probe login) is refused;
#   - `userdb user list` and `userdb user add` fail with one line
#     "userdb: ..." on stderr and a sysexits status, and once the fault is
#     undone the database is as it was.
# Needs root for the cases with another owner or a non-root reader (they
# are skipped otherwise).
#
#   files.sh USERDB NSS_MODULE PAM_MODULE PROBE
set -u

userdb=$(realpath "$1")
nss=$(realpath "$2")
pam=$(realpath "$3")
probe=$(realpath "$4")

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-files-XXXXXX") || exit 99
chmod 755 "$T"
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
root=false
[ "$(id -u)" = 0 ] && root=true

printf 'dbdir = %s/db\nhash_method = sha512crypt\nhash_cost = 1000\n' "$T" >"$T/userdb.conf"
export USERDB_CONF="$T/userdb.conf"
mkdir "$T/pam"
for phase in auth account password session; do
	echo "$phase required $pam conf=$USERDB_CONF nodelay"
done >"$T/pam/files"
{
	"$userdb" init &&
		"$userdb" role add crew --gid 40100 &&
		printf 'alice password\n' |
		"$userdb" user add alice --uid 20001 --role crew --password-stdin &&
		"$userdb" user mod alice --first-name Alice
} >/dev/null || { echo "Bail out! setup failed"; exit 1; }
# The last write confirmed alice's name in the shadow file (a name is
# confirmed by the first write after its user add), as on any database in
# use: her authentication reads the shadow file alone.
cp -a "$T/db" "$T/template"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $* # SKIP not root"; }

reset_db() {
	chmod -R u+rwX "$T/db" 2>/dev/null
	rm -rf "$T/db" "$T/db.real"
	cp -a "$T/template" "$T/db"
}

nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

ALL_UNAVAIL=" getpwnam=UNAVAIL getpwuid=UNAVAIL getgrnam=UNAVAIL initgroups=UNAVAIL getpwent=UNAVAIL getgrent=UNAVAIL getspnam=UNAVAIL"
SHADOW_UNAVAIL=" getpwnam=SUCCESS getpwuid=SUCCESS getgrnam=SUCCESS initgroups=SUCCESS getpwent=SUCCESS getgrent=SUCCESS getspnam=UNAVAIL"
HEALTHY=" getpwnam=SUCCESS getpwuid=SUCCESS getgrnam=SUCCESS initgroups=SUCCESS getpwent=SUCCESS getgrent=SUCCESS getspnam=SUCCESS"
PUBLIC_UNAVAIL=" getpwnam=UNAVAIL getpwuid=UNAVAIL getgrnam=UNAVAIL initgroups=UNAVAIL getpwent=UNAVAIL getgrent=UNAVAIL getspnam=SUCCESS"
PAM_UNAVAIL="auth=PAM_AUTHINFO_UNAVAIL account=PAM_AUTHINFO_UNAVAIL session=PAM_AUTHINFO_UNAVAIL"
# Damage inside the public file that its size does not show (auth checks the
# file's owner, mode and size without opening it): auth decides the password
# on the shadow file alone and accepts it, but the account phase opens both
# files and fails closed, so the whole login is refused (check_login); NSS
# answers from the images.
PAM_PUBLIC_DAMAGED="auth=PAM_SUCCESS account=PAM_AUTHINFO_UNAVAIL session=PAM_AUTHINFO_UNAVAIL"

# check_nss WHAT WANT [nobody]: a fresh process's answers.
check_nss() {
	nss_what=$1 nss_want=$2
	if [ "${3:-}" = nobody ]; then
		got=$(nobody "$probe" nss "$nss" alice 20001 crew 2>&1)
	else
		got=$("$probe" nss "$nss" alice 20001 crew 2>&1)
	fi
	st=$?
	if [ $st -eq 0 ] && [ "$got" = "$nss_want" ]; then
		ok "$nss_what: NSS$nss_want"
	else
		not_ok "$nss_what: NSS gave '$got' (status $st), want '$nss_want'"
	fi
}

# check_probe MODE WHAT WANT: the probe's PAM mode (pam: authentication
# alone; login: one whole login on one handle, auth, account and session,
# as sshd, su and sudo run it) for alice, against WANT.
check_probe() {
	probe_mode=$1 probe_what=$2 probe_want=$3
	got=$("$probe" "$probe_mode" "$T/pam" files alice 'alice password' 2>&1)
	st=$?
	if [ $st -eq 0 ] && [ "$got" = "$probe_want" ]; then
		ok "$probe_what: $got"
	else
		not_ok "$probe_what: PAM gave '$got' (status $st), want '$probe_want'"
	fi
}
check_pam() { check_probe pam "$1" "$2"; }
check_login() { check_probe login "$1, whole login" "$2"; }

# check_cli WHAT: user list and user add both refused with one clear line.
check_cli() {
	cli_what=$1
	for cmd in "user list" "user add bob"; do
		# shellcheck disable=SC2086 # cmd is two or three words
		"$userdb" $cmd >/dev/null 2>"$T/err" </dev/null
		st=$?
		lines=$(wc -l <"$T/err")
		msg=$(head -n 1 "$T/err")
		case $st:$lines:$msg in
		0:*) not_ok "$cli_what: userdb $cmd succeeded" ;;
		*:1:"userdb: "*)
			if [ $st -lt 128 ]; then
				ok "$cli_what: userdb $cmd exits $st: $msg"
			else
				not_ok "$cli_what: userdb $cmd died with status $st"
			fi
			;;
		*) not_ok "$cli_what: userdb $cmd exits $st with $lines lines on stderr: $msg" ;;
		esac
	done
}

# unchanged WHAT: after the fault is undone, alice is there and bob is not.
unchanged() {
	if "$userdb" user show alice >/dev/null 2>&1 &&
		! "$userdb" user show bob >/dev/null 2>&1; then
		ok "$1: undone, the database is as it was"
	else
		not_ok "$1: undone, the database changed: $("$userdb" user list 2>&1 | tr '\n' ' ')"
	fi
}

# warm WHAT WANT ACTION: a process that has looked alice up keeps running
# while ACTION breaks the database; its next lookups give WANT (or, for
# SUCCESS_OR_UNAVAIL, each either of the two).
warm() {
	warm_what=$1 warm_want=$2 action=$3
	rm -f "$T/ready" "$T/go"
	"$probe" nss-warm "$nss" alice 20001 crew "$T/ready" "$T/go" >"$T/warm" 2>&1 &
	pid=$!
	i=0
	while [ ! -e "$T/ready" ] && [ $i -lt 500 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	eval "$action"
	touch "$T/go"
	wait $pid
	st=$?
	before=$(sed -n 's/^before://p' "$T/warm")
	after=$(sed -n 's/^after://p' "$T/warm")
	good=false
	if [ "$warm_want" = SUCCESS_OR_UNAVAIL ]; then
		words=$(echo "$after" | wc -w)
		bad=$(echo "$after" | tr ' ' '\n' | grep -v '^$' | grep -cvE '=(SUCCESS|UNAVAIL)$')
		[ "$words" -eq 7 ] && [ "$bad" -eq 0 ] && good=true
	elif [ "$after" = "$warm_want" ]; then
		good=true
	fi
	if [ $st -eq 0 ] && [ "$before" = "$HEALTHY" ] && $good; then
		ok "$warm_what (process already running): NSS$after"
	else
		not_ok "$warm_what (process already running): status $st, before '$before', after '$after'"
	fi
}

pub=$T/db/public.db

reset_db
check_nss "healthy" "$HEALTHY"
check_pam "healthy" "auth=PAM_SUCCESS account=PAM_SUCCESS session=PAM_SUCCESS"
check_login "healthy" "login=PAM_SUCCESS at=pam_close_session"

# Garbage written in place covers the first page after the file header (the
# schema's root: with more tables the schema no longer fits on page 1, and
# garbage further in would land in its free space).
# Faults of one file, one per line: NAME|ACTION|UNDO|PAM (UNDO may be
# empty; PAM is what PAM gives when the file is public.db: "all" for
# PAM_UNAVAIL, "auth" for PAM_PUBLIC_DAMAGED, the damage auth does not see).
cat >"$T/cases" <<'CASES_END'
truncated to nothing|: >"$file"||all
truncated to one page|truncate -s 4096 "$file"||auth
truncated to half|truncate -s $(($(stat -c %s "$file") / 2 + 100)) "$file"||all
replaced by garbage|head -c $(stat -c %s "$file") /dev/urandom >"$file.new" && mv "$file.new" "$file"||auth
garbage written in place|dd if=/dev/urandom of="$file" bs=4 seek=25 count=999 conv=notrunc 2>/dev/null||auth
replaced by a directory|mv "$file" "$file.real" && mkdir "$file"|rmdir "$file" && mv "$file.real" "$file"|all
a symlink|mv "$file" "$file.real" && ln -s "$file.real" "$file"|rm "$file" && mv "$file.real" "$file"|all
writable by others|chmod o+w "$file"|chmod o-w "$file"|all
CASES_END
for f in public shadow; do
	file=$T/db/$f.db
	# Lookups never read the store: its damage does not reach them.
	want=$HEALTHY
	while IFS='|' read -r name action undo pam_want; do
		reset_db
		eval "$action"
		check_nss "$f.db $name" "$want"
		if [ $f = public ] && [ "$pam_want" = auth ]; then
			check_pam "$f.db $name" "$PAM_PUBLIC_DAMAGED"
			check_login "$f.db $name" "login=PAM_AUTHINFO_UNAVAIL at=pam_acct_mgmt"
		else
			check_pam "$f.db $name" "$PAM_UNAVAIL"
		fi
		check_cli "$f.db $name"
		if [ -n "$undo" ]; then
			eval "$undo"
			unchanged "$f.db $name"
		fi
	done <"$T/cases"
done

# The images, broken the same ways: UNAVAIL for the lookups each serves.
for f in nss nss-shadow; do
	file=$T/db/$f.img
	if [ $f = nss ]; then want=$PUBLIC_UNAVAIL; else want=$SHADOW_UNAVAIL; fi
	while IFS='|' read -r name action undo pam_want; do
		reset_db
		eval "$action"
		check_nss "$f.img $name" "$want"
	done <"$T/cases"
	reset_db
	if $root; then
		chown 65534 "$file"
		check_nss "$f.img owned by nobody" "$want"
	else
		skip "$f.img owned by another user"
	fi
done

# Owned by someone else (root only: chown).
for f in public shadow; do
	file=$T/db/$f.db
	want=$HEALTHY
	reset_db
	if $root; then
		chown 65534 "$file"
		check_nss "$f.db owned by nobody" "$want"
		check_pam "$f.db owned by nobody" "$PAM_UNAVAIL"
		check_cli "$f.db owned by nobody"
		chown 0 "$file"
		unchanged "$f.db owned by nobody"
	else
		skip "$f.db owned by another user"
	fi
done

# The directory: a symlink, writable by all, owned by someone else.
reset_db
mv "$T/db" "$T/db.real" && ln -s "$T/db.real" "$T/db"
check_nss "database directory a symlink" "$ALL_UNAVAIL"
check_pam "database directory a symlink" "$PAM_UNAVAIL"
check_cli "database directory a symlink"
rm "$T/db" && mv "$T/db.real" "$T/db"
unchanged "database directory a symlink"
chmod 777 "$T/db"
check_nss "database directory writable by all" "$ALL_UNAVAIL"
check_pam "database directory writable by all" "$PAM_UNAVAIL"
check_cli "database directory writable by all"
chmod 755 "$T/db"
unchanged "database directory writable by all"
if $root; then
	chown 65534 "$T/db"
	check_nss "database directory owned by nobody" "$ALL_UNAVAIL"
	check_pam "database directory owned by nobody" "$PAM_UNAVAIL"
	check_cli "database directory owned by nobody"
	chown 0 "$T/db"
	unchanged "database directory owned by nobody"
else
	skip "database directory owned by another user"
fi

# Unreadable for a non-root reader (root itself reads through mode 000).
reset_db
if $root; then
	check_nss "healthy, reader nobody" "$SHADOW_UNAVAIL" nobody
	chmod 000 "$pub"
	check_nss "public.db mode 000, reader nobody" "$SHADOW_UNAVAIL" nobody
	chmod 000 "$T/db/nss.img"
	check_nss "nss.img mode 000, reader nobody" "$ALL_UNAVAIL" nobody
	chmod 644 "$T/db/nss.img"
	# Auth as a caller that cannot read the shadow file goes through the
	# helper userdb-chkpwd (not installed here): refused, never UNAVAIL,
	# which a stack would hand to pam_unix.
	got=$(nobody "$probe" pam "$T/pam" files alice 'alice password' 2>&1)
	if [ "$got" = "auth=PAM_AUTH_ERR account=PAM_AUTHINFO_UNAVAIL session=PAM_AUTHINFO_UNAVAIL" ]; then
		ok "public.db mode 000, PAM as nobody: $got"
	else
		not_ok "public.db mode 000, PAM as nobody: $got"
	fi
	nobody "$userdb" user list >/dev/null 2>"$T/err"
	st=$?
	if [ $st -ne 0 ] && [ $st -lt 128 ] && grep -q '^userdb: ' "$T/err"; then
		ok "public.db mode 000, userdb as nobody exits $st: $(head -n 1 "$T/err")"
	else
		not_ok "public.db mode 000, userdb as nobody exits $st: $(cat "$T/err")"
	fi
	chmod 644 "$pub"
	chmod 000 "$T/db"
	check_nss "database directory mode 000, reader nobody" "$ALL_UNAVAIL" nobody
	chmod 755 "$T/db"
else
	skip "unreadable for a non-root reader"
fi

# Broken under a process that is already reading. The store's damage never
# reaches it. A broken image does not either, until a writer publishes (the
# word in nss.gen changes): the process then maps the file anew and fails
# closed on what it finds.
img=$T/db/nss.img
bump='printf "\\001\\002\\003\\004\\005\\006\\007\\010" | dd of="$T/db/nss.gen" conv=notrunc 2>/dev/null'
reset_db
warm "public.db truncated in place" "$HEALTHY" ': >"$pub"'
reset_db
warm "public.db replaced by garbage" "$HEALTHY" \
	'head -c 8192 /dev/urandom >"$pub.new" && mv "$pub.new" "$pub"'
reset_db
# Its lookups keep the mapped image; an enumeration maps the file anew for
# its pass (one snapshot per pass), and fails closed.
warm "nss.img replaced by garbage, no publication" \
	" getpwnam=SUCCESS getpwuid=SUCCESS getgrnam=SUCCESS initgroups=SUCCESS getpwent=UNAVAIL getgrent=UNAVAIL getspnam=SUCCESS" \
	'head -c 8192 /dev/urandom >"$img.new" && mv "$img.new" "$img"'
reset_db
warm "nss.img replaced by garbage, then a publication" "$PUBLIC_UNAVAIL" \
	'head -c 8192 /dev/urandom >"$img.new" && mv "$img.new" "$img" && '"$bump"
reset_db
warm "nss.img replaced by a symlink, then a publication" "$PUBLIC_UNAVAIL" \
	'mv "$img" "$img.real" && ln -s "$img.real" "$img" && '"$bump"
reset_db
warm "nss.img made writable by others, then a publication" "$PUBLIC_UNAVAIL" \
	'chmod o+w "$img" && '"$bump"
reset_db
warm "nss-shadow.img made writable by others" "$SHADOW_UNAVAIL" 'chmod o+w "$T/db/nss-shadow.img"'
reset_db
if $root; then
	warm "nss.img given to nobody, then a publication" "$PUBLIC_UNAVAIL" \
		'chown 65534 "$img" && '"$bump"
else
	skip "nss.img given to another user, process already running"
fi

echo "1..$n"
exit $((failed > 0))
