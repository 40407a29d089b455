/* cg_exit.c — the early exit: the points of the header walk after which
 * no query of this hook can match any more, and the test placed there.
 *
 * A query matches only packets that carry its LAYER (a query on `any`
 * may match every packet: then there is no exit). A layer not yet walked
 * can still become present only through a link from a parent that lets
 * children through (kids_ok) or that may itself still become present. At a
 * check point the test is: is some query's layer present, or still
 * reachable that way? If not, the program returns at once (cg->exit_bb),
 * skipping the rest of the walk and every query. hq_stats' packet count is
 * taken in the prologue, before this.
 *
 * Layers whose parse keeps state beyond the packet (the retransmit
 * walker's flow table) count as wanted too while they are still ahead, so
 * that they see every packet they saw before.
 *
 * A check costs a few cell loads and a branch on every packet that passes
 * it, so there are few: after a layer where the set of walked layers that
 * can still lead to a wanted one (the frontier) is new (shares no layer
 * with the last check's) and selective (no root whose children are not
 * told apart by a selector cell: a root lets children through in nearly
 * every frame), and only while a layer with a header is still ahead (after
 * the last one, each query's own test of its layer costs no more). No
 * check comes before the root, which every frame carries.
 */
#include <stdlib.h>

#include "cg.h"

/* Does parsing l change state that outlives the packet? Its walker says. */
static bool cg_exit_lasting(struct cg *cg, const struct hq_layer *l)
{
	const struct cg_walker *w = cg_walker_find(l->walker);
	return w && w->lasting && w->lasting(cg, l);
}

/* Mark the layers the queries of this hook need present (want) and those
 * with lasting effects (lasting); false if some query has no layer. */
static bool cg_exit_targets(struct cg *cg)
{
	for (int i = 0; i < cg->proto->n_layers; i++) {
		struct cg_layer *st = &cg->layers[cg->proto->layers[i]->index];
		st->want = false;
		st->lasting = st->needed && cg_exit_lasting(cg, cg->proto->layers[i]);
	}
	for (int i = 0; i < cg->plan->n_qplans; i++) {
		const struct hq_qplan *qp = &cg->plan->qplans[i];
		if (!cg_query_in_hook(cg, qp))
			continue;
		if (!qp->q->layer)
			return false;
		cg->layers[qp->q->layer->index].want = true;
	}
	return true;
}

/* leads: the layer is wanted, or some needed child of it leads (children
 * come later in the registry's order, so walk it backwards) */
static void cg_exit_leads(struct cg *cg)
{
	for (int i = cg->proto->n_layers - 1; i >= 0; i--) {
		const struct hq_layer *l = cg->proto->layers[i];
		struct cg_layer *st = &cg->layers[l->index];
		st->leads = st->needed && (st->want || st->lasting);
	}
	for (int i = cg->proto->n_layers - 1; i >= 0; i--) {
		const struct hq_layer *l = cg->proto->layers[i];
		if (!cg->layers[l->index].leads)
			continue;
		for (int k = 0; k < l->n_links; k++)
			cg->layers[l->links[k].parent->index].leads = true;
	}
}

/* is u a needed layer walked after `at` that leads to a wanted one? */
static bool cg_exit_ahead(struct cg *cg, const struct hq_layer *u, int at)
{
	return u->index > at && cg->layers[u->index].needed && cg->layers[u->index].leads;
}

#define CG_EXIT_MAX_LINKS 32

/* the links from walked layer p (index <= at) to layers ahead that lead
 * (at most CG_EXIT_MAX_LINKS; returns how many there are) */
static int cg_exit_links_of(struct cg *cg, const struct hq_layer *p, int at,
                            const struct hq_link *out[CG_EXIT_MAX_LINKS])
{
	int n = 0;
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *u = cg->proto->layers[i];
		for (int k = 0; cg_exit_ahead(cg, u, at) && k < u->n_links; k++)
			if (u->links[k].parent == p) {
				if (n < CG_EXIT_MAX_LINKS)
					out[n] = &u->links[k];
				n++;
			}
	}
	return n;
}

/* do all n links test a selector that is cheap to read (cg_select.c)? */
static bool cg_exit_picky(const struct hq_link *const *k, int n)
{
	if (n > CG_EXIT_MAX_LINKS)
		return false;
	for (int i = 0; i < n; i++)
		if (!cg_select_cheap(k[i]))
			return false;
	return true;
}

/* Is walked layer p in the frontier after `at`: wanted itself, or a parent
 * of a layer ahead that leads? And is it selective there: not the root, or
 * a root not wanted whose links ahead all test a selector cell? */
static bool cg_exit_front(struct cg *cg, const struct hq_layer *p, int at, bool *selective)
{
	const struct cg_layer *ps = &cg->layers[p->index];
	const struct hq_link *k[CG_EXIT_MAX_LINKS];
	int n = cg_exit_links_of(cg, p, at, k);
	*selective = !p->root || (!ps->want && cg_exit_picky(k, n));
	return ps->needed && (ps->want || n > 0);
}

