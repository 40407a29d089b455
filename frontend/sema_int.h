/* sema_int.h — private to the semantic analysis (sema*.c): the checker's
 * state and the entry points its files share.
 *
 *   sema.c       sema_check: layers, clauses, query names, driving the rest
 *   sema_name.c  NAME resolution: lets, full/Wireshark names, bare-name
 *                tiers, layer predicates, derived fields, suggestions
 *   sema_expr.c  types of predicates, comparisons, `in`, sets and ranges
 *   sema_agg.c   aggregates: calls, select, having, group keys, log fields
 *   sema_const.c named constants (ip.proto == tcp), from stdlib/constants.tbl
 *   sema_flow.c  `flow` in log fields and group keys
 */
#ifndef HQ_SEMA_INT_H
#define HQ_SEMA_INT_H

#include "ast.h"
#include "diag.h"
#include "proto.h"

/* Where an expression sits; decides what may appear in it. */
enum sema_ctx {
	SC_WHERE,  /* where PREDICATE */
	SC_LOG,    /* log FIELDS */
	SC_KEY,    /* group by KEYS */
	SC_SELECT, /* select AGGS */
	SC_HAVING, /* having PREDICATE over aggregates */
	SC_ARG,    /* argument of an aggregate */
};

struct sema {
	const struct hq_proto *p;
	struct hq_diag *d;
	const struct hq_source *src;
	struct hq_script *script;
	struct hq_query *q;           /* the query being checked */
	const struct hq_layer *layer; /* its LAYER (NULL: any) */
	const struct hq_layer *inet;  /* the generic layer, if the registry has one */
	long n_expanded;              /* nodes copied in from lets, in this query */
};

/* sema_name.c */
int sema_name(struct sema *S, struct hq_expr **ep, enum sema_ctx ctx);
const struct hq_let *sema_let_find(const struct sema *S, const char *name, struct hq_span at);

/* sema_expr.c */
int sema_value(struct sema *S, struct hq_expr **ep, enum sema_ctx ctx);
int sema_pred(struct sema *S, struct hq_expr **ep, enum sema_ctx ctx);
bool sema_is_const(const struct hq_expr *e);
bool sema_is_fieldish(const struct hq_expr *e);
const char *sema_type_words(enum hq_type t);
void sema_text(const struct sema *S, const struct hq_expr *e, char *buf, size_t size);

/* sema_agg.c */
int sema_call(struct sema *S, struct hq_expr *e, enum sema_ctx ctx);
int sema_select(struct sema *S);
int sema_having(struct sema *S);
int sema_keys(struct sema *S);
int sema_log(struct sema *S);
bool sema_expr_equal(const struct hq_expr *a, const struct hq_expr *b);

/* sema_flow.c */
int sema_expand_flow(struct sema *S, struct hq_expr_list *l);

/* sema_const.c: named constants (stdlib/constants.tbl) */
int sema_const_pair(struct sema *S, struct hq_expr **a, struct hq_expr **b, enum sema_ctx ctx);
void sema_const_bind(struct sema *S, const struct hq_expr *field_side, struct hq_expr *other);
int sema_const_resolve(struct sema *S, struct hq_expr *e);
void sema_const_names(void (*add)(void *arg, const char *name), void *arg);

/* sema.c */
int sema_err(struct sema *S, struct hq_span at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
