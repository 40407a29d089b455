/* cg_parse.c — header parsing generated from the protocol registry.
 *
 * Which layers to parse is decided once per compilation (cg_layers_mark):
 * the layers the queries mention and every layer they may sit on. Each
 * parsed layer then follows the same recipe, in registry (topological)
 * order — the header-cursor idiom of xdp-tools, with the protocol facts
 * taken from stdlib:
 *
 *   ok    = some parent is ok, lets children through, and its selector
 *           field has one of the link's values
 *   ok   &= start + size <= data_end          (fixed header in the packet)
 *   ok   &= every `valid` condition
 *   next  = start + hlen (bounded by hlen_max), or the walker decides
 *   kids  = ok and every `next_if` condition and no `stop_if` condition
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cg.h"
#include "cg_walk.h"

void cg_visit_expr(struct cg *cg, const struct hq_expr *e, const struct cg_visit *v)
{
	if (!e)
		return;
	if (e->kind == HQ_EX_NAME && e->field)
		v->field(cg, e->field, v->arg);
	if (e->kind == HQ_EX_NAME && e->layer && v->layer)
		v->layer(cg, e->layer, v->arg);
	cg_visit_expr(cg, e->lhs, v);
	cg_visit_expr(cg, e->rhs, v);
	for (int i = 0; i < e->items.n; i++)
		cg_visit_expr(cg, e->items.items[i], v);
}

void cg_visit_reads(struct cg *cg, const struct hq_qplan *qp, const struct cg_visit *v)
{
	const struct hq_query *q = qp->q;
	for (int i = 0; i < qp->n_fields; i++) {
		if (qp->fields[i].field)
			v->field(cg, qp->fields[i].field, v->arg);
		cg_visit_expr(cg, qp->fields[i].expr, v);
	}
	for (int i = 0; i < q->keys.n; i++)
		cg_visit_expr(cg, q->keys.items[i], v);
	for (int i = 0; i < q->aggs.n; i++)
		cg_visit_expr(cg, q->aggs.items[i], v);
}

static void cg_mark_layer(struct cg *cg, const struct hq_layer *l, void *arg)
{
	if (!l || cg->layers[l->index].needed)
		return;
	cg->layers[l->index].needed = true;
	for (int i = 0; i < l->n_links; i++)
		cg_mark_layer(cg, l->links[i].parent, arg);
}

static void cg_mark_field(struct cg *cg, const struct hq_field *f, void *arg)
{
	cg->used = realloc(cg->used, (cg->n_used + 1) * sizeof(*cg->used));
	cg->used[cg->n_used++] = f;
	cg_mark_layer(cg, f->layer, arg);
	for (int i = 0; i < f->n_alts; i++)
		cg_mark_field(cg, f->alts[i], arg);
	/* what the walker reads to compute this output (retransmit: the
	 * addresses of its flow key) is parsed too */
	const struct cg_walker *w =
	    f->src == HQ_FS_WALKER ? cg_walker_find(f->layer->walker) : NULL;
	for (const char *const *r = w && w->reads ? w->reads(f->key) : NULL; r && *r; r++) {
		const struct hq_field *a = proto_field(cg->proto, *r);
		if (a)
			cg_mark_field(cg, a, arg);
	}
}

static void cg_mark_query(struct cg *cg, const struct hq_qplan *qp)
{
	static const struct cg_visit mark = {cg_mark_field, cg_mark_layer, NULL};
	const struct hq_query *q = qp->q;
	cg_mark_layer(cg, q->layer, NULL);
	cg_visit_expr(cg, q->where, &mark);
	if (q->action == HQ_ACT_LOG && q->log.n == 1 && q->log.items[0]->kind == HQ_EX_STAR)
		cg->all_used = true;
	cg_visit_reads(cg, qp, &mark);
}

struct cg_find {
	const struct hq_field *f;
	bool found;
};

