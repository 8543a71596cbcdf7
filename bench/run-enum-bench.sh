#!/bin/bash
# run-enum-bench.sh: full passwd (or group) enumeration of NSS modules side
# by side in one process (enum_bench), with nss_files reading the generated
# population of one size. Run by hand as root (see bench/README.md, "Enumeration side by
# side"); the host's /etc is never written: /etc/passwd and /etc/group are
# bind-mounted over inside a private mount namespace that ends with the run.
#
# Usage: run-enum-bench.sh [--passes N] [--group] MODULE.so:PREFIX[:LABEL] ...
#   e.g. run-enum-bench.sh libnss_files.so.2:files build/nss_userdb/libnss_userdb.so.2:userdb
# Environment:
#   NSS_BENCH_WORKDIR  generated data, as run-nss-bench.sh leaves it
#                      (default /var/tmp/userdb-nss-bench)
#   NSS_BENCH_SIZE     the population (default 1000000): $NSS_BENCH_WORKDIR/$NSS_BENCH_SIZE
#   ENUM_BENCH         the built enum_bench (default build/bench/enum_bench)
#   USERDB_CONF        read by userdb's module as always: the configuration
#                      naming the populated dbdir and id ranges
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${NSS_BENCH_WORKDIR:-/var/tmp/userdb-nss-bench}
d="$work/${NSS_BENCH_SIZE:-1000000}"
bench=${ENUM_BENCH:-$top/build/bench/enum_bench}

[ "$(id -u)" = 0 ] || { echo "run-enum-bench: run as root (mount namespace)" >&2; exit 1; }
[ -f "$d/files/passwd" ] && [ -f "$d/files/group" ] ||
	{ echo "run-enum-bench: no generated data in $d (run gen_users.py or run-nss-bench.sh first)" >&2; exit 1; }
[ -x "$bench" ] || { echo "run-enum-bench: no enum_bench at $bench (ninja -C build)" >&2; exit 1; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
unshare -m --propagation private bash -c '
	mount --bind "$1/files/passwd" /etc/passwd
	mount --bind "$1/files/group" /etc/group
	shift
	exec "$@"' run-enum-bench "$d" "$bench" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
