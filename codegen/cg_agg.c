/* cg_agg.c — updating one aggregate inside a group's per-CPU value.
 *
 * The value is this CPU's copy, so plain loads and stores suffice. Layouts
 * per aggregate are in plan.h. Bucket indexes pass through cg_opaque and
 * an explicit clamp, so the verifier sees a bound LLVM could not delete.
 */
#include <errno.h>
#include <linux/bpf.h>

#include "cg.h"

static LLVMValueRef cg_u64_at(struct cg *cg, LLVMValueRef val, unsigned off)
{
	return cg_gepc(cg, val, off);
}

static void cg_agg_minmax(struct cg *cg, const struct hq_agg_slot *a, LLVMValueRef val,
                          LLVMValueRef v)
{
	LLVMValueRef pv = cg_u64_at(cg, val, a->off), pn = cg_u64_at(cg, val, a->off + 8);
	LLVMValueRef cur = LLVMBuildLoad2(cg->b, cg->i64, pv, "");
	LLVMValueRef n = LLVMBuildLoad2(cg->b, cg->i64, pn, "");
	LLVMValueRef first = LLVMBuildICmp(cg->b, LLVMIntEQ, n, cg_const64(cg, 0), "");
	LLVMValueRef better =
	    LLVMBuildICmp(cg->b, a->kind == HQ_AGG_MIN ? LLVMIntULT : LLVMIntUGT, v, cur, "");
	LLVMValueRef take = LLVMBuildOr(cg->b, first, better, "");
	LLVMBuildStore(cg->b, LLVMBuildSelect(cg->b, take, v, cur, ""), pv);
	LLVMBuildStore(cg->b, LLVMBuildAdd(cg->b, n, cg_const64(cg, 1), ""), pn);
}

static LLVMValueRef cg_clamp(struct cg *cg, LLVMValueRef idx, unsigned max)
{
	idx = cg_opaque(cg, idx);
	LLVMValueRef over = LLVMBuildICmp(cg->b, LLVMIntUGT, idx, cg_const64(cg, max), "");
	return LLVMBuildSelect(cg->b, over, cg_const64(cg, max), idx, "");
}

/* log2 buckets: 0 -> 0, [2^k, 2^(k+1)) -> k + 1 */
static LLVMValueRef cg_hist_index(struct cg *cg, LLVMValueRef v)
{
	LLVMTypeRef t = cg->i64;
	unsigned id = LLVMLookupIntrinsicID("llvm.ctlz", 9);
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(cg->mod, id, &t, 1);
	LLVMTypeRef fty = LLVMIntrinsicGetType(cg->ctx, id, &t, 1);
	LLVMValueRef args[2] = {v, LLVMConstInt(cg->i1, 0, 0)};
	LLVMValueRef lz = LLVMBuildCall2(cg->b, fty, fn, args, 2, "");
	return LLVMBuildSub(cg->b, cg_const64(cg, 64), lz, "");
}

static LLVMValueRef cg_lhist_index(struct cg *cg, const struct hq_agg_slot *a, LLVMValueRef v)
{
	LLVMValueRef lo = cg_const64(cg, (uint64_t)a->lmin), hi = cg_const64(cg, (uint64_t)a->lmax);
	LLVMValueRef rel = LLVMBuildUDiv(cg->b, LLVMBuildSub(cg->b, v, lo, ""),
	                                 cg_const64(cg, (uint64_t)a->lstep), "");
	LLVMValueRef idx = LLVMBuildAdd(cg->b, rel, cg_const64(cg, 1), "");
	LLVMValueRef under = LLVMBuildICmp(cg->b, LLVMIntULT, v, lo, "");
	LLVMValueRef over = LLVMBuildICmp(cg->b, LLVMIntUGE, v, hi, "");
	idx = LLVMBuildSelect(cg->b, over, cg_const64(cg, a->n_buckets - 1), idx, "");
	return LLVMBuildSelect(cg->b, under, cg_const64(cg, 0), idx, "");
}

static void cg_agg_bucket(struct cg *cg, const struct hq_agg_slot *a, LLVMValueRef val,
                          LLVMValueRef idx)
{
	idx = cg_clamp(cg, idx, a->n_buckets - 1);
	LLVMValueRef off = LLVMBuildMul(cg->b, idx, cg_const64(cg, 8), "");
	LLVMValueRef p = cg_gep(cg, cg_u64_at(cg, val, a->off), off);
	cg_add64(cg, p, cg_const64(cg, 1));
}

/* a histogram's bucket, and the sum word behind its buckets */
static void cg_agg_sample(struct cg *cg, const struct hq_agg_slot *a, LLVMValueRef val,
                          LLVMValueRef idx, LLVMValueRef v)
{
	cg_agg_bucket(cg, a, val, idx);
	cg_add64(cg, cg_u64_at(cg, val, a->off + 8 * a->n_buckets), v);
}

