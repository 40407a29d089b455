/* metrics.h — `--metrics ADDR:PORT`: /metrics in the Prometheus text
 * exposition format (version 0.0.4), served by libmicrohttpd.
 *
 * Threads: libmicrohttpd answers on its own thread; only the run's main
 * loop reads BPF maps. A scrape raises a flag and waits (at most
 * METRICS_WAIT_MS) for the main loop, which sees the flag at its next turn
 * (live: within a poll, 100 ms at most; offline: the next frame; --linger:
 * 50 ms), renders the exposition from the maps and hands it over under a
 * mutex. A scrape that the main loop does not answer in time (it is busy
 * loading, or a flood holds it) gets the last rendering. So every value
 * served was read for that scrape, or is at most one scrape old.
 *
 * Families (see docs/OUTPUT.md): per query hdrq_<query>_<aggregate> with
 * the group keys as labels — count() and sum() counters (`_total`),
 * hist()/lhist() histograms, the rest gauges; counting queries
 * hdrq_<query>_packets_total; log queries hdrq_<query>_records_total. Group
 * maps that `every` resets are carried over: counters and histograms keep
 * growing across intervals (what was reported is retired into a running
 * total, metrics_retire), gauges show the current interval, else the last.
 * Health: hdrq_packets_total, hdrq_ringbuf_drops_total,
 * hdrq_map_full_drops_total, hdrq_rate_limited_total,
 * hdrq_truncated_packets_total, hdrq_skipped_frames_total, hdrq_build_info.
 */
#ifndef HQ_METRICS_H
#define HQ_METRICS_H

#include <signal.h>
#include <stdbool.h>

#include "run.h"

struct hq_metrics;

/* Listen on ADDR:PORT and start serving (the exposition is empty until the
 * first metrics_service). Prints "hdrq: metrics on http://…/metrics" on
 * stderr (with the port picked when PORT is 0). NULL with an error in d. */
struct hq_metrics *metrics_start(const char *listen, const struct hq_plan *plan, struct hq_diag *d);
/* Main loop: render for a waiting scrape (or when `force`). Cheap when no
 * scrape is waiting. */
void metrics_service(struct hq_metrics *m, struct hq_run *r, bool force);
/* A reset read of query q's groups (an `every` interval ended): add them
 * to the running totals. */
void metrics_retire(struct hq_metrics *m, int q, const struct hq_group_row *rows, int n);
/* Keep serving for `seconds` (--linger), answering scrapes, until then or a
 * signal. */
void metrics_linger(struct hq_metrics *m, struct hq_run *r, double seconds,
                    volatile sig_atomic_t *signalled);
void metrics_stop(struct hq_metrics *m);

#endif
