/* cg_fast.c — the fast walk: a direct walk of the header chain, before
 * the full walk, that lets go of the packets no query of the hook can
 * match and runs the queries itself on the plain ones.
 *
 * The full walk (cg_parse.c) keeps every layer's flags and offsets in
 * scratch cells, so that the verifier's work stays bounded whatever the
 * path through the headers; every packet pays for those loads and stores.
 * This walk follows one chain of headers in registers instead, as a
 * hand-written program does: from the root, into the child that a field of the
 * parent selects (eth.type, ip.proto; vlan.type and ip6.proto from their
 * walkers' plain case, cg_walker.fast: VLAN tags, IPv6 extension headers
 * within bounds), or into a child any of several links picks (dns: either
 * UDP port 53, its `yield` ports read too), with the full walk's facts
 * from the registry — the fixed
 * header in the frame, `valid`, `stop_if`, the header length, `next_if`,
 * the IP payload bounding the layer above it. It walks only the layers
 * that matter here (cg_layer.fast_walks): the queries' layers, the layers
 * of the fields their where clauses read (and, for queries it may run, all
 * they read), those whose parse keeps state, and what they sit on. Where
 * no such child follows, the chain is complete: it is exactly the ones
 * the packet carries. Then:
 *   - a query can match only if its layer is one of them and its where
 *     clause holds, read from their headers; if no query can, the program
 *     returns;
 *   - if every query whose layer is there reads only what the walk can
 *     read (fixed fields, metadata, the walker outputs it gave), they run
 *     right there (cg_query, reading fields through cg_field and
 *     cg_layer_ok, which follow the chain while it is emitted), and the
 *     program returns.
 *
 * Everything else goes to the full walk (struct cg_fast.full), which
 * decides and runs as before: a header cut short, invalid or stopped, an
 * IPv4 total length of 0 before a run; a VLAN tag stack, IPv6 extension
 * headers or IPv4 options beyond the walkers' plain case; a layer whose
 * walker decides its presence, but for its plain case (dns and http: a
 * whole datagram; qtype where the name has up to 8 labels); a query whose
 * layer is there that reads more
 * than the walk can. A packet goes there before any query ran on it here,
 * so none runs twice; state a walker keeps past the packet (tcp's
 * retransmit table) changes where the chain ends (cg_walker.fast_lasting),
 * after the last branch to the full walk, so once. The full walk reads the
 * packet pointers afresh (cg_prog.c), so nothing of this walk is live in
 * it, and the verifier prunes it to one pass.
 *
 * HDRQ_NO_FAST in the environment leaves the fast walk out (the
 * equivalence test compares both programs' output).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "cg_walk.h"

#define CG_FAST_DEPTH  8  /* layers in a chain */
#define CG_FAST_OUTS   24 /* walker outputs given along a chain */
#define CG_FAST_SHARED 16 /* walks shared between chains */

