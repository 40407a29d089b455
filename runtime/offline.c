/* offline.c — replays a capture through hq_xdp with BPF_PROG_TEST_RUN.
 *
 * Before each frame the runtime sets hq_meta (offline = 1, capture time,
 * wire length, frame number), so pkt.* fields match the capture, and after
 * it drains the ring buffer, so log records come out in frame order.
 * `every` intervals follow capture time. The kernel copies at most one page
 * minus XDP headroom and skb_shared_info into the test frame (3520 bytes on
 * x86-64); a larger frame is cut to that, keeping its wire length.
 * Long runs draw a progress bar on a terminal (progress.h); a --metrics
 * scrape is answered between frames. */
#include <errno.h>
#include <string.h>

#include "lazylib.h"
#include "offline.h"
#include "metrics.h"
#include "pcapw.h"
#include "progress.h"
#include "reader_ring.h"
#include "reader_stats.h"
#include "results.h"

#define OFFLINE_MAX_FRAME 3520
#define ETH_HLEN_MIN      14

static pcap_t *offline_open(const struct hq_pcap *P, const char *path, struct hq_diag *d)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p =
	    P->pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p) {
		size_t n = strlen(path);
		const char *why =
		    !strncmp(err, path, n) && !strncmp(err + n, ": ", 2) ? err + n + 2 : err;
		diag_errorf(d, "cannot read capture %s: %s", path, why);
		return NULL;
	}
	int dlt = P->pcap_datalink(p);
	if (dlt != DLT_EN10MB) {
		const char *name = P->pcap_datalink_val_to_name(dlt);
		const char *desc = P->pcap_datalink_val_to_description(dlt);
		diag_errorf(d,
		            "%s: link type %s (%s) is not supported; hdrq reads Ethernet "
		            "captures (link type EN10MB)",
		            path, name ? name : "?", desc ? desc : "unknown");
		P->pcap_close(p);
		return NULL;
	}
	return p;
}

/* Run one frame; -1 on a failure that makes going on pointless. */
static int offline_frame(struct hq_run *r, const struct pcap_pkthdr *h, const uint8_t *data,
                         uint64_t num, uint64_t ts)
{
	struct hq_meta meta = {.offline = 1,
	                       .ts_ns = ts,
	                       .wire_len = h->len,
	                       .ifindex = 0,
	                       .num = num,
	                       .cap_len = h->caplen};
	uint32_t size = h->caplen < OFFLINE_MAX_FRAME ? h->caplen : OFFLINE_MAX_FRAME;
	r->frame_matched = false;
	int err = loader_test_run(r->ld, &meta, data, size);
	if (err)
		return diag_errorf(r->d, "BPF_PROG_TEST_RUN failed on frame %llu: %s",
		                   (unsigned long long)num, strerror(-err));
	if (ring_drain(r))
		return -1;
	if (r->pw && r->frame_matched)
		pcapw_write(r->pw, ts, data, h->caplen, h->len);
	return 0;
}

static bool offline_should_stop(struct hq_run *r, volatile sig_atomic_t *signalled)
{
	if (*signalled || r->stop)
		return true;
	if (ring_limits_reached(r))
		return true;
	if (ferror(r->out->out)) {
		r->epipe = true;
		return true;
	}
	return r->opt->count && run_matched(r) >= r->opt->count;
}

/* One frame of the loop: 0 go on, 1 stop (-d reached), -1 failed. */
static int offline_step(struct hq_run *r, const struct pcap_pkthdr *h, const u_char *data,
                        uint64_t num, uint64_t *first_ts, uint64_t *last_ts)
{
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
	if (num == 1) {
		*first_ts = ts;
		results_free(r);
		if (results_start(r, ts))
			return -1;
	}
	/* -d counts capture time offline */
	if (r->opt->duration && ts > *first_ts &&
	    ts - *first_ts >= (uint64_t)(r->opt->duration * 1e9))
		return 1;
	*last_ts = ts;
	if (results_tick(r, ts))
		return -1;
	if (h->caplen < ETH_HLEN_MIN) {
		r->skipped_frames++; /* the kernel refuses frames shorter than Ethernet */
		return 0;
	}
	return offline_frame(r, h, data, num, ts);
}

static int offline_loop(struct hq_run *r, const struct hq_pcap *P, pcap_t *p, const char *path,
                        volatile sig_atomic_t *signalled, uint64_t *last_ts)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t num = 0, first_ts = 0;
	int rc = 0, step = 0;
	struct hq_progress bar;
	progress_start(&bar, P->pcap_file(p), stderr, r->opt->progress);
	while (!step && !offline_should_stop(r, signalled) &&
	       (rc = P->pcap_next_ex(p, &h, &data)) == 1) {
		progress_update(&bar, num);
		metrics_service(r->metrics, r, false);
		step = offline_step(r, h, data, ++num, &first_ts, last_ts);
	}
	progress_end(&bar);
	if (step < 0)
		return -1;
	if (rc == -1)
		diag_warning(r->d, NULL, (struct hq_span){0}, "%s: %s (after frame %llu)", path,
		             P->pcap_geterr(p), (unsigned long long)num);
	return 0;
}

int offline_run(struct hq_run *r, const char *path, volatile sig_atomic_t *signalled)
{
	const struct hq_pcap *P = lazy_pcap(r->d);
	pcap_t *p = P ? offline_open(P, path, r->d) : NULL;
	if (!p)
		return -1;
	uint64_t last_ts = 0;
	r->offline = true;
	int rc = results_start(r, 0);
	if (!rc)
		rc = offline_loop(r, P, p, path, signalled, &last_ts);
	P->pcap_close(p);
	if (!rc && !r->epipe)
		rc = results_final(r, last_ts);
	return rc;
}
