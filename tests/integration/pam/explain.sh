#!/bin/sh
# `userdb explain` against pam_userdb.so itself: for every case of the
# account phase, `pamtester SERVICE USER acct_mgmt` (under pam_wrapper) and
# `userdb explain USER SERVICE --pam-dir DIR` must reach the same decision.
# Then the reading of PAM files: @include, include, substack, loops,
# missing files, a Linux-PAM pam_userdb.so, bad arguments. Run by meson
# (suites pam and cli) with PAMTESTER, USERDB, PAM_USERDB_MODULE and
# LD_PRELOAD=libpam_wrapper.so set.
set -u

# pam_wrapper for pamtester only: preloaded into every process of the
# script, a failed pwrap_init (its /tmp/pam.X name taken) ends even `head`.
PRELOAD=${LD_PRELOAD:-}
unset LD_PRELOAD PAM_WRAPPER
pamtester() { LD_PRELOAD=$PRELOAD PAM_WRAPPER=1 "$PAMTESTER" "$@"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-explain.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
export LC_ALL=C USERDB_CONF=$T/userdb.conf
printf 'dbdir = %s\nhash_method = sha512\nhash_cost = 1000\n' "$T/db" >"$USERDB_CONF"
S=$T/services
mkdir "$S"
export PAM_WRAPPER_SERVICE_DIR="$S"
m=$PAM_USERDB_MODULE
c=conf=$USERDB_CONF
failed=0

udb() { "$USERDB" "$@"; }
fail() { echo "FAIL: $*"; failed=1; }

udb init >/dev/null || exit 1
udb role add crew --permission ssh:login >/dev/null
udb role add chief --includes crew --permission sudo:all >/dev/null
udb role add opsx >/dev/null
for u in alice bob dis nyv old must aged stale lock mailu confu gone; do
	printf '%s pw 1\n' "$u" | udb user add "$u" --password-stdin >/dev/null || exit 1
done
udb grant alice chief >/dev/null
for u in bob dis nyv old must aged stale lock mailu confu; do udb grant "$u" crew >/dev/null; done
udb user disable dis >/dev/null
udb user expire nyv --not-before +2d >/dev/null
udb user expire old --account @1000 >/dev/null
udb user expire must --password-now >/dev/null
udb user expire aged --max-days 1 --inactive-days 3 >/dev/null
udb user expire stale --max-days 1 --inactive-days 3 >/dev/null
udb email add mailu mail@example.com >/dev/null
udb email add confu conf@example.com --confirmed >/dev/null
udb grant gone chief --until +2s >/dev/null
udb grant gone crew >/dev/null

echo "auth required pam_deny.so" >"$S/other"
echo "account required pam_deny.so" >>"$S/other"
line() { echo "auth required $m $c nodelay deny=2 unlock_time=0"; echo "account required $m $c $*"; }
line >"$S/plain"
line roles_required=chief >"$S/admins"
line roles_required=crew,chief >"$S/staffadmin"
line roles_accepted=opsx,chief >"$S/accepted"
line permissions_required=sudo:all >"$S/sudo"
line permissions_accepted=nope:x,ssh:login >"$S/anyperm"
line require_confirmed_email >"$S/email"
line roles_required=Admin,ad+min >"$S/badarg"

# aged: the password changed 2 days ago (max 1 day): must change; stale's
# 10 days back is past max + inactive. lock: locked by two wrong
# passwords through auth (before the planting, which the writer refuses).
plant_age() { # USER DAYS: the password was changed DAYS ago
	sqlite3 "$T/db/shadow.db" "UPDATE accounts SET password_changed_at = \
		strftime('%s','now') - $2 * 86400 WHERE user_id = \
		(SELECT user_id FROM account_names WHERE username = '$1');" || exit 1
}
tries=0
while ! udb user show lock | grep -q '^locked: *yes' && [ $tries -lt 10 ]; do
	printf 'wrong\n' | pamtester plain lock authenticate >/dev/null 2>&1
	tries=$((tries + 1))
done
plant_age aged 2
plant_age stale 10
sleep 3 # gone's chief grant has expired

# pam_decision SERVICE USER / explain_decision SERVICE USER: one word.
pam_decision() {
	# pam_wrapper picks a /tmp/pam.X directory with one random character
	# and gives up when it exists: try again.
	for try in 1 2 3 4 5 6 7 8; do
		out=$(pamtester -v "$1" "$2" acct_mgmt 2>&1) && { echo allowed; return; }
		case $out in *PWRAP_ERROR*"pwrap_init"*) continue ;; esac
		break
	done
	case $out in
	*"new one required"*) echo change ;;
	*"User not known"*) echo unknown ;;
	*) echo refused ;;
	esac
}
explain_decision() {
	out=$(udb explain "$2" "$1" --pam-dir "$S" 2>/dev/null)
	rc=$?
	first=$(echo "$out" | head -n1)
	case "$rc:$first" in
	"0:allowed after a password change:"*) echo change ;;
	"0:allowed:"*) echo allowed ;;
	"1:refused:"*) echo refused ;;
	"67:user unknown:"*) echo unknown ;;
	*) echo "bad($rc:$first)" ;;
	esac
}

