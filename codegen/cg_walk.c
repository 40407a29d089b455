/* cg_walk.c — the walkers that stdlib layers name: code for the parts of
 * a header that offsets alone cannot describe. This file holds the
 * registry and the link-layer/network-layer walkers (VLAN stacks, IPv4
 * options, IPv6 extension headers, L4 payload length); TCP options and the application
 * hints live in cg_walk_tcp.c and cg_walk_app.c.
 */
#include <string.h>

#include "cg.h"
#include "cg_walk.h"

/* ---- small structured-control helpers shared by the walkers ---------- */

void cg_need(struct cg *cg, LLVMBasicBlockRef fail, LLVMValueRef cond)
{
	LLVMBasicBlockRef ok = cg_block(cg, "need");
	LLVMBuildCondBr(cg->b, cond, ok, fail);
	LLVMPositionBuilderAtEnd(cg->b, ok);
}

LLVMBasicBlockRef cg_if(struct cg *cg, LLVMValueRef cond, const char *name)
{
	LLVMBasicBlockRef then = cg_block(cg, name), cont = cg_block(cg, "endif");
	LLVMBuildCondBr(cg->b, cond, then, cont);
	LLVMPositionBuilderAtEnd(cg->b, then);
	return cont;
}

void cg_endif(struct cg *cg, LLVMBasicBlockRef cont)
{
	LLVMBuildBr(cg->b, cont);
	LLVMPositionBuilderAtEnd(cg->b, cont);
}

LLVMValueRef cg_i1(struct cg *cg, int v)
{
	return LLVMConstInt(cg->i1, v, 0);
}

LLVMValueRef cg_eqc(struct cg *cg, LLVMValueRef v, uint64_t c)
{
	return LLVMBuildICmp(cg->b, LLVMIntEQ, v, cg_const64(cg, c), "");
}

void cg_set(struct cg *cg, const struct hq_layer *l, const char *key, LLVMValueRef v)
{
	cg_var_set(cg, cg_var(cg, l, key), cg_i1(cg, 1), v);
}

LLVMValueRef cg_get(struct cg *cg, const struct hq_layer *l, const char *key, LLVMValueRef *present)
{
	struct cg_slotvar *v = cg_var(cg, l, key);
	if (!v) {
		if (present)
			*present = cg_i1(cg, 0);
		return cg_const64(cg, 0);
	}
	if (present)
		*present = cg_flag(cg, v->present);
	return cg_vload_at(cg, v->val);
}

/* ---- loops with their state in volatile scratch memory ----------------
 * Map-value bytes are not tracked by the verifier, so each iteration of a
 * walk looks the same to it and is checked once; every index read back is
 * clamped before use. */

LLVMValueRef cg_vload(struct cg *cg, int i)
{
	return cg_vload_at(cg, cg->scratch_walk_off + 8 * i);
}

void cg_vstore(struct cg *cg, int i, LLVMValueRef v)
{
	cg_vstore_at(cg, cg->scratch_walk_off + 8 * i, v);
}

/* v bounded by max for the verifier. Where max + 1 is a power of two this
 * is a mask: the result stays an unknown value in a range and never
 * collapses to a constant, which would teach the verifier a range on the
 * base pointer and split its states. Callers keep v <= max themselves. */
LLVMValueRef cg_clampc(struct cg *cg, LLVMValueRef v, uint64_t max)
{
	v = cg_opaque(cg, v);
	if ((max & (max + 1)) == 0)
		return LLVMBuildAnd(cg->b, v, cg_const64(cg, max), "");
	return LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGT, v, cg_const64(cg, max), ""),
	                       cg_const64(cg, max), v, "");
}

LLVMValueRef cg_payload_ptr(struct cg *cg, LLVMValueRef off)
{
	return cg_gep(cg, cg->data, cg_clampc(cg, off, CG_PAYLOAD_MASK));
}

/* for (j = 0; j < n && state == RUN; j++) body(); — a real loop */
void cg_rloop_begin(struct cg *cg, struct cg_rloop *k, const LLVMValueRef *init, int n,
                    const char *name)
{
	LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b);
	k->head = cg_block(cg, name);
	k->n = n;
	LLVMBuildBr(cg->b, k->head);
	LLVMPositionBuilderAtEnd(cg->b, k->head);
	for (int i = 0; i < n; i++) {
		k->v[i] = LLVMBuildPhi(cg->b, LLVMTypeOf(init[i]), name);
		LLVMAddIncoming(k->v[i], (LLVMValueRef *)&init[i], &from, 1);
	}
}

void cg_rloop_next(struct cg *cg, struct cg_rloop *k, const LLVMValueRef *next)
{
	LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b);
	for (int i = 0; i < k->n; i++)
		LLVMAddIncoming(k->v[i], (LLVMValueRef *)&next[i], &from, 1);
	LLVMBuildBr(cg->b, k->head);
}

void cg_loop(struct cg *cg, unsigned n, cg_loop_body body, void *arg)
{
	struct cg_rloop k;
	cg_rloop_begin(cg, &k, (LLVMValueRef[]){cg_const64(cg, 0)}, 1, "loop");
	LLVMBasicBlockRef run = cg_block(cg, "loop_body"), out = cg_block(cg, "loop_end");
	LLVMValueRef go =
	    LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, k.v[0], cg_const64(cg, n), ""),
	                 cg_eqc(cg, cg_vload(cg, W_STATE), ST_RUN), "");
	LLVMBuildCondBr(cg->b, go, run, out);
	LLVMPositionBuilderAtEnd(cg->b, run);
	body(cg, arg);
	cg_rloop_next(cg, &k, (LLVMValueRef[]){LLVMBuildAdd(cg->b, k.v[0], cg_const64(cg, 1), "")});
	LLVMPositionBuilderAtEnd(cg->b, out);
}

void cg_walk_init(struct cg *cg)
{
	for (int i = W_IN; i <= W_STATE; i++)
		cg_vstore(cg, i, cg_const64(cg, 0));
}

/* ---- vlan: one 802.1Q/802.1ad tag, or two (QinQ) ---------------------- */

/* the two bytes after a tag: an EtherType, or (below 0x0600) an 802.3
 * length, which is not a type */
static void cg_vlan_type(struct cg *cg, const struct hq_layer *l, LLVMValueRef t)
{
	LLVMValueRef is_type = LLVMBuildICmp(cg->b, LLVMIntUGE, t, cg_const64(cg, 0x600), "");
	cg_var_set(cg, cg_var(cg, l, "type"), is_type, t);
}

static LLVMValueRef cg_is_tpid(struct cg *cg, LLVMValueRef t)
{
	LLVMValueRef q = LLVMBuildOr(cg->b, cg_eqc(cg, t, 0x8100), cg_eqc(cg, t, 0x88a8), "");
	return LLVMBuildOr(cg->b, q, cg_eqc(cg, t, 0x9100), ""); /* pre-802.1ad QinQ TPID */
}

/* The tag's EtherType sits 2 bytes into the tag, or — when TC's kernel
 * took the outer tag out (cg_tc_vlan.c) — where eth.type was: 2 bytes
 * before the layer start. An inner tag follows right after. */
