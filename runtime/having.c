/* having.c — the user-space evaluator of `having` over one group row. */
#include <string.h>

#include "having.h"

enum hv_kind { HV_ABSENT, HV_UINT, HV_DOUBLE, HV_BYTES, HV_STR, HV_BOOL };

struct hv {
	enum hv_kind k;
	uint64_t u; /* UINT, BOOL */
	double f;   /* DOUBLE */
	uint8_t b[16];
	unsigned n; /* BYTES: 4 (IPv4), 16 (IPv6), 6 (MAC) */
	const char *s;
	unsigned slen; /* STR: bytes up to the first NUL */
};

static struct hv hv_uint(uint64_t u)
{
	return (struct hv){.k = HV_UINT, .u = u};
}

static struct hv hv_bool(bool b)
{
	return (struct hv){.k = HV_BOOL, .u = b};
}

static struct hv hv_bytes(const uint8_t *p, unsigned n)
{
	struct hv v = {.k = HV_BYTES, .n = n};
	memcpy(v.b, p, n);
	return v;
}

static struct hv hv_agg(const struct hq_expr *e, const struct hq_qplan *qp,
                        const struct hq_group_row *row)
{
	if (e->agg_index < 0 || e->agg_index >= qp->n_aggs)
		return (struct hv){0};
	const struct hq_agg_value *a = &row->aggs[e->agg_index];
	const struct hq_agg_slot *s = &qp->aggs[e->agg_index];
	if (!a->valid)
		return (struct hv){0};
	if (s->kind == HQ_AGG_AVG)
		return (struct hv){.k = HV_DOUBLE, .f = a->avg};
	if (s->kind == HQ_AGG_HIST || s->kind == HQ_AGG_LHIST) {
		uint64_t total = 0; /* a histogram compares as its number of samples */
		for (unsigned i = 0; a->buckets && i < s->n_buckets; i++)
			total += a->buckets[i];
		return hv_uint(total);
	}
	return hv_uint(a->u);
}

static const struct hq_slot *key_slot(const struct hq_expr *e, const struct hq_qplan *qp)
{
	for (int i = 0; i < qp->n_keys; i++) {
		const struct hq_slot *s = &qp->keys[i];
		if (s->expr == e || (e->field && s->field == e->field))
			return s;
	}
	return NULL;
}

/* A group key value, decoded from the key bytes (plan.h slot encoding). */
static struct hv hv_key(const struct hq_slot *s, const uint8_t *key)
{
	uint64_t present;
	memcpy(&present, key, 8);
	if (s->present_bit < 0 || s->present_bit > 63 || !(present >> s->present_bit & 1))
		return (struct hv){0};
	const uint8_t *p = key + s->off;
	uint64_t u;
	uint32_t fam;
	switch (s->type) {
	case HQ_T_UINT:
	case HQ_T_BOOL:
		memcpy(&u, p, 8);
		return hv_uint(u);
	case HQ_T_IP4:
		return hv_bytes(p, 4);
	case HQ_T_IP6:
		return hv_bytes(p, 16);
	case HQ_T_MAC:
		return hv_bytes(p, 6);
	case HQ_T_INET:
		memcpy(&fam, p, 4);
		return hv_bytes(p + 4, fam == 4 ? 4 : 16);
	case HQ_T_STR:
		return (struct hv){
		    .k = HV_STR, .s = (const char *)p, .slen = strnlen((const char *)p, s->size)};
	default:
		return (struct hv){0};
	}
}

static struct hv hv_eval(const struct hq_expr *e, const struct hq_qplan *qp,
                         const struct hq_group_row *row);

static bool hv_truth(struct hv v)
{
	switch (v.k) {
	case HV_UINT:
	case HV_BOOL:
		return v.u != 0;
	case HV_DOUBLE:
		return v.f != 0;
	default:
		return false;
	}
}

/* -1/0/1, or 2 when the two cannot be compared (absent, mixed kinds). */
static int hv_cmp(struct hv a, struct hv b)
{
	if (a.k == HV_ABSENT || b.k == HV_ABSENT)
		return 2;
	bool an = a.k == HV_UINT || a.k == HV_DOUBLE || a.k == HV_BOOL;
	bool bn = b.k == HV_UINT || b.k == HV_DOUBLE || b.k == HV_BOOL;
	if (an && bn) {
		if (a.k == HV_DOUBLE || b.k == HV_DOUBLE) {
			double x = a.k == HV_DOUBLE ? a.f : (double)a.u;
			double y = b.k == HV_DOUBLE ? b.f : (double)b.u;
			return x < y ? -1 : x > y;
		}
		return a.u < b.u ? -1 : a.u > b.u;
	}
	if (a.k == HV_BYTES && b.k == HV_BYTES && a.n == b.n) {
		int c = memcmp(a.b, b.b, a.n);
		return c < 0 ? -1 : c > 0;
	}
	if (a.k == HV_STR && b.k == HV_STR) {
		unsigned n = a.slen < b.slen ? a.slen : b.slen;
		int c = memcmp(a.s, b.s, n);
		if (!c)
			c = a.slen < b.slen ? -1 : a.slen > b.slen;
		return c < 0 ? -1 : c > 0;
	}
	return 2;
}

