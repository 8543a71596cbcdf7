# TAP output for the fleet tests (sourced): `check DESCRIPTION EXPECTED
# ACTUAL`, or pass / flunk DESCRIPTION [DETAIL...]; $n counts the checks
# and $failed the failures, which the script reports and exits on.
n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
flunk() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for d in "$@"; do printf '#   %s\n' "$d"; done
}
check() { # check DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass "$1"; else flunk "$1" "expected: $2" "actual:   $3"; fi
}