static void cg_walk_vlan(struct cg *cg, const struct hq_layer *l, struct cg_layer *st,
                         struct cg_hdr h)
{
	LLVMValueRef hw = cg_tc_vlan_hw(cg);
	LLVMValueRef tpos =
	    LLVMBuildSelect(cg->b, hw, LLVMBuildSub(cg->b, h.off, cg_const64(cg, 2), ""),
	                    LLVMBuildAdd(cg->b, h.off, cg_const64(cg, 2), ""), "");
	cg_vstore(cg, W_IN, tpos);
	LLVMValueRef tp = cg_gep(cg, cg->data, cg_clampc(cg, cg_vload(cg, W_IN), CG_MAX_OFF));
	LLVMBasicBlockRef have = cg_if(cg, cg_in_bounds(cg, tp, 2), "vlan_type");
	LLVMValueRef t1 = cg_load_be(cg, tp, 2);
	cg_vlan_type(cg, l, t1);
	cg_layer_put(cg, l, CG_NEXT,
	             LLVMBuildAdd(cg->b, cg_vload(cg, W_IN), cg_const64(cg, 2), ""));
	/* an inner tag: TCI and EtherType right after */
	LLVMValueRef inner =
	    cg_gep(cg, cg->data,
	           cg_clampc(cg, LLVMBuildAdd(cg->b, cg_vload(cg, W_IN), cg_const64(cg, 2), ""),
	                     CG_MAX_OFF));
	LLVMValueRef stacked =
	    LLVMBuildAnd(cg->b, cg_is_tpid(cg, t1), cg_in_bounds(cg, inner, 4), "");
	LLVMBasicBlockRef cont = cg_if(cg, stacked, "qinq");
	LLVMValueRef tci = cg_load_be(cg, inner, 2);
	cg_set(cg, l, "inner_id", LLVMBuildAnd(cg->b, tci, cg_const64(cg, 0xfff), ""));
	cg_set(cg, l, "inner_pcp", LLVMBuildLShr(cg->b, tci, cg_const64(cg, 13), ""));
	cg_set(cg, l, "inner_dei",
	       LLVMBuildAnd(cg->b, LLVMBuildLShr(cg->b, tci, cg_const64(cg, 12), ""),
	                    cg_const64(cg, 1), ""));
	cg_vlan_type(cg, l, cg_load_be(cg, cg_gepc(cg, inner, 2), 2));
	cg_layer_put(cg, l, CG_NEXT,
	             LLVMBuildAdd(cg->b, cg_vload(cg, W_IN), cg_const64(cg, 6), ""));
	cg_endif(cg, cont);
	cg_endif(cg, have);
	(void)st;
}

/* ---- ip4_opts: the destination tshark shows -----------------------------
 * Before it shows ip.dst, tshark walks the options for a loose or strict
 * source route (RFC 791 §3.1): with one whose pointer is still valid the
 * destination is the route's last address, else the header's. The walk
 * reads each option's type byte, the length byte of those that have one
 * and a route's pointer; a byte the capture cut off ends the decoding, and
 * ip.dst is absent. A bad length, EOL or the end of the header ends the
 * walk with the header's destination. */

#define IP4_MAX_HDR  63 /* header length is at most 60: a mask bound */
#define IP4_MAX_OPTS 40 /* each option takes at least one of the 40 bytes */
enum { IPOPT_EOL = 0, IPOPT_NOP = 1, IPOPT_LSR = 131, IPOPT_SSR = 137 };

static LLVMValueRef cg_ip4_is_route(struct cg *cg, LLVMValueRef kind)
{
	return LLVMBuildOr(cg->b, cg_eqc(cg, kind, IPOPT_LSR), cg_eqc(cg, kind, IPOPT_SSR), "");
}

/* i1: an option of length len, ending at end, is long enough for its
 * kind and ends inside the header, hlen bytes long */
static LLVMValueRef cg_ip4_opt_fits(struct cg *cg, LLVMValueRef route, LLVMValueRef len,
                                    LLVMValueRef end, LLVMValueRef hlen)
{
	LLVMValueRef min = LLVMBuildSelect(cg->b, route, cg_const64(cg, 3), cg_const64(cg, 2), "");
	return LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, len, min, ""),
	                    LLVMBuildICmp(cg->b, LLVMIntULE, end, hlen, ""), "");
}

/* i1: a source route's pointer (1-based, in 4-byte steps) says addresses
 * remain in the option, len bytes long; then the last one is the
 * destination */
static LLVMValueRef cg_ip4_route_left(struct cg *cg, LLVMValueRef ptr, LLVMValueRef len)
{
	LLVMValueRef valid =
	    LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, ptr, cg_const64(cg, 4), ""),
	                 LLVMBuildICmp(cg->b, LLVMIntULE, ptr, len, ""), "");
	return LLVMBuildAnd(cg->b, valid,
	                    cg_eqc(cg, LLVMBuildAnd(cg->b, ptr, cg_const64(cg, 3), ""), 0), "");
}

struct cg_ip4w {
	LLVMValueRef start, hlen; /* ptr, i64 */
};

/* W_IN: offset of the option, W_OUT: offset of the destination address */
static void cg_ip4_step(struct cg *cg, void *arg)
{
	struct cg_ip4w *w = arg;
	LLVMBasicBlockRef done = cg_block(cg, "o4_done"), fail = cg_block(cg, "o4_cut"),
	                  next = cg_block(cg, "o4_next");
	LLVMValueRef off = cg_clampc(cg, cg_vload(cg, W_IN), IP4_MAX_HDR);
	LLVMValueRef p = cg_gep(cg, w->start, off);
	LLVMBasicBlockRef b1 = cg_block(cg, "o4_in"), b2 = cg_block(cg, "o4_kind");
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, off, w->hlen, ""), b1, done);
	LLVMPositionBuilderAtEnd(cg->b, b1);
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, p, 1), b2, fail);
	LLVMPositionBuilderAtEnd(cg->b, b2);
	LLVMValueRef kind = cg_load_be(cg, p, 1);
	LLVMBasicBlockRef nop = cg_block(cg, "o4_nop"), tlv = cg_block(cg, "o4_tlv");
	LLVMBasicBlockRef lenb = cg_block(cg, "o4_len"), lenok = cg_block(cg, "o4_lenok");
	LLVMValueRef end1 = LLVMBuildAdd(cg->b, off, cg_const64(cg, 1), "");
	LLVMBuildCondBr(cg->b, cg_eqc(cg, kind, IPOPT_NOP), nop, tlv);
	LLVMPositionBuilderAtEnd(cg->b, nop);
	cg_vstore(cg, W_IN, end1);
	LLVMBuildBr(cg->b, next);
	/* EOL, or no room for a length byte in the header: the walk ends */
	LLVMPositionBuilderAtEnd(cg->b, tlv);
	LLVMValueRef has_len =
	    LLVMBuildAnd(cg->b, LLVMBuildNot(cg->b, cg_eqc(cg, kind, IPOPT_EOL), ""),
	                 LLVMBuildICmp(cg->b, LLVMIntULT, end1, w->hlen, ""), "");
	LLVMBasicBlockRef b3 = cg_block(cg, "o4_lenin");
	LLVMBuildCondBr(cg->b, has_len, b3, done);
	LLVMPositionBuilderAtEnd(cg->b, b3);
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, p, 2), lenb, fail);
	LLVMPositionBuilderAtEnd(cg->b, lenb);
	LLVMValueRef len = cg_load_be(cg, cg_gepc(cg, p, 1), 1);
	LLVMValueRef end = LLVMBuildAdd(cg->b, off, len, "");
	LLVMValueRef route = cg_ip4_is_route(cg, kind);
	LLVMValueRef sane = cg_ip4_opt_fits(cg, route, len, end, w->hlen);
	LLVMBuildCondBr(cg->b, sane, lenok, done);
	LLVMPositionBuilderAtEnd(cg->b, lenok);
	LLVMBasicBlockRef skip = cg_block(cg, "o4_skip"), rt = cg_block(cg, "o4_route"),
	                  rtin = cg_block(cg, "o4_ptr");
	LLVMBuildCondBr(cg->b, route, rt, skip);
	LLVMPositionBuilderAtEnd(cg->b, skip);
	cg_vstore(cg, W_IN, end);
	LLVMBuildBr(cg->b, next);
	/* a source route (cg_ip4_route_left) */
	LLVMPositionBuilderAtEnd(cg->b, rt);
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, p, 3), rtin, fail);
	LLVMPositionBuilderAtEnd(cg->b, rtin);
	LLVMValueRef valid = cg_ip4_route_left(cg, cg_load_be(cg, cg_gepc(cg, p, 2), 1), len);
	LLVMValueRef last = LLVMBuildSub(cg->b, end, cg_const64(cg, 4), "");
	cg_vstore(cg, W_OUT, LLVMBuildSelect(cg->b, valid, last, cg_vload(cg, W_OUT), ""));
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, fail);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_FAIL));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, done);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_DONE));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}

