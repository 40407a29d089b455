/* test_proto.c — unit tests of the protocol loader and the diagnostics it
 * uses. Modes (argv[1]):
 *   diag          printer layout, suggestions, span_join
 *   shape         load the real stdlib ($HDRQ_STDLIB) and check key fields
 *   reject FILE   every snippet of FILE (see reject.txt) fails at the
 *                 expected line:col with the expected message
 *   dump          print the loaded stdlib as TSV (for check_ws_names.py and
 *                 check_offsets.py)
 */
#include "diag.h"
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* ---- diag ---------------------------------------------------------------------- */

static char *print_to_string(const struct hq_diag *d, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	diag_print(d, f, color);
	fclose(f);
	return buf;
}

static void test_diag_print(void)
{
	struct hq_diag d;
	diag_init(&d);
	struct hq_source q = {"query", "tcp where tcp.flgas.rst group by dst_port"};
	struct hq_span s = {1, 11, 1, 23};
	CHECK(diag_error(&d, &q, s, "unknown field %s", "tcp.flgas.rst") == -1);
	diag_note(&d, NULL, (struct hq_span){0, 0, 0, 0}, "plain note");
	char *out = print_to_string(&d, false);
	CHECK(strcmp(out, "query:1:11: error: unknown field tcp.flgas.rst\n"
	                  "tcp where tcp.flgas.rst group by dst_port\n"
	                  "          ^~~~~~~~~~~~~\n"
	                  "hdrq: note: plain note\n") == 0);
	free(out);
	out = print_to_string(&d, true);
	CHECK(strstr(out, "\033[") != NULL);
	free(out);
	CHECK(diag_has_errors(&d));
	CHECK(d.n_errors == 1 && d.n == 2);
}

static void test_diag_tabs_and_overflow(void)
{
	struct hq_diag d;
	diag_init(&d);
	struct hq_source src = {"x.hdr", "layer x \"x\"\n\tfield a unt\n"};
	diag_error(&d, &src, (struct hq_span){2, 10, 2, 12}, "bad type");
	char *out = print_to_string(&d, false);
	CHECK(strcmp(out, "x.hdr:2:10: error: bad type\n\tfield a unt\n\t        ^~~\n") == 0);
	free(out);
	for (int i = 0; i < HQ_DIAG_MAX + 3; i++)
		diag_errorf(&d, "e%d", i);
	CHECK(d.n == HQ_DIAG_MAX);
	CHECK(d.n_errors == HQ_DIAG_MAX + 4);
	out = print_to_string(&d, false);
	CHECK(strstr(out, "4 more errors not shown") != NULL);
	free(out);
}

static void test_diag_suggest(void)
{
	const char *c[] = {"tcp.flags", "tcp.flags.rst", "tcp.src_port", "tcp.dst_port"};
	CHECK(diag_suggest("tcp.flgas", c, 4) == c[0]);
	CHECK(diag_suggest("TCP.DST_PROT", c, 4) == c[3]);
	CHECK(diag_suggest("udp.length", c, 4) == NULL);
	const char *d[] = {"ttl", "tos", "len"};
	CHECK(diag_suggest("tll", d, 3) == d[0]);
	CHECK(diag_suggest("xyz", d, 3) == NULL);
	CHECK(diag_suggest("", d, 3) == NULL);
	CHECK(diag_suggest("ttl", NULL, 0) == NULL);
	struct hq_span j = span_join((struct hq_span){1, 5, 1, 7}, (struct hq_span){1, 2, 1, 3});
	CHECK(j.line == 1 && j.col == 2 && j.end_line == 1 && j.end_col == 7);
	j = span_join((struct hq_span){0, 0, 0, 0}, (struct hq_span){2, 1, 3, 4});
	CHECK(j.line == 2 && j.end_line == 3 && j.end_col == 4);
}

/* ---- shape of the real stdlib ------------------------------------------------------ */

