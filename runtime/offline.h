/* offline.h — `-r FILE`: run the compiled XDP program over every frame of
 * a pcap/pcapng capture with BPF_PROG_TEST_RUN, in frame order. */
#ifndef HQ_OFFLINE_H
#define HQ_OFFLINE_H

#include <signal.h>

#include "run.h"

/* Runs the whole capture (or until -c / limit / a signal), then prints the
 * final results. Returns 0, or -1 with an error in r->d. */
int offline_run(struct hq_run *r, const char *path, volatile sig_atomic_t *signalled);

#endif
