/* test_output.c — unit tests of the output formatters (runtime/output*.c,
 * value.c, hist.c).
 *
 * Builds small hq_plan/hq_qplan/hq_slot structures by hand (no kernel, no
 * frontend), renders log records, group tables, counts and losses in the
 * three formats into memory and compares them with the expected text.
 *
 *   test_output              run the comparisons
 *   test_output --emit json  print a JSON stream of every kind (checked by jq)
 *   test_output --emit csv-log | csv-group   CSV streams (checked by Python)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "output_priv.h"

#define TS0 (1795938780ull * 1000000000ull + 123456789ull) /* 2026-11-29T07:53:00.123456789Z */

static int failures;

static void check_str(int line, const char *got, const char *want)
{
	if (!strcmp(got, want))
		return;
	failures++;
	fprintf(stderr, "test_output.c:%d: mismatch\n--- want\n%s\n--- got\n%s\n---\n", line, want,
	        got);
}
#define CHECK(got, want) check_str(__LINE__, (got), (want))

/* --- fields ------------------------------------------------------------------------ */

#define FIELD(var, fullname, t, ...)                                                               \
	static struct hq_field var = {.name = fullname, .full = fullname, .type = t, __VA_ARGS__}

FIELD(f_ip_src, "ip.src", HQ_T_IP4, .size = 4);
FIELD(f_ip_dst, "ip.dst", HQ_T_IP4, .size = 4);
FIELD(f_tcp_sport, "tcp.src_port", HQ_T_UINT, .nbits = 16);
FIELD(f_tcp_dport, "tcp.dst_port", HQ_T_UINT, .nbits = 16);
FIELD(f_tcp_flags, "tcp.flags", HQ_T_UINT, .nbits = 8, .fmt = "tcpflags");
FIELD(f_tcp_window, "tcp.window", HQ_T_UINT, .nbits = 16);
FIELD(f_eth_type, "eth.type", HQ_T_UINT, .nbits = 16, .fmt = "hex");
FIELD(f_eth_src, "eth.src", HQ_T_MAC, .size = 6);
FIELD(f_ip_df, "ip.df", HQ_T_BOOL, .nbits = 1);
FIELD(f_http_path, "http.path", HQ_T_STR, .size = 32);
FIELD(f_ip6_src, "ip6.src", HQ_T_IP6, .size = 16);
FIELD(f_ip_csum, "ip.csum", HQ_T_UINT, .nbits = 16, .fmt = "hex");
FIELD(f_inet_src, "inet.src", HQ_T_INET);
FIELD(f_inet_dst, "inet.dst", HQ_T_INET);
FIELD(f_udp_sport, "udp.src_port", HQ_T_UINT, .nbits = 16);
FIELD(f_udp_dport, "udp.dst_port", HQ_T_UINT, .nbits = 16);
FIELD(f_dns_qname, "dns.qname", HQ_T_STR, .size = 64);
FIELD(f_inet_ttl, "inet.ttl", HQ_T_UINT, .nbits = 8);

/* --- plans ---------------------------------------------------------------------------- */

struct fx {
	struct hq_query q;
	struct hq_slot slots[16];
	struct hq_agg_slot aggs[8];
};

static unsigned fx_size(const struct hq_field *f)
{
	switch (f->type) {
	case HQ_T_UINT:
	case HQ_T_BOOL:
		return 8;
	case HQ_T_IP4:
		return 4;
	case HQ_T_IP6:
		return 16;
	case HQ_T_INET:
		return 20;
	case HQ_T_MAC:
		return 6;
	default:
		return f->size;
	}
}

/* Lay slots out as plan.c does: 8-byte aligned from `off`. */
static unsigned fx_place(struct hq_slot *s, struct hq_field **f, int n, unsigned off)
{
	for (int i = 0; i < n; i++) {
		s[i] = (struct hq_slot){
		    .field = f[i], .label = f[i]->full, .type = f[i]->type, .present_bit = i};
		s[i].size = fx_size(f[i]);
		s[i].off = off;
		off = (off + s[i].size + 7u) & ~7u;
	}
	return off;
}

static void fx_query(struct hq_qplan *qp, struct fx *fx, const char *name, int id)
{
	memset(qp, 0, sizeof(*qp));
	memset(&fx->q, 0, sizeof(fx->q));
	fx->q.name = (char *)name;
	fx->q.index = id;
	qp->q = &fx->q;
	qp->id = id;
	snprintf(qp->name, sizeof(qp->name), "hq_q%d", id);
}

static void fx_log(struct hq_qplan *qp, struct fx *fx, const char *name, int id,
                   struct hq_field **f, int n)
{
	fx_query(qp, fx, name, id);
	fx->q.action = HQ_ACT_LOG;
	qp->fields = fx->slots;
	qp->n_fields = n;
	qp->n_present_words = 1;
	qp->rec_size = fx_place(fx->slots, f, n, sizeof(struct hq_rec_hdr) + 8);
}

static void fx_group(struct hq_qplan *qp, struct fx *fx, const char *name, struct hq_field **keys,
                     int n_keys, const struct hq_agg_slot *aggs, int n_aggs)
{
	fx_query(qp, fx, name, 0);
	fx->q.action = HQ_ACT_GROUP;
	qp->keys = fx->slots;
	qp->n_keys = n_keys;
	qp->key_size = fx_place(fx->slots, keys, n_keys, 8);
	memcpy(fx->aggs, aggs, (size_t)n_aggs * sizeof(*aggs));
	qp->aggs = fx->aggs;
	qp->n_aggs = n_aggs;
}

/* --- records and keys ---------------------------------------------------------------- */

static void fx_set(uint8_t *base, uint8_t *present, const struct hq_slot *s, const void *v,
                   size_t n)
{
	present[s->present_bit / 8] |= (uint8_t)(1u << (s->present_bit % 8));
	memcpy(base + s->off, v, n);
}