# SERVICE USER EXPECTED FIRST-LINE-FRAGMENT
while read -r svc user want fragment; do
	p=$(pam_decision "$svc" "$user")
	e=$(explain_decision "$svc" "$user")
	got=$(udb explain "$user" "$svc" --pam-dir "$S" 2>/dev/null | head -n1)
	if [ "$p" != "$want" ] || [ "$e" != "$p" ]; then
		fail "$svc $user: pamtester $p, explain $e, expected $want"
	elif ! printf '%s' "$got" | grep -qF -- "$fragment"; then
		fail "$svc $user: first line \"$got\" lacks \"$fragment\""
	else
		echo "ok: $svc $user: $p ($got)"
	fi
done <<'END'
plain alice allowed alice passes
plain dis refused dis is disabled
plain nyv refused nyv is not valid before
plain old refused old expired 1970-01-01T00:16:40Z
plain must change (administrator enforced)
plain aged change (password aged)
plain stale refused stale's password expired past the inactive period
plain lock allowed lock passes
plain nobody unknown nobody is not in the database
admins alice allowed alice passes
admins bob refused bob lacks role chief (roles_required=chief)
admins gone refused gone lacks role chief (roles_required=chief)
admins must refused must lacks role chief
staffadmin bob refused bob lacks role chief (roles_required=crew,chief)
staffadmin alice allowed passes
accepted alice allowed passes
accepted bob refused none of the accepted roles (roles_accepted=opsx,chief)
sudo alice allowed passes
sudo bob refused bob lacks permission sudo:all
anyperm bob allowed passes
anyperm alice allowed passes
email mailu refused no confirmed email address
email confu allowed confu passes
email dis refused dis is disabled
badarg alice refused bad value in roles_required=Admin,ad+min
END

# The details: the inclusion path and the grant, an expired grant, lockout.
check_out() { # WHAT PATTERN COMMAND...
	what=$1 pat=$2
	shift 2
	out=$("$@" 2>&1 | tr -s ' ')
	if printf '%s\n' "$out" | grep -qF -- "$pat"; then echo "ok: $what"; else
		fail "$what: no \"$pat\" in:"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
}
check_out "path of an included role" "crew: yes, grant chief (until never): chief > crew" \
	udb explain alice staffadmin --pam-dir "$S"
check_out "path of a permission" "sudo:all: yes, grant chief (until never): chief" \
	udb explain alice sudo --pam-dir "$S"
check_out "an expired grant" "chief: no, grant chief expired" \
	udb explain gone admins --pam-dir "$S"
check_out "lockout shown" "lockout: locked until unlocked after 2 failed logins" \
	udb explain lock plain --pam-dir "$S"
check_out "the line taken" "taken: the absolute path is userdb's pam_userdb.so" \
	udb explain bob plain --pam-dir "$S"
