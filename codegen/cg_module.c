/* cg_module.c — the LLVM module of one compilation: context, common types,
 * small IR helpers, and the final optimise + emit through LLVM's BPF target
 * (ELF object in memory, BPF assembly, or textual IR).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "cg.h"

#define CG_TRIPLE "bpfel"
#define CG_CPU    "v3"

static LLVMTargetMachineRef cg_target_machine(struct cg *cg);
static void cg_set_layout(struct cg *cg, LLVMTargetMachineRef tm);

int cg_init(struct cg *cg, const struct hq_plan *plan, struct hq_diag *d)
{
	memset(cg, 0, sizeof(*cg));
	cg->plan = plan;
	cg->proto = plan->proto;
	cg->d = d;
	cg->ctx = LLVMContextCreate();
	cg->mod = LLVMModuleCreateWithNameInContext("hdrq", cg->ctx);
	cg->b = LLVMCreateBuilderInContext(cg->ctx);
	cg->i1 = LLVMInt1TypeInContext(cg->ctx);
	cg->i8 = LLVMInt8TypeInContext(cg->ctx);
	cg->i16 = LLVMInt16TypeInContext(cg->ctx);
	cg->i32 = LLVMInt32TypeInContext(cg->ctx);
	cg->i64 = LLVMInt64TypeInContext(cg->ctx);
	cg->ptr = LLVMPointerTypeInContext(cg->ctx, 0);
	cg->voidt = LLVMVoidTypeInContext(cg->ctx);
	LLVMSetTarget(cg->mod, CG_TRIPLE);
	/* the layout before any IR: loads and stores built without an explicit
	 * alignment get BPF's (u64: 8), not the default layout's 4, which would
	 * split every u64 access to a map value into two u32 ones */
	LLVMTargetMachineRef tm = cg_target_machine(cg);
	if (tm) {
		cg_set_layout(cg, tm);
		LLVMDisposeTargetMachine(tm);
	}
	cg->error = !tm;
	cg->layers = calloc(plan->proto->n_layers + 1, sizeof(*cg->layers));
	cg_di_init(cg);
	return cg->error ? -1 : 0;
}

void cg_fini(struct cg *cg)
{
	if (cg->di)
		LLVMDisposeDIBuilder(cg->di);
	if (cg->b)
		LLVMDisposeBuilder(cg->b);
	if (cg->mod)
		LLVMDisposeModule(cg->mod);
	if (cg->ctx)
		LLVMContextDispose(cg->ctx);
	free(cg->layers);
	free(cg->used);
	free(cg->map_groups);
	if (cg->map_distinct)
		for (int i = 0; i < cg->plan->n_qplans; i++)
			free(cg->map_distinct[i]);
	free(cg->map_distinct);
}

LLVMValueRef cg_const64(struct cg *cg, uint64_t v)
{
	return LLVMConstInt(cg->i64, v, 0);
}

LLVMValueRef cg_const32(struct cg *cg, uint32_t v)
{
	return LLVMConstInt(cg->i32, v, 0);
}

/* Call a BPF helper by number, the way clang does: through a constant
 * function pointer. */
LLVMValueRef cg_helper(struct cg *cg, int id, LLVMTypeRef ret, LLVMValueRef *args, int n)
{
	LLVMTypeRef params[8];
	for (int i = 0; i < n; i++)
		params[i] = LLVMTypeOf(args[i]);
	LLVMTypeRef fty = LLVMFunctionType(ret, params, n, 0);
	LLVMValueRef fp = LLVMConstIntToPtr(cg_const64(cg, id), cg->ptr);
	return LLVMBuildCall2(cg->b, fty, fp, args, n, "");
}

LLVMValueRef cg_gep(struct cg *cg, LLVMValueRef p, LLVMValueRef off)
{
	return LLVMBuildGEP2(cg->b, cg->i8, p, &off, 1, "");
}

LLVMValueRef cg_gepc(struct cg *cg, LLVMValueRef p, unsigned off)
{
	if (!off)
		return p;
	return cg_gep(cg, p, cg_const64(cg, off));
}

/* Allocas go in the entry block so that mem2reg promotes them. */
LLVMValueRef cg_alloca(struct cg *cg, LLVMTypeRef t, const char *name)
{
	LLVMBasicBlockRef cur = LLVMGetInsertBlock(cg->b);
	LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(cg->fn);
	LLVMValueRef first = LLVMGetFirstInstruction(entry);
	if (first)
		LLVMPositionBuilderBefore(cg->b, first);
	else
		LLVMPositionBuilderAtEnd(cg->b, entry);
	LLVMValueRef a = LLVMBuildAlloca(cg->b, t, name);
	LLVMPositionBuilderAtEnd(cg->b, cur);
	return a;
}

/* A value the optimiser may not reason about: keeps explicit bounds checks
 * that the verifier needs but LLVM could prove redundant. */
