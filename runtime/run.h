/* run.h — the state of one run, shared by the driver, the readers (ring
 * buffer, groups, counters), offline mode and the pcap writer.
 *
 * Timestamps handed to the output are epoch ns: live records carry
 * CLOCK_MONOTONIC (bpf_ktime_get_ns) and get `wall_off` added; offline
 * records already carry the capture time.
 */
#ifndef HQ_RUN_H
#define HQ_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "../codegen/plan.h"
#include "loader.h"
#include "options.h"
#include "output.h"

struct ring_buffer;
struct hq_pcapw;
struct hq_anon;
struct hq_metrics;
struct hq_group_dump;
struct hq_group_row;

struct hq_run {
	const struct hq_options *opt;
	const struct hq_plan *plan;
	struct hq_output *out;
	struct hq_loaded *ld;
	struct hq_pcapw *pw;        /* -w, or NULL */
	struct hq_anon *anon;       /* --anonymize, or NULL */
	struct hq_metrics *metrics; /* --metrics, or NULL */
	uint8_t *rec_buf;           /* --anonymize: a log record's writable copy */
	size_t rec_buf_size;
	/* Hooks of the group reader (NULL: none), set by the driver so that the
	 * reader needs neither anon.c nor metrics.c: rewrite the address keys of
	 * a dump (--anonymize), and hand rows read with a reset to --metrics. */
	void (*anon_keys)(struct hq_run *r, const struct hq_qplan *qp, struct hq_group_dump *g);
	void (*retire)(struct hq_run *r, int q, const struct hq_group_row *rows, int n);
	struct hq_diag *d;
	int ncpus;
	bool offline;
	int64_t wall_off; /* live: epoch ns = kernel ns + wall_off */

	/* ring buffer */
	struct ring_buffer *rb;
	uint64_t *q_logged;   /* log records handed to the output, per query */
	uint64_t log_matched; /* log records seen (for -c) */
	uint64_t bad_records; /* records too short / unknown query (compiler bug) */
	bool frame_matched;   /* offline: a record arrived for the current frame */
	uint64_t rb_seen;     /* records handled, all queries */
	uint64_t rb_deadline; /* CLOCK_MONOTONIC ns: end the current poll after it */

	/* intervals (`every`): end of the current interval, per query (epoch ns) */
	uint64_t *q_next;
	uint64_t *q_count_prev; /* counting queries: counter at the last interval */
	struct hq_loss loss_prev;
	uint64_t skipped_frames; /* offline: frames we could not run */

	bool stop;  /* -c reached, every `limit` reached, or stdout closed */
	bool epipe; /* stdout went away: stop quietly */
};

/* Sum of per-query match counters of the queries that do not log (log
 * queries are counted record by record in log_matched). */
uint64_t run_matched(struct hq_run *r);

#endif
