#!/bin/sh
# The module's DT_NEEDED list: libc alone (and glibc's loader). The NSS module reads the
# compiled image, never the SQLite store, and never hashes: loading
# libsqlite3 or libcrypt would cost every process that looks up a user (and
# put an SQL engine and its file locks in all of them); the module's link
# leaves them out and -z defs turns a stray reference into a build error,
# which this test backs up. Run by meson (suite 'nss') with
# NSS_USERDB_MODULE and READELF set.
set -eu

needed=$("$READELF" -d "$NSS_USERDB_MODULE" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
printf 'DT_NEEDED: %s\n' $needed
for lib in $needed; do
	case $lib in
	libc.so.6 | ld-linux*.so.*) ;; # glibc and its loader (thread-local storage)
	libasan.so.* | libubsan.so.*) ;; # the sanitizer build's runtimes only
	*)
		echo "FAIL: $NSS_USERDB_MODULE needs $lib" >&2
		exit 1
		;;
	esac
done
case " $(echo $needed) " in
*" libc.so.6 "*) ;;
*)
	echo "FAIL: no libc in the list: readelf output not understood" >&2
	exit 1
	;;
esac
echo "ok: libc only"
