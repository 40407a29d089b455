/* cg_field.c — the value of one protocol field in the current packet.
 *
 * A field is present only if its layer was recognised, its `when`
 * condition holds and all of its bytes lie inside the packet; otherwise its
 * presence bit is 0 and its value 0 (never garbage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "cg_walk.h"

/* Temporaries that carry a value out of a conditional block. */
struct cg_tmp {
	LLVMValueRef present, a, b;
};

static struct cg_tmp cg_tmp_new(struct cg *cg)
{
	struct cg_tmp t = {
	    .present = cg_alloca(cg, cg->i1, "fp"),
	    .a = cg_alloca(cg, cg->i64, "fa"),
	    .b = cg_alloca(cg, cg->i64, "fb"),
	};
	LLVMBuildStore(cg->b, LLVMConstInt(cg->i1, 0, 0), t.present);
	LLVMBuildStore(cg->b, cg_const64(cg, 0), t.a);
	LLVMBuildStore(cg->b, cg_const64(cg, 0), t.b);
	return t;
}

static unsigned cg_field_nbytes(const struct hq_field *f)
{
	if (f->type == HQ_T_UINT || f->type == HQ_T_BOOL)
		return (f->bit + f->nbits + 7) / 8;
	return plan_type_size(f->type, f->size);
}

static LLVMValueRef cg_uint_bits(struct cg *cg, const struct hq_field *f, LLVMValueRef p)
{
	unsigned nbytes = cg_field_nbytes(f);
	LLVMValueRef raw = cg_load_be(cg, p, nbytes);
	unsigned shift = nbytes * 8 - f->bit - f->nbits;
	if (shift)
		raw = LLVMBuildLShr(cg->b, raw, cg_const64(cg, shift), "");
	if (f->nbits < 64)
		raw = LLVMBuildAnd(cg->b, raw, cg_const64(cg, (1ull << f->nbits) - 1), "");
	if (f->mul > 1)
		raw = LLVMBuildMul(cg->b, raw, cg_const64(cg, f->mul), "");
	if (f->type == HQ_T_BOOL && f->nbits > 1) /* true when any of its bits is set */
		raw = LLVMBuildZExt(cg->b,
		                    LLVMBuildICmp(cg->b, LLVMIntNE, raw, cg_const64(cg, 0), ""),
		                    cg->i64, "");
	return raw;
}

struct cg_hdr_mark cg_hdr_begin(struct cg *cg, const struct hq_layer *l, LLVMBasicBlockRef absent)
{
	struct cg_hdr_mark m = {cg->hdr_layer, cg->hdr_p, cg->memo_on};
	cg->memo_on = false; /* a read here need not dominate the body's later ones */
	if (!l || l->pseudo || !cg->layers[l->index].parsed)
		return m;
	LLVMValueRef p = cg_layer_ptr(cg, l, CG_START);
	LLVMBasicBlockRef in = cg_block(cg, "hdr");
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, p, l->size), in, absent);
	LLVMPositionBuilderAtEnd(cg->b, in);
	cg->hdr_layer = l;
	cg->hdr_p = p;
	return m;
}

void cg_hdr_end(struct cg *cg, struct cg_hdr_mark m)
{
	cg->hdr_layer = m.layer;
	cg->hdr_p = m.p;
	cg->memo_on = m.memo_on;
}

/* Is f a fixed field of the layer whose header cg_hdr_begin checked (the
 * layer being parsed, or a query's layer), inside its fixed part? Then the
 * layer is there and the bytes are known to be in the packet: no flag to
 * test, no offset to reload, no bounds check. */
static bool cg_in_hdr(struct cg *cg, const struct hq_field *f)
{
	return cg->hdr_layer && cg->hdr_layer == f->layer && f->src == HQ_FS_FIXED &&
	       !f->zero_rest && f->off + cg_field_nbytes(f) <= f->layer->size &&
	       !cg_tc_vlan_covers(cg, f);
}

