/* Escaping of text that comes from outside the module (PAM_RHOST, module
 * arguments) before it is logged or stored: a remote host name is chosen by
 * whoever connects, and a newline or an escape sequence in it must not forge
 * a log line or reach an admin's terminal through `userdb user show`.
 * Called by pam_userdb.c (session) and args.c (unknown arguments). */
#include <stdio.h>

#include "module.h"

void
pud_escape(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t need = (c < 0x20 || c > 0x7e || c == '\\') ? 4 : 1;

		if (n + need >= size)
			break;
		if (need == 1)
			out[n] = (char)c;
		else
			snprintf(out + n, 5, "\\x%02x", c);
		n += need;
	}
	out[n] = '\0';
}
