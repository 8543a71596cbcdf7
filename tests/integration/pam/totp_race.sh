#!/bin/sh
# A TOTP code is accepted once even by concurrent logins (suite pam): eight
# pamtester logins of alice with her right password and the same right
# code are held in their password hash (crypt_gate.c) until all have read
# the account, then let go at once; exactly one is accepted, the other
# seven are refused and counted, because the code is checked and used up
# in each attempt's write transaction. The codes come from oathtool.
# Run by meson with PAMTESTER, PAM_FIXTURE, PAM_USERDB_MODULE, CRYPT_GATE,
# USERDB and LD_PRELOAD=libpam_wrapper.so set.
set -u

dir=$("$PAM_FIXTURE") || { echo "pam_fixture failed"; exit 1; }
trap 'rm -rf "$dir"' EXIT
cat >"$dir/services/login" <<END
auth required $PAM_USERDB_MODULE conf=$dir/userdb.conf nodelay deny=0
END
export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$dir/services" PAM_WRAPPER_DISABLE_DEEPBIND=1
export USERDB_CONF="$dir/userdb.conf"
pw='alice password 1'
n=8

key=$("$USERDB" --json totp enroll alice | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
[ -n "$key" ] || { echo "FAIL: totp enroll"; exit 1; }
# Away from a step boundary, so that the code stays inside the window.
while [ $(( $(date +%s) % 30 )) -lt 2 ] || [ $(( $(date +%s) % 30 )) -gt 25 ]; do sleep 1; done
now=$(date +%s)
"$USERDB" totp confirm alice "$(oathtool --totp -b -N "@$((now - 30))" "$key")" >/dev/null ||
	{ echo "FAIL: totp confirm"; exit 1; }
code=$(oathtool --totp -b -N "@$now" "$key")

mkdir "$dir/gate"
i=0
while [ $i -lt $n ]; do
	(
		printf '%s\n%s\n' "$pw" "$code" |
			CRYPT_GATE_PASSWORD=$pw CRYPT_GATE_DIR="$dir/gate" \
			LD_PRELOAD="$LD_PRELOAD:$CRYPT_GATE" \
			"$PAMTESTER" login alice authenticate >/dev/null 2>&1
		echo $? >"$dir/rc.$i"
	) &
	i=$((i + 1))
done
# Every login has read the account before any is let go: the gate's mark
# is made by the first to reach it, so wait a little for the rest.
j=0
while [ ! -e "$dir/gate/reached" ] && [ $j -lt 2000 ]; do sleep 0.01; j=$((j + 1)); done
sleep 1
touch "$dir/gate/open"
wait
ok=$(cat "$dir"/rc.* | grep -c '^0$')
failed=0
if [ "$ok" = 1 ]; then
	echo "ok: one of $n concurrent logins with the same code is accepted"
else
	echo "FAIL: $ok of $n concurrent logins with the same code were accepted"
	failed=1
fi
count=$("$USERDB" --json user show alice | python3 -c 'import json, sys; print(json.load(sys.stdin)["account"]["failed_count"])')
if [ "$count" = $((n - 1)) ]; then
	echo "ok: the other $((n - 1)) are counted as failures"
else
	echo "FAIL: failed_count is $count, expected $((n - 1))"
	failed=1
fi
exit $failed
