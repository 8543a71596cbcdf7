/* userdb-authorized-keys USER: what sshd's AuthorizedKeysCommand runs at
 * every key login. It prints exactly what `userdb ssh-authorized-keys USER`
 * prints (the same lookup, common/sshkey_image_read.c's
 * udb_keys_image_serve()), with the same exit statuses, but it is its own
 * small program: `userdb` links SQLite, json-c, liboath, libqrencode and
 * libpq (with OpenSSL, GnuTLS and Kerberos behind it), and loading those
 * costs a whole process several times what the lookup does. This one needs
 * only libc. Reads the configuration (USERDB_CONF, else /etc/userdb.conf)
 * and keys.img, nothing else; any user may run it. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "config.h"
#include "sshkey_image.h"
#include "validate.h"

static void
print_line(const char *line, size_t len, void *data)
{
	(void)data;
	fwrite(line, 1, len, stdout);
	putchar('\n');
}

/* The statuses `userdb` gives the same results (cli/main.c). */
static int
exit_status(enum udb_result r)
{
	switch (r) {
	case UDB_OK:
		return EX_OK;
	case UDB_PERMISSION:
		return EX_NOPERM;
	case UDB_UNSAFE:
	case UDB_INVALID:
	case UDB_NOT_FOUND:
		return EX_CONFIG;
	case UDB_IO:
		return EX_IOERR;
	case UDB_NO_MEMORY:
		return EX_OSERR;
	default:
		return EX_UNAVAILABLE;
	}
}

int
main(int argc, char **argv)
{
	struct udb_config *cfg = NULL;
	unsigned line = 0;
	enum udb_result r;

	if (argc != 2 || argv[1][0] == '\0' || argv[1][0] == '-') {
		fprintf(stderr, "usage: userdb-authorized-keys USER\n");
		return EX_USAGE;
	}
	/* sshd asks for every user who offers a key, local ones too. */
	if (!udb_valid_username(argv[1]))
		return EX_OK;
	r = udb_config_load(NULL, &cfg, &line);
	if (r != UDB_OK) {
		fprintf(stderr,
			"userdb-authorized-keys: the configuration%s: %s: serving no keys\n",
			line ? " has a bad line" : "", udb_result_to_string(r));
		return exit_status(r == UDB_NOT_FOUND ? UDB_INVALID : r);
	}
	r = udb_keys_image_serve(cfg->dbdir, argv[1], udb_now(), print_line, NULL);
	if (r == UDB_NOT_FOUND)
		r = UDB_OK;
	if (r == UDB_CORRUPT)
		fprintf(stderr, "userdb-authorized-keys: %s/%s is damaged: serving no keys\n",
			cfg->dbdir, UDB_KEYS_IMAGE_FILE);
	else if (r != UDB_OK)
		fprintf(stderr, "userdb-authorized-keys: %s/%s: %s: serving no keys\n", cfg->dbdir,
			UDB_KEYS_IMAGE_FILE, udb_result_to_string(r));
	udb_config_free(cfg);
	if (fflush(stdout) != 0 && r == UDB_OK)
		r = UDB_IO;
	return exit_status(r);
}
