/* cg_prog.c — the three program functions (XDP, TC ingress, TC egress).
 *
 * Each one: read the context (packet bounds, interface, length), fetch the
 * shared per-run state (hq_meta, this CPU's scratch), number the packet,
 * let the fast walk (cg_fast.c) let it go where no query matches or run
 * the queries on its plain headers, else parse the layers the queries
 * need and run every query; pass the packet on untouched.
 */
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "cg_walk.h"

#define XDP_PASS_CODE      2
#define TC_ACT_UNSPEC_CODE (-1)

struct cg_ctx_layout {
	unsigned data, data_end, ifindex, len;
	const char *name, *section;
};

static const struct cg_ctx_layout cg_ctx[CG_HOOK_N] = {
    [CG_HOOK_XDP] = {0, 4, 12, 0, HQ_PROG_XDP, "xdp"},
    [CG_HOOK_TC_IN] = {76, 80, 40, 0, HQ_PROG_TC_IN, "tc"},
    [CG_HOOK_TC_OUT] = {76, 80, 40, 0, HQ_PROG_TC_OUT, "tc"},
};

static LLVMValueRef cg_ctx_u32(struct cg *cg, unsigned off)
{
	LLVMValueRef v = LLVMBuildLoad2(cg->b, cg->i32, cg_gepc(cg, cg->ctx_arg, off), "");
	return LLVMBuildZExt(cg->b, v, cg->i64, "");
}

static LLVMValueRef cg_ctx_ptr(struct cg *cg, unsigned off)
{
	return LLVMBuildIntToPtr(cg->b, cg_ctx_u32(cg, off), cg->ptr, "");
}

/* cg->data and cg->data_end from the context; afresh (volatile loads,
 * which LLVM keeps apart from the earlier ones) after the fast walk, so
 * that the full walk starts from new registers whichever way it came */
void cg_packet_ptrs(struct cg *cg, bool fresh)
{
	const struct cg_ctx_layout *L = &cg_ctx[cg->hook];
	unsigned off[2] = {L->data, L->data_end};
	LLVMValueRef p[2];
	for (int i = 0; i < 2; i++) {
		LLVMValueRef v =
		    LLVMBuildLoad2(cg->b, cg->i32, cg_gepc(cg, cg->ctx_arg, off[i]), "");
		LLVMSetVolatile(v, fresh);
		p[i] = LLVMBuildIntToPtr(cg->b, LLVMBuildZExt(cg->b, v, cg->i64, ""), cg->ptr, "");
	}
	cg->data = p[0];
	cg->data_end = p[1];
}

/* p = lookup(map, 0); if (!p) return */
static LLVMValueRef cg_lookup0(struct cg *cg, LLVMValueRef map, const char *name)
{
	LLVMValueRef key = cg_alloca(cg, cg->i32, "k0");
	LLVMBuildStore(cg->b, cg_const32(cg, 0), key);
	LLVMValueRef args[2] = {map, key};
	LLVMValueRef p = cg_helper(cg, BPF_FUNC_map_lookup_elem, cg->ptr, args, 2);
	LLVMBasicBlockRef ok = cg_block(cg, name);
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, p, LLVMConstNull(cg->ptr), ""),
	                cg->exit_bb, ok);
	LLVMPositionBuilderAtEnd(cg->b, ok);
	return p;
}

static LLVMValueRef cg_meta_u64(struct cg *cg, unsigned off)
{
	return LLVMBuildLoad2(cg->b, cg->i64, cg_gepc(cg, cg->meta, off), "");
}

/* i1: an offline run (hq_meta's values stand for the kernel's) */
static LLVMValueRef cg_offline(struct cg *cg)
{
	return LLVMBuildICmp(cg->b, LLVMIntNE, cg_meta_u64(cg, offsetof(struct hq_meta, offline)),
	                     cg_const64(cg, 0), "offline");
}

static LLVMValueRef cg_offline_or(struct cg *cg, LLVMValueRef offline, unsigned meta_off,
                                  LLVMValueRef live)
{
	return LLVMBuildSelect(cg->b, offline, cg_meta_u64(cg, meta_off), live, "");
}

static LLVMValueRef cg_live_len(struct cg *cg)
{
	if (cg->hook != CG_HOOK_XDP)
		return cg_ctx_u32(cg, cg_ctx[cg->hook].len);
	LLVMValueRef arg = cg->ctx_arg;
	return cg_helper(cg, BPF_FUNC_xdp_get_buff_len, cg->i64, &arg, 1);
}

