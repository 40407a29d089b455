/* output_text.c — the human formatter (-o text, the default).
 *
 * Owns: log lines ("07:53:00.123456 10.0.0.1:443 > 10.0.0.2:51544 [S.]
 * name=value ..."), aligned group tables, bpftrace-style histogram blocks
 * (drawn by hist.c), "N packets" counts, and loss lines on stderr. Absent
 * values are omitted from log lines and shown as "-" in tables.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "output_priv.h"

struct out_text {
	struct hq_output base;
	bool printed; /* something went to stdout: separate blocks by a blank line */
	struct out_loss_state loss;
};

static struct out_text *out_text_of(struct hq_output *o)
{
	return (struct out_text *)o;
}

/* --- log lines ------------------------------------------------------------------ */

/* Slots that make up the tcpdump-like "src:port > dst:port [flags]" part. */
enum out_text_role {
	OUT_ROLE_NONE = -1,
	OUT_ROLE_SRC,
	OUT_ROLE_DST,
	OUT_ROLE_SPORT,
	OUT_ROLE_DPORT,
	OUT_ROLE_FLAGS,
	OUT_ROLE_N,
};

struct out_text_tuple {
	int slot[OUT_ROLE_N]; /* first present slot of each role, -1 if none */
	bool used[OUT_ROLE_N];
	char val[OUT_ROLE_N][64];
};

/* label is `name` or ends with ".name" (ip.src, inet.src, tcp.src_port) */
static bool out_text_label_is(const char *label, const char *name)
{
	size_t l = strlen(label), n = strlen(name);
	if (l == n)
		return !strcmp(label, name);
	return l > n && label[l - n - 1] == '.' && !strcmp(label + l - n, name);
}

static enum out_text_role out_text_role(const struct hq_slot *s)
{
	bool addr = s->type == HQ_T_IP4 || s->type == HQ_T_IP6 || s->type == HQ_T_INET;
	if (s->field && s->field->fmt && !strcmp(s->field->fmt, "tcpflags"))
		return OUT_ROLE_FLAGS;
	if (addr && out_text_label_is(s->label, "src"))
		return OUT_ROLE_SRC;
	if (addr && out_text_label_is(s->label, "dst"))
		return OUT_ROLE_DST;
	if (s->type == HQ_T_UINT && out_text_label_is(s->label, "src_port"))
		return OUT_ROLE_SPORT;
	if (s->type == HQ_T_UINT && out_text_label_is(s->label, "dst_port"))
		return OUT_ROLE_DPORT;
	return OUT_ROLE_NONE;
}

static void out_text_tuple_find(const struct hq_qplan *qp, const uint8_t *rec,
                                struct out_text_tuple *t)
{
	const uint8_t *present = out_rec_present(rec);
	memset(t, 0, sizeof(*t));
	for (int r = 0; r < OUT_ROLE_N; r++)
		t->slot[r] = -1;
	for (int i = 0; i < qp->n_fields; i++) {
		const struct hq_slot *s = &qp->fields[i];
		enum out_text_role r = out_text_role(s);
		if (r == OUT_ROLE_NONE || t->slot[r] >= 0 ||
		    !value_present(present, s->present_bit))
			continue;
		t->slot[r] = i;
		value_format(t->val[r], sizeof(t->val[r]), s, rec + s->off, true);
	}
	t->used[OUT_ROLE_SRC] = t->used[OUT_ROLE_DST] =
	    t->slot[OUT_ROLE_SRC] >= 0 && t->slot[OUT_ROLE_DST] >= 0;
	t->used[OUT_ROLE_SPORT] = t->used[OUT_ROLE_DPORT] =
	    t->used[OUT_ROLE_SRC] && t->slot[OUT_ROLE_SPORT] >= 0 && t->slot[OUT_ROLE_DPORT] >= 0;
	t->used[OUT_ROLE_FLAGS] = t->slot[OUT_ROLE_FLAGS] >= 0;
}

/* A slot already shown in the tuple part: the one picked, or another one of
 * the same role carrying the same value (ip.src and inet.src in `log *`). */
static bool out_text_in_tuple(const struct out_text_tuple *t, const struct hq_slot *s,
                              const char *val)
{
	enum out_text_role r = out_text_role(s);
	return r != OUT_ROLE_NONE && t->used[r] && !strcmp(t->val[r], val);
}

static void out_text_endpoint(FILE *f, const struct out_text_tuple *t, int addr, int port)
{
	const char *a = t->val[addr];
	if (!t->used[port])
		fputs(a, f);
	else if (strchr(a, ':'))
		fprintf(f, "[%s]:%s", a, t->val[port]);
	else
		fprintf(f, "%s:%s", a, t->val[port]);
}

