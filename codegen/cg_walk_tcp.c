/* cg_walk_tcp.c — the tcp_opts walker: the TCP options (RFC 9293 §3.1)
 * and the segment's payload length; and tcp's retransmit table.
 *
 * The options are walked by a global subprogram (cg_sub.c), hq_tcp_opts,
 * which both walks call: the verifier checks its loop once, alone, whatever
 * the states its callers reach it in, so the loop keeps its position in
 * registers. NOP (1) advances one byte, EOL (0) ends the list, everything
 * else is kind-length-value; a length below 2 or past the options' end
 * ends the walk (malformed), as does the iteration bound.
 */
#include <string.h>

#include "cg_walk.h"

#define TCP_MAX_OPTS 20
#define TCP_MAX_HDR  63 /* header length is at most 60: a mask bound */

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SACKP = 4, OPT_SACK = 5, OPT_TS = 8 };

/* the outputs the options give, in the order of hq_tcp_opts' bits and
 * words; the fast walk's late ones (cg_fast_tcp_late) */
#define TCP_OPT_OUTS 6
const char *const cg_tcp_opt_keys[TCP_OPT_OUTS + 1] = {
    "opt.mss", "opt.wscale", "opt.sack_perm", "opt.sack", "opt.ts_val", "opt.ts_ecr", NULL};

struct cg_tcpo {
	LLVMValueRef out, mask; /* ptr: the words; alloca i64: the bits */
};

/* output k is v */
static void cg_tcp_put(struct cg *cg, const struct cg_tcpo *o, unsigned k, LLVMValueRef v)
{
	LLVMBuildStore(cg->b, v, cg_gepc(cg, o->out, 8 * k));
	LLVMValueRef m = LLVMBuildLoad2(cg->b, cg->i64, o->mask, "");
	LLVMBuildStore(cg->b, LLVMBuildOr(cg->b, m, cg_const64(cg, 1ull << k), ""), o->mask);
}

/* one option of kind `kind` and length `len` at p (2 bytes known in bounds) */
static void cg_tcp_option(struct cg *cg, const struct cg_tcpo *o, LLVMValueRef p, LLVMValueRef kind,
                          LLVMValueRef len)
{
	LLVMValueRef c;
	LLVMBasicBlockRef cont;

	c = LLVMBuildAnd(cg->b, cg_eqc(cg, kind, OPT_MSS), cg_eqc(cg, len, 4), "");
	cont = cg_if(cg, LLVMBuildAnd(cg->b, c, cg_in_bounds(cg, p, 4), ""), "mss");
	cg_tcp_put(cg, o, 0, cg_load_be(cg, cg_gepc(cg, p, 2), 2));
	cg_endif(cg, cont);

	c = LLVMBuildAnd(cg->b, cg_eqc(cg, kind, OPT_WS), cg_eqc(cg, len, 3), "");
	cont = cg_if(cg, LLVMBuildAnd(cg->b, c, cg_in_bounds(cg, p, 3), ""), "ws");
	cg_tcp_put(cg, o, 1, cg_load_be(cg, cg_gepc(cg, p, 2), 1));
	cg_endif(cg, cont);

	cont = cg_if(cg, LLVMBuildAnd(cg->b, cg_eqc(cg, kind, OPT_SACKP), cg_eqc(cg, len, 2), ""),
	             "sackp");
	cg_tcp_put(cg, o, 2, cg_const64(cg, 1));
	cg_endif(cg, cont);

	cont = cg_if(cg, cg_eqc(cg, kind, OPT_SACK), "sack");
	cg_tcp_put(cg, o, 3, cg_const64(cg, 1));
	cg_endif(cg, cont);

	c = LLVMBuildAnd(cg->b, cg_eqc(cg, kind, OPT_TS), cg_eqc(cg, len, 10), "");
	cont = cg_if(cg, LLVMBuildAnd(cg->b, c, cg_in_bounds(cg, p, 10), ""), "ts");
	cg_tcp_put(cg, o, 4, cg_load_be(cg, cg_gepc(cg, p, 2), 4));
	cg_tcp_put(cg, o, 5, cg_load_be(cg, cg_gepc(cg, p, 6), 4));
	cg_endif(cg, cont);
}

