/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runs a fuzz harness over every file of its corpus, without libFuzzer, so
 * that make check (plain, under the sanitizers) keeps the corpus, crashers
 * included, as regression tests. REPLAY_CORPUS names the corpus folder. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay_file(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int r = file_read_capped(path, 1 << 20, &data, &len);

	if (r < 0) {
		fprintf(stderr, "%s: cannot read (%s)\n", path, strerror(-r));
		return r;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

int main(void)
{
	const char *top = getenv("top_srcdir");
	char *dir = xasprintf("%s/tests/fuzz/corpus/%s", top ? top : ".", REPLAY_CORPUS);
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name), replayed = 0, failed = 0;

	if (n < 0) {
		perror(dir);
		free(dir);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char *path = xasprintf("%s/%s", dir, names[i]->d_name);

			if (replay_file(path) < 0)
				failed++;
			else
				replayed++;
			free(path);
		}
		free(names[i]);
	}
	free(names);
	printf("%d inputs of %s replayed, %d unreadable\n", replayed, dir, failed);
	free(dir);
	return failed || replayed == 0 ? 1 : 0;
}
