/* cg_tc_vlan.c — VLAN tags the kernel took out of the packet before TC.
 *
 * On receive, the stack moves the outer 802.1Q/802.1ad tag into skb
 * metadata (vlan_present, vlan_tci, vlan_proto) before TC runs, so a TC
 * program sees the frame without its outer tag. hdrq still reports the
 * frame as it was on the wire: eth.type is the tag's TPID, the vlan layer
 * is present with the TCI from the metadata, and any inner tag (QinQ)
 * follows in the packet bytes as usual. XDP sees the raw frame and needs
 * none of this.
 */
#include <string.h>

#include "cg_walk.h"

enum { HW_PRESENT = 0, HW_TCI = 8, HW_PROTO = 16 };

static LLVMValueRef cg_ctx32(struct cg *cg, unsigned off)
{
	LLVMValueRef v = LLVMBuildLoad2(cg->b, cg->i32, cg_gepc(cg, cg->ctx_arg, off), "");
	return LLVMBuildZExt(cg->b, v, cg->i64, "");
}

/* __sk_buff: vlan_present @20, vlan_tci @24, vlan_proto @28 (network order) */
void cg_tc_vlan_prologue(struct cg *cg)
{
	unsigned base = cg->scratch_hw_off;
	if (cg->hook == CG_HOOK_XDP) /* nothing reads the cells (cg_tc_vlan_hw) */
		return;
	cg_vstore_at(cg, base + HW_PRESENT, cg_ctx32(cg, 20));
	cg_vstore_at(cg, base + HW_TCI, cg_ctx32(cg, 24));
	LLVMValueRef p = cg_ctx32(cg, 28);
	LLVMValueRef host =
	    LLVMBuildOr(cg->b,
	                LLVMBuildShl(cg->b, LLVMBuildAnd(cg->b, p, cg_const64(cg, 0xff), ""),
	                             cg_const64(cg, 8), ""),
	                LLVMBuildAnd(cg->b, LLVMBuildLShr(cg->b, p, cg_const64(cg, 8), ""),
	                             cg_const64(cg, 0xff), ""),
	                "");
	cg_vstore_at(cg, base + HW_PROTO, host);
}

/* i1: this packet's outer tag is in the metadata (always false in XDP) */
LLVMValueRef cg_tc_vlan_hw(struct cg *cg)
{
	if (cg->hook == CG_HOOK_XDP)
		return cg_i1(cg, 0);
	return cg_flag(cg, cg->scratch_hw_off + HW_PRESENT);
}

static bool cg_is_vlan_layer(const struct hq_layer *l)
{
	return l->walker && !strcmp(l->walker, "vlan");
}

/* Can a field of l read bytes the kernel moved to the metadata? */
bool cg_tc_vlan_layer(struct cg *cg, const struct hq_layer *l)
{
	return cg->hook != CG_HOOK_XDP && (l->root || cg_is_vlan_layer(l));
}

/* Does this fixed field read bytes the kernel moved to the metadata? The
 * outer tag's TCI (vlan fields at offsets 0-1) and the root layer's
 * EtherType position (offset 12, where the TPID was). */
bool cg_tc_vlan_covers(struct cg *cg, const struct hq_field *f)
{
	if (cg->hook == CG_HOOK_XDP || f->src != HQ_FS_FIXED)
		return false;
	unsigned end_bit = f->bit + f->nbits;
	if (cg_is_vlan_layer(f->layer))
		return f->off * 8 + end_bit <= 16;
	return f->layer->root && f->off == 12 && end_bit <= 16;
}

/* the value the field has on the wire when the tag was taken out */
struct cg_val cg_tc_vlan_field(struct cg *cg, const struct hq_field *f, struct cg_val from_pkt)
{
	unsigned word = cg_is_vlan_layer(f->layer) ? HW_TCI : HW_PROTO;
	unsigned shift = 16 - f->off % 2 * 8 - f->bit - f->nbits;
	LLVMValueRef w = cg_vload_at(cg, cg->scratch_hw_off + word);
	LLVMValueRef v = LLVMBuildLShr(cg->b, w, cg_const64(cg, shift), "");
	v = LLVMBuildAnd(cg->b, v, cg_const64(cg, (1ull << f->nbits) - 1), "");
	if (f->mul > 1)
		v = LLVMBuildMul(cg->b, v, cg_const64(cg, f->mul), "");
	if (f->type == HQ_T_BOOL)
		v = LLVMBuildZExt(cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, v, cg_const64(cg, 0), ""),
		                  cg->i64, "");
	LLVMValueRef hw = cg_tc_vlan_hw(cg);
	struct cg_val r = from_pkt;
	r.a = LLVMBuildSelect(cg->b, hw, v, from_pkt.a, "");
	r.present = LLVMBuildSelect(cg->b, hw, cg_layer_ok(cg, f->layer), from_pkt.present, "");
	return r;
}
