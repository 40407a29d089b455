/* output_json.c — the JSON Lines formatter (-o json).
 *
 * Owns the JSON schema of docs/OUTPUT.md: one object per line, of "type"
 * log, group, count or loss. Keys are the plan's slot and aggregate labels;
 * numbers are JSON numbers, addresses and strings JSON strings (valid UTF-8:
 * a byte that is not part of a valid UTF-8 sequence is written as the code
 * point of the same value, \u00XX), absent keys null, absent log fields left
 * out.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "output_priv.h"

/* --- JSON primitives --------------------------------------------------------- */

static void out_json_byte_escape(FILE *f, uint8_t c)
{
	switch (c) {
	case '"':
		fputs("\\\"", f);
		break;
	case '\\':
		fputs("\\\\", f);
		break;
	case '\b':
		fputs("\\b", f);
		break;
	case '\f':
		fputs("\\f", f);
		break;
	case '\n':
		fputs("\\n", f);
		break;
	case '\r':
		fputs("\\r", f);
		break;
	case '\t':
		fputs("\\t", f);
		break;
	default:
		if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static void out_json_string_n(FILE *f, const uint8_t *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		int u = value_utf8_len(s + i, n - i);
		if (u > 1) {
			fwrite(s + i, 1, (size_t)u, f);
			i += (size_t)u;
		} else {
			out_json_byte_escape(f, s[i++]);
		}
	}
	fputc('"', f);
}

static void out_json_string(FILE *f, const char *s)
{
	out_json_string_n(f, (const uint8_t *)s, strlen(s));
}

static void out_json_key(FILE *f, const char *key)
{
	fputc(',', f);
	out_json_string(f, key);
	fputc(':', f);
}

/* {"type":"…","query":"…","ts":"…" — the object is left open. */
static void out_json_open(FILE *f, const char *type, const struct hq_qplan *qp, uint64_t ts)
{
	char rfc[48];
	out_fmt_rfc3339(rfc, sizeof(rfc), ts);
	fputs("{\"type\":", f);
	out_json_string(f, type);
	if (qp) {
		out_json_key(f, "query");
		out_json_string(f, out_query_name(qp));
	}
	out_json_key(f, "ts");
	out_json_string(f, rfc);
}

static void out_json_u64(FILE *f, const char *key, uint64_t v)
{
	out_json_key(f, key);
	fprintf(f, "%llu", (unsigned long long)v);
}

/* --- values ------------------------------------------------------------------- */

static void out_json_slot(FILE *f, const struct hq_slot *s, const uint8_t *bytes)
{
	char buf[OUT_VALUE_MAX];
	uint64_t v;
	switch (s->type) {
	case HQ_T_UINT:
		memcpy(&v, bytes, sizeof(v));
		fprintf(f, "%llu", (unsigned long long)v);
		break;
	case HQ_T_BOOL:
		memcpy(&v, bytes, sizeof(v));
		fputs(v ? "true" : "false", f);
		break;
	case HQ_T_STR:
		out_json_string_n(f, bytes, value_str_len(s, bytes));
		break;
	default:
		value_format(buf, sizeof(buf), s, bytes, false);
		out_json_string(f, buf);
	}
}

static void out_json_bound(FILE *f, const struct out_bucket *b, bool hi)
{
	char buf[32];
	if (hi ? b->hi_inf : b->lo_inf) {
		fputs("null", f);
		return;
	}
	out_bound_str(buf, sizeof(buf), b, hi);
	fputs(buf, f);
}

/* [{"min":0,"max":0,"count":1},…]: the non-empty buckets, bounds inclusive,
 * null for the open side of lhist's under/overflow buckets. */
static void out_json_hist(FILE *f, const struct hq_agg_slot *a, const uint64_t *counts)
{
	struct out_bucket b;
	bool first = true;
	unsigned n = counts ? a->n_buckets : 0;
	fputc('[', f);
	for (unsigned i = 0; i < n; i++) {
		if (!counts[i])
			continue;
		out_bucket_get(a, counts, i, &b);
		fputs(first ? "{\"min\":" : ",{\"min\":", f);
		out_json_bound(f, &b, false);
		fputs(",\"max\":", f);
		out_json_bound(f, &b, true);
		fprintf(f, ",\"count\":%llu}", (unsigned long long)b.count);
		first = false;
	}
	fputc(']', f);
}

static void out_json_agg(FILE *f, const struct hq_agg_slot *a, const struct hq_agg_value *v)
{
	char buf[64];
	if (out_agg_is_hist(a))
		out_json_hist(f, a, v->buckets);
	else if (out_agg_scalar(buf, sizeof(buf), a, v, false))
		fputs(buf, f);
	else
		fputs("null", f);
}

/* --- records ------------------------------------------------------------------ */

static void out_json_log_record(struct hq_output *o, const struct hq_qplan *qp,
                                const struct hq_rec_hdr *hdr, const uint8_t *rec, uint64_t ts)
{
	const uint8_t *present = out_rec_present(rec);
	FILE *f = o->out;
	out_json_open(f, "log", qp, ts);
	for (int i = 0; i < qp->n_fields; i++) {
		const struct hq_slot *s = &qp->fields[i];
		if (!value_present(present, s->present_bit))
			continue;
		out_json_key(f, s->label);
		out_json_slot(f, s, rec + s->off);
	}
	fputs("}\n", f);
}

static void out_json_group_row(FILE *f, const struct hq_qplan *qp, const struct hq_group_row *row,
                               uint64_t ts)
{
	out_json_open(f, "group", qp, ts);
	for (int i = 0; i < qp->n_keys; i++) {
		const struct hq_slot *s = &qp->keys[i];
		out_json_key(f, s->label);
		if (value_present(row->key, s->present_bit))
			out_json_slot(f, s, row->key + s->off);
		else
			fputs("null", f);
	}
	for (int i = 0; i < qp->n_aggs; i++) {
		if (qp->aggs[i].hidden)
			continue;
		out_json_key(f, qp->aggs[i].label);
		out_json_agg(f, &qp->aggs[i], &row->aggs[i]);
	}
	fputs("}\n", f);
}

static void out_json_group_table(struct hq_output *o, const struct hq_qplan *qp,
                                 const struct hq_group_row *rows, int n_rows, uint64_t interval_ts)
{
	for (int r = 0; r < n_rows; r++)
		out_json_group_row(o->out, qp, &rows[r], interval_ts);
}

static void out_json_count(struct hq_output *o, const struct hq_qplan *qp, uint64_t n,
                           uint64_t interval_ts)
{
	out_json_open(o->out, "count", qp, interval_ts);
	out_json_u64(o->out, "count", n);
	fputs("}\n", o->out);
}

static void out_json_loss(struct hq_output *o, const struct hq_loss *l, uint64_t interval_ts)
{
	FILE *f = o->out;
	out_json_open(f, "loss", NULL, interval_ts);
	out_json_u64(f, "packets", l->packets);
	out_json_u64(f, "ringbuf_drops", l->rb_drops);
	out_json_u64(f, "map_full", l->map_full);
	out_json_u64(f, "rate_limited", l->rate_drops);
	out_json_u64(f, "truncated", l->truncated);
	out_json_u64(f, "skipped_frames", l->skipped_frames);
	out_json_key(f, "total");
	fputs(l->total ? "true" : "false", f);
	fputs("}\n", f);
}

static void out_json_flush(struct hq_output *o)
{
	fflush(o->out);
}

static void out_json_destroy(struct hq_output *o)
{
	fflush(o->out);
	free(o);
}

static const struct hq_output_ops out_json_ops = {
    .log_record = out_json_log_record,
    .group_table = out_json_group_table,
    .count = out_json_count,
    .loss = out_json_loss,
    .flush = out_json_flush,
    .destroy = out_json_destroy,
};

struct hq_output *out_json_new(void)
{
	struct hq_output *o = calloc(1, sizeof(*o));
	if (o)
		o->ops = &out_json_ops;
	return o;
}
