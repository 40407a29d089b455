/* test_groups.c — the group pipeline of the runtime without a compiled
 * program: per-CPU combining (plan.h value layout), the `having`
 * evaluator, sorting and `top`, and (as root) dumping real per-CPU hash
 * maps through both the batch and the get_next_key paths. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "having.h"
#include "reader_groups.h"

static int failures, checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

enum { NCPU = 3, VAL = 88, STRIDE = 88 };

/* group by dst_port select count(), min(x), avg(x), hist(x) */
static struct hq_field f_port = {.name = "dst_port", .full = "tcp.dst_port", .type = HQ_T_UINT};
static struct hq_query query;
static struct hq_slot key_slots[1] = {
    {.field = &f_port, .label = "tcp.dst_port", .type = HQ_T_UINT, .off = 8, .size = 8}};
static struct hq_agg_slot agg_slots[4] = {
    {.kind = HQ_AGG_COUNT, .label = "count()", .off = 8, .size = 8},
    {.kind = HQ_AGG_MIN, .label = "min(x)", .off = 16, .size = 16},
    {.kind = HQ_AGG_AVG, .label = "avg(x)", .off = 32, .size = 16},
    {.kind = HQ_AGG_HIST, .label = "hist(x)", .off = 48, .size = 40, .n_buckets = 4},
};
static struct hq_qplan qp = {
    .q = &query,
    .keys = key_slots,
    .n_keys = 1,
    .key_size = 16,
    .aggs = agg_slots,
    .n_aggs = 4,
    .val_size = VAL,
};

struct cpu_val {
	uint64_t updates, count, min, min_n, avg_sum, avg_n, hist[4], hist_sum;
};

static void put(uint8_t *vals, int cpu, struct cpu_val v)
{
	memcpy(vals + cpu * STRIDE, &v, sizeof(v));
}

static void key(uint8_t *k, bool present, uint64_t port)
{
	memset(k, 0, 16);
	k[0] = present;
	memcpy(k + 8, &port, 8);
}

static void test_combine(void)
{
	uint8_t vals[NCPU * STRIDE] = {0};
	struct hq_agg_value out[4];
	uint64_t buckets[4];
	put(vals, 0, (struct cpu_val){2, 2, 5, 1, 10, 2, {1, 1, 0, 0}, 7});
	put(vals, 2, (struct cpu_val){1, 1, 3, 1, 9, 1, {0, 0, 1, 0}, 5});
	groups_combine(&qp, NCPU, vals, STRIDE, out, buckets);
	CHECK(out[0].valid && out[0].u == 3);
	CHECK(out[1].valid && out[1].u == 3); /* CPU 1's zero min is not a value */
	CHECK(out[2].valid && out[2].avg > 6.33 && out[2].avg < 6.34);
	CHECK(out[3].valid && out[3].buckets == buckets);
	CHECK(out[3].u == 12); /* a histogram's u: the sum of its values */
	CHECK(buckets[0] == 1 && buckets[1] == 1 && buckets[2] == 1 && buckets[3] == 0);

	/* a group whose packets never carried x: min and avg are absent */
	memset(vals, 0, sizeof(vals));
	put(vals, 1, (struct cpu_val){4, 4, 0, 0, 0, 0, {0}, 0});
	groups_combine(&qp, NCPU, vals, STRIDE, out, buckets);
	CHECK(out[0].valid && out[0].u == 4);
	CHECK(!out[1].valid && !out[2].valid);
}

static struct hq_expr *num(uint64_t v)
{
	struct hq_expr *e = ast_expr_new(HQ_EX_INT, (struct hq_span){0});
	e->u.num = v;
	return e;
}

static struct hq_expr *agg(int index)
{
	struct hq_expr *e = ast_expr_new(HQ_EX_CALL, (struct hq_span){0});
	e->agg = agg_slots[index].kind;
	e->agg_index = index;
	return e;
}