struct cg_fast {
	const struct hq_layer *layer[CG_FAST_DEPTH]; /* the chain, root first */
	LLVMValueRef hdr[CG_FAST_DEPTH];             /* ptr: each one's header */
	int n;
	struct { /* walker outputs of the chain's layers (cg_walker.fast) */
		const struct hq_layer *layer;
		const char *key;
		LLVMValueRef present, val;
		LLVMValueRef usable; /* i1: the value holds only where it does (NULL: always) */
		cg_fast_mender mend; /* the value where it does not (NULL: the full walk's) */
	} out[CG_FAST_OUTS];
	int n_out;
	struct cg_fast_shared { /* a layer's walk that several chains share */
		const struct hq_layer *layer;
		uint64_t sig; /* cg_fast_sig */
		LLVMBasicBlockRef entry;
		LLVMValueRef p; /* phi: its header */
		unsigned reach;
	} shared[CG_FAST_SHARED];
	int n_shared;
	bool running;           /* the queries are emitted (cg_fast_run) */
	LLVMBasicBlockRef full; /* the full walk */
	/* where the layer being entered turns out not to be there (its
	 * walker's cg_fast_absent_if): the end of its parent's children */
	LLVMBasicBlockRef absent;
	/* reads of walker outputs make good those that hold only on a
	 * condition, where they read (cg_fast_usable): the state changes of
	 * a chain the program leaves without running queries */
	bool mend_reads;
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

bool cg_fast_running(struct cg *cg)
{
	return cg->fast->running;
}

LLVMValueRef cg_fast_hdr(struct cg *cg, const struct hq_layer *l)
{
	int i = cg_fast_find(cg->fast, l);
	return i < 0 ? NULL : cg->fast->hdr[i];
}

void cg_fast_set(struct cg *cg, const struct hq_layer *l, const char *key, LLVMValueRef present,
                 LLVMValueRef v, LLVMValueRef usable, cg_fast_mender mend)
{
	struct cg_fast *fs = cg->fast;
	if (fs->n_out == CG_FAST_OUTS) { /* not given: the links it selects go to the full walk */
		cg_fast_need(cg, cg_i1(cg, 0));
		return;
	}
	fs->out[fs->n_out].layer = l;
	fs->out[fs->n_out].key = key;
	fs->out[fs->n_out].present = present;
	fs->out[fs->n_out].usable = usable;
	fs->out[fs->n_out].mend = mend;
	fs->out[fs->n_out++].val = v;
}

void cg_fast_set_used(struct cg *cg, const struct hq_layer *l, const char *key,
                      LLVMValueRef present, LLVMValueRef v)
{
	if (cg_field_used(cg, l, key))
		cg_fast_set(cg, l, key, present, v, NULL, NULL);
}

static LLVMValueRef cg_fast_usable(struct cg *cg, const struct hq_layer *l, const char *key,
                                   LLVMValueRef v, LLVMValueRef usable, cg_fast_mender mend);

bool cg_fast_get(struct cg *cg, const struct hq_layer *l, const char *key, struct cg_val *v)
{
	const struct cg_fast *fs = cg->fast;
	for (int i = 0; i < fs->n_out; i++)
		if (fs->out[i].layer == l && !strcmp(fs->out[i].key, key)) {
			if (v) {
				v->present = fs->out[i].present;
				v->a = fs->out[i].val;
				if (fs->mend_reads && fs->out[i].usable)
					v->a = cg_fast_usable(cg, l, key, v->a, fs->out[i].usable,
					                      fs->out[i].mend);
			}
			return true;
		}
	return false;
}

bool cg_fast_get_under(struct cg *cg, const struct hq_layer *l, const char *key, struct cg_val *v)
{
	int i = cg_fast_find(cg->fast, l);
	return i > 0 && cg_fast_get(cg, cg->fast->layer[i - 1], key, v);
}

/* Does parsing l keep state past the packet (cg_walker.lasting)? */
static bool cg_fast_lasts(struct cg *cg, const struct hq_layer *l)
{
	const struct cg_walker *w = cg_walker_find(l->walker);
	return w && w->lasting && w->lasting(cg, l);
}

/* The chain's state changes (cg_walker.fast_lasting), where it ends: the
 * program leaves, or runs the queries, right after. */
static void cg_fast_last(struct cg *cg)
{
	const struct cg_fast *fs = cg->fast;
	for (int i = 0; i < fs->n; i++)
		if (cg_fast_lasts(cg, fs->layer[i]))
			cg_walker_find(fs->layer[i]->walker)
			    ->fast_lasting(cg, fs->layer[i], fs->hdr[i]);
}

/* The outputs the chain's walkers work out only for the queries
 * (cg_walker.fast_late), where it runs them. */
static void cg_fast_late(struct cg *cg)
{
	const struct cg_fast *fs = cg->fast;
	for (int i = 0; i < fs->n; i++) {
		const struct cg_walker *w = cg_walker_find(fs->layer[i]->walker);
		if (w && w->fast_late)
			w->fast_late(cg, fs->layer[i], fs->hdr[i]);
	}
}

/* The field link k selects by, where the walk can read it: a fixed one of
 * the parent, or an output its walker gave (cg_walker.fast). */
static const struct hq_field *cg_fast_selector(struct cg *cg, const struct hq_link *k)
{
	const struct hq_field *f = k->field;
	if (cg_select_of(k))
		return f;
	if (f && f->src == HQ_FS_WALKER && f->layer == k->parent &&
	    cg_fast_get(cg, k->parent, f->key, NULL))
		return f;
	return NULL;
}

/* go on where cond holds, else leave the packet to the full walk */
void cg_fast_need(struct cg *cg, LLVMValueRef cond)
{
	if (cg->fast->running) {
		fprintf(stderr, "hdrq: internal error: fast walk leaves a running query\n");
		abort();
	}
	cg_need(cg, cg->fast->full, cond);
}

void cg_fast_absent_if(struct cg *cg, LLVMValueRef cond)
{
	LLVMBasicBlockRef go = cg_block(cg, "fast_there");
	LLVMBuildCondBr(cg->b, cond, cg->fast->absent, go);
	LLVMPositionBuilderAtEnd(cg->b, go);
}

/* What the walk is asked about a field: can a where clause of it be
 * tested on any chain (TEST: fixed fields); can a query reading it run on
 * some chain (MAY: walker outputs a walker's `fast` gives or works out
 * late, metadata too; any output of dns and http, whose absence the walk
 * decides); on the complete chain just walked (NOW); on any chain that
 * holds its layer (ANY: what MAY takes, but for outputs not given)? */
enum cg_fast_ask { CG_FAST_TEST, CG_FAST_MAY, CG_FAST_NOW, CG_FAST_ANY };

static bool cg_fast_meta_ok(const char *key)
{
	static const char *const ok[] = {"len", "dir", "num", "ts", "ifindex"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(key, ok[i]))
			return true;
	return false;
}

static bool cg_fast_key_in(const char *const *keys, const char *key)
{
	for (const char *const *k = keys; k && *k; k++)
		if (!strcmp(*k, key))
			return true;
	return false;
}

/* an output the walker of f's layer works out where queries run */
static bool cg_fast_gives_late(const struct hq_field *f)
{
	const struct cg_walker *w = cg_walker_find(f->layer->walker);
	return w && w->fast_late && cg_fast_key_in(w->fast_late_keys, f->key);
}

static bool cg_fast_gives(const struct hq_field *f)
{
	const struct cg_walker *w = cg_walker_find(f->layer->walker);
	return (w && (w->fast || w->fast_lasting) && cg_fast_key_in(w->fast_keys, f->key)) ||
	       cg_fast_gives_late(f);
}

/* a walker's `hdr.` output: derived from the layer's header length */
static bool cg_fast_hdr_key(const struct hq_field *f)
{
	return cg_hdr_key(f) && f->layer->hlen;
}

/* Does the fast walk decide whether f's layer is there (dns, http)? Then
 * a query reading f, given or not, may run where the layer is not. */
static bool cg_fast_decides(const struct hq_field *f)
{
	const struct cg_walker *w = cg_walker_find(f->layer->walker);
	return w && w->fast && w->fast_decides;
}

static bool cg_fast_field_ok(struct cg *cg, const struct hq_field *f, enum cg_fast_ask ask)
{
	if (f->src == HQ_FS_FIRST) {
		for (int i = 0; i < f->n_alts; i++)
			if (!cg_fast_field_ok(cg, f->alts[i], ask))
				return false;
		return true;
	}
	if (f->src == HQ_FS_META)
		return ask != CG_FAST_TEST && cg_fast_meta_ok(f->key);
	if (ask == CG_FAST_NOW && !f->layer->pseudo && !cg_fast_has(cg, f->layer))
		return cg->layers[f->layer->index].fast_walks; /* absent, if the walk looked */
	if (f->type == HQ_T_STR && !(f->src == HQ_FS_WALKER && cg_fast_gives(f)))
		return ask == CG_FAST_MAY && cg_fast_decides(f); /* where the layer is not */
	if (cg_fast_hdr_key(f))
		return cg_fast_field_ok(cg, f->layer->hlen, ask);
	if (f->src == HQ_FS_WALKER) /* lasting and late outputs: given where the chain ends */
		return ask == CG_FAST_NOW ? cg_fast_get(cg, f->layer, f->key, NULL) ||
		                                (cg_fast_lasts(cg, f->layer) && cg_fast_gives(f)) ||
		                                cg_fast_gives_late(f)
		       : ask == CG_FAST_MAY ? cg_fast_gives(f) || cg_fast_decides(f)
		       : ask == CG_FAST_ANY ? cg_fast_gives(f)
		                            : false;
	return !f->when_field || cg_fast_field_ok(cg, f->when_field, ask);
}

static bool cg_fast_expr_ok(struct cg *cg, const struct hq_expr *e, enum cg_fast_ask ask)
{
	if (!e)
		return true;
	if (e->kind == HQ_EX_NAME && e->ref != HQ_REF_LAYER && e->ref != HQ_REF_CONST &&
	    (e->ref != HQ_REF_FIELD || !cg_fast_field_ok(cg, e->field, ask)))
		return false;
	if (e->kind == HQ_EX_CALL && ask == CG_FAST_TEST)
		return false;
	for (int i = 0; i < e->items.n; i++)
		if (!cg_fast_expr_ok(cg, e->items.items[i], ask))
			return false;
	return cg_fast_expr_ok(cg, e->lhs, ask) && cg_fast_expr_ok(cg, e->rhs, ask);
}

static bool cg_fast_slots_ok(struct cg *cg, const struct hq_slot *s, int n, enum cg_fast_ask ask)
{
	for (int i = 0; i < n; i++)
		if (s[i].expr ? !cg_fast_expr_ok(cg, s[i].expr, ask)
		              : !s[i].field || !cg_fast_field_ok(cg, s[i].field, ask))
			return false;
	return true;
}

/* Can the where clause be tested (TEST), or the whole query run (MAY,
 * NOW: its where clause, what it logs, its keys and aggregates)? */
static bool cg_fast_query_ok(struct cg *cg, const struct hq_qplan *qp, enum cg_fast_ask ask)
{
	const struct hq_query *q = qp->q;
	if (ask == CG_FAST_TEST)
		return q->where && cg_fast_expr_ok(cg, q->where, ask);
	if (cg->plan->opts.write_packets || !cg_fast_expr_ok(cg, q->where, ask) ||
	    !cg_fast_slots_ok(cg, qp->fields, qp->n_fields, ask) ||
	    !cg_fast_slots_ok(cg, qp->keys, qp->n_keys, ask))
		return false;
	for (int i = 0; i < qp->n_aggs; i++)
		if (!cg_fast_expr_ok(cg, qp->aggs[i].arg, ask))
			return false;
	return true;
}

/* Query i if it is in this hook and its layer is there, else NULL. */
static const struct hq_qplan *cg_fast_present(struct cg *cg, int i)
{
	const struct hq_qplan *qp = &cg->plan->qplans[i];
	const struct hq_layer *l = qp->q->layer;
	if (!cg_query_in_hook(cg, qp) || (l && !cg_fast_has(cg, l)))
		return NULL;
	return qp;
}

/* Is some query's layer there, with no where clause this walk can test,
 * and no way (ask: MAY) to run the query at the chain's end? Then only
 * the full walk can tell whether it matches. */
static bool cg_fast_open(struct cg *cg, enum cg_fast_ask ask)
{
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = cg_fast_present(cg, i);
		if (qp && !cg_fast_query_ok(cg, qp, CG_FAST_TEST) && !cg_fast_query_ok(cg, qp, ask))
			return true;
	}
	return false;
}

