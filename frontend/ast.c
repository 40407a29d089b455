/* ast.c — the syntax tree: constructors, deep copy, free, and the
 * deterministic S-expression dump that the frontend tests compare against.
 *
 * Dump format (one line per `let` and per query):
 *   (let NAME EXPR)
 *   (query [NAME] [(on IF… [ingress|egress])] LAYER [(where E)] [(log E…)]
 *          [(group (keys E…) (aggs A…) [(having E)])] [(every D)] [(top N)]
 *          [(limit N)] [(rate N)])
 * Expressions: literals in their text form, names as written (or their full
 * field name once resolved), `(OP a b)`, `(not a)`, `(in a s)`,
 * `(not-in a s)`, `(set …)`, `(range a b)`, `(agg args…)`; a having call
 * bound to an aggregate prints `@INDEX`, a hidden aggregate `(hidden …)`.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

void *ast_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p) {
		fprintf(stderr, "hdrq: out of memory\n");
		abort();
	}
	return p;
}

char *ast_strdup(const char *s)
{
	size_t n;
	char *p;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	p = ast_alloc(n);
	memcpy(p, s, n);
	return p;
}

/* --- constructors ------------------------------------------------------ */

struct hq_expr *ast_expr_new(enum hq_expr_kind kind, struct hq_span span)
{
	struct hq_expr *e = ast_alloc(sizeof(*e));

	e->kind = kind;
	e->span = span;
	e->agg_index = -1;
	return e;
}

static struct hq_span ast_span_join(struct hq_span a, struct hq_span b)
{
	struct hq_span s = a;

	if (!a.line)
		return b;
	if (!b.line)
		return a;
	if (b.line < a.line || (b.line == a.line && b.col < a.col)) {
		s.line = b.line;
		s.col = b.col;
	}
	if (b.end_line > a.end_line || (b.end_line == a.end_line && b.end_col > a.end_col)) {
		s.end_line = b.end_line;
		s.end_col = b.end_col;
	}
	return s;
}

struct hq_expr *ast_binary(enum hq_op op, struct hq_expr *l, struct hq_expr *r)
{
	enum hq_expr_kind kind = HQ_EX_BINARY;
	struct hq_expr *e;

	if (op == HQ_OP_IN || op == HQ_OP_NOT_IN)
		kind = HQ_EX_IN;
	e = ast_expr_new(kind, ast_span_join(l->span, r->span));
	e->op = op;
	e->lhs = l;
	e->rhs = r;
	return e;
}

struct hq_expr *ast_unary(enum hq_op op, struct hq_expr *x, struct hq_span span)
{
	struct hq_expr *e = ast_expr_new(HQ_EX_UNARY, ast_span_join(span, x->span));

	e->op = op;
	e->lhs = x;
	return e;
}

void ast_list_push(struct hq_expr_list *l, struct hq_expr *e)
{
	struct hq_expr **items = realloc(l->items, (size_t)(l->n + 1) * sizeof(*items));

	if (!items) {
		fprintf(stderr, "hdrq: out of memory\n");
		abort();
	}
	l->items = items;
	l->items[l->n++] = e;
}

struct hq_query *ast_query_new(void)
{
	return ast_alloc(sizeof(struct hq_query));
}

static void *ast_grow(void *arr, int n, size_t elem)
{
	void *p = realloc(arr, (size_t)(n + 1) * elem);

	if (!p) {
		fprintf(stderr, "hdrq: out of memory\n");
		abort();
	}
	return p;
}

void ast_script_add_query(struct hq_script *s, struct hq_query *q)
{
	s->queries = ast_grow(s->queries, s->n_queries, sizeof(*s->queries));
	s->queries[s->n_queries++] = q;
}

void ast_script_add_let(struct hq_script *s, struct hq_let *let)
{
	s->lets = ast_grow(s->lets, s->n_lets, sizeof(*s->lets));
	s->lets[s->n_lets++] = let;
}

/* --- copy and free ------------------------------------------------------ */

static void ast_list_copy(struct hq_expr_list *dst, const struct hq_expr_list *src)
{
	dst->items = NULL;
	dst->n = 0;
	for (int i = 0; i < src->n; i++)
		ast_list_push(dst, ast_expr_copy(src->items[i]));
}