/* The payload length the header declares (total length - header length),
 * worked out once into a cell for every layer above to read
 * (cg_l3_remaining): recomputing it at each use cost the verifier states. */
static void cg_ip4_payload_len(struct cg *cg, const struct hq_layer *l)
{
	struct cg_val len = cg_field(cg, proto_layer_field(l, "len"));
	struct cg_val hl = cg_field(cg, proto_layer_field(l, "hdr_len"));
	LLVMValueRef have = LLVMBuildAnd(cg->b, len.present, hl.present, "");
	have = LLVMBuildAnd(cg->b, have, LLVMBuildICmp(cg->b, LLVMIntUGE, len.a, hl.a, ""), "");
	LLVMBasicBlockRef cont = cg_if(cg, have, "ip4_plen");
	cg_set(cg, l, "payload_len", LLVMBuildSub(cg->b, len.a, hl.a, ""));
	cg_endif(cg, cont);
}

/* The destination in the fixed IPv4 header at p (i64, memory order). */
static LLVMValueRef cg_ip4_hdr_dst(struct cg *cg, LLVMValueRef p)
{
	return LLVMBuildZExt(cg->b, cg_load_raw(cg, cg_gepc(cg, p, 16), cg->i32), cg->i64, "");
}

static void cg_walk_ip4(struct cg *cg, const struct hq_layer *l, struct cg_layer *st,
                        struct cg_hdr h)
{
	if (cg_children_needed(cg, l)) /* only they read it (cg_l3_remaining) */
		cg_ip4_payload_len(cg, l);
	if (!cg_field_used(cg, l, "dst"))
		return;
	struct cg_ip4w w = {.start = h.p};
	struct cg_val hl = cg_field(cg, l->hlen);
	w.hlen = LLVMBuildMul(cg->b, hl.a, cg_const64(cg, l->hlen_mul), "");
	/* most headers have no options: the address in the fixed header,
	 * which the parse has bounded, without the walk */
	LLVMBasicBlockRef plain = cg_block(cg, "ip4_noopt"), opts = cg_block(cg, "ip4_opts"),
	                  done = cg_block(cg, "ip4_dst");
	LLVMBuildCondBr(cg->b,
	                LLVMBuildICmp(cg->b, LLVMIntUGT, w.hlen, cg_const64(cg, l->size), ""), opts,
	                plain);
	LLVMPositionBuilderAtEnd(cg->b, plain);
	cg_set(cg, l, "dst", cg_ip4_hdr_dst(cg, h.p));
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, opts);
	cg_walk_init(cg);
	cg_vstore(cg, W_IN, cg_const64(cg, l->size));
	cg_vstore(cg, W_OUT, cg_const64(cg, 16));
	cg_loop(cg, IP4_MAX_OPTS, cg_ip4_step, &w);
	LLVMValueRef q = cg_gep(cg, h.p, cg_clampc(cg, cg_vload(cg, W_OUT), IP4_MAX_HDR));
	LLVMValueRef seen =
	    LLVMBuildICmp(cg->b, LLVMIntNE, cg_vload(cg, W_STATE), cg_const64(cg, ST_FAIL), "");
	LLVMBasicBlockRef cont =
	    cg_if(cg, LLVMBuildAnd(cg->b, seen, cg_in_bounds(cg, q, 4), ""), "dst");
	cg_set(cg, l, "dst", LLVMBuildZExt(cg->b, cg_load_raw(cg, q, cg->i32), cg->i64, ""));
	cg_endif(cg, cont);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
	(void)st;
}

/* The fast walk's VLAN walk, as cg_walk_vlan's (XDP, or TC without a tag
 * in the metadata: cg_fast_walk): the EtherType after one tag, or after
 * an inner one (QinQ) that the frame holds, and that one's TCI. */
static LLVMValueRef cg_fast_vlan(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	LLVMValueRef t1 = cg_load_be(cg, cg_gepc(cg, p, 2), 2), n1 = cg_gepc(cg, p, 4);
	LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b), qinq = cg_block(cg, "fast_qinq"),
	                  done = cg_block(cg, "fast_vlan");
	LLVMBuildCondBr(cg->b, cg_is_tpid(cg, t1), qinq, done);
	LLVMPositionBuilderAtEnd(cg->b, qinq);
	cg_fast_need(cg, cg_in_bounds(cg, n1, 4));
	LLVMValueRef t2 = cg_load_be(cg, cg_gepc(cg, p, 6), 2), n2 = cg_gepc(cg, p, 8);
	LLVMValueRef tci2 = cg_load_be(cg, n1, 2);
	LLVMBasicBlockRef inner = LLVMGetInsertBlock(cg->b);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
	LLVMValueRef tv[2] = {t1, t2}, nv[2] = {n1, n2}, cv[2] = {cg_const64(cg, 0), tci2};
	LLVMBasicBlockRef bb[2] = {from, inner};
	LLVMValueRef t = cg_phi(cg, "vlan_type", tv, bb, 2);
	LLVMValueRef next = cg_phi(cg, "vlan_next", nv, bb, 2);
	LLVMValueRef tci = cg_phi(cg, "vlan_inner", cv, bb, 2);
	cg_fast_set(cg, l, "type", LLVMBuildICmp(cg->b, LLVMIntUGE, t, cg_const64(cg, 0x600), ""),
	            t, NULL, NULL);
	LLVMValueRef stacked = cg_is_tpid(cg, t1);
	cg_fast_set_used(cg, l, "inner_id", stacked,
	                 LLVMBuildAnd(cg->b, tci, cg_const64(cg, 0xfff), ""));
	cg_fast_set_used(cg, l, "inner_pcp", stacked,
	                 LLVMBuildLShr(cg->b, tci, cg_const64(cg, 13), ""));
	cg_fast_set_used(cg, l, "inner_dei", stacked,
	                 LLVMBuildAnd(cg->b, LLVMBuildLShr(cg->b, tci, cg_const64(cg, 12), ""),
	                              cg_const64(cg, 1), ""));
	return next;
}

static const char *const cg_fast_vlan_keys[] = {"type", "inner_id", "inner_pcp", "inner_dei", NULL};

#define CG_FAST_IP4_OPTS 4 /* options the fast walk scans for a source route */

/* The fast walk's scan of the IPv4 options for ip.dst (cg_fast_ip4_dst). */
struct cg_fast_o4 {
	LLVMValueRef p, hlen; /* the header, its length */
	LLVMValueRef dst;     /* the header's destination */
	LLVMValueRef found;   /* phi in done: the destination */
	LLVMBasicBlockRef done;
};

/* the scan ends here, with destination v */
static void cg_fast_o4_end(struct cg *cg, struct cg_fast_o4 *w, LLVMValueRef v)
{
	LLVMBasicBlockRef at = LLVMGetInsertBlock(cg->b);
	LLVMAddIncoming(w->found, &v, &at, 1);
	LLVMBuildBr(cg->b, w->done);
}

/* a source route of len bytes at o, ending at end: its last address
 * where its pointer is valid (cg_ip4_route_left), else the header's */
static void cg_fast_o4_route(struct cg *cg, struct cg_fast_o4 *w, LLVMValueRef o, LLVMValueRef len,
                             LLVMValueRef end)
{
	LLVMValueRef valid = cg_ip4_route_left(cg, cg_load_be(cg, cg_gepc(cg, o, 2), 1), len);
	LLVMBasicBlockRef cont = cg_if(cg, valid, "fast_o4_route");
	/* opaque: folded into end, the offset would give the verifier a
	 * pointer apart from the one the bounds check is on */
	LLVMValueRef q =
	    cg_gep(cg, w->p, cg_opaque(cg, LLVMBuildSub(cg->b, end, cg_const64(cg, 4), "")));
	cg_fast_need(cg, cg_in_bounds(cg, q, 4));
	cg_fast_o4_end(cg, w, LLVMBuildZExt(cg->b, cg_load_raw(cg, q, cg->i32), cg->i64, ""));
	LLVMPositionBuilderAtEnd(cg->b, cont);
	cg_fast_o4_end(cg, w, w->dst);
}

