/* cg_walk.c — the walkers that stdlib layers name: code for the parts of
 * a header that offsets alone cannot describe. This file holds the
 * registry and the link-layer/network-layer walkers (VLAN stacks, IPv6
 * extension headers, L4 payload length); TCP options and the application
 * hints live in cg_walk_tcp.c and cg_walk_app.c.
 */
#include <string.h>

#include "cg.h"
#include "cg_walk.h"

/* ---- small structured-control helpers shared by the walkers ---------- */

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
		*present = LLVMBuildLoad2(cg->b, cg->i1, v->present, "");
	return LLVMBuildLoad2(cg->b, cg->i64, v->val, "");
}

/* ---- vlan: one 802.1Q/802.1ad tag, or two (QinQ) ---------------------- */

static void cg_walk_vlan(struct cg *cg, const struct hq_layer *l, struct cg_layer *st)
{
	LLVMValueRef start = LLVMBuildLoad2(cg->b, cg->ptr, st->start, "");
	LLVMValueRef t1 = cg_load_be(cg, cg_gepc(cg, start, 2), 2);
	cg_set(cg, l, "type", t1);
	LLVMValueRef stacked = LLVMBuildOr(cg->b, cg_eqc(cg, t1, 0x8100), cg_eqc(cg, t1, 0x88a8), "");
	stacked = LLVMBuildAnd(cg->b, stacked, cg_in_bounds(cg, start, 8), "");
	LLVMBasicBlockRef cont = cg_if(cg, stacked, "qinq");
	LLVMValueRef tci = cg_load_be(cg, cg_gepc(cg, start, 4), 2);
	cg_set(cg, l, "inner_id", LLVMBuildAnd(cg->b, tci, cg_const64(cg, 0xfff), ""));
	cg_set(cg, l, "inner_pcp", LLVMBuildLShr(cg->b, tci, cg_const64(cg, 13), ""));
	cg_set(cg, l, "inner_dei",
	       LLVMBuildAnd(cg->b, LLVMBuildLShr(cg->b, tci, cg_const64(cg, 12), ""),
			    cg_const64(cg, 1), ""));
	cg_set(cg, l, "type", cg_load_be(cg, cg_gepc(cg, start, 6), 2));
	LLVMBuildStore(cg->b, cg_gepc(cg, start, 8), st->next);
	cg_endif(cg, cont);
}

/* ---- ip6_ext: bounded walk over IPv6 extension headers ---------------- */

#define CG_IP6_MAX_EXT 8

enum { IP6_HBH = 0, IP6_ROUTING = 43, IP6_FRAG = 44, IP6_AH = 51, IP6_NONE = 59, IP6_DST = 60 };

struct cg_ip6w {
	LLVMValueRef cur, nh, walking, frag_off, mf, has_frag, hlen;
};