struct hq_expr *ast_expr_copy(const struct hq_expr *e)
{
	struct hq_expr *c;

	if (!e)
		return NULL;
	c = ast_alloc(sizeof(*c));
	*c = *e;
	c->lhs = ast_expr_copy(e->lhs);
	c->rhs = ast_expr_copy(e->rhs);
	ast_list_copy(&c->items, &e->items);
	if (e->kind == HQ_EX_STR)
		c->u.str = ast_strdup(e->u.str);
	c->name = ast_strdup(e->name);
	return c;
}

static void ast_list_free(struct hq_expr_list *l)
{
	for (int i = 0; i < l->n; i++)
		ast_expr_free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void ast_expr_free(struct hq_expr *e)
{
	if (!e)
		return;
	ast_expr_free(e->lhs);
	ast_expr_free(e->rhs);
	ast_list_free(&e->items);
	if (e->kind == HQ_EX_STR)
		free(e->u.str);
	free(e->name);
	free(e);
}

void ast_query_free(struct hq_query *q)
{
	if (!q)
		return;
	free(q->name);
	for (int i = 0; i < q->n_ifaces; i++)
		free(q->ifaces[i]);
	free(q->ifaces);
	free(q->layer_name);
	ast_expr_free(q->where);
	ast_list_free(&q->log);
	ast_list_free(&q->keys);
	ast_list_free(&q->aggs);
	ast_expr_free(q->having);
	free(q);
}

void ast_let_free(struct hq_let *let)
{
	if (!let)
		return;
	free(let->name);
	ast_expr_free(let->value);
	free(let);
}

void ast_script_free(struct hq_script *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n_lets; i++)
		ast_let_free(s->lets[i]);
	free(s->lets);
	for (int i = 0; i < s->n_queries; i++)
		ast_query_free(s->queries[i]);
	free(s->queries);
	free(s);
}

/* --- names ---------------------------------------------------------------- */

const char *ast_op_str(enum hq_op op)
{
	static const char *const names[] = {
	    [HQ_OP_NONE] = "?",
	    [HQ_OP_EQ] = "==",
	    [HQ_OP_NE] = "!=",
	    [HQ_OP_LT] = "<",
	    [HQ_OP_LE] = "<=",
	    [HQ_OP_GT] = ">",
	    [HQ_OP_GE] = ">=",
	    [HQ_OP_AND] = "and",
	    [HQ_OP_OR] = "or",
	    [HQ_OP_NOT] = "not",
	    [HQ_OP_BAND] = "&",
	    [HQ_OP_BOR] = "|",
	    [HQ_OP_CONTAINS] = "contains",
	    [HQ_OP_STARTSWITH] = "startswith",
	    [HQ_OP_IN] = "in",
	    [HQ_OP_NOT_IN] = "not in",
	};

	if ((unsigned)op >= sizeof(names) / sizeof(names[0]) || !names[op])
		return "?";
	return names[op];
}

const char *ast_agg_name(enum hq_agg_kind k)
{
	static const char *const names[] = {
	    [HQ_AGG_NONE] = "?",    [HQ_AGG_COUNT] = "count", [HQ_AGG_SUM] = "sum",
	    [HQ_AGG_AVG] = "avg",   [HQ_AGG_MIN] = "min",     [HQ_AGG_MAX] = "max",
	    [HQ_AGG_HIST] = "hist", [HQ_AGG_LHIST] = "lhist", [HQ_AGG_DISTINCT] = "distinct",
	};

	if ((unsigned)k >= sizeof(names) / sizeof(names[0]) || !names[k])
		return "?";
	return names[k];
}

/* --- dump ------------------------------------------------------------------- */

struct ast_buf {
	char *s;
	size_t len, cap;
};