/* hq_tcp_opts(ctx, a, lim, out): the options of the TCP header at offset
 * a, from its fixed part (*arg: the layer) up to lim bytes into it; the
 * values found in out's words, a bit each in the result */
static void cg_tcp_opts_body(struct cg *cg, LLVMValueRef a, LLVMValueRef lim, LLVMValueRef out,
                             const void *arg)
{
	const struct hq_layer *l = arg;
	struct cg_tcpo o = {.out = out, .mask = cg_alloca(cg, cg->i64, "mask")};
	LLVMBuildStore(cg->b, cg_const64(cg, 0), o.mask);
	struct cg_rloop k; /* offset of the next option, options walked */
	cg_rloop_begin(cg, &k, (LLVMValueRef[]){cg_const64(cg, l->size), cg_const64(cg, 0)}, 2,
	               "opt");
	LLVMBasicBlockRef step = cg_block(cg, "opt_step"), kindb = cg_block(cg, "opt_kind"),
	                  nop = cg_block(cg, "opt_nop"), tlv = cg_block(cg, "opt_len"),
	                  lenb = cg_block(cg, "opt_lenok"), have = cg_block(cg, "opt_tlv"),
	                  next = cg_block(cg, "opt_next"), done = cg_block(cg, "opt_done");
	LLVMValueRef i = k.v[1];
	LLVMBuildCondBr(cg->b,
	                LLVMBuildICmp(cg->b, LLVMIntULT, i, cg_const64(cg, TCP_MAX_OPTS), ""), step,
	                done);
	LLVMPositionBuilderAtEnd(cg->b, step);
	LLVMValueRef at = cg_clampc(cg, k.v[0], TCP_MAX_HDR);
	LLVMValueRef p = cg_payload_ptr(cg, LLVMBuildAdd(cg->b, a, at, ""));
	LLVMValueRef more = LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, at, lim, ""),
	                                 cg_in_bounds(cg, p, 1), "");
	LLVMBuildCondBr(cg->b, more, kindb, done);
	LLVMPositionBuilderAtEnd(cg->b, kindb);
	LLVMValueRef kind = cg_load_be(cg, p, 1);
	LLVMBuildCondBr(cg->b, cg_eqc(cg, kind, OPT_NOP), nop, tlv);
	LLVMPositionBuilderAtEnd(cg->b, nop);
	LLVMValueRef after_nop = LLVMBuildAdd(cg->b, at, cg_const64(cg, 1), "");
	LLVMBuildBr(cg->b, next);
	/* EOL, a truncated option, or a bad length: the walk ends */
	LLVMPositionBuilderAtEnd(cg->b, tlv);
	LLVMValueRef notend = LLVMBuildAnd(
	    cg->b, LLVMBuildNot(cg->b, cg_eqc(cg, kind, OPT_EOL), ""), cg_in_bounds(cg, p, 2), "");
	LLVMBuildCondBr(cg->b, notend, lenb, done);
	LLVMPositionBuilderAtEnd(cg->b, lenb);
	LLVMValueRef len = cg_load_be(cg, cg_gepc(cg, p, 1), 1);
	LLVMValueRef end = LLVMBuildAdd(cg->b, at, len, "");
	LLVMValueRef sane =
	    LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, len, cg_const64(cg, 2), ""),
	                 LLVMBuildICmp(cg->b, LLVMIntULE, end, lim, ""), "");
	LLVMBuildCondBr(cg->b, sane, have, done);
	LLVMPositionBuilderAtEnd(cg->b, have);
	cg_tcp_option(cg, &o, p, kind, len);
	LLVMBasicBlockRef from[2] = {nop, LLVMGetInsertBlock(cg->b)};
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
	LLVMValueRef ends[2] = {after_nop, end}, off = cg_phi(cg, "opt_off", ends, from, 2);
	cg_rloop_next(cg, &k, (LLVMValueRef[]){off, LLVMBuildAdd(cg->b, i, cg_const64(cg, 1), "")});
	LLVMPositionBuilderAtEnd(cg->b, done);
	LLVMBuildRet(
	    cg->b, LLVMBuildTrunc(cg->b, LLVMBuildLoad2(cg->b, cg->i64, o.mask, ""), cg->i32, ""));
}