static void cg_find_field(struct cg *cg, const struct hq_field *f, void *arg)
{
	struct cg_find *find = arg;
	find->found |= f == find->f;
	for (int i = 0; i < f->n_alts; i++)
		cg_find_field(cg, f->alts[i], arg);
}

bool cg_query_reads(struct cg *cg, const struct hq_qplan *qp, const struct hq_field *f)
{
	struct cg_find find = {.f = f};
	const struct cg_visit v = {cg_find_field, NULL, &find};
	cg_visit_expr(cg, qp->q->where, &v);
	cg_visit_reads(cg, qp, &v);
	return find.found;
}

void cg_layers_mark(struct cg *cg)
{
	for (int i = 0; i < cg->plan->n_qplans; i++)
		cg_mark_query(cg, &cg->plan->qplans[i]);
}

bool cg_field_used(struct cg *cg, const struct hq_layer *l, const char *key)
{
	if (cg->all_used)
		return true;
	for (int i = 0; i < cg->n_used; i++) {
		const struct hq_field *f = cg->used[i];
		if (f->layer == l && f->key && !strcmp(f->key, key))
			return true;
	}
	return false;
}

/* Is some layer that sits directly on l parsed? Only those read what l
 * computes for its children: where they start, whether they may follow
 * (kids_ok), the IP payload length. */
bool cg_children_needed(struct cg *cg, const struct hq_layer *l)
{
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *u = cg->proto->layers[i];
		for (int k = 0; cg->layers[u->index].needed && k < u->n_links; k++)
			if (u->links[k].parent == l)
				return true;
	}
	return false;
}

LLVMValueRef cg_layer_ok(struct cg *cg, const struct hq_layer *l)
{
	if (cg->fast)
		return cg_i1(cg, cg_fast_has(cg, l));
	struct cg_layer *st = &cg->layers[l->index];
	if (!st->parsed)
		return LLVMConstInt(cg->i1, 0, 0);
	return cg_flag(cg, st->ok);
}

LLVMValueRef cg_layer_get(struct cg *cg, const struct hq_layer *l, int which)
{
	/* a mask, not a min(): see cg_clampc; offsets of parsed layers are
	 * kept <= CG_MAX_OFF by the parser */
	LLVMValueRef off = cg_vload_at(cg, cg->layers[l->index].slot + 8 * which);
	return LLVMBuildAnd(cg->b, off, cg_const64(cg, CG_MAX_OFF), "");
}

void cg_layer_put(struct cg *cg, const struct hq_layer *l, int which, LLVMValueRef off)
{
	cg_vstore_at(cg, cg->layers[l->index].slot + 8 * which, off);
}

LLVMValueRef cg_layer_ptr(struct cg *cg, const struct hq_layer *l, int which)
{
	return cg_gep(cg, cg->data, cg_layer_get(cg, l, which));
}

struct cg_slotvar *cg_var(struct cg *cg, const struct hq_layer *l, const char *key)
{
	for (int i = 0; i < cg->n_vars; i++)
		if (cg->vars[i].layer == l && !strcmp(cg->vars[i].key, key))
			return &cg->vars[i];
	return NULL;
}

/* A walker output's cells and bytes in the scratch value, no code yet. */
static struct cg_slotvar *cg_var_reserve(struct cg *cg, const struct hq_layer *l, const char *key,
                                         unsigned str_size)
{
	if (cg->n_vars == CG_MAX_VARS)
		return NULL;
	struct cg_slotvar *v = &cg->vars[cg->n_vars++];
	memset(v, 0, sizeof(*v));
	v->layer = l;
	v->key = key;
	v->present = cg->scratch_vars_off + 16 * (cg->n_vars - 1);
	v->val = v->present + 8;
	if (str_size) {
		v->size = str_size;
		v->str_off = cg->scratch_str_off + cg->str_used;
		cg->str_used += CG_STR_ROOM(str_size);
	}
	return v;
}

/* its cells initialised to "absent" where the layer's parse code starts
 * (which dominates every later use) */
