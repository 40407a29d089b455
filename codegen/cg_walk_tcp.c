/* cg_walk_tcp.c — the tcp_opts walker: a bounded walk over TCP options
 * (RFC 9293 §3.1) and the segment's payload length.
 *
 * The walk is a real loop whose position lives in volatile scratch memory
 * (see cg_walk.h), clamped to the 60-byte maximum header before each use,
 * so every packet access is `start + small bounded offset` with its own
 * bounds check and the verifier checks one iteration shape.
 * NOP (1) advances one byte, EOL (0) ends the list, everything else is
 * kind-length-value; a length below 2 or past the header ends the walk
 * (malformed), as does the iteration bound.
 */
#include "cg_walk.h"

#define TCP_MAX_OPTS 20
#define TCP_MAX_HDR 63 /* header length is at most 60: a mask bound */

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SACKP = 4, OPT_SACK = 5, OPT_TS = 8 };

struct cg_tcpw {
	const struct hq_layer *l;
	LLVMValueRef start, hlen; /* ptr, i64 */
};

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

/* one iteration: the option at offset W_IN (kept in scratch memory) */
static void cg_tcp_step(struct cg *cg, void *arg)
{
	struct cg_tcpw *w = arg;
	LLVMBasicBlockRef stop = cg_block(cg, "opt_stop"), next = cg_block(cg, "opt_next");
	LLVMValueRef off = cg_clampc(cg, cg_vload(cg, W_IN), TCP_MAX_HDR);
	LLVMValueRef p = cg_gep(cg, w->start, off);
	LLVMValueRef more = LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, off, w->hlen, ""),
					 cg_in_bounds(cg, p, 1), "");
	LLVMBasicBlockRef have1 = cg_block(cg, "opt_kind");
	LLVMBuildCondBr(cg->b, more, have1, stop);
	LLVMPositionBuilderAtEnd(cg->b, have1);
	LLVMValueRef kind = cg_load_be(cg, p, 1);
	LLVMBasicBlockRef nop = cg_block(cg, "opt_nop"), tlv = cg_block(cg, "opt_len");
	LLVMBuildCondBr(cg->b, cg_eqc(cg, kind, OPT_NOP), nop, tlv);
	LLVMPositionBuilderAtEnd(cg->b, nop);
	cg_vstore(cg, W_IN, LLVMBuildAdd(cg->b, off, cg_const64(cg, 1), ""));
	LLVMBuildBr(cg->b, next);
	/* EOL, a truncated option, or a bad length: the walk ends */
	LLVMPositionBuilderAtEnd(cg->b, tlv);
	LLVMValueRef notend = LLVMBuildAnd(cg->b, LLVMBuildNot(cg->b, cg_eqc(cg, kind, OPT_EOL), ""),
					   cg_in_bounds(cg, p, 2), "");
	LLVMBasicBlockRef lenb = cg_block(cg, "opt_lenok"), have2 = cg_block(cg, "opt_tlv");
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
	cg_vstore(cg, W_IN, end);
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, stop);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_DONE));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}

void cg_walk_tcp(struct cg *cg, const struct hq_layer *l, struct cg_layer *st, struct cg_hdr h)
{
	struct cg_tcpw w = {.l = l};
	w.start = h.p;
	struct cg_val hl = cg_field(cg, l->hlen);
	w.hlen = LLVMBuildMul(cg->b, hl.a, cg_const64(cg, l->hlen_mul), "");
	static const char *const opts[] = {"opt.mss",   "opt.wscale", "opt.sack_perm",
					   "opt.sack",  "opt.ts_val", "opt.ts_ecr"};
	bool want = false;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		want = want || cg_field_used(cg, l, opts[i]);
	if (want) {
		cg_walk_init(cg);
		cg_vstore(cg, W_IN, cg_const64(cg, l->size));
		LLVMBasicBlockRef walk = cg_if(cg, hl.present, "opts");
		cg_loop(cg, TCP_MAX_OPTS, cg_tcp_step, &w);
		cg_endif(cg, walk);
	}
	if (!cg_field_used(cg, l, "payload_len"))
		return;

	LLVMValueRef ok;
	LLVMValueRef rem = cg_l3_remaining(cg, l, &ok);
	/* no more than the frame holds after this header start (as tshark) */
	LLVMValueRef in_frame = LLVMBuildSub(cg->b, cg->wire_len, h.off, "");
	LLVMValueRef past = LLVMBuildICmp(cg->b, LLVMIntULT, cg->wire_len, h.off, "");
	in_frame = LLVMBuildSelect(cg->b, past, cg_const64(cg, 0), in_frame, "");
	rem = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, in_frame, rem, ""), in_frame,
			      rem, "");
	LLVMValueRef fits = LLVMBuildICmp(cg->b, LLVMIntUGE, rem, w.hlen, "");
	LLVMBasicBlockRef cont = cg_if(cg, LLVMBuildAnd(cg->b, ok, fits, ""), "tcp_len");
	cg_set(cg, l, "payload_len", LLVMBuildSub(cg->b, rem, w.hlen, ""));
	cg_endif(cg, cont);
}