/* The options of l's header at offset off, up to lim bytes into it, where
 * walk holds (none elsewhere), as the walker's outputs: the full walk's
 * (fast: false) or the fast walk's */
static void cg_tcp_opts(struct cg *cg, const struct hq_layer *l, LLVMValueRef off, LLVMValueRef lim,
                        LLVMValueRef walk, bool fast)
{
	LLVMValueRef out = cg_gepc(cg, cg->scratch, cg->scratch_sub_off);
	LLVMValueRef mask = cg_sub_call(cg, "hq_tcp_opts", 8 * TCP_OPT_OUTS, cg_tcp_opts_body, l,
	                                walk, off, lim, out);
	for (unsigned k = 0; k < TCP_OPT_OUTS; k++) {
		LLVMValueRef has = LLVMBuildNot(
		    cg->b, cg_eqc(cg, LLVMBuildAnd(cg->b, mask, cg_const64(cg, 1ull << k), ""), 0),
		    "");
		LLVMValueRef v = LLVMBuildLoad2(cg->b, cg->i64, cg_gepc(cg, out, 8 * k), "");
		if (fast)
			cg_fast_set_used(cg, l, cg_tcp_opt_keys[k], has, v);
		else
			cg_var_set(cg, cg_var(cg, l, cg_tcp_opt_keys[k]), has, v);
	}
}

/* ---- retransmit: this segment's sequence range was already seen on its
 * flow. Per direction and interface, an LRU map keeps the highest sequence
 * end seen (serial arithmetic, RFC 1982); a segment that occupies sequence
 * space (data, SYN or FIN) and ends at or before it is a retransmission. */

/* the fields of a flow key besides the ports: source, then destination */
static const char *const cg_flow_fields[] = {"inet.src", "inet.dst", NULL};

/* The flow key at key, CG_FLOW_KEY bytes (cg.h): u32 family (its second
 * byte: 1 on egress), 16 + 16 address bytes, u16 + u16 ports, the u32
 * interface index, 4 bytes of 0. Each direction and interface keeps its
 * own entries: on loopback, or a router watched on two interfaces, a
 * segment that leaves on egress comes in again on ingress; behind a
 * bridge, it comes in on the port and again on the bridge. It is no
 * retransmission there. */
static void cg_flow_key(struct cg *cg, LLVMValueRef key, struct cg_hdr h)
{
	const struct hq_field *src = proto_field(cg->proto, cg_flow_fields[0]);
	const struct hq_field *dst = proto_field(cg->proto, cg_flow_fields[1]);
	cg_memset0(cg, key, CG_FLOW_KEY);
	struct hq_slot s = {.type = HQ_T_INET, .size = 20};
	if (src && dst) {
		struct cg_val a = cg_field(cg, src), b = cg_field(cg, dst);
		cg_store_value(cg, key, &s, a);
		LLVMValueRef bk = cg_gepc(cg, key, 20);
		LLVMBuildStore(cg->b, b.b, bk);
		LLVMBuildStore(cg->b, b.c, cg_gepc(cg, bk, 8));
	}
	LLVMValueRef ports = cg_load_raw(cg, h.p, cg->i32); /* both ports, as on the wire */
	LLVMBuildStore(cg->b, ports, cg_gepc(cg, key, 36));
	if (cg->hook == CG_HOOK_TC_OUT)
		LLVMBuildStore(cg->b, LLVMConstInt(cg->i8, 1, 0), cg_gepc(cg, key, 1));
	LLVMBuildStore(cg->b, LLVMBuildTrunc(cg->b, cg_ctx_ifindex(cg), cg->i32, ""),
	               cg_gepc(cg, key, 40));
}