/* The value of a walker output that queries read, where it holds only
 * on a condition (ip.dst: no IPv4 options): else its mender's value, or
 * the full walk. */
static LLVMValueRef cg_fast_usable(struct cg *cg, const struct hq_layer *l, const char *key,
                                   LLVMValueRef v, LLVMValueRef usable, cg_fast_mender mend)
{
	if (!mend) {
		cg_fast_need(cg, usable);
		return v;
	}
	LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b), other = cg_block(cg, "fast_mend"),
	                  join = cg_block(cg, "fast_mended");
	LLVMBuildCondBr(cg->b, usable, join, other);
	LLVMPositionBuilderAtEnd(cg->b, other);
	LLVMValueRef m = mend(cg, l, cg_fast_hdr(cg, l));
	LLVMBasicBlockRef bb[2] = {from, LLVMGetInsertBlock(cg->b)};
	LLVMBuildBr(cg->b, join);
	LLVMPositionBuilderAtEnd(cg->b, join);
	LLVMValueRef vv[2] = {v, m};
	return cg_phi(cg, key, vv, bb, 2);
}

/* Leave where the chain ends: the chain's lasting state changed
 * (cg_fast_last); then, if run, the queries whose layer is there. The
 * walker outputs that hold only on a condition are made good first
 * (cg_fast_usable) where queries run, else where the state change reads
 * them (tcp's flow key, only for the flows its where clauses take).
 * holds: a query whose where clause is known to hold here, or NULL. */
