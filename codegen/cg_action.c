/* cg_action.c — what a query does with a matching packet: count it, log a
 * record to the ring buffer, or update its group in a per-CPU hash map.
 * Byte layouts come from plan.h; every loss is counted in hq_stats.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>

#include "cg.h"
#include "cg_walk.h"

static void cg_log_record(struct cg *cg, const struct hq_qplan *qp);

LLVMValueRef cg_lookup(struct cg *cg, LLVMValueRef map, LLVMValueRef key)
{
	LLVMValueRef args[2] = {map, key};
	return cg_helper(cg, BPF_FUNC_map_lookup_elem, cg->ptr, args, 2);
}

LLVMValueRef cg_map_update(struct cg *cg, LLVMValueRef map, LLVMValueRef key, LLVMValueRef val,
                           uint64_t flags)
{
	LLVMValueRef args[4] = {map, key, val, cg_const64(cg, flags)};
	return cg_helper(cg, BPF_FUNC_map_update_elem, cg->i64, args, 4);
}

LLVMValueRef cg_is_null(struct cg *cg, LLVMValueRef p)
{
	return LLVMBuildICmp(cg->b, LLVMIntEQ, p, LLVMConstNull(cg->ptr), "");
}

void cg_add64(struct cg *cg, LLVMValueRef p, LLVMValueRef v)
{
	LLVMValueRef old = LLVMBuildLoad2(cg->b, cg->i64, p, "");
	LLVMBuildStore(cg->b, LLVMBuildAdd(cg->b, old, v, ""), p);
}

/* counter idx of this CPU (plan.h), in the scratch value; volatile, as the
 * cells are, so that no count is kept in a register across the parse */
void cg_stat_inc(struct cg *cg, unsigned idx)
{
	cg_vstore_at(cg, 8 * idx,
	             LLVMBuildAdd(cg->b, cg_vload_at(cg, 8 * idx), cg_const64(cg, 1), ""));
}

void cg_store_value(struct cg *cg, LLVMValueRef p, const struct hq_slot *s, struct cg_val v)
{
	switch (s->type) {
	case HQ_T_IP4:
		LLVMBuildStore(cg->b, v.a, p);
		break;
	case HQ_T_IP6:
		LLVMBuildStore(cg->b, v.a, p);
		LLVMBuildStore(cg->b, v.b, cg_gepc(cg, p, 8));
		break;
	case HQ_T_INET:
		LLVMBuildStore(cg->b, v.a, p);
		LLVMBuildStore(cg->b, v.b, cg_gepc(cg, p, 4));
		LLVMBuildStore(cg->b, v.c, cg_gepc(cg, p, 12));
		break;
	case HQ_T_MAC:
		LLVMBuildStore(cg->b, LLVMBuildTrunc(cg->b, v.a, cg->i32, ""), p);
		LLVMBuildStore(cg->b,
		               LLVMBuildTrunc(cg->b,
		                              LLVMBuildLShr(cg->b, v.a, cg_const64(cg, 32), ""),
		                              cg->i16, ""),
		               cg_gepc(cg, p, 4));
		break;
	case HQ_T_STR:
		if (v.ptr)
			/* strings are walker values in the scratch value (cg_var),
			 * slots start 8-aligned (plan_slot_place): word copies */
			cg_memcpy(cg, p, v.ptr, v.size < s->size ? v.size : s->size, 8);
		break;
	default:
		LLVMBuildStore(cg->b, v.a, p);
		break;
	}
}

/* If v is present: set its presence bit and store it at base + slot->off. */
void cg_store_slot(struct cg *cg, LLVMValueRef base, LLVMValueRef present_words,
                   const struct hq_slot *s, struct cg_val v)
{
	LLVMBasicBlockRef st = cg_block(cg, "slot"), done = cg_block(cg, "slot_done");
	LLVMBuildCondBr(cg->b, v.present, st, done);
	LLVMPositionBuilderAtEnd(cg->b, st);
	LLVMValueRef w = cg_gepc(cg, present_words, 8 * (s->present_bit / 64));
	LLVMValueRef bit = cg_const64(cg, 1ull << (s->present_bit % 64));
	LLVMValueRef old = LLVMBuildLoad2(cg->b, cg->i64, w, "");
	LLVMBuildStore(cg->b, LLVMBuildOr(cg->b, old, bit, ""), w);
	cg_store_value(cg, cg_gepc(cg, base, s->off), s, v);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
}

