#!/bin/bash
# The command table, --help and the bash completion agree (suite cli, TAP):
# every command of cli/main.c's dispatcher table is listed by `userdb
# --help`, and the completion (dist/bash-completion/userdb, sourced into
# this bash without the bash-completion package) offers every command word
# and every subcommand, and each command's options from its --help.
#
#   test_completion.sh USERDB SRC
set -u
USERDB=$(realpath "${1:?usage: test_completion.sh USERDB SRC}")
SRC=${2:?usage: test_completion.sh USERDB SRC}
export LC_ALL=C
n=0
failed=0
check() { # DESCRIPTION STATUS [DETAIL]
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
		printf '%s\n' "${3:-}" | sed 's/^/#   /'
	fi
}

# The dispatcher's entries: {"group", "name", cmd_...} or {NULL, "name", ...}.
table=$(grep -oE '^\s*\{(NULL|"[a-z-]+"), "[a-z-]+", cmd_' "$SRC/cli/main.c" |
	sed -E 's/^\s*\{//; s/, cmd_$//; s/"//g; s/^NULL, //; s/, / /')
count=$(wc -l <<<"$table")
check "the dispatcher table was found ($count commands)" "$([ "$count" -ge 40 ]; echo $?)" "$table"
help=$("$USERDB" --help | sed -n 's/^  userdb //p')

# userdb is a function here, so the completion's `userdb ... --help` runs
# the build under test.
userdb() { "$USERDB" "$@"; }
# shellcheck source=/dev/null
source "$SRC/dist/bash-completion/userdb"
complete_words() { # WORDS... CUR: what completing CUR after WORDS offers
	COMP_WORDS=(userdb "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_userdb
	printf '%s\n' "${COMPREPLY[@]}"
}
top=$(complete_words "")
while read -r w1 w2; do
	c=$w1${w2:+ $w2}
	grep -qE "^$c( |$)" <<<"$help"
	check "--help lists '$c'" $? "$help"
	grep -qx -- "$w1" <<<"$top"
	check "the completion offers '$w1' first" $? "$top"
	if [ -n "$w2" ]; then
		sub=$(complete_words "$w1" "")
		grep -qx -- "$w2" <<<"$sub"
		check "the completion offers '$w2' after '$w1'" $? "$sub"
	fi
done <<<"$table"

opts=$(complete_words user add bob --)
check "options of user add come from its --help" \
	"$(grep -qx -- --password-stdin <<<"$opts" && grep -qx -- --primary-role <<<"$opts"; echo $?)" "$opts"
opts=$(complete_words user mod bob --)
check "options of user mod include --name and --uid" \
	"$(grep -qx -- --name <<<"$opts" && grep -qx -- --uid <<<"$opts"; echo $?)" "$opts"
glob=$(complete_words --j)
check "global options are offered" "$(grep -qx -- --json <<<"$glob"; echo $?)" "$glob"
check "no option of another command is offered" \
	"$(! grep -qx -- --password-stdin <<<"$(complete_words role add x --)"; echo $?)"

echo "1..$n"
[ "$failed" = 0 ]
