/* cg_fast.c — the fast reject: a direct walk of the header chain, before
 * the full walk, that lets go of the packets no query of the hook can
 * match.
 *
 * The full walk (cg_parse.c) keeps every layer's flags and offsets in
 * scratch cells, so that the verifier's work stays bounded whatever the
 * path through the headers; every packet pays for those loads and stores,
 * most of all the many that match nothing. This walk follows one chain of
 * headers in registers instead: from the root, into the child that a fixed
 * field of the parent selects (eth.type, ip.proto), with the full walk's
 * facts from the registry — the fixed header in the frame, `valid`,
 * `stop_if`, the header length, `next_if`, the IP payload bounding the
 * layer above it. It walks only the layers that can change the decision
 * (cg_layer.fast_walks): the queries' layers, those of the fields their
 * where clauses read, those whose parse keeps state, and what they sit on.
 * Where no such child follows, the chain is complete: it is exactly the
 * ones the packet carries. A query can match only
 * if its layer is one of them and its where clause holds, read from their
 * headers; if no query can, the program returns.
 *
 * Everything else goes to the full walk (struct cg_fast.full), which
 * decides as before: a header cut short, invalid or stopped; a child a
 * walker selects (VLAN tags, IPv6 extension headers); a layer whose walker
 * decides its presence or keeps state (dns, http; tcp with retransmit);
 * a query whose layer is there and whose where clause reads more than
 * fixed fields. Only "no query matches" is decided here. The full walk
 * reads the packet pointers afresh (cg_prog.c), so nothing of this walk is
 * live in it, and the verifier prunes it to one pass.
 *
 * HDRQ_NO_FAST in the environment leaves the fast reject out (the
 * equivalence test compares both programs' output).
 */
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "cg_walk.h"

#define CG_FAST_DEPTH 8

struct cg_fast {
	const struct hq_layer *layer[CG_FAST_DEPTH]; /* the chain, root first */
	LLVMValueRef hdr[CG_FAST_DEPTH];             /* ptr: each one's header */
	int n;
	LLVMBasicBlockRef full; /* the full walk */
};

static int cg_fast_find(const struct cg_fast *fs, const struct hq_layer *l)
{
	for (int i = 0; i < fs->n; i++)
		if (fs->layer[i] == l)
			return i;
	return -1;
}

/* Is l in the packet, as far as the chain walked so far tells? A pseudo
 * layer is there with any of its parents (or always, without one). */
bool cg_fast_has(struct cg *cg, const struct hq_layer *l)
{
	const struct cg_fast *fs = cg->fast;
	if (!l->pseudo)
		return cg_fast_find(fs, l) >= 0;
	for (int i = 0; i < l->n_links; i++)
		if (cg_fast_find(fs, l->links[i].parent) >= 0)
			return true;
	return l->n_links == 0;
}

LLVMValueRef cg_fast_hdr(struct cg *cg, const struct hq_layer *l)
{
	int i = cg_fast_find(cg->fast, l);
	return i < 0 ? NULL : cg->fast->hdr[i];
}

/* go on where cond holds, else leave the packet to the full walk */
void cg_fast_need(struct cg *cg, LLVMValueRef cond)
{
	LLVMBasicBlockRef go = cg_block(cg, "fast");
	LLVMBuildCondBr(cg->b, cond, go, cg->fast->full);
	LLVMPositionBuilderAtEnd(cg->b, go);
}

static bool cg_fast_field_ok(const struct hq_field *f)
{
	if (f->type == HQ_T_STR)
		return false;
	if (f->src == HQ_FS_FIRST) {
		for (int i = 0; i < f->n_alts; i++)
			if (!cg_fast_field_ok(f->alts[i]))
				return false;
		return true;
	}
	return f->src == HQ_FS_FIXED && (!f->when_field || cg_fast_field_ok(f->when_field));
}

/* Does e read only fixed fields (through alternatives and `when`), so that
 * this walk can evaluate it on any chain? */
static bool cg_fast_expr_ok(const struct hq_expr *e)
{
	if (!e)
		return true;
	if (e->kind == HQ_EX_NAME && e->ref != HQ_REF_LAYER && e->ref != HQ_REF_CONST &&
	    (e->ref != HQ_REF_FIELD || !cg_fast_field_ok(e->field)))
		return false;
	if (e->kind == HQ_EX_CALL)
		return false;
	for (int i = 0; i < e->items.n; i++)
		if (!cg_fast_expr_ok(e->items.items[i]))
			return false;
	return cg_fast_expr_ok(e->lhs) && cg_fast_expr_ok(e->rhs);
}