static void out_text_tuple_print(FILE *f, const struct out_text_tuple *t)
{
	if (t->used[OUT_ROLE_SRC]) {
		fputc(' ', f);
		out_text_endpoint(f, t, OUT_ROLE_SRC, OUT_ROLE_SPORT);
		fputs(" > ", f);
		out_text_endpoint(f, t, OUT_ROLE_DST, OUT_ROLE_DPORT);
	}
	if (t->used[OUT_ROLE_FLAGS])
		fprintf(f, " %s", t->val[OUT_ROLE_FLAGS]);
}

/* name=value; a string that is empty or holds blanks is quoted. */
static void out_text_pair(FILE *f, const struct hq_slot *s, const char *val)
{
	bool quote = s->type == HQ_T_STR && (!*val || strpbrk(val, " =") != NULL);
	fprintf(f, quote ? " %s=\"%s\"" : " %s=%s", s->label, val);
}

static void out_text_log_record(struct hq_output *o, const struct hq_qplan *qp,
                                const struct hq_rec_hdr *hdr, const uint8_t *rec, uint64_t ts)
{
	const uint8_t *present = out_rec_present(rec);
	struct out_text_tuple t;
	char clock[32], val[OUT_VALUE_MAX];
	FILE *f = o->out;

	out_fmt_clock(clock, sizeof(clock), ts, true);
	fputs(clock, f);
	if (out_multi_query(o))
		fprintf(f, " %s:", out_query_name(qp));
	out_text_tuple_find(qp, rec, &t);
	out_text_tuple_print(f, &t);
	for (int i = 0; i < qp->n_fields; i++) {
		const struct hq_slot *s = &qp->fields[i];
		if (!value_present(present, s->present_bit))
			continue;
		value_format(val, sizeof(val), s, rec + s->off, true);
		if (!out_text_in_tuple(&t, s, val))
			out_text_pair(f, s, val);
	}
	fputc('\n', f);
	out_text_of(o)->printed = true;
}

/* --- group tables ------------------------------------------------------------- */

struct out_text_col {
	const char *label;
	int key; /* index into qp->keys, or -1 */
	int agg; /* index into qp->aggs, or -1 */
	bool right;
	int width;
};

struct out_text_table {
	struct out_text_col *cols;
	int n_cols;
	char **cells; /* (n_rows + 1) x n_cols, row 0: labels */
	int n_rows;
};

static void out_text_title(struct out_text *t, const struct hq_qplan *qp, uint64_t ts)
{
	FILE *f = t->base.out;
	char clock[32];
	bool multi = out_multi_query(&t->base), every = out_query_every(qp);
	if (!multi && !every)
		return;
	if (t->printed)
		fputc('\n', f);
	if (every) {
		out_fmt_clock(clock, sizeof(clock), ts, false);
		fputs(clock, f);
		if (multi)
			fprintf(f, " %s", out_query_name(qp));
		fputc('\n', f);
	} else {
		fprintf(f, "%s:\n", out_query_name(qp));
	}
	t->printed = true;
}

static int out_text_cols(const struct hq_qplan *qp, struct out_text_col *cols)
{
	int n = 0;
	for (int i = 0; i < qp->n_keys; i++)
		cols[n++] = (struct out_text_col){qp->keys[i].label, i, -1,
		                                  qp->keys[i].type == HQ_T_UINT, 0};
	for (int i = 0; i < qp->n_aggs; i++)
		if (!qp->aggs[i].hidden && !out_agg_is_hist(&qp->aggs[i]))
			cols[n++] = (struct out_text_col){qp->aggs[i].label, -1, i, true, 0};
	return n;
}

static char *out_text_cell(const struct hq_qplan *qp, const struct out_text_col *c,
                           const struct hq_group_row *row)
{
	char buf[OUT_VALUE_MAX];
	if (c->key >= 0) {
		const struct hq_slot *s = &qp->keys[c->key];
		if (!value_present(row->key, s->present_bit))
			return strdup("-");
		value_format(buf, sizeof(buf), s, row->key + s->off, true);
		return strdup(buf);
	}
	if (!out_agg_scalar(buf, sizeof(buf), &qp->aggs[c->agg], &row->aggs[c->agg], true))
		return strdup("-");
	return strdup(buf);
}

static void out_text_table_build(struct out_text_table *tb, const struct hq_qplan *qp,
                                 const struct hq_group_row *rows, int n_rows)
{
	tb->cols = calloc((size_t)(qp->n_keys + qp->n_aggs + 1), sizeof(*tb->cols));
	tb->n_cols = out_text_cols(qp, tb->cols);
	tb->n_rows = n_rows;
	tb->cells = calloc((size_t)(n_rows + 1) * (size_t)(tb->n_cols + 1), sizeof(char *));
	for (int c = 0; c < tb->n_cols; c++) {
		tb->cells[c] = strdup(tb->cols[c].label);
		for (int r = 0; r < n_rows; r++)
			tb->cells[(r + 1) * tb->n_cols + c] =
			    out_text_cell(qp, &tb->cols[c], &rows[r]);
		for (int r = 0; r <= n_rows; r++) {
			int w = (int)strlen(tb->cells[r * tb->n_cols + c]);
			if (w > tb->cols[c].width)
				tb->cols[c].width = w;
		}
	}
}

