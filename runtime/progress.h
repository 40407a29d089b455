/* progress.h — the progress bar of long offline runs (-r): bytes of the
 * capture read against its size, and frames, on stderr, redrawn at most 5
 * times a second, starting after half a second (short runs print nothing).
 * Only when stderr is a terminal (or --progress), and the capture a
 * regular file; the line is erased at the end so results stay clean. */
#ifndef HQ_PROGRESS_H
#define HQ_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct hq_progress {
	bool on;
	bool drawn;
	FILE *cap; /* the capture's stream (pcap_file) */
	FILE *err;
	long size;
	uint64_t start_ns, last_ns;
};

void progress_start(struct hq_progress *p, FILE *cap, FILE *err, bool force);
void progress_update(struct hq_progress *p, uint64_t frames);
void progress_end(struct hq_progress *p);

#endif