static struct cg_val cg_slot_value(struct cg *cg, const struct hq_qplan *qp,
                                   const struct hq_slot *s)
{
	if (s->expr)
		return cg_expr(cg, qp->q, s->expr);
	return cg_field(cg, s->field);
}

/* The layer a slot reads a field of, where slots of one layer can share
 * a header check: a parsed layer with a header, not the one checked
 * already, none of whose bytes TC may hold in the metadata. */
static const struct hq_layer *cg_slot_layer(struct cg *cg, const struct hq_slot *s)
{
	const struct hq_field *f = s->expr ? NULL : s->field;
	if (!f || (f->src != HQ_FS_FIXED && f->src != HQ_FS_WALKER))
		return NULL;
	const struct hq_layer *l = f->layer;
	if (l->pseudo || !cg->layers[l->index].parsed || l == cg->hdr_layer ||
	    cg_tc_vlan_layer(cg, l))
		return NULL;
	return l;
}

/* Store slots[0..n) (values at base, presence bits in words). A run of
 * fields of one layer tests its flag and bounds its fixed header once
 * (cg_hdr_begin), then reads each field straight from it: an absent
 * layer's fields cost one branch, not one each. */
static void cg_store_slots(struct cg *cg, const struct hq_qplan *qp, LLVMValueRef base,
                           LLVMValueRef words, const struct hq_slot *slots, int n)
{
	for (int i = 0; i < n;) {
		const struct hq_layer *l = cg_slot_layer(cg, &slots[i]);
		int end = i + 1;
		while (l && end < n && cg_slot_layer(cg, &slots[end]) == l)
			end++;
		LLVMBasicBlockRef out = NULL;
		struct cg_hdr_mark mark;
		if (end - i > 1) {
			LLVMBasicBlockRef in = cg_block(cg, "slots");
			out = cg_block(cg, "slots_done");
			LLVMBuildCondBr(cg->b, cg_layer_ok(cg, l), in, out);
			LLVMPositionBuilderAtEnd(cg->b, in);
			mark = cg_hdr_begin(cg, l, out);
		}
		for (; i < end; i++)
			cg_store_slot(cg, base, words, &slots[i], cg_slot_value(cg, qp, &slots[i]));
		if (out) {
			LLVMBuildBr(cg->b, out);
			LLVMPositionBuilderAtEnd(cg->b, out);
			cg_hdr_end(cg, mark);
		}
	}
}

static void cg_store_hdr(struct cg *cg, LLVMValueRef rec, const struct hq_qplan *qp)
{
	LLVMBuildStore(cg->b, cg_const32(cg, qp->id),
	               cg_gepc(cg, rec, offsetof(struct hq_rec_hdr, query)));
	LLVMBuildStore(cg->b, cg_ts_ns(cg), cg_gepc(cg, rec, offsetof(struct hq_rec_hdr, ts_ns)));
	LLVMBuildStore(cg->b, cg->pkt_num ? cg->pkt_num : cg_const64(cg, 0),
	               cg_gepc(cg, rec, offsetof(struct hq_rec_hdr, num)));
	LLVMBuildStore(cg->b, LLVMBuildTrunc(cg->b, cg_ifindex(cg), cg->i32, ""),
	               cg_gepc(cg, rec, offsetof(struct hq_rec_hdr, ifindex)));
	LLVMBuildStore(cg->b, LLVMBuildTrunc(cg->b, cg_wire_len(cg), cg->i32, ""),
	               cg_gepc(cg, rec, offsetof(struct hq_rec_hdr, wire_len)));
	LLVMBuildStore(cg->b, cg_const32(cg, cg->hook == CG_HOOK_TC_OUT),
	               cg_gepc(cg, rec, offsetof(struct hq_rec_hdr, dir)));
}