/* exact distinct: insert (group key, value) into a set; a new member
 * counts. Most packets repeat a member already in the set: a lookup finds
 * it without the update's bucket lock; only a miss tries the insert, whose
 * BPF_NOEXIST lets one CPU count a member that two saw at once. */
static void cg_agg_distinct(struct cg *cg, const struct hq_qplan *qp, const struct hq_agg_slot *a,
                            LLVMValueRef val, LLVMValueRef key, struct cg_val v)
{
	LLVMValueRef dkey = cg_gepc(cg, cg->scratch, cg->scratch_dkey_off);
	cg_memcpy(cg, dkey, key, qp->key_size, 8); /* both 8-aligned in the scratch value */
	LLVMValueRef vp = cg_gepc(cg, dkey, qp->key_size);
	cg_memset0(cg, vp, 16);
	struct hq_slot s = {.type = v.type, .size = 16};
	if (v.type == HQ_T_STR) /* the set keeps the first 16 bytes of a string */
		v.size = 16;
	cg_store_value(cg, vp, &s, v);
	LLVMValueRef map = cg->map_distinct[qp->id][a->distinct_map];
	LLVMBasicBlockRef insert = cg_block(cg, "d_insert"), lost = cg_block(cg, "d_full"),
	                  done = cg_block(cg, "d_done");
	LLVMBuildCondBr(cg->b, cg_is_null(cg, cg_lookup(cg, map, dkey)), insert, done);
	LLVMPositionBuilderAtEnd(cg->b, insert);
	LLVMValueRef r = cg_map_update(cg, map, dkey,
	                               cg_gepc(cg, cg->scratch, cg->scratch_zero_off), BPF_NOEXIST);
	LLVMValueRef isnew = LLVMBuildICmp(cg->b, LLVMIntEQ, r, cg_const64(cg, 0), "");
	LLVMValueRef full =
	    LLVMBuildICmp(cg->b, LLVMIntEQ, r, cg_const64(cg, (uint64_t)-E2BIG), "");
	LLVMValueRef p = cg_u64_at(cg, val, a->off);
	cg_add64(cg, p, LLVMBuildZExt(cg->b, isnew, cg->i64, ""));
	LLVMBuildCondBr(cg->b, full, lost, done);
	LLVMPositionBuilderAtEnd(cg->b, lost);
	cg_stat_inc(cg, HQ_STAT_MAP_FULL);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
}

static void cg_agg_apply(struct cg *cg, const struct hq_qplan *qp, const struct hq_agg_slot *a,
                         LLVMValueRef val, LLVMValueRef key, struct cg_val v)
{
	switch (a->kind) {
	case HQ_AGG_SUM:
		cg_add64(cg, cg_u64_at(cg, val, a->off), v.a);
		break;
	case HQ_AGG_AVG:
		cg_add64(cg, cg_u64_at(cg, val, a->off), v.a);
		cg_add64(cg, cg_u64_at(cg, val, a->off + 8), cg_const64(cg, 1));
		break;
	case HQ_AGG_MIN:
	case HQ_AGG_MAX:
		cg_agg_minmax(cg, a, val, v.a);
		break;
	case HQ_AGG_HIST: {
		LLVMValueRef zero = LLVMBuildICmp(cg->b, LLVMIntEQ, v.a, cg_const64(cg, 0), "");
		LLVMValueRef idx =
		    LLVMBuildSelect(cg->b, zero, cg_const64(cg, 0), cg_hist_index(cg, v.a), "");
		cg_agg_sample(cg, a, val, idx, v.a);
		break;
	}
	case HQ_AGG_LHIST:
		cg_agg_sample(cg, a, val, cg_lhist_index(cg, a, v.a), v.a);
		break;
	case HQ_AGG_DISTINCT:
		cg_agg_distinct(cg, qp, a, val, key, v);
		break;
	default:
		break;
	}
}

void cg_agg_update(struct cg *cg, const struct hq_qplan *qp, const struct hq_agg_slot *a,
                   LLVMValueRef val, LLVMValueRef key)
{
	if (a->kind == HQ_AGG_COUNT || !a->arg) {
		cg_add64(cg, cg_u64_at(cg, val, a->off), cg_const64(cg, 1));
		return;
	}
	struct cg_val v = cg_expr(cg, qp->q, a->arg);
	if (v.type == HQ_T_BOOL || v.type == HQ_T_UINT)
		v.a = LLVMBuildZExtOrBitCast(cg->b, v.a, cg->i64, "");
	LLVMBasicBlockRef go = cg_block(cg, "agg"), done = cg_block(cg, "agg_done");
	LLVMBuildCondBr(cg->b, v.present, go, done);
	LLVMPositionBuilderAtEnd(cg->b, go);
	cg_agg_apply(cg, qp, a, val, key, v);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
}