static void cg_fast_leave(struct cg *cg, bool run, const struct hq_qplan *holds)
{
	struct cg_fast *fs = cg->fast;
	LLVMValueRef given[CG_FAST_OUTS]; /* the values before, for the other chains */
	int n_out = fs->n_out;
	for (int i = 0; i < fs->n_out; i++) {
		given[i] = fs->out[i].val;
		if (run && fs->out[i].usable && cg_field_used(cg, fs->out[i].layer, fs->out[i].key))
			fs->out[i].val =
			    cg_fast_usable(cg, fs->out[i].layer, fs->out[i].key, fs->out[i].val,
			                   fs->out[i].usable, fs->out[i].mend);
	}
	if (run)
		cg_fast_late(cg);
	fs->mend_reads = !run;
	cg_fast_last(cg);
	fs->mend_reads = false;
	if (run) {
		cg_fast_query_prologue(cg);
		fs->running = true; /* nothing may go to the full walk now */
		for (int i = 0; i < cg->plan->n_qplans; i++)
			if (cg_fast_present(cg, i))
				cg_query(cg, &cg->plan->qplans[i], &cg->plan->qplans[i] == holds);
		fs->running = false;
		cg->ifindex = NULL;
	}
	for (int i = 0; i < n_out; i++)
		fs->out[i].val = given[i];
	fs->n_out = n_out;
	LLVMBuildBr(cg->b, cg->exit_bb);
}

/* Has every query whose layer is there a where clause the walk can test? */
static bool cg_fast_testable(struct cg *cg)
{
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = cg_fast_present(cg, i);
		if (qp && !cg_fast_query_ok(cg, qp, CG_FAST_TEST))
			return false;
	}
	return true;
}

/* On to `some` where the where clause of a query whose layer is there
 * holds; the builder goes on where none does (cg_fast_testable first). */
static void cg_fast_where_any(struct cg *cg, LLVMBasicBlockRef some)
{
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = cg_fast_present(cg, i);
		if (!qp)
			continue;
		LLVMValueRef m = cg_truth(cg, cg_expr(cg, qp->q, qp->q->where));
		LLVMBasicBlockRef next = cg_block(cg, "fast_next_query");
		LLVMBuildCondBr(cg->b, m, some, next);
		LLVMPositionBuilderAtEnd(cg->b, next);
	}
}

/* Run the queries of the complete chain here, and leave: where every one
 * whose layer is there reads only what the walk can read (the outputs
 * walkers gave on a condition made good first, those they work out late
 * once a where clause holds); each query tests its where clause. Where
 * the clauses can be tested and none holds, the program leaves first:
 * packets no query takes need not pay for the queries' prologue (time
 * stamp, interface, frame length) nor the late outputs (cg_fast_late).
 * Where that test was one query's clause, the query need not test it
 * again: a clause the walk can test reads the headers alone, which read
 * the same after the prologue. */
static bool cg_fast_run(struct cg *cg)
{
	int present = 0;
	const struct hq_qplan *last = NULL;
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = cg_fast_present(cg, i);
		if (qp && !cg_fast_query_ok(cg, qp, CG_FAST_NOW))
			return false;
		present += qp != NULL;
		last = qp ? qp : last;
	}
	const struct hq_qplan *holds = NULL;
	if (present && cg_fast_testable(cg)) {
		LLVMBasicBlockRef take = cg_block(cg, "fast_take");
		cg_fast_where_any(cg, take);
		cg_fast_leave(cg, false, NULL);
		LLVMPositionBuilderAtEnd(cg->b, take);
		holds = present == 1 ? last : NULL;
	}
	cg_fast_leave(cg, present > 0, holds); /* none present: none can match */
	return true;
}

/* The chain is complete: run the queries here (cg_fast_run), or leave if
 * no where clause holds, else go on to the full walk. */
static void cg_fast_decide(struct cg *cg)
{
	if (cg_fast_run(cg))
		return;
	if (!cg_fast_testable(cg)) {
		LLVMBuildBr(cg->b, cg->fast->full);
		return;
	}
	cg_fast_where_any(cg, cg->fast->full);
	cg_fast_leave(cg, false, NULL);
}

/* Can the walk go from parent into l? Not where a walker decides whether
 * l is there or where its children start (but for its plain case), nor
 * where parsing it keeps state, nor above an IP header whose payload
 * length it does not know, nor where l yields to ports (cg_yielded) the
 * walk cannot read. */
static bool cg_fast_enters(struct cg *cg, const struct hq_layer *l, const struct hq_layer *parent)
{
	const struct cg_walker *w = cg_walker_find(l->walker);
	if (l->pseudo || (w && w->judges && !w->fast))
		return false;
	if (l->n_yield && (l->yield_a->src != HQ_FS_FIXED || l->yield_b->src != HQ_FS_FIXED))
		return false;
	if (cg_above_ip(l) && !cg_fast_get(cg, parent, "payload_len", NULL))
		return false;
	return !cg_fast_lasts(cg, l) || w->fast_lasting;
}

#define CG_FAST_KIDS 32

/* A link from l of a layer the walk follows. */
struct cg_fast_kid {
	const struct hq_layer *layer;
	const struct hq_link *link;
};