/* The field's value from its bytes at p (a, b as struct cg_val's, i64). */
static void cg_fixed_value(struct cg *cg, const struct hq_field *f, LLVMValueRef p,
                           LLVMValueRef *ap, LLVMValueRef *bp)
{
	LLVMValueRef a, b = cg_const64(cg, 0);
	switch (f->type) {
	case HQ_T_IP4:
		a = LLVMBuildZExt(cg->b, cg_load_raw(cg, p, cg->i32), cg->i64, "");
		break;
	case HQ_T_IP6:
		a = cg_load_raw(cg, p, cg->i64);
		b = cg_load_raw(cg, cg_gepc(cg, p, 8), cg->i64);
		break;
	case HQ_T_MAC: {
		LLVMValueRef lo = LLVMBuildZExt(cg->b, cg_load_raw(cg, p, cg->i32), cg->i64, "");
		LLVMValueRef hi =
		    LLVMBuildZExt(cg->b, cg_load_raw(cg, cg_gepc(cg, p, 4), cg->i16), cg->i64, "");
		a = LLVMBuildOr(cg->b, lo, LLVMBuildShl(cg->b, hi, cg_const64(cg, 32), ""), "");
		break;
	}
	default:
		a = cg_uint_bits(cg, f, p);
		break;
	}
	*ap = a;
	*bp = b;
}

static void cg_fixed_load(struct cg *cg, const struct hq_field *f, LLVMValueRef p, struct cg_tmp *t)
{
	LLVMValueRef a, b;
	cg_fixed_value(cg, f, p, &a, &b);
	LLVMBuildStore(cg->b, LLVMConstInt(cg->i1, 1, 0), t->present);
	LLVMBuildStore(cg->b, a, t->a);
	LLVMBuildStore(cg->b, b, t->b);
}

static struct cg_val cg_tmp_val(struct cg *cg, const struct hq_field *f, struct cg_tmp *t)
{
	struct cg_val v = {.type = f->type};
	v.present = LLVMBuildLoad2(cg->b, cg->i1, t->present, "");
	v.a = LLVMBuildLoad2(cg->b, cg->i64, t->a, "");
	v.b = LLVMBuildLoad2(cg->b, cg->i64, t->b, "");
	if (f->type == HQ_T_IP4)
		v.a = LLVMBuildTrunc(cg->b, v.a, cg->i32, "");
	return v;
}

/* The field's bytes from start where pre holds and they are in the packet
 * (in_hdr: known to be); a `zero rest` field's 0 read as the rest of the
 * packet from the layer's start (rest). */
static struct cg_val cg_field_at(struct cg *cg, const struct hq_field *f, LLVMValueRef pre,
                                 LLVMValueRef start, bool in_hdr, bool rest)
{
	struct cg_tmp t = cg_tmp_new(cg);
	LLVMBasicBlockRef chk = cg_block(cg, "fchk"), load = cg_block(cg, "fload"),
	                  done = cg_block(cg, "fdone");
	LLVMBuildCondBr(cg->b, pre, chk, done);
	LLVMPositionBuilderAtEnd(cg->b, chk);
	LLVMValueRef p = cg_gepc(cg, start, f->off);
	LLVMBuildCondBr(cg->b, in_hdr ? cg_i1(cg, 1) : cg_in_bounds(cg, p, cg_field_nbytes(f)),
	                load, done);
	LLVMPositionBuilderAtEnd(cg->b, load);
	cg_fixed_load(cg, f, p, &t);
	if (rest) { /* 0: the rest of the packet from the layer start */
		LLVMValueRef a = LLVMBuildLoad2(cg->b, cg->i64, t.a, "");
		/* a branch, not a select: the length may cost a helper call */
		LLVMBasicBlockRef cont = cg_if(
		    cg, LLVMBuildICmp(cg->b, LLVMIntEQ, a, cg_const64(cg, 0), ""), "zero_rest");
		LLVMValueRef len =
		    LLVMBuildSub(cg->b, cg_wire_len(cg), cg_layer_get(cg, f->layer, CG_START), "");
		LLVMBuildStore(cg->b, len, t.a);
		cg_endif(cg, cont);
	}
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
	return cg_tmp_val(cg, f, &t);
}

