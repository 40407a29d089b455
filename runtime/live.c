/* live.c — the live run loop: poll the ring buffer with a short timeout,
 * end `every` intervals on time, watch -c / -d / limits / signals / a
 * closed stdout, then detach and print the final results. */
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "live.h"
#include "metrics.h"
#include "pcapw.h"
#include "reader_ring.h"
#include "reader_stats.h"
#include "results.h"
#include "sys.h"

#define LIVE_POLL_MS       100
#define LIVE_POLL_COUNT_MS 20 /* -c on counters: stop closer to N */
#define LIVE_PCAP_FLUSH_NS 1000000000ull

/* The run clock: CLOCK_MONOTONIC moved to the epoch, as records are. */
static uint64_t live_now(const struct hq_run *r)
{
	return sys_mono_ns() + (uint64_t)r->wall_off;
}

static bool live_counts_counters(const struct hq_run *r)
{
	if (!r->opt->count)
		return false;
	for (int q = 0; q < r->plan->n_qplans; q++)
		if (r->plan->qplans[q].q->action != HQ_ACT_LOG)
			return true;
	return false;
}

static int live_timeout_ms(const struct hq_run *r, uint64_t now, uint64_t end)
{
	uint64_t next = results_next_deadline(r);
	if (end < next)
		next = end;
	int cap = live_counts_counters(r) ? LIVE_POLL_COUNT_MS : LIVE_POLL_MS;
	if (next <= now)
		return 0;
	uint64_t ms = (next - now + 999999) / 1000000;
	return ms < (uint64_t)cap ? (int)ms : cap;
}

static void live_banner(const struct hq_run *r, const struct hq_hooks *h)
{
	if (!isatty(STDERR_FILENO))
		return;
	char buf[512];
	hook_describe(h, buf, sizeof(buf));
	fprintf(stderr, "hdrq: watching %s; Ctrl-C to stop\n", buf);
}

static bool live_should_stop(struct hq_run *r, volatile sig_atomic_t *signalled)
{
	if (*signalled || r->stop)
		return true;
	if (ferror(r->out->out)) {
		r->epipe = true;
		return true;
	}
	if (ring_limits_reached(r))
		return true;
	return live_counts_counters(r) && run_matched(r) >= r->opt->count;
}

/* An interface hdrq is attached to went away (veth deleted, driver
 * unbound): its name, or NULL. */
static const char *live_lost_iface(const struct hq_hooks *h)
{
	char name[IF_NAMESIZE];
	for (int i = 0; i < h->n; i++)
		if (h->v[i].attached && !if_indextoname((unsigned)h->v[i].ifindex, name))
			return h->v[i].ifname;
	return NULL;
}

static int live_loop(struct hq_run *r, const struct hq_hooks *h, const char **lost,
                     volatile sig_atomic_t *signalled)
{
	uint64_t now = live_now(r);
	uint64_t end = r->opt->duration ? now + (uint64_t)(r->opt->duration * 1e9) : UINT64_MAX;
	if (results_start(r, now))
		return -1;
	uint64_t flushed = now;
	while (!live_should_stop(r, signalled) && now < end) {
		int ms = live_timeout_ms(r, now, end);
		int rc = r->rb ? ring_poll(r, ms) : (poll(NULL, 0, ms), 0);
		if (rc)
			return -1;
		now = live_now(r);
		if ((*lost = live_lost_iface(h)))
			break;
		if (results_tick(r, now))
			return -1;
		fflush(r->out->out); /* this poll's records and interval results */
		metrics_service(r->metrics, r, false);
		if (r->pw && now - flushed >= LIVE_PCAP_FLUSH_NS) { /* -w file readable meanwhile */
			if (pcapw_flush(r->pw, r->d))
				return -1;
			flushed = now;
		}
	}
	return 0;
}

static void *live_detach_thread(void *h)
{
	hook_detach_all(h);
	return NULL;
}

/* End the run's counting, then detach. Programs running on another CPU
 * when counting ends still finish, within an RCU grace period: their last
 * records and counters land before the final read. With hq_meta.stopped
 * set first, that one grace period is all the final read waits for, and
 * the detaches (each of which may wait for a grace period of its own in
 * the kernel) go on meanwhile in a thread. Without it, detach, then wait
 * unless the detach did. */
static void live_stop(struct hq_run *r, struct hq_hooks *h)
{
	pthread_t t;
	if (loader_stop(r->ld) && !pthread_create(&t, NULL, live_detach_thread, h)) {
		sys_wait_programs_done();
		pthread_join(t, NULL);
		return;
	}
	if (!hook_detach_all(h))
		sys_wait_programs_done();
}

int live_run(struct hq_run *r, struct hq_hooks *h, volatile sig_atomic_t *signalled)
{
	r->wall_off = sys_mono_to_wall_offset();
	/* whole buffers, flushed after each poll: records still show up in a
	 * pipe within a poll (at most LIVE_POLL_MS), and a flood of them costs
	 * one write per poll instead of one per record */
	setvbuf(r->out->out, NULL, _IOFBF, 1u << 16);
	if (r->d->n && !diag_has_errors(r->d)) { /* warnings (e.g. an XDP program in place) */
		diag_print(r->d, stderr, isatty(STDERR_FILENO));
		diag_init(r->d);
	}
	live_banner(r, h);
	const char *lost = NULL;
	int rc = live_loop(r, h, &lost, signalled);
	live_stop(r, h);
	if (!rc)
		rc = ring_drain(r);
	if (!rc && !r->epipe)
		rc = results_final(r, live_now(r));
	if (ferror(r->out->out))
		r->epipe = true;
	if (!rc && lost) /* the results so far are out; now say why the run ended */
		rc = diag_errorf(r->d,
		                 "interface '%s' disappeared during the run; results above "
		                 "cover the time until then",
		                 lost);
	return rc;
}
