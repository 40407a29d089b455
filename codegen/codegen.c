/* codegen.c — codegen_compile(): maps, scratch layout, programs, emission.
 */
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>

#include "cg.h"

static unsigned cg_max(unsigned a, unsigned b)
{
	return a > b ? a : b;
}

/* Upper bound of the bytes walkers may write as strings in one function. */
static unsigned cg_str_bytes(const struct hq_proto *p)
{
	unsigned n = 0;
	for (int i = 0; i < p->n_layers; i++)
		for (int j = 0; j < p->layers[i]->n_fields; j++) {
			const struct hq_field *f = p->layers[i]->fields[j];
			if (f->type == HQ_T_STR)
				n += (f->size + 7) & ~7u;
		}
	return n;
}

/* Per-CPU scratch value: counters | group key | distinct key | zeroes |
 * strings | cells */
static void cg_scratch_layout(struct cg *cg)
{
	unsigned key = 8, dkey = 8, zero = 16;
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = &cg->plan->qplans[i];
		key = cg_max(key, qp->key_size);
		dkey = cg_max(dkey, qp->key_size + 16);
		zero = cg_max(zero, qp->val_size);
	}
	cg->scratch_key_off = 8 * (HQ_STAT_N + (unsigned)cg->plan->n_qplans);
	cg->scratch_dkey_off = cg->scratch_key_off + ((key + 7) & ~7u);
	cg->scratch_zero_off = cg->scratch_dkey_off + ((dkey + 7) & ~7u);
	cg->scratch_str_off = cg->scratch_zero_off + ((zero + 7) & ~7u);
	cg->scratch_walk_off = cg->scratch_str_off + ((cg_str_bytes(cg->proto) + 15) & ~7u);
	cg->scratch_layers_off = cg->scratch_walk_off + 64;
	for (int i = 0; i < cg->proto->n_layers; i++) {
		struct cg_layer *st = &cg->layers[cg->proto->layers[i]->index];
		st->slot = cg->scratch_layers_off + 32 * i;
		st->ok = st->slot + 16;
		st->kids_ok = st->slot + 24;
	}
	cg->scratch_vars_off = cg->scratch_layers_off + 32 * cg->proto->n_layers;
	cg->scratch_flow_off = cg->scratch_vars_off + 16 * CG_MAX_VARS;
	cg->scratch_hw_off = cg->scratch_flow_off + CG_FLOW_KEY + 8;
	cg->scratch_verdict_off = cg->scratch_hw_off + 24;
	cg->scratch_lazy_off = cg->scratch_verdict_off + 8;
	cg->scratch_sub_off = cg->scratch_lazy_off + 16;
	cg->scratch_size = cg->scratch_sub_off + 48;
}

static bool cg_needs_events(const struct hq_plan *plan)
{
	if (plan->opts.write_packets)
		return true;
	for (int i = 0; i < plan->n_qplans; i++)
		if (plan->qplans[i].q->action == HQ_ACT_LOG)
			return true;
	return false;
}

/* is a walker output named key read by some query (any layer)? */
static bool cg_uses_key(struct cg *cg, const char *key)
{
	for (int i = 0; i < cg->proto->n_layers; i++)
		if (cg->layers[cg->proto->layers[i]->index].needed &&
		    cg_field_used(cg, cg->proto->layers[i], key))
			return true;
	return false;
}

static void cg_maps(struct cg *cg)
{
	const struct hq_plan *pl = cg->plan;
	/* a live run's values: the runtime rewrites them offline */
	const struct hq_meta live = {.ts_ns = HQ_META_UNFETCHED, .wire_len = HQ_META_UNFETCHED};
	uint64_t words[sizeof(live) / 8];
	memcpy(words, &live, sizeof(words));
	cg->meta = cg_data(cg, "hq_meta", HQ_META_MAP, words, sizeof(words) / 8);
	cg->map_scratch =
	    cg_map(cg, "hq_scratch", BPF_MAP_TYPE_PERCPU_ARRAY, 4, cg->scratch_size, 1);
	if (cg_uses_key(cg, "retransmit"))
		cg->map_flows =
		    cg_map(cg, "hq_flows", BPF_MAP_TYPE_LRU_HASH, CG_FLOW_KEY, 8, 65536);
	for (int i = 0; i < pl->n_qplans; i++)
		if (pl->qplans[i].rate && !cg->map_rate)
			cg->map_rate =
			    cg_map(cg, "hq_rate", BPF_MAP_TYPE_ARRAY, 4, 8, pl->n_qplans);
	if (cg_needs_events(pl))
		cg->map_events =
		    cg_map(cg, "hq_events", BPF_MAP_TYPE_RINGBUF, 0, 0, pl->opts.ringbuf_size);
	cg->map_groups = calloc(pl->n_qplans + 1, sizeof(*cg->map_groups));
	cg->map_distinct = calloc(pl->n_qplans + 1, sizeof(*cg->map_distinct));
	for (int i = 0; i < pl->n_qplans; i++) {
		const struct hq_qplan *qp = &pl->qplans[i];
		if (qp->q->action != HQ_ACT_GROUP)
			continue;
		cg->map_groups[i] = cg_map(cg, qp->groups_map, BPF_MAP_TYPE_PERCPU_HASH,
		                           qp->key_size, qp->val_size, qp->max_groups);
		cg->map_distinct[i] = calloc(qp->n_distinct + 1, sizeof(LLVMValueRef));
		for (int j = 0; j < qp->n_distinct; j++)
			cg->map_distinct[i][j] =
			    cg_map(cg, qp->distinct[j].name, BPF_MAP_TYPE_HASH,
			           qp->distinct[j].key_size, 8, qp->distinct[j].max_entries);
	}
}

/* one compilation; *had_fast: some program had a fast walk */
static int codegen_try(const struct hq_plan *plan, enum hq_emit what, unsigned progs,
                       struct hq_object *out, struct hq_diag *d, bool no_fast, bool *had_fast)
{
	struct cg cg;
	memset(out, 0, sizeof(*out));
	cg_init(&cg, plan, d);
	cg.no_fast = no_fast;
	cg_layers_mark(&cg);
	cg_scratch_layout(&cg);
	cg_maps(&cg);
	cg_license(&cg);
	cg_programs(&cg, progs);
	int err = cg.error ? -1 : cg_finish(&cg, what, out);
	*had_fast = cg.has_fast;
	cg_fini(&cg);
	return err;
}

/* Many queries at once can make the fast walk (a copy of each query per
 * chain of headers it runs them on) too large: then without it. */
int codegen_compile(const struct hq_plan *plan, enum hq_emit what, unsigned progs,
                    struct hq_object *out, struct hq_diag *d)
{
	bool fast;
	int err = codegen_try(plan, what, progs, out, d, false, &fast);
	if (err == CG_TOO_LARGE && fast)
		err = codegen_try(plan, what, progs, out, d, true, &fast);
	if (err == CG_TOO_LARGE)
		return diag_errorf(d,
		                   "the queries make a BPF program of more than %d instructions, "
		                   "too large to load: run fewer of them at once",
		                   CG_MAX_IR);
	return err;
}

void codegen_object_free(struct hq_object *o)
{
	free(o->data);
	o->data = NULL;
	o->size = 0;
}

const char *codegen_llvm_version(void)
{
	static char buf[32];
	unsigned maj, min, patch;
	LLVMGetVersion(&maj, &min, &patch);
	snprintf(buf, sizeof(buf), "LLVM %u.%u.%u", maj, min, patch);
	return buf;
}
