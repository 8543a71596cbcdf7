#!/bin/bash
# run-nss-bench.sh: measures NSS lookups of nss_files, libnss-extrausers,
# libnss-cache, libnss-db and (optionally) userdb's module side by side, at
# several population sizes, and prints one markdown table.
#
# Run by hand as root (see bench/README.md). For every size it generates the
# population with gen_users.py (cached under $NSS_BENCH_WORKDIR), then re-runs
# itself under `unshare -m` where each module's files are mounted at the fixed
# paths the module reads, and runs nss_bench once per module. The host's own
# /etc and /var/lib are never written: everything mounted in the namespace
# disappears with it.
#
# Usage: run-nss-bench.sh ["SIZES"]       default "1000 100000 1000000"
# Environment:
#   USERDB_NSS_SO      path of libnss_userdb.so.2; adds the "userdb" row
#   USERDB_POPULATE    command that populates userdb's database; it is run
#                      inside the namespace as: sh -c "$USERDB_POPULATE \"\$1\"" _ SPEC
#                      with USERDB_BENCH_DBDIR set (see README.md)
#   NSS_BENCH_MODULES  peers to run (default "files extrausers cache db")
#   NSS_BENCH_WORKDIR  generated data (default /var/tmp/userdb-nss-bench)
#   NSS_BENCH          a built nss_bench (default: compile bench/nss_bench.c)
#   NSS_BENCH_ARGS     extra nss_bench options, e.g. "--budget-ms 1000"
#   USERDB_CLI         the userdb tool: adds writes as whole processes
#   USERDB_WRITE_ROUNDS  rounds of grant/revoke/user add/user disable (9)
#   USERDB_PAM_SO, USERDB_LOGIN_BENCH  pam_userdb.so and login_bench: adds
#                      a whole PAM login (USERDB_LOGINS of them, 200)
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${NSS_BENCH_WORKDIR:-/var/tmp/userdb-nss-bench}
MODULES=${NSS_BENCH_MODULES:-"files extrausers cache db"}

log() { printf '%s\n' "$*" >&2; }
die() { log "run-nss-bench: $*"; exit 1; }

# The soname glibc would load for each peer; nss_files lives in libc.so.6
# since glibc 2.34 and libnss_files.so.2 is a stub that links to it, which is
# enough for dlsym to find _nss_files_*.
module_so() {
	case $1 in
	files) echo libnss_files.so.2 ;;
	extrausers) echo libnss_extrausers.so.2 ;;
	cache) echo libnss_cache.so.2 ;;
	db) echo libnss_db.so.2 ;;
	userdb) echo "$USERDB_NSS_SO" ;;
	*) die "unknown module '$1'" ;;
	esac
}

# Median of the numbers on stdin, one per line.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Runs a command as a whole process, appending its wall time in ms to FILE.
# EPOCHREALTIME is read by bash itself: nothing is forked around the command.
timed() {
	local out=$1 t0 t1
	shift
	t0=$EPOCHREALTIME
	if ! "$@" >/dev/null 2>"$WORK/ns/timed.err"; then
		log "run-nss-bench: '$*' failed:"
		cat "$WORK/ns/timed.err" >&2
		die "stopping"
	fi
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$out"
}