static void cg_var_declare(struct cg *cg, struct cg_slotvar *v)
{
	v->declared = true;
	cg_vstore_at(cg, v->present, cg_const64(cg, 0));
	cg_vstore_at(cg, v->val, cg_const64(cg, 0));
	if (v->size) {
		v->str = cg_gepc(cg, cg->scratch, v->str_off);
		LLVMBuildStore(cg->b, LLVMConstInt(cg->i8, 0, 0), v->str);
	}
}

struct cg_slotvar *cg_var_new(struct cg *cg, const struct hq_layer *l, const char *key,
                              unsigned str_size)
{
	struct cg_slotvar *v = cg_var_reserve(cg, l, key, str_size);
	if (v)
		cg_var_declare(cg, v);
	return v;
}

LLVMValueRef cg_var_str(struct cg *cg, const struct hq_layer *l, const char *key)
{
	const struct hq_field *f = proto_layer_field(l, key);
	struct cg_slotvar *v = cg_var(cg, l, key);
	if (!v && f && f->type == HQ_T_STR)
		v = cg_var_reserve(cg, l, f->key, f->size);
	return v && v->size ? cg_gepc(cg, cg->scratch, v->str_off) : NULL;
}

void cg_var_set(struct cg *cg, struct cg_slotvar *v, LLVMValueRef present, LLVMValueRef val)
{
	if (!v)
		return;
	cg_set_flag(cg, v->present, present);
	if (val)
		cg_vstore_at(cg, v->val, val);
}

static LLVMValueRef cg_cmp(struct cg *cg, enum hq_cmp op, LLVMValueRef v, LLVMValueRef w)
{
	static const LLVMIntPredicate pred[] = {
	    [HQ_CMP_EQ] = LLVMIntEQ,  [HQ_CMP_NE] = LLVMIntNE,  [HQ_CMP_LT] = LLVMIntULT,
	    [HQ_CMP_LE] = LLVMIntULE, [HQ_CMP_GT] = LLVMIntUGT, [HQ_CMP_GE] = LLVMIntUGE,
	};
	return LLVMBuildICmp(cg->b, pred[op], v, w, "");
}

static LLVMValueRef cg_cmp_const(struct cg *cg, enum hq_cmp op, LLVMValueRef v, uint64_t c)
{
	return cg_cmp(cg, op, v, cg_const64(cg, c));
}

/* i1: the condition holds (an absent field makes it false) */
LLVMValueRef cg_cond(struct cg *cg, const struct hq_cond *c)
{
	struct cg_val v = cg_field(cg, c->field);
	if (!c->rhs)
		return LLVMBuildAnd(cg->b, v.present, cg_cmp_const(cg, c->op, v.a, c->value), "");
	struct cg_val w = cg_field(cg, c->rhs);
	LLVMValueRef both = LLVMBuildAnd(cg->b, v.present, w.present, "");
	return LLVMBuildAnd(cg->b, both, cg_cmp(cg, c->op, v.a, w.a), "");
}

/* i1: every condition holds */
LLVMValueRef cg_conds(struct cg *cg, const struct hq_cond *c, int n)
{
	LLVMValueRef all = LLVMConstInt(cg->i1, 1, 0);
	for (int i = 0; i < n; i++)
		all = LLVMBuildAnd(cg->b, all, cg_cond(cg, &c[i]), "");
	return all;
}

/* `stop_if` lines: the var hdr.stop holds the index of the first one that
 * holds (n_stop: none), which the fields declared after it compare with
 * (cg_field); children need none to hold. Returns that i1. */
static LLVMValueRef cg_parse_stops(struct cg *cg, const struct hq_layer *l)
{
	if (!l->n_stop)
		return LLVMConstInt(cg->i1, 1, 0);
	LLVMValueRef level = cg_const64(cg, (uint64_t)l->n_stop);
	for (int i = l->n_stop - 1; i >= 0; i--)
		level = LLVMBuildSelect(cg->b, cg_cond(cg, &l->stop[i]),
		                        cg_const64(cg, (uint64_t)i), level, "");
	cg_var_set(cg, cg_var(cg, l, "hdr.stop"), LLVMConstInt(cg->i1, 1, 0), level);
	return cg_cmp_const(cg, HQ_CMP_EQ, level, (uint64_t)l->n_stop);
}