static struct hq_proto *load_stdlib(void)
{
	struct hq_diag d;
	diag_init(&d);
	const char *dir = proto_stdlib_dir();
	if (!dir) {
		fprintf(stderr, "no stdlib directory (set HDRQ_STDLIB)\n");
		exit(1);
	}
	struct hq_proto *p = proto_load_dir(dir, &d);
	if (!p) {
		diag_print(&d, stderr, false);
		exit(1);
	}
	return p;
}

static struct hq_field *F(struct hq_proto *p, const char *name)
{
	struct hq_field *f = proto_field(p, name);
	if (!f) {
		fprintf(stderr, "missing field %s\n", name);
		failures++;
		static struct hq_field dummy;
		static char *no_ws[] = {NULL};
		dummy.ws_names = no_ws;
		return &dummy;
	}
	return f;
}

static bool has_ws(const struct hq_field *f, const char *ws)
{
	for (char **w = f->ws_names; w && *w; w++)
		if (strcmp(*w, ws) == 0)
			return true;
	return false;
}

static bool fixed(const struct hq_field *f, unsigned off, unsigned bit, unsigned nbits,
                  unsigned mul)
{
	return f->src == HQ_FS_FIXED && f->off == off && f->bit == bit && f->nbits == nbits &&
	       f->mul == mul;
}

/* The link of l whose parent is named `parent`, or NULL. */
static const struct hq_link *link_to(const struct hq_layer *l, const char *parent)
{
	for (int i = 0; l && i < l->n_links; i++)
		if (strcmp(l->links[i].parent->name, parent) == 0)
			return &l->links[i];
	return NULL;
}

static void test_registry_order(struct hq_proto *p)
{
	static const char *const want[] = {"pkt", "eth", "vlan", "arp",   "ip",  "ip6", "inet",
	                                   "tcp", "udp", "icmp", "icmp6", "dns", "http"};
	CHECK(p->n_layers == 13);
	for (int i = 0; i < p->n_layers && i < 13; i++) {
		struct hq_layer *l = p->layers[i];
		CHECK(strcmp(l->name, want[i]) == 0);
		CHECK(l->index == i);
		for (int k = 0; k < l->n_links; k++)
			CHECK(l->links[k].parent->index < l->index);
		for (int k = 0; k < l->n_fields; k++) {
			struct hq_field *f = l->fields[k];
			char full[128];
			snprintf(full, sizeof(full), "%s.%s", l->name, f->name);
			CHECK(strcmp(f->full, full) == 0 && f->layer == l && f->help && *f->help);
			CHECK(proto_field(p, f->full) == f);
			for (char **w = f->ws_names; *w; w++)
				CHECK(proto_field(p, *w) == f);
		}
	}
	CHECK(proto_layer(p, "eth")->root && !proto_layer(p, "ip")->root);
	CHECK(proto_layer(p, "pkt")->pseudo && proto_layer(p, "inet")->pseudo);
}