# userdb's writes and a whole PAM login against the store the lookups were
# measured on (populated for this run, so changing it costs nothing). The
# host's own passwd, group and shadow come back first: the admin tool checks
# a new name against every NSS source, and a host's files are small.
userdb_writes_and_login() {
	local n=$1 d=$2 rounds=${USERDB_WRITE_ROUNDS:-9} ns="$WORK/ns" i f u
	local pw="bench login password 1"
	local -a users

	for f in passwd group shadow; do
		umount "/etc/$f"
	done
	printf 'passwd: files userdb\ngroup: files userdb\nshadow: files userdb\n' >/etc/nsswitch.conf
	# A cheap hash, so that the login's own cost is not lost in it; it is
	# measured alone and subtracted all the same.
	printf 'hash_method = sha512crypt\nhash_cost = 1000\n' >>/etc/userdb.conf

	# Users from the middle of the population that are not in role000 (a
	# role holding ~3% of all users): each is granted role000, revoked
	# from it, then disabled.
	mapfile -t users < <(awk -F'\t' -v want="$rounds" -v n="$n" '
		$1 == "member" && $2 == "role000" { in_role[$3] = 1; next }
		$1 == "user" { seen++; if (seen > n / 2 && !($2 in in_role) && $2 != "many") { print $2; if (++got == want) exit } }
	' "$d/spec.tsv")
	[ "${#users[@]}" -eq "$rounds" ] || die "cannot find $rounds users outside role000"
	rm -f "$ns"/w.*
	for ((i = 0; i < rounds; i++)); do
		u=${users[$i]}
		timed "$ns/w.grant" "$USERDB_CLI" grant "$u" role000
		timed "$ns/w.revoke" "$USERDB_CLI" revoke "$u" role000
		timed "$ns/w.add" "$USERDB_CLI" user add "wbench$i"
		timed "$ns/w.disable" "$USERDB_CLI" user disable "$u"
	done
	printf '| %s | %s | %s | %s | %s | %s |\n' "$n" "$rounds" \
		"$(median <"$ns/w.grant")" "$(median <"$ns/w.revoke")" \
		"$(median <"$ns/w.add")" "$(median <"$ns/w.disable")" >>"$WORK/writes.md"

	[ -n "${USERDB_PAM_SO:-}" ] && [ -n "${USERDB_LOGIN_BENCH:-}" ] || return 0
	printf '%s\n' "$pw" | "$USERDB_CLI" user add udblogin --password-stdin >/dev/null
	mkdir -p "$ns/pam.d"
	printf '%s required %s\n' auth "$USERDB_PAM_SO" account "$USERDB_PAM_SO" \
		session "$USERDB_PAM_SO" >"$ns/pam.d/udbbench"
	printf '| %s | %s | ' "$n" "${USERDB_LOGINS:-200}" >>"$WORK/login.md"
	printf '%s\n' "$pw" | "$USERDB_LOGIN_BENCH" "$ns/pam.d" udbbench udblogin \
		"${USERDB_LOGINS:-200}" >>"$WORK/login.md" || die "login_bench failed"
}

# --- inside the private mount namespace: one size, every module -----------
inner() {
	local n=$1 d="$WORK/$1" ns="$WORK/ns" m f rc
	local -a extra
	read -r -a extra <<<"${NSS_BENCH_ARGS:-}"

	# A writable /etc without touching the host's: an overlay whose upper
	# layer is a tmpfs. It lets us create the libnss-cache files, which do
	# not exist on the host, as mount points, and rewrite nsswitch.conf and
	# ld.so.cache for this namespace only. Bind mounts then go only onto
	# files or directories that exist.
	mount -t tmpfs -o mode=0755 nss-bench "$ns"
	mkdir "$ns/upper" "$ns/work"
	mount -t overlay nss-bench-etc -o "lowerdir=/etc,upperdir=$ns/upper,workdir=$ns/work" /etc

	# userdb is populated before the peers' files are mounted, so that its
	# tool, which refuses names and ids another NSS source has, sees the
	# host's own accounts only.
	if [ -n "${USERDB_NSS_SO:-}" ] && [ -n "${USERDB_POPULATE:-}" ]; then
		# glibc finds libnss_userdb.so.2 through ld.so.cache: build a
		# private one that also names the module's directory.
		printf '%s\ninclude /etc/ld.so.conf.d/*.conf\n' "$(dirname "$USERDB_NSS_SO")" >"$ns/ld.so.conf"
		ldconfig -X -C /etc/ld.so.cache -f "$ns/ld.so.conf"
		# The database lives at the default dbdir, /var/lib/userdb, as on
		# an installed host (every lookup checks that path), backed by
		# $d/userdb: /var/lib gets the same kind of overlay as /etc so
		# that the mount point can be made.
		rm -rf "$d/userdb"
		mkdir -p "$d/userdb" "$ns/lib-upper" "$ns/lib-work"
		mount -t overlay nss-bench-lib -o "lowerdir=/var/lib,upperdir=$ns/lib-upper,workdir=$ns/lib-work" /var/lib
		mkdir /var/lib/userdb
		mount --bind "$d/userdb" /var/lib/userdb
		export USERDB_BENCH_DBDIR=/var/lib/userdb
		# The population's uids start at 100000 and its role gids at
		# 2000000 (gen_users.py): the module serves only ids inside the
		# configured ranges.
		printf 'dbdir = %s\nuid_min = 1000\nuid_max = 4000000\ngid_min = 1000\ngid_max = 4000000\n' \
			"$USERDB_BENCH_DBDIR" >/etc/userdb.conf
		local t0=$SECONDS
		if ! sh -c "$USERDB_POPULATE \"\$1\"" populate "$d/spec.tsv" >"$ns/populate.log" 2>&1; then
			log "run-nss-bench: USERDB_POPULATE failed at $n users:"
			tail -n 20 "$ns/populate.log" >&2
			die "stopping"
		fi
		log "   userdb database populated in $((SECONDS - t0)) s"
		MODULES="$MODULES userdb"
	fi

	for f in passwd group shadow; do
		mount --bind "$d/files/$f" "/etc/$f"
	done
	for f in passwd.cache group.cache shadow.cache passwd.cache.ixname \
		passwd.cache.ixuid group.cache.ixname group.cache.ixgid shadow.cache.ixname; do
		: >"/etc/$f"
		mount --bind "$d/cache/$f" "/etc/$f"
	done
	mount --bind "$d/extrausers" /var/lib/extrausers
	mount --bind "$d/db" /var/lib/misc

	# Every module's files as a host has them once it has read them from
	# disk: written back, dropped from the page cache, read once. Pages
	# just written (userdb's database was populated a moment ago) sit in
	# the cache in 4 KiB pieces; one read back from disk comes in large
	# pieces, and a module that maps its file (userdb, libnss-cache) then
	# takes one page fault per large piece rather than per 64 KiB.
	sync
	find "$d" -type f ! -name spec.tsv ! -name '*-shm' ! -name .stamp -print0 |
		while IFS= read -r -d '' f; do
			dd if="$f" iflag=nocache count=0 status=none
			cat "$f" >/dev/null
		done

	for m in $MODULES; do
		printf 'passwd: %s\ngroup: %s\nshadow: %s\n' "$m" "$m" "$m" >/etc/nsswitch.conf
		rc=0
		"$NSS_BENCH" "${extra[@]}" --label "$m" "$(module_so "$m")" "$m" "$d/spec.tsv" || rc=$?
		[ $rc -eq 0 ] || log "   $m: nss_bench exited with status $rc (see messages above)"
	done

	# The fresh-process bar is set at 1,000 users: split userdb's figure
	# there into what libsqlite3 alone costs (table printed at the end).
	if [ "$n" = 1000 ] && [ -n "${FRESH_FLOOR:-}" ] && [ -n "${USERDB_BENCH_DBDIR:-}" ]; then
		"$FRESH_FLOOR" "$USERDB_NSS_SO" userdb "$(awk -F'\t' '$1 == "user" { print $2; exit }' "$d/spec.tsv")" \
			"$USERDB_BENCH_DBDIR/public.db" >"$WORK/fresh-floor.md" ||
			log "   fresh_floor failed (see messages above)"
	fi
	# Last: it changes the store and puts the host's passwd files back.
	if [ -n "${USERDB_CLI:-}" ] && [ -n "${USERDB_BENCH_DBDIR:-}" ]; then
		userdb_writes_and_login "$n" "$d"
	fi
}

if [ "${1:-}" = "--inner" ]; then
	inner "$2"
	exit 0
fi

# --- outside: packages, nss_bench, data, one namespace per size -----------
[ "$(id -u)" = 0 ] || die "must run as root (mount namespaces, bind mounts)"
SIZES=${1:-"1000 100000 1000000"}
for n in $SIZES; do
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 2 ] || die "bad size '$n'"
done
if [ -n "${USERDB_NSS_SO:-}" ] && [ -z "${USERDB_POPULATE:-}" ]; then
	log "run-nss-bench: USERDB_NSS_SO is set but USERDB_POPULATE is not: skipping userdb"