static bool cmp_holds(enum hq_op op, int c)
{
	if (c == 2)
		return false;
	switch (op) {
	case HQ_OP_EQ:
		return c == 0;
	case HQ_OP_NE:
		return c != 0;
	case HQ_OP_LT:
		return c < 0;
	case HQ_OP_LE:
		return c <= 0;
	case HQ_OP_GT:
		return c > 0;
	case HQ_OP_GE:
		return c >= 0;
	default:
		return false;
	}
}

static bool prefix_match(struct hv v, const struct hq_expr *cidr)
{
	unsigned n = cidr->kind == HQ_EX_CIDR4 ? 4 : 16;
	if (v.k != HV_BYTES || v.n != n)
		return false;
	int bits = cidr->u.prefix;
	for (unsigned i = 0; i < n && bits > 0; i++, bits -= 8) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		if ((v.b[i] & mask) != (cidr->u.addr[i] & mask))
			return false;
	}
	return true;
}

/* Is v in one member of an `in` right-hand side (value, range or prefix)? */
static bool in_member(struct hv v, const struct hq_expr *m, const struct hq_qplan *qp,
                      const struct hq_group_row *row)
{
	if (m->kind == HQ_EX_RANGE)
		return cmp_holds(HQ_OP_GE, hv_cmp(v, hv_eval(m->lhs, qp, row))) &&
		       cmp_holds(HQ_OP_LE, hv_cmp(v, hv_eval(m->rhs, qp, row)));
	if (m->kind == HQ_EX_CIDR4 || m->kind == HQ_EX_CIDR6)
		return prefix_match(v, m);
	if (m->kind == HQ_EX_SET) {
		for (int i = 0; i < m->items.n; i++)
			if (in_member(v, m->items.items[i], qp, row))
				return true;
		return false;
	}
	return hv_cmp(v, hv_eval(m, qp, row)) == 0;
}

static struct hv hv_str_op(enum hq_op op, struct hv a, struct hv b)
{
	if (a.k != HV_STR || b.k != HV_STR || b.slen > a.slen)
		return hv_bool(false);
	if (op == HQ_OP_STARTSWITH)
		return hv_bool(!memcmp(a.s, b.s, b.slen));
	for (unsigned i = 0; i + b.slen <= a.slen; i++)
		if (!memcmp(a.s + i, b.s, b.slen))
			return hv_bool(true);
	return hv_bool(false);
}

static struct hv hv_binary(const struct hq_expr *e, const struct hq_qplan *qp,
                           const struct hq_group_row *row)
{
	if (e->op == HQ_OP_AND)
		return hv_bool(hv_truth(hv_eval(e->lhs, qp, row)) &&
		               hv_truth(hv_eval(e->rhs, qp, row)));
	if (e->op == HQ_OP_OR)
		return hv_bool(hv_truth(hv_eval(e->lhs, qp, row)) ||
		               hv_truth(hv_eval(e->rhs, qp, row)));
	struct hv a = hv_eval(e->lhs, qp, row), b = hv_eval(e->rhs, qp, row);
	switch (e->op) {
	case HQ_OP_BAND:
	case HQ_OP_BOR:
		if ((a.k != HV_UINT && a.k != HV_BOOL) || (b.k != HV_UINT && b.k != HV_BOOL))
			return (struct hv){0};
		return hv_uint(e->op == HQ_OP_BAND ? a.u & b.u : a.u | b.u);
	case HQ_OP_CONTAINS:
	case HQ_OP_STARTSWITH:
		return hv_str_op(e->op, a, b);
	default:
		return hv_bool(cmp_holds(e->op, hv_cmp(a, b)));
	}
}

static struct hv hv_literal(const struct hq_expr *e)
{
	switch (e->kind) {
	case HQ_EX_INT:
		return hv_uint(e->u.num);
	case HQ_EX_IP4:
		return hv_bytes(e->u.addr, 4);
	case HQ_EX_IP6:
		return hv_bytes(e->u.addr, 16);
	case HQ_EX_MAC:
		return hv_bytes(e->u.addr, 6);
	case HQ_EX_STR:
		return (struct hv){.k = HV_STR, .s = e->u.str, .slen = (unsigned)strlen(e->u.str)};
	default:
		return (struct hv){0};
	}
}

static struct hv hv_eval(const struct hq_expr *e, const struct hq_qplan *qp,
                         const struct hq_group_row *row)
{
	if (!e)
		return (struct hv){0};
	switch (e->kind) {
	case HQ_EX_CALL:
		return hv_agg(e, qp, row);
	case HQ_EX_NAME: {
		if (e->ref == HQ_REF_CONST)
			return hv_uint(e->u.num);
		const struct hq_slot *s = key_slot(e, qp);
		return s ? hv_key(s, row->key) : (struct hv){0};
	}
	case HQ_EX_UNARY:
		if (e->op == HQ_OP_NOT)
			return hv_bool(!hv_truth(hv_eval(e->lhs, qp, row)));
		return (struct hv){0};
	case HQ_EX_BINARY:
		return hv_binary(e, qp, row);
	case HQ_EX_IN: {
		struct hv v = hv_eval(e->lhs, qp, row);
		if (v.k == HV_ABSENT)
			return hv_bool(false);
		bool in = in_member(v, e->rhs, qp, row);
		return hv_bool(e->op == HQ_OP_NOT_IN ? !in : in);
	}
	default:
		return hv_literal(e);
	}
}

bool having_eval(const struct hq_expr *e, const struct hq_qplan *qp, const struct hq_group_row *row)
{
	return !e || hv_truth(hv_eval(e, qp, row));
}