static void test_ip(struct hq_proto *p)
{
	struct hq_layer *ip = proto_layer(p, "ip");
	CHECK(ip->size == 20 && ip->hlen == F(p, "ip.ihl") && ip->hlen_mul == 4 &&
	      ip->hlen_max == 60);
	CHECK(ip->n_valid == 2 && ip->valid[0].field == F(p, "ip.version") &&
	      ip->valid[0].op == HQ_CMP_EQ && ip->valid[0].value == 4);
	CHECK(ip->valid[1].field == F(p, "ip.ihl") && ip->valid[1].op == HQ_CMP_GE &&
	      ip->valid[1].value == 5);
	CHECK(ip->n_next_if == 2 && ip->next_if[0].field == F(p, "ip.frag_off") &&
	      ip->next_if[0].op == HQ_CMP_EQ && ip->next_if[0].value == 0);
	CHECK(ip->next_if[1].field == F(p, "ip.mf") && ip->next_if[1].op == HQ_CMP_EQ &&
	      ip->next_if[1].value == 0);
	const struct hq_field *et = F(p, "eth.type");
	CHECK(et->n_when_values == 2 && et->when_values[0] == 0 && et->when_hi[0] == 0 &&
	      et->when_values[1] == 0x600 && et->when_hi[1] == 0xffff);
	CHECK(ip->n_stop == 1 && ip->stop[0].field == F(p, "ip.len") &&
	      ip->stop[0].op == HQ_CMP_LT && ip->stop[0].rhs == F(p, "ip.hdr_len"));
	CHECK(F(p, "ip.len")->zero_rest && F(p, "ip.len")->stop_level == 0 &&
	      F(p, "ip.id")->stop_level == 1 && F(p, "ip.dst")->stop_level == 1);
	const struct hq_link *le = link_to(ip, "eth"), *lv = link_to(ip, "vlan");
	CHECK(le && le->field == F(p, "eth.type") && le->n_values == 1 && le->values[0] == 0x0800);
	CHECK(lv && lv->field == F(p, "vlan.type") && lv->values[0] == 0x0800);
	CHECK(fixed(F(p, "ip.ihl"), 0, 4, 4, 1) && F(p, "ip.ihl")->ws_names[0] == NULL);
	CHECK(fixed(F(p, "ip.hdr_len"), 0, 4, 4, 4) && has_ws(F(p, "ip.hdr_len"), "ip.hdr_len"));
	CHECK(fixed(F(p, "ip.frag_off"), 6, 3, 13, 1) &&
	      F(p, "ip.frag_offset") == F(p, "ip.frag_off"));
	CHECK(fixed(F(p, "ip.dscp"), 1, 0, 6, 1) && F(p, "ip.dsfield.dscp") == F(p, "ip.dscp"));
	CHECK(fixed(F(p, "ip.ecn"), 1, 6, 2, 1) && fixed(F(p, "ip.flags"), 6, 0, 3, 1));
	CHECK(F(p, "ip.flags.df") == F(p, "ip.df") && fixed(F(p, "ip.df"), 6, 1, 1, 1));
	CHECK(F(p, "ip.flags.mf") == F(p, "ip.mf") && F(p, "ip.mf")->type == HQ_T_BOOL);
	CHECK(F(p, "ip.src")->type == HQ_T_IP4 && F(p, "ip.src")->off == 12 &&
	      F(p, "ip.src")->size == 4);
	CHECK(F(p, "ip.dst")->src == HQ_FS_WALKER && strcmp(F(p, "ip.dst")->key, "dst") == 0 &&
	      ip->walker && strcmp(ip->walker, "ip4_opts") == 0);
	CHECK(F(p, "ip.id")->fmt && strcmp(F(p, "ip.id")->fmt, "hex") == 0);
	CHECK(F(p, "ip.options.len")->src == HQ_FS_WALKER &&
	      strcmp(F(p, "ip.options.len")->key, "hdr.opt_len") == 0);
}

static void test_ip6_inet(struct hq_proto *p)
{
	struct hq_layer *ip6 = proto_layer(p, "ip6");
	CHECK(ip6->walker && strcmp(ip6->walker, "ip6_ext") == 0 && ip6->size == 40);
	CHECK(link_to(ip6, "eth")->values[0] == 0x86dd);
	CHECK(F(p, "ipv6.hlim") == F(p, "ip6.hlim") && fixed(F(p, "ip6.hlim"), 7, 0, 8, 1));
	CHECK(fixed(F(p, "ip6.tclass"), 0, 4, 8, 1) && fixed(F(p, "ip6.flow"), 1, 4, 20, 1));
	CHECK(F(p, "ip6.src")->type == HQ_T_IP6 && F(p, "ip6.src")->off == 8 &&
	      F(p, "ip6.src")->size == 16);
	CHECK(F(p, "ip6.proto")->src == HQ_FS_WALKER && !strcmp(F(p, "ip6.proto")->key, "proto"));
	struct hq_field *src = F(p, "inet.src");
	CHECK(src->type == HQ_T_INET && src->src == HQ_FS_FIRST && src->n_alts == 2 &&
	      src->alts[0] == F(p, "ip.src") && src->alts[1] == F(p, "ip6.src") && src->size == 20);
	struct hq_field *ttl = F(p, "inet.ttl");
	CHECK(ttl->alts[0] == F(p, "ip.ttl") && ttl->alts[1] == F(p, "ip6.hlim"));
	struct hq_layer *inet = proto_layer(p, "inet");
	CHECK(inet->n_links == 2 && link_to(inet, "ip") && !link_to(inet, "ip")->field);
}

