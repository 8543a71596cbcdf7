#!/usr/bin/env bash
# Tests of the admin tool `userdb`, run by meson (suite 'cli', TAP output)
# as `test_cli.sh PATH/TO/userdb`. Every command is run against a fresh
# database in a temporary directory, through a temporary config named by
# USERDB_CONF; nothing outside that directory is touched.
#
# What "the database is unchanged" means here, after a refused command:
#   - public.db, shadow.db, public.db-wal and shadow.db-wal have the same
#     bytes (sha256) and the same mode and owner, and
#   - `sqlite3 .dump` of both files (read from copies, so sqlite3 never
#     opens the real ones and never deletes their -wal/-shm) is identical.
# The -shm files are left out on purpose: they are SQLite's shared-memory
# WAL index, which every reader and every rolled-back writer updates (read
# marks, change counters), and which SQLite rebuilds from the database and
# WAL files; they hold no data.
#
# Runs as root or not. As root it also checks what a user without access
# to the shadow file sees (through setpriv), and the ownership checks that
# need a second user; without root those are skipped.
set -u

USERDB=$(realpath "${1:?usage: test_cli.sh PATH/TO/userdb}")
export LC_ALL=C
unset USERDB_CONF

T=$(mktemp -d "${TMPDIR:-/tmp}/userdb-cli.XXXXXX") || exit 99
cleanup() {
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
# Others (nobody) must be able to reach the database for the non-root checks.
chmod 755 "$T"

DB=$T/db
CONF=$T/userdb.conf
cat >"$CONF" <<EOF
# test config: fast hashes
dbdir = $DB
hash_method = sha512
hash_cost = 1000
EOF
chmod 644 "$CONF"
export USERDB_CONF=$CONF
: >"$T/empty"

n=0
failed=0

# With $TODO set, a check is a known failure of code outside cli/, marked
# as a TAP TODO: it does not fail the suite, and passing it does (meson
# reports an unexpected pass), so the mark goes once the cause is fixed.
pass() {
	n=$((n + 1))
	echo "ok $n - $1${TODO:+ # TODO $TODO}"
}

# flunk DESCRIPTION [DETAIL...]
flunk() {
	local d=$1
	shift
	n=$((n + 1))
	[ -n "${TODO:-}" ] || failed=$((failed + 1))
	echo "not ok $n - $d${TODO:+ # TODO $TODO}"
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}

# run ARGS...: runs userdb with stdin from $INPUT (default: empty); with
# $NO_TTY set, without a controlling terminal (setsid), so that nothing can
# ever wait on the terminal of whoever runs the tests. Sets RC, OUT, ERR.
run() {
	if [ -n "${NO_TTY:-}" ]; then
		setsid -w "$USERDB" "$@" <"${INPUT:-$T/empty}" >"$T/out" 2>"$T/err"
	else
		"$USERDB" "$@" <"${INPUT:-$T/empty}" >"$T/out" 2>"$T/err"
	fi
	RC=$?
	IFS= read -r -d '' OUT <"$T/out"
	IFS= read -r -d '' ERR <"$T/err"
	OUT=${OUT%$'\n'}
}

# The bytes, modes and owners of the files that must not change, with the
# inode and modification time that any write would move. (Not the change
# time: SQLite running as root fchown()s the -wal file to the database's
# owner whenever it opens it, which moves only the ctime.) Two processes, because this
# runs twice for each of several hundred refusals.
state() {
	local f
	local -a files=()
	for f in public.db shadow.db public.db-wal shadow.db-wal; do
		if [ -e "$DB/$f" ]; then files+=("$DB/$f"); else echo "$f missing"; fi
	done
	[ ${#files[@]} = 0 ] && return
	sha256sum "${files[@]}"
	stat -c '%n %s %a %u %g %i %y' "${files[@]}"
}

# The SQL content of both files, dumped from copies.
dump() {
	local f d=$T/dumpcopy
	rm -rf "$d"
	mkdir "$d"
	for f in public.db shadow.db; do
		[ -e "$DB/$f" ] || { echo "$f missing"; continue; }
		cp "$DB/$f" "$d/$f"
		[ -e "$DB/$f-wal" ] && cp "$DB/$f-wal" "$d/$f-wal"
		echo "== $f"
		sqlite3 "$d/$f" .dump 2>&1
	done
}

# expect_fail CODE DESCRIPTION ARGS...: userdb exits with CODE, prints
# nothing on stdout and exactly one line starting with `userdb: ` on
# stderr (matching $MATCH when set), and leaves the database unchanged:
# the same bytes (which implies the same `.dump`); with $DUMP set the
# `.dump` of both files is compared as well.
expect_fail() {
	local code=$1 desc=$2 before after dbefore
	local -a problems=()
	shift 2
	before=$(state)
	[ -n "${DUMP:-}" ] && dbefore=$(dump)
	run "$@"
	after=$(state)
	[ "$RC" = "$code" ] || problems+=("exit status $RC, expected $code")
	[[ $ERR == "userdb: "*$'\n' && $ERR != *$'\n'*$'\n' ]] ||
		problems+=("stderr is not exactly one line starting with 'userdb: '")
	[ -z "${MATCH:-}" ] || [[ $ERR =~ $MATCH ]] || problems+=("stderr does not match /$MATCH/")
	[ -z "$OUT" ] || problems+=("stdout is not empty")
	[ "$before" = "$after" ] ||
		problems+=("database files changed" "$(diff <(echo "$before") <(echo "$after"))")
	if [ -n "${DUMP:-}" ] && [ "$dbefore" != "$(dump)" ]; then
		problems+=("database content (.dump) changed")
	fi
	if [ ${#problems[@]} = 0 ]; then
		pass "$desc (exit $code)"
	else
		flunk "$desc" "${problems[@]}" "command: userdb $(printf '%q ' "$@" | cut -c1-200)" \
			"stderr: $(head -c 400 "$T/err")" "stdout: $(head -c 400 "$T/out")"
	fi
}

# expect_ok DESCRIPTION ARGS...: exit 0 and nothing on stderr (unless
# $ALLOW_STDERR), stdout matching $MATCH when set.
expect_ok() {
	local desc=$1
	local -a problems=()
	shift
	run "$@"
	[ "$RC" = 0 ] || problems+=("exit status $RC")
	# `user add` without --create-home says on stderr that no home was
	# made; checked on its own below, not a problem anywhere else.
	local err=${ERR#userdb: note: no home directory was created for *$'\n'}
	[ -n "${ALLOW_STDERR:-}" ] || [ -z "$err" ] || problems+=("stderr is not empty")
	[ -z "${MATCH:-}" ] || [[ $OUT =~ $MATCH ]] || problems+=("stdout does not match /$MATCH/")
	if [ ${#problems[@]} = 0 ]; then
		pass "$desc"
	else
		flunk "$desc" "${problems[@]}" "command: userdb $(printf '%q ' "$@" | cut -c1-200)" \
			"stderr: $(head -c 400 "$T/err")" "stdout: $(head -c 1000 "$T/out")"
	fi
}

# expect_json DESCRIPTION PYTHON ARGS...: expect_ok, stdout is valid JSON
# (json.load, as `python3 -m json.tool` does), and PYTHON (asserts on `d`,
# the parsed output) holds.
expect_json() {
	local desc=$1 code=$2
	shift 2
	expect_ok "$desc" "$@"
	[ "$RC" = 0 ] || return
	if ! $PY -c "import json, re, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as e:
    print('not valid JSON:', e)
    sys.exit(2)
$code" "$T/out" >"$T/pyerr" 2>&1; then
		flunk "$desc: valid JSON as expected" "$(tail -3 "$T/pyerr")" "stdout: $(head -c 1500 "$T/out")"
	else
		pass "$desc: valid JSON as expected"
	fi
}

# check DESCRIPTION COMMAND...: a plain shell check.
check() {
	local desc=$1
	shift
	if "$@" >"$T/check" 2>&1; then
		pass "$desc"
	else
		flunk "$desc" "$(head -c 600 "$T/check")"
	fi
}

# sql FILE STATEMENT: runs SQL on a copy of the database (both files
# attached as pub and sec) and prints the result.
sql_read() {
	local d=$T/sqlcopy
	rm -rf "$d"
	mkdir "$d"
	cp "$DB"/public.db* "$DB"/shadow.db* "$d/" 2>/dev/null
	rm -f "$d"/*-shm
	sqlite3 "$d/shadow.db" "ATTACH '$d/public.db' AS pub; $1"
}

# Changes the real database behind userdb's back (test fixtures only), then
# lets `userdb init` restore the -wal/-shm files and modes that sqlite3 may
# have removed.
sql_write() {
	sqlite3 "$DB/shadow.db" "ATTACH '$DB/public.db' AS pub; $1" && "$USERDB" init >/dev/null
}

is_root() { [ "$(id -u)" = 0 ]; }

# The system python starts much faster than a pyenv shim.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# --- help, version, usage ------------------------------------------------

MATCH='^usage: userdb' expect_ok "--help" --help
MATCH='^userdb [0-9]' expect_ok "--version" --version
for cmd in "init" "user add" "user mod" "user del" "user show" "user list" "user enable" \
	"user disable" "user passwd" "user unlock" "user expire" "role add" "role mod" \
	"role del" "role show" "role list" "grant" "revoke" "email add" "email del" \
	"email confirm" "email primary" "email list" "totp enroll" "totp confirm" \
	"totp disable" "totp status" "totp recovery-codes"; do
	# shellcheck disable=SC2086
	MATCH="^usage: userdb $cmd" expect_ok "$cmd --help" $cmd --help
done
MATCH='userdb user add' expect_ok "user --help lists the user commands" user --help
expect_fail 64 "no command" 
expect_fail 64 "unknown command" frobnicate
expect_fail 64 "unknown subcommand" user frobnicate
expect_fail 64 "missing subcommand" role
expect_fail 64 "unknown global option" --frobnicate init
expect_fail 64 "unknown command option" init --frobnicate
expect_fail 64 "option without its value" user add --uid
expect_fail 64 "extra argument" role show a b

# --- missing database, init ---------------------------------------------

MATCH='userdb init' expect_fail 69 "missing database: says to run init" user list
MATCH='userdb init' expect_fail 69 "missing database, write command" user add alice
check "a refused command does not create the database directory" test ! -e "$DB"

MATCH='^created a new database' expect_ok "init creates the database" init
check "public.db is 0600" test "$(stat -c %a "$DB/public.db")" = 600
check "shadow.db is 0600" test "$(stat -c %a "$DB/shadow.db")" = 600
if is_root; then
	check "shadow.db is root:shadow" test "$(stat -c %U:%G "$DB/shadow.db")" = root:shadow
	check "nss-shadow.img is root:shadow 0640" \
		test "$(stat -c %U:%G:%a "$DB/nss-shadow.img")" = root:shadow:640
fi
MATCH='up to date' expect_ok "init again says the database is up to date" init
expect_json "init --json" 'assert d["action"] == "unchanged" and d["version"] >= 1 and d["changed"] is False' --json init

# init checks dbdir and every ancestor before it changes anything.
tree_state() { find "$T/trap" -printf '%p %u %g %m %n\n' | sort; }
mkdir -p "$T/trap/open" && chmod 777 "$T/trap/open"
printf 'dbdir = %s\n' "$T/trap/open/db" >"$T/trap.conf"
before=$(tree_state)
MATCH="refusing it: '$T/trap/open' is writable by everyone \\(mode 0777\\) \\(nothing was changed\\)" \
	expect_fail 78 "init under a world-writable parent" --config "$T/trap.conf" init
check "  created nothing" test "$before" = "$(tree_state)"
chmod 755 "$T/trap/open"
ln -s "$T/trap/open" "$T/trap/link"
printf 'dbdir = %s\n' "$T/trap/link" >"$T/trap.conf"
MATCH="refusing it: '$T/trap/link' is a symlink" \
	expect_fail 78 "init of a symlinked dbdir says so" --config "$T/trap.conf" init
MATCH="refusing it: '$T/trap/link' is a symlink" \
	expect_fail 78 "a symlinked dbdir is reported as a symlink, not missing" \
	--config "$T/trap.conf" user list
if is_root; then
	mkdir "$T/trap/open/db"
	echo "attacker's" >"$T/trap/open/db/public.db"
	chmod 666 "$T/trap/open/db/public.db"
	chown -R nobody "$T/trap/open/db"
	printf 'dbdir = %s\n' "$T/trap/open/db" >"$T/trap.conf"
	before=$(tree_state)
	MATCH="refusing it: '$T/trap/open/db' is owned by uid [0-9]+, not root \\(nothing" \
		expect_fail 78 "init of a directory another user pre-created" --config "$T/trap.conf" init
	check "  changed no owner or mode inside it" test "$before" = "$(tree_state)"
fi
check "both files carry the same schema version" \
	test "$(sql_read 'PRAGMA pub.user_version')" = "$(sql_read 'PRAGMA main.user_version')"

# --- the seed example: admin ⊇ moderator ⊇ user ---------------------------

MATCH='^added role user \(gid [0-9]+\)$' expect_ok "role add user" \
	role add user --description "Regular user" --permission ssh:login --permission forum:read
expect_ok "role add moderator (includes user)" \
	role add moderator --description "Content moderator" --includes user \
	--permission forum:moderate
expect_ok "role add admin (includes moderator)" \
	role add admin --description "Administrator" --includes moderator --permission admin:all \
	--permission 'sudo:*'
printf 'correct horse battery\n' >"$T/pw_alice"
INPUT=$T/pw_alice MATCH='^added user alice \(uid [0-9]+, gid [0-9]+\)$' expect_ok \
	"user add alice with names, emails, role and password in one go" \
	user add alice --first-name Alice --last-name Liddell --email alice@example.com \
	--email alice@wonderland.example --role admin --password-stdin
expect_ok "user add bob" user add bob --first-name Bob --last-name Builder \
	--email bob@example.com --uid 20001
expect_ok "email add: a second address for bob" email add bob bob@builders.example --confirmed
expect_ok "user add carol" user add carol --first-name Carol --last-name Danvers \
	--email carol@example.com --role user
MATCH='until 20' expect_ok "grant with expiry" grant bob moderator --until +30d
expect_ok "grant that starts later" grant carol admin --from +7d --until +14d

expect_json "seed: alice's effective roles, inherited marked" '
roles = {r["name"]: r["inherited"] for r in d["roles"]}
assert roles == {"admin": False, "moderator": True, "user": True}, roles
assert d["first_name"] == "Alice" and d["last_name"] == "Liddell"
assert [e["address"] for e in d["emails"]] == ["alice@example.com", "alice@wonderland.example"]
assert d["emails"][0]["primary"] and not d["emails"][1]["primary"]
assert d["permissions"] == ["admin:all", "forum:moderate", "forum:read", "ssh:login", "sudo:*"], d["permissions"]
assert d["account"]["password_set"] and d["account"]["password_method"] == "sha512crypt"
assert d["account"]["enabled"] and d["account"]["status"] == "ok"
assert d["grants"] == [{"role": "admin", "not_before": None, "not_after": None,
    "granted_at": d["grants"][0]["granted_at"], "state": "active"}], d["grants"]
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["created_at"])
assert "password_hash" not in json.dumps(d) and "$6$" not in json.dumps(d)
' user show alice --json
expect_json "seed: bob has moderator until a date, user inherited" '
roles = {r["name"]: r["inherited"] for r in d["roles"]}
assert roles == {"moderator": False, "user": True}, roles
g = d["grants"][0]
assert g["role"] == "moderator" and g["not_after"] is not None and g["state"] == "active", g
assert d["uid"] == 20001 and d["gid"] == 20001 and d["primary_group"] == "bob"
assert len(d["emails"]) == 2 and d["emails"][1]["confirmed"]
assert not d["account"]["password_set"] and d["account"]["password_method"] is None
' --json user show bob
expect_json "seed: carol's later grant does not count yet" '
assert [r["name"] for r in d["roles"]] == ["user"], d["roles"]
states = {g["role"]: g["state"] for g in d["grants"]}
assert states == {"admin": "not yet active", "user": "active"}, states
assert d["permissions"] == ["forum:read", "ssh:login"]
' --json user show carol
expect_json "seed: role show admin" '
assert d["name"] == "admin" and d["includes"] == ["moderator"]
assert d["permissions"] == ["admin:all", "sudo:*"]
assert d["all_permissions"] == ["admin:all", "forum:moderate", "forum:read", "ssh:login", "sudo:*"]
assert d["members"] == ["alice"], d["members"]
' --json role show admin
expect_json "seed: role show user has every effective member" '
assert d["members"] == ["alice", "bob", "carol"], d["members"]
assert d["all_permissions"] == ["forum:read", "ssh:login"]
' role show user --json
expect_json "seed: role list" '
assert [r["name"] for r in d] == ["admin", "moderator", "user"], d
assert d[1]["includes"] == ["user"] and d[1]["description"] == "Content moderator"
' role list --json
expect_json "user list" '
assert [u["username"] for u in d] == ["alice", "bob", "carol"]
assert all(set(u) >= {"uid", "gid", "first_name", "last_name", "home", "shell"} for u in d)
' user list --json
expect_json "user list --role moderator: effective members" \
	'assert [u["username"] for u in d] == ["alice", "bob"], d' user list --role moderator --json
expect_json "user list --role admin" 'assert [u["username"] for u in d] == ["alice"], d' \
	user list --role admin --json
if is_root; then
	MATCH=$'^USER +UID +GID +STATUS +NAME\nalice +[0-9]+ +[0-9]+ +ok +Alice Liddell' \
		expect_ok "user list, human: a STATUS column" user list
else
	MATCH=$'^USER +UID +GID +NAME\nalice +[0-9]+ +[0-9]+ +Alice Liddell' expect_ok "user list, human" user list
fi
expect_json "user list --json: account state keys" '
assert all(u["enabled"] is True and u["locked"] is False and u["expired"] is False
    and u["status"] == "ok" for u in d), d
' user list --json
expect_json "user list --disabled: nobody yet (an empty array)" 'assert d == []' user list --disabled --json
expect_ok "user show --json" user show alice --json
check "python3 -m json.tool accepts it" $PY -m json.tool "$T/out"
MATCH=$'^user: +alice\nuid: +[0-9]+' expect_ok "user show, human" user show alice
check "user show: roles line marks inherited roles" grep -qx \
	'roles: *admin, moderator (inherited), user (inherited)' "$T/out"
check "user show: the password method, never the hash" grep -q '^password: *set (sha512crypt)' "$T/out"
hash_alice=$(sql_read "SELECT a.password_hash FROM accounts a JOIN pub.users u ON u.id = a.user_id WHERE u.username = 'alice'")
check "user show never prints the hash" bash -c '! grep -qF -- "$1" "$2"' _ "$hash_alice" "$T/out"
check "the stored hash verifies the password given on stdin" \
	perl -e 'exit(crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 0 : 1)' 'correct horse battery' "$hash_alice"
MATCH=$'^role: +admin\ngid: +[0-9]+' expect_ok "role show, human" role show admin
MATCH='ROLE +GID +INCLUDES' expect_ok "role list, human" role list
expect_json "user show --email finds the user, case-insensitively" \
	'assert d["username"] == "alice"' user show --email ALICE@Wonderland.Example --json

# --- email commands -------------------------------------------------------

MATCH='^added email address' expect_ok "email add" email add carol carol@work.example
MATCH='^confirmed' expect_ok "email confirm (any case)" email confirm carol CAROL@WORK.EXAMPLE
MATCH='already confirmed' expect_ok "email confirm again changes nothing" email confirm carol carol@work.example
expect_json "email confirm --json says nothing changed" '
assert d == {"changed": False, "message": d["message"], "user": "carol", "email": "carol@work.example"}, d' \
	--json email confirm carol carol@work.example
expect_ok "email primary" email primary carol carol@work.example
expect_json "email list" '
assert [(e["address"], e["primary"], e["confirmed"]) for e in d] == [
    ("carol@work.example", True, True), ("carol@example.com", False, False)], d
' email list carol --json
MATCH='carol@work.example  primary, confirmed' expect_ok "email list, human" email list carol
expect_ok "email del" email del carol carol@work.example
expect_json "email del removed it" 'assert [e["address"] for e in d] == ["carol@example.com"]' \
	email list carol --json
expect_ok "email add --primary" email add carol c.danvers@example.com --primary
expect_json "the new address is primary" 'assert d[0]["address"] == "c.danvers@example.com" and d[0]["primary"]' \
	email list carol --json

# --- user mod, enable, disable, expire, unlock, passwd, del ---------------

expect_ok "user mod" user mod carol --first-name Carol --last-name "Danvers-Rambeau" \
	--home /srv/carol --shell /bin/sh
expect_json "user mod changed the fields" '
assert (d["last_name"], d["home"], d["shell"]) == ("Danvers-Rambeau", "/srv/carol", "/bin/sh"), d
' user show carol --json
expect_ok "user mod: an empty last name clears it" user mod carol --last-name ""
expect_json "last name cleared" 'assert d["last_name"] == ""' user show carol --json
MATCH='^disabled user carol' expect_ok "user disable" user disable carol
expect_json "disabled shows" 'assert not d["account"]["enabled"] and d["account"]["status"] == "disabled"' \
	user show carol --json
expect_json "user list --disabled lists the disabled account" '
assert [(u["username"], u["enabled"], u["status"]) for u in d] == [("carol", False, "disabled")], d
' user list --disabled --json
MATCH=$'^USER +UID +GID +STATUS +NAME\ncarol +[0-9]+ +[0-9]+ +disabled +Carol$' \
	expect_ok "user list --disabled, human" user list --disabled
expect_json "user list --disabled --locked: filters combine (nobody is both)" 'assert d == []' \
	user list --disabled --locked --json
expect_json "user disable again: changed false" 'assert d["changed"] is False' --json user disable carol
MATCH='^enabled user carol' expect_ok "user enable" user enable carol
expect_ok "user expire --account --not-before" user expire carol --account 2099-12-31 --not-before 2020-01-01T08:30
expect_json "validity shows" '
a = d["account"]
assert (a["not_before"], a["not_after"]) == ("2020-01-01T08:30:00Z", "2099-12-31T00:00:00Z"), a
' user show carol --json
expect_ok "user expire --account @epoch (in the past: expired now)" user expire carol --account @1000000000 \
	--not-before never
expect_json "expired status" 'assert d["account"]["status"] == "expired"' user show carol --json
expect_json "user list --expired" '
assert [(u["username"], u["expired"], u["status"]) for u in d] == [("carol", True, "expired")], d
' user list --expired --json
MATCH=$'\nstatus: +expired\n' expect_ok "user show, human: expired status" user show carol
expect_ok "user expire --account never" user expire carol --account never --not-before never
expect_ok "user expire: aging and --password-now" user expire carol --max-days 90 --warn-days 7 \
	--min-days 1 --inactive-days 30 --password-now
expect_json "aging and must-change show" '
a = d["account"]
assert (a["min_days"], a["max_days"], a["warn_days"], a["inactive_days"]) == (1, 90, 7, 30), a
assert a["must_change_password"] and a["status"] == "password must be changed"
assert a["not_before"] is None and a["not_after"] is None
' user show carol --json
expect_ok "user expire --max-days never keeps the rest" user expire carol --max-days never
expect_json "max days cleared" 'a = d["account"]; assert (a["min_days"], a["max_days"], a["warn_days"]) == (1, None, 7), a' \
	user show carol --json

now=$(date +%s)
sql_write "UPDATE accounts SET failed_count = 5, last_failed_at = $now, locked_until = $((now + 3600)),
	last_login_at = $now, last_login_ip = '10.0.0.1' || char(27) || '[31m', login_count = 3
	WHERE user_id = (SELECT id FROM pub.users WHERE username = 'bob')"
expect_json "a lockout shows (fixture written with sqlite3)" '
a = d["account"]
assert a["locked"] and a["failed_count"] == 5 and a["locked_until"] and a["login_count"] == 3, a
' user show bob --json
expect_json "a locked account is not status ok" 'assert d["account"]["status"] == "locked", d["account"]' \
	user show bob --json
MATCH=$'\nstatus: +locked\n' expect_ok "user show, human: status locked" user show bob
expect_ok "user disable bob while locked" user disable bob
expect_json "status names every reason: disabled and locked" \
	'assert d["account"]["status"] == "disabled, locked", d["account"]' user show bob --json
expect_ok "user enable bob" user enable bob
expect_json "user list --locked lists only bob" '
assert [(u["username"], u["locked"], u["status"]) for u in d] == [("bob", True, "locked")], d
' user list --locked --json
MATCH='locked: +yes, until' expect_ok "lockout, human" user show bob
check "a control character in stored data is escaped on output" grep -qF 'from 10.0.0.1\x1b[31m' "$T/out"
check "no raw escape character reaches the terminal" bash -c '! grep -q $'"'"'\x1b'"'"' "$1"' _ "$T/out"
MATCH='^unlocked user bob \(5 failed logins cleared\)' expect_ok "user unlock" user unlock bob
expect_json "unlocked" 'a = d["account"]; assert not a["locked"] and a["failed_count"] == 0, a' user show bob --json
MATCH='was not locked' expect_ok "user unlock when not locked" user unlock bob

printf 'another fine password\n' >"$T/pw_bob"
INPUT=$T/pw_bob MATCH='^changed the password of user bob' expect_ok "user passwd --password-stdin" \
	user passwd bob --password-stdin
hash_bob=$(sql_read "SELECT a.password_hash FROM accounts a JOIN pub.users u ON u.id = a.user_id WHERE u.username = 'bob'")
check "bob's new hash verifies" \
	perl -e 'exit(crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 0 : 1)' 'another fine password' "$hash_bob"
check "bob's hash is sha512crypt" test "${hash_bob:0:3}" = '$6$'
printf 'no newline at the end' >"$T/pw_nonl"
INPUT=$T/pw_nonl expect_ok "user passwd: a last line without newline is taken" user passwd bob --password-stdin
hash_bob=$(sql_read "SELECT a.password_hash FROM accounts a JOIN pub.users u ON u.id = a.user_id WHERE u.username = 'bob'")
check "it verifies" perl -e 'exit(crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 0 : 1)' 'no newline at the end' "$hash_bob"
printf "'; DROP TABLE users; --\n" >"$T/pw_sql"
INPUT=$T/pw_sql expect_ok "a password with SQL metacharacters is just a password" user passwd bob --password-stdin
hash_bob=$(sql_read "SELECT a.password_hash FROM accounts a JOIN pub.users u ON u.id = a.user_id WHERE u.username = 'bob'")
check "it verifies" perl -e 'exit(crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 0 : 1)' "'; DROP TABLE users; --" "$hash_bob"

# The terminal prompt, through a pseudo-terminal: no echo, asked twice.
cat >"$T/pty_drive.py" <<'PY'
import os, pty, select, sys, time

def read_until(fd, marker, timeout=10):
    buf = b""
    end = time.time() + timeout
    while marker not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf

# pty_drive.py N COMMAND... ANSWER1..ANSWERn: answers each prompt ending in
# ": " in turn, prints everything the terminal showed, exits as COMMAND did.
count = int(sys.argv[1])
argv, answers = sys.argv[2:-count], sys.argv[-count:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
for a in answers:
    out += read_until(fd, b": ")
    os.write(fd, a.encode() + b"\n")
out += read_until(fd, b"\0", timeout=10)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
tty_out=$($PY "$T/pty_drive.py" 2 "$USERDB" user passwd alice 'typed on a tty' 'typed on a tty')
tty_rc=$?
check "user passwd on a terminal: exit 0" test "$tty_rc" = 0
check "it asks twice" bash -c '[[ $1 == *"New password for alice: "*"Retype new password: "* ]]' _ "$tty_out"
check "the password is not echoed" bash -c '[[ $1 != *"typed on a tty"* ]]' _ "$tty_out"
hash_alice=$(sql_read "SELECT a.password_hash FROM accounts a JOIN pub.users u ON u.id = a.user_id WHERE u.username = 'alice'")
check "the typed password was stored" \
	perl -e 'exit(crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 0 : 1)' 'typed on a tty' "$hash_alice"
before=$(state)
tty_out=$($PY "$T/pty_drive.py" 2 "$USERDB" user passwd alice 'first try here' 'second try here')
tty_rc=$?
check "mismatched entries are refused (exit 64)" test "$tty_rc" = 64
check "and say so" bash -c '[[ $1 == *"userdb: password: the two entries do not match"* ]]' _ "$tty_out"
check "and change nothing" test "$before" = "$(state)"
tty_out=$($PY "$T/pty_drive.py" 1 "$USERDB" user passwd carol --password-stdin 'typed into stdin')
check "--password-stdin on a terminal: exit 0, no echo" \
	bash -c '[ "$1" = 0 ] && [[ $2 == *"Password: "* && $2 != *"typed into stdin"* ]]' _ $? "$tty_out"
hash_carol=$(sql_read "SELECT a.password_hash FROM accounts a JOIN pub.users u ON u.id = a.user_id WHERE u.username = 'carol'")
check "the password typed into stdin was stored" \
	perl -e 'exit(crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 0 : 1)' 'typed into stdin' "$hash_carol"
NO_TTY=1 MATCH='no terminal' expect_fail 64 "user passwd without a terminal or --password-stdin" user passwd alice

# --- grant, revoke --------------------------------------------------------

until_bob=$(sql_read "SELECT ur.not_after FROM pub.user_roles ur JOIN pub.users u ON u.id = ur.user_id
	JOIN pub.roles r ON r.id = ur.role_id WHERE u.username = 'bob' AND r.name = 'moderator'")
MATCH='already had role' expect_ok "grant the same again: nothing changes" grant bob moderator \
	--until "@$until_bob"
expect_ok "grant again with other dates replaces them" grant bob moderator --until never
expect_json "the grant no longer expires" 'assert d["grants"][0]["not_after"] is None' user show bob --json
MATCH='^revoked role moderator from user bob' expect_ok "revoke" revoke bob moderator
expect_json "bob has no roles now" 'assert d["roles"] == [] and d["grants"] == []' user show bob --json
MATCH='had no direct grant' expect_ok "revoke again: nothing to revoke" revoke bob moderator
expect_json "revoke again --json: changed false" 'assert d["changed"] is False, d' --json revoke bob moderator
MATCH='^granted role moderator to user bob from 2030-01-01T00:00:00Z until 2030-02-01T00:00:00Z$' \
	expect_ok "grant --from is echoed with --until" grant bob moderator --from 2030-01-01 --until 2030-02-01
MATCH='^granted role user to user bob from 2030-01-01T00:00:00Z$' \
	expect_ok "grant --from alone is echoed" grant bob user --from 2030-01-01
MATCH='already had role user from 2030-01-01T00:00:00Z$' \
	expect_ok "grant --from again: nothing changes, and says which dates" grant bob user --from 2030-01-01
expect_ok "revoke the future grants" revoke bob moderator
expect_ok "revoke the future grants" revoke bob user

# --- role mod, del; primary roles -------------------------------------------

expect_ok "role add with --gid" role add ops --gid 30000 --description "Operations"
expect_ok "role mod: every kind of change at once" role mod ops --description "Ops team" \
	--add-permission ssh:login --add-permission deploy:prod --remove-permission deploy:prod \
	--include user
expect_json "role mod changed it" '
assert d["gid"] == 30000 and d["description"] == "Ops team"
assert d["permissions"] == ["ssh:login"] and d["includes"] == ["user"], d
' role show ops --json
expect_ok "role mod --exclude" role mod ops --exclude user
expect_json "excluded" 'assert d["includes"] == []' role show ops --json
MATCH='nothing changed' expect_ok "role mod that changes nothing says so" role mod ops --remove-permission no.such
expect_ok "user add with --primary-role, --home, --shell, --disabled" user add dave --primary-role ops \
	--home /srv/dave --shell /bin/dash --disabled --first-name Dave
expect_json "dave's primary group is the role" '
assert d["primary_group"] == "ops" and d["primary_role"] == "ops" and d["gid"] == 30000, d
assert [r["name"] for r in d["roles"]] == ["ops"]
assert not d["account"]["enabled"] and (d["home"], d["shell"]) == ("/srv/dave", "/bin/dash")
' user show dave --json
MATCH='primary group' expect_fail 65 "role del of a user's primary group" role del ops
MATCH='primary group' expect_fail 65 "revoke of a user's primary role" revoke dave ops
MATCH='primary group' expect_fail 65 "a primary role's grant cannot expire" grant dave ops --until +1d
MATCH='^deleted user dave' expect_ok "user del" user del dave
MATCH='no such user' expect_fail 67 "a deleted user is gone" user show dave
expect_ok "role del once unused" role del ops
MATCH='no such role' expect_fail 67 "a deleted role is gone" role show ops

# --- ids are never handed out twice ----------------------------------------

uid_of() { sql_read "SELECT uid FROM pub.users WHERE username = '$1'"; }
gid_of() { sql_read "SELECT gid FROM pub.roles WHERE name = '$1'"; }
expect_ok "user add zoe" user add zoe
zoe_uid=$(uid_of zoe)
expect_ok "user del zoe" user del zoe
expect_ok "user add mallory right after" user add mallory
mallory_uid=$(uid_of mallory)
check "mallory does not get zoe's freed uid ($zoe_uid)" test "$mallory_uid" -gt "$zoe_uid"
expect_ok "user del mallory" user del mallory
expect_ok "role add tmprole" role add tmprole
tmp_gid=$(gid_of tmprole)
expect_ok "role del tmprole" role del tmprole
expect_ok "role add newrole right after" role add newrole
check "newrole does not get the freed gid ($tmp_gid)" test "$(gid_of newrole)" -gt "$tmp_gid"
expect_ok "user add after the role" user add trent
check "nor does a new user get the freed gid or uid as its uid" \
	test "$(uid_of trent)" -gt "$(gid_of newrole)"
MATCH="uid $zoe_uid" expect_ok "the admin may name a freed uid" user add zoe2 --uid "$zoe_uid"
expect_ok "clean up" user del zoe2
expect_ok "clean up" user del trent
expect_ok "clean up" role del newrole

# --- JSON of every change ---------------------------------------------------

expect_json "changes print {changed, message} with --json" \
	'assert d["changed"] is True and d["message"].startswith("added role")' --json role add tmp
expect_json "--json after the command works too" 'assert d["changed"] is True' role del tmp --json

# --- bad names, in every place a name goes ----------------------------------

long=$(printf 'a%.0s' $(seq 10240))
bad_names=("a:b" $'a\nb' "+alice" "$long" $'\xff\xfe' $'caf\xc3\xa9' "" \
	"'; DROP TABLE users; --" "%s%n" $'a\tb' "a b" "root\$x" "a/b")
user_places=("user add @" "user mod @ --shell /bin/sh" "user del @" "user show @" "user enable @"
	"user disable @" "user passwd @ --password-stdin" "user unlock @"
	"user expire @ --password-now" "grant @ user" "revoke @ user" "email add @ x@example.com"
	"email del @ x@example.com" "email confirm @ x@example.com" "email primary @ x@example.com"
	"email list @")
role_places=("role add @" "role mod @ --description d" "role del @" "role show @" "grant alice @"
	"revoke alice @" "user add newbie --role @" "user add newbie --primary-role @"
	"role add newrole --includes @" "role mod user --include @" "role mod user --exclude @"
	"user list --role @")

# expand TEMPLATE VALUE: the words of TEMPLATE with @ replaced by VALUE, in ARGS.
expand() {
	local w
	ARGS=()
	for w in $1; do
		if [ "$w" = @ ]; then ARGS+=("$2"); else ARGS+=("$w"); fi
	done
}
label() {
	printf -v LABEL '%q' "$1"
	LABEL=${LABEL:0:40}
}

# Every bad name in a few places, and the SQL and format-string ones, plus
# ':' and newline, in every place a name goes.
some_bad=("'; DROP TABLE users; --" "%s%n" "a:b" $'a\nb')
for place in "${user_places[@]}"; do
	names=("${some_bad[@]}")
	case $place in "user add @" | "user show @" | "grant @ user") names=("${bad_names[@]}" "Alice") ;; esac
	for name in "${names[@]}"; do
		expand "$place" "$name"
		label "$name"
		expect_fail 64 "bad user name $LABEL in: ${place}" "${ARGS[@]}"
	done
done
for place in "${role_places[@]}"; do
	names=("${some_bad[@]}")
	case $place in "role add @" | "grant alice @" | "user add newbie --role @") names=("${bad_names[@]}" "9lives") ;; esac
	for name in "${names[@]}"; do
		expand "$place" "$name"
		label "$name"
		expect_fail 64 "bad role name $LABEL in: ${place}" "${ARGS[@]}"
	done
done
# A name that starts with '-' is an option to getopt; after `--` it is a
# name, and a bad one.
expect_fail 64 "-alice as a positional looks like an unknown option" user add -alice
expect_fail 64 "-alice after -- is an invalid name" user add -- -alice
MATCH="starts with '-'" expect_fail 64 "-admin after -- is an invalid role name" role add -- -admin
MATCH="'a\\\\nb'" expect_fail 64 "a newline in a name is shown escaped" user show $'a\nb'
MATCH="\\(10240 bytes\\)" expect_fail 64 "a 10 kB name is cut in the message" user show "$long"
check "the 10 kB message is short" test "$(wc -c <"$T/err")" -lt 400
MATCH="'\\\\xff\\\\xfe'" expect_fail 64 "non-UTF-8 bytes are shown escaped" role show $'\xff\xfe'

# --- bad values in every other argument -----------------------------------

bad_texts=("a:b" "a,b" $'a\nb' "$long" $'J\xe9r\xf4me' $'a\x1bb')
for v in "${bad_texts[@]}"; do
	for place in "user add newbie --first-name @" "user add newbie --last-name @" \
		"user mod alice --first-name @" "user mod alice --last-name @" \
		"role add newrole --description @" "role mod user --description @"; do
		expand "$place" "$v"
		label "$v"
		expect_fail 64 "bad text $LABEL in: $place" "${ARGS[@]}"
	done
done
for v in "relative/path" "/a:b" $'/a\nb' "/$long" "" "'; DROP TABLE users; --" "%s%n"; do
	for place in "user add newbie --home @" "user add newbie --shell @" "user mod alice --home @" \
		"user mod alice --shell @"; do
		expand "$place" "$v"
		label "$v"
		expect_fail 64 "bad path $LABEL in: $place" "${ARGS[@]}"
	done
done
for v in "not-an-email" "a@@b" "@example.com" "a@" "a b@example.com" $'a\n@example.com' \
	"$long@example.com" $'\xff@example.com' "'; DROP TABLE users; --" "%s%n" ""; do
	for place in "user add newbie --email @" "email add alice @" "email del alice @" \
		"email confirm alice @" "email primary alice @" "user show --email @"; do
		expand "$place" "$v"
		label "$v"
		expect_fail 64 "bad email $LABEL in: $place" "${ARGS[@]}"
	done
done
for v in "ssh login" "a/b" "" "$long" "'; DROP TABLE users; --" "%s%n" $'a\nb'; do
	for place in "role add newrole --permission @" "role mod user --add-permission @" \
		"role mod user --remove-permission @"; do
		expand "$place" "$v"
		label "$v"
		expect_fail 64 "bad permission $LABEL in: $place" "${ARGS[@]}"
	done
done
for v in "0" "-1" "4294967295" "99999999999" "1e3" "12a" "" " 5" "'; DROP TABLE users; --" "%s%n"; do
	expand "user add newbie --uid @" "$v"
	label "$v"
	expect_fail 64 "bad uid $LABEL" "${ARGS[@]}"
	expand "role add newrole --gid @" "$v"
	label "$v"
	expect_fail 64 "bad gid $LABEL" "${ARGS[@]}"
done
for v in "2024-13-01" "2023-02-29" "2024-02-30" "tomorrow" "+5y" "+-5d" "@-1" "1969-12-31" \
	"2024-01-01T25:00" "" "'; DROP TABLE users; --" "%s%n" "$long"; do
	for place in "grant alice user --until @" "grant alice user --from @" \
		"user expire alice --account @" "user expire alice --not-before @"; do
		expand "$place" "$v"
		label "$v"
		expect_fail 64 "bad time $LABEL in: $place" "${ARGS[@]}"
	done
done
MATCH='in the past' expect_fail 64 "grant --until in the past" grant alice user --until 2001-01-01
MATCH='not after --from' expect_fail 64 "grant --until before --from" grant alice user --from +10d --until +5d
MATCH='end before it starts' expect_fail 64 "account end before its start" user expire alice \
	--not-before 2030-01-01 --account 2029-01-01
for v in "-1" "100000" "x" "" "'; DROP TABLE users; --" "%s%n"; do
	for o in --min-days --max-days --warn-days --inactive-days; do
		label "$v"
		expect_fail 64 "bad days $LABEL for $o" user expire alice "$o" "$v"
	done
done
expect_fail 64 "user mod with nothing to change" user mod alice
expect_fail 64 "role mod with nothing to change" role mod user
expect_fail 64 "user expire with nothing to change" user expire alice
expect_fail 64 "user show with both NAME and --email" user show alice --email alice@example.com

# Free text is stored as given: O'Brien must work, so quotes, semicolons and
# percent signs are data, bound as SQL parameters, never SQL or a format.
expect_ok "SQL metacharacters in free text are stored literally" user mod bob \
	--first-name "'; DROP TABLE users; --" --last-name "%s%n%x" --home "/home/'; DROP TABLE users; --"
expect_json "and read back verbatim" '
assert d["first_name"] == "'"'"'; DROP TABLE users; --" and d["last_name"] == "%s%n%x", d
assert d["home"] == "/home/'"'"'; DROP TABLE users; --"
' user show bob --json
expect_json "every user is still there" 'assert [u["username"] for u in d] == ["alice", "bob", "carol"]' \
	user list --json
expect_ok "a role description with metacharacters" role mod user --description "O'Brien's %n; --"
expect_ok "an email address with a quote is valid and stored as is" email add bob "o'brien+%n@example.com"
expect_json "read back" 'assert "o'"'"'brien+%n@example.com" in [e["address"] for e in d]' email list bob --json
MATCH="'%s%n'" expect_fail 78 "--config with metacharacters names a missing file" --config '%s%n' user list
expect_fail 78 "--config with SQL names a missing file" --config "'; DROP TABLE users; --" user list

# --- passwords --------------------------------------------------------------

printf '' >"$T/pw_empty"
printf '\n' >"$T/pw_nl"
printf 'short\n' >"$T/pw_short"
printf 'abc\0defghijkl\n' >"$T/pw_nul"
# libxcrypt takes at most 511 bytes (CRYPT_MAX_PASSPHRASE_SIZE - 1).
head -c 512 /dev/zero | tr '\0' x >"$T/pw_long"
head -c 511 /dev/zero | tr '\0' y >"$T/pw_max"
for f in pw_empty pw_nl pw_short pw_nul pw_long; do
	INPUT=$T/$f expect_fail 64 "password from stdin refused: $f" user passwd bob --password-stdin
	INPUT=$T/$f expect_fail 64 "user add refused for password $f, nothing created" \
		user add newbie --password-stdin --email newbie@example.com
done
INPUT=$T/pw_max expect_ok "a 511-byte password is accepted" user passwd bob --password-stdin

# A CRLF line ending: the \r goes with the \n; only one is taken.
printf 'crlf ended pw\r\n' >"$T/pw_crlf"
INPUT=$T/pw_crlf expect_ok "a CRLF line from --password-stdin" user passwd bob --password-stdin
hash_bob=$(sql_read "SELECT a.password_hash FROM accounts a JOIN pub.users u ON u.id = a.user_id WHERE u.username = 'bob'")
check "the password is the line without its \\r" \
	perl -e 'exit(crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 0 : 1)' 'crlf ended pw' "$hash_bob"
printf 'two cr at end\r\r\n' >"$T/pw_crcr"
INPUT=$T/pw_crcr expect_ok "a line ending in \\r\\r\\n" user passwd bob --password-stdin
hash_bob=$(sql_read "SELECT a.password_hash FROM accounts a JOIN pub.users u ON u.id = a.user_id WHERE u.username = 'bob'")
check "only one \\r is dropped" \
	perl -e 'exit(crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 0 : 1)' $'two cr at end\r' "$hash_bob"

# bcrypt ignores every byte past the 72nd: longer passwords are refused.
sed 's/^hash_method = .*/hash_method = bcrypt/; s/^hash_cost = .*/hash_cost = 4/' "$CONF" >"$T/bcrypt.conf"
chmod 644 "$T/bcrypt.conf"
head -c 73 /dev/zero | tr '\0' b >"$T/pw_73"
head -c 72 /dev/zero | tr '\0' b >"$T/pw_72"
USERDB_CONF=$T/bcrypt.conf INPUT=$T/pw_73 MATCH='longer than 72 bytes, where bcrypt' \
	expect_fail 64 "bcrypt: a 73-byte password is refused" user passwd bob --password-stdin
USERDB_CONF=$T/bcrypt.conf INPUT=$T/pw_73 MATCH='longer than 72 bytes' \
	expect_fail 64 "bcrypt: user add with a 73-byte password is refused, nothing created" \
	user add newbie --password-stdin --email newbie@example.com
USERDB_CONF=$T/bcrypt.conf INPUT=$T/pw_72 expect_ok "bcrypt: a 72-byte password is taken" \
	user passwd bob --password-stdin
hash_bob=$(sql_read "SELECT a.password_hash FROM accounts a JOIN pub.users u ON u.id = a.user_id WHERE u.username = 'bob'")
check "bcrypt: the hash is bcrypt and verifies" \
	perl -e 'exit(substr($ARGV[1], 0, 4) eq q($2b$) && crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 0 : 1)' \
	"$(cat "$T/pw_72")" "$hash_bob"
INPUT=$T/pw_73 expect_ok "sha512: the same 73-byte password is taken" user passwd bob --password-stdin

# --- duplicates, unknown names, cycles --------------------------------------

# From here on every refusal also compares `sqlite3 .dump` of both files.
DUMP=1

alice_uid=$(sql_read "SELECT uid FROM pub.users WHERE username = 'alice'")
admin_gid=$(sql_read "SELECT gid FROM pub.roles WHERE name = 'admin'")
MATCH='already taken' expect_fail 65 "duplicate user" user add alice
MATCH="uid $alice_uid: already used" expect_fail 65 "duplicate uid" user add newbie --uid "$alice_uid"
MATCH="uid $admin_gid: already used" expect_fail 65 "a uid equal to a role's gid" user add newbie --uid "$admin_gid"
MATCH='already taken' expect_fail 65 "duplicate role" role add admin
MATCH='already taken by a userdb user' expect_fail 65 "a role named like a user" role add alice
MATCH='already taken by a userdb role' expect_fail 65 "a user named like a role" user add moderator
MATCH="gid $admin_gid: already used" expect_fail 65 "duplicate gid" role add newrole --gid "$admin_gid"
MATCH="gid $alice_uid: already used" expect_fail 65 "a gid equal to a user's uid (personal group)" \
	role add newrole --gid "$alice_uid"
MATCH='already in use' expect_fail 65 "duplicate email" email add bob alice@example.com
MATCH='already in use' expect_fail 65 "duplicate email in another case" email add bob ALICE@EXAMPLE.COM
MATCH='already in use' expect_fail 65 "duplicate email of the same user" email add alice Alice@Example.com
MATCH='already in use' expect_fail 65 "user add with a taken email creates nothing" \
	user add newbie --role admin --email Alice@example.com
MATCH='taken by a user in /etc/passwd, another name service' expect_fail 65 "a user name /etc/passwd has" user add root
MATCH='taken by a group in /etc/group, another name service' expect_fail 65 "a role name /etc/group has" role add staff
MATCH='another name service' expect_fail 65 "a uid /etc/passwd has" user add newbie --uid 1
MATCH='another name service' expect_fail 65 "a gid /etc/group has" role add newrole --gid 50

MATCH='no such user' expect_fail 67 "unknown user: user show" user show nosuch
for place in "user mod @ --shell /bin/sh" "user del @" "user enable @" "user disable @" \
	"user unlock @" "user expire @ --password-now" "grant @ user" "revoke @ user" \
	"email add @ x@example.com" "email del @ x@example.com" "email confirm @ x@example.com" \
	"email primary @ x@example.com" "email list @"; do
	expand "$place" nosuch
	MATCH="user 'nosuch': no such user" expect_fail 67 "unknown user in: $place" "${ARGS[@]}"
done
INPUT=$T/pw_bob MATCH='no such user' expect_fail 67 "unknown user: user passwd" user passwd nosuch --password-stdin
MATCH='no user has it' expect_fail 67 "unknown email: user show --email" user show --email nobody@example.com
for place in "role mod @ --description d" "role del @" "role show @" "grant alice @" "revoke alice @" \
	"user add newbie --role @" "user add newbie --primary-role @" "role add newrole --includes @" \
	"role mod user --include @" "role mod user --exclude @" "user list --role @"; do
	expand "$place" NoSuchRole
	MATCH="role 'NoSuchRole': no such role" expect_fail 67 "unknown role in: $place" "${ARGS[@]}"
done
MATCH='no such role' expect_fail 67 "user add with a good and a missing role creates nothing" \
	user add newbie --role admin --role NoSuchRole --email newbie@example.com
before_del=$(dump)
expect_json "email del of an address the user lacks: nothing to do, exit 0" '
assert d["changed"] is False and d["email"] == "bob@example.com", d' --json email del alice bob@example.com
check "  and the database is unchanged" test "$before_del" = "$(dump)"
MATCH='^user alice had no email address bob@example.com$' expect_ok "  said in words too" \
	email del alice bob@example.com
MATCH='has no such address' expect_fail 67 "email confirm of an address the user lacks" email confirm alice x@example.com
MATCH='has no such address' expect_fail 67 "email primary of an address the user lacks" email primary alice x@example.com

MATCH='cycle' expect_fail 65 "role cycle: user includes admin" role mod user --include admin
MATCH='cannot include itself' expect_fail 65 "role cycle: a role including itself" role mod admin --include admin
MATCH="role 'r1': a role cannot include itself" expect_fail 65 "role add r1 --includes r1" \
	role add r1 --includes r1 --includes user
MATCH='cycle' expect_fail 65 "a cycle undoes the whole role mod" role mod user --add-permission new:perm \
	--description "changed" --include moderator
check "newbie was never created" test -z "$(sql_read "SELECT 1 FROM pub.users WHERE username = 'newbie'")"

# --- config and database files ------------------------------------------

cp -p "$CONF" "$T/conf.saved"
chmod o+w "$CONF"
MATCH="config '$CONF': refusing it: it is writable by everyone \\(mode 0646\\)" \
	expect_fail 78 "a world-writable config" user list
# Group-writable is refused, whatever the group.
cp -p "$CONF" "$T/group.conf"
is_root && chgrp nogroup "$T/group.conf"
chmod 664 "$T/group.conf"
MATCH='it is writable by group' expect_fail 78 "a group-writable config" --config "$T/group.conf" user show alice
if is_root; then
	chgrp root "$T/group.conf"
	MATCH='it is writable by group 0' expect_fail 78 "a config writable by root's group" \
		--config "$T/group.conf" user show alice
fi
chmod 644 "$CONF"
ln -s "$CONF" "$T/conf.link"
MATCH='refusing it: it is a symlink' expect_fail 78 "a symlinked config" --config "$T/conf.link" user list
MATCH='nonexistent.conf.: does not exist' expect_fail 78 "a missing config" --config "$T/nonexistent.conf" user list
USERDB_CONF=$T/nonexistent.conf MATCH='does not exist' expect_fail 78 "a missing USERDB_CONF" user list
printf 'dbdir = %s\nhash_method = sha512\nfrobnicate = yes\n' "$DB" >"$T/bad.conf"
MATCH="line 3: unknown key \\(known: dbdir" expect_fail 78 "a config with a bad line says which and why" \
	--config "$T/bad.conf" user list
check "  without quoting the line" test "${ERR/frobnicate/}" = "$ERR"
# NUL cannot reach argv, but it can reach the config file.
printf 'dbdir = %s\0/elsewhere\nhash_method = sha512\n' "$DB" >"$T/nul.conf"
MATCH='line 1' expect_fail 78 "a NUL byte inside a config value" --config "$T/nul.conf" user list
printf 'dbdir = %s\nhash_\0method = sha512\n' "$DB" >"$T/nul2.conf"
MATCH='line 2' expect_fail 78 "a NUL byte inside a config key" --config "$T/nul2.conf" user list
printf 'dbdir = %s\nuid_min = 500\nuid_max = 100\n' "$DB" >"$T/range.conf"
MATCH="range.conf': uid_min is above uid_max" expect_fail 78 "a config with an empty uid range" --config "$T/range.conf" user list
printf 'dbdir = relative/dir\n' >"$T/rel.conf"
MATCH='line 1: dbdir must be an absolute path' expect_fail 78 "a config with a relative dbdir" --config "$T/rel.conf" user list
printf 'hash_method = md5\n' >"$T/hash.conf"
MATCH='line 1: hash_method must be one of yescrypt' expect_fail 78 "a config with an unknown hash method" --config "$T/hash.conf" user list
if is_root; then
	cp -p "$CONF" "$T/other.conf"
	chown nobody "$T/other.conf"
	MATCH='it is owned by uid [0-9]+, not root' expect_fail 78 \
		"a config owned by another user" --config "$T/other.conf" user list
fi

# Someone allowed only `sudo userdb user unlock *` must not read root-only
# files through the error message.
if is_root && [ -r /etc/shadow ]; then
	MATCH="config '/etc/shadow', line 1: not a \`key = value\` line" expect_fail 78 \
		"--config /etc/shadow is refused" --config /etc/shadow user unlock alice
	leaked=
	while IFS= read -r line; do
		field=${line#*:}
		field=${field%%:*}
		[[ $ERR == *"$line"* ]] && leaked=yes
		[ ${#field} -gt 2 ] && [[ $ERR == *"$field"* ]] && leaked=yes
	done </etc/shadow
	check "  and prints no line or hash of it" test -z "$leaked"
fi
printf 'api_token = SECRET-VALUE\n' >"$T/secret.conf"
chmod 600 "$T/secret.conf"
MATCH='line 1: unknown key' expect_fail 78 "a config with a secret" --config "$T/secret.conf" user list
check "  is not quoted, key or value" test "${ERR/SECRET/}${ERR/api_token/}" = "$ERR$ERR"
printf 'deny = SECRET-VALUE\n' >"$T/secret.conf"
MATCH='line 1: deny must be a number' expect_fail 78 "a bad value" --config "$T/secret.conf" user list
check "  is not quoted" test "${ERR/SECRET/}" = "$ERR"

for f in public.db shadow.db; do
	chmod o+w "$DB/$f"
	MATCH="$f'" expect_fail 78 "$f writable by others is refused, and named" user list
	MATCH="$f'" expect_fail 78 "$f writable by others: write commands too" user add newbie
	chmod o-w "$DB/$f"
done
chmod o+w "$DB"
MATCH='refusing' expect_fail 78 "a database directory writable by others" user show alice
chmod o-w "$DB"
expect_ok "back to normal after the modes are restored" user show alice

# Another writer holding the lock: changes wait (5 s), then give up with
# EX_TEMPFAIL; readers are not blocked at all (WAL).
rm -f "$T/locked"
$PY - "$DB/shadow.db" "$T/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(8)
c.execute("ROLLBACK")
c.close()
PY
locker=$!
for _ in $(seq 100); do [ -e "$T/locked" ] && break; sleep 0.1; done
expect_ok "a reader is not blocked by a writer's lock" user show alice
MATCH='busy' expect_fail 75 "a change while another writer holds the lock" user add newbie
wait "$locker"
# The locker's sqlite3 was the last connection and removed -wal and -shm;
# init puts them back for unprivileged readers.
"$USERDB" init >/dev/null

# A missing or corrupt database, on copies.
good=$T/db.good
cp -a "$DB" "$good"
restore() {
	rm -rf "$DB"
	cp -a "$good" "$DB"
}
rm -f "$DB/shadow.db"
MATCH='not found' expect_fail 69 "shadow.db missing" user add newbie
restore
head -c 8192 /dev/urandom >"$DB/public.db"
MATCH='not a userdb database' expect_fail 69 "public.db with garbage: read" user list
# A failed write open must not delete the shadow file's -wal and -shm,
# which unprivileged readers need (the check below compares them).
MATCH='not a userdb database' expect_fail 69 "public.db with garbage: write" role add newrole
restore
: >"$DB/shadow.db"
MATCH='not a userdb database' expect_fail 69 "an empty shadow.db" user show alice
restore
printf 'dbdir = %s\nhash_method = sha512\nhash_cost = 1000\n' "$T/other" >"$T/other.db.conf"
USERDB_CONF=$T/other.db.conf "$USERDB" init >/dev/null
cp "$T/other/shadow.db" "$DB/shadow.db"
MATCH='not a userdb database' expect_fail 69 "shadow.db of another database" user add newbie
restore
sqlite3 "$T/plain.db" 'CREATE TABLE t (x); PRAGMA user_version = 1' && cp "$T/plain.db" "$DB/public.db"
MATCH='not a userdb database' expect_fail 69 "a SQLite file that is not ours" user list
restore
expect_ok "the restored copy works" user show alice

# --- shells and ids the checks refuse unless --force --------------------------

MATCH="--shell '/bin/nonexistent': not a shell listed in /etc/shells" expect_fail 64 \
	"user add --shell not in /etc/shells" user add newbie --shell /bin/nonexistent
MATCH='not a shell listed' expect_fail 64 "user mod --shell not in /etc/shells" \
	user mod alice --shell /bin/nonexistent
ALLOW_STDERR=1 expect_ok "user add --shell not in /etc/shells --force" \
	user add newbie --shell /bin/nonexistent --force
check "  with a note saying so" grep -q "^userdb: note: --shell '/bin/nonexistent' is not listed" "$T/err"
expect_json "  the shell is stored" 'assert d["shell"] == "/bin/nonexistent", d' user show newbie --json
if [ -x /usr/sbin/nologin ]; then
	expect_ok "nologin needs no --force (the conventional no-login shell)" \
		user mod newbie --shell /usr/sbin/nologin
fi
shell_listed=$(grep -m1 '^/' /etc/shells)
expect_ok "a shell listed in /etc/shells needs no --force" user mod newbie --shell "$shell_listed"
expect_ok "user del newbie" user del newbie
MATCH='uid 70000: outside uid_min..uid_max \(10000..59999\)' expect_fail 64 \
	"user add --uid outside the range" user add newbie --uid 70000
MATCH='gid 9999: outside gid_min..gid_max' expect_fail 64 \
	"role add --gid outside the range" role add newrole --gid 9999
ALLOW_STDERR=1 expect_json "user add --uid outside the range --force" \
	'assert d["uid"] == 70000 and d["changed"] is True, d' --json user add newbie --uid 70000 --force
check "  with a note that NSS will not serve it" grep -q 'uid 70000 is outside uid_min..uid_max' "$T/err"
ALLOW_STDERR=1 expect_json "role add --gid outside the range --force" \
	'assert d["gid"] == 9999, d' --json role add newrole --gid 9999 --force
expect_ok "user del newbie" user del newbie
expect_ok "role del newrole" role del newrole

# --- control and bidi characters are escaped for people ------------------------

expect_ok "a name with bidi controls is valid UTF-8 text" user mod carol \
	--first-name $'evil\xe2\x80\xaegnp.exe' --last-name $'a\xe2\x81\xa6b\xe2\x80\x8fc\xd8\x9cd'
expect_ok "user show" user show carol
check "  shows U+202E escaped" grep -qF 'evil\u202egnp.exe' "$T/out"
check "  and U+2066, U+200F, U+061C" grep -qF 'a\u2066b\u200fc\u061cd' "$T/out"
expect_ok "user list" user list
check "  escapes them too" grep -qF 'evil\u202egnp.exe a\u2066b' "$T/out"
check "no raw bidi control reaches the terminal" \
	$PY -c 'import sys; t = open(sys.argv[1], encoding="utf-8").read(); sys.exit(any(0x202a <= ord(ch) <= 0x202e or 0x2066 <= ord(ch) <= 0x2069 or ch in "\u200e\u200f\u061c" for ch in t))' "$T/out"
expect_json "JSON keeps the text as stored" 'assert d["first_name"] == "evil\u202egnp.exe", ascii(d["first_name"])' \
	user show carol --json
expect_ok "restore carol's names" user mod carol --first-name Carol --last-name Danvers

# --- tables size to their content ------------------------------------------

longuser=user_with_a_name_of_32_bytes_xyz
longrole=Role.with.a.name.of.32.bytes.xyz
expect_ok "a user with a 32-byte name" user add "$longuser" --first-name Long
expect_ok "a role with a 32-byte name" role add "$longrole" --includes user --description Long
# Every row's UID column ends where the header's does, so the numbers line up.
column_ends() { # column_ends WORD: the end offset of the second field of each line
	awk '{ i = index($0, $2) + length($2); print i }' "$T/out" | sort -u | wc -l
}
expect_ok "user list with a long name" user list
check "user list: every UID ends in the same column" test "$(column_ends)" = 1
check "user list: the long name is whole" grep -q "^$longuser  " "$T/out"
expect_ok "role list with a long name" role list
check "role list: every GID ends in the same column" test "$(column_ends)" = 1
check "role list: the long name is whole" grep -q "^$longrole  " "$T/out"
expect_ok "remove the long-named user" user del "$longuser"
expect_ok "remove the long-named role" role del "$longrole"

# --- output errors ------------------------------------------------------

if [ -w /dev/full ]; then
	setsid -w "$USERDB" user list >/dev/full 2>"$T/err" </dev/null
	rc=$?
	check "writing to a full disk fails with EX_IOERR" test "$rc" = 74
	check "and says so in one line" test "$(wc -l <"$T/err")" = 1
fi

# --- the second factor: totp enroll, confirm, status, recovery-codes, disable ---

expect_ok "user add tia" user add tia
MATCH='second factor:     none' expect_ok "totp status before any enrolment" totp status tia
MATCH='no pending second factor' expect_fail 67 "totp confirm before enroll" totp confirm tia 123456
MATCH='no confirmed second factor' expect_fail 67 "recovery codes need a confirmed factor" \
	totp recovery-codes tia
MATCH=$'^pending second factor for user tia.*\nkey: +[A-Z2-7]{32}\nuri: +otpauth://totp/[^?]+%3Atia\\?secret=[A-Z2-7]{32}&issuer=.*&algorithm=SHA1&digits=6&period=30\n'"█" \
	expect_ok "totp enroll shows the key, the URI and a QR code of half blocks" totp enroll tia
tia_key=$(sed -n 's/^key: *//p' "$T/out")
check "the QR code is 15 or more rows of one width, in half blocks and spaces" $PY -c '
import sys
rows = open(sys.argv[1], encoding="utf-8").read().splitlines()[3:]
assert len(rows) >= 15 and len({len(r) for r in rows}) == 1, rows
assert set("".join(rows)) == set("\u2588\u2580\u2584 "), set("".join(rows))' "$T/out"
check "the secret is kept in the shadow file only" \
	test "$(sql_read "SELECT confirmed, pending_secret IS NOT NULL FROM second_factors")" = "0|1"
check "no file but the shadow file holds the secret" $PY -c '
import base64, os, sys
key, d = base64.b32decode(sys.argv[1]), sys.argv[2]
sys.exit(any(key in open(os.path.join(d, f), "rb").read()
             for f in os.listdir(d) if not f.startswith("shadow.db")))' "$tia_key" "$DB"
expect_json "totp enroll --json: the key and the URI" '
assert d["changed"] is True and d["user"] == "tia", d
assert re.fullmatch(r"[A-Z2-7]{32}", d["secret"]), d
assert d["uri"].startswith("otpauth://totp/") and ("secret=" + d["secret"]) in d["uri"], d
' totp enroll tia --json
tia_key=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["secret"])' "$T/out")
MATCH='pending:           yes' expect_ok "a new enrolment is pending" totp status tia
right=$(oathtool --totp -b "$tia_key")
wrong=$(printf '%06d' $(((10#$right + 500000) % 1000000)))
DUMP=1 MATCH="user 'tia': wrong code; the second factor stays pending" expect_fail 77 \
	"totp confirm with a wrong code changes nothing" totp confirm tia "$wrong"
MATCH='CODE must not be empty' expect_fail 64 "totp confirm with an empty code" totp confirm tia ""
for bad in 12345 1234567 abcdef "12 456" "'; DROP TABLE x; --"; do
	MATCH='wrong code' expect_fail 77 "totp confirm with code $(printf '%q' "$bad")" \
		totp confirm tia "$bad"
done
MATCH='second factor:     none' expect_ok "still not enrolled after wrong codes" totp status tia
MATCH='^second factor of user tia confirmed' expect_ok "totp confirm with oathtool's code" \
	totp confirm tia "$right"
expect_json "totp status --json once confirmed" '
assert d == {"user": "tia", "enrolled": True, "pending": False, "confirmed_at": d["confirmed_at"],
             "recovery_codes_left": 0, "recovery_codes_total": 0}, d
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["confirmed_at"]), d
' totp status tia --json
MATCH=$'^new recovery codes for user tia.*(\n[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}){10}$' \
	expect_ok "totp recovery-codes prints 10 codes" totp recovery-codes tia
codes=$(tail -n 10 "$T/out")
check "the codes are all different" test "$(sort -u <<<"$codes" | wc -l)" = 10
check "only hashes are stored" sh -c "! sqlite3 '$DB/shadow.db' .dump | grep -q -e '$(head -1 <<<"$codes")' -e '$(head -1 <<<"$codes" | tr -d -)'"
check "ten unused hashes are stored" \
	test "$(sql_read "SELECT recovery_codes FROM second_factors" | grep -c '^0:\$5\$')" = 10
MATCH='recovery codes:    10 of 10 left' expect_ok "totp status counts them" totp status tia
expect_json "totp recovery-codes --json" '
assert d["changed"] is True and len(d["codes"]) == 10 and len(set(d["codes"])) == 10, d
' totp recovery-codes tia --json
check "the new codes replaced the old ones" \
	test "$(sql_read "SELECT recovery_codes FROM second_factors" | grep -c '^0:')" = 10
MATCH='^removed the second factor of user tia$' expect_ok "totp disable" totp disable tia
check "nothing of it is left" \
	test "$(sql_read "SELECT count(*) FROM second_factors")" = 0
expect_json "totp disable again: nothing to do, exit 0" '
assert d["changed"] is False and d["user"] == "tia", d
' totp disable tia --json
expect_ok "totp enroll for user del" totp enroll tia
expect_ok "user del takes the second factor with it" user del tia
check "the row went with the account" \
	test "$(sql_read "SELECT count(*) FROM second_factors")" = 0
for place in "totp enroll @" "totp confirm @ 123456" "totp disable @" "totp status @" \
	"totp recovery-codes @"; do
	expand "$place" nosuch
	MATCH="user 'nosuch': no such user" expect_fail 67 "unknown user in: $place" "${ARGS[@]}"
	expand "$place" "a:b"
	expect_fail 64 "bad name in: $place" "${ARGS[@]}"
done
expect_fail 64 "totp confirm without a code" totp confirm alice
expect_fail 64 "totp enroll with an extra argument" totp enroll alice bob

# --- homes, processes, --terminate -----------------------------------------

mkdir -m 755 "$T/homes"
printf 'dbdir = %s\nhash_method = sha512\nhash_cost = 1000\nhome_base = %s\n' "$DB" "$T/homes" \
	>"$T/homes.conf"
H=(--config "$T/homes.conf")
run "${H[@]}" user add hnote
check "user add without --create-home says no home was created" \
	grep -qx "userdb: note: no home directory was created for hnote ($T/homes/hnote): use --create-home, or pam_mkhomedir at the first login" "$T/err"
check "  and created none" test ! -e "$T/homes/hnote"
run "${H[@]}" --json user add hnote2
check "  not with --json" test -z "$ERR"
MATCH="created its home $T/homes/hana" expect_ok "user add --create-home" "${H[@]}" user add hana --create-home
check "  without the note" test -z "$ERR"
hana_uid=$(uid_of hana)
check "  the home is a 0700 directory owned by the new uid and gid" \
	test "$(stat -c '%F %a %u %g' "$T/homes/hana")" = "directory 700 $hana_uid $hana_uid"
check "  holding a copy of /etc/skel, owned by the user" \
	test "$(cd /etc/skel && find . -mindepth 1 -printf '%P %s %m\n' | sort)" = \
	"$(cd "$T/homes/hana" && find . -mindepth 1 -printf '%P %s %m\n' | sort)"
check "  nothing in it is owned by anyone else" \
	test -z "$(find "$T/homes/hana" ! -uid "$hana_uid")"
mkdir "$T/homes/hpre"
echo planted >"$T/homes/hpre/.profile"
MATCH='already exists \(an existing path is never adopted\)' \
	expect_fail 65 "--create-home refuses an existing path" "${H[@]}" user add hpre --create-home
check "  and leaves it as it was" test "$(stat -c '%u' "$T/homes/hpre/.profile")" = 0
ln -s /etc "$T/homes/hlink"
MATCH='already exists' expect_fail 65 "--create-home refuses a symlink in its place" \
	"${H[@]}" user add hlink --create-home
MATCH='parent of .* does not exist' expect_fail 67 "--create-home needs the parent" \
	"${H[@]}" user add hnop --create-home --home "$T/nowhere/hnop"

# --remove-home: only the user's own real directory under home_base.
echo data >"$T/homes/hana/file"
mkdir "$T/homes/hana/sub"
ln -s /etc/passwd "$T/homes/hana/sub/passwd-link"
ln -s /etc "$T/homes/hana/etc-link"
MATCH="deleted user hana; removed $T/homes/hana" expect_ok "user del --remove-home" \
	"${H[@]}" user del hana --remove-home
check "  the home is gone" test ! -e "$T/homes/hana"
check "  symlinks in it were removed, not followed" test -s /etc/passwd -a -d /etc
expect_ok "user add hbob --create-home" "${H[@]}" user add hbob --create-home
chown root "$T/homes/hbob"
MATCH="not removing the home '$T/homes/hbob': it is owned by uid 0, not the user's uid" \
	expect_fail 78 "--remove-home refuses a home the user does not own" "${H[@]}" user del hbob --remove-home
chown "$(uid_of hbob)" "$T/homes/hbob"
expect_ok "user add hsym" "${H[@]}" user add hsym --home "$T/homes/hsym"
ln -s "$T/homes/hbob" "$T/homes/hsym"
MATCH="it is a symlink or not a directory" expect_fail 78 "--remove-home refuses a symlinked home" \
	"${H[@]}" user del hsym --remove-home
check "  and what it points to stays" test -d "$T/homes/hbob"
rm "$T/homes/hsym"
expect_ok "user add hout" "${H[@]}" user add hout --home "$T/hout" --create-home
MATCH="it is not directly under home_base $T/homes" \
	expect_fail 78 "--remove-home refuses a home outside home_base" "${H[@]}" user del hout --remove-home
check "  and leaves it" test -d "$T/hout"
expect_ok "clean up" "${H[@]}" user del hout
expect_ok "clean up" "${H[@]}" user del hsym

# Processes: user del refuses while any run as the user; --terminate.
if is_root && command -v setpriv >/dev/null; then
	bob_uid=$(uid_of hbob)
	setsid setpriv --reuid="$bob_uid" --regid="$bob_uid" --clear-groups sleep 300 &
	sleeper=$!
	sleep 0.3
	MATCH="user 'hbob': 1 process is running as uid $bob_uid \\(end them" \
		expect_fail 65 "user del refuses while the user has a process" "${H[@]}" user del hbob
	expect_json "user disable --terminate ends it and says how many" \
		'assert d["changed"] is True and d["terminated"] == 1, d' \
		"${H[@]}" --json user disable hbob --terminate
	check "  the process is gone" sh -c "! kill -0 $sleeper 2>/dev/null"
	wait $sleeper 2>/dev/null
	MATCH='was already disabled; 0 processes signalled' expect_ok "--terminate again: nothing left" \
		"${H[@]}" user disable hbob --terminate
	setsid setpriv --reuid="$bob_uid" --regid="$bob_uid" --clear-groups sleep 300 &
	sleeper=$!
	sleep 0.3
	MATCH='^deleted user hbob; removed' expect_ok "user del --force deletes anyway" \
		"${H[@]}" user del hbob --force --remove-home
	kill $sleeper 2>/dev/null
	wait $sleeper 2>/dev/null
	# revoke --terminate acts only when the role is really gone.
	expect_ok "role add tr1" role add tr1
	expect_ok "role add tr2 including tr1" role add tr2 --includes tr1
	expect_ok "user add tuser" user add tuser --role tr1 --role tr2
	t_uid=$(uid_of tuser)
	setsid setpriv --reuid="$t_uid" --regid="$t_uid" --clear-groups sleep 300 &
	sleeper=$!
	sleep 0.3
	ALLOW_STDERR=1 expect_json "revoke --terminate of a role still held through another" \
		'assert d["changed"] is True and d["terminated"] == 0, d' --json revoke tuser tr1 --terminate
	check "  says why nothing was signalled" grep -q 'still has role tr1 through another role' "$T/err"
	check "  and the process runs on" kill -0 $sleeper
	expect_json "revoke --terminate of the last route" \
		'assert d["terminated"] == 1, d' --json revoke tuser tr2 --terminate
	check "  ends the process" sh -c "! kill -0 $sleeper 2>/dev/null"
	wait $sleeper 2>/dev/null
	setsid setpriv --reuid="$t_uid" --regid="$t_uid" --clear-groups sleep 300 &
	sleeper=$!
	sleep 0.3
	ALLOW_STDERR=1 MATCH='; 0 processes signalled' expect_ok "user expire --terminate to a later date" \
		user expire tuser --account +1d --terminate
	check "  leaves the process alone" kill -0 $sleeper
	MATCH='; 1 process signalled' expect_ok "user expire --terminate to now" \
		user expire tuser --account @1 --terminate
	check "  ends it" sh -c "! kill -0 $sleeper 2>/dev/null"
	wait $sleeper 2>/dev/null
	expect_ok "clean up" user del tuser
	expect_ok "clean up" role del tr2
	expect_ok "clean up" role del tr1
else
	echo "# skipped the process checks (not root, or no setpriv)"
fi

# A range used up above its mark says so, even with freed ids below it.
printf 'dbdir = %s\nhash_method = sha512\nhash_cost = 1000\nuid_min = 50000\nuid_max = 50001\n' \
	"$DB" >"$T/tiny.conf"
expect_ok "user add in a two-id range" --config "$T/tiny.conf" user add tiny1
expect_ok "user add, the last id" --config "$T/tiny.conf" user add tiny2
expect_ok "user del frees one" --config "$T/tiny.conf" user del tiny1
MATCH='no uid left above the high-water mark in uid_min..uid_max \(50000..50001\); freed uids are not handed out again \(name one with --uid\)' \
	expect_fail 78 "the freed uid is not handed out: the range is used up" \
	--config "$T/tiny.conf" user add tiny3
expect_ok "clean up" user del tiny2

# --- as a user other than root ----------------------------------------------

# The store is root's alone (README "Decisions"): every command, reads
# included, tells a non-root caller, group shadow too, to run it as root.
if is_root && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	shadow_gid=$(getent group shadow | cut -d: -f3)
	run_as() { # run_as SETPRIV-ARGS... -- USERDB-ARGS...
		local -a pre=()
		while [ "$1" != -- ]; do pre+=("$1"); shift; done
		shift
		setsid -w setpriv "${pre[@]}" "$USERDB" "$@" </dev/null >"$T/out" 2>"$T/err"
		RC=$?
		OUT=$(cat "$T/out")
		ERR=$(cat "$T/err")
	}
	refused() { # refused WHAT: the last run_as was refused with one clear line
		check "$1: EX_NOPERM" test "$RC" = 77
		check "  with one line" test "$(wc -l <"$T/err")" = 1
		check "  saying to run as root" grep -q "database '$DB': permission denied: run as root" "$T/err"
		check "  and nothing on stdout" test ! -s "$T/out"
	}
	nobody=(--reuid=nobody --regid=nogroup --clear-groups)
	before=$(state)
	run_as "${nobody[@]}" -- user show alice --json
	refused "unprivileged user show"
	run_as "${nobody[@]}" -- user list
	refused "unprivileged user list"
	run_as "${nobody[@]}" -- role show admin
	refused "unprivileged role show"
	run_as "${nobody[@]}" -- email list alice
	refused "unprivileged email list"
	run_as "${nobody[@]}" -- user add newbie
	refused "unprivileged user add"
	run_as "${nobody[@]}" -- grant alice user
	refused "unprivileged grant"
	run_as "${nobody[@]}" -- init
	check "unprivileged init of root's database: refused" test "$RC" != 0
	check "nothing changed by the unprivileged runs" test "$before" = "$(state)"
	if [ -n "$shadow_gid" ]; then
		run_as --reuid=nobody --regid=nogroup --groups="$shadow_gid" -- email list alice --json
		refused "group shadow email list"
		run_as --reuid=nobody --regid=nogroup --groups="$shadow_gid" -- user show alice --json
		refused "group shadow user show"
	fi
else
	echo "# skipped the unprivileged-reader checks (not root, or no setpriv/nobody)"
fi

# --- compact: the image bases take in the deltas -------------------------
# Every change above published a delta beside the bases; compact rebuilds
# the bases and removes the deltas, and then has nothing left to do.
check "changes left a delta beside the public base" test -s "$DB/nss-delta.img"
MATCH='^rebuilt the images in .* \([1-9][0-9]* changes taken in\)' expect_ok \
	"compact takes the changes in" compact
check "compact removed the public delta" test ! -e "$DB/nss-delta.img"
check "compact removed the shadow delta" test ! -e "$DB/nss-shadow-delta.img"
MATCH='have no changes to take in' expect_ok "compact again has nothing to do" compact
expect_json "compact --json with nothing to do" 'assert d["changed"] is False' --json compact
expect_ok "a change after compact" user add compacted
check "the change published a delta again" test -s "$DB/nss-delta.img"
expect_json "compact --force --json" 'assert d["changed"] is True' --json compact --force
expect_fail 64 "compact takes no argument" compact extra

echo "1..$n"
[ "$failed" = 0 ]
