#!/usr/bin/env bash
# Times the admin tool's listing commands on a generated population, for one
# or two builds of `userdb` side by side in the same run (before/after a
# change). Run by hand; see bench/README.md ("Admin tool").
#
#   bench/run-cli-bench.sh [USERS]        (default 100000)
#
# Environment:
#   USERDB           the userdb to measure (default: build/cli/userdb)
#   USERDB_BEFORE    optional second userdb, measured in the same rounds
#   USERDB_POPULATE  nss_userdb_populate (default: build/nss_userdb/...)
#   CLI_BENCH_WORKDIR  data and database (default /var/tmp/userdb-cli-bench)
#   CLI_BENCH_ROUNDS   runs per command and build (default 7)
# The population is bench/gen_users.py's: big1 has min(N-1, 100000) direct
# members, big3 1000, every user 1-3 of 100 small roles. Each round runs
# every command once with each build, alternating, output to /dev/null;
# the table gives the median wall time per command and build.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
N=${1:-100000}
USERDB=${USERDB:-$top/build/cli/userdb}
POPULATE=${USERDB_POPULATE:-$top/build/nss_userdb/nss_userdb_populate}
W=${CLI_BENCH_WORKDIR:-/var/tmp/userdb-cli-bench}
ROUNDS=${CLI_BENCH_ROUNDS:-7}

mkdir -p "$W"
d=$W/$N
if [ ! -s "$d/spec.tsv" ] || [ "$d/spec.tsv" -ot "$here/gen_users.py" ]; then
	rm -rf "$d"
	python3 "$here/gen_users.py" "$N" "$d" --formats spec -q
fi
conf=$W/userdb-$N.conf
printf 'dbdir = %s\n' "$d/db" >"$conf"
chmod 644 "$conf"
if [ ! -e "$d/db/public.db" ]; then
	mkdir -p "$d/db"
	echo "populating $N users ..." >&2
	USERDB_CONF=$conf "$POPULATE" "$d/spec.tsv" >&2
fi
# Brings a database populated by an older build to the current schema.
"$USERDB" --config "$conf" init >&2

builds=(after)
bins=("$USERDB")
if [ -n "${USERDB_BEFORE:-}" ]; then
	builds=(before after)
	bins=("$USERDB_BEFORE" "$USERDB")
fi
commands=("user list --role big1" "user list --role big3" "user list --role role007"
	"user list" "role show big1")

# Seconds, with nanoseconds, of one run.
time_one() {
	local t0 t1
	t0=$(date +%s%N)
	# shellcheck disable=SC2086 # the command's words split on purpose
	if ! "$1" --config "$conf" $2 >/dev/null; then
		echo "run-cli-bench: '$1 $2' failed" >&2
		exit 1
	fi
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1e6 }'
}

declare -A samples
for ((r = 0; r < ROUNDS; r++)); do
	for c in "${commands[@]}"; do
		for i in "${!bins[@]}"; do
			t=$(time_one "${bins[$i]}" "$c") || exit 1
			samples["$c/$i"]+="$t "
		done
	done
done

echo "userdb admin tool, $N users, median of $ROUNDS runs (seconds, wall)"
printf '| %-26s |' command
for b in "${builds[@]}"; do printf ' %8s |' "$b"; done
printf '\n| %-26s |' "---"
for b in "${builds[@]}"; do printf ' %8s |' "---"; done
echo
for c in "${commands[@]}"; do
	printf '| %-26s |' "$c"
	for i in "${!bins[@]}"; do
		printf ' %8s |' "$(tr ' ' '\n' <<<"${samples["$c/$i"]}" | grep . | median)"
	done
	echo
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
