/* output.c — output_new() and the helpers the three formatters share.
 *
 * Owns the choice of formatter (one vtable per enum hq_format), time stamp
 * forms (local clock for text, RFC 3339 UTC for JSON/CSV), the rendering of
 * scalar aggregates, histogram bucket bounds (plan.h: hist bucket 0 holds 0,
 * bucket k holds [2^(k-1), 2^k); lhist bucket 0 is below lmin, the last one
 * at or above lmax) and the stderr loss lines of text and CSV output.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "output_priv.h"

struct hq_output *output_new(enum hq_format fmt, const struct hq_plan *plan, FILE *out, FILE *err)
{
	struct hq_output *o;
	switch (fmt) {
	case HQ_FMT_JSON:
		o = out_json_new();
		break;
	case HQ_FMT_CSV:
		o = out_csv_new();
		break;
	case HQ_FMT_TEXT:
	default:
		o = out_text_new();
		break;
	}
	if (!o)
		return NULL;
	o->plan = plan;
	o->out = out;
	o->err = err;
	return o;
}

/* --- time stamps ----------------------------------------------------------- */

void out_fmt_clock(char *buf, size_t len, uint64_t ts_ns, bool usec)
{
	time_t sec = (time_t)(ts_ns / 1000000000u);
	struct tm tm;
	localtime_r(&sec, &tm);
	if (usec)
		snprintf(buf, len, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		         (unsigned)(ts_ns % 1000000000u / 1000u));
	else
		snprintf(buf, len, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void out_fmt_rfc3339(char *buf, size_t len, uint64_t ts_ns)
{
	time_t sec = (time_t)(ts_ns / 1000000000u);
	struct tm tm;
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ts_ns % 1000000000u));
}

void out_fmt_double(char *buf, size_t len, double d)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

/* --- queries and records ------------------------------------------------------ */

const char *out_query_name(const struct hq_qplan *qp)
{
	if (qp->q && qp->q->name)
		return qp->q->name;
	return qp->name;
}

bool out_multi_query(const struct hq_output *o)
{
	return o->plan && o->plan->n_qplans > 1;
}

bool out_query_every(const struct hq_qplan *qp)
{
	return qp->q && qp->q->every_ns;
}

const uint8_t *out_rec_present(const uint8_t *rec)
{
	return rec + sizeof(struct hq_rec_hdr);
}

/* --- aggregates ------------------------------------------------------------- */

bool out_agg_is_hist(const struct hq_agg_slot *a)
{
	return a->kind == HQ_AGG_HIST || a->kind == HQ_AGG_LHIST;
}

bool out_agg_scalar(char *buf, size_t len, const struct hq_agg_slot *a,
                    const struct hq_agg_value *v, bool human)
{
	buf[0] = '\0';
	switch (a->kind) {
	case HQ_AGG_AVG:
		if (!v->valid)
			return false;
		if (human)
			snprintf(buf, len, "%.2f", v->avg);
		else
			out_fmt_double(buf, len, v->avg);
		return true;
	case HQ_AGG_MIN:
	case HQ_AGG_MAX:
		if (!v->valid)
			return false;
		/* fall through */
	default:
		snprintf(buf, len, "%llu", (unsigned long long)v->u);
		return true;
	}
}

static void out_bucket_hist(unsigned i, struct out_bucket *b)
{
	if (i == 0) {
		b->lo = b->hi = 0;
		return;
	}
	b->lo = (uint64_t)1 << (i - 1);
	b->hi = i >= 64 ? UINT64_MAX : ((uint64_t)1 << i) - 1;
}

static void out_bucket_lhist(const struct hq_agg_slot *a, unsigned i, struct out_bucket *b)
{
	int64_t lo, hi;
	b->is_signed = true;
	if (i == 0) {
		b->lo_inf = true;
		hi = a->lmin - 1;
		memcpy(&b->hi, &hi, sizeof(hi));
		return;
	}
	if (i + 1 >= a->n_buckets) {
		b->hi_inf = true;
		memcpy(&b->lo, &a->lmax, sizeof(a->lmax));
		return;
	}
	lo = a->lmin + (int64_t)(i - 1) * a->lstep;
	hi = lo + a->lstep;
	if (hi > a->lmax)
		hi = a->lmax;
	hi--;
	memcpy(&b->lo, &lo, sizeof(lo));
	memcpy(&b->hi, &hi, sizeof(hi));
}

void out_bucket_get(const struct hq_agg_slot *a, const uint64_t *counts, unsigned i,
                    struct out_bucket *b)
{
	memset(b, 0, sizeof(*b));
	b->count = counts[i];
	if (a->kind == HQ_AGG_LHIST)
		out_bucket_lhist(a, i, b);
	else
		out_bucket_hist(i, b);
}

bool out_bucket_range(const struct hq_agg_slot *a, const uint64_t *counts, unsigned *first,
                      unsigned *last)
{
	bool any = false;
	for (unsigned i = 0; i < a->n_buckets; i++) {
		if (!counts[i])
			continue;
		if (!any)
			*first = i;
		*last = i;
		any = true;
	}
	return any;
}

void out_bound_str(char *buf, size_t len, const struct out_bucket *b, bool hi)
{
	uint64_t v = hi ? b->hi : b->lo;
	int64_t s;
	memcpy(&s, &v, sizeof(s));
	if (b->is_signed)
		snprintf(buf, len, "%lld", (long long)s);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* --- losses on stderr ---------------------------------------------------------- */

struct out_loss_item {
	uint64_t n;
	const char *what;
};

void out_loss_line(FILE *err, struct out_loss_state *st, const struct hq_loss *l)
{
	const struct out_loss_item items[] = {
	    {l->rb_drops, "log records (ring buffer full)"},
	    {l->rate_drops, "log records (rate limit)"},
	    {l->map_full, "group updates (map full)"},
	    {l->truncated, "packets (truncated before a needed header)"},
	    {l->skipped_frames, "frames (shorter than an Ethernet header)"},
	};
	bool first = true;
	st->seen = true;
	st->packets = l->packets;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		if (!items[i].n)
			continue;
		fprintf(err, "%s %llu %s", first ? "hdrq: lost" : ",",
		        (unsigned long long)items[i].n, items[i].what);
		first = false;
	}
	if (!first)
		fputc('\n', err);
}

void out_loss_summary(FILE *err, const struct out_loss_state *st)
{
	if (st->seen)
		fprintf(err, "hdrq: %llu packet%s seen\n", (unsigned long long)st->packets,
		        st->packets == 1 ? "" : "s");
}