#define CG_PORT_BITMAP_BYTES (65536 / 8)

/* The layer's `yield` ranges as a bitmap of ports, one read-only global a
 * layer. Port 0 stays clear: tshark never looks a dissector up by port 0. */
static LLVMValueRef cg_yield_bits(struct cg *cg, const struct hq_layer *l)
{
	struct cg_layer *st = &cg->layers[l->index];
	if (st->yield_bits)
		return st->yield_bits;
	unsigned char *bits = calloc(1, CG_PORT_BITMAP_BYTES);
	if (!bits)
		abort();
	for (int k = 0; k < l->n_yield; k++)
		for (uint64_t port = l->yield_lo[k]; port <= l->yield_hi[k]; port++)
			if (port)
				bits[port >> 3] |= (unsigned char)(1u << (port & 7));
	char name[80];
	snprintf(name, sizeof(name), "hq_yield_%s", l->name);
	st->yield_bits = cg_rodata(cg, name, bits, CG_PORT_BITMAP_BYTES);
	free(bits);
	return st->yield_bits;
}

/* i1: the lower of the two ports is in the layer's yield bitmap, so
 * tshark gives the payload to that port's protocol first */
LLVMValueRef cg_yielded(struct cg *cg, const struct hq_layer *l)
{
	struct cg_val a = cg_field(cg, l->yield_a), b = cg_field(cg, l->yield_b);
	LLVMValueRef lower = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, a.a, b.a, ""),
	                                     a.a, b.a, "lower_port");
	LLVMValueRef byte_off =
	    LLVMBuildAnd(cg->b, LLVMBuildLShr(cg->b, lower, cg_const64(cg, 3), ""),
	                 cg_const64(cg, CG_PORT_BITMAP_BYTES - 1), "");
	LLVMValueRef byte =
	    LLVMBuildLoad2(cg->b, cg->i8, cg_gep(cg, cg_yield_bits(cg, l), byte_off), "");
	LLVMValueRef bit = LLVMBuildLShr(cg->b, LLVMBuildZExt(cg->b, byte, cg->i64, ""),
	                                 LLVMBuildAnd(cg->b, lower, cg_const64(cg, 7), ""), "");
	return LLVMBuildAnd(cg->b, LLVMBuildAnd(cg->b, a.present, b.present, ""),
	                    LLVMBuildTrunc(cg->b, bit, cg->i1, ""), "");
}

/* if (ok && cg_yielded) ok = 0 */
static void cg_parse_yield(struct cg *cg, const struct hq_layer *l, struct cg_layer *st)
{
	LLVMBasicBlockRef test = cg_if(cg, cg_flag(cg, st->ok), "yield");
	LLVMBasicBlockRef lost = cg_if(cg, cg_yielded(cg, l), "yielded");
	cg_set_flag(cg, st->ok, LLVMConstInt(cg->i1, 0, 0));
	cg_endif(cg, lost);
	cg_endif(cg, test);
}

/* The flag of k's parent that lets l follow it: kids_ok (the parent lets
 * children through: a sane length, no fragment, ...), but ok for a pseudo
 * layer, which has no header of its own: `inet` is there wherever IPv4 or
 * IPv6 is, fragments included. */
unsigned cg_link_gate(struct cg *cg, const struct hq_layer *l, const struct hq_link *k)
{
	const struct cg_layer *ps = &cg->layers[k->parent->index];
	return l->pseudo ? ps->ok : ps->kids_ok;
}

/* if (!ok && parent lets l follow && selector matches)
 *	start = parent.next, ok = 1
 * The first link tested (first) follows the store of ok = 0 in straight
 * code: it skips reading ok back. Returns whether it tested a link. */
