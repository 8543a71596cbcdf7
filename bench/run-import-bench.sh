#!/usr/bin/env bash
# Times `userdb import --from-system --root DIR` of a generated copy of
# /etc: N users (uids 100000.., above nobody's 65534), each with a personal group, a $6$ hash and
# aging in shadow, and 100 groups in the gid range with every user a member
# of one to three of them. Each round imports into a fresh empty database,
# with each build in turn; prints every run's wall time and the medians. Run by hand; see
# bench/README.md ("Import").
#
#   bench/run-import-bench.sh [USERS]        (default 100000)
#
# Environment:
#   USERDB              the userdb to measure (default: build/cli/userdb)
#   USERDB_BEFORE       optional second userdb, measured in the same rounds
#   IMPORT_BENCH_WORKDIR  files and databases (default /var/tmp/userdb-import-bench)
#   IMPORT_BENCH_ROUNDS   rounds (default 3)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
N=${1:-100000}
USERDB=${USERDB:-$top/build/cli/userdb}
W=${IMPORT_BENCH_WORKDIR:-/var/tmp/userdb-import-bench}
ROUNDS=${IMPORT_BENCH_ROUNDS:-3}

root=$W/root-$N
if [ ! -s "$root/etc/gshadow" ]; then
	mkdir -p "$root/etc"
	python3 - "$N" "$root/etc" <<'EOF'
import random, sys
n, etc = int(sys.argv[1]), sys.argv[2]
rng = random.Random(1)
h = "$6$abcdefghijklmnop$J/AWykHqo2Tx5UtavGnFc3ytI33la50JpzLTarSWVhkIXK6wOjNwwZjsrIw2UgmrER2EKrSHCeQyAINEEXAk1/"
members = [[] for _ in range(100)]
with open(f"{etc}/passwd", "w") as pw, open(f"{etc}/shadow", "w") as sp, \
        open(f"{etc}/group", "w") as gr:
    pw.write("root:x:0:0:root:/root:/bin/bash\n")
    for i in range(n):
        name, uid = f"u{i:07d}", 100000 + i
        pw.write(f"{name}:x:{uid}:{uid}:User {i}:/home/{name}:/bin/bash\n")
        sp.write(f"{name}:{h}:19500:0:99999:7:::\n")
        gr.write(f"{name}:x:{uid}:\n")
        for g in rng.sample(range(100), rng.randint(1, 3)):
            members[g].append(name)
    for g in range(100):
        gr.write(f"team{g:03d}:x:{100000 + n + g}:{','.join(members[g])}\n")
with open(f"{etc}/gshadow", "w") as gs:
    for g in range(100):
        gs.write(f"team{g:03d}:!::{','.join(members[g])}\n")
EOF
fi
conf=$W/userdb-$N.conf
hi=$((100000 + N + 200))
printf 'dbdir = %s/db-%s\nuid_min = 100000\nuid_max = %s\ngid_min = 100000\ngid_max = %s\n' \
	"$W" "$N" "$hi" "$hi" >"$conf"
chmod 644 "$conf"
declare -A times
builds=(after)
[ -z "${USERDB_BEFORE:-}" ] || builds=(before after)
for r in $(seq "$ROUNDS"); do
	for b in "${builds[@]}"; do
		exe=$USERDB
		[ "$b" = after ] || exe=$USERDB_BEFORE
		rm -rf "$W/db-$N"
		USERDB_CONF=$conf "$exe" init >/dev/null
		start=$(date +%s.%N)
		USERDB_CONF=$conf "$exe" import --from-system --root "$root" >"$W/out-$N"
		end=$(date +%s.%N)
		t=$(echo "$end - $start" | bc)
		times[$b]="${times[$b]:-} $t"
		echo "round $r, $b: $t s ($(tail -1 "$W/out-$N"))"
	done
done
for b in "${builds[@]}"; do
	printf '%s\n' ${times[$b]} | sort -n | awk -v b="$b" -v n="$N" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
		'{ a[NR] = $1 } END { printf "%s: median of %d: %.2f s for %s users (load %s)\n", b, NR, a[int((NR + 1) / 2)], n, load }'
done