static void fx_u64(uint8_t *base, uint8_t *present, const struct hq_slot *s, uint64_t v)
{
	fx_set(base, present, s, &v, sizeof(v));
}

static void fx_str(uint8_t *base, uint8_t *present, const struct hq_slot *s, const char *v)
{
	fx_set(base, present, s, v, strlen(v));
}

static void fx_inet(uint8_t *base, uint8_t *present, const struct hq_slot *s, uint32_t family,
                    const void *addr)
{
	uint8_t b[20] = {0};
	memcpy(b, &family, 4);
	memcpy(b + 4, addr, family == 4 ? 4 : 16);
	fx_set(base, present, s, b, sizeof(b));
}

static uint8_t *fx_rec_present(uint8_t *rec)
{
	return rec + sizeof(struct hq_rec_hdr);
}

/* --- capture --------------------------------------------------------------------------- */

struct cap {
	char *out, *err;
	size_t n_out, n_err;
	FILE *fo, *fe;
	struct hq_output *o;
};

static struct hq_output *cap_open(struct cap *c, enum hq_format fmt, const struct hq_plan *plan)
{
	memset(c, 0, sizeof(*c));
	c->fo = open_memstream(&c->out, &c->n_out);
	c->fe = open_memstream(&c->err, &c->n_err);
	c->o = output_new(fmt, plan, c->fo, c->fe);
	return c->o;
}

static void cap_close(struct cap *c)
{
	c->o->ops->destroy(c->o);
	fclose(c->fo);
	fclose(c->fe);
	if (!c->out) /* nothing written */
		c->out = strdup("");
	if (!c->err)
		c->err = strdup("");
}

static void cap_free(struct cap *c)
{
	free(c->out);
	free(c->err);
}

/* --- value_format ------------------------------------------------------------------------ */

static const char *vf(const struct hq_field *f, const void *bytes, bool human)
{
	static char buf[OUT_VALUE_MAX];
	struct hq_slot s = {.field = f, .label = f->full, .type = f->type, .size = fx_size(f)};
	value_format(buf, sizeof(buf), &s, bytes, human);
	return buf;
}

static const char *vf_u(const struct hq_field *f, uint64_t v, bool human)
{
	return vf(f, &v, human);
}

static void test_values_uint(void)
{
	CHECK(vf_u(&f_eth_type, 0x0800, true), "0x0800");
	CHECK(vf_u(&f_eth_type, 0x0800, false), "2048");
	CHECK(vf_u(&f_ip_csum, 0x1c46, true), "0x1c46");
	CHECK(vf_u(&f_ip_csum, 0, true), "0x0000");
	CHECK(vf_u(&f_tcp_dport, 65535, true), "65535");
	CHECK(vf_u(&f_tcp_dport, UINT64_MAX, false), "18446744073709551615");
	CHECK(vf_u(&f_ip_df, 1, true), "true");
	CHECK(vf_u(&f_ip_df, 0, true), "false");
	CHECK(vf_u(&f_ip_df, 1, false), "1");
	CHECK(vf_u(&f_ip_df, 0, false), "0");
}

static void test_values_flags(void)
{
	static const struct {
		uint64_t v;
		const char *s;
	} t[] = {
	    {0x02, "[S]"},   {0x12, "[S.]"}, {0x04, "[R]"},   {0x14, "[R.]"},
	    {0x11, "[F.]"},  {0x18, "[P.]"}, {0x10, "[.]"},   {0x00, "[none]"},
	    {0xc2, "[SEW]"}, {0x30, "[.U]"}, {0x52, "[S.E]"}, {0xff, "[FSRP.UEW]"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(vf_u(&f_tcp_flags, t[i].v, true), t[i].s);
	CHECK(vf_u(&f_tcp_flags, 0x12, false), "18");
}

static void test_values_addr(void)
{
	static const uint8_t v4[4] = {192, 168, 1, 254};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [7] = 1, [13] = 1, [15] = 1};
	static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1};
	static const uint8_t any6[16] = {0};
	static const uint8_t mac[6] = {0xaa, 0xbb, 0xcc, 0x0d, 0x0e, 0xff};
	uint8_t inet[20] = {0};
	uint32_t fam;

	CHECK(vf(&f_ip_src, v4, true), "192.168.1.254");
	CHECK(vf(&f_ip6_src, v6, true), "2001:db8::1");
	CHECK(vf(&f_ip6_src, v6b, false), "2001:db8:0:1::1:1");
	CHECK(vf(&f_ip6_src, mapped, true), "::ffff:10.0.0.1");
	CHECK(vf(&f_ip6_src, any6, true), "::");
	CHECK(vf(&f_eth_src, mac, true), "aa:bb:cc:0d:0e:ff");
	fam = 4;
	memcpy(inet, &fam, 4);
	memcpy(inet + 4, v4, 4);
	CHECK(vf(&f_inet_src, inet, false), "192.168.1.254");
	fam = 6;
	memcpy(inet, &fam, 4);
	memcpy(inet + 4, v6, 16);
	CHECK(vf(&f_inet_src, inet, true), "2001:db8::1");
	fam = 0;
	memcpy(inet, &fam, 4);
	CHECK(vf(&f_inet_src, inet, true), "?");
}