static struct cg_val cg_field_fixed(struct cg *cg, const struct hq_field *f, LLVMValueRef pre)
{
	if (!cg->layers[f->layer->index].parsed) {
		struct cg_tmp t = cg_tmp_new(cg);
		return cg_tmp_val(cg, f, &t);
	}
	bool in_hdr = cg_in_hdr(cg, f);
	LLVMValueRef start = in_hdr ? cg->hdr_p : cg_layer_ptr(cg, f->layer, CG_START);
	return cg_field_at(cg, f, pre, start, in_hdr, f->zero_rest);
}

bool cg_hdr_key(const struct hq_field *f)
{
	return f->src == HQ_FS_WALKER && !strncmp(f->key, "hdr.", 4);
}

/* header length beyond the fixed part (IPv4/TCP options) */
static struct cg_val cg_field_hdr(struct cg *cg, const struct hq_field *f, LLVMValueRef pre)
{
	const struct hq_layer *l = f->layer;
	struct cg_val v = {.type = f->type, .present = pre, .a = cg_const64(cg, 0)};
	if (!l->hlen)
		return v;
	struct cg_val h = cg_field(cg, l->hlen);
	LLVMValueRef len = LLVMBuildMul(cg->b, h.a, cg_const64(cg, l->hlen_mul), "");
	LLVMValueRef extra = LLVMBuildSub(cg->b, len, cg_const64(cg, l->size), "");
	LLVMValueRef ok = LLVMBuildICmp(cg->b, LLVMIntUGE, len, cg_const64(cg, l->size), "");
	extra = LLVMBuildSelect(cg->b, ok, extra, cg_const64(cg, 0), "");
	v.present = LLVMBuildAnd(cg->b, pre, h.present, "");
	if (!strcmp(f->key, "hdr.opt_present"))
		extra = LLVMBuildZExt(cg->b,
		                      LLVMBuildICmp(cg->b, LLVMIntNE, extra, cg_const64(cg, 0), ""),
		                      cg->i64, "");
	v.a = extra;
	return v;
}

static struct cg_val cg_field_walker(struct cg *cg, const struct hq_field *f, LLVMValueRef pre)
{
	if (cg_hdr_key(f))
		return cg_field_hdr(cg, f, pre);
	struct cg_val v = {.type = f->type, .present = LLVMConstInt(cg->i1, 0, 0)};
	v.a = cg_const64(cg, 0);
	struct cg_slotvar *sv = cg_var(cg, f->layer, f->key);
	if (!sv)
		return v;
	v.present = LLVMBuildAnd(cg->b, pre, cg_flag(cg, sv->present), "");
	v.a = cg_vload_at(cg, sv->val);
	if (f->type == HQ_T_IP4)
		v.a = LLVMBuildTrunc(cg->b, v.a, cg->i32, "");
	if (f->type == HQ_T_STR) {
		v.ptr = sv->str;
		v.size = sv->size;
	}
	return v;
}

static struct cg_val cg_field_meta(struct cg *cg, const struct hq_field *f)
{
	struct cg_val v = {.type = f->type, .present = LLVMConstInt(cg->i1, 1, 0)};
	const char *k = f->key;
	if (!strcmp(k, "num"))
		v.a = cg->pkt_num ? cg->pkt_num : cg_const64(cg, 0);
	else if (!strcmp(k, "len"))
		v.a = cg_wire_len(cg);
	else if (!strcmp(k, "ifindex"))
		v.a = cg_ifindex(cg);
	else if (!strcmp(k, "ts"))
		v.a = cg_ts_ns(cg);
	else if (!strcmp(k, "dir"))
		v.a = cg_const64(cg, cg->hook == CG_HOOK_TC_OUT ? HQ_DIR_EGRESS : HQ_DIR_INGRESS);
	else {
		v.a = cg_const64(cg, 0);
		v.present = LLVMConstInt(cg->i1, 0, 0);
	}
	if (!strcmp(k, "num") && !cg->pkt_num)
		v.present = LLVMConstInt(cg->i1, 0, 0);
	return v;
}

