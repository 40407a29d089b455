/* sema_agg.c — aggregates and the lists of a query's action: aggregate
 * calls (name, arity, argument types, lhist bounds), `select` (default
 * count()), `having` (every call bound to a selected aggregate, or to a
 * hidden one appended for it), group keys and log fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

enum sema_arg { SA_NONE, SA_NUMBER, SA_ANY };

/* The aggregate table: one row per built-in, chosen by name. */
static const struct sema_agg_def {
	const char *name;
	enum hq_agg_kind kind;
	int n_args;
	enum sema_arg arg;
	const char *usage;
} sema_aggs[] = {
    {"count", HQ_AGG_COUNT, 0, SA_NONE, "count()"},
    {"sum", HQ_AGG_SUM, 1, SA_NUMBER, "sum(e)"},
    {"avg", HQ_AGG_AVG, 1, SA_NUMBER, "avg(e)"},
    {"min", HQ_AGG_MIN, 1, SA_NUMBER, "min(e)"},
    {"max", HQ_AGG_MAX, 1, SA_NUMBER, "max(e)"},
    {"hist", HQ_AGG_HIST, 1, SA_NUMBER, "hist(e)"},
    {"lhist", HQ_AGG_LHIST, 4, SA_NUMBER, "lhist(e, min, max, step)"},
    {"distinct", HQ_AGG_DISTINCT, 1, SA_ANY, "distinct(e)"},
};

#define SEMA_N_AGGS            (int)(sizeof(sema_aggs) / sizeof(sema_aggs[0]))
#define SEMA_LHIST_MAX_BUCKETS 1000

static const struct sema_agg_def *sema_agg_find(const char *name)
{
	for (int i = 0; i < SEMA_N_AGGS; i++)
		if (!strcmp(sema_aggs[i].name, name))
			return &sema_aggs[i];
	return NULL;
}

static int sema_agg_unknown(struct sema *S, const struct hq_expr *e)
{
	const char *names[SEMA_N_AGGS];
	const char *sug;

	for (int i = 0; i < SEMA_N_AGGS; i++)
		names[i] = sema_aggs[i].name;
	sug = diag_suggest(e->name, names, SEMA_N_AGGS);
	if (sug)
		return sema_err(S, e->span, "unknown aggregate %s(); did you mean %s()?", e->name,
		                sug);
	return sema_err(
	    S, e->span,
	    "unknown aggregate %s() (aggregates: count, sum, avg, min, max, hist, lhist, "
	    "distinct)",
	    e->name);
}

static int sema_lhist(struct sema *S, const struct hq_expr *e)
{
	const struct hq_expr *const *a = (const struct hq_expr *const *)e->items.items;
	uint64_t lo, hi, step;

	for (int i = 1; i < 4; i++)
		if (a[i]->kind != HQ_EX_INT)
			return sema_err(
			    S, a[i]->span,
			    "lhist(e, min, max, step) takes numbers for min, max and step");
	lo = a[1]->u.num;
	hi = a[2]->u.num;
	step = a[3]->u.num;
	if (!step)
		return sema_err(S, a[3]->span, "lhist() step must be above zero");
	if (hi <= lo)
		return sema_err(S, a[2]->span, "lhist() needs min < max");
	if ((hi - lo) / step > SEMA_LHIST_MAX_BUCKETS)
		return sema_err(S, e->span,
		                "lhist() would have %llu buckets ((max - min) / step); at most %d",
		                (unsigned long long)((hi - lo) / step), SEMA_LHIST_MAX_BUCKETS);
	return 0;
}

