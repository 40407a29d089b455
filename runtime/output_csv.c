/* output_csv.c — the CSV formatter (-o csv).
 *
 * Owns the CSV schema of docs/OUTPUT.md: RFC 4180 quoting (a field holding
 * a comma, quote, CR or LF is quoted, quotes doubled), records ending in LF,
 * a header row before the first row of each query, absent values as empty
 * fields, histograms as one quoted "lo-hi:count;…" field. Output is valid
 * UTF-8 (a stray byte becomes the code point of the same value). Losses go
 * to stderr as in text mode.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "output_priv.h"

struct out_csv {
	struct hq_output base;
	bool *header_done; /* by query id */
	int n_header;
	struct out_loss_state loss;
};

static struct out_csv *out_csv_of(struct hq_output *o)
{
	return (struct out_csv *)o;
}

/* --- CSV primitives ------------------------------------------------------------ */

static bool out_csv_needs_quotes(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

static void out_csv_byte(FILE *f, uint8_t c)
{
	if (c == '"')
		fputs("\"\"", f);
	else if (c >= 0x80) /* not valid UTF-8: U+0080..U+00FF */
		fprintf(f, "%c%c", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
	else
		fputc(c, f);
}

static void out_csv_field_n(FILE *f, bool first, const uint8_t *s, size_t n, bool force_quote)
{
	bool quote = force_quote || out_csv_needs_quotes(s, n);
	if (!first)
		fputc(',', f);
	if (quote)
		fputc('"', f);
	for (size_t i = 0; i < n;) {
		int u = value_utf8_len(s + i, n - i);
		if (u > 1) {
			fwrite(s + i, 1, (size_t)u, f);
			i += (size_t)u;
		} else {
			out_csv_byte(f, s[i++]);
		}
	}
	if (quote)
		fputc('"', f);
}

static void out_csv_field(FILE *f, bool first, const char *s)
{
	out_csv_field_n(f, first, (const uint8_t *)s, strlen(s), false);
}

/* Header row before a query's first row. */
static bool out_csv_want_header(struct out_csv *c, const struct hq_qplan *qp)
{
	int id = qp->id < 0 ? 0 : qp->id;
	if (id >= c->n_header) {
		bool *n = realloc(c->header_done, (size_t)(id + 1) * sizeof(*n));
		if (!n)
			return false;
		memset(n + c->n_header, 0, (size_t)(id + 1 - c->n_header) * sizeof(*n));
		c->header_done = n;
		c->n_header = id + 1;
	}
	if (c->header_done[id])
		return false;
	c->header_done[id] = true;
	return true;
}

/* ts,query — the first two fields of every row. */
static void out_csv_row_start(FILE *f, const struct hq_qplan *qp, uint64_t ts)
{
	char rfc[48];
	out_fmt_rfc3339(rfc, sizeof(rfc), ts);
	out_csv_field(f, true, rfc);
	out_csv_field(f, false, out_query_name(qp));
}

static void out_csv_slot(FILE *f, const struct hq_slot *s, const uint8_t *bytes)
{
	char buf[OUT_VALUE_MAX];
	if (s->type == HQ_T_STR) {
		out_csv_field_n(f, false, bytes, value_str_len(s, bytes), false);
		return;
	}
	value_format(buf, sizeof(buf), s, bytes, false);
	out_csv_field(f, false, buf);
}

/* --- log records ---------------------------------------------------------------- */

static void out_csv_log_header(FILE *f, const struct hq_qplan *qp)
{
	out_csv_field(f, true, "ts");
	out_csv_field(f, false, "query");
	for (int i = 0; i < qp->n_fields; i++)
		out_csv_field(f, false, qp->fields[i].label);
	fputc('\n', f);
}

static void out_csv_log_record(struct hq_output *o, const struct hq_qplan *qp,
                               const struct hq_rec_hdr *hdr, const uint8_t *rec, uint64_t ts)
{
	const uint8_t *present = out_rec_present(rec);
	FILE *f = o->out;
	if (out_csv_want_header(out_csv_of(o), qp))
		out_csv_log_header(f, qp);
	out_csv_row_start(f, qp, ts);
	for (int i = 0; i < qp->n_fields; i++) {
		const struct hq_slot *s = &qp->fields[i];
		if (value_present(present, s->present_bit))
			out_csv_slot(f, s, rec + s->off);
		else
			out_csv_field(f, false, "");
	}
	fputc('\n', f);
}

/* --- groups ------------------------------------------------------------------------ */

static void out_csv_group_header(FILE *f, const struct hq_qplan *qp)
{
	out_csv_field(f, true, "ts");
	out_csv_field(f, false, "query");
	for (int i = 0; i < qp->n_keys; i++)
		out_csv_field(f, false, qp->keys[i].label);
	for (int i = 0; i < qp->n_aggs; i++)
		if (!qp->aggs[i].hidden)
			out_csv_field(f, false, qp->aggs[i].label);
	fputc('\n', f);
}

/* "0-0:1;2-3:4", lhist under/overflow as "<10:3" and ">=100:5". */
static void out_csv_hist(FILE *f, const struct hq_agg_slot *a, const uint64_t *counts)
{
	char *buf = NULL, lo[32], hi[32];
	size_t len = 0;
	struct out_bucket b;
	unsigned n = counts ? a->n_buckets : 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m) {
		out_csv_field(f, false, "");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		if (!counts[i])
			continue;
		out_bucket_get(a, counts, i, &b);
		out_bound_str(lo, sizeof(lo), &b, false);
		out_bound_str(hi, sizeof(hi), &b, true);
		if (ftell(m))
			fputc(';', m);
		if (b.lo_inf)
			fprintf(m, "<%lld", (long long)a->lmin);
		else if (b.hi_inf)
			fprintf(m, ">=%s", lo);
		else
			fprintf(m, "%s-%s", lo, hi);
		fprintf(m, ":%llu", (unsigned long long)b.count);
	}
	fclose(m);
	out_csv_field_n(f, false, (const uint8_t *)buf, len, true);
	free(buf);
}

static void out_csv_group_row(FILE *f, const struct hq_qplan *qp, const struct hq_group_row *row,
                              uint64_t ts)
{
	char buf[64];
	out_csv_row_start(f, qp, ts);
	for (int i = 0; i < qp->n_keys; i++) {
		const struct hq_slot *s = &qp->keys[i];
		if (value_present(row->key, s->present_bit))
			out_csv_slot(f, s, row->key + s->off);
		else
			out_csv_field(f, false, "");
	}
	for (int i = 0; i < qp->n_aggs; i++) {
		const struct hq_agg_slot *a = &qp->aggs[i];
		if (a->hidden)
			continue;
		if (out_agg_is_hist(a)) {
			out_csv_hist(f, a, row->aggs[i].buckets);
			continue;
		}
		if (!out_agg_scalar(buf, sizeof(buf), a, &row->aggs[i], false))
			buf[0] = '\0';
		out_csv_field(f, false, buf);
	}
	fputc('\n', f);
}

static void out_csv_group_table(struct hq_output *o, const struct hq_qplan *qp,
                                const struct hq_group_row *rows, int n_rows, uint64_t interval_ts)
{
	if (out_csv_want_header(out_csv_of(o), qp))
		out_csv_group_header(o->out, qp);
	for (int r = 0; r < n_rows; r++)
		out_csv_group_row(o->out, qp, &rows[r], interval_ts);
}

/* --- counts, losses ------------------------------------------------------------------ */

static void out_csv_count(struct hq_output *o, const struct hq_qplan *qp, uint64_t n,
                          uint64_t interval_ts)
{
	char buf[24];
	FILE *f = o->out;
	if (out_csv_want_header(out_csv_of(o), qp)) {
		out_csv_field(f, true, "ts");
		out_csv_field(f, false, "query");
		out_csv_field(f, false, "count");
		fputc('\n', f);
	}
	out_csv_row_start(f, qp, interval_ts);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);
	out_csv_field(f, false, buf);
	fputc('\n', f);
}

static void out_csv_loss(struct hq_output *o, const struct hq_loss *l, uint64_t interval_ts)
{
	fflush(o->out);
	out_loss_line(o->err, &out_csv_of(o)->loss, l);
}

static void out_csv_flush(struct hq_output *o)
{
	fflush(o->out);
}

static void out_csv_destroy(struct hq_output *o)
{
	struct out_csv *c = out_csv_of(o);
	fflush(o->out);
	out_loss_summary(o->err, &c->loss);
	free(c->header_done);
	free(c);
}

static const struct hq_output_ops out_csv_ops = {
    .log_record = out_csv_log_record,
    .group_table = out_csv_group_table,
    .count = out_csv_count,
    .loss = out_csv_loss,
    .flush = out_csv_flush,
    .destroy = out_csv_destroy,
};

struct hq_output *out_csv_new(void)
{
	struct out_csv *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->base.ops = &out_csv_ops;
	return &c->base;
}