/* The option at off, as cg_ip4_step takes it: the next one's offset, in
 * the block where the scan goes on. */
static LLVMValueRef cg_fast_o4_step(struct cg *cg, struct cg_fast_o4 *w, LLVMValueRef off)
{
	LLVMBasicBlockRef in = cg_block(cg, "fast_o4"), tlv = cg_block(cg, "fast_o4_tlv"),
	                  skip = cg_block(cg, "fast_o4_skip"), rt = cg_block(cg, "fast_o4_rt"),
	                  end_bb = cg_block(cg, "fast_o4_end"), next = cg_block(cg, "fast_o4_next");
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, off, w->hlen, ""), in, end_bb);
	LLVMPositionBuilderAtEnd(cg->b, in);
	LLVMValueRef o = cg_gep(cg, w->p, off);
	cg_fast_need(cg, cg_in_bounds(cg, o, 3));
	LLVMValueRef kind = cg_load_be(cg, o, 1), len = cg_load_be(cg, cg_gepc(cg, o, 1), 1);
	LLVMValueRef end1 = LLVMBuildAdd(cg->b, off, cg_const64(cg, 1), "");
	LLVMValueRef end = LLVMBuildAdd(cg->b, off, len, "");
	LLVMBasicBlockRef nop = LLVMGetInsertBlock(cg->b);
	LLVMBuildCondBr(cg->b, cg_eqc(cg, kind, IPOPT_NOP), next, tlv);
	/* EOL, no room for a length byte, or a length out of bounds: the end */
	LLVMPositionBuilderAtEnd(cg->b, tlv);
	LLVMValueRef route = cg_ip4_is_route(cg, kind);
	LLVMValueRef sane = cg_ip4_opt_fits(cg, route, len, end, w->hlen);
	sane = LLVMBuildAnd(cg->b, sane, LLVMBuildNot(cg->b, cg_eqc(cg, kind, IPOPT_EOL), ""), "");
	sane = LLVMBuildAnd(cg->b, sane, LLVMBuildICmp(cg->b, LLVMIntULT, end1, w->hlen, ""), "");
	LLVMBuildCondBr(cg->b, sane, skip, end_bb);
	LLVMPositionBuilderAtEnd(cg->b, skip);
	LLVMBuildCondBr(cg->b, route, rt, next);
	LLVMPositionBuilderAtEnd(cg->b, rt);
	cg_fast_o4_route(cg, w, o, len, end);
	LLVMPositionBuilderAtEnd(cg->b, end_bb);
	cg_fast_o4_end(cg, w, w->dst);
	LLVMPositionBuilderAtEnd(cg->b, next);
	LLVMValueRef nv[2] = {end1, end};
	LLVMBasicBlockRef nb[2] = {nop, skip};
	return cg_phi(cg, "o4_off", nv, nb, 2);
}

#define CG_FAST_IP4_OPTS 4 /* options the fast walk scans for a source route */

/* ip.dst of the IPv4 header at p with options, as cg_ip4_step finds it,
 * for the fast walk: where the scan ends within CG_FAST_IP4_OPTS options
 * and the bytes it reads are in the frame (else the full walk). */
static LLVMValueRef cg_fast_ip4_dst(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	struct cg_fast_o4 w = {.p = p, .dst = cg_ip4_hdr_dst(cg, p)};
	w.hlen = cg_field(cg, proto_layer_field(l, "hdr_len")).a;
	LLVMBasicBlockRef start = LLVMGetInsertBlock(cg->b);
	w.done = cg_block(cg, "fast_o4_done");
	LLVMPositionBuilderAtEnd(cg->b, w.done);
	w.found = LLVMBuildPhi(cg->b, cg->i64, "ip4_dst");
	LLVMPositionBuilderAtEnd(cg->b, start);
	LLVMValueRef off = cg_const64(cg, l->size);
	for (int i = 0; i < CG_FAST_IP4_OPTS; i++)
		off = cg_fast_o4_step(cg, &w, off);
	cg_fast_need(cg, LLVMBuildICmp(cg->b, LLVMIntUGE, off, w.hlen, "")); /* more options */
	cg_fast_o4_end(cg, &w, w.dst);
	LLVMPositionBuilderAtEnd(cg->b, w.done);
	return w.found;
}

/* The fast walk's IPv4 walk: the payload length the layer above needs
 * (cg_ip4_payload_len; `stop_if` made sure len >= hdr_len), and the
 * destination of a header without options. */
static LLVMValueRef cg_fast_ip4(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	struct cg_val len = cg_field(cg, proto_layer_field(l, "len"));
	struct cg_val hl = cg_field(cg, proto_layer_field(l, "hdr_len"));
	cg_fast_need(cg, LLVMBuildAnd(cg->b, LLVMBuildAnd(cg->b, len.present, hl.present, ""),
	                              LLVMBuildICmp(cg->b, LLVMIntUGE, len.a, hl.a, ""), ""));
	cg_fast_set(cg, l, "payload_len", cg_i1(cg, 1), LLVMBuildSub(cg->b, len.a, hl.a, ""), NULL,
	            NULL);
	if (cg_field_used(cg, l, "dst"))
		cg_fast_set(cg, l, "dst", cg_i1(cg, 1), cg_ip4_hdr_dst(cg, p),
		            cg_eqc(cg, hl.a, l->size), cg_fast_ip4_dst);
	return NULL;
}

static const char *const cg_fast_ip4_keys[] = {"payload_len", "dst", NULL};

/* ---- ip6_ext: bounded walk over IPv6 extension headers ---------------- */

#define CG_IP6_MAX_EXT 16  /* headers, and options inside hop-by-hop / dest. options */
#define CG_NO_PROTO    256 /* nh value: no upper-layer protocol reached */
#define W_OPT          4   /* walker slot: end of the options being walked (0: none) */
#define W_FRAG         5   /* walker slot: 0, or CG_HAS_FRAG | a fragment header's field */
#define CG_HAS_FRAG    0x10000

enum { IP6_HBH = 0, IP6_ROUTING = 43, IP6_FRAG = 44, IP6_AH = 51, IP6_NONE = 59, IP6_DST = 60 };

static LLVMValueRef cg_ip6_is_ext(struct cg *cg, LLVMValueRef nh)
{
	static const int ext[] = {IP6_HBH, IP6_ROUTING, IP6_FRAG, IP6_AH, IP6_DST};
	LLVMValueRef any = cg_i1(cg, 0);
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		any = LLVMBuildOr(cg->b, any, cg_eqc(cg, nh, ext[i]), "");
	return any;
}

/* length of the extension header nh whose second byte is hl */
static LLVMValueRef cg_ip6_ext_len(struct cg *cg, LLVMValueRef nh, LLVMValueRef hl)
{
	LLVMValueRef ah = LLVMBuildShl(cg->b, LLVMBuildAdd(cg->b, hl, cg_const64(cg, 2), ""),
	                               cg_const64(cg, 2), "");
	LLVMValueRef std = LLVMBuildShl(cg->b, LLVMBuildAdd(cg->b, hl, cg_const64(cg, 1), ""),
	                                cg_const64(cg, 3), "");
	LLVMValueRef len = LLVMBuildSelect(cg->b, cg_eqc(cg, nh, IP6_AH), ah, std, "");
	return LLVMBuildSelect(cg->b, cg_eqc(cg, nh, IP6_FRAG), cg_const64(cg, 8), len, "");
}