static int sema_agg_arg(struct sema *S, const struct sema_agg_def *def, struct hq_expr *call)
{
	struct hq_expr **ap = &call->items.items[0];
	char t[64];

	if (sema_value(S, ap, SC_ARG))
		return -1;
	sema_text(S, *ap, t, sizeof(t));
	if (!sema_is_fieldish(*ap))
		return sema_err(S, (*ap)->span, "%s() takes a field (or field & mask), not %s",
		                def->name, t);
	if (def->arg == SA_NUMBER && (*ap)->type != HQ_T_UINT && (*ap)->type != HQ_T_BOOL)
		return sema_err(S, (*ap)->span, "%s() needs a number, but %s is %s", def->name, t,
		                sema_type_words((*ap)->type));
	if (def->arg == SA_ANY && (*ap)->type == HQ_T_STR)
		return sema_err(S, (*ap)->span, "distinct() cannot count strings: %s is a string",
		                t);
	return 0;
}

/* Check an aggregate call where it stands. */
int sema_call(struct sema *S, struct hq_expr *e, enum sema_ctx ctx)
{
	const struct sema_agg_def *def = sema_agg_find(e->name);

	if (!def)
		return sema_agg_unknown(S, e);
	if (ctx == SC_ARG)
		return sema_err(S, e->span, "aggregates do not nest: %s() inside another aggregate",
		                e->name);
	if (ctx != SC_SELECT && ctx != SC_HAVING)
		return sema_err(S, e->span, "aggregate %s() is only allowed in select or having",
		                e->name);
	if (e->items.n != def->n_args) {
		if (!def->n_args)
			return sema_err(S, e->span, "%s() takes no argument", def->name);
		return sema_err(S, e->span, "%s() takes %d argument%s: %s", def->name, def->n_args,
		                def->n_args > 1 ? "s" : "", def->usage);
	}
	if (def->n_args && sema_agg_arg(S, def, e))
		return -1;
	if (def->kind == HQ_AGG_LHIST && sema_lhist(S, e))
		return -1;
	e->agg = def->kind;
	e->type = HQ_T_UINT;
	if (ctx == SC_HAVING && (def->kind == HQ_AGG_HIST || def->kind == HQ_AGG_LHIST))
		return sema_err(S, e->span, "%s() is a histogram: having cannot compare it",
		                def->name);
	return 0;
}

int sema_select(struct sema *S)
{
	struct hq_query *q = S->q;
	int rc = 0;
	char t[64];

	for (int i = 0; i < q->aggs.n; i++) {
		struct hq_expr *e = q->aggs.items[i];
		if (e->kind == HQ_EX_CALL) {
			rc |= sema_call(S, e, SC_SELECT);
			continue;
		}
		sema_text(S, e, t, sizeof(t));
		rc |= sema_err(
		    S, e->span,
		    "select takes aggregates such as count() or sum(ip.len); %s is not one "
		    "(to see %s per group, add it to group by)",
		    t, t);
	}
	if (!q->aggs.n && q->action == HQ_ACT_GROUP) {
		struct hq_expr *c = ast_expr_new(HQ_EX_CALL, q->keys.items[0]->span);
		c->name = ast_strdup("count");
		c->agg = HQ_AGG_COUNT;
		c->type = HQ_T_UINT;
		ast_list_push(&q->aggs, c);
	}
	return rc ? -1 : 0;
}

static bool sema_list_equal(const struct hq_expr_list *a, const struct hq_expr_list *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (!sema_expr_equal(a->items[i], b->items[i]))
			return false;
	return true;
}

/* Same meaning, structurally (resolved names compare by what they mean). */
bool sema_expr_equal(const struct hq_expr *a, const struct hq_expr *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind || a->op != b->op)
		return false;
	switch (a->kind) {
	case HQ_EX_INT:
		return a->u.num == b->u.num;
	case HQ_EX_IP4:
	case HQ_EX_IP6:
	case HQ_EX_CIDR4:
	case HQ_EX_CIDR6:
	case HQ_EX_MAC:
		return !memcmp(a->u.addr, b->u.addr, sizeof(a->u.addr)) &&
		       a->u.prefix == b->u.prefix;
	case HQ_EX_STR:
		return !strcmp(a->u.str, b->u.str);
	case HQ_EX_NAME:
		if (a->ref == HQ_REF_NONE || b->ref == HQ_REF_NONE)
			return a->ref == b->ref && !strcmp(a->name, b->name);
		return a->ref == b->ref && a->field == b->field && a->layer == b->layer &&
		       a->derived == b->derived && a->u.num == b->u.num;
	case HQ_EX_CALL:
		return a->agg == b->agg && !strcmp(a->name, b->name) &&
		       sema_list_equal(&a->items, &b->items);
	case HQ_EX_SET:
		return sema_list_equal(&a->items, &b->items);
	default:
		return sema_expr_equal(a->lhs, b->lhs) && sema_expr_equal(a->rhs, b->rhs);
	}
}