/* Query i if it is in this hook and its layer is there, else NULL. */
static const struct hq_query *cg_fast_present(struct cg *cg, int i)
{
	const struct hq_qplan *qp = &cg->plan->qplans[i];
	const struct hq_query *q = qp->q;
	if (!cg_query_in_hook(cg, qp) || (q->layer && !cg_fast_has(cg, q->layer)))
		return NULL;
	return q;
}

/* Is some query's layer there with no where clause this walk can test?
 * Then only the full walk can tell whether it matches. */
static bool cg_fast_open(struct cg *cg)
{
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_query *q = cg_fast_present(cg, i);
		if (q && (!q->where || !cg_fast_expr_ok(q->where)))
			return true;
	}
	return false;
}

/* The chain is complete: leave if no query can match, else go on to the
 * full walk. */
static void cg_fast_decide(struct cg *cg)
{
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_query *q = cg_fast_present(cg, i);
		if (!q)
			continue;
		if (!q->where) { /* cg_fast_open sent it to the full walk before */
			LLVMBuildBr(cg->b, cg->fast->full);
			return;
		}
		LLVMValueRef m = cg_truth(cg, cg_expr(cg, q, q->where));
		LLVMBasicBlockRef next = cg_block(cg, "fast_next_query");
		LLVMBuildCondBr(cg->b, m, cg->fast->full, next);
		LLVMPositionBuilderAtEnd(cg->b, next);
	}
	LLVMBuildBr(cg->b, cg->exit_bb);
}

/* Does l follow another layer of the chain than its parent too? */
static bool cg_fast_other_parent(struct cg *cg, const struct hq_layer *l,
                                 const struct hq_layer *parent)
{
	for (int i = 0; i < l->n_links; i++)
		if (l->links[i].parent != parent && cg_fast_find(cg->fast, l->links[i].parent) >= 0)
			return true;
	return false;
}

/* Can the walk go from parent into l? Not where a walker decides whether
 * l is there or where its children start, nor where parsing it keeps
 * state, nor over IPv6 (its payload length counts extension headers). */
static bool cg_fast_enters(struct cg *cg, const struct hq_layer *l, const struct hq_layer *parent)
{
	const struct cg_walker *w = cg_walker_find(l->walker);
	if (l->pseudo || l->n_yield || (w && w->judges) || cg_fast_other_parent(cg, l, parent))
		return false;
	if (cg_above_ip(l) && strcmp(parent->name, "ip"))
		return false;
	return !(w && w->lasting && w->lasting(cg, l));
}

#define CG_FAST_KIDS 32

/* A link from l of a layer the walk follows. */
struct cg_fast_kid {
	const struct hq_layer *layer;
	const struct hq_link *link;
};

/* The links from l of the layers the walk follows, in registry order;
 * how many (more than CG_FAST_KIDS: -1). */
static int cg_fast_kids(struct cg *cg, const struct hq_layer *l, struct cg_fast_kid *out)
{
	int n = 0;
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *u = cg->proto->layers[i];
		for (int k = 0; cg->layers[u->index].fast_walks && !u->pseudo && k < u->n_links; k++) {
			if (u->links[k].parent != l)
				continue;
			if (n == CG_FAST_KIDS)
				return -1;
			out[n++] = (struct cg_fast_kid){u, &u->links[k]};
		}
	}
	return n;
}

/* Are these children told apart by one selector field, no value shared
 * between two of them? */
static bool cg_fast_kids_apart(const struct cg_fast_kid *kid, int n)
{
	for (int i = 0; i < n; i++) {
		const struct hq_link *a = kid[i].link;
		if (!cg_select_of(a) || a->field != kid[0].link->field)
			return false;
		for (int j = 0; j < i; j++)
			for (int x = 0; kid[j].layer != kid[i].layer && x < a->n_values; x++)
				for (int y = 0; y < kid[j].link->n_values; y++)
					if (a->values[x] == kid[j].link->values[y])
						return false;
	}
	return true;
}

static void cg_fast_layer(struct cg *cg, const struct hq_layer *l, LLVMValueRef p, unsigned reach);

/* Into the walked child of l that its selector picks; to the chain's end
 * where none does. */
