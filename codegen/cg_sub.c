/* cg_sub.c — global BPF subprograms: functions the verifier checks once,
 * alone and with their arguments unknown, not once per state in which a
 * caller reaches the call. A loop over packet bytes goes here where the
 * states that reach it would multiply its cost to the verifier (the fast
 * walk brings one per chain and per branch, cg_fast.c).
 *
 * A subprogram is `int NAME(CTX *ctx, u64 a, u64 b, unsigned char
 * (*out)[n])` in ".text", which libbpf appends to each program that calls
 * it. Its BTF makes it global, and so checked alone: ctx is the program
 * type's context (a struct of that name, which is how the verifier knows
 * it), and out points to n bytes the caller proves it has (in the scratch
 * value); the verifier takes out as possibly NULL, so the body tests it.
 * There is one per context type: TC ingress and egress share theirs.
 */
#include <stdio.h>
#include <string.h>

#include "cg.h"

/* the builder's per-function state, kept while a subprogram is built */
struct cg_sub_saved {
	LLVMValueRef fn, ctx_arg, data, data_end;
	LLVMBasicBlockRef at;
};

static LLVMValueRef cg_sub_new(struct cg *cg, const char *name, unsigned out_size)
{
	LLVMTypeRef params[4] = {cg->ptr, cg->i64, cg->i64, cg->ptr};
	LLVMValueRef fn = LLVMAddFunction(cg->mod, name, LLVMFunctionType(cg->i32, params, 4, 0));
	static const char *const attrs[] = {"nounwind", "noinline"};
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		unsigned kind = LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i]));
		LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
		                        LLVMCreateEnumAttribute(cg->ctx, kind, 0));
	}
	cg_di_subprogram(cg, fn, name, out_size);
	return fn;
}

static void cg_sub_enter(struct cg *cg, LLVMValueRef fn, struct cg_sub_saved *s)
{
	*s = (struct cg_sub_saved){cg->fn, cg->ctx_arg, cg->data, cg->data_end,
	                           LLVMGetInsertBlock(cg->b)};
	cg->fn = fn;
	cg->ctx_arg = LLVMGetParam(fn, 0);
	LLVMPositionBuilderAtEnd(cg->b, cg_block(cg, "entry"));
	cg_packet_ptrs(cg, false);
}

static void cg_sub_leave(struct cg *cg, const struct cg_sub_saved *s)
{
	cg->fn = s->fn;
	cg->ctx_arg = s->ctx_arg;
	cg->data = s->data;
	cg->data_end = s->data_end;
	LLVMPositionBuilderAtEnd(cg->b, s->at);
}

static LLVMValueRef cg_sub_emit(struct cg *cg, const char *name, unsigned out_size,
                                cg_sub_body body, const void *arg, LLVMValueRef a, LLVMValueRef b,
                                LLVMValueRef out)
{
	char full[64];
	snprintf(full, sizeof(full), "%s_%s", name, cg->hook == CG_HOOK_XDP ? "xdp" : "skb");
	LLVMValueRef fn = LLVMGetNamedFunction(cg->mod, full);
	if (!fn) {
		fn = cg_sub_new(cg, full, out_size);
		struct cg_sub_saved s;
		cg_sub_enter(cg, fn, &s);
		LLVMValueRef o = LLVMGetParam(fn, 3);
		LLVMBasicBlockRef go = cg_block(cg, "out_ok"), none = cg_block(cg, "out_null");
		LLVMBuildCondBr(cg->b,
		                LLVMBuildICmp(cg->b, LLVMIntEQ, o, LLVMConstNull(cg->ptr), ""),
		                none, go);
		LLVMPositionBuilderAtEnd(cg->b, none);
		LLVMBuildRet(cg->b, cg_const32(cg, 0));
		LLVMPositionBuilderAtEnd(cg->b, go);
		body(cg, LLVMGetParam(fn, 1), LLVMGetParam(fn, 2), o, arg);
		cg_sub_leave(cg, &s);
	}
	LLVMValueRef args[4] = {cg->ctx_arg, a, b, out};
	LLVMValueRef r = LLVMBuildCall2(cg->b, LLVMGlobalGetValueType(fn), fn, args, 4, "");
	/* a call in a function with debug info needs a place in it */
	LLVMInstructionSetDebugLoc(
	    r, LLVMDIBuilderCreateDebugLocation(cg->ctx, 1, 0, LLVMGetSubprogram(cg->fn), NULL));
	return LLVMBuildZExt(cg->b, r, cg->i64, "");
}

LLVMValueRef cg_sub_call(struct cg *cg, const char *name, unsigned out_size, cg_sub_body body,
                         const void *arg, LLVMValueRef when, LLVMValueRef a, LLVMValueRef b,
                         LLVMValueRef out)
{
	if (!when)
		return cg_sub_emit(cg, name, out_size, body, arg, a, b, out);
	LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b), call = cg_block(cg, "sub_call"),
	                  join = cg_block(cg, "sub_done");
	LLVMBuildCondBr(cg->b, when, call, join);
	LLVMPositionBuilderAtEnd(cg->b, call);
	LLVMValueRef r = cg_sub_emit(cg, name, out_size, body, arg, a, b, out);
	LLVMBasicBlockRef called = LLVMGetInsertBlock(cg->b);
	LLVMBuildBr(cg->b, join);
	LLVMPositionBuilderAtEnd(cg->b, join);
	LLVMValueRef vals[2] = {cg_const64(cg, 0), r};
	LLVMBasicBlockRef bbs[2] = {from, called};
	return cg_phi(cg, name, vals, bbs, 2);
}