/* Point every call of the having expression at its aggregate. */
static void sema_bind(struct sema *S, struct hq_expr *e)
{
	struct hq_query *q = S->q;
	struct hq_expr *copy;

	if (!e)
		return;
	if (e->kind != HQ_EX_CALL) {
		sema_bind(S, e->lhs);
		sema_bind(S, e->rhs);
		return;
	}
	for (int i = 0; i < q->aggs.n; i++) {
		if (sema_expr_equal(q->aggs.items[i], e)) {
			e->agg_index = i;
			return;
		}
	}
	copy = ast_expr_copy(e);
	copy->hidden = true;
	copy->agg_index = -1;
	ast_list_push(&q->aggs, copy);
	e->agg_index = q->aggs.n - 1;
}

int sema_having(struct sema *S)
{
	if (!S->q->having)
		return 0;
	if (sema_pred(S, &S->q->having, SC_HAVING))
		return -1;
	sema_bind(S, S->q->having);
	return 0;
}

int sema_keys(struct sema *S)
{
	struct hq_query *q = S->q;
	int rc = 0;
	char t[64];

	for (int i = 0; i < q->keys.n; i++) {
		struct hq_expr **kp = &q->keys.items[i];
		if ((*kp)->kind == HQ_EX_CALL && sema_agg_find((*kp)->name)) {
			rc |= sema_err(S, (*kp)->span,
			               "an aggregate cannot be a group key: move %s() to select",
			               (*kp)->name);
			continue;
		}
		if (sema_value(S, kp, SC_KEY)) {
			rc = -1;
			continue;
		}
		if (sema_is_fieldish(*kp))
			continue;
		sema_text(S, *kp, t, sizeof(t));
		rc |= sema_err(
		    S, (*kp)->span, "group by takes fields (or field & mask): %s is %s", t,
		    (*kp)->kind == HQ_EX_NAME && (*kp)->ref == HQ_REF_LAYER ? "a layer"
		                                                            : "not a field");
	}
	return rc ? -1 : 0;
}

int sema_log(struct sema *S)
{
	struct hq_query *q = S->q;
	int rc = 0;
	char t[64];

	if (q->log.n == 1 && q->log.items[0]->kind == HQ_EX_STAR)
		return 0;
	for (int i = 0; i < q->log.n; i++) {
		struct hq_expr **fp = &q->log.items[i];
		if ((*fp)->kind == HQ_EX_CALL && sema_agg_find((*fp)->name)) {
			rc |= sema_err(S, (*fp)->span,
			               "log records single packets; aggregates such as %s() need "
			               "group by … select",
			               (*fp)->name);
			continue;
		}
		if (sema_value(S, fp, SC_LOG)) {
			rc = -1;
			continue;
		}
		if ((*fp)->kind == HQ_EX_NAME &&
		    ((*fp)->ref == HQ_REF_FIELD || (*fp)->ref == HQ_REF_DERIVED))
			continue;
		sema_text(S, *fp, t, sizeof(t));
		rc |= sema_err(S, (*fp)->span, "log takes field names: %s is %s%s", t,
		               (*fp)->kind == HQ_EX_NAME ? "a layer" : "not a field",
		               (*fp)->kind == HQ_EX_NAME ? " (log * logs every field)" : "");
	}
	return rc ? -1 : 0;
}