static struct hq_expr *port(void)
{
	struct hq_expr *e = ast_expr_new(HQ_EX_NAME, (struct hq_span){0});
	e->ref = HQ_REF_FIELD;
	e->field = &f_port;
	return e;
}

static struct hq_expr *range(uint64_t a, uint64_t b)
{
	struct hq_expr *e = ast_expr_new(HQ_EX_RANGE, (struct hq_span){0});
	e->lhs = num(a);
	e->rhs = num(b);
	return e;
}

static struct hq_expr *in(struct hq_expr *l, struct hq_expr *r, bool neg)
{
	struct hq_expr *e = ast_expr_new(HQ_EX_IN, (struct hq_span){0});
	e->lhs = l;
	e->rhs = r;
	e->op = neg ? HQ_OP_NOT_IN : HQ_OP_IN;
	return e;
}

/* Evaluate e on a row with the given key and combined aggregates, then
 * free e. */
static bool eval(struct hq_expr *e, const uint8_t *k, struct hq_agg_value *aggs)
{
	struct hq_group_row row = {.key = k, .aggs = aggs};
	bool v = having_eval(e, &qp, &row);
	ast_expr_free(e);
	return v;
}

static void test_having(void)
{
	uint8_t k[16], absent[16];
	key(k, true, 443);
	key(absent, false, 0);
	uint64_t b[4] = {1, 2, 3, 4};
	struct hq_agg_value a[4] = {{.valid = true, .u = 25},
	                            {.valid = false},
	                            {.valid = true, .avg = 6.5},
	                            {.valid = true, .buckets = b}};

	CHECK(eval(ast_binary(HQ_OP_GT, agg(0), num(20)), k, a));
	CHECK(!eval(ast_binary(HQ_OP_GT, agg(0), num(25)), k, a));
	CHECK(eval(ast_binary(HQ_OP_GE, agg(0), num(25)), k, a));
	CHECK(eval(ast_unary(HQ_OP_NOT, ast_binary(HQ_OP_LT, agg(0), num(3)), (struct hq_span){0}),
	           k, a));
	/* avg compares as a real number: 6.5 > 6, 6.5 < 7 */
	CHECK(eval(ast_binary(HQ_OP_AND, ast_binary(HQ_OP_GT, agg(2), num(6)),
	                      ast_binary(HQ_OP_LT, agg(2), num(7))),
	           k, a));
	/* min no CPU saw: every comparison is false, its negation true */
	CHECK(!eval(ast_binary(HQ_OP_EQ, agg(1), num(0)), k, a));
	CHECK(!eval(ast_binary(HQ_OP_NE, agg(1), num(0)), k, a));
	CHECK(eval(ast_unary(HQ_OP_NOT, ast_binary(HQ_OP_EQ, agg(1), num(0)), (struct hq_span){0}),
	           k, a));
	/* a histogram compares as its number of samples */
	CHECK(eval(ast_binary(HQ_OP_EQ, agg(3), num(10)), k, a));
	/* group keys */
	CHECK(eval(ast_binary(HQ_OP_EQ, port(), num(443)), k, a));
	CHECK(eval(ast_binary(HQ_OP_OR, ast_binary(HQ_OP_EQ, port(), num(1)),
	                      ast_binary(HQ_OP_EQ, port(), num(443))),
	           k, a));
	CHECK(!eval(ast_binary(HQ_OP_EQ, port(), num(0)), absent, a));
	CHECK(eval(ast_unary(HQ_OP_NOT, ast_binary(HQ_OP_EQ, port(), num(0)), (struct hq_span){0}),
	           absent, a));
	struct hq_expr *set = ast_expr_new(HQ_EX_SET, (struct hq_span){0});
	ast_list_push(&set->items, num(80));
	ast_list_push(&set->items, range(400, 500));
	CHECK(eval(in(port(), set, false), k, a));
	CHECK(!eval(in(port(), range(1, 100), false), k, a));
	CHECK(eval(in(port(), range(1, 100), true), k, a));
	CHECK(!eval(in(port(), range(1, 100), true), absent, a));
	CHECK(eval(ast_binary(HQ_OP_EQ, ast_binary(HQ_OP_BAND, port(), num(0xff)), num(443 & 0xff)),
	           k, a));
	CHECK(having_eval(NULL, &qp, &(struct hq_group_row){.key = k, .aggs = a}));
}

