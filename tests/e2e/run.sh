#!/bin/bash
#
# tests/e2e/run.sh NAME.sh [ARGS...]: runs one end-to-end test script in a
# fresh mount, network and PID namespace, so that whatever it mounts and
# starts ends with it. Called by meson (tests/e2e/meson.build) and by hand.
#
# NAME.sh without a slash is looked up next to this file. Exit status: the
# script's; 77 (meson's "skipped") when not root or when namespaces cannot be
# made here; 99 (meson's "hard error") when the script cannot be found.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if (($# < 1)); then
	echo "usage: $0 NAME.sh [ARGS...]" >&2
	exit 2
fi
script=$1
shift
[[ $script == */* ]] || script=$here/$script
if [[ ! -r $script ]]; then
	echo "run.sh: $script: no such test script" >&2
	exit 99
fi
script=$(realpath -e -- "$script")

if ((EUID != 0)); then
	echo "SKIP: end-to-end tests need root"
	exit 77
fi
if ! command -v unshare >/dev/null; then
	echo "SKIP: unshare (util-linux) is not installed"
	exit 77
fi
if ! unshare -m -n -p -f --mount-proc true 2>/dev/null; then
	echo "SKIP: cannot create mount, network and PID namespaces here"
	exit 77
fi

# lib.sh mounts a tmpfs on this directory inside the namespace, so it is
# still empty when the run ends; a failing rmdir means something leaked.
tmp=$(mktemp -d /tmp/userdb-e2e.XXXXXX) || exit 99
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup()
{
	if ! rmdir -- "$tmp" 2>/dev/null; then
		echo "run.sh: $tmp was not empty after the run; removing it" >&2
		rm -rf --one-file-system -- "$tmp"
	fi
}
trap cleanup EXIT

# --kill-child: if unshare dies (meson's timeout kills it), the kernel kills
# the namespace's first process, and with it every process inside.
unshare -m -n -p -f --mount-proc --kill-child \
	env E2E_DIR="$here" E2E_TMP="$tmp" \
	E2E_HOST_MNTNS="$(readlink /proc/self/ns/mnt)" \
	E2E_HOST_NETNS="$(readlink /proc/self/ns/net)" \
	E2E_HOST_PIDNS="$(readlink /proc/self/ns/pid)" \
	bash -c 'mount --make-rprivate / || exit 99; exec bash "$@"' e2e-run "$script" "$@" &
child=$!

# unshare ignores SIGTERM and SIGINT while it waits, and the namespace's
# first process only gets signals it has a handler for (lib.sh sets one).
# So a stop request goes to the test script, and after 5 s unshare is
# killed, which (--kill-child) kills everything inside.
stop=0
trap 'stop=1' TERM INT HUP
while :; do
	wait "$child"
	rc=$?
	kill -0 "$child" 2>/dev/null || break
	if ((stop == 1)); then
		stop=2
		for init in $(pgrep -P "$child"); do
			kill -TERM "$init" 2>/dev/null
		done
		for ((i = 0; i < 50; i++)); do
			kill -0 "$child" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$child" 2>/dev/null
	fi
done
((stop == 0)) || rc=143
exit "$rc"