/* -w: copy up to snaplen packet bytes behind the slots */
static void cg_copy_packet(struct cg *cg, LLVMValueRef rec, const struct hq_qplan *qp)
{
	unsigned snap = cg->plan->opts.snaplen;
	LLVMValueRef wire = cg_wire_len(cg);
	LLVMValueRef len =
	    LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, wire, cg_const64(cg, snap), ""),
	                    wire, cg_const64(cg, snap), "");
	len = cg_opaque(cg, len);
	LLVMBasicBlockRef cp = cg_block(cg, "copy"), done = cg_block(cg, "copied");
	LLVMValueRef ok =
	    LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGT, len, cg_const64(cg, 0), ""),
	                 LLVMBuildICmp(cg->b, LLVMIntULE, len, cg_const64(cg, snap), ""), "");
	LLVMBuildCondBr(cg->b, ok, cp, done);
	LLVMPositionBuilderAtEnd(cg->b, cp);
	int helper = cg->hook == CG_HOOK_XDP ? BPF_FUNC_xdp_load_bytes : BPF_FUNC_skb_load_bytes;
	LLVMValueRef args[4] = {cg->ctx_arg, cg_const32(cg, 0), cg_gepc(cg, rec, qp->rec_size),
	                        LLVMBuildTrunc(cg->b, len, cg->i32, "")};
	LLVMValueRef r = cg_helper(cg, helper, cg->i64, args, 4);
	LLVMValueRef got = LLVMBuildICmp(cg->b, LLVMIntEQ, r, cg_const64(cg, 0), "");
	LLVMValueRef cap = LLVMBuildSelect(cg->b, got, LLVMBuildTrunc(cg->b, len, cg->i32, ""),
	                                   cg_const32(cg, 0), "");
	LLVMBuildStore(cg->b, cap, cg_gepc(cg, rec, offsetof(struct hq_rec_hdr, cap_len)));
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
}

/* i1: this record fits the query's rate. A token bucket of `rate` tokens
 * refilled at each CLOCK_MONOTONIC second, kept in one u64 updated
 * atomically: window second << 32 | records taken so far. Only a newer
 * second refills: a CPU whose time stamp is a little older than the
 * stored window takes a token of that window. */
static LLVMValueRef cg_rate_ok(struct cg *cg, const struct hq_qplan *qp)
{
	LLVMValueRef key = cg_alloca(cg, cg->i32, "rk");
	LLVMBuildStore(cg->b, cg_const32(cg, qp->id), key);
	LLVMValueRef b = cg_lookup(cg, cg->map_rate, key);
	LLVMValueRef ok = cg_alloca(cg, cg->i1, "rate_ok");
	LLVMBuildStore(cg->b, LLVMConstInt(cg->i1, 0, 0), ok);
	LLVMBasicBlockRef have = cg_block(cg, "rate"), done = cg_block(cg, "rated");
	LLVMBuildCondBr(cg->b, cg_is_null(cg, b), done, have);
	LLVMPositionBuilderAtEnd(cg->b, have);
	LLVMValueRef win = LLVMBuildUDiv(cg->b, cg_ts_ns(cg), cg_const64(cg, 1000000000ull), "");
	win = LLVMBuildAnd(cg->b, win, cg_const64(cg, 0xffffffffull), "");
	LLVMValueRef cur = LLVMBuildLoad2(cg->b, cg->i64, b, "");
	LLVMSetVolatile(cur, 1);
	LLVMValueRef cur_win = LLVMBuildLShr(cg->b, cur, cg_const64(cg, 32), "");
	LLVMValueRef fresh = LLVMBuildShl(cg->b, win, cg_const64(cg, 32), "");
	LLVMBasicBlockRef reset = cg_block(cg, "rate_reset"), count = cg_block(cg, "rate_count");
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGT, win, cur_win, ""), reset, count);
	LLVMPositionBuilderAtEnd(cg->b, reset);
	LLVMBuildAtomicCmpXchg(cg->b, b, cur, fresh, LLVMAtomicOrderingSequentiallyConsistent,
	                       LLVMAtomicOrderingSequentiallyConsistent, 0);
	LLVMBuildBr(cg->b, count);
	LLVMPositionBuilderAtEnd(cg->b, count);
	LLVMValueRef old = LLVMBuildAtomicRMW(cg->b, LLVMAtomicRMWBinOpAdd, b, cg_const64(cg, 1),
	                                      LLVMAtomicOrderingSequentiallyConsistent, 0);
	LLVMValueRef same = LLVMBuildICmp(
	    cg->b, LLVMIntUGE, LLVMBuildLShr(cg->b, old, cg_const64(cg, 32), ""), win, "");
	LLVMValueRef n = LLVMBuildAnd(cg->b, old, cg_const64(cg, 0xffffffffull), "");
	LLVMValueRef room = LLVMBuildICmp(cg->b, LLVMIntULT, n, cg_const64(cg, qp->rate), "");
	LLVMBuildStore(cg->b, LLVMBuildAnd(cg->b, same, room, ""), ok);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
	return LLVMBuildLoad2(cg->b, cg->i1, ok, "");
}