/* Is a u or a layer above it (through its links' parents)? */
static bool cg_fast_above(const struct hq_layer *a, const struct hq_layer *u, int depth)
{
	if (a == u)
		return true;
	for (int i = 0; depth < CG_FAST_DEPTH && i < a->n_links; i++)
		if (a->links[i].parent && cg_fast_above(a->links[i].parent, u, depth + 1))
			return true;
	return false;
}

/* Can anything on a chain through u matter: a query there or on its
 * way (its layer, in this hook, is u, above it, in the chain already, or
 * an umbrella), or state u's parse keeps? Else the walk stops short of u:
 * no query can run on such a chain, whatever it reads. */
static bool cg_fast_matters(struct cg *cg, const struct hq_layer *u)
{
	if (cg_fast_lasts(cg, u))
		return true;
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = &cg->plan->qplans[i];
		const struct hq_layer *ql = qp->q->layer;
		if (cg_query_in_hook(cg, qp) &&
		    (!ql || ql->pseudo || cg_fast_has(cg, ql) || cg_fast_above(ql, u, 0)))
			return true;
	}
	return false;
}

/* The links from l of the layers the walk follows, in registry order;
 * how many (more than CG_FAST_KIDS: -1). */
static int cg_fast_kids(struct cg *cg, const struct hq_layer *l, struct cg_fast_kid *out)
{
	int n = 0;
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *u = cg->proto->layers[i];
		if (!cg->layers[u->index].fast_walks || u->pseudo || !cg_fast_matters(cg, u))
			continue;
		for (int k = 0; k < u->n_links; k++) {
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
 * between two of them? The walk enters a child only then, so no layer of
 * the chain can reach a later one through another link of it: each chose
 * its one child. */
static bool cg_fast_kids_apart(struct cg *cg, const struct cg_fast_kid *kid, int n)
{
	for (int i = 0; i < n; i++) {
		const struct hq_link *a = kid[i].link;
		if (!cg_fast_selector(cg, a) || a->field != kid[0].link->field)
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

#define CG_FAST_PASS_MAX 64 /* largest fixed header walked through */

static bool cg_fast_same_values(const struct hq_link *a, const struct hq_link *b)
{
	if (a->n_values != b->n_values)
		return false;
	for (int i = 0; i < a->n_values; i++)
		if (a->values[i] != b->values[i])
			return false;
	return true;
}

/* Can the walk go through child kid[vi] of l without a chain of its own,
 * back to l's choice among the others? Where no query reads it, it is one
 * fixed header whose walker gives the selector of its children (VLAN
 * tags), and its children are l's others, chosen by the same values. The
 * chains after it are then the same as without it, and are emitted once. */
static bool cg_fast_through(struct cg *cg, const struct hq_layer *l, const struct cg_fast_kid *kid,
                            int n, int vi)
{
	const struct hq_layer *v = kid[vi].layer;
	const struct cg_walker *w = cg_walker_find(v->walker);
	if (cg->layers[v->index].fast_read || v->n_next_if || v->hlen || v->n_stop ||
	    v->size > CG_FAST_PASS_MAX || !w || !w->fast || !cg_fast_enters(cg, v, l))
		return false;
	struct cg_fast_kid vk[CG_FAST_KIDS];
	int m = cg_fast_kids(cg, v, vk);
	if (m != n - 1)
		return false;
	for (int i = 0; i < m; i++) {
		const struct hq_field *f = vk[i].link->field;
		if (!f || f != vk[0].link->field || f->layer != v || !cg_fast_gives(f) ||
		    cg_above_ip(vk[i].layer))
			return false;
		int j = 0;
		while (j < n && (j == vi || kid[j].layer != vk[i].layer ||
		                 !cg_fast_same_values(kid[j].link, vk[i].link)))
			j++;
		if (j == n)
			return false;
	}
	return true;
}

/* Walk through k's layer (cg_fast_through) where the selector v picks it:
 * its checks and its walker's plain case; then v and next are its
 * children's selector and start, else l's. */
static void cg_fast_pass(struct cg *cg, const struct cg_fast_kid *k, struct cg_val *v,
                         LLVMValueRef *next)
{
	struct cg_fast *fs = cg->fast;
	const struct hq_layer *l = k->layer;
	LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b), in = cg_block(cg, "fast_through"),
	                  join = cg_block(cg, "fast_through_done");
	cg_select_branch(cg, *v, k->link->values, k->link->n_values, in, join);
	LLVMBasicBlockRef test = LLVMGetInsertBlock(cg->b); /* the switch's */
	LLVMPositionBuilderAtEnd(cg->b, in);
	int n_out = fs->n_out;
	fs->layer[fs->n] = l;
	fs->hdr[fs->n++] = *next;
	cg_fast_need(cg, cg_in_bounds(cg, *next, l->size));
	cg_fast_need(cg, cg_conds(cg, l->valid, l->n_valid));
	LLVMValueRef wnext = cg_walker_find(l->walker)->fast(cg, l, *next);
	struct cg_fast_kid vk[CG_FAST_KIDS];
	cg_fast_kids(cg, l, vk);
	struct cg_val w = {.present = cg_i1(cg, 0), .a = cg_const64(cg, 0)};
	cg_fast_get(cg, l, vk[0].link->field->key, &w);
	if (!wnext)
		wnext = cg_gepc(cg, *next, l->size);
	fs->n--;
	fs->n_out = n_out;
	LLVMBasicBlockRef done = LLVMGetInsertBlock(cg->b);
	LLVMBuildBr(cg->b, join);
	LLVMPositionBuilderAtEnd(cg->b, join);
	LLVMBasicBlockRef bb[3] = {from, test, done};
	LLVMValueRef pv[3] = {v->present, v->present, w.present}, av[3] = {v->a, v->a, w.a},
	             nv[3] = {*next, *next, wnext};
	v->present = cg_phi(cg, "sel_present", pv, bb, 3);
	v->a = cg_phi(cg, "sel", av, bb, 3);
	*next = cg_phi(cg, "next", nv, bb, 3);
}

/* Into child l of the chain's last layer; where l's walker finds that it
 * is not there after all, on to `absent` (cg_fast_absent_if). */
static void cg_fast_enter(struct cg *cg, const struct hq_layer *l, LLVMValueRef p, unsigned reach,
                          LLVMBasicBlockRef absent)
{
	LLVMBasicBlockRef before = cg->fast->absent;
	cg->fast->absent = absent;
	cg_fast_layer(cg, l, p, reach);
	cg->fast->absent = before;
}

/* One switch on the selector the children share: into the one it picks,
 * to `end` where none does. */
static void cg_fast_switch(struct cg *cg, const struct hq_layer *l, const struct cg_fast_kid *kid,
                           int n, struct cg_val v, LLVMValueRef next, unsigned reach,
                           LLVMBasicBlockRef end)
{
	LLVMBasicBlockRef sel = cg_block(cg, "fast_select"), hit[CG_FAST_KIDS];
	LLVMBuildCondBr(cg->b, v.present, sel, end);
	LLVMPositionBuilderAtEnd(cg->b, sel);
	LLVMValueRef sw = LLVMBuildSwitch(cg->b, v.a, end, 0);
	for (int i = 0; i < n; i++) {
		int j = 0;
		while (j < i && kid[j].layer != kid[i].layer)
			j++;
		if (!kid[i].layer) /* walked through (cg_fast_through) */
			continue;
		hit[i] = j < i ? hit[j] : cg_block(cg, "fast_child");
		for (int x = 0; x < kid[i].link->n_values; x++) {
			uint64_t val = kid[i].link->values[x];
			bool dup = false; /* a switch takes each value once */
			for (int k = 0; k <= i && !dup; k++)
				for (int y = 0; y < (k < i ? kid[k].link->n_values : x) && !dup;
				     y++)
					dup = kid[k].link->values[y] == val;
			if (!dup)
				LLVMAddCase(sw, cg_const64(cg, val), hit[i]);
		}
		if (j < i)
			continue;
		LLVMPositionBuilderAtEnd(cg->b, hit[i]);
		if (cg_fast_enters(cg, kid[i].layer, l))
			cg_fast_enter(cg, kid[i].layer, next, reach, end);
		else
			LLVMBuildBr(cg->b, cg->fast->full);
	}
}

/* Is there one walked child of l, through links of several selectors
 * the walk can read (dns: either UDP port 53), which the walk can enter?
 * The walk enters it where any link holds: the full walk's test. */
static bool cg_fast_one_child(struct cg *cg, const struct hq_layer *l,
                              const struct cg_fast_kid *kid, int n)
{
	for (int i = 0; i < n; i++)
		if (kid[i].layer != kid[0].layer || !cg_fast_selector(cg, kid[i].link))
			return false;
	return n > 0 && cg_fast_enters(cg, kid[0].layer, l);
}

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
	if (n && cg_fast_kids_apart(cg, kid, n)) {
		struct cg_val v = cg_field(cg, kid[0].link->field);
		for (int i = 0; i < n; i++)
			if (cg_fast_through(cg, l, kid, n, i)) {
				cg_fast_pass(cg, &kid[i], &v, &next);
				reach += CG_FAST_PASS_MAX +
				         cg_walker_find(kid[i].layer->walker)->fast_span;
				kid[i].layer = NULL;
				break;
			}
		cg_fast_switch(cg, l, kid, n, v, next, reach, end);
		LLVMPositionBuilderAtEnd(cg->b, end);
		cg_fast_decide(cg);
		return;
	}
	/* links of several selectors: where one holds, into the one child
	 * the walk can enter (cg_fast_one_child), else the full walk, which
	 * tells which of them it takes; a selector the walk lacks (a walker's
	 * output): the full walk too */
	bool one = cg_fast_one_child(cg, l, kid, n);
	LLVMBasicBlockRef in = one ? cg_block(cg, "fast_linked") : cg->fast->full;
	int i = 0;
	for (; i < n && cg_fast_selector(cg, kid[i].link); i++) {
		LLVMBasicBlockRef miss = cg_block(cg, "fast_not_linked");
		cg_select_branch(cg, cg_field(cg, kid[i].link->field), kid[i].link->values,
		                 kid[i].link->n_values, in, miss);
		LLVMPositionBuilderAtEnd(cg->b, miss);
	}
	LLVMBuildBr(cg->b, i < n ? cg->fast->full : end);
	if (one) {
		LLVMPositionBuilderAtEnd(cg->b, in);
		cg_fast_enter(cg, kid[0].layer, next, reach, end);
	}
	LLVMPositionBuilderAtEnd(cg->b, end);
	cg_fast_decide(cg);
}

/* The IP header must leave room for l (cg_l3_remaining): the payload
 * length its walker gave (cg_fast_enters), at least l's size. */
static void cg_fast_ip_room(struct cg *cg, const struct hq_layer *l, const struct hq_layer *ip)
{
	struct cg_val plen = {.present = cg_i1(cg, 0), .a = cg_const64(cg, 0)};
	cg_fast_get(cg, ip, "payload_len", &plen);
	LLVMValueRef room = LLVMBuildICmp(cg->b, LLVMIntUGE, plen.a, cg_const64(cg, l->size), "");
	cg_fast_need(cg, LLVMBuildAnd(cg->b, plen.present, room, ""));
}

/* Does the walk need what l's walker gives: children to select (a
 * selector it gives) and bound (the IP payload length), its state change,
 * or outputs the queries read? Else the walker's plain case need not hold
 * (IPv6 extension headers under `inet`, TCP segments cut short under
 * `http`). */
static bool cg_fast_walker_wanted(struct cg *cg, const struct hq_layer *l,
                                  const struct cg_walker *w)
{
	if (w->fast_decides)
		return true;
	struct cg_fast_kid kid[CG_FAST_KIDS];
	int n = cg_fast_kids(cg, l, kid);
	for (int i = 0; i < n; i++) {
		const struct hq_field *f = kid[i].link->field;
		const struct cg_walker *kw = cg_walker_find(kid[i].layer->walker);
		if (cg_above_ip(kid[i].layer) || (f && f->src == HQ_FS_WALKER && f->layer == l) ||
		    (kw && kw->fast_decides)) /* which reads l's payload length */
			return true;
	}
	if (n < 0 || cg_fast_lasts(cg, l))
		return true;
	for (const char *const *k = w->fast_keys; k && *k; k++)
		if (cg_field_used(cg, l, *k))
			return true;
	return false;
}

/* What the walk after the chain's last layer depends on: which layers
 * that queries read, and which pseudo layers, are there (a bit each).
 * ~0: it depends on more (a header or a walker output of a layer read
 * before the last one), and is not shared. */
static uint64_t cg_fast_sig(struct cg *cg)
{
	const struct cg_fast *fs = cg->fast;
	uint64_t sig = 0;
	if (cg->proto->n_layers > 64)
		return ~0ull;
	for (int i = 0; i < fs->n; i++) /* state changes read the whole chain */
		if ((i < fs->n - 1 && cg->layers[fs->layer[i]->index].fast_read) ||
		    cg_fast_lasts(cg, fs->layer[i]))
			return ~0ull;
	for (int i = 0; i < fs->n_out; i++)
		if (fs->out[i].usable || cg->layers[fs->out[i].layer->index].fast_read)
			return ~0ull;
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *x = cg->proto->layers[i];
		bool read = cg->layers[x->index].fast_read || x == fs->layer[fs->n - 1];
		if (x->pseudo ? cg_fast_has(cg, x) : read && cg_fast_find(fs, x) >= 0)
			sig |= 1ull << i;
	}
	return sig;
}

/* Walk l's header at p where another chain already does, with the same
 * signature: a branch there (true), else the start of that walk for the
 * chains to come (*p becomes its phi). Not a layer whose walker may find
 * it absent: its way on is its own chain's (cg_fast_absent_if). */
static bool cg_fast_share(struct cg *cg, const struct hq_layer *l, LLVMValueRef *p, unsigned reach)
{
	struct cg_fast *fs = cg->fast;
	const struct cg_walker *w = cg_walker_find(l->walker);
	uint64_t sig = cg_fast_sig(cg);
	if (sig == ~0ull || (w && w->fast_decides))
		return false;
	LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b);
	for (int i = 0; i < fs->n_shared; i++) {
		struct cg_fast_shared *sh = &fs->shared[i];
		if (sh->layer == l && sh->sig == sig && reach <= sh->reach) {
			LLVMAddIncoming(sh->p, p, &from, 1);
			LLVMBuildBr(cg->b, sh->entry);
			return true;
		}
	}
	if (fs->n_shared == CG_FAST_SHARED)
		return false;
	struct cg_fast_shared *sh = &fs->shared[fs->n_shared++];
	sh->layer = l;
	sh->sig = sig;
	sh->reach = reach;
	sh->entry = cg_block(cg, "fast_shared");
	LLVMBuildBr(cg->b, sh->entry);
	LLVMPositionBuilderAtEnd(cg->b, sh->entry);
	sh->p = LLVMBuildPhi(cg->b, cg->ptr, "hdr");
	LLVMAddIncoming(sh->p, p, &from, 1);
	*p = sh->p;
	return false;
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
	int n_out = fs->n_out;
	fs->layer[fs->n] = l;
	fs->hdr[fs->n++] = p;
	const struct cg_walker *w = cg_walker_find(l->walker);
	bool decides = w && w->fast_decides; /* open only if there: after its walk */
	if (!decides && cg_fast_open(cg, CG_FAST_MAY)) {
		LLVMBuildBr(cg->b, fs->full);
		fs->n--;
		return;
	}
	if (parent && cg_above_ip(l))
		cg_fast_ip_room(cg, l, parent);
	if (cg_fast_share(cg, l, &p, reach)) {
		fs->n--;
		return;
	}
	fs->hdr[fs->n - 1] = p;
	cg_fast_need(cg, cg_in_bounds(cg, p, l->size));
	cg_fast_need(cg, cg_conds(cg, l->valid, l->n_valid));
	for (int i = 0; i < l->n_stop; i++)
		cg_fast_need(cg, LLVMBuildNot(cg->b, cg_cond(cg, &l->stop[i]), ""));
	LLVMValueRef len = cg_const64(cg, l->size);
	if (l->hlen) {
		struct cg_val h = cg_field(cg, l->hlen);
		len = LLVMBuildMul(cg->b, h.a, cg_const64(cg, l->hlen_mul), "hlen");
		LLVMValueRef fits = LLVMBuildAnd(
		    cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, len, cg_const64(cg, l->size), ""),
		    LLVMBuildICmp(cg->b, LLVMIntULE, len, cg_const64(cg, hmax), ""), "");
		cg_fast_need(cg, LLVMBuildAnd(cg->b, fits, h.present, ""));
	}
	LLVMValueRef next = cg_gep(cg, p, len);
	LLVMValueRef wnext =
	    w && w->fast && cg_fast_walker_wanted(cg, l, w) ? w->fast(cg, l, p) : NULL;
	if (l->n_yield) /* rare: then the full walk; after a walker that finds l absent */
		cg_fast_need(cg, LLVMBuildNot(cg->b, cg_yielded(cg, l), ""));
	if (decides && cg_fast_open(cg, CG_FAST_MAY))
		LLVMBuildBr(cg->b, fs->full);
	else
		cg_fast_children(cg, l, wnext ? wnext : next,
		                 reach + hmax + (w && w->fast ? w->fast_span : 0));
	fs->n_out = n_out;
	fs->n--;
}