static void test_tcp(struct hq_proto *p)
{
	struct hq_layer *tcp = proto_layer(p, "tcp");
	CHECK(tcp->hlen == F(p, "tcp.off") && tcp->hlen_mul == 4 && tcp->hlen_max == 60);
	CHECK(tcp->walker && strcmp(tcp->walker, "tcp_opts") == 0);
	CHECK(tcp->n_valid == 1 && tcp->valid[0].op == HQ_CMP_GE && tcp->valid[0].value == 5);
	CHECK(link_to(tcp, "ip")->field == F(p, "ip.proto") && link_to(tcp, "ip")->values[0] == 6);
	CHECK(link_to(tcp, "ip6")->field == F(p, "ip6.proto"));
	CHECK(F(p, "tcp.flags.reset") == F(p, "tcp.flags.rst") &&
	      fixed(F(p, "tcp.flags.rst"), 13, 5, 1, 1));
	CHECK(fixed(F(p, "tcp.flags.syn"), 13, 6, 1, 1) &&
	      fixed(F(p, "tcp.flags.fin"), 13, 7, 1, 1));
	CHECK(fixed(F(p, "tcp.flags.cwr"), 13, 0, 1, 1) &&
	      fixed(F(p, "tcp.flags.ae"), 12, 7, 1, 1));
	struct hq_field *fl = F(p, "tcp.flags");
	CHECK(fixed(fl, 12, 4, 12, 1) && fl->fmt && strcmp(fl->fmt, "tcpflags") == 0);
	CHECK(F(p, "tcp.srcport") == F(p, "tcp.src_port") &&
	      fixed(F(p, "tcp.src_port"), 0, 0, 16, 1));
	CHECK(F(p, "tcp.seq_raw") == F(p, "tcp.seq") && fixed(F(p, "tcp.seq"), 4, 0, 32, 1));
	CHECK(F(p, "tcp.hdr_len") != F(p, "tcp.off") && F(p, "tcp.hdr_len")->mul == 4);
	CHECK(F(p, "tcp.window_size_value") == F(p, "tcp.window"));
	struct hq_field *mss = F(p, "tcp.opt.mss");
	CHECK(mss->src == HQ_FS_WALKER && strcmp(mss->key, "opt.mss") == 0 &&
	      has_ws(mss, "tcp.options.mss_val"));
	CHECK(F(p, "tcp.len") == F(p, "tcp.payload_len"));
}

static void test_upper(struct hq_proto *p)
{
	struct hq_field *id = F(p, "icmp.id");
	CHECK(id->when_field == F(p, "icmp.type") && id->n_when_values >= 2 &&
	      id->when_values[0] == 0 && id->when_values[1] == 8);
	CHECK(F(p, "icmpv6.type") == F(p, "icmp6.type"));
	CHECK(link_to(proto_layer(p, "icmp6"), "ip6")->values[0] == 58);
	struct hq_layer *dns = proto_layer(p, "dns");
	CHECK(dns->n_links == 2 && dns->links[0].field == F(p, "udp.src_port") &&
	      dns->links[1].field == F(p, "udp.dst_port") && dns->links[1].values[0] == 53);
	struct hq_field *qn = F(p, "dns.qry.name");
	CHECK(qn == F(p, "dns.qname") && qn->type == HQ_T_STR && qn->size == 256 &&
	      qn->src == HQ_FS_WALKER);
	CHECK(F(p, "dns.rcode")->when_field == F(p, "dns.qr"));
	CHECK(F(p, "http.request.method") == F(p, "http.method"));
	CHECK(link_to(proto_layer(p, "http"), "tcp")->values[0] == 80);
	struct hq_field *num = F(p, "pkt.num");
	CHECK(num->src == HQ_FS_META && strcmp(num->key, "num") == 0 &&
	      F(p, "frame.number") == num);
	CHECK(F(p, "vlan.id") && fixed(F(p, "vlan.id"), 0, 4, 12, 1));
	CHECK(F(p, "vlan.type")->src == HQ_FS_WALKER);
	CHECK(F(p, "arp.spa")->off == 14 && F(p, "arp.tpa")->off == 24 &&
	      F(p, "arp.sha")->type == HQ_T_MAC && F(p, "arp.sha")->size == 6);
}