/* One TLV option of a hop-by-hop or destination options header, at W_IN
 * before W_OPT. tshark decodes each one; an option that runs past its
 * header or past the capture throws, and nothing after it is decoded:
 * then no upper-layer protocol is known. */
static void cg_ip6_option(struct cg *cg, LLVMBasicBlockRef next)
{
	LLVMValueRef pos = cg_clampc(cg, cg_vload(cg, W_IN), CG_MAX_OFF);
	LLVMValueRef end = cg_vload(cg, W_OPT);
	LLVMValueRef p = cg_gep(cg, cg->data, pos);
	LLVMBasicBlockRef bad = cg_block(cg, "opt6_bad"), b1 = cg_block(cg, "opt6"),
	                  pad1 = cg_block(cg, "opt6_pad1"), tlv = cg_block(cg, "opt6_tlv"),
	                  b2 = cg_block(cg, "opt6_len"), b3 = cg_block(cg, "opt6_fits"),
	                  ok = cg_block(cg, "opt6_ok");
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, p, 1), b1, bad);
	LLVMPositionBuilderAtEnd(cg->b, b1);
	LLVMValueRef one = LLVMBuildAdd(cg->b, pos, cg_const64(cg, 1), "");
	LLVMBuildCondBr(cg->b, cg_eqc(cg, cg_load_be(cg, p, 1), 0), pad1, tlv);
	LLVMPositionBuilderAtEnd(cg->b, pad1);
	LLVMValueRef at = LLVMBuildPhi(cg->b, cg->i64, "opt6_end");
	cg_vstore(cg, W_IN, at);
	cg_vstore(cg, W_OPT,
	          LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, at, end, ""),
	                          cg_const64(cg, 0), end, ""));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, tlv);
	LLVMValueRef two = LLVMBuildAdd(cg->b, pos, cg_const64(cg, 2), "");
	LLVMValueRef room = LLVMBuildICmp(cg->b, LLVMIntULE, two, end, "");
	LLVMBuildCondBr(cg->b, LLVMBuildAnd(cg->b, room, cg_in_bounds(cg, p, 2), ""), b2, bad);
	LLVMPositionBuilderAtEnd(cg->b, b2);
	LLVMValueRef oend = LLVMBuildAdd(cg->b, two, cg_load_be(cg, cg_gepc(cg, p, 1), 1), "");
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntULE, oend, end, ""), b3, bad);
	LLVMPositionBuilderAtEnd(cg->b, b3);
	LLVMValueRef q = cg_gep(cg, cg->data, cg_clampc(cg, oend, CG_MAX_OFF));
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, q, 0), ok, bad);
	LLVMPositionBuilderAtEnd(cg->b, ok);
	LLVMBuildBr(cg->b, pad1);
	LLVMValueRef ends[2] = {one, oend};
	LLVMBasicBlockRef from[2] = {b1, ok};
	LLVMAddIncoming(at, ends, from, 2);
	LLVMPositionBuilderAtEnd(cg->b, bad);
	cg_vstore(cg, W_REM, cg_const64(cg, CG_NO_PROTO));
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_DONE));
	LLVMBuildBr(cg->b, next);
}

/* W_IN: offset of the current header (or option), W_REM: its type, W_OUT:
 * bytes walked, W_OPT: end of the options being walked */
static void cg_ip6_step(struct cg *cg, void *arg)
{
	(void)arg;
	LLVMValueRef nh = cg_vload(cg, W_REM);
	LLVMBasicBlockRef next = cg_block(cg, "ext_next"), done = cg_block(cg, "ext_done");
	LLVMBasicBlockRef ext = cg_block(cg, "ext"), body = cg_block(cg, "ext_body");
	LLVMBasicBlockRef opt = cg_block(cg, "ext_opt"), hdr = cg_block(cg, "ext_hdr");
	LLVMBuildCondBr(cg->b, cg_eqc(cg, cg_vload(cg, W_OPT), 0), hdr, opt);
	LLVMPositionBuilderAtEnd(cg->b, opt);
	cg_ip6_option(cg, next);
	LLVMPositionBuilderAtEnd(cg->b, hdr);
	LLVMBuildCondBr(cg->b, cg_ip6_is_ext(cg, nh), ext, done);
	LLVMPositionBuilderAtEnd(cg->b, ext);
	LLVMValueRef cur = cg_clampc(cg, cg_vload(cg, W_IN), CG_MAX_OFF);
	LLVMValueRef p = cg_gep(cg, cg->data, cur);
	LLVMBasicBlockRef trunc = cg_block(cg, "ext_trunc");
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, p, 8), body, trunc); /* every one is >= 8 bytes */
	LLVMPositionBuilderAtEnd(cg->b, trunc);
	cg_vstore(cg, W_REM, cg_const64(cg, CG_NO_PROTO));
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, body);
	LLVMValueRef len = cg_ip6_ext_len(cg, nh, cg_load_be(cg, cg_gepc(cg, p, 1), 1));
	LLVMBasicBlockRef fcont = cg_if(cg, cg_eqc(cg, nh, IP6_FRAG), "frag");
	/* kept in a cell, like the walk's position: a register would give the
	 * verifier one more state per path at the loop's head */
	LLVMValueRef fo = cg_load_be(cg, cg_gepc(cg, p, 2), 2);
	cg_vstore(cg, W_FRAG, LLVMBuildOr(cg->b, fo, cg_const64(cg, CG_HAS_FRAG), ""));
	/* a later fragment carries no headers, only data: tshark stops here */
	LLVMBasicBlockRef later =
	    cg_if(cg, LLVMBuildICmp(cg->b, LLVMIntUGT, fo, cg_const64(cg, 7), ""), "frag_later");
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_DONE));
	cg_endif(cg, later);
	cg_endif(cg, fcont);
	cg_vstore(cg, W_REM, cg_load_be(cg, p, 1));
	LLVMValueRef hend = LLVMBuildAdd(cg->b, cur, len, "");
	LLVMValueRef opts =
	    LLVMBuildOr(cg->b, cg_eqc(cg, nh, IP6_HBH), cg_eqc(cg, nh, IP6_DST), "");
	cg_vstore(cg, W_IN,
	          LLVMBuildSelect(cg->b, opts, LLVMBuildAdd(cg->b, cur, cg_const64(cg, 2), ""),
	                          hend, ""));
	cg_vstore(cg, W_OPT, LLVMBuildSelect(cg->b, opts, hend, cg_const64(cg, 0), ""));
	cg_vstore(cg, W_OUT, LLVMBuildAdd(cg->b, cg_vload(cg, W_OUT), len, ""));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, done);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_DONE));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}

/* i1: payload length 0 and a hop-by-hop header next (a jumbogram, or
 * malformed to tshark without the option). Opaque, and made afresh where
 * needed: a branch on the header's bytes, or a branch result kept live,
 * would split the verifier's states for the rest of the program. */
static LLVMValueRef cg_ip6_len0_hbh(struct cg *cg, struct cg_hdr h)
{
	LLVMValueRef zero =
	    LLVMBuildAnd(cg->b, cg_eqc(cg, cg_load_be(cg, cg_gepc(cg, h.p, 4), 2), 0),
	                 cg_eqc(cg, cg_load_be(cg, cg_gepc(cg, h.p, 6), 1), 0), "");
	return cg_launder(cg, zero);
}

/* RFC 2675 jumbogram: payload length 0 and, first in the hop-by-hop header
 * right after the fixed header, a Jumbo Payload option (type 0xc2, 4 bytes)
 * above 65535: that value is the payload length, as tshark takes it.
 * (Options after padding are not looked for: the payload length stays
 * unknown, and what depends on it absent.) */