static bool cg_parse_link(struct cg *cg, const struct hq_layer *l, struct cg_layer *st,
                          const struct hq_link *k, bool first)
{
	struct cg_layer *ps = &cg->layers[k->parent->index];
	if (!ps->parsed)
		return false;
	LLVMValueRef pre = cg_flag(cg, cg_link_gate(cg, l, k));
	if (!first)
		pre = LLVMBuildAnd(cg->b, pre, LLVMBuildNot(cg->b, cg_flag(cg, st->ok), ""), "");
	LLVMBasicBlockRef test = cg_block(cg, "link"), take = cg_block(cg, "take"),
	                  done = cg_block(cg, "linked");
	LLVMBuildCondBr(cg->b, pre, test, done);
	LLVMPositionBuilderAtEnd(cg->b, test);
	if (k->field)
		cg_select_branch(cg, cg_select_field(cg, k), k->values, k->n_values, take, done);
	else
		LLVMBuildBr(cg->b, take);
	LLVMPositionBuilderAtEnd(cg->b, take);
	if (!k->parent->pseudo)
		cg_layer_put(cg, l, CG_START, cg_layer_get(cg, k->parent, CG_NEXT));
	cg_set_flag(cg, st->ok, LLVMConstInt(cg->i1, 1, 0));
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
	return true;
}

/* next = start + hlen*mul, rejecting lengths below size or above hlen_max;
 * returns whether children may follow (the length is sane and in reach) */
static LLVMValueRef cg_parse_hlen(struct cg *cg, const struct hq_layer *l, LLVMValueRef start)
{
	LLVMValueRef fits = LLVMConstInt(cg->i1, 1, 0);
	LLVMValueRef len = cg_const64(cg, l->size);
	if (l->hlen) {
		struct cg_val v = cg_field(cg, l->hlen);
		LLVMValueRef hl = LLVMBuildMul(cg->b, v.a, cg_const64(cg, l->hlen_mul), "hlen");
		unsigned max = l->hlen_max ? l->hlen_max : 255;
		fits = LLVMBuildAnd(cg->b, cg_cmp_const(cg, HQ_CMP_GE, hl, l->size),
		                    cg_cmp_const(cg, HQ_CMP_LE, hl, max), "");
		fits = LLVMBuildAnd(cg->b, fits, v.present, "");
		len = LLVMBuildSelect(cg->b, fits, hl, len, "");
	}
	LLVMValueRef next = LLVMBuildAdd(cg->b, start, len, "");
	cg_layer_put(cg, l, CG_NEXT, next);
	return LLVMBuildAnd(cg->b, fits, cg_cmp_const(cg, HQ_CMP_LE, next, CG_MAX_OFF), "");
}

/* Is l carried directly by IPv4/IPv6? Then the length the IP header
 * declares bounds it, as in tshark (a bogus total length carries nothing). */
bool cg_above_ip(const struct hq_layer *l)
{
	for (int i = 0; i < l->n_links; i++) {
		const char *p = l->links[i].parent->name;
		if (!strcmp(p, "ip") || !strcmp(p, "ip6"))
			return true;
	}
	return false;
}

