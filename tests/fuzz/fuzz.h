/* What every fuzz target in tests/fuzz/ shares: the libFuzzer entry points
 * (built with -fsanitize=fuzzer by clang, or linked into replay.c's main in
 * any other build), a check that aborts with a message, and a reader that
 * turns the fuzzer's bytes into structured values. Nothing outside
 * tests/fuzz/ includes this. */
#ifndef UDB_FUZZ_H
#define UDB_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional per target; replay.c calls it when the target defines it. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Aborts (the fuzzer's "crash") with the message when ok is false. */
void fuzz_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Consumes the fuzzer's input from the front. Reads past the end give
 * zeros and empty strings, so every input is a valid program. */
struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

uint8_t fuzz_byte(struct fuzz_input *in);
uint32_t fuzz_u32(struct fuzz_input *in);
uint64_t fuzz_u64(struct fuzz_input *in);
/* A malloc'd NUL-terminated string of at most max bytes, cut at the first
 * NUL of the input (which is consumed) or at max. Never NULL. */
char *fuzz_string(struct fuzz_input *in, size_t max);
/* A malloc'd copy of the rest of the input as a NUL-terminated string. */
char *fuzz_rest(struct fuzz_input *in);

#endif
