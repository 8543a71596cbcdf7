#!/bin/sh
# Runs the PAM benchmark (bench/pam_bench.c, built by pam_userdb/meson.build)
# against a build directory and prints the two tables of bench/README.md.
# Needs root: pam_bench binds private /etc/passwd and /etc/shadow copies
# inside its own mount namespace so that pam_unix can be measured; the
# host's files are never changed.
#
#   bench/run-pam-bench.sh [BUILD_DIR [N_CHEAP [N_TIMING]]]
#
# N_CHEAP logins per module for table (a) (default 2000), N_TIMING failed
# logins per case for table (b) (default 200; yescrypt makes each ~30 ms).
set -eu

build=${1:-build}
n_cheap=${2:-2000}
n_timing=${3:-200}

if [ "$(id -u)" != 0 ]; then
	echo "run-pam-bench.sh: needs root (a private mount namespace for pam_unix)" >&2
	exit 1
fi
ninja -C "$build" pam_userdb/pam_userdb.so pam_userdb/pam_bench >/dev/null
module=$(realpath "$build/pam_userdb/pam_userdb.so")
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
exec "$build/pam_userdb/pam_bench" "$module" "$n_cheap" "$n_timing"
