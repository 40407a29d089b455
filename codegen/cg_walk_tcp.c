/* cg_walk_tcp.c — the tcp_opts walker: a bounded walk over TCP options
 * (RFC 9293 §3.1) and the segment's payload length.
 *
 * The walk keeps its position as a scalar offset from the TCP header,
 * clamped to the 60-byte maximum header before each use, so every packet
 * access is `start + small bounded offset` with its own bounds check.
 * NOP (1) advances one byte, EOL (0) ends the list, everything else is
 * kind-length-value; a length below 2 or past the header ends the walk
 * (malformed), as does the iteration bound.
 */
#include "cg_walk.h"

#define TCP_MAX_OPTS 20
#define TCP_MAX_HDR 60

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SACKP = 4, OPT_SACK = 5, OPT_TS = 8 };

struct cg_tcpw {
	const struct hq_layer *l;
	LLVMValueRef start, hlen; /* ptr, i64 */
	LLVMValueRef off, walking; /* allocas */
};

static void cg_tcp_stop(struct cg *cg, struct cg_tcpw *w)
{
	LLVMBuildStore(cg->b, cg_i1(cg, 0), w->walking);
}

/* one option of kind `kind` and length `len` at p (2 bytes known in bounds) */
static void cg_tcp_option(struct cg *cg, struct cg_tcpw *w, LLVMValueRef p, LLVMValueRef kind,
			  LLVMValueRef len)
{
	const struct hq_layer *l = w->l;
	LLVMValueRef c;
	LLVMBasicBlockRef cont;

	c = LLVMBuildAnd(cg->b, cg_eqc(cg, kind, OPT_MSS), cg_eqc(cg, len, 4), "");
	cont = cg_if(cg, LLVMBuildAnd(cg->b, c, cg_in_bounds(cg, p, 4), ""), "mss");
	cg_set(cg, l, "opt.mss", cg_load_be(cg, cg_gepc(cg, p, 2), 2));
	cg_endif(cg, cont);

	c = LLVMBuildAnd(cg->b, cg_eqc(cg, kind, OPT_WS), cg_eqc(cg, len, 3), "");
	cont = cg_if(cg, LLVMBuildAnd(cg->b, c, cg_in_bounds(cg, p, 3), ""), "ws");
	cg_set(cg, l, "opt.wscale", cg_load_be(cg, cg_gepc(cg, p, 2), 1));
	cg_endif(cg, cont);

	cont = cg_if(cg, LLVMBuildAnd(cg->b, cg_eqc(cg, kind, OPT_SACKP), cg_eqc(cg, len, 2), ""),
		     "sackp");
	cg_set(cg, l, "opt.sack_perm", cg_const64(cg, 1));
	cg_endif(cg, cont);

	cont = cg_if(cg, cg_eqc(cg, kind, OPT_SACK), "sack");
	cg_set(cg, l, "opt.sack", cg_const64(cg, 1));
	cg_endif(cg, cont);

	c = LLVMBuildAnd(cg->b, cg_eqc(cg, kind, OPT_TS), cg_eqc(cg, len, 10), "");
	cont = cg_if(cg, LLVMBuildAnd(cg->b, c, cg_in_bounds(cg, p, 10), ""), "ts");
	cg_set(cg, l, "opt.ts_val", cg_load_be(cg, cg_gepc(cg, p, 2), 4));
	cg_set(cg, l, "opt.ts_ecr", cg_load_be(cg, cg_gepc(cg, p, 6), 4));
	cg_endif(cg, cont);
}

