/* nss_fixture DIR: builds the NSS tests' standard population (fixture.h)
 * in a new temporary directory and prints its path and the config file's,
 * one per line; the shell tests (nss_wrapper.sh) point USERDB_CONF at the
 * second and remove the first when done. */
#include <stdio.h>

#include "fixture.h"

int
main(void)
{
	nfx_in_check = false;
	nfx_setup();
	printf("%s\n%s\n", nfx.dir, nfx.conf);
	udb_db_close(nfx.db);
	udb_config_free(nfx.cfg);
	return 0;
}
