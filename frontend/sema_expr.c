/* sema_expr.c — types of expressions: predicates, comparisons, bit masks,
 * string operators, `in` with sets, ranges and prefixes.
 *
 * Rules: numbers (uint and bool fields, integer literals) compare with
 * numbers, a bool only with 0 or 1; an IPv4 field with IPv4 literals or
 * prefixes (through `in`), IPv6 likewise, a generic `inet` field with
 * either family; MACs with MACs; strings with strings through == != contains
 * startswith. Addresses, MACs and strings have no order. A literal that
 * cannot fit in the field it is compared with is an error: the comparison
 * could never (or always) hold, which is a bug in the query. A uint `&`
 * expression used as a condition means "is not zero" and is rewritten to
 * `(e & m) != 0` so later stages only see bool predicates.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

const char *sema_type_words(enum hq_type t)
{
	switch (t) {
	case HQ_T_UINT:
		return "a number";
	case HQ_T_BOOL:
		return "a bool";
	case HQ_T_IP4:
		return "an IPv4 address";
	case HQ_T_IP6:
		return "an IPv6 address";
	case HQ_T_INET:
		return "an IP address";
	case HQ_T_MAC:
		return "a MAC address";
	case HQ_T_STR:
		return "a string";
	default:
		return "no value";
	}
}

bool sema_is_const(const struct hq_expr *e)
{
	switch (e->kind) {
	case HQ_EX_INT:
	case HQ_EX_IP4:
	case HQ_EX_IP6:
	case HQ_EX_CIDR4:
	case HQ_EX_CIDR6:
	case HQ_EX_MAC:
	case HQ_EX_STR:
	case HQ_EX_SET:
	case HQ_EX_RANGE:
		return true;
	case HQ_EX_NAME:
		return e->ref == HQ_REF_CONST;
	default:
		return false;
	}
}

/* A field, or a field masked with & / | (what keys and aggregates take). */
bool sema_is_fieldish(const struct hq_expr *e)
{
	if (e->kind == HQ_EX_NAME)
		return e->ref == HQ_REF_FIELD || e->ref == HQ_REF_DERIVED;
	if (e->kind == HQ_EX_BINARY && (e->op == HQ_OP_BAND || e->op == HQ_OP_BOR))
		return (sema_is_fieldish(e->lhs) &&
		        (sema_is_fieldish(e->rhs) || sema_is_const(e->rhs))) ||
		       (sema_is_const(e->lhs) && sema_is_fieldish(e->rhs));
	return false;
}

