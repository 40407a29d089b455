/* reader_groups.c — group maps to printed tables: dump (batch ops, with a
 * get_next_key fallback that HDRQ_NO_BATCH=1 forces for tests), per-CPU
 * combine, `having`, sort, `top`. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "having.h"
#include "reader_groups.h"
#include "sys.h"

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static int dump_grow(struct hq_group_dump *g, size_t *cap, size_t need, unsigned ks, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 256;
	while (nc < need)
		nc *= 2;
	uint8_t *k = realloc(g->keys, nc * ks);
	if (!k)
		return -ENOMEM;
	g->keys = k;
	uint8_t *v = realloc(g->vals, nc * elem);
	if (!v)
		return -ENOMEM;
	g->vals = v;
	*cap = nc;
	return 0;
}

static int dump_batch(int fd, unsigned ks, size_t elem, bool del, struct hq_group_dump *g)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	uint64_t tok_in[8], tok_out[8]; /* hash maps use a u32 bucket cursor */
	void *in = NULL;
	size_t cap = 0;
	__u32 chunk = 1024;
	for (;;) {
		int err = dump_grow(g, &cap, g->n + chunk, ks, elem);
		if (err)
			return err;
		__u32 cnt = chunk;
		uint8_t *k = g->keys + g->n * ks, *v = g->vals + g->n * elem;
		err = del ? bpf_map_lookup_and_delete_batch(fd, in, tok_out, k, v, &cnt, &bo)
		          : bpf_map_lookup_batch(fd, in, tok_out, k, v, &cnt, &bo);
		err = err ? -errno : 0;
		if (err && err != -ENOENT && err != -ENOSPC)
			return err;
		sys_kernel_filled(k, (size_t)cnt * ks);
		sys_kernel_filled(v, (size_t)cnt * elem);
		g->n += cnt;
		if (err == -ENOENT)
			return 0;
		if (err == -ENOSPC && !cnt) {
			chunk *= 2; /* one hash bucket holds more than chunk entries */
			continue;
		}
		memcpy(tok_in, tok_out, sizeof(tok_in));
		in = tok_in;
	}
}

static int dump_iter(int fd, unsigned ks, size_t elem, bool del, struct hq_group_dump *g)
{
	size_t cap = 0;
	/* Collect the keys first: deleting while iterating restarts the walk.
	 * A key deleted under us restarts it too, hence the bound. */
	while (g->n < (16u << 20)) {
		int err = dump_grow(g, &cap, g->n + 1, ks, elem);
		if (err)
			return err;
		uint8_t *k = g->keys + g->n * ks;
		if (bpf_map_get_next_key(fd, g->n ? k - ks : NULL, k))
			break;
		g->n++;
	}
	size_t kept = 0;
	for (size_t i = 0; i < g->n; i++) {
		uint8_t *k = g->keys + i * ks;
		if (bpf_map_lookup_elem(fd, k, g->vals + kept * elem))
			continue;                               /* deleted meanwhile */
		sys_kernel_filled(g->vals + kept * elem, elem); /* per-CPU: all CPUs' values */
		if (del)
			bpf_map_delete_elem(fd, k);
		memmove(g->keys + kept * ks, k, ks);
		kept++;
	}
	g->n = kept;
	return 0;
}

int groups_dump(int fd, unsigned key_size, unsigned val_size, int ncpus, bool del,
                struct hq_group_dump *out)
{
	memset(out, 0, sizeof(*out));
	out->stride = round8(val_size);
	size_t elem = out->stride * (size_t)ncpus;
	int err = getenv("HDRQ_NO_BATCH") ? -EINVAL : dump_batch(fd, key_size, elem, del, out);
	if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP) {
		if (out->n && del)
			return err; /* some entries are gone already */
		out->n = 0;
		err = dump_iter(fd, key_size, elem, del, out);
	}
	return err;
}

void groups_dump_free(struct hq_group_dump *g)
{
	free(g->keys);
	free(g->vals);
	memset(g, 0, sizeof(*g));
}