check_out "no second factor" "second factor: none (auth refuses the user where" \
	udb explain bob plain --pam-dir "$S"
key=$(udb --json totp enroll bob | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
udb totp confirm bob "$(oathtool --totp -b "$key")" >/dev/null || fail "totp confirm bob"
check_out "a confirmed second factor" "second factor: TOTP (auth asks for a code after the password" \
	udb explain bob plain --pam-dir "$S"
check_out "a confirmed second factor (JSON)" '"second_factor": true' \
	udb --json explain bob plain --pam-dir "$S"
udb totp disable bob >/dev/null || fail "totp disable bob"
out=$(udb --json explain gone admins --pam-dir "$S")
if printf '%s' "$out" | python3 -c '
import json, sys
o = json.load(sys.stdin)
c = o["checks"][0]
assert o["decision"] == "refused", o
assert c["item"] == "chief" and not c["satisfied"] and c["grant"] == "chief", c
assert not c["grant_active"] and c["grant_until"], c
assert o["lines"][0]["ours"] and o["lines"][0]["decides"], o
'; then echo "ok: --json one object"; else fail "--json: $out"; fi

# Following the files.
printf 'account required %s %s roles_required=chief\n' "$m" "$c" >"$S/common-account"
printf '@include common-account\n' >"$S/viainclude"
printf 'account include common-account\n' >"$S/viainc2"
printf 'account substack common-account\n' >"$S/viasub"
printf '# a comment\naccount \\\n  required %s %s \\\n  roles_required=chief\n' "$m" "$c" >"$S/continued"
for svc in viainclude viainc2 viasub continued; do
	p=$(pam_decision "$svc" bob)
	e=$(explain_decision "$svc" bob)
	[ "$p" = refused ] && [ "$e" = refused ] && echo "ok: $svc follows to the line" ||
		fail "$svc: pamtester $p, explain $e"
done
check_out "where an included line is" "viainclude:1 > common-account:1" \
	udb explain bob viainclude --pam-dir "$S"
printf '# c \\\naccount required %s %s roles_required=chief\n' "$m" "$c" >"$S/commented"
p=$(pam_decision commented bob)
e=$(explain_decision commented bob)
[ "$p" = "$e" ] && echo "ok: a comment ends before its backslash ($p)" ||
	fail "commented: pamtester $p, explain $e"
# (not in $S: pam_wrapper copies that directory and would block on it)
mkfifo "$T/fifo"
printf '@include %s\n' "$T/fifo" >"$S/viafifo"
check_out "a FIFO is not read" "cannot read" timeout 10 "$USERDB" explain bob viafifo --pam-dir "$S"
printf '@include loop2\n' >"$S/loop1"
printf 'account include loop1\n' >"$S/loop2"
check_out "a loop is refused" "includes itself" udb explain bob loop1 --pam-dir "$S"
udb explain bob loop1 --pam-dir "$S" >/dev/null 2>&1
[ $? = 65 ] && echo "ok: loop exit 65" || fail "loop exit status"
printf '@include nowhere\n' >"$S/missing"
check_out "a missing include" "cannot read" udb explain bob missing --pam-dir "$S"
udb explain bob missing --pam-dir "$S" >/dev/null 2>&1
[ $? = 69 ] && echo "ok: missing exit 69" || fail "missing exit status"
check_out "no file: other" "no account line runs userdb's pam_userdb.so" \
	udb explain bob nosuchservice --pam-dir "$S"
printf 'account required pam_userdb.so db=/etc/x\n' >"$S/linuxpam"
check_out "a bare pam_userdb.so that is not ours" "skipped:" \
	udb explain bob linuxpam --pam-dir "$S" --json
check_out "bad service name" "not a PAM service name" udb explain bob ../etc --pam-dir "$S"
check_out "relative --pam-dir" "not an absolute path" udb explain bob plain --pam-dir rel
check_out "missing argument" "SERVICE" udb explain bob
check_out "bad user name" "bad:user" udb explain bad:user plain --pam-dir "$S"
exit $failed