static void cg_fast_children(struct cg *cg, const struct hq_layer *l, LLVMValueRef next,
                             unsigned reach)
{
	struct cg_fast_kid kid[CG_FAST_KIDS];
	int n = cg_fast_kids(cg, l, kid);
	if (n < 0) {
		LLVMBuildBr(cg->b, cg->fast->full);
		return;
	}
	LLVMBasicBlockRef end = cg_block(cg, "fast_end");
	if (n) {
		LLVMBasicBlockRef kids = cg_block(cg, "fast_kids");
		LLVMBuildCondBr(cg->b, cg_conds(cg, l->next_if, l->n_next_if), kids, end);
		LLVMPositionBuilderAtEnd(cg->b, kids);
	}
	bool apart = n > 0 && cg_fast_kids_apart(kid, n);
	for (int i = 0; i < n; i++) {
		const struct hq_link *a = kid[i].link;
		if (!cg_select_of(a)) { /* a walker's output selects it */
			LLVMBuildBr(cg->b, cg->fast->full);
			LLVMPositionBuilderAtEnd(cg->b, end);
			cg_fast_decide(cg);
			return;
		}
		const struct hq_layer *u = kid[i].layer;
		LLVMBasicBlockRef hit = cg_block(cg, "fast_child"), miss = cg_block(cg, "fast_not_child");
		cg_select_branch(cg, cg_field(cg, a->field), a->values, a->n_values, hit, miss);
		LLVMPositionBuilderAtEnd(cg->b, hit);
		if (apart && cg_fast_enters(cg, u, l))
			cg_fast_layer(cg, u, next, reach);
		else
			LLVMBuildBr(cg->b, cg->fast->full);
		LLVMPositionBuilderAtEnd(cg->b, miss);
	}
	LLVMBuildBr(cg->b, end);
	LLVMPositionBuilderAtEnd(cg->b, end);
	cg_fast_decide(cg);
}

/* The IPv4 header must leave room for l (cg_l3_remaining): its total
 * length minus its header length, at least l's size. */
static void cg_fast_ip_room(struct cg *cg, const struct hq_layer *l, const struct hq_layer *ip)
{
	const struct hq_field *len = proto_layer_field(ip, "len"),
	                      *hl = proto_layer_field(ip, "hdr_len");
	if (!len || !hl) {
		cg_fast_need(cg, cg_i1(cg, 0));
		return;
	}
	struct cg_val a = cg_field(cg, len), b = cg_field(cg, hl);
	LLVMValueRef ok = LLVMBuildAnd(cg->b, a.present, b.present, "");
	ok = LLVMBuildAnd(cg->b, ok, LLVMBuildICmp(cg->b, LLVMIntUGE, a.a, b.a, ""), "");
	LLVMValueRef room = LLVMBuildSub(cg->b, a.a, b.a, "");
	cg_fast_need(cg, LLVMBuildAnd(cg->b, ok,
	                              LLVMBuildICmp(cg->b, LLVMIntUGE, room,
	                                            cg_const64(cg, l->size), ""),
	                              ""));
}

/* l's header at p: the full walk's checks, then its children. reach: the
 * furthest its header can start from the frame's first byte. */
static void cg_fast_layer(struct cg *cg, const struct hq_layer *l, LLVMValueRef p, unsigned reach)
{
	struct cg_fast *fs = cg->fast;
	unsigned hmax = l->hlen ? (l->hlen_max ? l->hlen_max : 255) : l->size;
	if (fs->n == CG_FAST_DEPTH || reach + hmax > CG_MAX_OFF) {
		LLVMBuildBr(cg->b, fs->full);
		return;
	}
	const struct hq_layer *parent = fs->n ? fs->layer[fs->n - 1] : NULL;
	fs->layer[fs->n] = l;
	fs->hdr[fs->n++] = p;
	if (cg_fast_open(cg)) {
		LLVMBuildBr(cg->b, fs->full);
		fs->n--;
		return;
	}
	cg_fast_need(cg, cg_in_bounds(cg, p, l->size));
	cg_fast_need(cg, cg_conds(cg, l->valid, l->n_valid));
	for (int i = 0; i < l->n_stop; i++)
		cg_fast_need(cg, LLVMBuildNot(cg->b, cg_cond(cg, &l->stop[i]), ""));
	if (parent && cg_above_ip(l))
		cg_fast_ip_room(cg, l, parent);
	LLVMValueRef len = cg_const64(cg, l->size);
	if (l->hlen) {
		struct cg_val h = cg_field(cg, l->hlen);
		len = LLVMBuildMul(cg->b, h.a, cg_const64(cg, l->hlen_mul), "hlen");
		LLVMValueRef fits = LLVMBuildAnd(
		    cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, len, cg_const64(cg, l->size), ""),
		    LLVMBuildICmp(cg->b, LLVMIntULE, len, cg_const64(cg, hmax), ""), "");
		cg_fast_need(cg, LLVMBuildAnd(cg->b, fits, h.present, ""));
	}
	cg_fast_children(cg, l, cg_gep(cg, p, len), reach + hmax);
	fs->n--;
}