static void cg_ip6_jumbo(struct cg *cg, const struct hq_layer *l, struct cg_hdr h)
{
	LLVMBasicBlockRef hbh = cg_if(cg, cg_ip6_len0_hbh(cg, h), "jumbo_hbh");
	/* a fresh pointer: a bounds check on one derived from h.p would give h.p
	 * a range on this path only */
	LLVMValueRef opt =
	    cg_gep(cg, cg->data,
	           cg_clampc(cg, LLVMBuildAdd(cg->b, h.off, cg_const64(cg, 40), ""), CG_MAX_OFF));
	LLVMBasicBlockRef in = cg_if(cg, cg_in_bounds(cg, opt, 8), "jumbo_in");
	LLVMValueRef len = cg_load_be(cg, cg_gepc(cg, opt, 4), 4);
	LLVMValueRef is =
	    LLVMBuildAnd(cg->b, cg_eqc(cg, cg_load_be(cg, cg_gepc(cg, opt, 2), 2), 0xc204),
	                 LLVMBuildICmp(cg->b, LLVMIntUGT, len, cg_const64(cg, 65535), ""), "");
	LLVMBasicBlockRef set = cg_if(cg, is, "jumbo");
	cg_set(cg, l, "jumbo_len", len);
	cg_endif(cg, set);
	cg_endif(cg, in);
	cg_endif(cg, hbh);
}

/* the IPv6 payload length every later use reads (cg_ip6_payload_len) */
static void cg_ip6_store_payload_len(struct cg *cg, const struct hq_layer *l, struct cg_hdr h)
{
	LLVMValueRef jp, jumbo = cg_get(cg, l, "jumbo_len", &jp);
	LLVMValueRef plen = cg_load_be(cg, cg_gepc(cg, h.p, 4), 2);
	cg_set(cg, l, "payload_len", LLVMBuildSelect(cg->b, jp, jumbo, plen, ""));
}

static void cg_walk_ip6(struct cg *cg, const struct hq_layer *l, struct cg_layer *st,
                        struct cg_hdr h)
{
	cg_ip6_jumbo(cg, l, h); /* ip6.proto needs it, whatever is parsed above */
	if (cg_children_needed(cg, l))
		cg_ip6_store_payload_len(cg, l, h);
	LLVMValueRef start = h.off;
	cg_walk_init(cg);
	cg_vstore(cg, W_OPT, cg_const64(cg, 0));
	cg_vstore(cg, W_FRAG, cg_const64(cg, 0));
	cg_vstore(cg, W_IN, LLVMBuildAdd(cg->b, start, cg_const64(cg, 40), ""));
	cg_vstore(cg, W_REM, cg_load_be(cg, cg_gepc(cg, h.p, 6), 1));
	cg_vstore(cg, W_OUT, cg_const64(cg, 40));
	cg_loop(cg, CG_IP6_MAX_EXT, cg_ip6_step, NULL);
	LLVMValueRef nh = cg_vload(cg, W_REM);
	LLVMValueRef end = cg_vload(cg, W_IN);
	LLVMValueRef fr = cg_vload(cg, W_FRAG);
	LLVMValueRef has_frag =
	    LLVMBuildICmp(cg->b, LLVMIntUGE, fr, cg_const64(cg, CG_HAS_FRAG), "");
	LLVMValueRef fo = LLVMBuildLShr(cg->b, LLVMBuildAnd(cg->b, fr, cg_const64(cg, 0xffff), ""),
	                                cg_const64(cg, 3), "");
	LLVMValueRef mf = LLVMBuildAnd(cg->b, fr, cg_const64(cg, 1), "");
	/* an upper-layer protocol was reached, not an extension left unwalked;
	 * after a later fragment's header, whatever it says comes next */
	LLVMValueRef known = LLVMBuildICmp(cg->b, LLVMIntULT, nh, cg_const64(cg, CG_NO_PROTO), "");
	known = LLVMBuildAnd(cg->b, known, cg_eqc(cg, cg_vload(cg, W_OPT), 0), ""); /* walked all */
	LLVMValueRef later = LLVMBuildICmp(cg->b, LLVMIntNE, fo, cg_const64(cg, 0), "");
	LLVMValueRef upper = LLVMBuildAnd(
	    cg->b, known,
	    LLVMBuildOr(cg->b, LLVMBuildNot(cg->b, cg_ip6_is_ext(cg, nh), ""), later, ""), "");
	LLVMValueRef jp;
	cg_get(cg, l, "jumbo_len", &jp);
	LLVMValueRef malformed =
	    LLVMBuildAnd(cg->b, cg_ip6_len0_hbh(cg, h), LLVMBuildNot(cg->b, jp, ""), "");
	/* laundered: branching on the and/or of its parts would make the
	 * verifier keep each part exact, and walk their combinations */
	upper = cg_launder(cg, LLVMBuildAnd(cg->b, upper, LLVMBuildNot(cg->b, malformed, ""), ""));
	LLVMBasicBlockRef cont = cg_if(cg, upper, "ip6_upper");
	cg_set(cg, l, "proto", nh);
	cg_endif(cg, cont);
	cont = cg_if(cg, has_frag, "ip6_frag");
	cg_set(cg, l, "frag_off", fo);
	cg_set(cg, l, "mf", mf);
	cg_endif(cg, cont);
	cg_set(cg, l, "ext_len", cg_vload(cg, W_OUT));
	cg_layer_put(cg, l, CG_NEXT, end);
	/* like IPv4: only an unfragmented (or atomic-fragment) payload is parsed */
	LLVMValueRef frag = LLVMBuildAnd(
	    cg->b, has_frag,
	    LLVMBuildNot(cg->b, LLVMBuildAnd(cg->b, cg_eqc(cg, fo, 0), cg_eqc(cg, mf, 0), ""), ""),
	    "");
	LLVMValueRef kids = LLVMBuildAnd(cg->b, upper, LLVMBuildNot(cg->b, frag, ""), "");
	kids = LLVMBuildAnd(cg->b, kids, LLVMBuildNot(cg->b, cg_eqc(cg, nh, IP6_NONE), ""), "");
	kids = LLVMBuildAnd(
	    cg->b, kids, LLVMBuildICmp(cg->b, LLVMIntULE, end, cg_const64(cg, CG_MAX_OFF), ""), "");
	cg_set_flag(cg, st->kids_ok, LLVMBuildAnd(cg->b, kids, cg_flag(cg, st->kids_ok), ""));
}

/* The full walk takes at most CG_IP6_MAX_EXT steps, one per header and
 * one per option: the fast walk's headers and options fit in them. */
#define CG_FAST_IP6_EXT  4   /* extension headers the fast walk steps over */
#define CG_FAST_IP6_OPTS 3   /* options it walks in a hop-by-hop or destination header */
#define CG_FAST_IP6_SPAN 256 /* their bytes at most (cg_walker.fast_span) */
_Static_assert(CG_FAST_IP6_EXT *(1 + CG_FAST_IP6_OPTS) <= CG_IP6_MAX_EXT,
               "the full walk must reach the end of what the fast walk walks");

/* The options of the hop-by-hop or destination options header at q, len
 * bytes long, as cg_ip6_option walks them, where the header is in the
 * frame and each option ends inside it, CG_FAST_IP6_OPTS at most: else
 * `fail` (the full walk knows what tshark makes of the rest). */
