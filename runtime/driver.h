/* driver.h — the whole pipeline of one hdrq invocation:
 *
 *   stdlib protocols -> parse -> sema -> plan -> codegen
 *     -> --emit: to stdout | --check: load, report | run: load, attach (or
 *        -r), read until Ctrl-C / -c / -d / limit, detach, final results
 *
 * Every error is collected in one hq_diag and printed once at the end.
 */
#ifndef HQ_DRIVER_H
#define HQ_DRIVER_H

#include "options.h"

/* Run with parsed options; returns the exit status (0 ok, 1 runtime
 * error, 2 bad query or usage). */
int driver_run(struct hq_options *o);

/* Version lines (`--version`). */
void driver_version(FILE *f);

#endif