fi
if [ -n "${USERDB_NSS_SO:-}" ]; then
	[ -f "$USERDB_NSS_SO" ] || die "USERDB_NSS_SO=$USERDB_NSS_SO does not exist"
	USERDB_NSS_SO=$(realpath "$USERDB_NSS_SO")
	export USERDB_NSS_SO
fi

missing=()
for p in libnss-extrausers libnss-cache libnss-db; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null; } ||
		die "cannot install ${missing[*]}"
fi

mkdir -p "$WORK/ns"
if [ -z "${NSS_BENCH:-}" ]; then
	NSS_BENCH="$WORK/nss_bench"
	if [ ! -x "$NSS_BENCH" ] || [ "$BENCH_SRC/nss_bench.c" -nt "$NSS_BENCH" ]; then
		cc -O2 -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
			-Wformat=2 -pthread -o "$NSS_BENCH" "$BENCH_SRC/nss_bench.c" -ldl ||
			die "cannot build nss_bench"
	fi
fi
FRESH_FLOOR=""
if [ -n "${USERDB_NSS_SO:-}" ] && [ -n "${USERDB_POPULATE:-}" ]; then
	FRESH_FLOOR="$WORK/fresh_floor"
	if [ ! -x "$FRESH_FLOOR" ] || [ "$BENCH_SRC/fresh_floor.c" -nt "$FRESH_FLOOR" ]; then
		cc -O2 -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
			-Wformat=2 -o "$FRESH_FLOOR" "$BENCH_SRC/fresh_floor.c" -ldl ||
			die "cannot build fresh_floor"
	fi
	rm -f "$WORK/fresh-floor.md"