static void cg_log(struct cg *cg, const struct hq_qplan *qp)
{
	LLVMBasicBlockRef logged = NULL;
	if (qp->rate && cg->map_rate) {
		LLVMBasicBlockRef go = cg_block(cg, "in_rate"), held = cg_block(cg, "held_back");
		logged = cg_block(cg, "rate_end");
		LLVMBuildCondBr(cg->b, cg_rate_ok(cg, qp), go, held);
		LLVMPositionBuilderAtEnd(cg->b, held);
		cg_stat_inc(cg, HQ_STAT_RATE_DROPS);
		LLVMBuildBr(cg->b, logged);
		LLVMPositionBuilderAtEnd(cg->b, go);
	}
	cg_log_record(cg, qp);
	if (logged) {
		LLVMBuildBr(cg->b, logged);
		LLVMPositionBuilderAtEnd(cg->b, logged);
	}
}

static void cg_log_record(struct cg *cg, const struct hq_qplan *qp)
{
	bool wr = cg->plan->opts.write_packets;
	unsigned size = qp->rec_size + (wr ? cg->plan->opts.snaplen : 0);
	LLVMValueRef args[3] = {cg->map_events, cg_const64(cg, size), cg_const64(cg, 0)};
	LLVMValueRef rec = cg_helper(cg, BPF_FUNC_ringbuf_reserve, cg->ptr, args, 3);
	LLVMBasicBlockRef fill = cg_block(cg, "fill"), lost = cg_block(cg, "rb_full"),
	                  done = cg_block(cg, "logged");
	LLVMBuildCondBr(cg->b, cg_is_null(cg, rec), lost, fill);
	LLVMPositionBuilderAtEnd(cg->b, lost);
	cg_stat_inc(cg, HQ_STAT_RB_DROPS);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, fill);
	/* header and presence words; a slot is read only when its bit is set.
	 * The words are built on the stack, where LLVM keeps them in
	 * registers, and stored once: in the record, each field's bit would
	 * be a load, an or and a store. */
	cg_memset0(cg, rec, sizeof(struct hq_rec_hdr));
	cg_store_hdr(cg, rec, qp);
	unsigned nw = qp->n_present_words;
	LLVMValueRef words = cg_alloca(cg, LLVMArrayType(cg->i64, nw ? nw : 1), "present");
	cg_memset0(cg, words, 8 * nw);
	cg_store_slots(cg, qp, rec, words, qp->fields, qp->n_fields);
	cg_memcpy(cg, cg_gepc(cg, rec, sizeof(struct hq_rec_hdr)), words, 8 * nw, 8);
	if (wr)
		cg_copy_packet(cg, rec, qp);
	LLVMValueRef sargs[2] = {rec, cg_const64(cg, 0)};
	cg_helper(cg, BPF_FUNC_ringbuf_submit, cg->voidt, sargs, 2);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
}

/* the group's value for this packet's key, created on first sight;
 * returns the block to continue in with *val set, or counts map-full */
static LLVMValueRef cg_group_value(struct cg *cg, const struct hq_qplan *qp, LLVMValueRef map,
                                   LLVMValueRef key, LLVMBasicBlockRef skip)
{
	LLVMValueRef found = cg_lookup(cg, map, key);
	LLVMBasicBlockRef create = cg_block(cg, "g_new"), have = cg_block(cg, "g_have"),
	                  full = cg_block(cg, "g_full"), again = cg_block(cg, "g_again");
	LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b);
	LLVMBuildCondBr(cg->b, cg_is_null(cg, found), create, have);
	LLVMPositionBuilderAtEnd(cg->b, create);
	LLVMValueRef r = cg_map_update(cg, map, key, cg_gepc(cg, cg->scratch, cg->scratch_zero_off),
	                               BPF_NOEXIST);
	LLVMValueRef isfull = LLVMBuildOr(
	    cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, r, cg_const64(cg, (uint64_t)-E2BIG), ""),
	    LLVMBuildICmp(cg->b, LLVMIntEQ, r, cg_const64(cg, (uint64_t)-ENOMEM), ""), "");
	LLVMBuildCondBr(cg->b, isfull, full, again);
	LLVMPositionBuilderAtEnd(cg->b, full);
	cg_stat_inc(cg, HQ_STAT_MAP_FULL);
	LLVMBuildBr(cg->b, skip);
	LLVMPositionBuilderAtEnd(cg->b, again);
	LLVMValueRef created = cg_lookup(cg, map, key);
	LLVMBasicBlockRef again_end = LLVMGetInsertBlock(cg->b);
	LLVMBuildCondBr(cg->b, cg_is_null(cg, created), skip, have);
	LLVMPositionBuilderAtEnd(cg->b, have);
	LLVMValueRef inc[2] = {found, created};
	LLVMBasicBlockRef bbs[2] = {from, again_end};
	LLVMValueRef val = cg_phi(cg, "val", inc, bbs, 2);
	(void)qp;
	return val;
}