static void test_values_str(void)
{
	char b[64] = {0};
	char small[8];
	struct hq_slot s = {
	    .field = &f_http_path, .label = "http.path", .type = HQ_T_STR, .size = 32};

	strcpy(b, "/a b\"c\\d\n\t\x01\xff\xc3\xa9");
	CHECK(vf(&f_http_path, b, true), "/a b\\\"c\\\\d\\n\\t\\x01\\xff\xc3\xa9");
	CHECK(vf(&f_http_path, b, false), b);
	memset(b, 'x', 32); /* no NUL inside the slot: the slot size bounds it */
	b[32] = 'y';
	CHECK(vf(&f_http_path, b, false), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	/* output is cut to the buffer, never overrun */
	int n = value_format(small, sizeof(small), &s, (const uint8_t *)b, true);
	CHECK(small, "xxxxxxx");
	if (n != 7) {
		failures++;
		fprintf(stderr, "value_format returned %d, want 7\n", n);
	}
	/* overlong and surrogate encodings are not UTF-8 */
	CHECK(vf(&f_http_path, "\xc0\xaf\xed\xa0\x80", true), "\\xc0\\xaf\\xed\\xa0\\x80");
}

/* --- log records ------------------------------------------------------------------------- */

static struct hq_field *log4_fields[] = {&f_ip_src,    &f_ip_dst,     &f_tcp_sport, &f_tcp_dport,
                                         &f_tcp_flags, &f_tcp_window, &f_eth_type,  &f_eth_src,
                                         &f_ip_df,     &f_http_path,  &f_ip6_src,   &f_ip_csum};

/* A TCP SYN-ACK record with every field but ip6.src (the first five only
 * when the query logs only those). */
static void rec_tcp4(const struct hq_qplan *qp, uint8_t *rec, const char *path)
{
	static const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
	static const uint8_t mac[6] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	uint8_t *p = fx_rec_present(rec);
	const struct hq_slot *s = qp->fields;
	memset(rec, 0, qp->rec_size);
	((struct hq_rec_hdr *)rec)->num = 7;
	fx_set(rec, p, &s[0], src, 4);
	fx_set(rec, p, &s[1], dst, 4);
	fx_u64(rec, p, &s[2], 443);
	fx_u64(rec, p, &s[3], 51544);
	fx_u64(rec, p, &s[4], 0x12);
	if (qp->n_fields < 12)
		return;
	fx_u64(rec, p, &s[5], 0);
	fx_u64(rec, p, &s[6], 0x0800);
	fx_set(rec, p, &s[7], mac, 6);
	fx_u64(rec, p, &s[8], 1);
	if (path)
		fx_str(rec, p, &s[9], path);
	fx_u64(rec, p, &s[11], 0x1c46);
}

#define PATH_NASTY "/a b\"c,d\ne\xff\xc3\xa9"

static const char *render_log(enum hq_format fmt, const struct hq_plan *plan,
                              const struct hq_qplan *qp, const uint8_t *rec, struct cap *c)
{
	cap_open(c, fmt, plan);
	c->o->ops->log_record(c->o, qp, (const struct hq_rec_hdr *)rec, rec, TS0);
	cap_close(c);
	return c->out;
}

static void test_log_tcp4(void)
{
	struct fx fx;
	struct hq_qplan qp;
	struct hq_plan plan = {.qplans = &qp, .n_qplans = 1};
	uint8_t rec[512];
	struct cap c;

	fx_log(&qp, &fx, "q1", 0, log4_fields, 12);
	rec_tcp4(&qp, rec, PATH_NASTY);
	CHECK(render_log(HQ_FMT_TEXT, &plan, &qp, rec, &c),
	      "07:53:00.123456 10.0.0.1:443 > 10.0.0.2:51544 [S.] tcp.window=0 eth.type=0x0800 "
	      "eth.src=aa:bb:cc:dd:ee:ff ip.df=true http.path=\"/a b\\\"c,d\\ne\\xff\xc3\xa9\" "
	      "ip.csum=0x1c46\n");
	CHECK(c.err, "");
	cap_free(&c);
	CHECK(render_log(HQ_FMT_JSON, &plan, &qp, rec, &c),
	      "{\"type\":\"log\",\"query\":\"q1\",\"ts\":\"2026-11-29T07:53:00.123456789Z\","
	      "\"ip.src\":\"10.0.0.1\",\"ip.dst\":\"10.0.0.2\",\"tcp.src_port\":443,"
	      "\"tcp.dst_port\":51544,\"tcp.flags\":18,\"tcp.window\":0,\"eth.type\":2048,"
	      "\"eth.src\":\"aa:bb:cc:dd:ee:ff\",\"ip.df\":true,"
	      "\"http.path\":\"/a b\\\"c,d\\ne\\u00ff\xc3\xa9\",\"ip.csum\":7238}\n");
	cap_free(&c);
	CHECK(render_log(HQ_FMT_CSV, &plan, &qp, rec, &c),
	      "ts,query,ip.src,ip.dst,tcp.src_port,tcp.dst_port,tcp.flags,tcp.window,eth.type,"
	      "eth.src,ip.df,http.path,ip6.src,ip.csum\n"
	      "2026-11-29T07:53:00.123456789Z,q1,10.0.0.1,10.0.0.2,443,51544,18,0,2048,"
	      "aa:bb:cc:dd:ee:ff,1,\"/a b\"\"c,d\ne\xc3\xbf\xc3\xa9\",,7238\n");
	cap_free(&c);

	/* absent values: omitted in text/json, empty in csv; empty string quoted */
	memset(rec, 0, qp.rec_size);
	fx_u64(rec, fx_rec_present(rec), &qp.fields[3], 80);
	fx_str(rec, fx_rec_present(rec), &qp.fields[9], "");
	CHECK(render_log(HQ_FMT_TEXT, &plan, &qp, rec, &c),
	      "07:53:00.123456 tcp.dst_port=80 http.path=\"\"\n");
	cap_free(&c);
	CHECK(render_log(HQ_FMT_JSON, &plan, &qp, rec, &c),
	      "{\"type\":\"log\",\"query\":\"q1\",\"ts\":\"2026-11-29T07:53:00.123456789Z\","
	      "\"tcp.dst_port\":80,\"http.path\":\"\"}\n");
	cap_free(&c);
	CHECK(render_log(HQ_FMT_CSV, &plan, &qp, rec, &c),
	      "ts,query,ip.src,ip.dst,tcp.src_port,tcp.dst_port,tcp.flags,tcp.window,eth.type,"
	      "eth.src,ip.df,http.path,ip6.src,ip.csum\n"
	      "2026-11-29T07:53:00.123456789Z,q1,,,,80,,,,,,,,\n");
	cap_free(&c);
}

static struct hq_field *log_inet_fields[] = {&f_inet_src,  &f_inet_dst,  &f_udp_sport,
                                             &f_udp_dport, &f_dns_qname, &f_ip_src};

static void test_log_inet(void)
{
	static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t d6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x53};
	static const uint8_t s4[4] = {10, 1, 2, 3}, d4[4] = {8, 8, 8, 8};
	struct fx fx;
	struct hq_qplan qp;
	struct hq_plan plan = {.qplans = &qp, .n_qplans = 1};
	uint8_t rec[512] = {0}, *p = fx_rec_present(rec);
	struct cap c;

	fx_log(&qp, &fx, "dns", 0, log_inet_fields, 6);
	fx_inet(rec, p, &qp.fields[0], 6, s6);
	fx_inet(rec, p, &qp.fields[1], 6, d6);
	fx_u64(rec, p, &qp.fields[2], 5353);
	fx_u64(rec, p, &qp.fields[3], 53);
	fx_str(rec, p, &qp.fields[4], "example.com");
	CHECK(render_log(HQ_FMT_TEXT, &plan, &qp, rec, &c),
	      "07:53:00.123456 [2001:db8::1]:5353 > [2001:db8::53]:53 dns.qname=example.com\n");
	cap_free(&c);
	CHECK(render_log(HQ_FMT_JSON, &plan, &qp, rec, &c),
	      "{\"type\":\"log\",\"query\":\"dns\",\"ts\":\"2026-11-29T07:53:00.123456789Z\","
	      "\"inet.src\":\"2001:db8::1\",\"inet.dst\":\"2001:db8::53\",\"udp.src_port\":5353,"
	      "\"udp.dst_port\":53,\"dns.qname\":\"example.com\"}\n");
	cap_free(&c);

	/* IPv4 in an inet slot; ip.src repeats inet.src and is not printed twice */
	memset(rec, 0, sizeof(rec));
	fx_inet(rec, p, &qp.fields[0], 4, s4);
	fx_inet(rec, p, &qp.fields[1], 4, d4);
	fx_u64(rec, p, &qp.fields[3], 53);
	fx_set(rec, p, &qp.fields[5], s4, 4);
	CHECK(render_log(HQ_FMT_TEXT, &plan, &qp, rec, &c),
	      "07:53:00.123456 10.1.2.3 > 8.8.8.8 udp.dst_port=53\n");
	cap_free(&c);

	/* only one side present: no arrow, plain pairs */
	memset(rec, 0, sizeof(rec));
	fx_inet(rec, p, &qp.fields[0], 4, s4);
	fx_u64(rec, p, &qp.fields[2], 1234);
	CHECK(render_log(HQ_FMT_TEXT, &plan, &qp, rec, &c),
	      "07:53:00.123456 inet.src=10.1.2.3 udp.src_port=1234\n");
	cap_free(&c);
}