static LLVMValueRef cg_pkt_number(struct cg *cg, LLVMValueRef offline)
{
	LLVMValueRef p = cg_gepc(cg, cg->meta, offsetof(struct hq_meta, num));
	LLVMBasicBlockRef live = cg_block(cg, "num_live"), off = cg_block(cg, "num_off"),
	                  done = cg_block(cg, "numbered");
	LLVMBuildCondBr(cg->b, offline, off, live);
	LLVMPositionBuilderAtEnd(cg->b, live);
	LLVMValueRef old = LLVMBuildAtomicRMW(cg->b, LLVMAtomicRMWBinOpAdd, p, cg_const64(cg, 1),
	                                      LLVMAtomicOrderingSequentiallyConsistent, 0);
	LLVMValueRef n1 = LLVMBuildAdd(cg->b, old, cg_const64(cg, 1), "");
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, off);
	LLVMValueRef n2 = LLVMBuildLoad2(cg->b, cg->i64, p, "");
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
	LLVMValueRef v[2] = {n1, n2};
	LLVMBasicBlockRef bb[2] = {live, off};
	return cg_phi(cg, "num", v, bb, 2);
}

static bool cg_needs_payload(struct cg *cg)
{
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *l = cg->proto->layers[i];
		if (cg->layers[l->index].needed && l->walker &&
		    (!strcmp(l->walker, "dns") || !strcmp(l->walker, "http")))
			return true;
	}
	return false;
}

/* TC sees socket buffers whose bytes may sit outside the linear part, where
 * direct packet access cannot reach them: frames from an AF_PACKET ring
 * arrive on a veth with only the Ethernet header linear, and every query
 * saw nothing of them. Pull what parsing reads (the headers; the first KiB
 * where DNS or HTTP is parsed) into the linear part, and only when it is
 * short: pulling may copy the head of a cloned buffer. */
static void cg_tc_pull(struct cg *cg)
{
	const struct cg_ctx_layout *L = &cg_ctx[cg->hook];
	LLVMValueRef len = cg_ctx_u32(cg, 0);
	LLVMValueRef cap = cg_const64(cg, cg_needs_payload(cg) ? 1024 : 256);
	len = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, len, cap, ""), len, cap, "");
	LLVMValueRef want = cg_gep(cg, cg_ctx_ptr(cg, L->data), len);
	LLVMValueRef shrt = LLVMBuildICmp(cg->b, LLVMIntUGT, want, cg_ctx_ptr(cg, L->data_end), "");
	LLVMBasicBlockRef pull = cg_block(cg, "tc_pull"), done = cg_block(cg, "tc_linear");
	LLVMBuildCondBr(cg->b, shrt, pull, done);
	LLVMPositionBuilderAtEnd(cg->b, pull);
	LLVMValueRef args[2] = {cg->ctx_arg, len};
	cg_helper(cg, BPF_FUNC_skb_pull_data, cg->i64, args, 2);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
}

/* Does parsing read the frame length? The walkers that bound payloads by
 * the frame (DNS, HTTP, TCP options and payload) run for most packets of
 * the queries that need them, where one fetch up front is cheaper for the
 * verifier than a fetch on first use inside each. */
static bool cg_parse_reads_len(struct cg *cg)
{
	if (cg_needs_payload(cg))
		return true;
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *l = cg->proto->layers[i];
		if (cg->layers[l->index].needed && l->walker && !strcmp(l->walker, "tcp_opts") &&
		    cg_walk_tcp_reads_len(cg, l))
			return true;
	}
	return false;
}

/* A value fetched at its first use in a packet. Its cell starts as
 * hq_meta's (cg_lazy_init): the frame's offline, HQ_META_UNFETCHED live.
 * Fetching up front would cost every packet a helper call even where no
 * query matches. The value is read back from the cell, so that the
 * verifier sees one unknown scalar whichever way it came. */

static unsigned cg_lazy_bit(struct cg *cg, unsigned cell)
{
	return 1u << ((cell - cg->scratch_lazy_off) / 8);
}

static LLVMValueRef cg_lazy(struct cg *cg, unsigned cell, LLVMValueRef (*fetch)(struct cg *cg))
{
	cg->lazy_read |= cg_lazy_bit(cg, cell);
	LLVMValueRef have = cg_vload_at(cg, cell);
	LLVMBasicBlockRef get = cg_block(cg, "fetch"), done = cg_block(cg, "fetched");
	LLVMBuildCondBr(
	    cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, have, cg_const64(cg, HQ_META_UNFETCHED), ""),
	    get, done);
	LLVMPositionBuilderAtEnd(cg->b, get);
	cg_vstore_at(cg, cell, fetch(cg));
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
	return cg_vload_at(cg, cell);
}

