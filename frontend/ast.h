/* ast.h — the abstract syntax tree of queries and scripts.
 *
 * The parser builds it with a span on every node; semantic analysis
 * (sema.c) then fills in the "resolved" members (types, fields, aggregate
 * kinds) in place, so later stages read one annotated tree.
 */
#ifndef HQ_AST_H
#define HQ_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "proto.h"

enum hq_expr_kind {
	HQ_EX_INT,    /* u.num */
	HQ_EX_IP4,    /* u.addr (4 bytes) */
	HQ_EX_IP6,    /* u.addr (16 bytes) */
	HQ_EX_CIDR4,  /* u.addr + u.prefix */
	HQ_EX_CIDR6,  /* u.addr + u.prefix */
	HQ_EX_MAC,    /* u.addr (6 bytes) */
	HQ_EX_STR,    /* u.str */
	HQ_EX_NAME,   /* u.name as written (dotted); resolved by sema */
	HQ_EX_UNARY,  /* op, lhs */
	HQ_EX_BINARY, /* op, lhs, rhs */
	HQ_EX_IN,     /* lhs in rhs (rhs: SET, RANGE, CIDR*); op NOT_IN for negation */
	HQ_EX_SET,    /* items */
	HQ_EX_RANGE,  /* lhs..rhs */
	HQ_EX_CALL,   /* u.name(items): aggregates */
	HQ_EX_STAR,   /* `*` in `log *` */
};

enum hq_op {
	HQ_OP_NONE,
	HQ_OP_EQ,
	HQ_OP_NE,
	HQ_OP_LT,
	HQ_OP_LE,
	HQ_OP_GT,
	HQ_OP_GE,
	HQ_OP_AND,
	HQ_OP_OR,
	HQ_OP_NOT,
	HQ_OP_BAND,
	HQ_OP_BOR,
	HQ_OP_CONTAINS,
	HQ_OP_STARTSWITH,
	HQ_OP_IN,
	HQ_OP_NOT_IN,
};

enum hq_agg_kind {
	HQ_AGG_NONE,
	HQ_AGG_COUNT,
	HQ_AGG_SUM,
	HQ_AGG_AVG,
	HQ_AGG_MIN,
	HQ_AGG_MAX,
	HQ_AGG_HIST,
	HQ_AGG_LHIST,
	HQ_AGG_DISTINCT,
};

/* What a resolved NAME refers to. */
enum hq_ref_kind {
	HQ_REF_NONE,
	HQ_REF_FIELD,   /* ref.field */
	HQ_REF_LAYER,   /* a bare layer name used as a predicate ("tcp"): true if present */
	HQ_REF_CONST,   /* a named constant; value in u.num, type UINT */
	HQ_REF_DERIVED, /* stdlib derived field (retransmit, flow): ref.derived */
};

struct hq_expr;

struct hq_expr_list {
	struct hq_expr **items;
	int n;
};

struct hq_expr {
	enum hq_expr_kind kind;
	struct hq_span span;
	enum hq_op op;
	struct hq_expr *lhs, *rhs;
	struct hq_expr_list items; /* SET members, CALL arguments */
	union {
		uint64_t num;
		struct {
			uint8_t addr[16];
			int prefix;
		};
		char *str; /* STR: unescaped bytes */
	} u;
	char *name; /* NAME and CALL: as written */

	/* --- resolved by sema --- */
	enum hq_type type;            /* value type (BOOL for predicates) */
	enum hq_ref_kind ref;         /* NAME */
	const struct hq_field *field; /* NAME referring to a field */
	const struct hq_layer *layer; /* NAME referring to a layer */
	const char *derived;          /* NAME referring to a derived field */
	enum hq_agg_kind agg;         /* CALL */
	int agg_index;                /* CALL inside `having`: index into query->aggs */
	bool hidden;                  /* CALL appended to aggs only because `having` uses it */
};

enum hq_action { HQ_ACT_COUNT, HQ_ACT_LOG, HQ_ACT_GROUP };

enum hq_dir { HQ_DIR_INGRESS = 0, HQ_DIR_EGRESS = 1 };

struct hq_query {
	struct hq_span span;
	const struct hq_source *src;
	char *name; /* `as NAME`, or a generated "q1", "q2" */
	int index;  /* 0-based position in the script */

	/* on IFACE[,IFACE] [ingress|egress] */
	char **ifaces;
	int n_ifaces;
	bool has_dir;
	enum hq_dir dir;
	struct hq_span on_span;

	char *layer_name;
	struct hq_span layer_span;
	const struct hq_layer *layer; /* resolved; NULL for `any` */

	struct hq_expr *where; /* may be NULL */

	enum hq_action action;
	struct hq_expr_list log;  /* LOG: fields; a single STAR item for `log *` */
	struct hq_expr_list keys; /* GROUP: group by keys */
	struct hq_expr_list aggs; /* GROUP: select aggregates (count() added if empty) */
	struct hq_expr *having;   /* may be NULL */

	uint64_t every_ns;
	struct hq_span every_span; /* 0: none */
	uint64_t top;
	struct hq_span top_span; /* 0: none */
	uint64_t limit;
	struct hq_span limit_span; /* 0: none */
	uint64_t rate;
	struct hq_span rate_span; /* records/s, 0: none */
};

struct hq_let {
	char *name;
	struct hq_expr *value;
	struct hq_span span; /* the name */
	struct hq_span def;  /* name to value: uses after it see the let */
};

struct hq_script {
	const struct hq_source *src;
	struct hq_let **lets;
	int n_lets;
	struct hq_query **queries;
	int n_queries;
};

/* constructors used by the parser */
struct hq_expr *ast_expr_new(enum hq_expr_kind kind, struct hq_span span);
struct hq_expr *ast_binary(enum hq_op op, struct hq_expr *l, struct hq_expr *r);
struct hq_expr *ast_unary(enum hq_op op, struct hq_expr *e, struct hq_span span);
void ast_list_push(struct hq_expr_list *l, struct hq_expr *e);
struct hq_query *ast_query_new(void);
void ast_script_add_query(struct hq_script *s, struct hq_query *q);
void ast_script_add_let(struct hq_script *s, struct hq_let *let);

void ast_expr_free(struct hq_expr *e);
void ast_query_free(struct hq_query *q);
void ast_let_free(struct hq_let *let);
void ast_script_free(struct hq_script *s);

/* Deep copy (spans and resolved members included). */
struct hq_expr *ast_expr_copy(const struct hq_expr *e);

/* Allocation helpers of the frontend: zeroed memory / copies; abort on
 * out-of-memory. */
void *ast_alloc(size_t n);
char *ast_strdup(const char *s);

/* Deterministic S-expression dump, used by tests and `--emit ast`:
 * (query q1 tcp (where tcp.flags.rst) (group (keys tcp.dst_port) (aggs (count))))
 * Resolved names print as their full field name; format in ast.c. */
char *ast_dump_script(const struct hq_script *s); /* malloc'd */
char *ast_dump_expr(const struct hq_expr *e);     /* malloc'd */

const char *ast_op_str(enum hq_op op);
const char *ast_agg_name(enum hq_agg_kind k);

#endif
