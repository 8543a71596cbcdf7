#!/bin/sh
# tests/docs: every man page in doc/ passes `mandoc -T lint` with nothing to
# say (style notes included) and renders with `man -l` without a groff
# warning; every option of the tool is in userdb(8) and every module
# argument in pam_userdb(8); README.md and the man pages carry a marker on
# every snippet (tests/e2e/docs_blocks.py; e2e-docs then runs them). Run by
# meson as docs-man: man_lint.sh SRC
set -u
src=$1
n=0
fail=0
check() { # description, command...
	d=$1
	shift
	n=$((n + 1))
	out=$("$@" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then
		echo "ok $n - $d"
	else
		echo "not ok $n - $d"
		printf '%s\n' "$out" | sed 's/^/#   /'
		fail=1
	fi
}
renders() { # page: man -l prints the page and no warning
	MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null
	MANWIDTH=80 man -l "$1" 2>/dev/null | grep -q . || echo "nothing rendered"
}
for page in "$src"/doc/*.[1-8]; do
	name=$(basename "$page")
	check "$name: mandoc -T lint -W style is silent" mandoc -T lint -W style "$page"
	check "$name: man -l renders it without warnings" renders "$page"
done
# Every option the tool parses (cli/*.c option tables) is in userdb(8), and
# every argument pam_userdb parses (pam_userdb/args.c) in pam_userdb(8).
missing_options() {
	opts=$(grep -ho '{"[a-z-]*", CLI_' "$src"/cli/*.c | sed 's/{"\([a-z-]*\)".*/\1/' | sort -u)
	# Fewer than 30 means the option tables moved: fail, do not check nothing.
	[ "$(printf '%s\n' $opts | wc -l)" -ge 30 ] || echo "found only these options in cli/: $opts"
	for o in $opts; do
		e=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
		grep -q -- "\\\\-\\\\-$e" "$src/doc/userdb.8" || echo "--$o is not in userdb(8)"
	done
}
missing_arguments() {
	# The parser's names: strcmp/has_prefix on arg, its table of list
	# arguments and its list of libpam's authtok flags (common/pam_args.c;
	# pam_userdb/args.c before the move). Fewer than 12 means this no
	# longer finds them, which must fail rather than check nothing.
	args=$(cat "$src"/common/pam_args.c "$src"/pam_userdb/args.c 2>/dev/null |
		sed -n -e 's/.*strcmp(arg, "\([a-z_]*\)").*/\1/p' \
			-e 's/.*has_prefix(arg, "\([a-z_]*\)=".*/\1/p' \
			-e 's/.*{"\([a-z_]*\)=", offsetof.*/\1/p' \
			-e 's/^[[:space:]]*"\([a-z_]*\)",$/\1/p' | sort -u)
	[ "$(printf '%s\n' $args | wc -l)" -ge 12 ] ||
		echo "found only these module arguments in the source: $args"
	for a in $args; do
		grep -qw -- "$a" "$src/doc/pam_userdb.8" || echo "$a is not in pam_userdb(8)"
	done
}
check "every command-line option is in userdb(8)" missing_options
check "every module argument is in pam_userdb(8)" missing_arguments
check "every README.md and man page snippet has a marker" \
	python3 "$src/tests/e2e/docs_blocks.py" "$(mktemp -d)" "$src/README.md" "$src"/doc/*.[1-8]
echo "1..$n"
exit $fail