static uint64_t u64_at(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void combine_minmax(const struct hq_agg_slot *a, int ncpus, const uint8_t *vals,
                           size_t stride, struct hq_agg_value *out)
{
	for (int c = 0; c < ncpus; c++) {
		const uint8_t *v = vals + (size_t)c * stride + a->off;
		if (!u64_at(v + 8)) /* no value from this CPU */
			continue;
		uint64_t x = u64_at(v);
		if (!out->valid || (a->kind == HQ_AGG_MIN ? x < out->u : x > out->u))
			out->u = x;
		out->valid = true;
	}
}

void groups_combine(const struct hq_qplan *qp, int ncpus, const uint8_t *vals, size_t stride,
                    struct hq_agg_value *out, uint64_t *buckets)
{
	for (int i = 0; i < qp->n_aggs; i++) {
		const struct hq_agg_slot *a = &qp->aggs[i];
		struct hq_agg_value *o = &out[i];
		memset(o, 0, sizeof(*o));
		if (a->kind == HQ_AGG_MIN || a->kind == HQ_AGG_MAX) {
			combine_minmax(a, ncpus, vals, stride, o);
			continue;
		}
		bool hist = a->kind == HQ_AGG_HIST || a->kind == HQ_AGG_LHIST;
		if (hist) {
			o->buckets = buckets;
			memset(buckets, 0, a->n_buckets * sizeof(*buckets));
			buckets += a->n_buckets;
		}
		uint64_t cnt = 0;
		for (int c = 0; c < ncpus; c++) {
			const uint8_t *v = vals + (size_t)c * stride + a->off;
			for (unsigned b = 0; hist && b < a->n_buckets; b++)
				o->buckets[b] += u64_at(v + 8 * b);
			/* a histogram's u: the sum of its values, behind the buckets */
			o->u += u64_at(hist ? v + 8 * a->n_buckets : v);
			if (a->kind == HQ_AGG_AVG)
				cnt += u64_at(v + 8);
		}
		o->valid = a->kind != HQ_AGG_AVG || cnt > 0;
		if (a->kind == HQ_AGG_AVG && cnt)
			o->avg = (double)o->u / (double)cnt;
	}
}

static unsigned hist_buckets(const struct hq_qplan *qp)
{
	unsigned n = 0;
	for (int i = 0; i < qp->n_aggs; i++)
		if (qp->aggs[i].kind == HQ_AGG_HIST || qp->aggs[i].kind == HQ_AGG_LHIST)
			n += qp->aggs[i].n_buckets;
	return n;
}

/* Sort key of an aggregate: integers exactly, avg as double, histograms by
 * their number of samples; invalid values sort last. */
static int agg_cmp_desc(const struct hq_agg_slot *s, const struct hq_agg_value *a,
                        const struct hq_agg_value *b)
{
	if (a->valid != b->valid)
		return a->valid ? -1 : 1;
	if (s->kind == HQ_AGG_AVG)
		return a->avg > b->avg ? -1 : a->avg < b->avg;
	uint64_t x = a->u, y = b->u;
	if (s->kind == HQ_AGG_HIST || s->kind == HQ_AGG_LHIST) {
		x = y = 0;
		for (unsigned i = 0; i < s->n_buckets; i++) {
			x += a->buckets[i];
			y += b->buckets[i];
		}
	}
	return x > y ? -1 : x < y;
}

static int row_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct hq_qplan *qp = ctx;
	const struct hq_group_row *a = pa, *b = pb;
	int c = qp->n_aggs ? agg_cmp_desc(&qp->aggs[0], &a->aggs[0], &b->aggs[0]) : 0;
	return c ? c : memcmp(a->key, b->key, qp->key_size);
}

int groups_table(const struct hq_qplan *qp, const struct hq_group_dump *g, int ncpus,
                 struct hq_group_table *t)
{
	memset(t, 0, sizeof(*t));
	size_t n = g->n ? g->n : 1, na = qp->n_aggs ? (size_t)qp->n_aggs : 1;
	unsigned nb = hist_buckets(qp);
	t->rows = calloc(n, sizeof(*t->rows));
	t->aggs = calloc(n * na, sizeof(*t->aggs));
	t->buckets = calloc(n * (nb ? nb : 1), sizeof(*t->buckets));
	if (!t->rows || !t->aggs || !t->buckets) {
		groups_table_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < g->n; i++) {
		struct hq_group_row *row = &t->rows[t->n];
		row->key = g->keys + i * qp->key_size;
		row->aggs = t->aggs + (size_t)t->n * na;
		groups_combine(qp, ncpus, g->vals + i * g->stride * ncpus, g->stride, row->aggs,
		               t->buckets + (size_t)t->n * nb);
		if (having_eval(qp->q->having, qp, row))
			t->n++;
	}
	qsort_r(t->rows, t->n, sizeof(*t->rows), row_cmp, (void *)qp);
	if (qp->q->top && (uint64_t)t->n > qp->q->top)
		t->n = (int)qp->q->top;
	return 0;
}

void groups_table_free(struct hq_group_table *t)
{
	free(t->rows);
	free(t->aggs);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* Empty a distinct set (a plain hash) at the end of an interval. */
static int map_clear(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	struct hq_group_dump g;
	int err = groups_dump(fd, info.key_size, info.value_size, 1, true, &g);
	groups_dump_free(&g);
	return err;
}

int groups_report(struct hq_run *r, int q, bool reset, bool skip_empty, uint64_t interval_ts)
{
	const struct hq_qplan *qp = &r->plan->qplans[q];
	struct hq_group_dump g;
	struct hq_group_table t;
	int err = groups_dump(r->ld->group_fds[q], qp->key_size, qp->val_size, r->ncpus, reset, &g);
	for (int k = 0; !err && reset && k < qp->n_distinct; k++)
		err = map_clear(r->ld->distinct_fds[q][k]);
	if (!err) {
		if (r->anon_keys)
			r->anon_keys(r, qp, &g);
		err = groups_table(qp, &g, r->ncpus, &t);
	}
	if (err) {
		groups_dump_free(&g);
		diag_errorf(r->d, "cannot read the groups of query %s (map %s): %s",
		            qp->q->name ? qp->q->name : qp->name, qp->groups_map, strerror(-err));
		return -1;
	}
	if (t.n || !skip_empty)
		r->out->ops->group_table(r->out, qp, t.rows, t.n, interval_ts);
	if (reset && r->retire)
		r->retire(r, q, t.rows, t.n);
	int n = t.n;
	groups_table_free(&t);
	groups_dump_free(&g);
	return n;
}