/* Marking: the layers the walk follows (and what they sit on), and the
 * layers the queries read; a field marks its layer and its alternatives'. */
static void cg_fast_walks(struct cg *cg, const struct hq_layer *l, void *arg)
{
	if (!l || cg->layers[l->index].fast_walks)
		return;
	cg->layers[l->index].fast_walks = true;
	for (int i = 0; i < l->n_links; i++)
		cg_fast_walks(cg, l->links[i].parent, arg);
}

static void cg_fast_walks_field(struct cg *cg, const struct hq_field *f, void *arg)
{
	cg_fast_walks(cg, f->layer, arg);
	for (int i = 0; i < f->n_alts; i++)
		cg_fast_walks_field(cg, f->alts[i], arg);
}

static void cg_fast_reads(struct cg *cg, const struct hq_layer *l, void *arg)
{
	(void)arg;
	if (l)
		cg->layers[l->index].fast_read = true;
}

static void cg_fast_reads_field(struct cg *cg, const struct hq_field *f, void *arg)
{
	cg_fast_reads(cg, f->layer, arg);
	for (int i = 0; i < f->n_alts; i++)
		cg_fast_reads_field(cg, f->alts[i], arg);
}

static const struct cg_visit cg_fast_walk_marks = {cg_fast_walks_field, cg_fast_walks, NULL},
                             cg_fast_read_marks = {cg_fast_reads_field, cg_fast_reads, NULL};