static void cg_tcp_step(struct cg *cg, struct cg_tcpw *w)
{
	LLVMValueRef off = LLVMBuildLoad2(cg->b, cg->i64, w->off, "");
	LLVMValueRef go = LLVMBuildAnd(cg->b, LLVMBuildLoad2(cg->b, cg->i1, w->walking, ""),
				       LLVMBuildICmp(cg->b, LLVMIntULT, off, w->hlen, ""), "");
	LLVMBasicBlockRef cont = cg_if(cg, go, "opt");
	off = cg_opaque(cg, off);
	off = LLVMBuildSelect(cg->b,
			      LLVMBuildICmp(cg->b, LLVMIntUGT, off, cg_const64(cg, TCP_MAX_HDR), ""),
			      cg_const64(cg, TCP_MAX_HDR), off, "");
	LLVMValueRef p = cg_gep(cg, w->start, off);
	LLVMBasicBlockRef stop = cg_block(cg, "opt_stop"), have2 = cg_block(cg, "opt_tlv");
	/* EOL, a truncated option, or a bad length: the walk ends */
	LLVMValueRef kind_ok = cg_in_bounds(cg, p, 1);
	LLVMBasicBlockRef have1 = cg_block(cg, "opt_kind");
	LLVMBuildCondBr(cg->b, kind_ok, have1, stop);
	LLVMPositionBuilderAtEnd(cg->b, have1);
	LLVMValueRef kind = cg_load_be(cg, p, 1);
	LLVMBasicBlockRef nop = cg_block(cg, "opt_nop"), tlv = cg_block(cg, "opt_len");
	LLVMBuildCondBr(cg->b, cg_eqc(cg, kind, OPT_NOP), nop, tlv);
	LLVMPositionBuilderAtEnd(cg->b, nop);
	LLVMBuildStore(cg->b, LLVMBuildAdd(cg->b, off, cg_const64(cg, 1), ""), w->off);
	LLVMBuildBr(cg->b, cont);
	LLVMPositionBuilderAtEnd(cg->b, tlv);
	LLVMValueRef notend = LLVMBuildAnd(cg->b, LLVMBuildNot(cg->b, cg_eqc(cg, kind, OPT_EOL), ""),
					   cg_in_bounds(cg, p, 2), "");
	LLVMBasicBlockRef lenb = cg_block(cg, "opt_lenok");
	LLVMBuildCondBr(cg->b, notend, lenb, stop);
	LLVMPositionBuilderAtEnd(cg->b, lenb);
	LLVMValueRef len = cg_load_be(cg, cg_gepc(cg, p, 1), 1);
	LLVMValueRef end = LLVMBuildAdd(cg->b, off, len, "");
	LLVMValueRef sane = LLVMBuildAnd(
		cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, len, cg_const64(cg, 2), ""),
		LLVMBuildICmp(cg->b, LLVMIntULE, end, w->hlen, ""), "");
	LLVMBuildCondBr(cg->b, sane, have2, stop);
	LLVMPositionBuilderAtEnd(cg->b, have2);
	cg_tcp_option(cg, w, p, kind, len);
	LLVMBuildStore(cg->b, end, w->off);
	LLVMBuildBr(cg->b, cont);
	LLVMPositionBuilderAtEnd(cg->b, stop);
	cg_tcp_stop(cg, w);
	cg_endif(cg, cont);
}

void cg_walk_tcp(struct cg *cg, const struct hq_layer *l, struct cg_layer *st)
{
	struct cg_tcpw w = {.l = l};
	w.start = LLVMBuildLoad2(cg->b, cg->ptr, st->start, "");
	struct cg_val hl = cg_field(cg, l->hlen);
	w.hlen = LLVMBuildMul(cg->b, hl.a, cg_const64(cg, l->hlen_mul), "");
	w.off = cg_alloca(cg, cg->i64, "optoff");
	w.walking = cg_alloca(cg, cg->i1, "optwalk");
	LLVMBuildStore(cg->b, cg_const64(cg, l->size), w.off);
	LLVMBuildStore(cg->b, hl.present, w.walking);
	for (int i = 0; i < TCP_MAX_OPTS; i++)
		cg_tcp_step(cg, &w);

	LLVMValueRef ok;
	LLVMValueRef rem = cg_l3_remaining(cg, l, &ok);
	LLVMValueRef fits = LLVMBuildICmp(cg->b, LLVMIntUGE, rem, w.hlen, "");
	LLVMBasicBlockRef cont = cg_if(cg, LLVMBuildAnd(cg->b, ok, fits, ""), "tcp_len");
	cg_set(cg, l, "payload_len", LLVMBuildSub(cg->b, rem, w.hlen, ""));
	cg_endif(cg, cont);
}
