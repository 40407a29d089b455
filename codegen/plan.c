/* plan.c — lowering: byte layouts of log records, group keys and values.
 *
 * Everything the kernel program writes and the runtime reads is placed
 * here, once. See plan.h for the encodings.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_DEFAULT_GROUPS  65536
#define PLAN_DEFAULT_RINGBUF (8u << 20)
#define PLAN_MAX_KEYS        63
#define PLAN_HIST_BUCKETS    65

static unsigned align8(unsigned n)
{
	return (n + 7u) & ~7u;
}

unsigned plan_type_size(enum hq_type t, unsigned str_size)
{
	switch (t) {
	case HQ_T_UINT:
	case HQ_T_BOOL:
		return 8;
	case HQ_T_IP4:
		return 4;
	case HQ_T_IP6:
		return 16;
	case HQ_T_INET:
		return 20;
	case HQ_T_MAC:
		return 6;
	case HQ_T_STR:
		return str_size;
	case HQ_T_NONE:
		break;
	}
	return 0;
}

static void plan_render(FILE *f, const struct hq_expr *e);

static void plan_render_list(FILE *f, const struct hq_expr_list *l)
{
	for (int i = 0; i < l->n; i++) {
		if (i)
			fputs(", ", f);
		plan_render(f, l->items[i]);
	}
}

/* An expression in query syntax, names resolved to their full form:
 * `sum(ip.len)`, `ip.len & 255`. Used for column labels. */
static void plan_render(FILE *f, const struct hq_expr *e)
{
	char buf[64];
	switch (e->kind) {
	case HQ_EX_NAME:
		fputs(e->field ? e->field->full : e->layer ? e->layer->name : e->name, f);
		break;
	case HQ_EX_INT:
		fprintf(f, "%llu", (unsigned long long)e->u.num);
		break;
	case HQ_EX_CALL:
		fprintf(f, "%s(", e->name);
		plan_render_list(f, &e->items);
		fputc(')', f);
		break;
	case HQ_EX_UNARY:
		fputs("not ", f);
		plan_render(f, e->lhs);
		break;
	case HQ_EX_BINARY:
	case HQ_EX_IN:
		plan_render(f, e->lhs);
		fprintf(f, " %s ", ast_op_str(e->op));
		plan_render(f, e->rhs);
		break;
	case HQ_EX_RANGE:
		plan_render(f, e->lhs);
		fputs("..", f);
		plan_render(f, e->rhs);
		break;
	case HQ_EX_SET:
		fputc('{', f);
		plan_render_list(f, &e->items);
		fputc('}', f);
		break;
	case HQ_EX_STR:
		fprintf(f, "\"%s\"", e->u.str);
		break;
	default: {
		char *d = ast_dump_expr(e);
		snprintf(buf, sizeof(buf), "%s", d);
		free(d);
		fputs(buf, f);
		break;
	}
	}
}

/* The label of an expression: the field's full name when it is one. */
static char *plan_expr_label(const struct hq_expr *e)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	plan_render(f, e);
	fclose(f);
	return s;
}

static void plan_slot_place(struct hq_slot *s, unsigned *off)
{
	unsigned str = s->field ? s->field->size : 0;
	if (s->type == HQ_T_STR && !str)
		str = 64;
	s->size = plan_type_size(s->type, str);
	s->off = *off;
	*off = align8(*off + s->size);
}

static void plan_slot_from_expr(struct hq_slot *s, const struct hq_expr *e, int bit)
{
	s->expr = e;
	s->field = (e->kind == HQ_EX_NAME && e->ref == HQ_REF_FIELD) ? e->field : NULL;
	s->label = plan_expr_label(e);
	s->type = e->type;
	s->present_bit = bit;
}

static int plan_count_star_fields(const struct hq_proto *p)
{
	int n = 0;
	for (int i = 0; i < p->n_layers; i++)
		if (!p->layers[i]->pseudo || !strcmp(p->layers[i]->name, "pkt"))
			n += p->layers[i]->n_fields;
	return n;
}

/* `log *`: every field of every layer (the generic inet.* aliases aside). */
static void plan_star_slots(struct hq_qplan *qp, const struct hq_proto *p)
{
	int n = plan_count_star_fields(p), k = 0;
	qp->fields = calloc(n, sizeof(*qp->fields));
	for (int i = 0; i < p->n_layers; i++) {
		const struct hq_layer *l = p->layers[i];
		if (l->pseudo && strcmp(l->name, "pkt"))
			continue;
		for (int j = 0; j < l->n_fields; j++, k++) {
			struct hq_slot *s = &qp->fields[k];
			s->field = l->fields[j];
			s->label = strdup(s->field->full);
			s->type = s->field->type;
			s->present_bit = k;
		}
	}
	qp->n_fields = n;
}