static void cg_fast_mark_layer(struct cg *cg, const struct hq_layer *l)
{
	if (!l || cg->layers[l->index].fast_walks)
		return;
	cg->layers[l->index].fast_walks = true;
	for (int i = 0; i < l->n_links; i++)
		cg_fast_mark_layer(cg, l->links[i].parent);
}

static void cg_fast_mark_field(struct cg *cg, const struct hq_field *f)
{
	cg_fast_mark_layer(cg, f->layer);
	for (int i = 0; i < f->n_alts; i++)
		cg_fast_mark_field(cg, f->alts[i]);
}

static void cg_fast_mark_expr(struct cg *cg, const struct hq_expr *e)
{
	if (!e)
		return;
	if (e->kind == HQ_EX_NAME && e->ref == HQ_REF_FIELD)
		cg_fast_mark_field(cg, e->field);
	if (e->kind == HQ_EX_NAME && e->ref == HQ_REF_LAYER)
		cg_fast_mark_layer(cg, e->layer);
	for (int i = 0; i < e->items.n; i++)
		cg_fast_mark_expr(cg, e->items.items[i]);
	cg_fast_mark_expr(cg, e->lhs);
	cg_fast_mark_expr(cg, e->rhs);
}

/* Mark the layers the walk follows (cg_layer.fast_walks). False where the
 * walk could not let any packet go that matters: a query on a pseudo
 * layer (inet: any IP packet) with nothing else to test. */
static bool cg_fast_mark(struct cg *cg)
{
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *l = cg->proto->layers[i];
		const struct cg_walker *w = cg_walker_find(l->walker);
		cg->layers[l->index].fast_walks = false;
		if (cg->layers[l->index].needed && w && w->lasting && w->lasting(cg, l))
			cg_fast_mark_layer(cg, l);
	}
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = &cg->plan->qplans[i];
		const struct hq_query *q = qp->q;
		if (!cg_query_in_hook(cg, qp))
			continue;
		if (q->layer && q->layer->pseudo && (!q->where || !cg_fast_expr_ok(q->where)))
			return false;
		cg_fast_mark_layer(cg, q->layer);
		cg_fast_mark_expr(cg, q->where);
	}
	return true;
}

/* Is there a chain to walk and a query it can let go of? Not where a
 * walked layer follows a pseudo one (its start is the frame's), nor where
 * some query may match every packet that carries the root. */
static const struct hq_layer *cg_fast_root(struct cg *cg)
{
	if (getenv("HDRQ_NO_FAST") || !cg_fast_mark(cg))
		return NULL;
	const struct hq_layer *root = NULL;
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *l = cg->proto->layers[i];
		if (!cg->layers[l->index].fast_walks)
			continue;
		if (l->root && !l->pseudo)
			root = l;
		for (int k = 0; !l->pseudo && k < l->n_links; k++)
			if (l->links[k].parent->pseudo)
				return NULL;
	}
	if (!root)
		return NULL;
	struct cg_fast probe = {.layer = {root}, .n = 1};
	cg->fast = &probe;
	bool open = cg_fast_open(cg);
	cg->fast = NULL;
	return open ? NULL : root;
}

bool cg_fast_reject(struct cg *cg)
{
	const struct hq_layer *root = cg_fast_root(cg);
	if (!root)
		return false;
	struct cg_fast fs = {.full = cg_block(cg, "full_walk")};
	cg->fast = &fs;
	if (cg->hook != CG_HOOK_XDP) /* a tag in the metadata: the full walk */
		cg_fast_need(cg, LLVMBuildNot(cg->b, cg_tc_vlan_hw(cg), ""));
	cg_fast_layer(cg, root, cg->data, 0);
	cg->fast = NULL;
	LLVMPositionBuilderAtEnd(cg->b, fs.full);
	return true;
}
