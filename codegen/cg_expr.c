/* cg_expr.c — expressions of the query language, evaluated per packet.
 *
 * Values carry a presence bit (struct cg_val). Predicates are BOOL values
 * that are always present: a comparison with an absent operand is false,
 * and `not` negates that result (Wireshark's semantics).
 */
#include <string.h>

#include "cg.h"

static struct cg_val cg_bool(struct cg *cg, LLVMValueRef i1)
{
	struct cg_val v = {.type = HQ_T_BOOL, .present = LLVMConstInt(cg->i1, 1, 0)};
	v.a = LLVMBuildZExt(cg->b, i1, cg->i64, "");
	return v;
}

LLVMValueRef cg_truth(struct cg *cg, struct cg_val v)
{
	LLVMValueRef nz = LLVMBuildICmp(cg->b, LLVMIntNE, v.a, LLVMConstNull(LLVMTypeOf(v.a)), "");
	return LLVMBuildAnd(cg->b, v.present, nz, "");
}

static uint64_t cg_bytes_u64(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	memcpy(&v, p, n); /* memory order, as the loads see it (both little-endian) */
	return v;
}

/* A literal in the representation of struct cg_val. */
static struct cg_val cg_literal(struct cg *cg, const struct hq_expr *e)
{
	struct cg_val v = {.present = LLVMConstInt(cg->i1, 1, 0)};
	switch (e->kind) {
	case HQ_EX_INT:
		v.type = HQ_T_UINT;
		v.a = cg_const64(cg, e->u.num);
		break;
	case HQ_EX_IP4:
	case HQ_EX_CIDR4:
		v.type = HQ_T_IP4;
		v.a = cg_const32(cg, (uint32_t)cg_bytes_u64(e->u.addr, 4));
		break;
	case HQ_EX_IP6:
	case HQ_EX_CIDR6:
		v.type = HQ_T_IP6;
		v.a = cg_const64(cg, cg_bytes_u64(e->u.addr, 8));
		v.b = cg_const64(cg, cg_bytes_u64(e->u.addr + 8, 8));
		break;
	case HQ_EX_MAC:
		v.type = HQ_T_MAC;
		v.a = cg_const64(cg, cg_bytes_u64(e->u.addr, 6));
		break;
	default:
		v.type = HQ_T_NONE;
		v.a = cg_const64(cg, 0);
		break;
	}
	return v;
}

static struct cg_val cg_name(struct cg *cg, const struct hq_query *q, const struct hq_expr *e)
{
	switch (e->ref) {
	case HQ_REF_FIELD:
		return cg_field(cg, e->field);
	case HQ_REF_LAYER:
		return cg_bool(cg, cg_layer_ok(cg, e->layer));
	case HQ_REF_CONST: {
		struct cg_val v = {.type = HQ_T_UINT, .present = LLVMConstInt(cg->i1, 1, 0)};
		v.a = cg_const64(cg, e->u.num);
		return v;
	}
	default:
		cg_unsupported(cg, q, e->span, e->name ? e->name : "this name");
		return cg_bool(cg, LLVMConstInt(cg->i1, 0, 0));
	}
}

/* a == b for two values of compatible types (i1) */
static LLVMValueRef cg_eq(struct cg *cg, struct cg_val x, struct cg_val y)
{
	if (x.type == HQ_T_INET || y.type == HQ_T_INET) {
		struct cg_val i = x.type == HQ_T_INET ? x : y, o = x.type == HQ_T_INET ? y : x;
		if (o.type == HQ_T_IP4) {
			LLVMValueRef fam =
			    LLVMBuildICmp(cg->b, LLVMIntEQ, i.a, cg_const32(cg, 4), "");
			LLVMValueRef lo = LLVMBuildTrunc(cg->b, i.b, cg->i32, "");
			return LLVMBuildAnd(cg->b, fam,
			                    LLVMBuildICmp(cg->b, LLVMIntEQ, lo, o.a, ""), "");
		}
		if (o.type == HQ_T_IP6) {
			LLVMValueRef fam =
			    LLVMBuildICmp(cg->b, LLVMIntEQ, i.a, cg_const32(cg, 6), "");
			LLVMValueRef a = LLVMBuildICmp(cg->b, LLVMIntEQ, i.b, o.a, "");
			LLVMValueRef b = LLVMBuildICmp(cg->b, LLVMIntEQ, i.c, o.b, "");
			return LLVMBuildAnd(cg->b, fam, LLVMBuildAnd(cg->b, a, b, ""), "");
		}
		LLVMValueRef r = LLVMBuildICmp(cg->b, LLVMIntEQ, x.a, y.a, "");
		r = LLVMBuildAnd(cg->b, r, LLVMBuildICmp(cg->b, LLVMIntEQ, x.b, y.b, ""), "");
		return LLVMBuildAnd(cg->b, r, LLVMBuildICmp(cg->b, LLVMIntEQ, x.c, y.c, ""), "");
	}
	LLVMValueRef r = LLVMBuildICmp(cg->b, LLVMIntEQ, x.a, y.a, "");
	if (x.type == HQ_T_IP6)
		r = LLVMBuildAnd(cg->b, r, LLVMBuildICmp(cg->b, LLVMIntEQ, x.b, y.b, ""), "");
	return r;
}

