#!/usr/bin/env bash
# userdb's writes as whole processes on an existing store (issue 13's bar:
# grant, revoke, user add and user disable at 1M users), without the
# lookup harness around them: run-nss-bench.sh measures the same four
# inside its namespace after its lookups; this one times them on a store
# already populated (e.g. run-nss-bench.sh's, with a config naming it).
#
#   USERDB_CONF=CONF bench/run-writes-bench.sh USERDB ROLE [ROUNDS]
#
# CONF's dbdir is the store (changed: run it on a copy). Each round takes a
# user holding no ROLE (a big role: its member list is what a grant
# changes), grants it ROLE, revokes it, adds a new user and disables the
# first. Prints the median of each in ms, and every round.
set -euo pipefail

userdb=$1 role=$2 rounds=${3:-9}
[ -n "${USERDB_CONF:-}" ] || { echo "run-writes-bench: set USERDB_CONF" >&2; exit 64; }
dbdir=$(sed -n 's/^dbdir *= *//p' "$USERDB_CONF")
mapfile -t users < <(sqlite3 -readonly "$dbdir/public.db" "
	SELECT username FROM users u
	WHERE id > (SELECT max(id) / 2 FROM users)
	  AND NOT EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
	                  WHERE ur.user_id = u.id AND r.name = '$role')
	LIMIT $rounds")
[ "${#users[@]}" -eq "$rounds" ] || { echo "run-writes-bench: too few users outside $role" >&2; exit 1; }
tag=$(date +%s)
err=$(mktemp)
trap 'rm -f "$err"' EXIT

ms() { # run a command, print its wall time in ms
	local t0=$EPOCHREALTIME
	"$@" >/dev/null 2>"$err" || { cat "$err" >&2; echo "run-writes-bench: '$*' failed" >&2; exit 1; }
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -a g r a d
echo "| round | grant | revoke | user add | user disable |"
echo "|---:|---:|---:|---:|---:|"
for ((i = 0; i < rounds; i++)); do
	u=${users[$i]}
	g[i]=$(ms "$userdb" grant "$u" "$role")
	r[i]=$(ms "$userdb" revoke "$u" "$role")
	a[i]=$(ms "$userdb" user add "wb$tag-$i")
	d[i]=$(ms "$userdb" user disable "$u")
	echo "| $((i + 1)) | ${g[i]} | ${r[i]} | ${a[i]} | ${d[i]} |"
done
printf '| median | %s | %s | %s | %s |\n' "$(printf '%s\n' "${g[@]}" | median)" \
	"$(printf '%s\n' "${r[@]}" | median)" "$(printf '%s\n' "${a[@]}" | median)" \
	"$(printf '%s\n' "${d[@]}" | median)"
