# shellcheck shell=bash
#
# tests/e2e/lib.sh: the end-to-end harness. It turns the private namespace
# that tests/e2e/run.sh creates into a private system (accounts, NSS, PAM,
# sudoers, an sshd on 127.0.0.1) and prints one line per check.
#
# Sourced by every tests/e2e/*.sh script; run.sh starts those scripts inside
# `unshare -m -n -p -f --mount-proc`. Sourcing this file refuses to do
# anything outside such a namespace, so the host's /etc is never touched.
#
# Sourcing it also makes these paths private to the namespace, because the
# stock tools write there as a side effect and the host must not notice a run:
#   /run                 tmpfs (sudo timestamps, utmp, /run/sshd, motd); it
#                        also hides the host's nscd and systemd-userdb sockets
#   /var/log             overlay (su and sshd append to btmp, wtmp, lastlog)
#   /var/cache/ldconfig  overlay (ldconfig -C still rewrites its aux-cache)
#   /var/lib/sudo        overlay (sudo's lecture status)
#   /var/cache/debconf   overlay (pam-auth-update writes config.dat)
#   /etc                 overlay, so a file can be created where none exists
#                        (e.g. /etc/userdb.conf) and a stray write stays here
# Everything ends with the namespace: its last process is the test script,
# and the kernel kills every process and drops every mount when it exits.
#
# Setup functions stop the script (exit 99, meson's "hard error") when they
# cannot do their job. Checks never stop it: they print "ok - ..." or
# "FAIL - ..." with details and count failures; the script's exit status is
# 1 if any check failed. Do not use `set -e` in test scripts, and do not
# replace the EXIT trap (it prints the summary and sets the status).

