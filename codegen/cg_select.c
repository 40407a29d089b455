/* cg_select.c — link selectors, read once per packet.
 *
 * A layer's children are recognised by a field of it (eth.type for VLAN,
 * ARP, IPv4, IPv6, ...). Read where each link is tested, that field costs a
 * bounds check, a load and its `when` condition per child. Instead the
 * parent stores each fixed selector field into a walker-style cell pair
 * (present, value) at the end of its own parse, and the links read the
 * cells. The cells are declared (zeroed: absent) with the parent's other
 * outputs, so a parent that is not there leaves them absent.
 *
 * A link's test is a switch on the selector (cg_select_branch): compares
 * and branches, where an `or` of compares would materialise each as a
 * flag (BPF has no set-on-condition instruction).
 */
#include <string.h>

#include "cg.h"

/* the selector of link k, if it is one the parent can store */
const struct hq_field *cg_select_of(const struct hq_link *k)
{
	const struct hq_field *f = k->field;
	if (!f || k->parent->pseudo || f->layer != k->parent || f->src != HQ_FS_FIXED)
		return NULL;
	if (f->type != HQ_T_UINT && f->type != HQ_T_BOOL)
		return NULL;
	return f;
}

#define CG_MAX_SELECT 8

/* the storable selectors of parent l that two or more needed layers test
 * (for one, the cells would cost more than they save), or that an early
 * exit check after l tests too (cg_exit.c) */
static int cg_select_list(struct cg *cg, const struct hq_layer *l,
                          const struct hq_field *out[CG_MAX_SELECT])
{
	const struct hq_field *f[CG_MAX_SELECT];
	int uses[CG_MAX_SELECT], n = 0, m = 0;
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *u = cg->proto->layers[i];
		for (int k = 0; cg->layers[u->index].needed && k < u->n_links; k++) {
			const struct hq_field *s = cg_select_of(&u->links[k]);
			if (!s || u->links[k].parent != l)
				continue;
			int j = 0;
			while (j < n && f[j] != s)
				j++;
			if (j == n && n == CG_MAX_SELECT)
				continue;
			if (j == n) {
				f[n] = s;
				uses[n++] = 0;
			}
			uses[j]++;
		}
	}
	for (int j = 0; j < n; j++)
		if (uses[j] > 1 || cg->layers[l->index].exit_reads)
			out[m++] = f[j];
	return m;
}

void cg_select_declare(struct cg *cg, const struct hq_layer *l)
{
	const struct hq_field *f[CG_MAX_SELECT];
	int n = cg_select_list(cg, l, f);
	for (int i = 0; i < n; i++)
		if (!cg_var(cg, l, f[i]->full))
			cg_var_new(cg, l, f[i]->full, 0);
}

void cg_select_store(struct cg *cg, const struct hq_layer *l)
{
	const struct hq_field *f[CG_MAX_SELECT];
	int n = cg_select_list(cg, l, f);
	for (int i = 0; i < n; i++) {
		struct cg_slotvar *sv = cg_var(cg, l, f[i]->full);
		if (!sv)
			continue;
		struct cg_val v = cg_field(cg, f[i]);
		cg_var_set(cg, sv, v.present, v.a);
	}
}

bool cg_select_cheap(const struct hq_link *k)
{
	return cg_select_of(k) || (k->field && k->field->src == HQ_FS_WALKER);
}

void cg_select_branch(struct cg *cg, struct cg_val v, const uint64_t *values, int n,
                      LLVMBasicBlockRef hit, LLVMBasicBlockRef miss)
{
	LLVMBasicBlockRef test = cg_block(cg, "select");
	LLVMBuildCondBr(cg->b, v.present, test, miss);
	LLVMPositionBuilderAtEnd(cg->b, test);
	LLVMValueRef sw = LLVMBuildSwitch(cg->b, v.a, miss, (unsigned)n);
	for (int i = 0; i < n; i++) {
		int j = 0;
		while (j < i && values[j] != values[i])
			j++;
		if (j == i) /* a switch takes each value once */
			LLVMAddCase(sw, cg_const64(cg, values[i]), hit);
	}
}

struct cg_val cg_select_field(struct cg *cg, const struct hq_link *k)
{
	const struct hq_field *f = cg_select_of(k);
	struct cg_slotvar *sv = f ? cg_var(cg, f->layer, f->full) : NULL;
	if (!sv)
		return cg_field(cg, k->field);
	struct cg_val v = {.type = f->type};
	v.present = cg_flag(cg, sv->present);
	v.a = cg_vload_at(cg, sv->val);
	return v;
}