static void cg_ip6_step(struct cg *cg, struct cg_ip6w *w)
{
	LLVMValueRef nh = LLVMBuildLoad2(cg->b, cg->i64, w->nh, "");
	LLVMValueRef isext = LLVMBuildOr(
		cg->b, LLVMBuildOr(cg->b, cg_eqc(cg, nh, IP6_HBH), cg_eqc(cg, nh, IP6_ROUTING), ""),
		LLVMBuildOr(cg->b, cg_eqc(cg, nh, IP6_DST),
			    LLVMBuildOr(cg->b, cg_eqc(cg, nh, IP6_FRAG), cg_eqc(cg, nh, IP6_AH), ""),
			    ""),
		"");
	LLVMValueRef go = LLVMBuildAnd(cg->b, LLVMBuildLoad2(cg->b, cg->i1, w->walking, ""), isext, "");
	LLVMBasicBlockRef cont = cg_if(cg, go, "ext");
	LLVMValueRef cur = LLVMBuildLoad2(cg->b, cg->ptr, w->cur, "");
	LLVMValueRef inb = cg_in_bounds(cg, cur, 8); /* every extension header is >= 8 bytes */
	LLVMBasicBlockRef trunc = cg_block(cg, "ext_trunc"), body = cg_block(cg, "ext_body");
	LLVMBuildCondBr(cg->b, inb, body, trunc);
	LLVMPositionBuilderAtEnd(cg->b, trunc);
	LLVMBuildStore(cg->b, cg_i1(cg, 0), w->walking);
	LLVMBuildStore(cg->b, cg_const64(cg, 256), w->nh); /* no upper layer */
	LLVMBuildBr(cg->b, cont);
	LLVMPositionBuilderAtEnd(cg->b, body);
	LLVMValueRef next = cg_load_be(cg, cur, 1);
	LLVMValueRef hl = cg_load_be(cg, cg_gepc(cg, cur, 1), 1);
	LLVMValueRef plus1 = LLVMBuildAdd(cg->b, hl, cg_const64(cg, 1), "");
	LLVMValueRef len = LLVMBuildSelect(
		cg->b, cg_eqc(cg, nh, IP6_FRAG), cg_const64(cg, 8),
		LLVMBuildSelect(cg->b, cg_eqc(cg, nh, IP6_AH),
				LLVMBuildShl(cg->b, LLVMBuildAdd(cg->b, hl, cg_const64(cg, 2), ""),
					     cg_const64(cg, 2), ""),
				LLVMBuildShl(cg->b, plus1, cg_const64(cg, 3), ""), ""),
		"");
	LLVMBasicBlockRef fcont = cg_if(cg, cg_eqc(cg, nh, IP6_FRAG), "frag");
	LLVMValueRef fo = cg_load_be(cg, cg_gepc(cg, cur, 2), 2);
	LLVMBuildStore(cg->b, LLVMBuildLShr(cg->b, fo, cg_const64(cg, 3), ""), w->frag_off);
	LLVMBuildStore(cg->b, LLVMBuildAnd(cg->b, fo, cg_const64(cg, 1), ""), w->mf);
	LLVMBuildStore(cg->b, cg_i1(cg, 1), w->has_frag);
	cg_endif(cg, fcont);
	LLVMBuildStore(cg->b, next, w->nh);
	LLVMBuildStore(cg->b, cg_gep(cg, cur, len), w->cur);
	LLVMValueRef hl_sum = LLVMBuildLoad2(cg->b, cg->i64, w->hlen, "");
	LLVMBuildStore(cg->b, LLVMBuildAdd(cg->b, hl_sum, len, ""), w->hlen);
	cg_endif(cg, cont);
}

static void cg_walk_ip6(struct cg *cg, const struct hq_layer *l, struct cg_layer *st)
{
	struct cg_ip6w w = {
		.cur = cg_alloca(cg, cg->ptr, "x6cur"),
		.nh = cg_alloca(cg, cg->i64, "x6nh"),
		.walking = cg_alloca(cg, cg->i1, "x6walk"),
		.frag_off = cg_alloca(cg, cg->i64, "x6fo"),
		.mf = cg_alloca(cg, cg->i64, "x6mf"),
		.has_frag = cg_alloca(cg, cg->i1, "x6frag"),
		.hlen = cg_alloca(cg, cg->i64, "x6len"),
	};
	LLVMValueRef start = LLVMBuildLoad2(cg->b, cg->ptr, st->start, "");
	LLVMBuildStore(cg->b, cg_gepc(cg, start, 40), w.cur);
	LLVMBuildStore(cg->b, cg_load_be(cg, cg_gepc(cg, start, 6), 1), w.nh);
	LLVMBuildStore(cg->b, cg_i1(cg, 1), w.walking);
	LLVMBuildStore(cg->b, cg_const64(cg, 0), w.frag_off);
	LLVMBuildStore(cg->b, cg_const64(cg, 0), w.mf);
	LLVMBuildStore(cg->b, cg_i1(cg, 0), w.has_frag);
	LLVMBuildStore(cg->b, cg_const64(cg, 40), w.hlen);
	for (int i = 0; i < CG_IP6_MAX_EXT; i++)
		cg_ip6_step(cg, &w);
	LLVMValueRef nh = LLVMBuildLoad2(cg->b, cg->i64, w.nh, "");
	LLVMValueRef cur = LLVMBuildLoad2(cg->b, cg->ptr, w.cur, "");
	LLVMValueRef fo = LLVMBuildLoad2(cg->b, cg->i64, w.frag_off, "");
	LLVMValueRef has_frag = LLVMBuildLoad2(cg->b, cg->i1, w.has_frag, "");
	/* an upper-layer protocol was reached (not an extension left unwalked) */
	LLVMValueRef upper = LLVMBuildICmp(cg->b, LLVMIntULT, nh, cg_const64(cg, 256), "");
	LLVMBasicBlockRef cont = cg_if(cg, upper, "ip6_upper");
	cg_set(cg, l, "proto", nh);
	cg_endif(cg, cont);
	cont = cg_if(cg, has_frag, "ip6_frag");
	cg_set(cg, l, "frag_off", fo);
	cg_set(cg, l, "mf", LLVMBuildLoad2(cg->b, cg->i64, w.mf, ""));
	cg_endif(cg, cont);
	cg_set(cg, l, "ext_len", LLVMBuildLoad2(cg->b, cg->i64, w.hlen, ""));
	LLVMBuildStore(cg->b, cur, st->next);
	LLVMValueRef kids = LLVMBuildAnd(cg->b, upper, cg_eqc(cg, fo, 0), "");
	kids = LLVMBuildAnd(cg->b, kids, LLVMBuildICmp(cg->b, LLVMIntNE, nh, cg_const64(cg, IP6_NONE), ""), "");
	LLVMBuildStore(cg->b, LLVMBuildAnd(cg->b, kids, LLVMBuildLoad2(cg->b, cg->i1, st->kids_ok, ""), ""),
		       st->kids_ok);
}

