/* The clock every rule of userdb reads (clock.c). Included by db.h for the
 * core, and alone by the NSS module, which links no SQLite code. */
#ifndef UDB_CLOCK_H
#define UDB_CLOCK_H

#include <stdint.h>

/* Current time in Unix seconds. */
int64_t udb_now(void);

#endif