/* INET from an IP4 or IP6 value */
static struct cg_val cg_to_inet(struct cg *cg, struct cg_val v)
{
	struct cg_val r = {.type = HQ_T_INET, .present = v.present};
	if (v.type == HQ_T_INET)
		return v;
	if (v.type == HQ_T_IP4) {
		r.a = cg_const32(cg, 4);
		r.b = LLVMBuildZExt(cg->b, v.a, cg->i64, "");
		r.c = cg_const64(cg, 0);
	} else {
		r.a = cg_const32(cg, 6);
		r.b = v.a;
		r.c = v.b;
	}
	return r;
}

static LLVMValueRef cg_pick(struct cg *cg, LLVMValueRef c, LLVMValueRef x, LLVMValueRef y)
{
	if (!x)
		return y;
	if (!y)
		return x;
	return LLVMBuildSelect(cg->b, c, x, y, "");
}

/* the first present alternative (inet.src = ip.src or ip6.src) */
static struct cg_val cg_field_first(struct cg *cg, const struct hq_field *f)
{
	struct cg_val r = {.type = f->type, .present = LLVMConstInt(cg->i1, 0, 0)};
	for (int i = f->n_alts - 1; i >= 0; i--) {
		struct cg_val v = cg_field(cg, f->alts[i]);
		if (f->type == HQ_T_INET)
			v = cg_to_inet(cg, v);
		LLVMValueRef c = v.present;
		r.a = cg_pick(cg, c, v.a, r.a);
		r.b = cg_pick(cg, c, v.b, r.b);
		r.c = cg_pick(cg, c, v.c, r.c);
		r.ptr = cg_pick(cg, c, v.ptr, r.ptr);
		r.size = v.size > r.size ? v.size : r.size;
		r.present = LLVMBuildOr(cg->b, r.present, v.present, "");
	}
	return r;
}

static LLVMValueRef cg_when(struct cg *cg, const struct hq_field *f)
{
	struct cg_val w = cg_field(cg, f->when_field);
	if (f->when_op != HQ_CMP_EQ) {
		static const LLVMIntPredicate pred[] = {
		    [HQ_CMP_NE] = LLVMIntNE,  [HQ_CMP_LT] = LLVMIntULT, [HQ_CMP_LE] = LLVMIntULE,
		    [HQ_CMP_GT] = LLVMIntUGT, [HQ_CMP_GE] = LLVMIntUGE,
		};
		LLVMValueRef c = LLVMBuildICmp(cg->b, pred[f->when_op], w.a,
		                               cg_const64(cg, f->when_values[0]), "");
		return LLVMBuildAnd(cg->b, w.present, c, "");
	}
	LLVMValueRef any = LLVMConstInt(cg->i1, 0, 0);
	for (int i = 0; i < f->n_when_values; i++) {
		uint64_t lo = f->when_values[i], hi = f->when_hi ? f->when_hi[i] : lo;
		LLVMValueRef in =
		    lo == hi
		        ? LLVMBuildICmp(cg->b, LLVMIntEQ, w.a, cg_const64(cg, lo), "")
		        : LLVMBuildAnd(
		              cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, w.a, cg_const64(cg, lo), ""),
		              LLVMBuildICmp(cg->b, LLVMIntULE, w.a, cg_const64(cg, hi), ""), "");
		any = LLVMBuildOr(cg->b, any, in, "");
	}
	return LLVMBuildAnd(cg->b, w.present, any, "");
}

/* A `zero rest` field's 0 in the fast walk (cg_fast.c): left to the full
 * walk, but in the queries the fast walk runs (where nothing may leave: a
 * log record is reserved) read as the rest of the frame from the layer's
 * header, as cg_field_at's `rest`. */
static LLVMValueRef cg_field_chain_rest(struct cg *cg, LLVMValueRef hdr, struct cg_val v)
{
	if (!cg_fast_running(cg)) {
		LLVMValueRef zero = LLVMBuildAnd(cg->b, v.present, cg_eqc(cg, v.a, 0), "");
		cg_fast_need(cg, LLVMBuildNot(cg->b, zero, ""));
		return v.a;
	}
	LLVMValueRef t = cg_alloca(cg, cg->i64, "rest");
	LLVMBuildStore(cg->b, v.a, t);
	LLVMBasicBlockRef cont = cg_if(cg, cg_eqc(cg, v.a, 0), "zero_rest");
	LLVMValueRef start = cg_pkt_off(cg, hdr);
	LLVMBuildStore(cg->b, LLVMBuildSub(cg->b, cg_wire_len(cg), start, ""), t);
	cg_endif(cg, cont);
	return LLVMBuildLoad2(cg->b, cg->i64, t, "");
}

