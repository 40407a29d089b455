/* sema.c — semantic analysis entry point (sema_check): the LAYER of each
 * query, `let` definitions, query names, which clauses go together, and the
 * order in which the other sema_*.c passes annotate a query.
 *
 * Clause rules: `top N` ranks groups, so it needs group by; `limit N` and
 * `rate N/s` bound log records, so they need log; `every` prints or resets
 * aggregates and counts per interval, so it does not apply to log; select
 * and having need group by.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "sema_int.h"

int sema_err(struct sema *S, struct hq_span at, const char *fmt, ...)
{
	char msg[HQ_DIAG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return diag_error(S->d, S->src, at, "%s", msg);
}

static int sema_layer(struct sema *S, struct hq_query *q)
{
	const char **names;
	const char *sug;

	if (!strcmp(q->layer_name, "any")) {
		q->layer = NULL;
		return 0;
	}
	q->layer = proto_layer(S->p, q->layer_name);
	if (q->layer)
		return 0;
	names = ast_alloc((size_t)(S->p->n_layers + 1) * sizeof(*names));
	for (int i = 0; i < S->p->n_layers; i++)
		names[i] = S->p->layers[i]->name;
	names[S->p->n_layers] = "any";
	sug = diag_suggest(q->layer_name, names, S->p->n_layers + 1);
	if (sug)
		sema_err(S, q->layer_span, "unknown layer %s; did you mean %s?", q->layer_name,
		         sug);
	else if (proto_field(S->p, q->layer_name))
		sema_err(S, q->layer_span,
		         "a query starts with a layer (eth, ip, tcp, …), and %s is a field",
		         q->layer_name);
	else
		sema_err(S, q->layer_span,
		         "unknown layer %s (a query starts with a layer: eth, ip, "
		         "tcp, …, or any)",
		         q->layer_name);
	free(names);
	return -1;
}

/* Which clauses make sense together. */
static int sema_clauses(struct sema *S, struct hq_query *q)
{
	int rc = 0;

	if (q->top && q->action != HQ_ACT_GROUP)
		rc |= sema_err(S, q->top_span, "top needs group by: it keeps the largest groups");
	if (q->limit && q->action != HQ_ACT_LOG)
		rc |= sema_err(S, q->limit_span,
		               "limit needs log: it stops after N records (to keep the largest "
		               "groups, use top)");
	if (q->rate && q->action != HQ_ACT_LOG)
		rc |= sema_err(S, q->rate_span, "rate needs log: it limits log records per second");
	if (q->every_ns && q->action == HQ_ACT_LOG)
		rc |= sema_err(S, q->every_span,
		               "every does not apply to log: records are printed as they come");
	if (q->action != HQ_ACT_GROUP && q->aggs.n)
		rc |= sema_err(S, q->aggs.items[0]->span, "select needs group by");
	if (q->action != HQ_ACT_GROUP && q->having)
		rc |= sema_err(S, q->having->span, "having needs group by … select");
	return rc ? -1 : 0;
}

static int sema_query(struct sema *S, struct hq_query *q)
{
	int rc;

	S->q = q;
	S->n_expanded = 0;
	rc = sema_layer(S, q);
	S->layer = q->layer;
	if (rc)
		return -1; /* names cannot be resolved without the layer */
	if (sema_clauses(S, q))
		return -1;
	if (q->where)
		rc |= sema_pred(S, &q->where, SC_WHERE);
	if (q->action == HQ_ACT_LOG)
		rc |= sema_expand_flow(S, &S->q->log) | sema_log(S);
	if (q->action == HQ_ACT_GROUP) {
		rc |= sema_expand_flow(S, &S->q->keys) | sema_keys(S);
		rc |= sema_select(S);
		if (!rc)
			rc |= sema_having(S);
	}
	return rc ? -1 : 0;
}

static bool sema_plain_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int sema_lets(struct sema *S)
{
	int rc = 0;

	for (int i = 0; i < S->script->n_lets; i++) {
		const struct hq_let *l = S->script->lets[i];
		const struct hq_let *prev = sema_let_find(S, l->name, l->span);

		if (!sema_plain_name(l->name))
			rc |=
			    sema_err(S, l->span, "a let name is a plain name (letters, digits, _)");
		else if (prev)
			rc |= sema_err(S, l->span, "%s is already defined by the let on line %d",
			               l->name, prev->span.line);
		else if (proto_layer(S->p, l->name))
			rc |= sema_err(S, l->span, "let %s would hide the layer %s", l->name,
			               l->name);
	}
	return rc ? -1 : 0;
}

/* `as NAME`, or "q1", "q2", … by position; names are unique. */
static int sema_query_names(struct sema *S)
{
	struct hq_script *s = S->script;
	int rc = 0;

	for (int i = 0; i < s->n_queries; i++) {
		struct hq_query *q = s->queries[i];
		char gen[24];

		q->index = i;
		if (q->name && !sema_plain_name(q->name))
			rc |= sema_err(S, q->span,
			               "a query name is a plain name (letters, digits, _): %s",
			               q->name);
		if (!q->name) {
			snprintf(gen, sizeof(gen), "q%d", i + 1);
			q->name = ast_strdup(gen);
		}
	}
	for (int i = 0; i < s->n_queries; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(s->queries[i]->name, s->queries[j]->name))
				rc |= sema_err(
				    S, s->queries[i]->span,
				    "two queries are named %s (queries %d and %d); name them "
				    "apart with as NAME",
				    s->queries[i]->name, j + 1, i + 1);
	return rc ? -1 : 0;
}

int sema_check(struct hq_script *s, const struct hq_proto *p, struct hq_diag *d)
{
	struct sema S = {
	    .p = p,
	    .d = d,
	    .src = s->src,
	    .script = s,
	    .inet = proto_layer(p, "inet"),
	};
	int rc = sema_lets(&S);

	rc |= sema_query_names(&S);
	for (int i = 0; i < s->n_queries; i++)
		rc |= sema_query(&S, s->queries[i]);
	return rc ? -1 : 0;
}