LLVMValueRef cg_opaque(struct cg *cg, LLVMValueRef v)
{
	LLVMTypeRef t = LLVMTypeOf(v);
	LLVMTypeRef fty = LLVMFunctionType(t, &t, 1, 0);
	/* side effects: two barriers on the same value must not be merged */
	LLVMValueRef asmv =
	    LLVMGetInlineAsm(fty, "", 0, "=r,0", 4, 1, 0, LLVMInlineAsmDialectATT, 0);
	return LLVMBuildCall2(cg->b, fty, asmv, &v, 1, "");
}

LLVMValueRef cg_vload_at(struct cg *cg, unsigned scratch_off)
{
	LLVMValueRef v = LLVMBuildLoad2(cg->b, cg->i64, cg_gepc(cg, cg->scratch, scratch_off), "");
	LLVMSetVolatile(v, 1);
	LLVMSetAlignment(v, 8); /* cells are 8-aligned: one load, not two */
	return v;
}

LLVMValueRef cg_vstore_at(struct cg *cg, unsigned scratch_off, LLVMValueRef v)
{
	LLVMValueRef s = LLVMBuildStore(cg->b, v, cg_gepc(cg, cg->scratch, scratch_off));
	LLVMSetVolatile(s, 1);
	LLVMSetAlignment(s, 8);
	return s;
}

LLVMValueRef cg_flag(struct cg *cg, unsigned cell)
{
	return LLVMBuildICmp(cg->b, LLVMIntNE, cg_vload_at(cg, cell), cg_const64(cg, 0), "");
}

void cg_set_flag(struct cg *cg, unsigned cell, LLVMValueRef i1)
{
	cg_vstore_at(cg, cell, LLVMBuildZExt(cg->b, i1, cg->i64, ""));
}

/* A truth value the verifier cannot see through. BPF has no set-on-condition
 * instruction, so each comparison in a predicate is a small branch that
 * leaves a 0 or 1 behind. Branching on their known combination would make
 * the verifier mark every one of them precise, and then it walks all 2^n
 * combinations instead of pruning at each join. A round trip through a
 * scratch cell turns the verdict into an unknown scalar. */
LLVMValueRef cg_launder(struct cg *cg, LLVMValueRef i1)
{
	if (LLVMIsAConstantInt(i1)) /* nothing for the verifier to keep exact */
		return i1;
	cg_set_flag(cg, cg->scratch_verdict_off, i1);
	return cg_flag(cg, cg->scratch_verdict_off);
}

LLVMBasicBlockRef cg_block(struct cg *cg, const char *name)
{
	return LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, name);
}

LLVMValueRef cg_phi(struct cg *cg, const char *name, LLVMValueRef *vals, LLVMBasicBlockRef *from,
                    unsigned n)
{
	LLVMValueRef phi = LLVMBuildPhi(cg->b, LLVMTypeOf(vals[0]), name);
	LLVMAddIncoming(phi, vals, from, n);
	return phi;
}

/* Zero n bytes at p with plain stores: BPF has no memset to call, and
 * LLVM's own expansion gives up on large sizes. */
void cg_memset0(struct cg *cg, LLVMValueRef p, unsigned n)
{
	unsigned i = 0;
	for (; i + 8 <= n; i += 8)
		LLVMBuildStore(cg->b, cg_const64(cg, 0), cg_gepc(cg, p, i));
	for (; i < n; i++)
		LLVMBuildStore(cg->b, LLVMConstInt(cg->i8, 0, 0), cg_gepc(cg, p, i));
}

void cg_memcpy(struct cg *cg, LLVMValueRef dst, LLVMValueRef src, unsigned n, unsigned align)
{
	LLVMBuildMemCpy(cg->b, dst, align, src, align, cg_const64(cg, n));
}

int cg_unsupported(struct cg *cg, const struct hq_query *q, struct hq_span span, const char *what)
{
	cg->error = true;
	/* each query is generated once per program: say it once */
	for (int i = 0; i < cg->d->n; i++) {
		const struct hq_diag_entry *e = &cg->d->entries[i];
		if (e->span.line == span.line && e->span.col == span.col &&
		    e->src == (q ? q->src : NULL))
			return -1;
	}
	return diag_error(cg->d, q ? q->src : NULL, span, "%s is not supported yet", what);
}

static LLVMTargetMachineRef cg_target_machine(struct cg *cg)
{
	static int inited;
	if (!inited) {
		LLVMInitializeBPFTargetInfo();
		LLVMInitializeBPFTarget();
		LLVMInitializeBPFTargetMC();
		LLVMInitializeBPFAsmPrinter();
		inited = 1;
	}
	LLVMTargetRef t;
	char *err = NULL;
	if (LLVMGetTargetFromTriple(CG_TRIPLE, &t, &err)) {
		diag_errorf(cg->d, "LLVM has no BPF target: %s", err);
		LLVMDisposeMessage(err);
		return NULL;
	}
	return LLVMCreateTargetMachine(t, CG_TRIPLE, CG_CPU, "", LLVMCodeGenLevelAggressive,
	                               LLVMRelocStatic, LLVMCodeModelDefault);
}