/* A field read by the fast walk from the header of its chain, or a walker
 * output it gave: absent with its layer; the `stop_if` lines do not hold
 * there. */
static struct cg_val cg_field_chain(struct cg *cg, const struct hq_field *f)
{
	LLVMValueRef hdr = cg_fast_hdr(cg, f->layer);
	struct cg_val w = {.type = f->type};
	if (hdr && cg_hdr_key(f))
		return cg_field_hdr(cg, f, cg_i1(cg, 1)); /* from the header length */
	if (hdr && f->src == HQ_FS_WALKER && cg_fast_get(cg, f->layer, f->key, &w)) {
		if (f->type == HQ_T_IP4)
			w.a = LLVMBuildTrunc(cg->b, w.a, cg->i32, "");
	} else if (hdr && f->src != HQ_FS_FIXED) {
		fprintf(stderr, "hdrq: internal error: fast walk reads %s\n", f->full);
		abort();
	} else if (!hdr) {
		struct cg_tmp t = cg_tmp_new(cg);
		w = cg_tmp_val(cg, f, &t);
	}
	if (!hdr || f->src == HQ_FS_WALKER) {
		if (f->type == HQ_T_STR) { /* where the walker writes its bytes (absent: unread) */
			w.ptr = cg_var_str(cg, f->layer, f->key);
			w.size = f->size;
		}
		return w;
	}
	bool in_hdr = f->off + cg_field_nbytes(f) <= f->layer->size;
	struct cg_val v = {.type = f->type, .present = cg_i1(cg, 1)};
	if (in_hdr && !f->when_field) { /* straight from the checked header */
		cg_fixed_value(cg, f, cg_gepc(cg, hdr, f->off), &v.a, &v.b);
		if (f->type == HQ_T_IP4)
			v.a = LLVMBuildTrunc(cg->b, v.a, cg->i32, "");
	} else {
		LLVMValueRef pre = f->when_field ? cg_when(cg, f) : cg_i1(cg, 1);
		v = cg_field_at(cg, f, pre, hdr, in_hdr, false);
	}
	if (f->zero_rest)
		v.a = cg_field_chain_rest(cg, hdr, v);
	return v;
}

struct cg_val cg_field(struct cg *cg, const struct hq_field *f)
{
	if (f->src == HQ_FS_META)
		return cg_field_meta(cg, f);
	if (f->src == HQ_FS_FIRST)
		return cg_field_first(cg, f);
	if (cg->fast)
		return cg_field_chain(cg, f);
	LLVMValueRef pre = cg_in_hdr(cg, f) ? cg_i1(cg, 1) : cg_layer_ok(cg, f->layer);
	struct cg_slotvar *stop = f->stop_level ? cg_var(cg, f->layer, "hdr.stop") : NULL;
	if (stop) /* no `stop_if` before this field's line held (cg_parse_stops) */
		pre = LLVMBuildAnd(cg->b, pre,
		                   LLVMBuildICmp(cg->b, LLVMIntUGE, cg_vload_at(cg, stop->val),
		                                 cg_const64(cg, (uint64_t)f->stop_level), ""),
		                   "");
	if (f->when_field)
		pre = LLVMBuildAnd(cg->b, pre, cg_when(cg, f), "");
	if (f->src == HQ_FS_WALKER)
		return cg_field_walker(cg, f, pre);
	if (cg_tc_vlan_covers(cg, f))
		return cg_tc_vlan_field(cg, f, cg_field_fixed(cg, f, pre));
	bool memo = f->zero_rest && cg->memo_on && cg->hdr_layer == f->layer;
	if (memo && cg->memo_field == f)
		return cg->memo_val;
	struct cg_val v = cg_field_fixed(cg, f, pre);
	if (memo) {
		cg->memo_field = f;
		cg->memo_val = v;
	}
	return v;
}