/* --- group tables -------------------------------------------------------------------------- */

static struct hq_field *grp_keys[] = {&f_tcp_dport, &f_ip_src};

static const struct hq_agg_slot grp_aggs[] = {
    {.kind = HQ_AGG_COUNT, .label = "count()"},
    {.kind = HQ_AGG_AVG, .label = "avg(ip.len)"},
    {.kind = HQ_AGG_SUM, .label = "sum(ip.len)", .hidden = true},
    {.kind = HQ_AGG_MAX, .label = "max(ip.len)"},
    {.kind = HQ_AGG_DISTINCT, .label = "distinct(tcp.src_port)"},
};

struct grp_data {
	uint8_t keys[2][64];
	struct hq_agg_value vals[2][5];
	struct hq_group_row rows[2];
};

static void grp_build(const struct hq_qplan *qp, struct grp_data *d)
{
	static const uint8_t src[4] = {10, 0, 0, 1};
	memset(d, 0, sizeof(*d));
	fx_u64(d->keys[0], d->keys[0], &qp->keys[0], 80);
	if (qp->n_keys > 1)
		fx_set(d->keys[0], d->keys[0], &qp->keys[1], src, 4);
	fx_u64(d->keys[1], d->keys[1], &qp->keys[0], 443);
	d->vals[0][0] = (struct hq_agg_value){.valid = true, .u = 3};
	d->vals[0][1] = (struct hq_agg_value){.valid = true, .avg = 512.5};
	d->vals[0][2] = (struct hq_agg_value){.valid = true, .u = 1537};
	d->vals[0][3] = (struct hq_agg_value){.valid = true, .u = 900};
	d->vals[0][4] = (struct hq_agg_value){.valid = true, .u = 2};
	d->vals[1][0] = (struct hq_agg_value){.valid = true, .u = 1};
	d->vals[1][1] = (struct hq_agg_value){.valid = true, .avg = 1.0 / 3};
	d->vals[1][3] = (struct hq_agg_value){.valid = false};
	d->vals[1][4] = (struct hq_agg_value){.valid = true, .u = 1};
	for (int i = 0; i < 2; i++)
		d->rows[i] = (struct hq_group_row){d->keys[i], d->vals[i]};
}

static const char *render_groups(enum hq_format fmt, const struct hq_plan *plan,
                                 const struct hq_qplan *qp, const struct hq_group_row *rows, int n,
                                 struct cap *c)
{
	cap_open(c, fmt, plan);
	c->o->ops->group_table(c->o, qp, rows, n, TS0);
	cap_close(c);
	return c->out;
}