bool cg_tcp_lasting(struct cg *cg, const struct hq_layer *l)
{
	return cg_field_used(cg, l, "retransmit");
}

const char *const *cg_tcp_reads(const char *key)
{
	return strcmp(key, "retransmit") ? NULL : cg_flow_fields;
}

/* ---- Which segments the flow table needs. Where every query of the hook
 * that reads retransmit has a where clause over the flow key alone (its
 * addresses and ports, constants), that clause is the same on every
 * segment of a flow: the table needs only the segments of the flows one
 * of them takes, and sees all of those, as a hand-written program that
 * filters first does. */

/* does f sit in the first four bytes of l's header (the ports, which the
 * key holds as on the wire)? */
static bool cg_flow_port(const struct hq_layer *l, const struct hq_field *f)
{
	return f->layer == l && f->src == HQ_FS_FIXED && !f->when_field && !f->zero_rest &&
	       (f->type == HQ_T_UINT || f->type == HQ_T_BOOL) &&
	       f->off + (f->bit + f->nbits + 7) / 8 <= 4;
}

/* does layer a sit, through its parents, on b? */
static bool cg_layer_on(const struct hq_layer *a, const struct hq_layer *b)
{
	for (int i = 0; i < a->n_links; i++)
		if (a->links[i].parent == b || cg_layer_on(a->links[i].parent, b))
			return true;
	return false;
}

/* Can at most one of k's alternatives be in a packet, each of its own
 * type? Then the key's address (the first present, with its family) tells
 * each alternative's value and presence. */
static bool cg_flow_alts_apart(const struct hq_field *k)
{
	for (int i = 0; i < k->n_alts; i++)
		for (int j = i + 1; j < k->n_alts; j++) {
			const struct hq_field *a = k->alts[i], *b = k->alts[j];
			if (a->layer == b->layer || a->type == b->type ||
			    cg_layer_on(a->layer, b->layer) || cg_layer_on(b->layer, a->layer))
				return false;
		}
	return true;
}

static bool cg_flow_key_field(struct cg *cg, const struct hq_layer *l, const struct hq_field *f)
{
	if (cg_flow_port(l, f))
		return true;
	for (int i = 0; cg_flow_fields[i]; i++) {
		const struct hq_field *k = proto_field(cg->proto, cg_flow_fields[i]);
		if (k == f)
			return true;
		for (int a = 0; k && a < k->n_alts; a++)
			if (k->alts[a] == f)
				return cg_flow_alts_apart(k);
	}
	return false;
}

/* Is e's value the same on every segment of a flow of l? */
static bool cg_flow_keyed(struct cg *cg, const struct hq_layer *l, const struct hq_expr *e)
{
	if (!e)
		return true;
	if (e->kind == HQ_EX_CALL || e->kind == HQ_EX_STAR)
		return false;
	if (e->kind == HQ_EX_NAME && e->ref != HQ_REF_CONST &&
	    (e->ref != HQ_REF_FIELD || !cg_flow_key_field(cg, l, e->field)))
		return false;
	for (int i = 0; i < e->items.n; i++)
		if (!cg_flow_keyed(cg, l, e->items.items[i]))
			return false;
	return cg_flow_keyed(cg, l, e->lhs) && cg_flow_keyed(cg, l, e->rhs);
}

/* i1: the flow table needs this segment (the where clause of a query
 * that reads retransmit holds); NULL: it needs every segment */