static void cg_lazy_init(struct cg *cg, unsigned cell, unsigned meta_off)
{
	LLVMValueRef st = cg_vstore_at(cg, cell, cg_meta_u64(cg, meta_off));
	if (cg->n_lazy_inits == (int)(sizeof(cg->lazy_inits) / sizeof(cg->lazy_inits[0])))
		return; /* kept */
	cg->lazy_inits[cg->n_lazy_inits] = st;
	cg->lazy_init_cells[cg->n_lazy_inits++] = cell;
}

/* The lazy cells' starting stores where nothing of the program reads the
 * cell: per-packet stores for nothing (group queries read neither pkt.ts
 * nor the frame length) */
static void cg_lazy_prune(struct cg *cg)
{
	for (int i = 0; i < cg->n_lazy_inits; i++)
		if (!(cg->lazy_read & cg_lazy_bit(cg, cg->lazy_init_cells[i])))
			LLVMInstructionEraseFromParent(cg->lazy_inits[i]);
	cg->n_lazy_inits = 0;
	cg->lazy_read = 0;
}

static LLVMValueRef cg_fetch_ts(struct cg *cg)
{
	return cg_helper(cg, BPF_FUNC_ktime_get_ns, cg->i64, NULL, 0);
}

/* pkt.ts and pkt.ifindex exist after the walk only (cg_query_prologue):
 * a read from the walk is a code generator bug */
static void cg_after_walk(struct cg *cg)
{
	if (!cg->ifindex) {
		fprintf(stderr, "hdrq: internal error: pkt.ts or pkt.ifindex read while parsing\n");
		abort();
	}
}

LLVMValueRef cg_ts_ns(struct cg *cg)
{
	cg_after_walk(cg);
	return cg_lazy(cg, cg->scratch_lazy_off, cg_fetch_ts);
}

LLVMValueRef cg_ifindex(struct cg *cg)
{
	cg_after_walk(cg);
	return cg->ifindex;
}

LLVMValueRef cg_ctx_ifindex(struct cg *cg)
{
	return cg_ctx_u32(cg, cg_ctx[cg->hook].ifindex);
}

LLVMValueRef cg_wire_len(struct cg *cg)
{
	if (cg->wire_len)
		return cg->wire_len;
	return cg_lazy(cg, cg->scratch_lazy_off + 8, cg_live_len);
}

/* A run ends by setting hq_meta.stopped, then waiting one RCU grace period
 * (runtime/live.c): after it no program counts, whether or not its hook is
 * detached yet, so the final read is exact while the detaches go on. */
static void cg_stop_check(struct cg *cg)
{
	LLVMValueRef stopped = LLVMBuildLoad2(
	    cg->b, cg->i64, cg_gepc(cg, cg->meta, offsetof(struct hq_meta, stopped)), "stopped");
	LLVMSetVolatile(stopped, 1);
	LLVMBasicBlockRef go = cg_block(cg, "running");
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, stopped, cg_const64(cg, 0), ""),
	                cg->exit_bb, go);
	LLVMPositionBuilderAtEnd(cg->b, go);
}

static void cg_prologue(struct cg *cg)
{
	if (cg->hook != CG_HOOK_XDP)
		cg_tc_pull(cg);
	cg->scratch = cg_lookup0(cg, cg->map_scratch, "have_scratch");
	cg_stat_inc(cg, HQ_STAT_PACKETS);
	cg->ifindex = NULL;  /* cg_query_prologue */
	cg->wire_len = NULL; /* cg_walk_prologue */
	cg->pkt_num = cg->plan->need_pkt_num ? cg_pkt_number(cg, cg_offline(cg)) : NULL;
	cg_tc_vlan_prologue(cg);
	/* packet pointers last: helpers above may invalidate them */
	cg_packet_ptrs(cg, false);
}

/* What the full walk reads and the fast walk does not, after it: the
 * frame length, and whether the capture cut the frame short. */