static const char *const cg_ip6_internal[] = {"ext_len", NULL};

/* ---- the bytes an IP packet says follow a given layer's start --------- */

/* i64 bytes from the start of layer `l` to the end of the IP payload, as
 * the IP header's length fields say (not the capture); *ok if known. */
LLVMValueRef cg_l3_remaining(struct cg *cg, const struct hq_layer *l, LLVMValueRef *ok)
{
	const struct hq_field *ip_len = proto_field(cg->proto, "ip.len");
	const struct hq_field *ip_hl = proto_field(cg->proto, "ip.hdr_len");
	const struct hq_field *ip6_plen = proto_field(cg->proto, "ip6.plen");
	const struct hq_layer *ip6 = proto_layer(cg->proto, "ip6");
	LLVMValueRef rem = cg_const64(cg, 0);
	*ok = cg_i1(cg, 0);
	if (ip_len && ip_hl && cg->layers[ip_len->layer->index].parsed) {
		struct cg_val len = cg_field(cg, ip_len), hl = cg_field(cg, ip_hl);
		LLVMValueRef have = LLVMBuildAnd(cg->b, len.present, hl.present, "");
		have = LLVMBuildAnd(cg->b, have, LLVMBuildICmp(cg->b, LLVMIntUGE, len.a, hl.a, ""), "");
		rem = LLVMBuildSelect(cg->b, have, LLVMBuildSub(cg->b, len.a, hl.a, ""), rem, "");
		*ok = have;
	}
	if (ip6_plen && ip6 && cg->layers[ip6->index].parsed) {
		struct cg_val plen = cg_field(cg, ip6_plen);
		LLVMValueRef xp;
		LLVMValueRef ext = cg_get(cg, ip6, "ext_len", &xp);
		LLVMValueRef payload = LLVMBuildSub(cg->b, ext, cg_const64(cg, 40), "");
		LLVMValueRef have = LLVMBuildAnd(cg->b, plen.present, xp, "");
		have = LLVMBuildAnd(cg->b, have, LLVMBuildICmp(cg->b, LLVMIntUGE, plen.a, payload, ""), "");
		have = LLVMBuildAnd(cg->b, have, LLVMBuildNot(cg->b, *ok, ""), "");
		rem = LLVMBuildSelect(cg->b, have, LLVMBuildSub(cg->b, plen.a, payload, ""), rem, "");
		*ok = LLVMBuildOr(cg->b, *ok, have, "");
	}
	(void)l;
	return rem;
}

/* ---- l4len: payload length of UDP/ICMP-like layers -------------------- */

static void cg_walk_l4len(struct cg *cg, const struct hq_layer *l, struct cg_layer *st)
{
	LLVMValueRef ok;
	LLVMValueRef rem = cg_l3_remaining(cg, l, &ok);
	LLVMValueRef fits = LLVMBuildICmp(cg->b, LLVMIntUGE, rem, cg_const64(cg, l->size), "");
	LLVMBasicBlockRef cont = cg_if(cg, LLVMBuildAnd(cg->b, ok, fits, ""), "l4len");
	cg_set(cg, l, "payload_len", LLVMBuildSub(cg->b, rem, cg_const64(cg, l->size), ""));
	cg_endif(cg, cont);
	(void)st;
}

static const struct cg_walker cg_walkers[] = {
	{"vlan", cg_walk_vlan, NULL},
	{"ip6_ext", cg_walk_ip6, cg_ip6_internal},
	{"l4len", cg_walk_l4len, NULL},
	{"tcp_opts", cg_walk_tcp, NULL},
	{"dns", cg_walk_dns, NULL},
	{"http", cg_walk_http, NULL},
};

const struct cg_walker *cg_walker_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cg_walkers) / sizeof(cg_walkers[0]); i++)
		if (!strcmp(cg_walkers[i].name, name))
			return &cg_walkers[i];
	return NULL;
}