static LLVMValueRef cg_flow_gate(struct cg *cg, const struct hq_layer *l)
{
	const struct hq_field *r = proto_layer_field(l, "retransmit");
	bool any = false;
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = &cg->plan->qplans[i];
		if (!cg_query_in_hook(cg, qp) || !cg_query_reads(cg, qp, r))
			continue;
		if (!qp->q->where || !cg_flow_keyed(cg, l, qp->q->where))
			return NULL;
		any = true;
	}
	LLVMValueRef gate = cg_i1(cg, 0);
	for (int i = 0; any && i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = &cg->plan->qplans[i];
		if (cg_query_in_hook(cg, qp) && cg_query_reads(cg, qp, r))
			gate = LLVMBuildOr(cg->b, gate,
			                   cg_truth(cg, cg_expr(cg, qp->q, qp->q->where)), "");
	}
	return any ? gate : NULL;
}

/* i64: 1 if the segment at h, plen payload bytes long, is a
 * retransmission on its flow, else 0; the flow's entry updated where the
 * table needs it (cg_flow_gate) */
static LLVMValueRef cg_tcp_retransmit(struct cg *cg, const struct hq_layer *l, struct cg_hdr h,
                                      LLVMValueRef plen)
{
	LLVMValueRef seq = cg_load_be(cg, cg_gepc(cg, h.p, 4), 4);
	LLVMValueRef flags = cg_load_be(cg, cg_gepc(cg, h.p, 13), 1);
	LLVMValueRef synfin =
	    LLVMBuildAdd(cg->b, LLVMBuildAnd(cg->b, flags, cg_const64(cg, 1), ""),
	                 LLVMBuildAnd(cg->b, LLVMBuildLShr(cg->b, flags, cg_const64(cg, 1), ""),
	                              cg_const64(cg, 1), ""),
	                 "");
	LLVMValueRef len = LLVMBuildAdd(cg->b, plen, synfin, "");
	LLVMValueRef end = LLVMBuildTrunc(cg->b, LLVMBuildAdd(cg->b, seq, len, ""), cg->i32, "");
	LLVMBasicBlockRef known = cg_block(cg, "flow_known"), fresh = cg_block(cg, "flow_new"),
	                  done = cg_block(cg, "flow_done"), skip = NULL;
	LLVMValueRef gate = cg_flow_gate(cg, l);
	if (gate) {
		LLVMBasicBlockRef look = cg_block(cg, "flow_look");
		skip = LLVMGetInsertBlock(cg->b);
		LLVMBuildCondBr(cg->b, gate, look, done);
		LLVMPositionBuilderAtEnd(cg->b, look);
	}
	LLVMValueRef key = cg_gepc(cg, cg->scratch, cg->scratch_flow_off);
	cg_flow_key(cg, key, h);
	LLVMValueRef args[2] = {cg->map_flows, key};
	LLVMValueRef seen = cg_helper(cg, 1 /* map_lookup_elem */, cg->ptr, args, 2);
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, seen, LLVMConstNull(cg->ptr), ""),
	                fresh, known);
	LLVMPositionBuilderAtEnd(cg->b, known);
	LLVMValueRef prev = LLVMBuildLoad2(cg->b, cg->i32, seen, "");
	LLVMValueRef ahead = LLVMBuildICmp(cg->b, LLVMIntSGT, LLVMBuildSub(cg->b, end, prev, ""),
	                                   cg_const32(cg, 0), "");
	LLVMValueRef occupies = LLVMBuildICmp(cg->b, LLVMIntNE, len, cg_const64(cg, 0), "");
	LLVMValueRef again = LLVMBuildAnd(cg->b, occupies, LLVMBuildNot(cg->b, ahead, ""), "");
	again = LLVMBuildZExt(cg->b, again, cg->i64, "");
	LLVMBuildStore(cg->b, LLVMBuildSelect(cg->b, ahead, end, prev, ""), seen);
	LLVMBasicBlockRef from_known = LLVMGetInsertBlock(cg->b);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, fresh);
	LLVMValueRef val = cg_gepc(cg, key, CG_FLOW_KEY);
	LLVMBuildStore(cg->b, cg_const64(cg, 0), val);
	LLVMBuildStore(cg->b, end, val);
	LLVMValueRef uargs[4] = {cg->map_flows, key, val, cg_const64(cg, 0)};
	cg_helper(cg, 2 /* map_update_elem */, cg->i64, uargs, 4);
	LLVMBasicBlockRef from_fresh = LLVMGetInsertBlock(cg->b);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
	LLVMValueRef vals[3] = {again, cg_const64(cg, 0), cg_const64(cg, 0)};
	LLVMBasicBlockRef from[3] = {from_known, from_fresh, skip};
	return cg_phi(cg, "rexmit", vals, from, skip ? 3 : 2);
}

