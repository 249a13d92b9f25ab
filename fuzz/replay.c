/*
 * replay.c - run a libFuzzer target without libFuzzer: the inputs named on
 * the command line (files, or directories whose files are taken in name
 * order) are each read into a buffer of exactly their size and handed to
 * LLVMFuzzerTestOneInput() once.  Linked with one fuzz/fuzz_*.c, a normal
 * build of this is fuzz/replay-<target>, which tests/t9100 runs over the
 * regression inputs in tests/data/fuzz/<target>/ and the seeds.
 *
 * usage: replay-<target> [-v] FILE|DIR...
 *   -v  name each input on stderr before running it (so the last name
 *       printed is the input that crashed)
 * Exit 0 when every input ran; 1 when one could not be read; 64 on a
 * usage error.  A crash or a failed check ends the process (abort).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static bool verbose;

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL, *p;
	size_t len = 0, cap = 0, got;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((p = realloc(buf, cap)) == NULL) {
				fprintf(stderr, "replay: %s: out of memory\n",
				    path);
				free(buf);
				fclose(f);
				return 1;
			}
			buf = p;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	/* exactly len bytes, so that reading past the end is seen */
	if ((p = malloc(len ? len : 1)) == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		free(buf);
		return 1;
	}
	memcpy(p, buf, len);
	free(buf);
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(p, len);
	free(p);
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
run_path(const char *path)
{
	struct dirent **ents;
	struct stat st;
	int n, i, rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	n = scandir(path, &ents, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		char *full;

		if (ents[i]->d_name[0] != '.') {
			full = malloc(strlen(path) + strlen(ents[i]->d_name) +
			    2);
			if (full == NULL) {
				rc = 1;
			} else {
				sprintf(full, "%s/%s", path, ents[i]->d_name);
				if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
					rc |= run_file(full);
				free(full);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	int i = 1, rc = 0;

	if (i < argc && strcmp(argv[i], "-v") == 0) {
		verbose = true;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s [-v] FILE|DIR...\n", argv[0]);
		return 64;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (; i < argc; i++)
		rc |= run_path(argv[i]);
	return rc;
}
