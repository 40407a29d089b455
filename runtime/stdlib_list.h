/* stdlib_list.h — `hdrq --list`: the saved queries of the standard library
 * (stdlib/queries/NAME.hq) with their one-line descriptions. */
#ifndef HQ_STDLIB_LIST_H
#define HQ_STDLIB_LIST_H

#include <stdio.h>

/* Print "NAME  description" for every saved query, sorted by name, to out.
 * Returns 0, or 1 (with a message on err) when the directory is missing. */
int stdlib_list(FILE *out, FILE *err);

#endif