static void cg_group(struct cg *cg, const struct hq_qplan *qp)
{
	LLVMValueRef key = cg_gepc(cg, cg->scratch, cg->scratch_key_off);
	cg_memset0(cg, key, qp->key_size);
	cg_store_slots(cg, qp, key, key, qp->keys, qp->n_keys);
	LLVMBasicBlockRef done = cg_block(cg, "grouped");
	LLVMValueRef val = cg_group_value(cg, qp, cg->map_groups[qp->id], key, done);
	cg_add64(cg, val, cg_const64(cg, 1));
	for (int i = 0; i < qp->n_aggs; i++)
		cg_agg_update(cg, qp, &qp->aggs[i], val, key);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
}

/* Does this query run in this hook? Queries without a direction are
 * ingress queries. */
bool cg_query_in_hook(struct cg *cg, const struct hq_qplan *qp)
{
	bool egress = qp->has_dir && qp->dir == HQ_DIR_EGRESS;
	return egress == (cg->hook == CG_HOOK_TC_OUT);
}

static LLVMValueRef cg_query_ifindex(struct cg *cg, const struct hq_qplan *qp)
{
	if (!qp->n_ifindexes)
		return LLVMConstInt(cg->i1, 1, 0);
	LLVMValueRef any = LLVMConstInt(cg->i1, 0, 0);
	for (int i = 0; i < qp->n_ifindexes; i++)
		any = LLVMBuildOr(cg->b, any,
		                  LLVMBuildICmp(cg->b, LLVMIntEQ, cg->ifindex,
		                                cg_const64(cg, (uint64_t)qp->ifindexes[i]), ""),
		                  "");
	/* offline runs have no interface: every query applies */
	LLVMValueRef offline = LLVMBuildICmp(cg->b, LLVMIntEQ, cg->ifindex, cg_const64(cg, 0), "");
	return LLVMBuildOr(cg->b, any, offline, "");
}

void cg_query(struct cg *cg, const struct hq_qplan *qp, bool where_holds)
{
	if (!cg_query_in_hook(cg, qp))
		return;
	const struct hq_query *q = qp->q;
	LLVMBasicBlockRef test = cg_block(cg, qp->name), act = cg_block(cg, "match"),
	                  next = cg_block(cg, "next_query");
	LLVMValueRef pre = cg_query_ifindex(cg, qp);
	if (q->layer)
		pre = LLVMBuildAnd(cg->b, pre, cg_layer_ok(cg, q->layer), "");
	LLVMBuildCondBr(cg->b, pre, test, next);
	LLVMPositionBuilderAtEnd(cg->b, test);
	struct cg_hdr_mark mark = cg_hdr_begin(cg, q->layer, next);
	if (q->where && !where_holds)
		LLVMBuildCondBr(cg->b, cg_launder(cg, cg_truth(cg, cg_expr(cg, q, q->where))), act,
		                next);
	else
		LLVMBuildBr(cg->b, act);
	LLVMPositionBuilderAtEnd(cg->b, act);
	cg_stat_inc(cg, HQ_STAT_N + qp->id);
	if (q->action == HQ_ACT_LOG || cg->plan->opts.write_packets)
		cg_log(cg, qp);
	if (q->action == HQ_ACT_GROUP)
		cg_group(cg, qp);
	cg_hdr_end(cg, mark);
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}