static void out_text_table_print(FILE *f, const struct out_text_table *tb)
{
	for (int r = 0; r <= tb->n_rows; r++) {
		for (int c = 0; c < tb->n_cols; c++) {
			const struct out_text_col *col = &tb->cols[c];
			const char *s = tb->cells[r * tb->n_cols + c];
			bool last = c + 1 == tb->n_cols;
			if (c)
				fputs("  ", f);
			if (col->right)
				fprintf(f, "%*s", col->width, s);
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s", col->width, s);
		}
		fputc('\n', f);
	}
}

static void out_text_table_free(struct out_text_table *tb)
{
	for (int i = 0; i < (tb->n_rows + 1) * tb->n_cols; i++)
		free(tb->cells[i]);
	free(tb->cells);
	free(tb->cols);
}

/* "hist(ip.len)[inet.ttl=64, ip.src=10.0.0.1]" */
static void out_text_hist_title(char *buf, size_t len, const struct hq_qplan *qp,
                                const struct hq_agg_slot *a, const struct hq_group_row *row)
{
	char val[OUT_VALUE_MAX];
	FILE *m = fmemopen(buf, len, "w");
	if (!m) {
		snprintf(buf, len, "%s", a->label);
		return;
	}
	fputs(a->label, m);
	for (int k = 0; k < qp->n_keys; k++) {
		const struct hq_slot *s = &qp->keys[k];
		if (value_present(row->key, s->present_bit))
			value_format(val, sizeof(val), s, row->key + s->off, true);
		else
			snprintf(val, sizeof(val), "-");
		fprintf(m, "%s%s=%s", k ? ", " : "[", s->label, val);
	}
	if (qp->n_keys)
		fputc(']', m);
	fclose(m);
}

static void out_text_hists(FILE *f, const struct hq_qplan *qp, const struct hq_group_row *rows,
                           int n_rows)
{
	char title[2 * OUT_VALUE_MAX];
	for (int r = 0; r < n_rows; r++)
		for (int i = 0; i < qp->n_aggs; i++) {
			const struct hq_agg_slot *a = &qp->aggs[i];
			if (a->hidden || !out_agg_is_hist(a))
				continue;
			out_text_hist_title(title, sizeof(title), qp, a, &rows[r]);
			hist_print(f, title, a, rows[r].aggs[i].buckets);
		}
}

static void out_text_group_table(struct hq_output *o, const struct hq_qplan *qp,
                                 const struct hq_group_row *rows, int n_rows, uint64_t interval_ts)
{
	struct out_text *t = out_text_of(o);
	struct out_text_table tb;
	bool has_hist = false;
	int n_scalar = 0;

	for (int i = 0; i < qp->n_aggs; i++) {
		if (qp->aggs[i].hidden)
			continue;
		if (out_agg_is_hist(&qp->aggs[i]))
			has_hist = true;
		else
			n_scalar++;
	}
	out_text_title(t, qp, interval_ts);
	if (!has_hist || n_scalar) {
		out_text_table_build(&tb, qp, rows, n_rows);
		out_text_table_print(o->out, &tb);
		out_text_table_free(&tb);
		t->printed = true;
	}
	if (has_hist && n_rows) {
		if (t->printed && n_scalar)
			fputc('\n', o->out);
		out_text_hists(o->out, qp, rows, n_rows);
		t->printed = true;
	}
}

/* --- counts, losses --------------------------------------------------------------- */

static void out_text_count(struct hq_output *o, const struct hq_qplan *qp, uint64_t n,
                           uint64_t interval_ts)
{
	char clock[32];
	if (out_query_every(qp)) {
		out_fmt_clock(clock, sizeof(clock), interval_ts, false);
		fprintf(o->out, "%s ", clock);
	}
	if (out_multi_query(o))
		fprintf(o->out, "%s: ", out_query_name(qp));
	fprintf(o->out, "%llu packet%s\n", (unsigned long long)n, n == 1 ? "" : "s");
	out_text_of(o)->printed = true;
}

static void out_text_loss(struct hq_output *o, const struct hq_loss *l, uint64_t interval_ts)
{
	fflush(o->out);
	out_loss_line(o->err, &out_text_of(o)->loss, l);
}

static void out_text_flush(struct hq_output *o)
{
	fflush(o->out);
}

static void out_text_destroy(struct hq_output *o)
{
	fflush(o->out);
	out_loss_summary(o->err, &out_text_of(o)->loss);
	free(o);
}

static const struct hq_output_ops out_text_ops = {
    .log_record = out_text_log_record,
    .group_table = out_text_group_table,
    .count = out_text_count,
    .loss = out_text_loss,
    .flush = out_text_flush,
    .destroy = out_text_destroy,
};

struct hq_output *out_text_new(void)
{
	struct out_text *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->base.ops = &out_text_ops;
	return &t->base;
}