static void cg_parse_body(struct cg *cg, const struct hq_layer *l, struct cg_layer *st,
                          LLVMBasicBlockRef fail, LLVMBasicBlockRef done)
{
	LLVMValueRef start = cg_layer_get(cg, l, CG_START);
	struct cg_hdr h = {.off = start, .p = cg_gep(cg, cg->data, start)};
	LLVMBasicBlockRef valid = cg_block(cg, "valid"), cut = cg_block(cg, "cut");
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, h.p, l->size), valid, cut);
	/* the frame ends inside a header its parent says follows: the run
	 * reports the packet (at most one per packet: nothing after a cut
	 * header is reached, and siblings exclude each other) */
	LLVMPositionBuilderAtEnd(cg->b, cut);
	cg_stat_inc(cg, HQ_STAT_TRUNCATED);
	LLVMBuildBr(cg->b, fail);
	LLVMPositionBuilderAtEnd(cg->b, valid);
	cg->hdr_layer = l; /* its fixed fields read straight from h.p from here */
	cg->hdr_p = h.p;
	cg->memo_on = true;
	cg->memo_field = NULL;
	LLVMBasicBlockRef body = cg_block(cg, "body");
	LLVMValueRef holds = cg_conds(cg, l->valid, l->n_valid);
	if (cg_above_ip(l)) { /* the IP header must leave room for this one */
		LLVMValueRef known;
		LLVMValueRef rem = cg_l3_remaining(cg, l, &known);
		LLVMValueRef room =
		    LLVMBuildICmp(cg->b, LLVMIntUGE, rem, cg_const64(cg, l->size), "");
		holds = LLVMBuildAnd(cg->b, holds, LLVMBuildAnd(cg->b, known, room, ""), "");
	}
	LLVMBuildCondBr(cg->b, holds, body, fail);
	LLVMPositionBuilderAtEnd(cg->b, body);
	LLVMValueRef go_on = cg_parse_stops(cg, l); /* before anything reads later fields */
	/* the next offset always: without it the verifier's work on q01 grew
	 * by a fifth (its states at the joins after the body differ) */
	LLVMValueRef hl_ok = cg_parse_hlen(cg, l, start);
	if (cg_children_needed(cg, l)) { /* else kids_ok stays 0 */
		LLVMValueRef kids =
		    LLVMBuildAnd(cg->b, hl_ok, cg_conds(cg, l->next_if, l->n_next_if), "");
		cg_set_flag(cg, st->kids_ok, LLVMBuildAnd(cg->b, kids, go_on, ""));
	}
	cg_exit_where_body(cg, l);
	const struct cg_walker *w = cg_walker_find(l->walker);
	if (w)
		w->parse(cg, l, st, h);
	cg_select_store(cg, l);
	cg->hdr_layer = NULL;
	cg->memo_on = false;
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, fail);
	cg_set_flag(cg, st->ok, LLVMConstInt(cg->i1, 0, 0));
	cg_set_flag(cg, st->kids_ok, LLVMConstInt(cg->i1, 0, 0));
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
}

static bool cg_conds_read(const struct hq_cond *c, int n, const struct hq_field *f)
{
	for (int i = 0; i < n; i++)
		if (c[i].field == f || c[i].rhs == f)
			return true;
	return false;
}

/* Does the registry itself read f: a link's selector, a length, a
 * condition, another field's `when` or alternatives? */
static bool cg_registry_reads(struct cg *cg, const struct hq_field *f)
{
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *l = cg->proto->layers[i];
		if (l->hlen == f || cg_conds_read(l->valid, l->n_valid, f) ||
		    cg_conds_read(l->next_if, l->n_next_if, f) ||
		    cg_conds_read(l->stop, l->n_stop, f))
			return true;
		for (int k = 0; k < l->n_links; k++)
			if (l->links[k].field == f)
				return true;
		for (int k = 0; k < l->n_fields; k++) {
			if (l->fields[k]->when_field == f)
				return true;
			for (int a = 0; a < l->fields[k]->n_alts; a++)
				if (l->fields[k]->alts[a] == f)
					return true;
		}
	}
	return false;
}

/* Is the walker output f read at all? A query, the registry, its own
 * walker (w->keeps), or the HTTP walker (the TCP payload length it reads by
 * name). The others are not declared: the walker skips them, and no packet
 * pays for zeroing them. */
static bool cg_walker_var_read(struct cg *cg, const struct hq_field *f, const struct cg_walker *w)
{
	return cg_field_used(cg, f->layer, f->key) || !strcmp(f->key, "payload_len") ||
	       (w && w->keeps && w->keeps(cg, f->layer, f->key)) || cg_registry_reads(cg, f);
}

