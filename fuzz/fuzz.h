/*
 * fuzz.h - shared by the libFuzzer targets (fuzz/fuzz_*.c) and by the
 * standalone replay driver (fuzz/replay.c).
 *
 * A target calls only library code that needs no network, database or
 * child process; FUZZ_CHECK turns a broken promise of a header (a string
 * that is not UTF-8, an order number that is not digits ...) into an
 * abort(), which libFuzzer reports as a crash like any other.
 */
#ifndef IKASQ_FUZZ_H
#define IKASQ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* optional, as for libFuzzer: a target without one has nothing to set up */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz: %s:%d: check failed: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

#endif