static void cg_walk_prologue(struct cg *cg)
{
	LLVMValueRef offline = cg_offline(cg);
	/* pkt.len: fetched on first use (cg_lazy), unless parsing reads the
	 * length anyway */
	if (cg_parse_reads_len(cg))
		cg->wire_len =
		    cg_offline_or(cg, offline, offsetof(struct hq_meta, wire_len), cg_live_len(cg));
	else
		cg_lazy_init(cg, cg->scratch_lazy_off + 8, offsetof(struct hq_meta, wire_len));
	/* offline frames cut by the snap length: application layers are not
	 * decoded where the cut falls inside the IP datagram (tshark does not
	 * either); only their walkers read the length (cg_l3_captured) */
	if (cg_needs_payload(cg)) {
		LLVMValueRef cap = cg_meta_u64(cg, offsetof(struct hq_meta, cap_len));
		LLVMValueRef cut =
		    LLVMBuildICmp(cg->b, LLVMIntULT, cap,
		                  cg_meta_u64(cg, offsetof(struct hq_meta, wire_len)), "");
		cg_vstore(cg, W_CAPLEN,
		          LLVMBuildSelect(cg->b, LLVMBuildAnd(cg->b, offline, cut, ""), cap,
		                          cg_const64(cg, ~0ull), ""));
	}
}

/* What only the queries read, after the walk, so that a packet the early
 * exit (cg_exit.c) lets go never pays for it: the interface index and the
 * time stamp's cell (pkt.ts; the walk never reads either). */
static void cg_query_prologue(struct cg *cg)
{
	LLVMValueRef offline = cg_offline(cg);
	cg->ifindex =
	    cg_offline_or(cg, offline, offsetof(struct hq_meta, ifindex), cg_ctx_ifindex(cg));
	cg_lazy_init(cg, cg->scratch_lazy_off, offsetof(struct hq_meta, ts_ns));
}

/* The queries' prologue where the fast walk runs them (cg_fast.c):
 * with the frame length's cell, which the full walk's sets up after it. */
void cg_fast_query_prologue(struct cg *cg)
{
	cg_lazy_init(cg, cg->scratch_lazy_off + 8, offsetof(struct hq_meta, wire_len));
	cg_query_prologue(cg);
}

static bool cg_hook_has_queries(struct cg *cg)
{
	for (int i = 0; i < cg->plan->n_qplans; i++)
		if (cg_query_in_hook(cg, &cg->plan->qplans[i]))
			return true;
	return false;
}

static void cg_program(struct cg *cg, enum cg_hook hook)
{
	const struct cg_ctx_layout *L = &cg_ctx[hook];
	LLVMTypeRef fty = LLVMFunctionType(cg->i32, &cg->ptr, 1, 0);
	cg->hook = hook;
	cg->fn = LLVMAddFunction(cg->mod, L->name, fty);
	LLVMSetSection(cg->fn, L->section);
	/* no unwind tables: BPF has no use for .eh_frame (libbpf warns about it) */
	unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
	LLVMAddAttributeAtIndex(cg->fn, LLVMAttributeFunctionIndex,
	                        LLVMCreateEnumAttribute(cg->ctx, nounwind, 0));
	cg_di_function(cg, cg->fn, L->name, hook);
	cg->ctx_arg = LLVMGetParam(cg->fn, 0);
	LLVMBasicBlockRef entry = cg_block(cg, "entry");
	cg->exit_bb = cg_block(cg, "exit");
	LLVMPositionBuilderAtEnd(cg->b, cg->exit_bb);
	LLVMBuildRet(
	    cg->b,
	    LLVMConstInt(cg->i32,
	                 hook == CG_HOOK_XDP ? XDP_PASS_CODE : (uint64_t)TC_ACT_UNSPEC_CODE, 1));
	LLVMPositionBuilderAtEnd(cg->b, entry);
	cg_stop_check(cg);
	cg_prologue(cg);
	if (cg_hook_has_queries(cg)) {
		bool fast = cg_fast_walk(cg);
		cg->has_fast |= fast;
		cg_walk_prologue(cg);
		if (fast)
			cg_packet_ptrs(cg, true);
		cg_parse_layers(cg);
		cg_query_prologue(cg);
	}
	for (int i = 0; i < cg->plan->n_qplans; i++)
		cg_query(cg, &cg->plan->qplans[i], false);
	LLVMBuildBr(cg->b, cg->exit_bb);
	LLVMMoveBasicBlockAfter(cg->exit_bb, LLVMGetInsertBlock(cg->b));
	cg_lazy_prune(cg);
}

void cg_programs(struct cg *cg, unsigned progs)
{
	for (int h = 0; h < CG_HOOK_N; h++)
		if (progs & (1u << h))
			cg_program(cg, (enum cg_hook)h);
}
