/* live.h — a live run: attach, read until Ctrl-C / -c / -d / every
 * `limit`, detach, final results. */
#ifndef HQ_LIVE_H
#define HQ_LIVE_H

#include <signal.h>

#include "hook.h"
#include "run.h"

/* Returns 0 (also when stopped by a signal or a closed stdout), or -1
 * with an error in r->d. Hooks are detached on return. */
int live_run(struct hq_run *r, struct hq_hooks *h, volatile sig_atomic_t *signalled);

#endif