static void plan_log(struct hq_qplan *qp, const struct hq_query *q, const struct hq_proto *p)
{
	if (q->log.n == 1 && q->log.items[0]->kind == HQ_EX_STAR) {
		plan_star_slots(qp, p);
	} else {
		qp->fields = calloc(q->log.n ? q->log.n : 1, sizeof(*qp->fields));
		qp->n_fields = q->log.n;
		for (int i = 0; i < q->log.n; i++)
			plan_slot_from_expr(&qp->fields[i], q->log.items[i], i);
	}
	qp->n_present_words = (qp->n_fields + 63) / 64;
	if (!qp->n_present_words)
		qp->n_present_words = 1;
	unsigned off = sizeof(struct hq_rec_hdr) + 8 * qp->n_present_words;
	for (int i = 0; i < qp->n_fields; i++)
		plan_slot_place(&qp->fields[i], &off);
	qp->rec_size = off;
}

static unsigned plan_agg_size(struct hq_agg_slot *a)
{
	switch (a->kind) {
	case HQ_AGG_AVG:
	case HQ_AGG_MIN:
	case HQ_AGG_MAX:
		return 16;
	case HQ_AGG_HIST:
		a->n_buckets = PLAN_HIST_BUCKETS;
		return 8 * a->n_buckets + 8; /* + the sum of the values */
	case HQ_AGG_LHIST:
		a->n_buckets = (unsigned)((a->lmax - a->lmin + a->lstep - 1) / a->lstep) + 2;
		return 8 * a->n_buckets + 8;
	default:
		return 8;
	}
}

static char *plan_agg_label(const struct hq_expr *call)
{
	return plan_expr_label(call);
}

static void plan_agg(struct hq_qplan *qp, struct hq_agg_slot *a, const struct hq_expr *call,
                     unsigned *off)
{
	a->kind = call->agg;
	a->call = call;
	a->arg = call->items.n ? call->items.items[0] : NULL;
	a->label = plan_agg_label(call);
	a->hidden = call->hidden;
	a->distinct_map = -1;
	if (a->kind == HQ_AGG_LHIST && call->items.n == 4) {
		a->lmin = (int64_t)call->items.items[1]->u.num;
		a->lmax = (int64_t)call->items.items[2]->u.num;
		a->lstep = (int64_t)call->items.items[3]->u.num;
		if (a->lstep <= 0)
			a->lstep = 1;
	}
	a->size = plan_agg_size(a);
	a->off = *off;
	*off += a->size;
	if (a->kind == HQ_AGG_DISTINCT) {
		struct hq_distinct_map *dm;
		qp->distinct = realloc(qp->distinct, (qp->n_distinct + 1) * sizeof(*dm));
		dm = &qp->distinct[qp->n_distinct];
		memset(dm, 0, sizeof(*dm));
		snprintf(dm->name, sizeof(dm->name), "hq_q%d_d%d", qp->id % 1000,
		         qp->n_distinct % 100);
		dm->key_size = qp->key_size + 16;
		dm->max_entries = qp->max_groups * 4;
		a->distinct_map = qp->n_distinct++;
	}
}

static int plan_group(struct hq_qplan *qp, const struct hq_query *q, const struct hq_plan_opts *o,
                      struct hq_diag *d)
{
	if (q->keys.n > PLAN_MAX_KEYS)
		return diag_error(d, q->src, q->keys.items[PLAN_MAX_KEYS]->span,
		                  "at most %d group keys are supported", PLAN_MAX_KEYS);
	qp->keys = calloc(q->keys.n ? q->keys.n : 1, sizeof(*qp->keys));
	qp->n_keys = q->keys.n;
	unsigned off = 8;
	for (int i = 0; i < q->keys.n; i++) {
		plan_slot_from_expr(&qp->keys[i], q->keys.items[i], i);
		plan_slot_place(&qp->keys[i], &off);
	}
	qp->key_size = off;
	snprintf(qp->groups_map, sizeof(qp->groups_map), "hq_q%d_groups", qp->id % 1000);
	qp->max_groups = o->max_groups ? o->max_groups : PLAN_DEFAULT_GROUPS;

	qp->aggs = calloc(q->aggs.n ? q->aggs.n : 1, sizeof(*qp->aggs));
	qp->n_aggs = q->aggs.n;
	unsigned voff = 8; /* u64 updates */
	for (int i = 0; i < q->aggs.n; i++)
		plan_agg(qp, &qp->aggs[i], q->aggs.items[i], &voff);
	qp->val_size = voff;
	return 0;
}