static void test_lookups(struct hq_proto *p)
{
	CHECK(proto_field(p, "tcp.nope") == NULL && proto_field(p, "nope") == NULL);
	CHECK(proto_field(p, "") == NULL && proto_field(p, NULL) == NULL);
	CHECK(proto_layer(p, "sctp") == NULL);
	struct hq_layer *tcp = proto_layer(p, "tcp"), *http = proto_layer(p, "http");
	CHECK(proto_layer_under(tcp, proto_layer(p, "ip")));
	CHECK(proto_layer_under(tcp, proto_layer(p, "eth")));
	CHECK(proto_layer_under(tcp, proto_layer(p, "vlan")));
	CHECK(proto_layer_under(tcp, tcp));
	CHECK(!proto_layer_under(tcp, proto_layer(p, "udp")));
	CHECK(proto_layer_under(http, proto_layer(p, "ip6")));
	CHECK(!proto_layer_under(proto_layer(p, "dns"), tcp));
	CHECK(!proto_layer_under(tcp, proto_layer(p, "pkt")));
	CHECK(proto_layer_field(tcp, "flags.rst") == F(p, "tcp.flags.rst"));
	CHECK(strcmp(proto_type_name(HQ_T_INET), "inet") == 0);
}

/* Every field of the SPEC's table (§1) exists under the SPEC's name. */
static void test_spec_fields(struct hq_proto *p)
{
	static const char *const names[] = {
	    "pkt.num", "pkt.len", "pkt.ifindex", "pkt.dir", "pkt.ts", "eth.src", "eth.dst",
	    "eth.type", "vlan.id", "vlan.pcp", "vlan.dei", "vlan.inner_id", "arp.op", "arp.sha",
	    "arp.spa", "arp.tha", "arp.tpa", "ip.version", "ip.ihl", "ip.tos", "ip.dscp", "ip.ecn",
	    "ip.len", "ip.id", "ip.df", "ip.mf", "ip.frag_off", "ip.ttl", "ip.proto", "ip.csum",
	    "ip.src", "ip.dst", "ip.options", "ip.options.len", "ip6.tclass", "ip6.dscp",
	    "ip6.flow", "ip6.plen", "ip6.next", "ip6.hlim", "ip6.src", "ip6.dst", "ip6.proto",
	    "tcp.src_port", "tcp.dst_port", "tcp.seq", "tcp.ack", "tcp.off", "tcp.flags",
	    "tcp.flags.fin", "tcp.flags.syn", "tcp.flags.rst", "tcp.flags.psh", "tcp.flags.ack",
	    "tcp.flags.urg", "tcp.flags.ece", "tcp.flags.cwr", "tcp.window", "tcp.csum",
	    "tcp.urg_ptr", "tcp.payload_len", "tcp.opt.mss", "tcp.opt.wscale", "tcp.opt.sack_perm",
	    "tcp.opt.sack", "tcp.opt.ts_val", "tcp.opt.ts_ecr", "udp.src_port", "udp.dst_port",
	    "udp.len", "udp.csum", "icmp.type", "icmp.code", "icmp.id", "icmp.seq", "icmp6.type",
	    "icmp6.code", "icmp6.id", "icmp6.seq", "dns.id", "dns.qr", "dns.opcode", "dns.rcode",
	    "dns.qdcount", "dns.qtype", "dns.qname", "http.method", "http.path", "http.host",
	    "http.status", "inet.src", "inet.dst", "inet.ttl", "inet.proto",
	    /* Wireshark names the SPEC quotes */
	    "tcp.srcport", "tcp.flags.reset", "tcp.window_size_value", "ip.dsfield.dscp",
	    "ip.flags.df", "ip.frag_offset", "ipv6.hlim", "icmpv6.type", "dns.qry.name",
	    "http.request.method", NULL};
	for (int i = 0; names[i]; i++)
		if (!proto_field(p, names[i])) {
			fprintf(stderr, "SPEC field %s is missing\n", names[i]);
			failures++;
		}
}

