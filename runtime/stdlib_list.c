/* stdlib_list.c — `hdrq --list`: every stdlib/queries/NAME.hq with the
 * first line of its header comment (its one-line description). Owned by
 * the language/stdlib area; the queries themselves are data. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "../frontend/proto.h"
#include "stdlib_list.h"

struct sq {
	char *name;
	char desc[256];
};

static int sq_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sq *)a)->name, ((const struct sq *)b)->name);
}

/* The first `# ...` line of the file, without the `#` and spaces. */
static void sq_desc(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	char line[512];

	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || !*p)
			continue;
		if (*p != '#')
			break;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, "\r\n")] = 0;
		snprintf(out, size, "%s", p);
		break;
	}
	fclose(f);
}

static bool sq_is_query(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && !strcmp(name + n - 3, ".hq") && name[0] != '.';
}

/* Read the directory into a sorted array; returns the count or -1. */
static int sq_collect(const char *dir, struct sq **out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct sq *v = NULL;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *path = NULL;
		struct sq *nv;
		if (!sq_is_query(de->d_name) || !(nv = realloc(v, (size_t)(n + 1) * sizeof(*v))))
			continue;
		v = nv;
		v[n].name = strndup(de->d_name, strlen(de->d_name) - 3);
		if (!v[n].name || asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			free(v[n].name);
			continue;
		}
		sq_desc(path, v[n].desc, sizeof(v[n].desc));
		free(path);
		n++;
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof(*v), sq_cmp);
	*out = v;
	return n;
}

int stdlib_list(FILE *out, FILE *err)
{
	const char *root = proto_stdlib_dir();
	char dir[4096];
	struct sq *v = NULL;
	int n, width = 0;

	snprintf(dir, sizeof(dir), "%s/queries", root ? root : ".");
	n = root ? sq_collect(dir, &v) : -1;
	if (n < 0) {
		fprintf(err,
		        "hdrq: error: cannot read the saved queries in %s; set HDRQ_STDLIB "
		        "to the stdlib directory\n",
		        dir);
		return 1;
	}
	for (int i = 0; i < n; i++)
		if ((int)strlen(v[i].name) > width)
			width = (int)strlen(v[i].name);
	for (int i = 0; i < n; i++) {
		fprintf(out, "%-*s  %s\n", width, v[i].name, v[i].desc);
		free(v[i].name);
	}
	free(v);
	fprintf(out, "\nrun one with: hdrq [-i IFACE | -r FILE] NAME   (files in %s)\n", dir);
	return 0;
}