/* The fast walk's TCP walk (cg_walker.fast): the payload length, where
 * the frame holds the whole IP payload (so it is the IP header's, minus
 * the TCP header, as cg_walk_tcp finds it) and that leaves room for the
 * TCP header; else the full walk. */
LLVMValueRef cg_fast_tcp(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	struct cg_val ip = {.present = cg_i1(cg, 0), .a = cg_const64(cg, 0)};
	cg_fast_get_under(cg, l, "payload_len", &ip);
	struct cg_val hl = cg_field(cg, l->hlen);
	LLVMValueRef hlen = LLVMBuildMul(cg->b, hl.a, cg_const64(cg, l->hlen_mul), "");
	LLVMValueRef fits =
	    LLVMBuildAnd(cg->b, ip.present, LLVMBuildICmp(cg->b, LLVMIntUGE, ip.a, hlen, ""), "");
	cg_fast_need(cg, fits);
	cg_fast_need(cg, cg_in_bounds(cg, cg_gep(cg, p, ip.a), 0));
	cg_fast_set(cg, l, "payload_len", cg_i1(cg, 1), LLVMBuildSub(cg->b, ip.a, hlen, ""), NULL,
	            NULL);
	return NULL;
}

/* The fast walk's retransmit (cg_walker.fast_lasting), where its chain
 * ends with l's header at p in it: the flow's entry updated as
 * cg_walk_tcp does, with the payload length cg_fast_tcp gave. */
void cg_fast_tcp_lasting(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	struct cg_val plen = {.present = cg_i1(cg, 0), .a = cg_const64(cg, 0)};
	if (!cg_fast_get(cg, l, "payload_len", &plen))
		cg_fast_need(cg, cg_i1(cg, 0));
	struct cg_hdr h = {.p = p};
	cg_fast_set(cg, l, "retransmit", cg_i1(cg, 1), cg_tcp_retransmit(cg, l, h, plen.a), NULL,
	            NULL);
}

static bool cg_tcp_opts_used(struct cg *cg, const struct hq_layer *l)
{
	for (unsigned k = 0; k < TCP_OPT_OUTS; k++)
		if (cg_field_used(cg, l, cg_tcp_opt_keys[k]))
			return true;
	return false;
}

/* The fast walk's options (cg_walker.fast_late), where its chain runs the
 * queries with l's header at p: where the header is whole in the frame
 * and in the IP payload, the options end with the header in both walks. */
void cg_fast_tcp_late(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	if (!cg_tcp_opts_used(cg, l))
		return;
	struct cg_val ip = {.present = cg_i1(cg, 0), .a = cg_const64(cg, 0)};
	cg_fast_get_under(cg, l, "payload_len", &ip);
	LLVMValueRef hlen =
	    LLVMBuildMul(cg->b, cg_field(cg, l->hlen).a, cg_const64(cg, l->hlen_mul), "");
	LLVMValueRef whole =
	    LLVMBuildAnd(cg->b, ip.present, LLVMBuildICmp(cg->b, LLVMIntUGE, ip.a, hlen, ""), "");
	cg_fast_need(cg, LLVMBuildAnd(cg->b, whole, cg_in_bounds(cg, cg_gep(cg, p, hlen), 0), ""));
	LLVMValueRef off = cg_pkt_off(cg, p);
	cg_tcp_opts(cg, l, off, hlen,
	            LLVMBuildICmp(cg->b, LLVMIntUGT, hlen, cg_const64(cg, l->size), ""), true);
}

