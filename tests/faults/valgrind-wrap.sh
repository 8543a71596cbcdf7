#!/bin/sh
# The exe wrapper of `meson test --setup valgrind` (tests/faults/meson.build):
# runs a test under memcheck with the programs it starts (getent, id,
# pamtester, the fixtures) traced too and the system's own tools skipped,
# one log per process in $UDB_VALGRIND_LOGS. The directory is made
# writable by all (sticky, like /tmp) because some tests run getent as
# nobody. Summarise a run with
#   grep -L 'ERROR SUMMARY: 0 errors' "$UDB_VALGRIND_LOGS"/*.log
# (logs of processes that went on to exec another program have no summary).
set -eu
dir=${UDB_VALGRIND_LOGS:?UDB_VALGRIND_LOGS names the log directory}
mkdir -p "$dir"
chmod 1777 "$dir"
here=$(dirname "$(realpath "$0")")
skip='*/sed,*/tr,*/sort,*/paste,*/grep,*/awk,*/mawk,*/mktemp,*/rm,*/cat,*/cp,*/mkdir'
skip=$skip',*/chmod,*/touch,*/ln,*/mv,*/head,*/tail,*/wc,*/cut,*/mount,*/umount,*/sleep'
skip=$skip',*/setpriv,*/realpath,*/dirname,*/basename,*/ldconfig,*/seq,*/diff,*/cmp,*/stat,*/date'
exec valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	--trace-children=yes --trace-children-skip="$skip" \
	--suppressions="$here/valgrind.supp" --log-file="$dir/%p.log" "$@"
