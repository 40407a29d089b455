/* sema_flow.c — `flow`, the 5-tuple, in log fields and group keys.
 *
 * `flow` is shorthand: it expands, where it stands in the list, into the
 * fields that make a flow — inet.src, src_port, inet.dst, dst_port,
 * inet.proto — with the ports resolved like any bare name against the
 * query's LAYER (tcp.src_port in a tcp query). A let, or a field named
 * `flow` of the query's own LAYER (ip6.flow in an ip6 query), takes
 * precedence.
 */
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

static const char *const sema_flow_parts[] = {"inet.src", "src_port", "inet.dst", "dst_port",
                                              "inet.proto"};
#define SEMA_FLOW_N (sizeof(sema_flow_parts) / sizeof(sema_flow_parts[0]))

static bool sema_is_flow(const struct sema *S, const struct hq_expr *e)
{
	return e->kind == HQ_EX_NAME && !strcmp(e->name, "flow") &&
	       !sema_let_find(S, e->name, e->span) && !proto_field(S->p, e->name) &&
	       !(S->layer && proto_layer_field(S->layer, e->name)); /* ip6: the flow label */
}

/* Replace every `flow` item of l by its five fields. */
int sema_expand_flow(struct sema *S, struct hq_expr_list *l)
{
	for (int i = 0; i < l->n; i++) {
		struct hq_expr *e = l->items[i];
		if (!sema_is_flow(S, e))
			continue;
		struct hq_expr **items = ast_alloc((l->n + SEMA_FLOW_N - 1) * sizeof(*items));
		memcpy(items, l->items, i * sizeof(*items));
		for (size_t k = 0; k < SEMA_FLOW_N; k++) {
			struct hq_expr *part = ast_expr_new(HQ_EX_NAME, e->span);
			part->name = ast_strdup(sema_flow_parts[k]);
			items[i + k] = part;
		}
		memcpy(items + i + SEMA_FLOW_N, l->items + i + 1, (l->n - i - 1) * sizeof(*items));
		ast_expr_free(e);
		free(l->items);
		l->items = items;
		l->n += SEMA_FLOW_N - 1;
		i += SEMA_FLOW_N - 1;
	}
	return 0;
}