/* payload_len is read, or bounds the message of a layer above (cg_walk_http) */
static bool cg_tcp_plen_used(struct cg *cg, const struct hq_layer *l)
{
	if (cg_field_used(cg, l, "payload_len") || cg_field_used(cg, l, "retransmit"))
		return true;
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *u = cg->proto->layers[i];
		for (int k = 0; k < u->n_links; k++)
			if (u->links[k].parent == l && cg->layers[u->index].needed)
				return true;
	}
	return false;
}

bool cg_walk_tcp_reads_len(struct cg *cg, const struct hq_layer *l)
{
	return cg_tcp_opts_used(cg, l) || cg_tcp_plen_used(cg, l);
}

void cg_walk_tcp(struct cg *cg, const struct hq_layer *l, struct cg_layer *st, struct cg_hdr h)
{
	bool want = cg_tcp_opts_used(cg, l), retrans = cg_field_used(cg, l, "retransmit");
	bool plen_used = cg_tcp_plen_used(cg, l);
	if (!want && !plen_used)
		return; /* nothing to walk, no frame length to fetch */
	struct cg_val hl = cg_field(cg, l->hlen);
	LLVMValueRef hlen = LLVMBuildMul(cg->b, hl.a, cg_const64(cg, l->hlen_mul), "");
	LLVMValueRef ok;
	LLVMValueRef rem = cg_l3_remaining(cg, l, &ok);
	/* no more than the frame holds after this header start (as tshark) */
	LLVMValueRef wire = cg_wire_len(cg);
	LLVMValueRef in_frame = LLVMBuildSub(cg->b, wire, h.off, "");
	LLVMValueRef past = LLVMBuildICmp(cg->b, LLVMIntULT, wire, h.off, "");
	in_frame = LLVMBuildSelect(cg->b, past, cg_const64(cg, 0), in_frame, "");
	rem = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, in_frame, rem, ""), in_frame,
	                      rem, "");
	if (want) {
		/* tshark reads options within the IP payload: past it, it throws
		 * and shows no later option */
		LLVMValueRef room = LLVMBuildSelect(cg->b, ok, rem, in_frame, "");
		LLVMValueRef lim = LLVMBuildSelect(
		    cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, room, hlen, ""), room, hlen, "");
		/* a header without options (the fixed 20 bytes): no walk */
		LLVMValueRef opts = LLVMBuildAnd(
		    cg->b, hl.present,
		    LLVMBuildICmp(cg->b, LLVMIntUGT, hlen, cg_const64(cg, l->size), ""), "");
		cg_tcp_opts(cg, l, h.off, lim, opts, false);
	}
	if (!plen_used)
		return;

	LLVMValueRef fits = LLVMBuildICmp(cg->b, LLVMIntUGE, rem, hlen, "");
	LLVMValueRef have = LLVMBuildAnd(cg->b, ok, fits, "");
	LLVMValueRef plen = LLVMBuildSub(cg->b, rem, hlen, "");
	LLVMBasicBlockRef cont = cg_if(cg, have, "tcp_len");
	cg_set(cg, l, "payload_len", plen);
	cg_endif(cg, cont);
	if (retrans)
		cg_set(cg, l, "retransmit",
		       cg_tcp_retransmit(
		           cg, l, h, LLVMBuildSelect(cg->b, have, plen, cg_const64(cg, 0), "")));
}
