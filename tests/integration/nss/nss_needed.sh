#!/bin/sh
# The module's DT_NEEDED list: no libcrypt. The NSS module never hashes, and
# loading libcrypt would cost every process that looks up a user; the
# module's link leaves it out and -z defs turns a stray reference into a
# build error, which this test backs up. Run by meson (suite 'nss') with
# NSS_USERDB_MODULE and READELF set.
set -eu

needed=$("$READELF" -d "$NSS_USERDB_MODULE" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
printf 'DT_NEEDED: %s\n' $needed
for lib in $needed; do
	case $lib in
	libcrypt.*)
		echo "FAIL: $NSS_USERDB_MODULE needs $lib" >&2
		exit 1
		;;
	esac
done
case " $(echo $needed) " in
*" libsqlite3.so.0 "*) ;;
*)
	echo "FAIL: no libsqlite3 in the list: readelf output not understood" >&2
	exit 1
	;;
esac
echo "ok: no libcrypt"