static void cg_ip6_plain_options(struct cg *cg, LLVMValueRef q, LLVMValueRef len,
                                 LLVMBasicBlockRef fail)
{
	cg_need(cg, fail, cg_in_bounds(cg, cg_gep(cg, q, len), 0));
	LLVMValueRef init[2] = {cg_const64(cg, 0), cg_const64(cg, 2)}; /* options, position */
	struct cg_rloop k;
	cg_rloop_begin(cg, &k, init, 2, "opt6");
	cg_need(cg, fail,
	        LLVMBuildICmp(cg->b, LLVMIntULT, k.v[0], /* more than it walks */
	                      cg_const64(cg, CG_FAST_IP6_OPTS), ""));
	LLVMValueRef o = cg_gep(cg, q, k.v[1]);
	cg_need(cg, fail, cg_in_bounds(cg, o, 2));
	LLVMValueRef tlv =
	    LLVMBuildAdd(cg->b, cg_load_be(cg, cg_gepc(cg, o, 1), 1), cg_const64(cg, 2), "");
	LLVMValueRef pad1 = cg_eqc(cg, cg_load_be(cg, o, 1), 0);
	LLVMValueRef pos = LLVMBuildAdd(
	    cg->b, k.v[1], LLVMBuildSelect(cg->b, pad1, cg_const64(cg, 1), tlv, ""), "opt6_end");
	cg_need(cg, fail, LLVMBuildICmp(cg->b, LLVMIntULE, pos, len, ""));
	LLVMBasicBlockRef more = cg_block(cg, "opt6_more"), done = cg_block(cg, "opt6_done");
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, pos, len, ""), done, more);
	LLVMPositionBuilderAtEnd(cg->b, more);
	LLVMValueRef next[2] = {LLVMBuildAdd(cg->b, k.v[0], cg_const64(cg, 1), ""), pos};
	cg_rloop_next(cg, &k, next);
	LLVMPositionBuilderAtEnd(cg->b, done);
}

/* hq_ip6_plain(ctx, a, nh, out): the extension headers at offset a, the
 * first of type nh, where they are plain: up to CG_FAST_IP6_EXT of them,
 * no fragment header, CG_FAST_IP6_SPAN bytes at most, each in the frame
 * with its options walked to its end. Then 1, with the next header in
 * out[0] and their bytes in out[1]; else 0. A subprogram, so that the
 * verifier checks its loops once, not per chain of the fast walk. */
static void cg_ip6_plain_body(struct cg *cg, LLVMValueRef a, LLVMValueRef first, LLVMValueRef out,
                              const void *arg)
{
	(void)arg;
	LLVMBasicBlockRef fail = cg_block(cg, "ext6_odd"), done = cg_block(cg, "ext6_done");
	/* headers walked, the next header, their bytes */
	LLVMValueRef init[3] = {cg_const64(cg, 0), first, cg_const64(cg, 0)};
	struct cg_rloop k;
	cg_rloop_begin(cg, &k, init, 3, "ext6");
	LLVMValueRef nh = k.v[1], ext = k.v[2];
	LLVMBasicBlockRef in = cg_block(cg, "ext6_in");
	LLVMBuildCondBr(cg->b, cg_ip6_is_ext(cg, nh), in, done);
	LLVMPositionBuilderAtEnd(cg->b, in);
	cg_need(cg, fail,
	        LLVMBuildICmp(cg->b, LLVMIntULT, k.v[0], /* more than it walks */
	                      cg_const64(cg, CG_FAST_IP6_EXT), ""));
	cg_need(cg, fail, LLVMBuildNot(cg->b, cg_eqc(cg, nh, IP6_FRAG), ""));
	LLVMValueRef q = cg_payload_ptr(cg, LLVMBuildAdd(cg->b, a, ext, ""));
	cg_need(cg, fail, cg_in_bounds(cg, q, 8));
	LLVMValueRef len = cg_ip6_ext_len(cg, nh, cg_load_be(cg, cg_gepc(cg, q, 1), 1));
	LLVMValueRef opts =
	    LLVMBuildOr(cg->b, cg_eqc(cg, nh, IP6_HBH), cg_eqc(cg, nh, IP6_DST), "");
	LLVMBasicBlockRef walk = cg_block(cg, "ext6_opts"), next = cg_block(cg, "ext6_next");
	LLVMBuildCondBr(cg->b, opts, walk, next);
	LLVMPositionBuilderAtEnd(cg->b, walk);
	cg_ip6_plain_options(cg, q, len, fail);
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
	LLVMValueRef sum = LLVMBuildAdd(cg->b, ext, len, "ext6_len");
	cg_need(cg, fail,
	        LLVMBuildICmp(cg->b, LLVMIntULE, sum, cg_const64(cg, CG_FAST_IP6_SPAN), ""));
	LLVMValueRef again[3] = {LLVMBuildAdd(cg->b, k.v[0], cg_const64(cg, 1), ""),
	                         cg_load_be(cg, q, 1), sum};
	cg_rloop_next(cg, &k, again);
	LLVMPositionBuilderAtEnd(cg->b, fail);
	LLVMBuildRet(cg->b, cg_const32(cg, 0));
	LLVMPositionBuilderAtEnd(cg->b, done);
	LLVMBuildStore(cg->b, nh, out);
	LLVMBuildStore(cg->b, ext, cg_gepc(cg, out, 8));
	LLVMBuildRet(cg->b, cg_const32(cg, 1));
}

/* The fast walk's IPv6 walk, as cg_walk_ip6's where nothing is unusual:
 * plain extension headers (hq_ip6_plain: no fragment header, so no
 * fragment), within the payload length (so no jumbogram either), then an
 * upper-layer protocol, not "no next header". The payload length it gives
 * is what follows them. */
static LLVMValueRef cg_fast_ip6(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	LLVMValueRef start = cg_gepc(cg, p, 40);
	LLVMValueRef first = cg_load_be(cg, cg_gepc(cg, p, 6), 1);
	LLVMBasicBlockRef plain = LLVMGetInsertBlock(cg->b), ext = cg_block(cg, "fast_ext6"),
	                  done = cg_block(cg, "fast_ip6_upper");
	LLVMBuildCondBr(cg->b, cg_ip6_is_ext(cg, first), ext, done);
	LLVMPositionBuilderAtEnd(cg->b, ext);
	LLVMValueRef out = cg_gepc(cg, cg->scratch, cg->scratch_sub_off);
	cg_fast_need(cg, LLVMBuildTrunc(cg->b,
	                                cg_sub_call(cg, "hq_ip6_plain", 16, cg_ip6_plain_body, NULL,
	                                            NULL, cg_pkt_off(cg, start), first, out),
	                                cg->i1, ""));
	LLVMValueRef last = LLVMBuildLoad2(cg->b, cg->i64, out, "");
	LLVMValueRef bytes = LLVMBuildLoad2(cg->b, cg->i64, cg_gepc(cg, out, 8), "");
	/* the verifier knows nothing of what out holds */
	cg_fast_need(cg,
	             LLVMBuildICmp(cg->b, LLVMIntULE, bytes, cg_const64(cg, CG_FAST_IP6_SPAN), ""));
	LLVMBasicBlockRef walked = LLVMGetInsertBlock(cg->b);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
	LLVMBasicBlockRef from[2] = {plain, walked};
	LLVMValueRef nhs[2] = {first, last}, lens[2] = {cg_const64(cg, 0), bytes};
	LLVMValueRef nh = cg_phi(cg, "ip6_upper", nhs, from, 2);
	LLVMValueRef len = cg_phi(cg, "ext6_len", lens, from, 2);
	LLVMValueRef plen = cg_load_be(cg, cg_gepc(cg, p, 4), 2);
	cg_fast_need(cg, LLVMBuildNot(cg->b, cg_eqc(cg, nh, IP6_NONE), ""));
	cg_fast_need(cg, LLVMBuildICmp(cg->b, LLVMIntULE, len, plen, ""));
	cg_fast_set(cg, l, "proto", cg_i1(cg, 1), nh, NULL, NULL);
	cg_fast_set(cg, l, "payload_len", cg_i1(cg, 1), LLVMBuildSub(cg->b, plen, len, ""), NULL,
	            NULL);
	/* no fragment header here */
	cg_fast_set_used(cg, l, "frag_off", cg_i1(cg, 0), cg_const64(cg, 0));
	cg_fast_set_used(cg, l, "mf", cg_i1(cg, 0), cg_const64(cg, 0));
	return cg_gep(cg, start, len);
}

static const char *const cg_fast_ip6_keys[] = {"proto", "payload_len", "frag_off", "mf", NULL};

static const char *const cg_ip4_internal[] = {"payload_len", NULL};
static const char *const cg_ip6_internal[] = {"ext_len", "jumbo_len", "payload_len", NULL};

