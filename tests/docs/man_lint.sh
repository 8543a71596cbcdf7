#!/bin/sh
# tests/docs: every man page in doc/ passes `mandoc -T lint` with nothing to
# say (style notes included) and renders with `man -l` without a groff
# warning; README.md and the man pages carry a marker on every snippet
# (tests/e2e/docs_blocks.py; e2e-docs then runs them). Run by meson as
# docs-man and docs-markers: man_lint.sh SRC
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
check "every README.md and man page snippet has a marker" \
	python3 "$src/tests/e2e/docs_blocks.py" "$(mktemp -d)" "$src/README.md" "$src"/doc/*.[1-8]
echo "1..$n"
exit $fail
