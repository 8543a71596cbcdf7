/* The one rule for a time window [not_before, not_after) of a grant (or a
 * grant's copy in the NSS image): 0 at either end means unbounded, the
 * start is included and the end is not. Used by the image reader (role
 * members and group lists at lookup time), the CLI's grant display and
 * `explain`. Pure: no I/O, safe in the NSS module. */
#ifndef UDB_WINDOW_H
#define UDB_WINDOW_H

#include <stdint.h>

enum udb_window_state {
	UDB_WINDOW_OPEN,
	UDB_WINDOW_PENDING, /* now is before not_before */
	UDB_WINDOW_ENDED,   /* now is at or after not_after */
};

static inline enum udb_window_state
udb_window_state(int64_t not_before, int64_t not_after, int64_t now)
{
	if (not_after && now >= not_after)
		return UDB_WINDOW_ENDED;
	if (not_before && now < not_before)
		return UDB_WINDOW_PENDING;
	return UDB_WINDOW_OPEN;
}

#endif