static void test_load_entry_points(void)
{
	struct hq_diag d;
	diag_init(&d);
	CHECK(proto_load_dir("/nonexistent/hdrq", &d) == NULL && diag_has_errors(&d));
	diag_init(&d);
	struct hq_proto *p = proto_load_text("t.hdr",
	                                     "layer e \"e\" # comment\n root\n size 2\n"
	                                     " field t uint at 0 bits 16 fmt hex ws e.tt \"t\"\n"
	                                     "layer f \"f\"\n from e.t 0x1,2\n"
	                                     " field s str walker path size 8 \"say \\\"hi\\\"\"\n"
	                                     " walker http\n",
	                                     &d);
	CHECK(p != NULL);
	if (!p)
		return diag_print(&d, stderr, false);
	struct hq_field *s = proto_field(p, "f.s");
	CHECK(s && s->size == 8 && strcmp(s->help, "say \"hi\"") == 0);
	CHECK(proto_field(p, "e.tt") == proto_field(p, "e.t"));
	CHECK(p->layers[1]->links[0].n_values == 2 && p->layers[1]->links[0].values[1] == 2);
	proto_free(p);
}

static int run_shape(void)
{
	struct hq_proto *p = load_stdlib();
	test_registry_order(p);
	test_ip(p);
	test_ip6_inet(p);
	test_tcp(p);
	test_upper(p);
	test_lookups(p);
	test_spec_fields(p);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	proto_list_fields(p, "tcp", f);
	fclose(f);
	CHECK(strstr(buf, "tcp.flags.rst") && strstr(buf, "tcp.flags.reset") &&
	      !strstr(buf, "ip.src"));
	free(buf);
	proto_free(p);
	test_load_entry_points();
	return 0;
}

/* ---- reject table ---------------------------------------------------------------------- */

struct reject_case {
	int line, col, at; /* at: line of the ### header in the table file */
	char msg[256];
	char *text;
	size_t len;
};

static void run_case(const char *file, struct reject_case *c, int *n_cases)
{
	struct hq_diag d;
	diag_init(&d);
	char name[64];
	snprintf(name, sizeof(name), "case@%d", c->at);
	struct hq_proto *p = proto_load_text(name, c->text ? c->text : "", &d);
	const struct hq_diag_entry *e = NULL;
	for (int i = 0; i < d.n && !e; i++)
		if (d.entries[i].level == HQ_DIAG_ERROR)
			e = &d.entries[i];
	bool ok =
	    !p && e && e->span.line == c->line && e->span.col == c->col && strstr(e->msg, c->msg);
	if (!ok) {
		fprintf(stderr, "%s:%d: expected %d:%d \"%s\", got ", file, c->at, c->line, c->col,
		        c->msg);
		if (p)
			fprintf(stderr, "no error\n");
		else
			diag_print(&d, stderr, false);
		failures++;
	}
	(*n_cases)++;
	proto_free(p);
	free(c->text);
	c->text = NULL;
	c->len = 0;
}

static int run_reject(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		perror(file);
		return 1;
	}
	char line[1024];
	struct reject_case c = {0};
	int lineno = 0, n = 0;
	bool in_case = false;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (strncmp(line, "### ", 4) == 0) {
			if (in_case)
				run_case(file, &c, &n);
			in_case = true;
			c.at = lineno;
			int used = 0;
			if (sscanf(line + 4, "%d:%d %n", &c.line, &c.col, &used) < 2 || !used) {
				fprintf(stderr, "%s:%d: bad case header\n", file, lineno);
				failures++;
			}
			snprintf(c.msg, sizeof(c.msg), "%s", line + 4 + used);
			c.msg[strcspn(c.msg, "\n")] = 0;
		} else if (in_case) {
			size_t l = strlen(line);
			c.text = realloc(c.text, c.len + l + 1);
			memcpy(c.text + c.len, line, l + 1);
			c.len += l;
		}
	}
	if (in_case)
		run_case(file, &c, &n);
	fclose(f);
	printf("%d reject cases\n", n);
	CHECK(n >= 15);
	return 0;
}

