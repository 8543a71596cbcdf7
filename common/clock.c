/* The current time, the one clock every rule of userdb reads. Called by
 * common/, the modules and the CLI. Its own file so the NSS module, which
 * links no SQLite code, has it too. */
#include <time.h>

#include "clock.h"

int64_t
udb_now(void)
{
	return (int64_t)time(NULL);
}