static int plan_ifaces(struct hq_qplan *qp, const struct hq_query *q, struct hq_diag *d)
{
	qp->has_dir = q->has_dir;
	qp->dir = q->dir;
	if (!q->n_ifaces)
		return 0;
	qp->ifindexes = calloc(q->n_ifaces, sizeof(int));
	for (int i = 0; i < q->n_ifaces; i++) {
		if (!strcmp(q->ifaces[i], "any"))
			continue;
		unsigned idx = if_nametoindex(q->ifaces[i]);
		if (!idx)
			return diag_error(d, q->src, q->on_span, "no such interface '%s'",
			                  q->ifaces[i]);
		qp->ifindexes[qp->n_ifindexes++] = (int)idx;
	}
	return 0;
}

static bool plan_expr_reads_num(const struct hq_expr *e)
{
	if (!e)
		return false;
	if (e->kind == HQ_EX_NAME && e->field && e->field->src == HQ_FS_META && e->field->key &&
	    !strcmp(e->field->key, "num"))
		return true;
	if (plan_expr_reads_num(e->lhs) || plan_expr_reads_num(e->rhs))
		return true;
	for (int i = 0; i < e->items.n; i++)
		if (plan_expr_reads_num(e->items.items[i]))
			return true;
	return false;
}

static bool plan_query_reads_num(const struct hq_qplan *qp)
{
	const struct hq_query *q = qp->q;
	for (int i = 0; i < qp->n_fields; i++) {
		const struct hq_field *f = qp->fields[i].field;
		if (f && f->src == HQ_FS_META && f->key && !strcmp(f->key, "num"))
			return true;
	}
	if (plan_expr_reads_num(q->where) || plan_expr_reads_num(q->having))
		return true;
	for (int i = 0; i < q->keys.n; i++)
		if (plan_expr_reads_num(q->keys.items[i]))
			return true;
	for (int i = 0; i < q->aggs.n; i++)
		if (plan_expr_reads_num(q->aggs.items[i]))
			return true;
	return false;
}

static int plan_query(struct hq_plan *pl, int i, struct hq_diag *d)
{
	struct hq_qplan *qp = &pl->qplans[i];
	const struct hq_query *q = pl->script->queries[i];
	qp->q = q;
	qp->id = i;
	snprintf(qp->name, sizeof(qp->name), "hq_q%d", i % 1000);
	if (plan_ifaces(qp, q, d))
		return -1;
	if (q->action == HQ_ACT_LOG) {
		plan_log(qp, q, pl->proto);
		qp->rate = q->rate ? q->rate : pl->opts.rate;
	} else {
		qp->n_present_words = 1;
		qp->rec_size = sizeof(struct hq_rec_hdr) + 8;
	}
	if (q->action == HQ_ACT_GROUP && plan_group(qp, q, &pl->opts, d))
		return -1;
	if (plan_query_reads_num(qp))
		pl->need_pkt_num = true;
	return 0;
}

struct hq_plan *plan_build(const struct hq_script *s, const struct hq_proto *p,
                           const struct hq_plan_opts *opts, struct hq_diag *d)
{
	struct hq_plan *pl = calloc(1, sizeof(*pl));
	pl->script = s;
	pl->proto = p;
	if (opts)
		pl->opts = *opts;
	if (!pl->opts.ringbuf_size)
		pl->opts.ringbuf_size = PLAN_DEFAULT_RINGBUF;
	if (!pl->opts.max_groups)
		pl->opts.max_groups = PLAN_DEFAULT_GROUPS;
	pl->qplans = calloc(s->n_queries ? s->n_queries : 1, sizeof(*pl->qplans));
	pl->n_qplans = s->n_queries;
	for (int i = 0; i < s->n_queries; i++) {
		if (plan_query(pl, i, d)) {
			plan_free(pl);
			return NULL;
		}
	}
	return pl;
}

static void plan_slots_free(struct hq_slot *s, int n)
{
	for (int i = 0; i < n; i++)
		free(s[i].label);
	free(s);
}

void plan_free(struct hq_plan *pl)
{
	if (!pl)
		return;
	for (int i = 0; i < pl->n_qplans; i++) {
		struct hq_qplan *qp = &pl->qplans[i];
		plan_slots_free(qp->fields, qp->n_fields);
		plan_slots_free(qp->keys, qp->n_keys);
		for (int j = 0; j < qp->n_aggs; j++)
			free(qp->aggs[j].label);
		free(qp->aggs);
		free(qp->distinct);
		free(qp->ifindexes);
	}
	free(pl->qplans);
	free(pl);
}
