/* cg_str.c — string predicates: `==`/`!=` against a literal, `startswith`
 * and `contains`, over the NUL-terminated values walkers leave in scratch
 * memory (DNS names, HTTP tokens).
 *
 * Bytes past a value's NUL may be left over from an earlier packet, so
 * every comparison stops at the NUL: a literal never contains one, so a
 * match can never run past the end of the current value.
 */
#include <string.h>

#include "cg_walk.h"

static LLVMValueRef cg_str_byte(struct cg *cg, LLVMValueRef p, unsigned i)
{
	return LLVMBuildZExt(cg->b, LLVMBuildLoad2(cg->b, cg->i8, cg_gepc(cg, p, i), ""), cg->i64,
	                     "");
}

/* i1: the n bytes at p are lit's (lit may include its NUL). Word-wise and
 * branch-free — (word ^ literal) & mask, OR-ed, one compare — so the
 * verifier sees no per-byte paths. Reads whole words inside scratch;
 * align is what p is known to be aligned to (8 at a value's start: one
 * load per word, not eight). */
static LLVMValueRef cg_str_prefix(struct cg *cg, LLVMValueRef p, unsigned align, const char *lit,
                                  unsigned n)
{
	LLVMValueRef diff = cg_const64(cg, 0);
	for (unsigned i = 0; i < n; i += 8) {
		unsigned w = n - i < 8 ? n - i : 8;
		uint64_t want = 0, mask = w == 8 ? ~0ull : (1ull << (8 * w)) - 1;
		memcpy(&want, lit + i, w);
		LLVMValueRef got = LLVMBuildLoad2(cg->b, cg->i64, cg_gepc(cg, p, i), "");
		LLVMSetAlignment(got, align);
		LLVMValueRef d = LLVMBuildXor(cg->b, got, cg_const64(cg, want), "");
		diff =
		    LLVMBuildOr(cg->b, diff, LLVMBuildAnd(cg->b, d, cg_const64(cg, mask), ""), "");
	}
	return cg_eqc(cg, diff, 0);
}

static LLVMValueRef cg_str_equal(struct cg *cg, struct cg_val v, const char *lit)
{
	unsigned n = strlen(lit);
	if (n >= v.size) /* cannot be held with its NUL */
		return cg_i1(cg, 0);
	return cg_str_prefix(cg, v.ptr, 8, lit, n + 1); /* the literal and its NUL */
}

struct cg_find {
	struct cg_val v;
	const char *lit;
	unsigned n;
};

/* one position: W_IN = i; found -> ST_DONE, end of value -> ST_FAIL */
static void cg_find_step(struct cg *cg, void *arg)
{
	struct cg_find *f = arg;
	LLVMValueRef i = cg_clampc(cg, cg_vload(cg, W_IN), f->v.size - 1);
	LLVMValueRef p = cg_gep(cg, f->v.ptr, i);
	LLVMValueRef nul = cg_eqc(cg, cg_str_byte(cg, p, 0), 0);
	LLVMValueRef hit = cg_str_prefix(cg, p, 1, f->lit, f->n);
	/* ST_DONE (1) on a hit, else ST_FAIL (2) at the NUL, else ST_RUN (0) */
	LLVMValueRef h = LLVMBuildZExt(cg->b, hit, cg->i64, "");
	LLVMValueRef z = LLVMBuildZExt(
	    cg->b, LLVMBuildAnd(cg->b, nul, LLVMBuildNot(cg->b, hit, ""), ""), cg->i64, "");
	LLVMValueRef st = LLVMBuildOr(cg->b, h, LLVMBuildShl(cg->b, z, cg_const64(cg, 1), ""), "");
	cg_vstore(cg, W_STATE, st);
	cg_vstore(cg, W_IN, LLVMBuildAdd(cg->b, i, cg_const64(cg, 1), ""));
}

static LLVMValueRef cg_str_contains(struct cg *cg, struct cg_val v, const char *lit)
{
	struct cg_find f = {.v = v, .lit = lit, .n = strlen(lit)};
	if (!f.n)
		return cg_i1(cg, 1);
	if (f.n >= v.size)
		return cg_i1(cg, 0);
	cg_walk_init(cg);
	cg_loop(cg, v.size - f.n, cg_find_step, &f);
	return cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE);
}

/* i1 for `value OP "literal"` (OP: == != startswith contains); NULL when
 * the operands are not a string value and a literal */
LLVMValueRef cg_str_pred(struct cg *cg, enum hq_op op, struct cg_val v, const char *lit)
{
	if (v.type != HQ_T_STR || !v.ptr || !lit || v.size < 2)
		return NULL;
	LLVMValueRef r;
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(cg->b);
	LLVMBasicBlockRef test = cg_block(cg, "str"), done = cg_block(cg, "str_done");
	LLVMBuildCondBr(cg->b, v.present, test, done);
	LLVMPositionBuilderAtEnd(cg->b, test);
	switch (op) {
	case HQ_OP_STARTSWITH:
		r = strlen(lit) < v.size ? cg_str_prefix(cg, v.ptr, 8, lit, strlen(lit))
		                         : cg_i1(cg, 0);
		break;
	case HQ_OP_CONTAINS:
		r = cg_str_contains(cg, v, lit);
		break;
	default:
		r = cg_str_equal(cg, v, lit);
		if (op == HQ_OP_NE)
			r = LLVMBuildNot(cg->b, r, "");
		break;
	}
	LLVMBasicBlockRef end = LLVMGetInsertBlock(cg->b);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
	LLVMValueRef vals[2] = {cg_i1(cg, 0), r};
	LLVMBasicBlockRef from[2] = {pre, end};
	return cg_phi(cg, "", vals, from, 2);
}