static void cg_set_layout(struct cg *cg, LLVMTargetMachineRef tm)
{
	LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
	char *layout = LLVMCopyStringRepOfTargetData(td);
	LLVMSetDataLayout(cg->mod, layout);
	LLVMDisposeMessage(layout);
	LLVMDisposeTargetData(td);
}

static int cg_verify(struct cg *cg)
{
	char *msg = NULL;
	if (LLVMVerifyModule(cg->mod, LLVMReturnStatusAction, &msg)) {
		diag_errorf(cg->d, "internal compiler error: invalid LLVM IR: %.400s", msg);
		LLVMDisposeMessage(msg);
		return -1;
	}
	LLVMDisposeMessage(msg);
	return 0;
}

/* The function passes that pay off on hdrq's IR, instead of default<O2>.
 * The IR is one large function per hook whose layer state lives in
 * volatile cells, so inlining, vectorising and most loop passes find
 * nothing, yet O2 spent 30-40 ms of a one-liner's start-up on them. Over
 * tests/codegen/verify.tbl this list gives translated programs within 1%
 * of O2's, 7% less verifier work in total (loop rotation: the walkers'
 * loops test their exit at the bottom) and a lower maximum, in half the
 * optimisation time. instcombine's fixpoint check is for LLVM's own tests;
 * O2 skips it too. GVN without partial redundancy elimination, and no
 * sccp, bdce, correlated-propagation, adce or a last instcombine: over the
 * bench queries the same instructions run, the start-up query compiled in
 * 4% fewer instructions (callgrind). sroa, not mem2reg: a log record's
 * presence words are an array on the stack, kept in registers. */
#define CG_IC "instcombine<no-verify-fixpoint>"
static const char cg_passes[] =
    "function(sroa,early-cse<memssa>," CG_IC ",simplifycfg,reassociate,loop(loop-rotate),"
    "gvn<no-pre>," CG_IC ",jump-threading,simplifycfg<hoist-common-insts;sink-common-insts>)";

static int cg_optimise(struct cg *cg, LLVMTargetMachineRef tm)
{
	LLVMPassBuilderOptionsRef o = LLVMCreatePassBuilderOptions();
	LLVMErrorRef e = LLVMRunPasses(cg->mod, cg_passes, tm, o);
	LLVMDisposePassBuilderOptions(o);
	if (e) {
		char *m = LLVMGetErrorMessage(e);
		diag_errorf(cg->d, "internal compiler error: LLVM passes: %s", m);
		LLVMDisposeErrorMessage(m);
		return -1;
	}
	return 0;
}

static int cg_emit_text(struct cg *cg, struct hq_object *out)
{
	char *s = LLVMPrintModuleToString(cg->mod);
	out->size = strlen(s);
	out->data = malloc(out->size + 1);
	memcpy(out->data, s, out->size + 1);
	LLVMDisposeMessage(s);
	return 0;
}

static int cg_emit_machine(struct cg *cg, LLVMTargetMachineRef tm, LLVMCodeGenFileType ft,
                           struct hq_object *out)
{
	LLVMMemoryBufferRef buf;
	char *err = NULL;
	if (LLVMTargetMachineEmitToMemoryBuffer(tm, cg->mod, ft, &err, &buf)) {
		diag_errorf(cg->d, "internal compiler error: BPF backend: %s", err);
		LLVMDisposeMessage(err);
		return -1;
	}
	out->size = LLVMGetBufferSize(buf);
	out->data = malloc(out->size + 1);
	memcpy(out->data, LLVMGetBufferStart(buf), out->size);
	((char *)out->data)[out->size] = 0;
	LLVMDisposeMemoryBuffer(buf);
	return 0;
}

/* IR instructions of the largest function, after optimisation (about
 * as many BPF instructions as that) */
static unsigned cg_largest_function(struct cg *cg)
{
	unsigned most = 0;
	for (LLVMValueRef f = LLVMGetFirstFunction(cg->mod); f; f = LLVMGetNextFunction(f)) {
		unsigned n = 0;
		for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b;
		     b = LLVMGetNextBasicBlock(b))
			for (LLVMValueRef i = LLVMGetFirstInstruction(b); i;
			     i = LLVMGetNextInstruction(i))
				n++;
		most = n > most ? n : most;
	}
	return most;
}

int cg_finish(struct cg *cg, enum hq_emit what, struct hq_object *out)
{
	LLVMDIBuilderFinalize(cg->di);
	if (cg_verify(cg))
		return -1;
	LLVMTargetMachineRef tm = cg_target_machine(cg);
	if (!tm)
		return -1;
	int err = cg_optimise(cg, tm);
	if (!err && cg_largest_function(cg) > CG_MAX_IR)
		err = CG_TOO_LARGE;
	if (!err) {
		if (what == HQ_EMIT_IR)
			err = cg_emit_text(cg, out);
		else
			err = cg_emit_machine(
			    cg, tm, what == HQ_EMIT_ASM ? LLVMAssemblyFile : LLVMObjectFile, out);
	}
	LLVMDisposeTargetMachine(tm);
	return err;
}