/* Mark the layers the walk follows (cg_layer.fast_walks) and those the
 * queries read (fast_read). False where the walk could do nothing for the
 * packets that matter: a query on a pseudo layer (inet: any IP packet)
 * with no where clause to test on it and nothing the walk could run. */
static bool cg_fast_mark(struct cg *cg)
{
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *l = cg->proto->layers[i];
		const struct cg_walker *w = cg_walker_find(l->walker);
		struct cg_layer *st = &cg->layers[l->index];
		st->fast_walks = false;
		st->fast_read = cg->all_used;
		if (st->needed && w && w->lasting && w->lasting(cg, l)) {
			cg_fast_walks(cg, l, NULL);
			st->fast_read = true;
		}
	}
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = &cg->plan->qplans[i];
		const struct hq_query *q = qp->q;
		if (!cg_query_in_hook(cg, qp))
			continue;
		if (q->layer && q->layer->pseudo && !cg_fast_query_ok(cg, qp, CG_FAST_TEST) &&
		    !cg_fast_query_ok(cg, qp, CG_FAST_ANY))
			return false;
		cg_fast_walks(cg, q->layer, NULL);
		cg_visit_expr(cg, q->where, &cg_fast_walk_marks);
		if (cg_fast_query_ok(cg, qp, CG_FAST_MAY)) /* what a run reads */
			cg_visit_reads(cg, qp, &cg_fast_walk_marks);
		cg_fast_reads(cg, q->layer, NULL);
		cg_visit_expr(cg, q->where, &cg_fast_read_marks);
		cg_visit_reads(cg, qp, &cg_fast_read_marks);
	}
	return true;
}