E2E_DIR=${E2E_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
E2E_TIMEOUT=${E2E_TIMEOUT:-20}  # seconds, for each command a check runs
E2E_SSH_TIMEOUT=${E2E_SSH_TIMEOUT:-20}
E2E_CHECKS=0
E2E_FAILS=0
E2E_OUTPUT=   # output (stdout + stderr) of the last checked command
E2E_RC=0      # its exit status
E2E_SSHD_PID=
E2E_SSHD_PORT=
E2E_ETC_OVERLAY=0
declare -gA _E2E_BOUND=()

_e2e_die()
{
	printf 'Bail out! e2e: %s\n' "$*"
	exit 99
}

_e2e_warn()
{
	printf '# e2e warning: %s\n' "$*"
}

# ---------------------------------------------------------------- mounts --

# e2e_bind SRC DST: bind-mounts SRC over the existing DST. Binding the same
# DST again first removes the previous bind, so a setup can be replaced.
e2e_bind()
{
	local src=$1 dst=$2

	[[ -e $src ]] || _e2e_die "e2e_bind: $src does not exist"
	[[ -e $dst ]] || _e2e_die "e2e_bind: $dst does not exist (a bind needs an existing target)"
	if [[ -n ${_E2E_BOUND[$dst]:-} ]]; then
		umount "$dst" || _e2e_die "e2e_bind: cannot unmount the previous bind on $dst"
	fi
	mount --bind "$src" "$dst" || _e2e_die "e2e_bind: mount --bind $src $dst failed"
	_E2E_BOUND[$dst]=1
}

# e2e_unbind DST: removes the bind that e2e_bind put on DST; the file that
# was there before shows again.
e2e_unbind()
{
	local dst=$1

	[[ -n ${_E2E_BOUND[$dst]:-} ]] || _e2e_die "e2e_unbind: $dst was not bound by e2e_bind"
	umount "$dst" || _e2e_die "e2e_unbind: umount $dst failed"
	unset '_E2E_BOUND[$dst]'
}

# e2e_overlay DIR: makes DIR writable for this namespace only. The host's
# content stays visible; every change lands in a tmpfs. Mounts below DIR
# (binds made earlier, a container's /etc/hosts) are moved on top again.
# Returns 1 if the kernel refuses the overlay; a DIR that already is one
# (lib.sh makes some at start) is left as it is.
e2e_overlay()
{
	local dir=$1 key base sub i=0
	local -a subs=() keep=()

	[[ -d $dir && ! -L $dir ]] || _e2e_die "e2e_overlay: $dir is not a directory"
	key=${dir//\//_}
	base=$E2E_TMP/overlay/$key
	[[ ! -e $base ]] || return 0
	mkdir -p "$base/upper" "$base/work" "$base/keep" || _e2e_die "e2e_overlay: mkdir failed"

	# Top-level mounts strictly below DIR, outermost first.
	mapfile -t subs < <(findmnt -rn -o TARGET | awk -v d="$dir/" '
		index($0, d) == 1 { print }' | sort | awk '
		{ for (i = 1; i <= n; i++) if (index($0, top[i] "/") == 1) next
		  top[++n] = $0; print }')
	for sub in "${subs[@]}"; do
		keep[i]=$base/keep/$i
		if [[ -d $sub ]]; then mkdir "${keep[i]}"; else : >"${keep[i]}"; fi
		mount --move "$sub" "${keep[i]}" || _e2e_die "e2e_overlay: cannot move $sub aside"
		i=$((i + 1))
	done
	if ! mount -t overlay e2e-overlay \
		-o "lowerdir=$dir,upperdir=$base/upper,workdir=$base/work" "$dir"; then
		i=0
		for sub in "${subs[@]}"; do
			mount --move "${keep[i]}" "$sub"
			i=$((i + 1))
		done
		rm -rf "$base"
		return 1
	fi
	i=0
	for sub in "${subs[@]}"; do
		mount --move "${keep[i]}" "$sub" || _e2e_die "e2e_overlay: cannot put $sub back"
		i=$((i + 1))
	done
}

# A directory that tools write into as a side effect: an overlay, or an
# empty tmpfs if overlays are not available.
_e2e_private_dir()
{
	local dir=$1 mode=$2

	[[ -d $dir ]] || return 0
	e2e_overlay "$dir" && return 0
	_e2e_warn "no overlay for $dir, using an empty tmpfs"
	mount -t tmpfs -o "mode=$mode" e2e-tmpfs "$dir" || _e2e_die "cannot make $dir private"
}

_e2e_init()
{
	local self_mnt

	[[ $EUID -eq 0 ]] || _e2e_die "must run as root (start it with tests/e2e/run.sh)"
	[[ -n ${E2E_HOST_MNTNS:-} && -n ${E2E_HOST_NETNS:-} && -n ${E2E_HOST_PIDNS:-} ]] ||
		_e2e_die "not started by tests/e2e/run.sh; refusing to touch this system's /etc"
	self_mnt=$(readlink /proc/self/ns/mnt)
	[[ $self_mnt != "$E2E_HOST_MNTNS" ]] ||
		_e2e_die "still in the host's mount namespace; refusing to touch /etc"
	[[ $(readlink /proc/self/ns/net) != "$E2E_HOST_NETNS" ]] ||
		_e2e_die "still in the host's network namespace"
	[[ $(readlink /proc/self/ns/pid) != "$E2E_HOST_PIDNS" ]] ||
		_e2e_die "still in the host's PID namespace (nothing would end stray processes)"
	[[ -n ${E2E_TMP:-} && -d $E2E_TMP ]] || _e2e_die "E2E_TMP is not a directory"

	# Nothing written during the run reaches the disk, and run.sh's rmdir of
	# the (then empty) host directory proves it.
	mount -t tmpfs -o mode=0755 e2e-scratch "$E2E_TMP" || _e2e_die "cannot mount tmpfs on $E2E_TMP"

	mount -t tmpfs -o mode=0755 e2e-run /run || _e2e_die "cannot mount tmpfs on /run"
	mkdir -m 0755 /run/sshd /run/lock
	install -m 0664 -o root -g utmp /dev/null /run/utmp 2>/dev/null || : >/run/utmp

	_e2e_private_dir /var/log 0755
	_e2e_private_dir /var/cache/ldconfig 0700
	_e2e_private_dir /var/lib/sudo 0711
	# pam-auth-update records the profiles it saw in debconf's database.
	_e2e_private_dir /var/cache/debconf 0755
	if e2e_overlay /etc; then
		E2E_ETC_OVERLAY=1
	else
		_e2e_warn "no overlay on /etc: only existing files can be replaced"
	fi
	ip link set lo up || _e2e_die "ip link set lo up failed"
	trap _e2e_exit EXIT
	# As the namespace's first process, the script ignores signals it has no
	# handler for; run.sh forwards a stop request as SIGTERM.
	trap 'exit 143' TERM INT HUP
}

# -------------------------------------------------------------- accounts --

# e2e_private_accounts [--writable]: binds private copies of /etc/passwd,
# group, shadow and gshadow over the real ones, for e2e_add_user and
# e2e_add_group. Files are edited in place (same inode) so the binds stay
# valid; tools that replace the file by rename (useradd, chpasswd) fail on
# a bound file. With --writable nothing is bound: the /etc overlay keeps
# the files private and those tools work.
e2e_private_accounts()
{
	local f d=$E2E_TMP/accounts

	[[ ! -d $d ]] || return 0
	mkdir -m 0755 "$d" || _e2e_die "mkdir $d failed"
	if [[ ${1:-} == --writable ]]; then
		# The /etc overlay alone keeps them private, and tools that
		# replace them by rename (passwd, chpasswd) work.
		((E2E_ETC_OVERLAY)) || _e2e_die "e2e_private_accounts --writable needs the /etc overlay"
		return 0
	fi
	for f in passwd group shadow gshadow; do
		[[ -e /etc/$f ]] || continue
		cp -p "/etc/$f" "$d/$f" || _e2e_die "cannot copy /etc/$f"
		e2e_bind "$d/$f" "/etc/$f"
	done
}

_e2e_account_exists()
{
	awk -F: -v n="$2" '$1 == n { found = 1 } END { exit !found }' "$1"
}

# _e2e_add_member FILE FIELD GROUP USER: appends USER to GROUP's member list
# (field 4 in group and in gshadow), rewriting FILE in place.
_e2e_add_member()
{
	local file=$1 group=$2 user=$3 tmp

	[[ -e $file ]] || return 0
	tmp=$(mktemp "$E2E_TMP/member.XXXXXX")
	awk -F: -v OFS=: -v g="$group" -v u="$user" '
		$1 == g { $4 = ($4 == "" ? u : $4 "," u) } { print }' "$file" >"$tmp" &&
		cat "$tmp" >"$file"
	rm -f "$tmp"
}

# e2e_add_group NAME GID [MEMBER...]: adds a group to the private files.
e2e_add_group()
{
	local name=$1 gid=$2 m members
	shift 2

	[[ -d $E2E_TMP/accounts ]] || _e2e_die "e2e_add_group: call e2e_private_accounts first"
	! _e2e_account_exists /etc/group "$name" || _e2e_die "e2e_add_group: $name exists"
	members=$(IFS=,; printf '%s' "$*")
	printf '%s:x:%s:%s\n' "$name" "$gid" "$members" >>/etc/group
	[[ ! -e /etc/gshadow ]] || printf '%s:!::%s\n' "$name" "$members" >>/etc/gshadow
	for m in "$@"; do
		getent passwd "$m" >/dev/null || _e2e_warn "e2e_add_group: member $m is not a user (yet)"
	done
}

# e2e_add_user NAME UID PASSWORD [GROUP...]: adds a user with a personal
# group (gid = uid), a SHA-512 crypt hash of PASSWORD in the private shadow
# ('' locks the account), shell /bin/bash and an empty home under $E2E_TMP,
# and makes it a member of each existing GROUP.
e2e_add_user()
{
	local name=$1 uid=$2 pw=$3 hash='!' home g today
	shift 3

	[[ -d $E2E_TMP/accounts ]] || _e2e_die "e2e_add_user: call e2e_private_accounts first"
	! _e2e_account_exists /etc/passwd "$name" || _e2e_die "e2e_add_user: $name exists"
	if [[ -n $pw ]]; then
		hash=$(openssl passwd -6 -stdin <<<"$pw") || _e2e_die "openssl passwd failed"
	fi
	home=$E2E_TMP/home/$name
	today=$(($(date +%s) / 86400))
	printf '%s:x:%s:%s:%s (e2e):%s:/bin/bash\n' "$name" "$uid" "$uid" "$name" "$home" >>/etc/passwd
	printf '%s:%s:%s:0:99999:7:::\n' "$name" "$hash" "$today" >>/etc/shadow
	printf '%s:x:%s:\n' "$name" "$uid" >>/etc/group
	[[ ! -e /etc/gshadow ]] || printf '%s:!::\n' "$name" >>/etc/gshadow
	install -d -m 0755 "$E2E_TMP/home"
	install -d -m 0750 -o "$uid" -g "$uid" "$home" || _e2e_die "cannot create $home"
	for g in "$@"; do
		_e2e_account_exists /etc/group "$g" || _e2e_die "e2e_add_user: no group $g"
		_e2e_add_member /etc/group "$g" "$name"
		_e2e_add_member /etc/gshadow "$g" "$name"
	done
}

# ------------------------------------------------------- NSS, PAM, sudo --

# e2e_setup_nss DIR [SOURCES]: makes glibc load NSS modules from DIR (the
# build directory holding libnss_userdb.so.2) and names SOURCES (default
# "files userdb") for passwd, group and shadow. A private ld.so cache that
# lists DIR is bound over /etc/ld.so.cache; unlike LD_LIBRARY_PATH it also
# works for setuid sudo and for sshd. May be called again to change either.
e2e_setup_nss()
{
	local dir=$1 src=${2:-files userdb} d=$E2E_TMP/nss

	dir=$(realpath -e -- "$dir") || _e2e_die "e2e_setup_nss: $1 does not exist"
	[[ -d $dir ]] || _e2e_die "e2e_setup_nss: $dir is not a directory"
	mkdir -p "$d"
	cat >"$d/nsswitch.conf" <<-EOF
		# private to an e2e run (tests/e2e/lib.sh)
		passwd:         $src
		group:          $src
		shadow:         $src
		gshadow:        files

		hosts:          files dns
		networks:       files

		protocols:      db files
		services:       db files
		ethers:         db files
		rpc:            db files

		netgroup:       nis
	EOF
	printf '%s\ninclude /etc/ld.so.conf.d/*.conf\n' "$dir" >"$d/ld.so.conf"
	# -X: never create links, neither in DIR nor in the system directories.
	ldconfig -X -C "$d/ld.so.cache.new" -f "$d/ld.so.conf" ||
		_e2e_die "e2e_setup_nss: ldconfig failed"
	mv -f "$d/ld.so.cache.new" "$d/ld.so.cache"
	if [[ -e $dir/libnss_userdb.so.2 ]] &&
		! ldconfig -p -C "$d/ld.so.cache" | grep -F "libnss_userdb.so.2 (" | grep -qF "=> $dir/"; then
		_e2e_die "e2e_setup_nss: $dir/libnss_userdb.so.2 is not in the cache (SONAME must be libnss_userdb.so.2)"
	fi
	e2e_bind "$d/nsswitch.conf" /etc/nsswitch.conf
	e2e_bind "$d/ld.so.cache" /etc/ld.so.cache
}

# e2e_setup_pam SERVICE FILE: installs FILE ('-' = stdin) as the PAM service
# SERVICE. An existing /etc/pam.d/SERVICE is covered by a bind mount; a new
# service is created in the private /etc. Name modules by absolute path
# (Debian's own pam_userdb.so is a different module).
e2e_setup_pam()
{
	local svc=$1 file=$2 d=$E2E_TMP/pam.d

	[[ $svc =~ ^[A-Za-z0-9_.-]+$ ]] || _e2e_die "e2e_setup_pam: bad service name '$svc'"
	mkdir -p "$d"
	if [[ $file == - ]]; then
		cat >"$d/$svc.new"
	else
		cp -- "$file" "$d/$svc.new" || _e2e_die "e2e_setup_pam: cannot read $file"
	fi
	chmod 0644 "$d/$svc.new"
	mv -f "$d/$svc.new" "$d/$svc"
	if [[ -e /etc/pam.d/$svc ]]; then
		e2e_bind "$d/$svc" "/etc/pam.d/$svc"
	elif ((E2E_ETC_OVERLAY)); then
		cp "$d/$svc" "/etc/pam.d/$svc"
	else
		_e2e_die "e2e_setup_pam: /etc/pam.d/$svc does not exist and /etc is not private"
	fi
}

# e2e_setup_sudoers RULE...: replaces /etc/sudoers.d with a private directory
# holding one file with these lines (root, 0440, checked by visudo).
e2e_setup_sudoers()
{
	local d=$E2E_TMP/sudoers.d out

	install -d -m 0755 "$d"
	printf '%s\n' "$@" >"$d/e2e.new"
	chown root:root "$d/e2e.new"
	chmod 0440 "$d/e2e.new"
	out=$(visudo -c -f "$d/e2e.new" 2>&1) || _e2e_die "e2e_setup_sudoers: visudo rejects the rules: $out"
	# The name has no dot, so sudo's @includedir reads it.
	mv -f "$d/e2e.new" "$d/e2e"
	[[ -n ${_E2E_BOUND[/etc/sudoers.d]:-} ]] || e2e_bind "$d" /etc/sudoers.d
	out=$(visudo -c 2>&1) || _e2e_die "e2e_setup_sudoers: visudo -c fails: $out"
}

# ------------------------------------------------------------------ sshd --

# e2e_start_sshd PORT [CONFIG_LINE...]: starts /usr/sbin/sshd on
# 127.0.0.1:PORT with its own host key and config, UsePAM and password /
# keyboard-interactive logins, and waits (at most 10 s) for its banner.
# CONFIG_LINEs come first in the config, because for each keyword sshd uses
# the first value it reads; a "Match" line and all after it go last.
# The log is $E2E_TMP/sshd/sshd.log.
e2e_start_sshd()
{
	local port=$1 d=$E2E_TMP/sshd line in_match=0 out deadline
	local -a head=() tail=()
	shift

	[[ $port =~ ^[0-9]+$ ]] || _e2e_die "e2e_start_sshd: bad port '$port'"
	[[ -z $E2E_SSHD_PID ]] || _e2e_die "e2e_start_sshd: sshd already runs (pid $E2E_SSHD_PID)"
	getent passwd sshd >/dev/null || _e2e_die "e2e_start_sshd: the privilege separation user sshd is missing"
	for line in "$@"; do
		[[ $line =~ ^[[:space:]]*[Mm]atch[[:space:]] ]] && in_match=1
		if ((in_match)); then tail+=("$line"); else head+=("$line"); fi
	done
	install -d -m 0700 "$d"
	install -d -m 0755 /run/sshd
	if [[ ! -e $d/host_ed25519 ]]; then
		ssh-keygen -q -t ed25519 -N '' -C e2e-host -f "$d/host_ed25519" ||
			_e2e_die "e2e_start_sshd: ssh-keygen failed"
	fi
	{
		printf '# private to an e2e run (tests/e2e/lib.sh)\n'
		((${#head[@]} == 0)) || printf '%s\n' "${head[@]}"
		cat <<-EOF
			Port $port
			ListenAddress 127.0.0.1
			AddressFamily inet
			HostKey $d/host_ed25519
			PidFile $d/sshd.pid
			UsePAM yes
			KbdInteractiveAuthentication yes
			PasswordAuthentication yes
			PubkeyAuthentication no
			AuthorizedKeysFile none
			PermitRootLogin no
			UseDNS no
			PrintMotd no
			PrintLastLog no
			LoginGraceTime 30
			MaxStartups 100
			MaxAuthTries 6
			LogLevel VERBOSE
			Subsystem sftp internal-sftp
		EOF
		((${#tail[@]} == 0)) || printf '%s\n' "${tail[@]}"
	} >"$d/sshd_config"
	out=$(/usr/sbin/sshd -t -f "$d/sshd_config" 2>&1) ||
		_e2e_die "e2e_start_sshd: sshd -t rejects the config: $out"
	: >"$d/sshd.log"
	/usr/sbin/sshd -D -f "$d/sshd_config" -E "$d/sshd.log" </dev/null &
	E2E_SSHD_PID=$!
	E2E_SSHD_PORT=$port
	deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		if ! kill -0 "$E2E_SSHD_PID" 2>/dev/null; then
			E2E_SSHD_PID=
			_e2e_die "e2e_start_sshd: sshd exited: $(tail -n 5 "$d/sshd.log")"
		fi
		# shellcheck disable=SC2016 # expanded by the inner bash
		if timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && IFS= read -r -t 1 l <&3 &&
			[[ $l == SSH-* ]]' e2e-probe "$port" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	_e2e_die "e2e_start_sshd: no banner on 127.0.0.1:$port within 10 s: $(tail -n 5 "$d/sshd.log")"
}

# e2e_stop_sshd: stops the sshd that e2e_start_sshd started (bounded wait).
e2e_stop_sshd()
{
	local pid=$E2E_SSHD_PID i

	[[ -n $pid ]] || return 0
	E2E_SSHD_PID=
	E2E_SSHD_PORT=
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# e2e_sshd_log: prints what sshd logged so far (why a login was refused:
# "not allowed because none of user's groups are listed in AllowGroups", ...).
e2e_sshd_log()
{
	cat -- "$E2E_TMP/sshd/sshd.log"
}

# e2e_ssh USER PASSWORD CMD...: logs in to the running sshd as USER with
# PASSWORD (sshpass, fed through a file descriptor, never argv) and runs CMD.
# ssh joins CMD's words with spaces and USER's login shell runs the result.
# Prints the output and returns the remote command's status, or: 5 (sshpass
# saw a second password prompt: the password was refused), 255 (ssh failed,
# e.g. no kbd-interactive/password method left), 124 (timed out after
# E2E_SSH_TIMEOUT seconds). stdin goes to the remote command.
e2e_ssh()
{
	local user=$1 pw=$2
	shift 2

	[[ -n $E2E_SSHD_PORT ]] || _e2e_die "e2e_ssh: no sshd (call e2e_start_sshd first)"
	timeout -k 3 "$E2E_SSH_TIMEOUT" sshpass -d 3 \
		ssh -F /dev/null -p "$E2E_SSHD_PORT" -l "$user" \
		-o BatchMode=no -o ConnectTimeout=5 -o ConnectionAttempts=1 \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o PreferredAuthentications=keyboard-interactive,password \
		-o PubkeyAuthentication=no -o GSSAPIAuthentication=no \
		-o HostbasedAuthentication=no -o IdentitiesOnly=yes \
		-o NumberOfPasswordPrompts=1 -o ControlMaster=no -o ControlPath=none \
		-o ServerAliveInterval=5 -o ServerAliveCountMax=2 -o RequestTTY=no \
		127.0.0.1 -- "$@" 3<<<"$pw"
}

# -------------------------------------------------- other users, ttys --

# e2e_as USER CMD...: runs CMD as USER (runuser: initgroups, no PAM auth),
# bounded by E2E_TIMEOUT.
e2e_as()
{
	local user=$1
	shift
	timeout -k 3 "$E2E_TIMEOUT" runuser -u "$user" -- "$@"
}

# e2e_pty_run PASSWORD CMD...: runs CMD on a fresh pseudo-terminal (script)
# and types PASSWORD once, when a line ending in ':' that contains "assword"
# appears (su's "Password:", sudo's "[sudo] password for alice:"). Typing
# ahead does not work: the PAM conversation flushes pending tty input when it
# turns echo off. Prints the transcript without CRs; returns CMD's status,
# 124 on timeout (E2E_TIMEOUT).
e2e_pty_run()
{
	local pw=$1 d cmd pid rfd wfd chunk r line out='' sent=0 rc deadline
	shift

	d=$(mktemp -d "$E2E_TMP/pty.XXXXXX") || _e2e_die "e2e_pty_run: mktemp failed"
	mkfifo -m 0600 "$d/in" "$d/out" || _e2e_die "e2e_pty_run: mkfifo failed"
	printf -v cmd '%q ' "$@"
	SHELL=/bin/bash timeout -k 3 "$E2E_TIMEOUT" \
		script -q -e -f -c "$cmd" /dev/null <"$d/in" >"$d/out" 2>&1 &
	pid=$!
	exec {wfd}>"$d/in" {rfd}<"$d/out"
	deadline=$((SECONDS + E2E_TIMEOUT + 5))
	while ((SECONDS < deadline)); do
		chunk=
		IFS= read -r -t 1 -d ':' chunk <&"$rfd"
		r=$?
		out+=$chunk
		((r == 0)) && out+=':'
		if ((r == 0 && !sent)); then
			line=${out##*$'\n'}
			if [[ $line == *[Pp]assword* ]]; then
				printf '%s\n' "$pw" >&"$wfd"
				sent=1
			fi
		fi
		((r == 0 || r > 128)) || break # 1: end of output
	done
	exec {wfd}>&- {rfd}<&-
	# End of output means timeout(1) and script(1) have closed it: exiting.
	((r == 1)) || kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	rm -rf "$d"
	printf '%s\n' "${out//$'\r'/}"
	return "$rc"
}

# e2e_pty_answers N ANSWER... CMD...: like e2e_pty_run with the first N
# arguments after N as answers, typed one at a time at each password prompt
# in turn (passwd's "Current password:", "New password:", "Retype new
# password:"); a prompt after the last answer is left unanswered (the
# command then ends by its own timeout or E2E_TIMEOUT).
e2e_pty_answers()
{
	local n=$1 d cmd pid rfd wfd chunk r line out='' sent=0 rc deadline
	local -a answers=("${@:2:$1}")
	shift $((n + 1))

	d=$(mktemp -d "$E2E_TMP/pty.XXXXXX") || _e2e_die "e2e_pty_answers: mktemp failed"
	mkfifo -m 0600 "$d/in" "$d/out" || _e2e_die "e2e_pty_answers: mkfifo failed"
	printf -v cmd '%q ' "$@"
	SHELL=/bin/bash timeout -k 3 "$E2E_TIMEOUT" \
		script -q -e -f -c "$cmd" /dev/null <"$d/in" >"$d/out" 2>&1 &
	pid=$!
	exec {wfd}>"$d/in" {rfd}<"$d/out"
	deadline=$((SECONDS + E2E_TIMEOUT + 5))
	while ((SECONDS < deadline)); do
		chunk=
		IFS= read -r -t 1 -d ':' chunk <&"$rfd"
		r=$?
		out+=$chunk
		((r == 0)) && out+=':'
		if ((r == 0 && sent < n)); then
			line=${out##*$'\n'}
			if [[ $line == *[Pp]assword* ]]; then
				printf '%s\n' "${answers[sent]}" >&"$wfd"
				sent=$((sent + 1))
			fi
		fi
		((r == 0 || r > 128)) || break # 1: end of output
	done
	exec {wfd}>&- {rfd}<&-
	((r == 1)) || kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	rm -rf "$d"
	printf '%s\n' "${out//$'\r'/}"
	return "$rc"
}

# e2e_su FROM TO PASSWORD CMD: FROM (not root: root's su needs no password,
# pam_rootok) runs `su TO -c CMD` on a pty and types PASSWORD.
e2e_su()
{
	local from=$1 to=$2 pw=$3 cmd=$4

	e2e_pty_run "$pw" runuser -u "$from" -- su "$to" -c "$cmd"
}

# e2e_open_session USER PASSWORD CMD: logs USER in over ssh (start sshd
# first) and keeps the session open, its processes started with the groups
# of that login, until e2e_session_continue lets it run CMD (one shell
# command line). Returns 1 if the session did not come up.
e2e_open_session()
{
	local user=$1 pw=$2 cmd=$3 i

	E2E_SESSION_DIR=$(mktemp -d "$E2E_TMP/session.XXXXXX") || _e2e_die "mktemp failed"
	chmod 0755 "$E2E_SESSION_DIR"
	mkfifo -m 0666 "$E2E_SESSION_DIR/go" || _e2e_die "mkfifo failed"
	{
		e2e_ssh "$user" "$pw" "echo session-open; read -r _ <$E2E_SESSION_DIR/go; $cmd"
		echo "$?" >"$E2E_SESSION_DIR/status"
	} >"$E2E_SESSION_DIR/out" 2>&1 &
	E2E_SESSION_PID=$!
	for ((i = 0; i < E2E_SSH_TIMEOUT * 10; i++)); do
		grep -qs '^session-open$' "$E2E_SESSION_DIR/out" && return 0
		kill -0 "$E2E_SESSION_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$E2E_SESSION_DIR/out"
	return 1
}

# e2e_session_continue: lets the session e2e_open_session opened run its
# CMD; prints what the session printed after it opened, returns CMD's
# status (e2e_ssh's). Works from a subshell (the checks run commands in
# one), which cannot wait for the session: it watches for its status file.
e2e_session_continue()
{
	local i

	timeout 5 bash -c 'echo go >"$1"' _ "$E2E_SESSION_DIR/go"
	for ((i = 0; i < E2E_SSH_TIMEOUT * 10; i++)); do
		[[ -s $E2E_SESSION_DIR/status ]] && break
		sleep 0.1
	done
	sed '0,/^session-open$/d' "$E2E_SESSION_DIR/out"
	[[ -s $E2E_SESSION_DIR/status ]] || return 124
	return "$(cat "$E2E_SESSION_DIR/status")"
}

# ---------------------------------------------------------------- checks --

# Runs "$@" with stdin from /dev/null, output in E2E_OUTPUT, status in
# E2E_RC. External commands get a timeout; the e2e_* functions bound
# themselves.
_e2e_run()
{
	E2E_T0=$EPOCHREALTIME
	if declare -F -- "$1" >/dev/null; then
		E2E_OUTPUT=$("$@" 2>&1 </dev/null)
	else
		E2E_OUTPUT=$(timeout -k 3 "$E2E_TIMEOUT" "$@" 2>&1 </dev/null)
	fi
	E2E_RC=$?
}

_e2e_elapsed()
{
	local t0=${E2E_T0/[.,]/} t1=${EPOCHREALTIME/[.,]/} ms
	ms=$(((10#$t1 - 10#$t0) / 1000))
	printf '%d.%02ds' $((ms / 1000)) $((ms % 1000 / 10))
}

# _e2e_report PASSED DESCRIPTION [DETAIL]
_e2e_report()
{
	local passed=$1 desc=$2 detail=${3:-} n
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if ((passed)); then
		printf 'ok - %s (%s)\n' "$desc" "$(_e2e_elapsed)"
		return 0
	fi
	E2E_FAILS=$((E2E_FAILS + 1))
	printf 'FAIL - %s (%s)\n' "$desc" "$(_e2e_elapsed)"
	[[ -z $detail ]] || printf '#   %s\n' "$detail"
	printf '#   exit status %d, output:\n' "$E2E_RC"
	n=$(printf '%s\n' "$E2E_OUTPUT" | wc -l)
	printf '%s\n' "$E2E_OUTPUT" | head -n 30 | sed 's/^/#   | /'
	((n <= 30)) || printf '#   | ... (%d more lines)\n' $((n - 30))
	return 1
}

_e2e_timed_out()
{
	((E2E_RC == 124 || E2E_RC == 137))
}

# e2e_expect_ok DESCRIPTION CMD...: CMD exits 0.
e2e_expect_ok()
{
	local desc=$1
	shift
	_e2e_run "$@"
	_e2e_report $((E2E_RC == 0)) "$desc" "expected success: $*"
}

# e2e_expect_fail DESCRIPTION CMD...: CMD exits non-zero (a timeout is not
# a refusal and counts as a failed check).
e2e_expect_fail()
{
	local desc=$1
	shift
	_e2e_run "$@"
	if _e2e_timed_out; then
		_e2e_report 0 "$desc" "timed out: $*"
	else
		_e2e_report $((E2E_RC != 0)) "$desc" "expected a refusal: $*"
	fi
}

# e2e_expect_rc DESCRIPTION RC CMD...: CMD exits with status RC.
e2e_expect_rc()
{
	local desc=$1 want=$2
	shift 2
	_e2e_run "$@"
	_e2e_report $((E2E_RC == want)) "$desc" "expected exit status $want: $*"
}

# e2e_expect_output DESCRIPTION REGEX CMD...: CMD exits 0 and a line of its
# output matches the extended regular expression REGEX.
e2e_expect_output()
{
	local desc=$1 re=$2
	shift 2
	_e2e_run "$@"
	if ((E2E_RC != 0)); then
		_e2e_report 0 "$desc" "expected success and output matching /$re/: $*"
	else
		grep -qE -- "$re" <<<"$E2E_OUTPUT"
		_e2e_report $((!$?)) "$desc" "expected output matching /$re/: $*"
	fi
}

# e2e_expect_fail_output DESCRIPTION REGEX CMD...: CMD exits non-zero (not
# by timeout) and its output matches REGEX (the reason for the refusal).
e2e_expect_fail_output()
{
	local desc=$1 re=$2
	shift 2
	_e2e_run "$@"
	if _e2e_timed_out || ((E2E_RC == 0)); then
		_e2e_report 0 "$desc" "expected a refusal with output matching /$re/: $*"
	else
		grep -qE -- "$re" <<<"$E2E_OUTPUT"
		_e2e_report $((!$?)) "$desc" "expected output matching /$re/: $*"
	fi
}

# e2e_skip DESCRIPTION REASON: records a check that could not run here.
e2e_skip()
{
	printf 'skip - %s (%s)\n' "$1" "$2"
}

# e2e_skip_all REASON: ends the script as skipped (meson's code 77).
e2e_skip_all()
{
	printf '# SKIP %s\n' "$1"
	_E2E_SKIPPED=1
	exit 77
}

_e2e_exit()
{
	local rc=$?
	trap - EXIT
	e2e_stop_sshd
	if [[ -n ${_E2E_SKIPPED:-} ]]; then
		exit 77
	fi
	if ((rc != 0 && rc != 99 && E2E_FAILS == 0)); then
		printf 'FAIL - the script ended early with status %d\n' "$rc"
	fi
	# The demo (scripts/demo-steps.sh) shows and checks nothing: no tally.
	if ((E2E_CHECKS > 0 || E2E_FAILS > 0 || rc != 0)); then
		printf '# %d checks, %d failed\n' "$E2E_CHECKS" "$E2E_FAILS"
	fi
	if ((rc == 99)); then
		exit 99
	elif ((E2E_FAILS > 0 || rc != 0)); then
		exit 1
	fi
	exit 0
}

# E2E_JOIN=1: a process that nsenter(1) put into a namespace a test script
# made inside run.sh's (tests/e2e/fleet_host.sh, one host of the fleet)
# gets the functions only: that namespace's mounts are already private, and
# the summary is the starting script's.
_e2e_join()
{
	[[ $EUID -eq 0 ]] || _e2e_die "must run as root"
	[[ -n ${E2E_HOST_MNTNS:-} && $(readlink /proc/self/ns/mnt) != "$E2E_HOST_MNTNS" ]] ||
		_e2e_die "E2E_JOIN outside run.sh's namespaces; refusing to touch /etc"
	[[ -n ${E2E_TMP:-} && -d $E2E_TMP ]] || _e2e_die "E2E_TMP is not a directory"
}

if [[ -n ${E2E_JOIN:-} ]]; then
	_e2e_join
else
	_e2e_init
fi