static LLVMValueRef cg_ordered(struct cg *cg, enum hq_op op, LLVMValueRef a, LLVMValueRef b)
{
	LLVMIntPredicate p = op == HQ_OP_LT   ? LLVMIntULT
	                     : op == HQ_OP_LE ? LLVMIntULE
	                     : op == HQ_OP_GT ? LLVMIntUGT
	                                      : LLVMIntUGE;
	return LLVMBuildICmp(cg->b, p, a, b, "");
}

/* a string field against a string literal, either way round */
static struct cg_val cg_str_compare(struct cg *cg, const struct hq_query *q,
                                    const struct hq_expr *e)
{
	const struct hq_expr *fe = e->lhs->kind == HQ_EX_STR ? e->rhs : e->lhs;
	const struct hq_expr *lit = fe == e->lhs ? e->rhs : e->lhs;
	LLVMValueRef r = NULL;
	if (lit->kind == HQ_EX_STR && (fe == e->lhs || e->op == HQ_OP_EQ || e->op == HQ_OP_NE))
		r = cg_str_pred(cg, e->op, cg_expr(cg, q, fe), lit->u.str);
	if (!r) {
		cg_unsupported(cg, q, e->span, "comparing two string fields");
		r = LLVMConstInt(cg->i1, 0, 0);
	}
	return cg_bool(cg, r);
}

static struct cg_val cg_compare(struct cg *cg, const struct hq_query *q, const struct hq_expr *e)
{
	if (e->lhs->type == HQ_T_STR || e->rhs->type == HQ_T_STR)
		return cg_str_compare(cg, q, e);
	struct cg_val x = cg_expr(cg, q, e->lhs), y = cg_expr(cg, q, e->rhs);
	LLVMValueRef both = LLVMBuildAnd(cg->b, x.present, y.present, "");
	LLVMValueRef r;
	if (e->op == HQ_OP_EQ || e->op == HQ_OP_NE) {
		r = cg_eq(cg, x, y);
		if (e->op == HQ_OP_NE)
			r = LLVMBuildNot(cg->b, r, "");
	} else if (x.type == HQ_T_UINT || x.type == HQ_T_BOOL) {
		r = cg_ordered(cg, e->op, x.a, y.a);
	} else {
		cg_unsupported(cg, q, e->span, "ordering of addresses");
		r = LLVMConstInt(cg->i1, 0, 0);
	}
	return cg_bool(cg, LLVMBuildAnd(cg->b, both, r, ""));
}