/* Choose the check points of this hook (cg_layer.exit_after). */
static void cg_exit_plan(struct cg *cg)
{
	int n = cg->proto->n_layers;
	for (int i = 0; i < n; i++) {
		cg->layers[cg->proto->layers[i]->index].exit_after = false;
		cg->layers[cg->proto->layers[i]->index].exit_reads = false;
	}
	if (!cg_exit_targets(cg))
		return;
	cg_exit_leads(cg);
	bool *last = calloc((size_t)n + 1, sizeof(*last)), *front = calloc((size_t)n + 1, 1);
	if (!last || !front)
		abort();
	for (int at = 0; at < n; at++) {
		bool header_ahead = false, root_ahead = false, ok = true, fresh = true, any = false;
		for (int i = at + 1; i < n; i++) {
			const struct hq_layer *u = cg->proto->layers[i];
			header_ahead = header_ahead || (cg->layers[u->index].needed && !u->pseudo);
			root_ahead = root_ahead || (u->root && cg_exit_ahead(cg, u, at));
		}
		if (!cg->layers[cg->proto->layers[at]->index].needed || !header_ahead || root_ahead)
			continue;
		for (int i = 0; i <= at; i++) {
			const struct hq_layer *p = cg->proto->layers[i];
			bool sel = true;
			front[i] = cg_exit_front(cg, p, at, &sel);
			ok = ok && (!front[i] || sel);
			fresh = fresh && !(front[i] && last[i]);
			any = any || front[i];
		}
		if (!ok || !fresh || !any)
			continue;
		cg->layers[cg->proto->layers[at]->index].exit_after = true;
		for (int i = 0; i < n; i++) {
			last[i] = i <= at && front[i];
			cg->layers[cg->proto->layers[i]->index].exit_reads |= last[i];
		}
	}
	free(last);
	free(front);
}

#define CG_EXIT_MAX_VALUES 64

/* goto on (the packet goes on); what follows is unreachable */
static void cg_exit_go(struct cg *cg, LLVMBasicBlockRef on)
{
	LLVMBuildBr(cg->b, on);
	LLVMPositionBuilderAtEnd(cg->b, cg_block(cg, "exit_dead"));
}

/* goto on if the cell of k[0]'s selector field holds a value that k[0] or
 * a later link testing the same field takes */
static void cg_exit_field(struct cg *cg, const struct hq_link *const *k, int n,
                          LLVMBasicBlockRef on)
{
	uint64_t values[CG_EXIT_MAX_VALUES];
	int n_values = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; k[i]->field == k[0]->field && j < k[i]->n_values; j++) {
			if (n_values == CG_EXIT_MAX_VALUES) { /* too many to list */
				cg_exit_go(cg, on);
				return;
			}
			values[n_values++] = k[i]->values[j];
		}
	LLVMBasicBlockRef next = cg_block(cg, "exit_nosel");
	cg_select_branch(cg, cg_select_field(cg, k[0]), values, n_values, on, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}

/* With p's gate set (cg_exit_gate): goto on if some link from p to a layer
 * ahead that leads may take its layer: one switch a selector field. */
static void cg_exit_links(struct cg *cg, const struct hq_layer *p, int at, LLVMBasicBlockRef on)
{
	const struct hq_link *k[CG_EXIT_MAX_LINKS];
	int n = cg_exit_links_of(cg, p, at, k);
	if (!cg_exit_picky(k, n)) {
		cg_exit_go(cg, on);
		return;
	}
	for (int i = 0; i < n; i++) {
		int j = 0;
		while (j < i && k[j]->field != k[i]->field)
			j++;
		if (j == i)
			cg_exit_field(cg, k + i, n - i, on);
	}
}

/* The flag of walked layer p that lets its links ahead take their layers
 * (cg_link_gate): ok if a pseudo layer is among them, which follows p
 * wherever p is, else kids_ok. */
static unsigned cg_exit_gate(struct cg *cg, const struct hq_layer *p, int at)
{
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *u = cg->proto->layers[i];
		for (int k = 0; u->pseudo && cg_exit_ahead(cg, u, at) && k < u->n_links; k++)
			if (u->links[k].parent == p)
				return cg_link_gate(cg, u, &u->links[k]);
	}
	return cg->layers[p->index].kids_ok;
}

/* if (cond) goto on; else go on testing */
static void cg_exit_goto_if(struct cg *cg, LLVMValueRef cond, LLVMBasicBlockRef on)
{
	LLVMBasicBlockRef next = cg_block(cg, "exit_test");
	LLVMBuildCondBr(cg->b, cond, on, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}

/* After layer `at`: leave unless a wanted layer is present, or a walked
 * layer lets children through to one ahead that leads to a wanted one. */
static void cg_exit_check(struct cg *cg, const struct hq_layer *at)
{
	LLVMBasicBlockRef on = cg_block(cg, "walk_on");
	for (int i = 0; i < cg->proto->n_layers; i++) {
		const struct hq_layer *p = cg->proto->layers[i];
		const struct cg_layer *ps = &cg->layers[p->index];
		const struct hq_link *k[CG_EXIT_MAX_LINKS];
		if (!ps->needed || p->index > at->index)
			continue;
		if (ps->want)
			cg_exit_goto_if(cg, cg_flag(cg, ps->ok), on);
		if (!cg_exit_links_of(cg, p, at->index, k))
			continue;
		LLVMBasicBlockRef links = cg_block(cg, "exit_links"),
		                  next = cg_block(cg, "exit_next");
		LLVMBuildCondBr(cg->b, cg_flag(cg, cg_exit_gate(cg, p, at->index)), links, next);
		LLVMPositionBuilderAtEnd(cg->b, links);
		cg_exit_links(cg, p, at->index, on);
		LLVMBuildBr(cg->b, next);
		LLVMPositionBuilderAtEnd(cg->b, next);
	}
	LLVMBuildBr(cg->b, cg->exit_bb);
	LLVMPositionBuilderAtEnd(cg->b, on);
}

void cg_exit_begin(struct cg *cg)
{
	cg_exit_plan(cg);
	cg_exit_where_plan(cg);
}

void cg_exit_after(struct cg *cg, const struct hq_layer *l)
{
	if (cg->layers[l->index].exit_after)
		cg_exit_check(cg, l);
	cg_exit_where(cg, l);
}