/* Is there a chain to walk and a query it can let go of? Not where a
 * walked layer follows a pseudo one (its start is the frame's), nor where
 * some query may match every packet that carries the root. */
static const struct hq_layer *cg_fast_root(struct cg *cg)
{
	if (cg->no_fast || getenv("HDRQ_NO_FAST") || !cg_fast_mark(cg))
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
	/* a query there on every packet, which only dns or http being absent
	 * would let the walk run: not worth a walk (`any log *`) */
	bool open = cg_fast_open(cg, CG_FAST_ANY);
	cg->fast = NULL;
	return open ? NULL : root;
}

bool cg_fast_walk(struct cg *cg)
{
	const struct hq_layer *root = cg_fast_root(cg);
	if (!root)
		return false;
	struct cg_fast fs = {.full = cg_block(cg, "full_walk")};
	cg->fast = &fs;
	for (int i = 0; i < cg->proto->n_layers; i++) /* no cells read: cg_hdr_begin, cg_action.c */
		cg->layers[cg->proto->layers[i]->index].parsed = false;
	if (cg->hook != CG_HOOK_XDP) /* a tag in the metadata: the full walk */
		cg_fast_need(cg, LLVMBuildNot(cg->b, cg_tc_vlan_hw(cg), ""));
	cg_fast_layer(cg, root, cg->data, 0);
	cg->fast = NULL;
	LLVMPositionBuilderAtEnd(cg->b, fs.full);
	return true;
}