static void ast_buf_printf(struct ast_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ast_buf_printf(struct ast_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		char *s;

		while (b->len + (size_t)n + 1 > cap)
			cap *= 2;
		s = realloc(b->s, cap);
		if (!s) {
			fprintf(stderr, "hdrq: out of memory\n");
			abort();
		}
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void ast_dump_str(struct ast_buf *b, const char *s)
{
	ast_buf_printf(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			ast_buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			ast_buf_printf(b, "\\n");
		else if (*p == '\t')
			ast_buf_printf(b, "\\t");
		else if (*p < 0x20 || *p >= 0x7f)
			ast_buf_printf(b, "\\x%02x", *p);
		else
			ast_buf_printf(b, "%c", *p);
	}
	ast_buf_printf(b, "\"");
}

static void ast_dump_addr(struct ast_buf *b, const struct hq_expr *e)
{
	char text[INET6_ADDRSTRLEN];
	const uint8_t *a = e->u.addr;

	switch (e->kind) {
	case HQ_EX_IP4:
	case HQ_EX_CIDR4:
		ast_buf_printf(b, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		break;
	case HQ_EX_IP6:
	case HQ_EX_CIDR6:
		inet_ntop(AF_INET6, a, text, sizeof(text));
		ast_buf_printf(b, "%s", text);
		break;
	default: /* MAC */
		ast_buf_printf(b, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4],
		               a[5]);
		break;
	}
	if (e->kind == HQ_EX_CIDR4 || e->kind == HQ_EX_CIDR6)
		ast_buf_printf(b, "/%d", e->u.prefix);
}

static void ast_dump_e(struct ast_buf *b, const struct hq_expr *e);

static void ast_dump_list(struct ast_buf *b, const struct hq_expr_list *l)
{
	for (int i = 0; i < l->n; i++) {
		ast_buf_printf(b, " ");
		ast_dump_e(b, l->items[i]);
	}
}

static void ast_dump_name(struct ast_buf *b, const struct hq_expr *e)
{
	switch (e->ref) {
	case HQ_REF_FIELD:
		ast_buf_printf(b, "%s", e->field->full);
		break;
	case HQ_REF_LAYER:
		ast_buf_printf(b, "(layer %s)", e->layer ? e->layer->name : e->name);
		break;
	case HQ_REF_DERIVED:
		ast_buf_printf(b, "(derived %s)", e->derived ? e->derived : e->name);
		break;
	case HQ_REF_CONST:
		ast_buf_printf(b, "%" PRIu64, e->u.num);
		break;
	default:
		ast_buf_printf(b, "%s", e->name);
		break;
	}
}

static void ast_dump_call(struct ast_buf *b, const struct hq_expr *e)
{
	const char *name = e->agg != HQ_AGG_NONE ? ast_agg_name(e->agg) : e->name;

	if (e->hidden)
		ast_buf_printf(b, "(hidden ");
	ast_buf_printf(b, "(%s", name);
	ast_dump_list(b, &e->items);
	ast_buf_printf(b, ")");
	if (e->hidden)
		ast_buf_printf(b, ")");
	else if (e->agg_index >= 0)
		ast_buf_printf(b, "@%d", e->agg_index);
}

static void ast_dump_e(struct ast_buf *b, const struct hq_expr *e)
{
	switch (e->kind) {
	case HQ_EX_INT:
		ast_buf_printf(b, "%" PRIu64, e->u.num);
		break;
	case HQ_EX_IP4:
	case HQ_EX_IP6:
	case HQ_EX_CIDR4:
	case HQ_EX_CIDR6:
	case HQ_EX_MAC:
		ast_dump_addr(b, e);
		break;
	case HQ_EX_STR:
		ast_dump_str(b, e->u.str);
		break;
	case HQ_EX_NAME:
		ast_dump_name(b, e);
		break;
	case HQ_EX_UNARY:
		ast_buf_printf(b, "(%s ", ast_op_str(e->op));
		ast_dump_e(b, e->lhs);
		ast_buf_printf(b, ")");
		break;
	case HQ_EX_BINARY:
	case HQ_EX_IN:
	case HQ_EX_RANGE:
		if (e->kind == HQ_EX_RANGE)
			ast_buf_printf(b, "(range ");
		else
			ast_buf_printf(b, "(%s ",
			               e->op == HQ_OP_NOT_IN ? "not-in" : ast_op_str(e->op));
		ast_dump_e(b, e->lhs);
		ast_buf_printf(b, " ");
		ast_dump_e(b, e->rhs);
		ast_buf_printf(b, ")");
		break;
	case HQ_EX_SET:
		ast_buf_printf(b, "(set");
		ast_dump_list(b, &e->items);
		ast_buf_printf(b, ")");
		break;
	case HQ_EX_CALL:
		ast_dump_call(b, e);
		break;
	case HQ_EX_STAR:
		ast_buf_printf(b, "*");
		break;
	}
}

char *ast_dump_expr(const struct hq_expr *e)
{
	struct ast_buf b = {0};

	if (e)
		ast_dump_e(&b, e);
	else
		ast_buf_printf(&b, "()");
	return b.s;
}

static void ast_dump_duration(struct ast_buf *b, uint64_t ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {
	    {"h", 3600000000000ull}, {"m", 60000000000ull}, {"s", 1000000000ull},
	    {"ms", 1000000ull},      {"us", 1000ull},       {"ns", 1ull},
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns % units[i].ns == 0) {
			ast_buf_printf(b, "%" PRIu64 "%s", ns / units[i].ns, units[i].unit);
			return;
		}
	}
}

static void ast_dump_on(struct ast_buf *b, const struct hq_query *q)
{
	if (!q->n_ifaces && !q->has_dir)
		return;
	ast_buf_printf(b, " (on");
	for (int i = 0; i < q->n_ifaces; i++)
		ast_buf_printf(b, " %s", q->ifaces[i]);
	if (q->has_dir)
		ast_buf_printf(b, " %s", q->dir == HQ_DIR_EGRESS ? "egress" : "ingress");
	ast_buf_printf(b, ")");
}

static void ast_dump_action(struct ast_buf *b, const struct hq_query *q)
{
	if (q->action == HQ_ACT_LOG) {
		ast_buf_printf(b, " (log");
		ast_dump_list(b, &q->log);
		ast_buf_printf(b, ")");
	} else if (q->action == HQ_ACT_GROUP) {
		ast_buf_printf(b, " (group (keys");
		ast_dump_list(b, &q->keys);
		ast_buf_printf(b, ") (aggs");
		ast_dump_list(b, &q->aggs);
		ast_buf_printf(b, ")");
		if (q->having) {
			ast_buf_printf(b, " (having ");
			ast_dump_e(b, q->having);
			ast_buf_printf(b, ")");
		}
		ast_buf_printf(b, ")");
	}
}

static void ast_dump_query(struct ast_buf *b, const struct hq_query *q)
{
	ast_buf_printf(b, "(query");
	if (q->name)
		ast_buf_printf(b, " %s", q->name);
	ast_dump_on(b, q);
	ast_buf_printf(b, " %s", q->layer_name ? q->layer_name : "?");
	if (q->where) {
		ast_buf_printf(b, " (where ");
		ast_dump_e(b, q->where);
		ast_buf_printf(b, ")");
	}
	ast_dump_action(b, q);
	if (q->every_ns) {
		ast_buf_printf(b, " (every ");
		ast_dump_duration(b, q->every_ns);
		ast_buf_printf(b, ")");
	}
	if (q->top)
		ast_buf_printf(b, " (top %" PRIu64 ")", q->top);
	if (q->limit)
		ast_buf_printf(b, " (limit %" PRIu64 ")", q->limit);
	if (q->rate)
		ast_buf_printf(b, " (rate %" PRIu64 ")", q->rate);
	ast_buf_printf(b, ")");
}

char *ast_dump_script(const struct hq_script *s)
{
	struct ast_buf b = {0};

	ast_buf_printf(&b, "%s", "");
	for (int i = 0; i < s->n_lets; i++) {
		ast_buf_printf(&b, "%s(let %s ", b.len ? "\n" : "", s->lets[i]->name);
		ast_dump_e(&b, s->lets[i]->value);
		ast_buf_printf(&b, ")");
	}
	for (int i = 0; i < s->n_queries; i++) {
		if (b.len)
			ast_buf_printf(&b, "\n");
		ast_dump_query(&b, s->queries[i]);
	}
	return b.s;
}