/* Five groups; having count() > 1; sorted by count desc, ties by key; top 3. */
static void test_table(void)
{
	static const uint64_t ports[] = {22, 80, 443, 53, 8080};
	static const uint64_t counts[] = {5, 1, 9, 5, 2};
	struct hq_group_dump g = {.n = 5, .stride = STRIDE};
	g.keys = calloc(5, 16);
	g.vals = calloc(5, NCPU * STRIDE);
	for (int i = 0; i < 5; i++) {
		key(g.keys + i * 16, true, ports[i]);
		put(g.vals + i * NCPU * STRIDE, i % NCPU,
		    (struct cpu_val){counts[i], counts[i], 1, 1, 1, 1, {counts[i]}, 0});
	}
	query.having = ast_binary(HQ_OP_GT, agg(0), num(1));
	query.top = 3;
	struct hq_group_table t;
	CHECK(groups_table(&qp, &g, NCPU, &t) == 0);
	CHECK(t.n == 3);
	uint64_t p[3];
	for (int i = 0; i < 3 && i < t.n; i++)
		memcpy(&p[i], t.rows[i].key + 8, 8);
	CHECK(t.n == 3 && p[0] == 443 && p[1] == 22 && p[2] == 53);
	CHECK(t.n == 3 && t.rows[0].aggs[0].u == 9 && t.rows[2].aggs[3].buckets[0] == 5);
	groups_table_free(&t);
	ast_expr_free(query.having);
	query.having = NULL;
	query.top = 0;
	CHECK(groups_table(&qp, &g, NCPU, &t) == 0 && t.n == 5);
	groups_table_free(&t);
	groups_dump_free(&g);
}

/* Real maps (root only): batch and get_next_key dumps agree, `del` empties. */
static void test_dump_map(bool batch)
{
	int ncpus = libbpf_num_possible_cpus();
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "hq_test", 8, 24, 4096, NULL);
	if (fd < 0) {
		printf("skip: map dump tests need CAP_BPF (%s)\n", strerror(errno));
		return;
	}
	uint64_t *v = calloc(ncpus, 24);
	for (uint64_t k = 0; k < 3000; k++) {
		for (int c = 0; c < ncpus; c++)
			v[c * 3] = k + (uint64_t)c;
		bpf_map_update_elem(fd, &k, v, BPF_ANY);
	}
	if (!batch)
		setenv("HDRQ_NO_BATCH", "1", 1);
	struct hq_group_dump g;
	CHECK(groups_dump(fd, 8, 24, ncpus, false, &g) == 0 && g.n == 3000 && g.stride == 24);
	uint64_t sum = 0, want = 0;
	for (size_t i = 0; i < g.n; i++) {
		uint64_t k, first;
		memcpy(&k, g.keys + i * 8, 8);
		memcpy(&first, g.vals + i * 24 * ncpus + 24 * (ncpus - 1), 8);
		sum += first;
		want += k + (uint64_t)(ncpus - 1);
	}
	CHECK(sum == want);
	groups_dump_free(&g);
	CHECK(groups_dump(fd, 8, 24, ncpus, true, &g) == 0 && g.n == 3000);
	groups_dump_free(&g);
	uint64_t k;
	CHECK(bpf_map_get_next_key(fd, NULL, &k) != 0); /* empty now */
	unsetenv("HDRQ_NO_BATCH");
	free(v);
	close(fd);
}

int main(void)
{
	test_combine();
	test_having();
	test_table();
	test_dump_map(true);
	test_dump_map(false);
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
