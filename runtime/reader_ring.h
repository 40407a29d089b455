/* reader_ring.h — the ring buffer of log records (hq_events): each record
 * goes to its query's formatter (up to `limit`), to the pcap writer (-w),
 * and counts toward -c. */
#ifndef HQ_READER_RING_H
#define HQ_READER_RING_H

#include "run.h"

/* Open the ring buffer if the object has one (0 also when it has none). */
int ring_open(struct hq_run *r);
/* Wait up to timeout_ms for records and handle them. A signal ends the wait
 * early (not an error). Returns 0 or -1 with an error in r->d. */
int ring_poll(struct hq_run *r, int timeout_ms);
/* Handle every record already in the buffer, without waiting. */
int ring_drain(struct hq_run *r);
void ring_close(struct hq_run *r);

/* True when every query logs and each has reached its `limit`. */
bool ring_limits_reached(const struct hq_run *r);

#endif