fi
rm -f "$WORK/writes.md" "$WORK/login.md"
for v in USERDB_CLI USERDB_PAM_SO USERDB_LOGIN_BENCH; do
	if [ -n "${!v:-}" ]; then
		[ -f "${!v}" ] || die "$v=${!v} does not exist"
		declare "$v=$(realpath "${!v}")"
		export "${v?}"
	fi
done
export NSS_BENCH FRESH_FLOOR WORK MODULES NSS_BENCH_ARGS

# Generated data is reused while gen_users.py is unchanged.
stamp=$(sha256sum "$BENCH_SRC/gen_users.py" | cut -d' ' -f1)
for n in $SIZES; do
	d="$WORK/$n"
	if [ "$(cat "$d/.stamp" 2>/dev/null)" != "$stamp" ]; then
		log "== $n users: generating data"
		t0=$SECONDS
		rm -rf "$d"
		python3 "$BENCH_SRC/gen_users.py" -q "$n" "$d"
		echo "$stamp" >"$d/.stamp"
		log "   generated in $((SECONDS - t0)) s"
		regenerated=1
	fi
done
# Writeback of a freshly generated gigabyte would run during the measurements.
[ -z "${regenerated:-}" ] || sync
# Timings are only comparable on a quiet machine: say so when it is not.
read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
	log "run-nss-bench: warning: load average $load1 before measuring; other work inflates the numbers"
fi
"$NSS_BENCH" --print-header
for n in $SIZES; do
	log "== $n users: measuring $MODULES${USERDB_POPULATE:+${USERDB_NSS_SO:+ userdb}}"
	unshare -m --propagation private "$BENCH_SRC/run-nss-bench.sh" --inner "$n"
done
cat <<'EOF'

Lookups: median / p90 per call in µs, warm, through the module's own
_nss_*_ functions. "*": the module has no initgroups_dyn; measured as glibc's
fallback (setgrent + getgrent_r over all groups + endgrent). enum: median of
full setpwent/getpwent_r/endpwent passes. fresh: median wall time of a new
process doing one getpwnam() through glibc with nsswitch.conf naming only that
module; "spawn only" is the same process without the lookup.
EOF
if [ -s "$WORK/writes.md" ]; then
	printf '\nuserdb writes as whole processes (USERDB_CLI), median ms over the rounds,\n'
	printf 'on the store the lookups above were measured on:\n\n'
	printf '| users | rounds | grant | revoke | user add | user disable |\n|---:|---:|---:|---:|---:|---:|\n'
	cat "$WORK/writes.md"
fi
if [ -s "$WORK/login.md" ]; then
	printf '\nA whole PAM login through pam_userdb.so (auth, account, session open and\n'
	printf 'close; fresh handle each; sha512crypt, 1000 rounds), median ms:\n\n'
	printf '| users | logins | login | hash alone | login beyond the hash |\n|---:|---:|---:|---:|---:|\n'
	sed 's/$/ |/' "$WORK/login.md"
fi
if [ -s "$WORK/fresh-floor.md" ]; then
	printf '\nThe first lookup in a new process at 1,000 users, split (fresh_floor;\n'
	printf 'module functions called directly, no nsswitch.conf):\n\n'
	cat "$WORK/fresh-floor.md"
fi
read -r load1 load5 _ </proc/loadavg
echo "Load average at the end: $load1 (1 min), $load5 (5 min)."