/* v in a.b.c.d/len, comparing in memory byte order */
static LLVMValueRef cg_in_cidr(struct cg *cg, struct cg_val v, const struct hq_expr *c)
{
	uint8_t mask[16] = {0};
	for (int i = 0; i < c->u.prefix; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	if (c->kind == HQ_EX_CIDR4) {
		LLVMValueRef addr = v.a;
		LLVMValueRef fam = LLVMConstInt(cg->i1, 1, 0);
		if (v.type == HQ_T_INET) {
			fam = LLVMBuildICmp(cg->b, LLVMIntEQ, v.a, cg_const32(cg, 4), "");
			addr = LLVMBuildTrunc(cg->b, v.b, cg->i32, "");
		}
		LLVMValueRef m = cg_const32(cg, (uint32_t)cg_bytes_u64(mask, 4));
		LLVMValueRef net = cg_const32(cg, (uint32_t)cg_bytes_u64(c->u.addr, 4));
		LLVMValueRef eq = LLVMBuildICmp(cg->b, LLVMIntEQ, LLVMBuildAnd(cg->b, addr, m, ""),
		                                LLVMBuildAnd(cg->b, net, m, ""), "");
		return LLVMBuildAnd(cg->b, fam, eq, "");
	}
	LLVMValueRef lo = v.a, hi = v.b, fam = LLVMConstInt(cg->i1, 1, 0);
	if (v.type == HQ_T_INET) {
		fam = LLVMBuildICmp(cg->b, LLVMIntEQ, v.a, cg_const32(cg, 6), "");
		lo = v.b;
		hi = v.c;
	}
	LLVMValueRef r = fam;
	LLVMValueRef halves[2] = {lo, hi};
	for (int h = 0; h < 2; h++) {
		LLVMValueRef m = cg_const64(cg, cg_bytes_u64(mask + 8 * h, 8));
		LLVMValueRef net = cg_const64(cg, cg_bytes_u64(c->u.addr + 8 * h, 8));
		LLVMValueRef eq =
		    LLVMBuildICmp(cg->b, LLVMIntEQ, LLVMBuildAnd(cg->b, halves[h], m, ""),
		                  LLVMBuildAnd(cg->b, net, m, ""), "");
		r = LLVMBuildAnd(cg->b, r, eq, "");
	}
	return r;
}

static LLVMValueRef cg_in_item(struct cg *cg, const struct hq_query *q, struct cg_val v,
                               const struct hq_expr *it)
{
	if (it->kind == HQ_EX_RANGE) {
		struct cg_val lo = cg_expr(cg, q, it->lhs), hi = cg_expr(cg, q, it->rhs);
		return LLVMBuildAnd(cg->b, cg_ordered(cg, HQ_OP_GE, v.a, lo.a),
		                    cg_ordered(cg, HQ_OP_LE, v.a, hi.a), "");
	}
	if (it->kind == HQ_EX_CIDR4 || it->kind == HQ_EX_CIDR6)
		return cg_in_cidr(cg, v, it);
	if (it->kind == HQ_EX_STR) {
		LLVMValueRef r = cg_str_pred(cg, HQ_OP_EQ, v, it->u.str);
		if (r)
			return r;
	}
	return cg_eq(cg, v, cg_expr(cg, q, it));
}

static struct cg_val cg_in(struct cg *cg, const struct hq_query *q, const struct hq_expr *e)
{
	struct cg_val v = cg_expr(cg, q, e->lhs);
	const struct hq_expr *set = e->rhs;
	LLVMValueRef any = LLVMConstInt(cg->i1, 0, 0);
	if (set->kind == HQ_EX_SET) {
		for (int i = 0; i < set->items.n; i++)
			any =
			    LLVMBuildOr(cg->b, any, cg_in_item(cg, q, v, set->items.items[i]), "");
	} else {
		any = cg_in_item(cg, q, v, set);
	}
	if (e->op == HQ_OP_NOT_IN)
		any = LLVMBuildNot(cg->b, any, "");
	return cg_bool(cg, LLVMBuildAnd(cg->b, v.present, any, ""));
}

static struct cg_val cg_logic(struct cg *cg, const struct hq_query *q, const struct hq_expr *e)
{
	LLVMValueRef x = cg_truth(cg, cg_expr(cg, q, e->lhs));
	LLVMValueRef y = cg_truth(cg, cg_expr(cg, q, e->rhs));
	return cg_bool(cg, e->op == HQ_OP_AND ? LLVMBuildAnd(cg->b, x, y, "")
	                                      : LLVMBuildOr(cg->b, x, y, ""));
}

static struct cg_val cg_bitwise(struct cg *cg, const struct hq_query *q, const struct hq_expr *e)
{
	struct cg_val x = cg_expr(cg, q, e->lhs), y = cg_expr(cg, q, e->rhs);
	struct cg_val v = {.type = HQ_T_UINT};
	v.present = LLVMBuildAnd(cg->b, x.present, y.present, "");
	v.a = e->op == HQ_OP_BAND ? LLVMBuildAnd(cg->b, x.a, y.a, "")
	                          : LLVMBuildOr(cg->b, x.a, y.a, "");
	return v;
}

static struct cg_val cg_binary(struct cg *cg, const struct hq_query *q, const struct hq_expr *e)
{
	switch (e->op) {
	case HQ_OP_AND:
	case HQ_OP_OR:
		return cg_logic(cg, q, e);
	case HQ_OP_BAND:
	case HQ_OP_BOR:
		return cg_bitwise(cg, q, e);
	case HQ_OP_CONTAINS:
	case HQ_OP_STARTSWITH:
		return cg_str_compare(cg, q, e);
	case HQ_OP_EQ:
	case HQ_OP_NE:
	case HQ_OP_LT:
	case HQ_OP_LE:
	case HQ_OP_GT:
	case HQ_OP_GE:
		return cg_compare(cg, q, e);
	default:
		cg_unsupported(cg, q, e->span, ast_op_str(e->op));
		return cg_bool(cg, LLVMConstInt(cg->i1, 0, 0));
	}
}

struct cg_val cg_expr(struct cg *cg, const struct hq_query *q, const struct hq_expr *e)
{
	switch (e->kind) {
	case HQ_EX_NAME:
		return cg_name(cg, q, e);
	case HQ_EX_UNARY:
		return cg_bool(cg, LLVMBuildNot(cg->b, cg_truth(cg, cg_expr(cg, q, e->lhs)), ""));
	case HQ_EX_BINARY:
		return cg_binary(cg, q, e);
	case HQ_EX_IN:
		return cg_in(cg, q, e);
	case HQ_EX_STR:
		cg_unsupported(cg, q, e->span, "a string value here");
		return cg_bool(cg, LLVMConstInt(cg->i1, 0, 0));
	default:
		return cg_literal(cg, e);
	}
}