static void test_groups(void)
{
	struct fx fx;
	struct hq_qplan qp;
	struct hq_plan plan = {.qplans = &qp, .n_qplans = 1};
	struct grp_data d;
	struct cap c;

	fx_group(&qp, &fx, "q1", grp_keys, 2, grp_aggs, 5);
	grp_build(&qp, &d);
	CHECK(
	    render_groups(HQ_FMT_TEXT, &plan, &qp, d.rows, 2, &c),
	    "tcp.dst_port  ip.src    count()  avg(ip.len)  max(ip.len)  distinct(tcp.src_port)\n"
	    "          80  10.0.0.1        3       512.50          900                       2\n"
	    "         443  -               1         0.33            -                       1\n");
	cap_free(&c);
	CHECK(render_groups(HQ_FMT_JSON, &plan, &qp, d.rows, 2, &c),
	      "{\"type\":\"group\",\"query\":\"q1\",\"ts\":\"2026-11-29T07:53:00.123456789Z\","
	      "\"tcp.dst_port\":80,\"ip.src\":\"10.0.0.1\",\"count()\":3,\"avg(ip.len)\":512.5,"
	      "\"max(ip.len)\":900,\"distinct(tcp.src_port)\":2}\n"
	      "{\"type\":\"group\",\"query\":\"q1\",\"ts\":\"2026-11-29T07:53:00.123456789Z\","
	      "\"tcp.dst_port\":443,\"ip.src\":null,\"count()\":1,"
	      "\"avg(ip.len)\":0.3333333333333333,\"max(ip.len)\":null,"
	      "\"distinct(tcp.src_port)\":1}\n");
	cap_free(&c);
	CHECK(render_groups(HQ_FMT_CSV, &plan, &qp, d.rows, 2, &c),
	      "ts,query,tcp.dst_port,ip.src,count(),avg(ip.len),max(ip.len),"
	      "distinct(tcp.src_port)\n"
	      "2026-11-29T07:53:00.123456789Z,q1,80,10.0.0.1,3,512.5,900,2\n"
	      "2026-11-29T07:53:00.123456789Z,q1,443,,1,0.3333333333333333,,1\n");
	cap_free(&c);

	/* empty table: header only in text and csv, nothing in json */
	CHECK(render_groups(HQ_FMT_TEXT, &plan, &qp, d.rows, 0, &c),
	      "tcp.dst_port  ip.src  count()  avg(ip.len)  max(ip.len)  distinct(tcp.src_port)\n");
	cap_free(&c);
	CHECK(render_groups(HQ_FMT_JSON, &plan, &qp, d.rows, 0, &c), "");
	cap_free(&c);
	CHECK(render_groups(HQ_FMT_CSV, &plan, &qp, d.rows, 0, &c),
	      "ts,query,tcp.dst_port,ip.src,count(),avg(ip.len),max(ip.len),"
	      "distinct(tcp.src_port)\n");
	cap_free(&c);
}

/* with `every`: a time line before each table, csv header only once */
static void test_groups_every(void)
{
	struct fx fx;
	struct hq_qplan qp;
	struct hq_plan plan = {.qplans = &qp, .n_qplans = 1};
	struct grp_data d;
	struct cap c;

	fx_group(&qp, &fx, "q1", grp_keys, 1, grp_aggs, 1);
	fx.q.every_ns = 1000000000ull;
	grp_build(&qp, &d);
	cap_open(&c, HQ_FMT_TEXT, &plan);
	c.o->ops->group_table(c.o, &qp, d.rows, 2, TS0);
	c.o->ops->group_table(c.o, &qp, d.rows, 1, TS0 + 1000000000ull);
	cap_close(&c);
	CHECK(c.out, "07:53:00\n"
	             "tcp.dst_port  count()\n"
	             "          80        3\n"
	             "         443        1\n"
	             "\n"
	             "07:53:01\n"
	             "tcp.dst_port  count()\n"
	             "          80        3\n");
	cap_free(&c);
	cap_open(&c, HQ_FMT_CSV, &plan);
	c.o->ops->group_table(c.o, &qp, d.rows, 1, TS0);
	c.o->ops->group_table(c.o, &qp, d.rows + 1, 1, TS0 + 1000000000ull);
	cap_close(&c);
	CHECK(c.out, "ts,query,tcp.dst_port,count()\n"
	             "2026-11-29T07:53:00.123456789Z,q1,80,3\n"
	             "2026-11-29T07:53:01.123456789Z,q1,443,1\n");
	cap_free(&c);
}

/* --- histograms ------------------------------------------------------------------------------- */

static struct hq_field *hist_keys[] = {&f_inet_ttl};