/* The IPv6 payload length: the header's, or a jumbogram's (cg_ip6_jumbo). */
static struct cg_val cg_ip6_payload_len(struct cg *cg, const struct hq_layer *ip6)
{
	struct cg_val v = {.type = HQ_T_UINT};
	v.a = cg_get(cg, ip6, "payload_len", &v.present);
	return v;
}

/* ---- the bytes an IP packet says follow a given layer's start --------- */

/* i64 bytes from the start of layer `l` to the end of the IP payload, as
 * the IP header's length fields say (not the capture); *ok if known. */
LLVMValueRef cg_l3_remaining(struct cg *cg, const struct hq_layer *l, LLVMValueRef *ok)
{
	const struct hq_layer *ip = proto_layer(cg->proto, "ip");
	const struct hq_layer *ip6 = proto_layer(cg->proto, "ip6");
	LLVMValueRef rem = cg_const64(cg, 0);
	*ok = cg_i1(cg, 0);
	if (ip && cg->layers[ip->index].parsed) { /* cg_ip4_payload_len */
		LLVMValueRef have, plen = cg_get(cg, ip, "payload_len", &have);
		rem = LLVMBuildSelect(cg->b, have, plen, rem, "");
		*ok = have;
	}
	if (ip6 && cg->layers[ip6->index].parsed) {
		struct cg_val plen = cg_ip6_payload_len(cg, ip6);
		LLVMValueRef xp;
		LLVMValueRef ext = cg_get(cg, ip6, "ext_len", &xp);
		LLVMValueRef payload = LLVMBuildSub(cg->b, ext, cg_const64(cg, 40), "");
		LLVMValueRef have = LLVMBuildAnd(cg->b, plen.present, xp, "");
		have = LLVMBuildAnd(cg->b, have,
		                    LLVMBuildICmp(cg->b, LLVMIntUGE, plen.a, payload, ""), "");
		have = LLVMBuildAnd(cg->b, have, LLVMBuildNot(cg->b, *ok, ""), "");
		rem =
		    LLVMBuildSelect(cg->b, have, LLVMBuildSub(cg->b, plen.a, payload, ""), rem, "");
		*ok = LLVMBuildOr(cg->b, *ok, have, "");
	}
	(void)l;
	return rem;
}

/* i1: every IP header that is there ends (by its length) at most at the
 * frame's wire length (cg_l3_complete: tshark hands no application
 * dissector a payload the frame cut short), or within the bytes a snap
 * length left (cg_l3_captured: W_CAPLEN) */
static LLVMValueRef cg_l3_ends(struct cg *cg, bool captured)
{
	LLVMValueRef all = cg_i1(cg, 1);
	static const char *const lens[][3] = {{"ip", "ip.len", NULL}, {"ip6", "ip6.plen", "40"}};
	for (int i = 0; i < 2; i++) {
		const struct hq_layer *l = proto_layer(cg->proto, lens[i][0]);
		const struct hq_field *f = proto_field(cg->proto, lens[i][1]);
		if (!l || !f || !cg->layers[l->index].parsed)
			continue;
		struct cg_val v = lens[i][2] ? cg_ip6_payload_len(cg, l) : cg_field(cg, f);
		LLVMValueRef end = LLVMBuildAdd(cg->b, cg_layer_get(cg, l, CG_START), v.a, "");
		if (lens[i][2])
			end = LLVMBuildAdd(cg->b, end, cg_const64(cg, 40), "");
		LLVMValueRef fits =
		    LLVMBuildICmp(cg->b, LLVMIntULE, end,
		                  captured ? cg_vload(cg, W_CAPLEN) : cg_wire_len(cg), "");
		LLVMValueRef here = LLVMBuildAnd(cg->b, cg_layer_ok(cg, l), v.present, "");
		all = LLVMBuildAnd(cg->b, all,
		                   LLVMBuildOr(cg->b, LLVMBuildNot(cg->b, here, ""), fits, ""), "");
	}
	return all;
}

LLVMValueRef cg_l3_complete(struct cg *cg)
{
	return cg_l3_ends(cg, false);
}

LLVMValueRef cg_l3_captured(struct cg *cg)
{
	return cg_l3_ends(cg, true);
}

/* ---- l4len: payload length of UDP/ICMP-like layers -------------------- */

static void cg_walk_l4len(struct cg *cg, const struct hq_layer *l, struct cg_layer *st,
                          struct cg_hdr h)
{
	LLVMValueRef ok;
	LLVMValueRef rem = cg_l3_remaining(cg, l, &ok);
	LLVMValueRef fits = LLVMBuildICmp(cg->b, LLVMIntUGE, rem, cg_const64(cg, l->size), "");
	LLVMBasicBlockRef cont = cg_if(cg, LLVMBuildAnd(cg->b, ok, fits, ""), "l4len");
	cg_set(cg, l, "payload_len", LLVMBuildSub(cg->b, rem, cg_const64(cg, l->size), ""));
	cg_endif(cg, cont);
	(void)st;
}

/* The fast walk's l4len: the IP payload less the fixed header, which it
 * has room for (cg_fast_ip_room). */
static LLVMValueRef cg_fast_l4len(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	struct cg_val ip = {.present = cg_i1(cg, 0), .a = cg_const64(cg, 0)};
	cg_fast_get_under(cg, l, "payload_len", &ip);
	cg_fast_set(cg, l, "payload_len", ip.present,
	            LLVMBuildSub(cg->b, ip.a, cg_const64(cg, l->size), ""), NULL, NULL);
	(void)p;
	return NULL;
}

static const char *const cg_fast_l4len_keys[] = {"payload_len", NULL};
static const char *const cg_fast_tcp_keys[] = {"payload_len", "retransmit", NULL};
static const char *const cg_fast_dns_keys[] = {"qtype", "qclass", NULL};
static const char *const cg_fast_http_keys[] = {"method", NULL};
static const char *const cg_fast_http_late_keys[] = {"path", NULL};

static const struct cg_walker cg_walkers[] = {
    {.name = "vlan",
     .parse = cg_walk_vlan,
     .judges = true,
     .fast = cg_fast_vlan,
     .fast_keys = cg_fast_vlan_keys,
     .fast_span = 4},
    {.name = "ip4_opts",
     .parse = cg_walk_ip4,
     .internal_keys = cg_ip4_internal,
     .fast = cg_fast_ip4,
     .fast_keys = cg_fast_ip4_keys},
    {.name = "ip6_ext",
     .parse = cg_walk_ip6,
     .internal_keys = cg_ip6_internal,
     .judges = true,
     .fast = cg_fast_ip6,
     .fast_keys = cg_fast_ip6_keys,
     .fast_span = CG_FAST_IP6_SPAN},
    {.name = "l4len",
     .parse = cg_walk_l4len,
     .fast = cg_fast_l4len,
     .fast_keys = cg_fast_l4len_keys},
    {.name = "tcp_opts",
     .parse = cg_walk_tcp,
     .lasting = cg_tcp_lasting,
     .reads = cg_tcp_reads,
     .fast = cg_fast_tcp,
     .fast_lasting = cg_fast_tcp_lasting,
     .fast_late = cg_fast_tcp_late,
     .fast_late_keys = cg_tcp_opt_keys,
     .fast_keys = cg_fast_tcp_keys},
    {.name = "dns",
     .parse = cg_walk_dns,
     .judges = true,
     .fast = cg_fast_dns,
     .fast_keys = cg_fast_dns_keys,
     .fast_decides = true},
    {.name = "http",
     .parse = cg_walk_http,
     .judges = true,
     .fast = cg_fast_http,
     .fast_keys = cg_fast_http_keys,
     .fast_late = cg_fast_http_late,
     .fast_late_keys = cg_fast_http_late_keys,
     .fast_decides = true},
};

const struct cg_walker *cg_walker_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(cg_walkers) / sizeof(cg_walkers[0]); i++)
		if (!strcmp(cg_walkers[i].name, name))
			return &cg_walkers[i];
	return NULL;
}