/* Walker outputs are declared before the layer's branches so that their
 * "absent" initial values dominate every use. */
static void cg_declare_walker_vars(struct cg *cg, const struct hq_layer *l)
{
	const struct cg_walker *w = cg_walker_find(l->walker);
	for (int i = 0; i < l->n_fields; i++) {
		const struct hq_field *f = l->fields[i];
		if (f->src != HQ_FS_WALKER || cg_hdr_key(f) || !cg_walker_var_read(cg, f, w))
			continue;
		struct cg_slotvar *v = cg_var(cg, l, f->key); /* cg_var_str's, maybe */
		if (!v)
			cg_var_new(cg, l, f->key, f->type == HQ_T_STR ? f->size : 0);
		else if (!v->declared)
			cg_var_declare(cg, v);
	}
	if (l->n_stop && !cg_var(cg, l, "hdr.stop"))
		cg_var_new(cg, l, "hdr.stop", 0);
	/* what the IP walkers keep for their children (cg_l3_remaining) */
	bool children = cg_children_needed(cg, l);
	for (int i = 0; w && w->internal_keys && w->internal_keys[i]; i++) {
		const char *key = w->internal_keys[i];
		bool for_children = !strcmp(key, "payload_len") || !strcmp(key, "ext_len");
		if (!cg_var(cg, l, key) && (children || !for_children))
			cg_var_new(cg, l, key, 0);
	}
	cg_select_declare(cg, l);
}

/* does the layer start at the frame's first byte (root, or under a
 * pseudo layer, whose link leaves the start alone)? */
static bool cg_starts_frame(const struct hq_layer *l)
{
	for (int i = 0; i < l->n_links; i++)
		if (l->links[i].parent->pseudo)
			return true;
	return l->root;
}

static void cg_parse_layer(struct cg *cg, const struct hq_layer *l)
{
	struct cg_layer *st = &cg->layers[l->index];
	/* the root, and a pseudo layer that follows none (pkt), are in every
	 * packet */
	bool always = l->root || (l->pseudo && !l->n_links);
	cg_set_flag(cg, st->ok, LLVMConstInt(cg->i1, always, 0));
	cg_set_flag(cg, st->kids_ok, LLVMConstInt(cg->i1, 0, 0));
	/* start and next count only where the layer is there (next: where its
	 * body ran, which writes it; cg_l3_complete reads start regardless but
	 * drops it otherwise), so only a start no link writes needs its 0 */
	if (!l->pseudo && cg_starts_frame(l))
		cg_layer_put(cg, l, CG_START, cg_const64(cg, 0));
	st->parsed = true;
	cg_declare_walker_vars(cg, l);
	bool tested = always; /* ok is 1 already: no link to test */
	for (int i = 0; i < l->n_links; i++)
		tested = cg_parse_link(cg, l, st, &l->links[i], !tested) || tested;
	if (l->n_yield)
		cg_parse_yield(cg, l, st);
	if (l->pseudo) {
		cg_set_flag(cg, st->kids_ok, cg_flag(cg, st->ok));
		return;
	}
	LLVMBasicBlockRef body = cg_block(cg, "parse"), fail = cg_block(cg, "absent"),
	                  done = cg_block(cg, "parsed");
	LLVMBuildCondBr(cg->b, cg_flag(cg, st->ok), body, done);
	LLVMPositionBuilderAtEnd(cg->b, body);
	cg_parse_body(cg, l, st, fail, done);
}

void cg_parse_layers(struct cg *cg)
{
	cg->n_vars = 0;
	cg->str_used = 0;
	for (int i = 0; i < cg->proto->n_layers; i++)
		cg->layers[cg->proto->layers[i]->index].parsed = false;
	cg_exit_begin(cg);
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *l = cg->proto->layers[i];
		if (!cg->layers[l->index].needed)
			continue;
		cg_parse_layer(cg, l);
		cg_exit_after(cg, l);
	}
}