static void test_hist(void)
{
	const struct hq_agg_slot aggs[] = {
	    {.kind = HQ_AGG_HIST, .label = "hist(ip.len)", .n_buckets = 65},
	};
	uint64_t buckets[65] = {[0] = 1, [2] = 4, [11] = 2};
	uint8_t key[16] = {0};
	struct hq_agg_value v = {.valid = true, .buckets = buckets};
	struct hq_group_row row = {key, &v};
	struct fx fx;
	struct hq_qplan qp;
	struct hq_plan plan = {.qplans = &qp, .n_qplans = 1};
	struct cap c;

	fx_group(&qp, &fx, "q1", hist_keys, 1, aggs, 1);
	fx_u64(key, key, &qp.keys[0], 64);
	CHECK(render_groups(HQ_FMT_TEXT, &plan, &qp, &row, 1, &c),
	      "@hist(ip.len)[inet.ttl=64]:\n"
	      "[0]                    1 |@@@@@@@@@@@@@                                       |\n"
	      "[1]                    0 |                                                    |\n"
	      "[2, 4)                 4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	      "[4, 8)                 0 |                                                    |\n"
	      "[8, 16)                0 |                                                    |\n"
	      "[16, 32)               0 |                                                    |\n"
	      "[32, 64)               0 |                                                    |\n"
	      "[64, 128)              0 |                                                    |\n"
	      "[128, 256)             0 |                                                    |\n"
	      "[256, 512)             0 |                                                    |\n"
	      "[512, 1K)              0 |                                                    |\n"
	      "[1K, 2K)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	      "\n");
	cap_free(&c);
	CHECK(render_groups(HQ_FMT_JSON, &plan, &qp, &row, 1, &c),
	      "{\"type\":\"group\",\"query\":\"q1\",\"ts\":\"2026-11-29T07:53:00.123456789Z\","
	      "\"inet.ttl\":64,\"hist(ip.len)\":[{\"min\":0,\"max\":0,\"count\":1},"
	      "{\"min\":2,\"max\":3,\"count\":4},{\"min\":1024,\"max\":2047,\"count\":2}]}\n");
	cap_free(&c);
	CHECK(render_groups(HQ_FMT_CSV, &plan, &qp, &row, 1, &c),
	      "ts,query,inet.ttl,hist(ip.len)\n"
	      "2026-11-29T07:53:00.123456789Z,q1,64,\"0-0:1;2-3:4;1024-2047:2\"\n");
	cap_free(&c);

	/* the top buckets: suffixes up to E, 2^64 - 1 as the last bound */
	memset(buckets, 0, sizeof(buckets));
	buckets[63] = 1;
	buckets[64] = 3;
	CHECK(render_groups(HQ_FMT_TEXT, &plan, &qp, &row, 1, &c),
	      "@hist(ip.len)[inet.ttl=64]:\n"
	      "[4E, 8E)               1 |@@@@@@@@@@@@@@@@@                                   |\n"
	      "[8E, 16E)              3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	      "\n");
	cap_free(&c);
	CHECK(render_groups(HQ_FMT_CSV, &plan, &qp, &row, 1, &c),
	      "ts,query,inet.ttl,hist(ip.len)\n"
	      "2026-11-29T07:53:00.123456789Z,q1,64,\"4611686018427387904-9223372036854775807:1;"
	      "9223372036854775808-18446744073709551615:3\"\n");
	cap_free(&c);

	/* all buckets empty: the block has no bars */
	memset(buckets, 0, sizeof(buckets));
	CHECK(render_groups(HQ_FMT_TEXT, &plan, &qp, &row, 1, &c),
	      "@hist(ip.len)[inet.ttl=64]:\n\n");
	cap_free(&c);
}

static void test_lhist(void)
{
	const struct hq_agg_slot aggs[] = {
	    {.kind = HQ_AGG_COUNT, .label = "count()"},
	    {.kind = HQ_AGG_LHIST,
	     .label = "lhist(ip.len, 10, 100, 10)",
	     .lmin = 10,
	     .lmax = 100,
	     .lstep = 10,
	     .n_buckets = 11},
	};
	uint64_t buckets[11] = {[0] = 1, [1] = 2, [5] = 4, [10] = 3};
	uint8_t key[16] = {0};
	struct hq_agg_value v[2] = {{.valid = true, .u = 10}, {.valid = true, .buckets = buckets}};
	struct hq_group_row row = {key, v};
	struct fx fx;
	struct hq_qplan qp;
	struct hq_plan plan = {.qplans = &qp, .n_qplans = 1};
	struct cap c;

	fx_group(&qp, &fx, "q1", hist_keys, 1, aggs, 2);
	CHECK(render_groups(HQ_FMT_TEXT, &plan, &qp, &row, 1, &c),
	      "inet.ttl  count()\n"
	      "       -       10\n"
	      "\n"
	      "@lhist(ip.len, 10, 100, 10)[inet.ttl=-]:\n"
	      "(..., 10)              1 |@@@@@@@@@@@@@                                       |\n"
	      "[10, 20)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	      "[20, 30)               0 |                                                    |\n"
	      "[30, 40)               0 |                                                    |\n"
	      "[40, 50)               0 |                                                    |\n"
	      "[50, 60)               4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	      "[60, 70)               0 |                                                    |\n"
	      "[70, 80)               0 |                                                    |\n"
	      "[80, 90)               0 |                                                    |\n"
	      "[90, 100)              0 |                                                    |\n"
	      "[100, ...)             3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@             |\n"
	      "\n");
	cap_free(&c);
	CHECK(render_groups(HQ_FMT_JSON, &plan, &qp, &row, 1, &c),
	      "{\"type\":\"group\",\"query\":\"q1\",\"ts\":\"2026-11-29T07:53:00.123456789Z\","
	      "\"inet.ttl\":null,\"count()\":10,\"lhist(ip.len, 10, 100, 10)\":["
	      "{\"min\":null,\"max\":9,\"count\":1},{\"min\":10,\"max\":19,\"count\":2},"
	      "{\"min\":50,\"max\":59,\"count\":4},{\"min\":100,\"max\":null,\"count\":3}]}\n");
	cap_free(&c);
	CHECK(render_groups(HQ_FMT_CSV, &plan, &qp, &row, 1, &c),
	      "ts,query,inet.ttl,count(),\"lhist(ip.len, 10, 100, 10)\"\n"
	      "2026-11-29T07:53:00.123456789Z,q1,,10,\"<10:1;10-19:2;50-59:4;>=100:3\"\n");
	cap_free(&c);
}

/* lhist with a step of 1K: bounds get K suffixes; a range that is not a
 * multiple of the step ends its last bucket at max. */
static void test_lhist_kilo(void)
{
	const struct hq_agg_slot aggs[] = {
	    {.kind = HQ_AGG_LHIST,
	     .label = "lhist(x)",
	     .lmin = 0,
	     .lmax = 2560,
	     .lstep = 1024,
	     .n_buckets = 5},
	};
	uint64_t buckets[5] = {0, 1, 1, 1, 1};
	struct hq_agg_value v = {.valid = true, .buckets = buckets};
	uint8_t key[8] = {0};
	struct hq_group_row row = {key, &v};
	struct fx fx;
	struct hq_qplan qp;
	struct hq_plan plan = {.qplans = &qp, .n_qplans = 1};
	struct cap c;

	fx_group(&qp, &fx, "q1", NULL, 0, aggs, 1);
	CHECK(render_groups(HQ_FMT_TEXT, &plan, &qp, &row, 1, &c),
	      "@lhist(x):\n"
	      "[0, 1K)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	      "[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	      "[2K, 2560)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	      "[2560, ...)            1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	      "\n");
	cap_free(&c);
	CHECK(render_groups(HQ_FMT_CSV, &plan, &qp, &row, 1, &c),
	      "ts,query,lhist(x)\n"
	      "2026-11-29T07:53:00.123456789Z,q1,\"0-1023:1;1024-2047:1;2048-2559:1;>=2560:1\"\n");
	cap_free(&c);
}

/* --- counts, several queries, losses -----------------------------------------------------------
 */

static void test_counts(void)
{
	struct fx fx[2];
	struct hq_qplan qp[2];
	struct hq_plan plan = {.qplans = qp, .n_qplans = 1};
	struct cap c;

	fx_query(&qp[0], &fx[0], "q1", 0);
	fx_query(&qp[1], &fx[1], "syn", 1);
	fx[1].q.every_ns = 1000000000ull;

	cap_open(&c, HQ_FMT_TEXT, &plan);
	c.o->ops->count(c.o, &qp[0], 42, TS0);
	cap_close(&c);
	CHECK(c.out, "42 packets\n");
	cap_free(&c);

	plan.n_qplans = 2;
	cap_open(&c, HQ_FMT_TEXT, &plan);
	c.o->ops->count(c.o, &qp[0], 1, TS0);
	c.o->ops->count(c.o, &qp[1], 5, TS0);
	cap_close(&c);
	CHECK(c.out, "q1: 1 packet\n07:53:00 syn: 5 packets\n");
	cap_free(&c);

	cap_open(&c, HQ_FMT_JSON, &plan);
	c.o->ops->count(c.o, &qp[0], 1, TS0);
	c.o->ops->count(c.o, &qp[1], 5, TS0);
	cap_close(&c);
	CHECK(c.out,
	      "{\"type\":\"count\",\"query\":\"q1\",\"ts\":\"2026-11-29T07:53:00.123456789Z\","
	      "\"count\":1}\n"
	      "{\"type\":\"count\",\"query\":\"syn\",\"ts\":\"2026-11-29T07:53:00.123456789Z\","
	      "\"count\":5}\n");
	cap_free(&c);

	cap_open(&c, HQ_FMT_CSV, &plan);
	c.o->ops->count(c.o, &qp[0], 1, TS0);
	c.o->ops->count(c.o, &qp[1], 5, TS0);
	c.o->ops->count(c.o, &qp[0], 2, TS0);
	cap_close(&c);
	CHECK(c.out, "ts,query,count\n"
	             "2026-11-29T07:53:00.123456789Z,q1,1\n"
	             "ts,query,count\n"
	             "2026-11-29T07:53:00.123456789Z,syn,5\n"
	             "2026-11-29T07:53:00.123456789Z,q1,2\n");
	cap_free(&c);
}

/* several queries: group tables and log lines carry the query name */
static void test_multi(void)
{
	struct fx fx[2];
	struct hq_qplan qp[2];
	struct hq_plan plan = {.qplans = qp, .n_qplans = 2};
	struct grp_data d;
	uint8_t rec[512];
	struct cap c;

	fx_group(&qp[0], &fx[0], "ports", grp_keys, 1, grp_aggs, 1);
	fx_log(&qp[1], &fx[1], "synack", 1, log4_fields, 5);
	grp_build(&qp[0], &d);
	rec_tcp4(&qp[1], rec, NULL);

	cap_open(&c, HQ_FMT_TEXT, &plan);
	c.o->ops->log_record(c.o, &qp[1], (const struct hq_rec_hdr *)rec, rec, TS0);
	c.o->ops->group_table(c.o, &qp[0], d.rows, 2, TS0);
	cap_close(&c);
	CHECK(c.out, "07:53:00.123456 synack: 10.0.0.1:443 > 10.0.0.2:51544 [S.]\n"
	             "\n"
	             "ports:\n"
	             "tcp.dst_port  count()\n"
	             "          80        3\n"
	             "         443        1\n");
	cap_free(&c);
}

static void test_loss(void)
{
	struct hq_plan plan = {0};
	struct hq_loss none = {.packets = 1000};
	struct hq_loss some = {.packets = 5000, .rb_drops = 12, .map_full = 3, .truncated = 1};
	struct hq_loss all = {1, 2, 3, 4, 5, 6, true};
	struct cap c;

	cap_open(&c, HQ_FMT_TEXT, &plan);
	c.o->ops->loss(c.o, &none, TS0);
	fflush(c.fe);
	CHECK(c.err ? c.err : "", "");
	c.o->ops->loss(c.o, &some, TS0);
	cap_close(&c);
	CHECK(c.out, "");
	CHECK(c.err, "hdrq: lost 12 log records (ring buffer full), 3 group updates (map full), "
	             "1 packets (truncated before a needed header)\n"
	             "hdrq: 5000 packets seen\n");
	cap_free(&c);

	cap_open(&c, HQ_FMT_CSV, &plan);
	c.o->ops->loss(c.o, &all, TS0);
	cap_close(&c);
	CHECK(c.out, "");
	CHECK(c.err, "hdrq: lost 2 log records (ring buffer full), 4 log records (rate limit), "
	             "3 group updates (map full), 5 packets (truncated before a needed header), "
	             "6 frames (shorter than an Ethernet header)\n"
	             "hdrq: 1 packet seen\n");
	cap_free(&c);

	cap_open(&c, HQ_FMT_JSON, &plan);
	c.o->ops->loss(c.o, &none, TS0);
	c.o->ops->loss(c.o, &all, TS0);
	cap_close(&c);
	CHECK(c.out,
	      "{\"type\":\"loss\",\"ts\":\"2026-11-29T07:53:00.123456789Z\",\"packets\":1000,"
	      "\"ringbuf_drops\":0,\"map_full\":0,\"rate_limited\":0,\"truncated\":0,"
	      "\"skipped_frames\":0,\"total\":false}\n"
	      "{\"type\":\"loss\",\"ts\":\"2026-11-29T07:53:00.123456789Z\",\"packets\":1,"
	      "\"ringbuf_drops\":2,\"map_full\":3,\"rate_limited\":4,\"truncated\":5,"
	      "\"skipped_frames\":6,\"total\":true}\n");
	CHECK(c.err, "");
	cap_free(&c);

	/* no loss report at all (e.g. an error before the run): no summary */
	cap_open(&c, HQ_FMT_TEXT, &plan);
	cap_close(&c);
	CHECK(c.err, "");
	cap_free(&c);
}

/* --- streams for the external parsers -----------------------------------------------------------
 */

static void emit_json(void)
{
	struct fx fx[3];
	struct hq_qplan qp[3];
	struct hq_plan plan = {.qplans = qp, .n_qplans = 3};
	const struct hq_agg_slot hist[] = {
	    {.kind = HQ_AGG_COUNT, .label = "count()"},
	    {.kind = HQ_AGG_HIST, .label = "hist(ip.len)", .n_buckets = 65},
	};
	uint64_t buckets[65] = {[0] = 1, [5] = 9, [64] = 2};
	struct hq_agg_value hv[2] = {{.valid = true, .u = 12}, {.valid = true, .buckets = buckets}};
	uint8_t hkey[16] = {0}, rec[512];
	struct hq_group_row hrow = {hkey, hv};
	struct grp_data d;
	struct hq_loss loss = {100, 1, 2, 3, 4, 5, true};
	struct hq_output *o = output_new(HQ_FMT_JSON, &plan, stdout, stderr);

	fx_log(&qp[0], &fx[0], "q1", 0, log4_fields, 12);
	fx_group(&qp[1], &fx[1], "q2", grp_keys, 2, grp_aggs, 5);
	qp[1].id = 1;
	fx_group(&qp[2], &fx[2], "q3", hist_keys, 1, hist, 2);
	qp[2].id = 2;
	grp_build(&qp[1], &d);
	fx_u64(hkey, hkey, &qp[2].keys[0], 255);

	for (int i = 0; i < 256; i += 37) { /* strings with every kind of byte */
		char path[33];
		for (int k = 0; k < 32; k++)
			path[k] = (char)(1 + (i + k * 7) % 255);
		path[32] = '\0';
		rec_tcp4(&qp[0], rec, path);
		o->ops->log_record(o, &qp[0], (const struct hq_rec_hdr *)rec, rec, TS0 + i);
	}
	rec_tcp4(&qp[0], rec, PATH_NASTY);
	o->ops->log_record(o, &qp[0], (const struct hq_rec_hdr *)rec, rec, TS0);
	o->ops->group_table(o, &qp[1], d.rows, 2, TS0);
	o->ops->group_table(o, &qp[2], &hrow, 1, TS0);
	o->ops->count(o, &qp[0], 7, TS0);
	o->ops->loss(o, &loss, TS0);
	o->ops->destroy(o);
}

static void emit_csv_log(void)
{
	struct fx fx;
	struct hq_qplan qp;
	struct hq_plan plan = {.qplans = &qp, .n_qplans = 1};
	uint8_t rec[512];
	struct hq_output *o = output_new(HQ_FMT_CSV, &plan, stdout, stderr);

	fx_log(&qp, &fx, "q1", 0, log4_fields, 12);
	rec_tcp4(&qp, rec, PATH_NASTY);
	o->ops->log_record(o, &qp, (const struct hq_rec_hdr *)rec, rec, TS0);
	rec_tcp4(&qp, rec, "\"quoted\"\r\nline,2");
	o->ops->log_record(o, &qp, (const struct hq_rec_hdr *)rec, rec, TS0);
	rec_tcp4(&qp, rec, NULL);
	o->ops->log_record(o, &qp, (const struct hq_rec_hdr *)rec, rec, TS0);
	o->ops->destroy(o);
}

static void emit_csv_group(void)
{
	struct fx fx;
	struct hq_qplan qp;
	struct hq_plan plan = {.qplans = &qp, .n_qplans = 1};
	const struct hq_agg_slot aggs[] = {
	    {.kind = HQ_AGG_AVG, .label = "avg(ip.len)"},
	    {.kind = HQ_AGG_HIST, .label = "hist(ip.len)", .n_buckets = 65},
	};
	uint64_t buckets[65] = {[0] = 1, [2] = 4};
	struct hq_agg_value v[2][2] = {
	    {{.valid = true, .avg = 2.5}, {.valid = true, .buckets = buckets}},
	    {{.valid = false}, {.valid = true, .buckets = buckets}}};
	uint8_t keys[2][16] = {{0}};
	struct hq_group_row rows[2] = {{keys[0], v[0]}, {keys[1], v[1]}};
	struct hq_output *o = output_new(HQ_FMT_CSV, &plan, stdout, stderr);

	fx_group(&qp, &fx, "q1", hist_keys, 1, aggs, 2);
	fx_u64(keys[0], keys[0], &qp.keys[0], 64);
	o->ops->group_table(o, &qp, rows, 2, TS0);
	o->ops->group_table(o, &qp, rows, 1, TS0 + 1000000000ull);
	o->ops->destroy(o);
}

int main(int argc, char **argv)
{
	setenv("TZ", "UTC", 1);
	tzset();
	if (argc == 3 && !strcmp(argv[1], "--emit")) {
		if (!strcmp(argv[2], "json"))
			emit_json();
		else if (!strcmp(argv[2], "csv-log"))
			emit_csv_log();
		else if (!strcmp(argv[2], "csv-group"))
			emit_csv_group();
		else
			return 2;
		return 0;
	}
	test_values_uint();
	test_values_flags();
	test_values_addr();
	test_values_str();
	test_log_tcp4();
	test_log_inet();
	test_groups();
	test_groups_every();
	test_hist();
	test_lhist();
	test_lhist_kilo();
	test_counts();
	test_multi();
	test_loss();
	if (failures)
		fprintf(stderr, "test_output: %d failure(s)\n", failures);
	else
		printf("test_output: all passed\n");
	return failures ? 1 : 0;
}