/* The text of e as written (from its source line), for messages. */
void sema_text(const struct sema *S, const struct hq_expr *e, char *buf, size_t size)
{
	const char *p = S->src ? S->src->text : NULL;
	int len;

	if (e->kind == HQ_EX_NAME || e->kind == HQ_EX_CALL) {
		if (e->kind == HQ_EX_NAME || !p || e->span.line != e->span.end_line) {
			snprintf(buf, size, "%s%s", e->name, e->kind == HQ_EX_CALL ? "()" : "");
			return;
		}
	}
	if (!p || !e->span.line || e->span.line != e->span.end_line) {
		char *dump = ast_dump_expr(e);
		snprintf(buf, size, "%s", dump);
		free(dump);
		return;
	}
	for (int line = 1; line < e->span.line && p; line++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	len = e->span.end_col - e->span.col + 1;
	if (!p || (int)strnlen(p, (size_t)e->span.end_col) < e->span.end_col || len < 1)
		len = 0;
	if (len > (int)size - 4 && size > 4)
		snprintf(buf, size, "%.*s...", (int)size - 4, p + e->span.col - 1);
	else
		snprintf(buf, size, "%.*s", len, len ? p + e->span.col - 1 : "");
}

static bool sema_numeric(enum hq_type t)
{
	return t == HQ_T_UINT || t == HQ_T_BOOL;
}

static bool sema_ip(enum hq_type t)
{
	return t == HQ_T_IP4 || t == HQ_T_IP6 || t == HQ_T_INET;
}

static bool sema_ordering(enum hq_op op)
{
	return op == HQ_OP_LT || op == HQ_OP_LE || op == HQ_OP_GT || op == HQ_OP_GE;
}

/* Largest value field f can hold; 0 when unbounded (64 bits). */
static uint64_t sema_field_max(const struct hq_field *f)
{
	unsigned bits = f->nbits ? f->nbits : f->size * 8;
	uint64_t mul = f->mul ? f->mul : 1;
	uint64_t max;

	if (f->type == HQ_T_BOOL)
		return 1;
	if (!bits || bits >= 64)
		return 0;
	max = (1ull << bits) - 1;
	if (max > UINT64_MAX / mul)
		return 0;
	return max * mul;
}

/* The literal kind of e; a named constant counts as an integer. */
static enum hq_expr_kind sema_lit_kind(const struct hq_expr *e)
{
	return e->kind == HQ_EX_NAME && e->ref == HQ_REF_CONST ? HQ_EX_INT : e->kind;
}

/* An integer literal n against the field expression a. */
static int sema_fits(struct sema *S, const struct hq_expr *a, const struct hq_expr *n)
{
	uint64_t max;

	if (a->kind != HQ_EX_NAME || a->ref != HQ_REF_FIELD || sema_lit_kind(n) != HQ_EX_INT)
		return 0;
	max = sema_field_max(a->field);
	if (a->field->type == HQ_T_BOOL && n->u.num > 1)
		return sema_err(S, n->span, "%s is a bool: compare it with 0 or 1, or use it alone",
		                a->field->full);
	if (max && n->u.num > max)
		return sema_err(S, n->span,
		                "%" PRIu64 " does not fit in %s (%u bits, at most %" PRIu64 ")",
		                n->u.num, a->field->full,
		                a->field->nbits ? a->field->nbits : a->field->size * 8, max);
	return 0;
}

/* A string literal s against the string field a. */
static int sema_str_fits(struct sema *S, const struct hq_expr *a, const struct hq_expr *s)
{
	size_t n;

	if (a->kind != HQ_EX_NAME || a->ref != HQ_REF_FIELD || s->kind != HQ_EX_STR ||
	    !a->field->size)
		return 0;
	n = strlen(s->u.str);
	if (n > a->field->size)
		return sema_err(
		    S, s->span,
		    "this string is %zu bytes but %s keeps at most %u, so it can never match", n,
		    a->field->full, a->field->size);
	return 0;
}

/* Can a value of a's type be compared with b (op)? a is the non-constant
 * side when there is one. */
static int sema_compat(struct sema *S, enum hq_op op, const struct hq_expr *a,
                       const struct hq_expr *b)
{
	char ta[64], tb[64];
	enum hq_type x = a->type, y = b->type;

	sema_text(S, a, ta, sizeof(ta));
	sema_text(S, b, tb, sizeof(tb));
	if (sema_numeric(x) && sema_numeric(y))
		return sema_fits(S, a, b);
	if (sema_ip(x) && sema_ip(y)) {
		if (b->kind == HQ_EX_CIDR4 || b->kind == HQ_EX_CIDR6)
			return sema_err(S, b->span, "%s is a prefix: use in to match it (%s in %s)",
			                tb, ta, tb);
		if (sema_ordering(op))
			return sema_err(
			    S, b->span,
			    "addresses have no order: compare with == or !=, or use in with "
			    "a range or prefix");
		if ((x == HQ_T_IP4 && y == HQ_T_IP6) || (x == HQ_T_IP6 && y == HQ_T_IP4))
			return sema_err(S, b->span, "cannot compare %s (%s) with %s (%s)", ta,
			                sema_type_words(x), tb, sema_type_words(y));
		return 0;
	}
	if ((x == HQ_T_MAC && y == HQ_T_MAC) || (x == HQ_T_STR && y == HQ_T_STR)) {
		if (sema_ordering(op))
			return sema_err(S, b->span, "%s have no order: compare with == or !=%s",
			                x == HQ_T_MAC ? "MAC addresses" : "strings",
			                x == HQ_T_STR ? " (or contains, startswith)" : "");
		return x == HQ_T_STR ? sema_str_fits(S, a, b) : 0;
	}
	return sema_err(S, b->span, "cannot compare %s (%s) with %s (%s)", ta, sema_type_words(x),
	                tb, sema_type_words(y));
}

static int sema_cmp(struct sema *S, struct hq_expr *e, enum sema_ctx ctx)
{
	int rc = sema_const_pair(S, &e->lhs, &e->rhs, ctx);
	const struct hq_expr *a, *b;

	if (rc)
		return -1;
	e->type = HQ_T_BOOL;
	for (int i = 0; i < 2; i++) {
		const struct hq_expr *x = i ? e->rhs : e->lhs;
		if (x->kind == HQ_EX_NAME && x->ref == HQ_REF_LAYER)
			return sema_err(S, x->span,
			                "%s is a layer (true when the packet carries it), not a "
			                "value to compare",
			                x->name);
	}
	a = sema_is_const(e->lhs) ? e->rhs : e->lhs;
	b = a == e->lhs ? e->rhs : e->lhs;
	if (sema_is_const(a))
		return sema_err(S, e->span,
		                "both sides of %s are constants: the comparison never depends on "
		                "the packet",
		                ast_op_str(e->op));
	return sema_compat(S, e->op, a, b);
}

static int sema_bits(struct sema *S, struct hq_expr *e, enum sema_ctx ctx)
{
	int rc = sema_const_pair(S, &e->lhs, &e->rhs, ctx);
	char t[64];

	if (rc)
		return -1;
	for (int i = 0; i < 2; i++) {
		const struct hq_expr *x = i ? e->rhs : e->lhs;
		if (sema_numeric(x->type))
			continue;
		sema_text(S, x, t, sizeof(t));
		return sema_err(S, x->span, "%s works on numbers, but %s is %s", ast_op_str(e->op),
		                t, sema_type_words(x->type));
	}
	e->type = HQ_T_UINT;
	return 0;
}

static int sema_strop(struct sema *S, struct hq_expr *e, enum sema_ctx ctx)
{
	int rc = sema_value(S, &e->lhs, ctx);
	char t[64];

	rc |= sema_value(S, &e->rhs, ctx);
	if (rc)
		return -1;
	e->type = HQ_T_BOOL;
	if (e->lhs->type != HQ_T_STR || sema_is_const(e->lhs)) {
		sema_text(S, e->lhs, t, sizeof(t));
		return sema_err(S, e->lhs->span, "%s needs a string field on its left; %s is %s%s",
		                ast_op_str(e->op), t, sema_type_words(e->lhs->type),
		                sema_is_const(e->lhs) ? " constant" : "");
	}
	if (e->rhs->kind != HQ_EX_STR) {
		sema_text(S, e->rhs, t, sizeof(t));
		return sema_err(S, e->rhs->span, "%s needs a string on its right (\"...\"), not %s",
		                ast_op_str(e->op), t);
	}
	return sema_str_fits(S, e->lhs, e->rhs);
}

/* One constant of a set or range against the left side of `in`. */
static int sema_member_lit(struct sema *S, const struct hq_expr *lhs, struct hq_expr *lit)
{
	enum hq_type t = lhs->type;
	enum hq_expr_kind k = sema_lit_kind(lit);
	bool ok;
	char a[64], b[64];

	if (sema_value(S, &lit, SC_WHERE))
		return -1;
	if (sema_numeric(t))
		ok = k == HQ_EX_INT;
	else if (t == HQ_T_IP4)
		ok = k == HQ_EX_IP4 || k == HQ_EX_CIDR4;
	else if (t == HQ_T_IP6)
		ok = k == HQ_EX_IP6 || k == HQ_EX_CIDR6;
	else if (t == HQ_T_INET)
		ok = k == HQ_EX_IP4 || k == HQ_EX_CIDR4 || k == HQ_EX_IP6 || k == HQ_EX_CIDR6;
	else if (t == HQ_T_MAC)
		ok = k == HQ_EX_MAC;
	else
		ok = t == HQ_T_STR && k == HQ_EX_STR;
	if (ok)
		return t == HQ_T_STR ? sema_str_fits(S, lhs, lit) : sema_fits(S, lhs, lit);
	sema_text(S, lhs, a, sizeof(a));
	sema_text(S, lit, b, sizeof(b));
	return sema_err(S, lit->span, "%s is %s, but %s is %s%s", a, sema_type_words(t), b,
	                k == HQ_EX_CIDR4 || k == HQ_EX_CIDR6 ? "a prefix of " : "",
	                sema_type_words(lit->type));
}

static int sema_range(struct sema *S, const struct hq_expr *lhs, struct hq_expr *r)
{
	struct hq_expr *lo = r->lhs, *hi = r->rhs;
	bool bad;

	for (int i = 0; i < 2; i++) {
		struct hq_expr *x = i ? hi : lo;
		if (sema_lit_kind(x) != HQ_EX_INT && x->kind != HQ_EX_IP4 && x->kind != HQ_EX_IP6 &&
		    x->kind != HQ_EX_MAC)
			return sema_err(S, x->span,
			                "a range a..b takes numbers or addresses as its bounds");
		if (sema_member_lit(S, lhs, x))
			return -1;
	}
	if (sema_lit_kind(lo) != sema_lit_kind(hi))
		return sema_err(S, r->span, "both ends of a range must be of the same kind");
	r->type = lo->type;
	if (sema_lit_kind(lo) == HQ_EX_INT)
		bad = lo->u.num > hi->u.num;
	else
		bad = memcmp(lo->u.addr, hi->u.addr, sizeof(lo->u.addr)) > 0;
	if (bad)
		return sema_err(S, r->span, "empty range: its start is above its end");
	return 0;
}

static int sema_member(struct sema *S, const struct hq_expr *lhs, struct hq_expr *m)
{
	char t[64];

	switch (m->kind) {
	case HQ_EX_RANGE:
		return sema_range(S, lhs, m);
	case HQ_EX_SET:
		return sema_err(S, m->span, "sets do not nest: write one flat {…}");
	case HQ_EX_INT:
	case HQ_EX_IP4:
	case HQ_EX_IP6:
	case HQ_EX_CIDR4:
	case HQ_EX_CIDR6:
	case HQ_EX_MAC:
	case HQ_EX_STR:
		return sema_member_lit(S, lhs, m);
	case HQ_EX_NAME:
		if (m->ref == HQ_REF_CONST)
			return sema_member_lit(S, lhs, m);
		/* fall through */
	default:
		sema_text(S, m, t, sizeof(t));
		return sema_err(S, m->span, "a set holds constants only; %s is not one", t);
	}
}

static int sema_in(struct sema *S, struct hq_expr *e, enum sema_ctx ctx)
{
	struct hq_expr *r = e->rhs;
	int rc = 0;

	e->type = HQ_T_BOOL;
	if (sema_value(S, &e->lhs, ctx))
		return -1;
	if (sema_is_const(e->lhs))
		return sema_err(S, e->lhs->span, "the left side of %s must be a field",
		                ast_op_str(e->op));
	sema_const_bind(S, e->lhs, r);
	if (r->kind == HQ_EX_SET) {
		if (!r->items.n)
			return sema_err(S, r->span, "empty set: %s {} can never match",
			                ast_op_str(e->op));
		for (int i = 0; i < r->items.n; i++)
			rc |= sema_member(S, e->lhs, r->items.items[i]);
		r->type = e->lhs->type;
		return rc ? -1 : 0;
	}
	if (r->kind == HQ_EX_RANGE || r->kind == HQ_EX_CIDR4 || r->kind == HQ_EX_CIDR6)
		return sema_member(S, e->lhs, r);
	return sema_err(
	    S, r->span,
	    "%s needs a set {…}, a range a..b or a prefix such as 10.0.0.0/8 on its right",
	    ast_op_str(e->op));
}

static int sema_literal(struct hq_expr *e)
{
	static const enum hq_type types[] = {
	    [HQ_EX_INT] = HQ_T_UINT,  [HQ_EX_IP4] = HQ_T_IP4,   [HQ_EX_IP6] = HQ_T_IP6,
	    [HQ_EX_CIDR4] = HQ_T_IP4, [HQ_EX_CIDR6] = HQ_T_IP6, [HQ_EX_MAC] = HQ_T_MAC,
	    [HQ_EX_STR] = HQ_T_STR,
	};

	e->type = types[e->kind];
	return 0;
}

static int sema_binary(struct sema *S, struct hq_expr *e, enum sema_ctx ctx)
{
	int rc;

	switch (e->op) {
	case HQ_OP_AND:
	case HQ_OP_OR:
		rc = sema_pred(S, &e->lhs, ctx);
		rc |= sema_pred(S, &e->rhs, ctx);
		e->type = HQ_T_BOOL;
		return rc ? -1 : 0;
	case HQ_OP_BAND:
	case HQ_OP_BOR:
		return sema_bits(S, e, ctx);
	case HQ_OP_CONTAINS:
	case HQ_OP_STARTSWITH:
		return sema_strop(S, e, ctx);
	default:
		return sema_cmp(S, e, ctx);
	}
}

/* Type the expression at *ep (which may be replaced: lets, rewrites). */
int sema_value(struct sema *S, struct hq_expr **ep, enum sema_ctx ctx)
{
	struct hq_expr *e = *ep;

	switch (e->kind) {
	case HQ_EX_NAME:
		return sema_name(S, ep, ctx);
	case HQ_EX_CALL:
		return sema_call(S, e, ctx);
	case HQ_EX_UNARY:
		e->type = HQ_T_BOOL;
		return sema_pred(S, &e->lhs, ctx);
	case HQ_EX_BINARY:
		return sema_binary(S, e, ctx);
	case HQ_EX_IN:
		return sema_in(S, e, ctx);
	case HQ_EX_SET:
	case HQ_EX_RANGE:
		return sema_err(S, e->span, "a %s goes on the right of in (x in %s)",
		                e->kind == HQ_EX_SET ? "set" : "range",
		                e->kind == HQ_EX_SET ? "{…}" : "a..b");
	case HQ_EX_STAR:
		return sema_err(S, e->span, "* only goes in log *");
	default:
		return sema_literal(e);
	}
}

/* Hint for using a non-bool value as a condition. */
static const char *sema_pred_hint(enum hq_type t)
{
	switch (t) {
	case HQ_T_UINT:
		return "e.g. %s != 0";
	case HQ_T_IP4:
		return "e.g. %s in 10.0.0.0/8";
	case HQ_T_IP6:
		return "e.g. %s in 2001:db8::/32";
	case HQ_T_INET:
		return "e.g. %s == 10.0.0.1";
	case HQ_T_MAC:
		return "e.g. %s == aa:bb:cc:dd:ee:ff";
	default:
		return "e.g. %s == \"…\"";
	}
}

/* Type a condition: a bool, or a uint mask rewritten to (mask != 0). */
int sema_pred(struct sema *S, struct hq_expr **ep, enum sema_ctx ctx)
{
	struct hq_expr *e;
	char t[64], hint[128];

	if (sema_value(S, ep, ctx))
		return -1;
	e = *ep;
	if (e->type == HQ_T_BOOL)
		return 0;
	if (e->type == HQ_T_UINT && e->kind == HQ_EX_BINARY && e->op == HQ_OP_BAND) {
		struct hq_expr *zero = ast_expr_new(HQ_EX_INT, e->span);
		zero->type = HQ_T_UINT;
		*ep = ast_binary(HQ_OP_NE, e, zero);
		(*ep)->type = HQ_T_BOOL;
		return 0;
	}
	sema_text(S, e, t, sizeof(t));
	snprintf(hint, sizeof(hint), sema_pred_hint(e->type), t);
	return sema_err(S, e->span, "%s is %s, not a condition; compare it, %s", t,
	                sema_type_words(e->type), hint);
}
