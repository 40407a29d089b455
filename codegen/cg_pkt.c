/* cg_pkt.c — bounded packet access: the bounds check the verifier wants
 * (`p + n <= data_end`) and big-endian loads of 1..16 bytes, each one
 * machine load whatever the packet's alignment.
 */
#include <string.h>

#include "cg.h"

LLVMValueRef cg_pkt_off(struct cg *cg, LLVMValueRef p)
{
	return LLVMBuildSub(cg->b, LLVMBuildPtrToInt(cg->b, p, cg->i64, ""),
	                    LLVMBuildPtrToInt(cg->b, cg->data, cg->i64, ""), "");
}

LLVMValueRef cg_in_bounds(struct cg *cg, LLVMValueRef p, unsigned n)
{
	LLVMValueRef end = cg_gepc(cg, p, n);
	return LLVMBuildICmp(cg->b, LLVMIntULE, end, cg->data_end, "inb");
}

/* One load of the type's width. Packet fields are often not aligned to it,
 * but the verifier allows unaligned packet access wherever the JIT does
 * (x86-64, arm64: no BPF_F_STRICT_ALIGNMENT), and LLVM's BPF backend would
 * otherwise split an align-1 load into single bytes recombined with shifts.
 * Nothing here derives facts from the pointer's low bits. */
LLVMValueRef cg_load_raw(struct cg *cg, LLVMValueRef p, LLVMTypeRef t)
{
	LLVMValueRef v = LLVMBuildLoad2(cg->b, t, p, "");
	LLVMSetAlignment(v, LLVMGetIntTypeWidth(t) / 8);
	return v;
}

static LLVMValueRef cg_bswap(struct cg *cg, LLVMValueRef v)
{
	LLVMTypeRef t = LLVMTypeOf(v);
	unsigned id = LLVMLookupIntrinsicID("llvm.bswap", 10);
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(cg->mod, id, &t, 1);
	LLVMTypeRef fty = LLVMIntrinsicGetType(cg->ctx, id, &t, 1);
	return LLVMBuildCall2(cg->b, fty, fn, &v, 1, "");
}

/* nbytes (1..8) big-endian bytes at p, as i64. The caller has checked the
 * bounds. Power-of-two widths are one load and a byte swap; others are
 * assembled byte by byte so that no byte past the field is touched. */
LLVMValueRef cg_load_be(struct cg *cg, LLVMValueRef p, unsigned nbytes)
{
	if (nbytes == 1 || nbytes == 2 || nbytes == 4 || nbytes == 8) {
		LLVMTypeRef t = LLVMIntTypeInContext(cg->ctx, nbytes * 8);
		LLVMValueRef v = cg_load_raw(cg, p, t);
		if (nbytes > 1)
			v = cg_bswap(cg, v);
		return nbytes == 8 ? v : LLVMBuildZExt(cg->b, v, cg->i64, "");
	}
	LLVMValueRef acc = cg_const64(cg, 0);
	for (unsigned i = 0; i < nbytes; i++) {
		LLVMValueRef byte = cg_load_raw(cg, cg_gepc(cg, p, i), cg->i8);
		byte = LLVMBuildZExt(cg->b, byte, cg->i64, "");
		acc = LLVMBuildShl(cg->b, acc, cg_const64(cg, 8), "");
		acc = LLVMBuildOr(cg->b, acc, byte, "");
	}
	return acc;
}
