/* cg_exit_where.c — the early exit on the queries' where clauses: when
 * every query of this hook has a where clause that reads only layers
 * walked by some point of the header walk, the clauses are tested there
 * and the program returns if none holds. The rest of the walk is skipped:
 * for `tcp where … log *`, the DNS names and HTTP tokens of packets the
 * query then drops.
 *
 * The test is each query's own match less its `on IFACE` filter (the
 * interface index is read after the walk): its LAYER is present and its
 * where clause holds. That holds for every packet the query matches, so no
 * match is lost; a packet that passes goes through the rest of the walk and
 * the query tests its clause again. There is no test where a clause reads
 * pkt.* (time stamp and interface come after the walk), none before a
 * layer whose parse outlives the packet (cg_layer.lasting: the retransmit
 * flow table sees every segment), and none after the last layer with a
 * header, where there is nothing left to skip. Where the clauses read
 * none of that layer's walker outputs, the test sits in its parse body,
 * before its walker (cg_exit_where_body).
 */
#include "cg.h"

static int cg_max(int a, int b)
{
	return a > b ? a : b;
}

/* the registry index of the last layer whose parse f needs (its own, or
 * its alternatives'); clears *ok for pkt's fields */
static int cg_field_reach(const struct hq_field *f, bool *ok)
{
	const struct hq_layer *l = f->layer;
	if (l->pseudo && !l->n_links)
		*ok = false;
	int at = l->index;
	for (int i = 0; i < f->n_alts; i++)
		at = cg_max(at, cg_field_reach(f->alts[i], ok));
	return at;
}

/* the registry index of the last layer e reads (-1: none); clears *ok if
 * e reads what only exists after the walk, or what is not a field */
static int cg_expr_reach(const struct hq_expr *e, bool *ok)
{
	if (!e)
		return -1;
	int at = -1;
	if (e->kind == HQ_EX_CALL || (e->kind == HQ_EX_NAME && e->derived))
		*ok = false;
	else if (e->kind == HQ_EX_NAME && e->field)
		at = cg_field_reach(e->field, ok);
	else if (e->kind == HQ_EX_NAME && e->layer)
		at = e->layer->index;
	at = cg_max(at, cg_expr_reach(e->lhs, ok));
	at = cg_max(at, cg_expr_reach(e->rhs, ok));
	for (int i = 0; i < e->items.n; i++)
		at = cg_max(at, cg_expr_reach(e->items.items[i], ok));
	return at;
}

/* The walk position after which every query of the hook can test its
 * clause (-1: some query cannot, or nothing is left to skip). */
static int cg_where_point(struct cg *cg)
{
	int at = -1;
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = &cg->plan->qplans[i];
		if (!cg_query_in_hook(cg, qp))
			continue;
		bool ok = qp->q->layer && qp->q->where;
		if (!ok)
			return -1;
		at = cg_max(at, cg_max(qp->q->layer->index, cg_expr_reach(qp->q->where, &ok)));
		if (!ok)
			return -1;
	}
	bool ahead = false;
	for (int i = at + 1; at >= 0 && i < cg->proto->n_layers; i++) {
		const struct hq_layer *u = cg->proto->layers[i];
		const struct cg_layer *st = &cg->layers[u->index];
		if (st->needed && st->lasting)
			return -1;
		ahead = ahead || (st->needed && !u->pseudo);
	}
	return ahead ? at : -1;
}

/* does f need l's walker (an output of it, or a `when` on any field)? */
static bool cg_field_walked(const struct hq_field *f, const struct hq_layer *l)
{
	if (f->layer == l && (f->src != HQ_FS_FIXED || f->when_field))
		return true;
	for (int i = 0; i < f->n_alts; i++)
		if (cg_field_walked(f->alts[i], l))
			return true;
	return false;
}

static bool cg_expr_walked(const struct hq_expr *e, const struct hq_layer *l)
{
	if (!e)
		return false;
	if (e->kind == HQ_EX_NAME && e->field && cg_field_walked(e->field, l))
		return true;
	if (cg_expr_walked(e->lhs, l) || cg_expr_walked(e->rhs, l))
		return true;
	for (int i = 0; i < e->items.n; i++)
		if (cg_expr_walked(e->items.items[i], l))
			return true;
	return false;
}

/* Can the clauses be tested in the body of the layer where_at names,
 * before its walker runs? When every query is on that layer, the clauses
 * read none of its walker's outputs and the walker keeps no state beyond
 * the packet: then a refused packet skips the walker too (the UDP payload
 * bounds of `udp where dst_port == 53 log dns.qname`). A packet without
 * the layer matches no query: it leaves after the layer's parse. */
static bool cg_where_in_body(struct cg *cg)
{
	const struct hq_layer *l = cg->where_at >= 0 ? cg->proto->layers[cg->where_at] : NULL;
	if (!l || !l->walker || l->pseudo || cg->layers[l->index].lasting)
		return false;
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = &cg->plan->qplans[i];
		if (cg_query_in_hook(cg, qp) &&
		    (qp->q->layer != l || cg_expr_walked(qp->q->where, l)))
			return false;
	}
	return true;
}

void cg_exit_where_plan(struct cg *cg)
{
	cg->where_at = cg_where_point(cg);
	cg->where_in_body = cg_where_in_body(cg);
}

/* Each query's layer present and its clause holding, or the program
 * returns. */
static void cg_where_test(struct cg *cg)
{
	LLVMBasicBlockRef on = cg_block(cg, "where_on");
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = &cg->plan->qplans[i];
		if (!cg_query_in_hook(cg, qp))
			continue;
		const struct hq_query *q = qp->q;
		LLVMBasicBlockRef test = cg_block(cg, "where_test"),
		                  next = cg_block(cg, "where_next");
		LLVMBuildCondBr(cg->b, cg_layer_ok(cg, q->layer), test, next);
		LLVMPositionBuilderAtEnd(cg->b, test);
		struct cg_hdr_mark mark = cg_hdr_begin(cg, q->layer, next);
		LLVMValueRef m = cg_truth(cg, cg_expr(cg, q, q->where));
		/* laundered as the query's own verdict: the walk goes on with
		 * the same verifier state whichever clause let it */
		LLVMBuildCondBr(cg->b, cg_launder(cg, m), on, next);
		cg_hdr_end(cg, mark);
		LLVMPositionBuilderAtEnd(cg->b, next);
	}
	LLVMBuildBr(cg->b, cg->exit_bb);
	LLVMPositionBuilderAtEnd(cg->b, on);
}

void cg_exit_where(struct cg *cg, const struct hq_layer *l)
{
	if (l->index != cg->where_at)
		return;
	if (!cg->where_in_body) {
		cg_where_test(cg);
		return;
	}
	LLVMBasicBlockRef on = cg_block(cg, "where_layer");
	LLVMBuildCondBr(cg->b, cg_layer_ok(cg, l), on, cg->exit_bb);
	LLVMPositionBuilderAtEnd(cg->b, on);
}

/* the clauses' header checks nest in the body's (cg_hdr_begin) */
void cg_exit_where_body(struct cg *cg, const struct hq_layer *l)
{
	if (l->index == cg->where_at && cg->where_in_body)
		cg_where_test(cg);
}
