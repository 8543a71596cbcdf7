/* Builds the database the pamtester test (pamtester.sh) logs in to, in a
 * new temporary directory whose path it prints: users alice (role staff),
 * dave (staff, disabled), eve (staff, account expired), frank (staff, to
 * be locked by the script) and mallory (no role). Every password is
 * "<name> password 1". Run by pamtester.sh only. */
#include <stdio.h>

#include "fixture.h"

int
main(void)
{
	static const char *const users[] = {"alice", "dave", "eve", "frank", "mallory"};
	char password[64];

	fx_in_check = false;
	fx_setup();
	fx_role("staff", "ssh:login", NULL);
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		snprintf(password, sizeof(password), "%s password 1", users[i]);
		fx_user(users[i], password);
		if (i < 4)
			fx_grant(users[i], "staff", 0, 0);
	}
	if (udb_account_set_enabled(fx.db, "dave", false, NULL) != UDB_OK ||
	    udb_account_set_validity(fx.db, "eve", 0, udb_now() - 60) != UDB_OK)
		return 1;
	udb_db_close(fx.db);
	udb_config_free(fx.cfg);
	printf("%s\n", fx.dir);
	return 0;
}
