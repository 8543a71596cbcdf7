#!/usr/bin/env bash
# Times `userdb-authorized-keys USER` (what README's AuthorizedKeysCommand
# runs at every key login) and `userdb ssh-authorized-keys USER` (the same
# lookup inside the admin tool) as whole processes, at 1k users and at N
# users, side by side in the same rounds with the floors they cannot go
# below: spawning /bin/true, and `userdb --version` (the tool's own start:
# the dynamic loader and its libraries, no file of the database). Every
# user has one key. Run by hand; see bench/README.md ("SSH keys").
#
#   bench/run-keys-bench.sh [N]        (default 1000000)
#
# Environment:
#   USERDB           the userdb to measure (default: build/cli/userdb)
#   USERDB_AUTHORIZED_KEYS  the helper (default: userdb-authorized-keys beside it)
#   USERDB_POPULATE  nss_userdb_populate (default: build/nss_userdb/...)
#   KEYS_BENCH_WORKDIR  data and databases (default /var/tmp/userdb-keys-bench)
#   KEYS_BENCH_ROUNDS   runs of each command (default 300)
# The keys are written into the store with sqlite3 (a million `ssh-key add`
# processes would take hours), then one `userdb ssh-key add` compiles
# keys.img from all of them; its time is printed too.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
N=${1:-1000000}
USERDB=$(realpath "${USERDB:-$top/build/cli/userdb}")
HELPER=$(realpath "${USERDB_AUTHORIZED_KEYS:-$(dirname "$USERDB")/userdb-authorized-keys}")
POPULATE=${USERDB_POPULATE:-$top/build/nss_userdb/nss_userdb_populate}
W=${KEYS_BENCH_WORKDIR:-/var/tmp/userdb-keys-bench}
ROUNDS=${KEYS_BENCH_ROUNDS:-300}
KEY_BLOB=AAAAC3NzaC1lZDI1NTE5AAAAIECEhw8+5cbJkcCy4JsFQaXbdPFbll/UvVUL11qJ42Pb
KEY_FP=SHA256:/TA9k/pxdB9iMIUIgjEGF0vjUOMSismsKWajim0keWc
EXTRA_KEY='ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCrHr310VBZ2B0WnSGWM63OInftQEzyGmjyBSlN5H72MhrioUCtp5RLAJUG70JasT6NeTV/6v142RiT4Skx4SNk='

[ -x "$POPULATE" ] || POPULATE=$(find "$top/build" -name nss_userdb_populate -type f | head -1)
[ -x "$POPULATE" ] || { echo "run-keys-bench: nss_userdb_populate not built" >&2; exit 1; }

# prepare SIZE: a database of SIZE users with one key each, keys.img built.
prepare() {
	local n=$1 d=$W/$1 t0 t1
	mkdir -p "$d"
	if [ ! -s "$d/spec.tsv" ] || [ "$d/spec.tsv" -ot "$here/gen_users.py" ]; then
		rm -rf "$d"
		mkdir -p "$d"
		python3 "$here/gen_users.py" "$n" "$d" --formats spec -q
	fi
	printf 'dbdir = %s\n' "$d/db" >"$W/userdb-$n.conf"
	chmod 644 "$W/userdb-$n.conf"
	if [ ! -e "$d/db/public.db" ]; then
		mkdir -p "$d/db"
		echo "populating $n users ..." >&2
		USERDB_CONF=$W/userdb-$n.conf "$POPULATE" "$d/spec.tsv" >&2
	fi
	"$USERDB" --config "$W/userdb-$n.conf" init >&2
	if [ "$(sqlite3 "$d/db/public.db" 'SELECT count(*) FROM ssh_keys')" = 0 ]; then
		echo "writing $n keys into the store ..." >&2
		sqlite3 "$d/db/public.db" "INSERT INTO ssh_keys (user_id, type, blob, options, \
			comment, fingerprint, added_at) SELECT id, 'ssh-ed25519', '$KEY_BLOB', '', \
			username || '@bench', '$KEY_FP', strftime('%s') FROM users"
		t0=$(date +%s%N)
		"$USERDB" --config "$W/userdb-$n.conf" ssh-key add many "$EXTRA_KEY" >&2
		t1=$(date +%s%N)
		echo "keys.img of $n keys compiled by one ssh-key add in $(((t1 - t0) / 1000000)) ms" >&2
	fi
	ls -l "$d/db/keys.img" >&2
}

mkdir -p "$W"
prepare 1000
prepare "$N"
uname -a
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# The middle user of each population.
mid_small=$(printf 'u%07d' 500)
mid_big=$(printf 'u%07d' $((N / 2)))
python3 - "$ROUNDS" \
	"spawn /bin/true" "/bin/true" \
	"userdb --version" "$USERDB --version" \
	"userdb-authorized-keys, 1k users" "USERDB_CONF=$W/userdb-1000.conf $HELPER $mid_small" \
	"userdb-authorized-keys, $N users" "USERDB_CONF=$W/userdb-$N.conf $HELPER $mid_big" \
	"userdb-authorized-keys, $N users, unknown" "USERDB_CONF=$W/userdb-$N.conf $HELPER nosuchuser" \
	"userdb ssh-authorized-keys, 1k users" "$USERDB --config $W/userdb-1000.conf ssh-authorized-keys $mid_small" \
	"userdb ssh-authorized-keys, $N users" "$USERDB --config $W/userdb-$N.conf ssh-authorized-keys $mid_big" <<'PY'
import os, statistics, sys, time
rounds = int(sys.argv[1])
cases = []
for name, cmd in zip(sys.argv[2::2], sys.argv[3::2]):
    words, env = cmd.split(), dict(os.environ)
    while "=" in words[0]:
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    cases.append((name, words, env))
times = {name: [] for name, _, _ in cases}
devnull = os.open(os.devnull, os.O_WRONLY)
fa = [(os.POSIX_SPAWN_DUP2, devnull, 1)]
for name, argv, env in cases:  # each must succeed, and the lookups print a key
    r, w = os.pipe()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, w, 1)])
    os.close(w)
    out = os.read(r, 65536)
    os.close(r)
    _, st = os.waitpid(pid, 0)
    if st != 0 or (("ssh-authorized-keys" in argv or "authorized-keys" in argv[0])
                   and "nosuchuser" not in argv and b"ssh-ed25519" not in out):
        sys.exit(f"run-keys-bench: {name}: status {st}, output {out[:80]!r}")
for _ in range(rounds):  # one run of each command per round, interleaved
    for name, argv, env in cases:
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=fa)
        os.waitpid(pid, 0)
        times[name].append(time.perf_counter_ns() - t0)
print(f"{'command (whole process, posix_spawn to exit)':48} {'median ms':>9} {'p90 ms':>7}")
for name, _, _ in cases:
    v = sorted(times[name])
    print(f"{name:48} {statistics.median(v) / 1e6:9.3f} {v[int(len(v) * 0.9)] / 1e6:7.3f}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
