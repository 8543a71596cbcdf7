/* The helpers of fuzz.h, linked into every fuzz target and replay driver. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

void
fuzz_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	fputs("fuzz check failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

uint8_t
fuzz_byte(struct fuzz_input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

uint32_t
fuzz_u32(struct fuzz_input *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | fuzz_byte(in);
	return v;
}

uint64_t
fuzz_u64(struct fuzz_input *in)
{
	uint64_t high = fuzz_u32(in);

	return high << 32 | fuzz_u32(in);
}

char *
fuzz_string(struct fuzz_input *in, size_t max)
{
	size_t n = 0;
	char *s;

	while (n < in->left && n < max && in->p[n] != '\0')
		n++;
	s = malloc(n + 1);
	fuzz_check(s != NULL, "out of memory");
	memcpy(s, in->p, n);
	s[n] = '\0';
	/* Consume the terminating NUL too, when there is one. */
	if (n < in->left && in->p[n] == '\0')
		n++;
	in->p += n;
	in->left -= n;
	return s;
}

char *
fuzz_rest(struct fuzz_input *in)
{
	char *s = malloc(in->left + 1);

	fuzz_check(s != NULL, "out of memory");
	memcpy(s, in->p, in->left);
	s[in->left] = '\0';
	in->p += in->left;
	in->left = 0;
	return s;
}