/* ---- dump ------------------------------------------------------------------------------- */

static const char *src_name(enum hq_field_src s)
{
	return s == HQ_FS_FIXED    ? "at"
	       : s == HQ_FS_WALKER ? "walker"
	       : s == HQ_FS_META   ? "meta"
	                           : "first";
}

static void dump_field(const struct hq_field *f)
{
	printf("F\t%s\t%s\t%s\t%u\t%u\t%u\t%u\t%u\t%s\t", f->full, proto_type_name(f->type),
	       src_name(f->src), f->off, f->bit, f->nbits, f->size, f->mul, f->fmt ? f->fmt : "-");
	if (f->when_field) {
		printf("%s=", f->when_field->name);
		for (int i = 0; i < f->n_when_values; i++)
			printf("%s%llu", i ? "," : "", (unsigned long long)f->when_values[i]);
	} else {
		printf("-");
	}
	printf("\t%s\t", f->key ? f->key : "-");
	for (int i = 0; i < f->n_alts; i++)
		printf("%s%s", i ? "," : "", f->alts[i]->full);
	printf("%s\t", f->n_alts ? "" : "-");
	for (char **w = f->ws_names; *w; w++)
		printf("%s%s", w == f->ws_names ? "" : ",", *w);
	printf("%s\n", f->ws_names[0] ? "" : "-");
}

static void dump_layer(const struct hq_layer *l)
{
	printf("L\t%s\t%s\t%d\t%d\t%u\t%s\t%u\t%u\t%s\t", l->name, l->ws_name ? l->ws_name : "-",
	       l->root, l->pseudo, l->size, l->hlen ? l->hlen->name : "-", l->hlen_mul, l->hlen_max,
	       l->walker ? l->walker : "-");
	for (int i = 0; i < l->n_links; i++) {
		const struct hq_link *k = &l->links[i];
		printf("%s%s", i ? ";" : "", k->parent->name);
		if (k->field)
			printf(".%s=", k->field->name);
		for (int j = 0; j < k->n_values; j++)
			printf("%s%llu", j ? "," : "", (unsigned long long)k->values[j]);
	}
	static const char *ops[] = {"==", "!=", "<", "<=", ">", ">="};
	printf("\t");
	for (int i = 0; i < l->n_valid; i++)
		printf("%s%s%s%llu", i ? ";" : "", l->valid[i].field->name, ops[l->valid[i].op],
		       (unsigned long long)l->valid[i].value);
	printf("%s\t", l->n_valid ? "" : "-");
	for (int i = 0; i < l->n_next_if; i++)
		printf("%s%s%s%llu", i ? ";" : "", l->next_if[i].field->name, ops[l->next_if[i].op],
		       (unsigned long long)l->next_if[i].value);
	printf("%s\n", l->n_next_if ? "" : "-");
}

static int run_dump(void)
{
	struct hq_proto *p = load_stdlib();
	for (int i = 0; i < p->n_layers; i++) {
		dump_layer(p->layers[i]);
		for (int j = 0; j < p->layers[i]->n_fields; j++)
			dump_field(p->layers[i]->fields[j]);
	}
	proto_free(p);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int rc;
	if (strcmp(mode, "diag") == 0) {
		test_diag_print();
		test_diag_tabs_and_overflow();
		test_diag_suggest();
		rc = 0;
	} else if (strcmp(mode, "shape") == 0) {
		rc = run_shape();
	} else if (strcmp(mode, "reject") == 0 && argc > 2) {
		rc = run_reject(argv[2]);
	} else if (strcmp(mode, "dump") == 0) {
		return run_dump();
	} else {
		fprintf(stderr, "usage: test_proto diag|shape|reject FILE|dump\n");
		return 2;
	}
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return rc || failures ? 1 : 0;
}
