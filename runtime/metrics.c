/* metrics.c — `--metrics`: the libmicrohttpd server, the hand-over of the
 * exposition between the main loop and the server thread, the running
 * totals of `every` queries, and the rendering in the Prometheus text
 * format (metrics.h says which families and why). */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "lazylib.h"
#include "reader_groups.h"
#include "reader_stats.h"
#include "sys.h"

#ifndef HQ_VERSION
#define HQ_VERSION "0.0.0"
#endif

#define METRICS_WAIT_MS   1000
#define METRICS_LINGER_MS 50
#define METRICS_CTYPE     "text/plain; version=0.0.4; charset=utf-8"

/* --- running totals per query ---------------------------------------------- */

enum { MF_CUR = 1, MF_LAST = 2, MF_RET = 4 };

struct macc_entry {
	uint8_t *key;
	uint64_t *ret, *cur; /* acc->words each */
	uint8_t *flags;      /* per aggregate */
};

struct macc {
	unsigned key_size, words, *woff; /* word offset of each aggregate */
	struct macc_entry *e;
	size_t n, cap;
	size_t *tab, tcap; /* open addressing: entry index + 1, 0 empty */
};

struct hq_metrics {
	const struct hq_mhd *api; /* libmicrohttpd, loaded by metrics_start */
	struct MHD_Daemon *mhd;
	const struct hq_plan *plan;
	struct macc *acc; /* per query */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *text; /* the exposition served, under lock */
	size_t len;
	unsigned long gen;
	atomic_bool want;
	bool closing;
};

static bool agg_counter(enum hq_agg_kind k)
{
	return k == HQ_AGG_COUNT || k == HQ_AGG_SUM;
}

static bool agg_hist(enum hq_agg_kind k)
{
	return k == HQ_AGG_HIST || k == HQ_AGG_LHIST;
}

static int macc_init(struct macc *a, const struct hq_qplan *qp)
{
	a->key_size = qp->key_size;
	a->woff = calloc(qp->n_aggs + 1, sizeof(*a->woff));
	if (!a->woff)
		return -1;
	for (int i = 0; i < qp->n_aggs; i++) {
		a->woff[i] = a->words;
		/* a histogram: its buckets, then the sum of its values */
		a->words += agg_hist(qp->aggs[i].kind) ? qp->aggs[i].n_buckets + 1 : 1;
	}
	return 0;
}

static void macc_free(struct macc *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->e[i].key);
		free(a->e[i].ret);
		free(a->e[i].cur);
		free(a->e[i].flags);
	}
	free(a->e);
	free(a->tab);
	free(a->woff);
}

static size_t macc_hash(const uint8_t *k, unsigned n)
{
	uint64_t h = 1469598103934665603ull;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	return (size_t)h;
}

static int macc_rehash(struct macc *a)
{
	size_t nc = a->tcap ? a->tcap * 2 : 256;
	size_t *t = calloc(nc, sizeof(*t));
	if (!t)
		return -1;
	for (size_t i = 0; i < a->n; i++) {
		size_t h = macc_hash(a->e[i].key, a->key_size) & (nc - 1);
		while (t[h])
			h = (h + 1) & (nc - 1);
		t[h] = i + 1;
	}
	free(a->tab);
	a->tab = t;
	a->tcap = nc;
	return 0;
}

static struct macc_entry *macc_new_entry(struct macc *a, const uint8_t *key, unsigned nagg)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 64;
		struct macc_entry *e = realloc(a->e, nc * sizeof(*e));
		if (!e)
			return NULL;
		a->e = e;
		a->cap = nc;
	}
	struct macc_entry *e = &a->e[a->n];
	e->key = malloc(a->key_size);
	e->ret = calloc(a->words + 1, sizeof(uint64_t));
	e->cur = calloc(a->words + 1, sizeof(uint64_t));
	e->flags = calloc(nagg + 1, 1);
	if (!e->key || !e->ret || !e->cur || !e->flags) {
		free(e->key), free(e->ret), free(e->cur), free(e->flags);
		return NULL;
	}
	memcpy(e->key, key, a->key_size);
	a->n++;
	return e;
}

static struct macc_entry *macc_find(struct macc *a, const uint8_t *key, unsigned nagg)
{
	if ((a->n + 1) * 2 > a->tcap && macc_rehash(a))
		return NULL;
	size_t h = macc_hash(key, a->key_size) & (a->tcap - 1);
	for (; a->tab[h]; h = (h + 1) & (a->tcap - 1))
		if (!memcmp(a->e[a->tab[h] - 1].key, key, a->key_size))
			return &a->e[a->tab[h] - 1];
	struct macc_entry *e = macc_new_entry(a, key, nagg);
	if (e)
		a->tab[h] = a->n;
	return e;
}

/* Store one row's aggregates into `dst` (cur or ret), adding counters and
 * histograms when `add`; flag bit `fl` marks gauges that have a value. */
static void macc_store(const struct hq_qplan *qp, const struct macc *a, struct macc_entry *e,
                       const struct hq_group_row *row, uint64_t *dst, bool add, uint8_t fl)
{
	for (int i = 0; i < qp->n_aggs; i++) {
		const struct hq_agg_slot *s = &qp->aggs[i];
		const struct hq_agg_value *v = &row->aggs[i];
		uint64_t *w = dst + a->woff[i];
		if (agg_hist(s->kind)) {
			for (unsigned b = 0; v->buckets && b < s->n_buckets; b++)
				w[b] = (add ? w[b] : 0) + v->buckets[b];
			w[s->n_buckets] = (add ? w[s->n_buckets] : 0) + v->u;
		} else if (agg_counter(s->kind)) {
			*w = (add ? *w : 0) + v->u;
		} else if (v->valid) {
			if (s->kind == HQ_AGG_AVG)
				memcpy(w, &v->avg, sizeof(*w));
			else
				*w = v->u;
		}
		if (v->valid || agg_counter(s->kind) || agg_hist(s->kind))
			e->flags[i] |= fl;
		else
			e->flags[i] &= (uint8_t)~fl;
	}
}

void metrics_retire(struct hq_metrics *m, int q, const struct hq_group_row *rows, int n)
{
	const struct hq_qplan *qp = &m->plan->qplans[q];
	struct macc *a = &m->acc[q];
	for (int r = 0; r < n; r++) {
		struct macc_entry *e = macc_find(a, rows[r].key, (unsigned)qp->n_aggs);
		if (!e)
			return;
		macc_store(qp, a, e, &rows[r], e->ret, true, MF_LAST);
		for (int i = 0; i < qp->n_aggs; i++)
			e->flags[i] |= MF_RET;
	}
}

/* --- names, labels, values -------------------------------------------------------- */

/* Append `in` to a metric or label name: [A-Za-z0-9_], other characters as
 * one '_', no '_' at the end. */
static void name_append(char *out, size_t len, const char *in)
{
	size_t n = strlen(out);
	for (; *in && n + 1 < len; in++) {
		char c = *in;
		bool ok =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!ok && (!n || out[n - 1] == '_'))
			continue;
		out[n++] = ok ? c : '_';
	}
	while (n && out[n - 1] == '_')
		n--;
	out[n] = '\0';
}

static const char *query_name(const struct hq_qplan *qp)
{
	return qp->q && qp->q->name ? qp->q->name : qp->name;
}

/* hdrq_<query>_<what> */
static void family_name(char *out, size_t len, const struct hq_qplan *qp, const char *what)
{
	snprintf(out, len, "hdrq_");
	name_append(out, len, query_name(qp));
	size_t n = strlen(out);
	if (n + 1 < len)
		out[n++] = '_', out[n] = '\0';
	name_append(out, len, what);
}

static void help_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* A label value: \\ \" \n escaped; bytes that are not valid UTF-8 as the
 * code point of the same value (as the JSON output does). */
static void label_value(FILE *f, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == '\\' || c == '"')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c >= 0x80) {
			size_t u = 1;
			while (u < 4 && i + u < n && (s[i + u] & 0xc0) == 0x80)
				u++;
			bool valid = (u == 2 && c >= 0xc2 && c <= 0xdf) ||
			             (u == 3 && c >= 0xe0 && c <= 0xef) ||
			             (u == 4 && c >= 0xf0 && c <= 0xf4);
			if (valid) {
				fwrite(s + i, 1, u, f);
				i += u - 1;
			} else {
				fputc(0xc0 | c >> 6, f);
				fputc(0x80 | (c & 0x3f), f);
			}
		} else
			fputc(c, f);
	}
}

static void key_value(FILE *f, const struct hq_slot *s, const uint8_t *bytes)
{
	char buf[4200];
	uint64_t v;
	switch (s->type) {
	case HQ_T_UINT:
		memcpy(&v, bytes, sizeof(v));
		fprintf(f, "%llu", (unsigned long long)v);
		return;
	case HQ_T_BOOL:
		memcpy(&v, bytes, sizeof(v));
		fputs(v ? "true" : "false", f);
		return;
	case HQ_T_STR:
		label_value(f, bytes, strnlen((const char *)bytes, s->size));
		return;
	default:
		value_format(buf, sizeof(buf), s, bytes, false);
		label_value(f, (const uint8_t *)buf, strlen(buf));
	}
}

/* {k1="v1",k2="v2"  — left open for `le`; absent keys as "". Label names
 * are the key labels made names; a repeated one gets _2, _3, … */
static void labels_open(FILE *f, const struct hq_qplan *qp, const uint8_t *key)
{
	char names[16][128];
	fputc('{', f);
	for (int i = 0; i < qp->n_keys; i++) {
		const struct hq_slot *s = &qp->keys[i];
		char name[128] = "";
		name_append(name, sizeof(name), s->label);
		if (!name[0] || (name[0] >= '0' && name[0] <= '9') || !strncmp(name, "__", 2)) {
			char tmp[128];
			snprintf(tmp, sizeof(tmp), "k_%s", name);
			strcpy(name, tmp);
		}
		for (int j = 0; j < i && j < 16; j++)
			if (!strcmp(names[j], name)) { /* ip.src and ip_src: ip_src_2 */
				name[100] = '\0';
				snprintf(name + strlen(name), 16, "_%d", i + 1);
				break;
			}
		if (i < 16)
			strcpy(names[i], name);
		fprintf(f, "%s%s=\"", i ? "," : "", name);
		if (value_present(key, s->present_bit))
			key_value(f, s, key + s->off);
		fputc('"', f);
	}
}

static void labels_close(FILE *f, const struct hq_qplan *qp)
{
	fputs(qp->n_keys ? "}" : "", f);
}

/* --- rendering -------------------------------------------------------------------- */

static void family_head(FILE *f, const char *name, const char *type, const char *help,
                        const struct hq_qplan *qp)
{
	fprintf(f, "# HELP %s ", name);
	help_text(f, help);
	if (qp) {
		fputs(" of query ", f);
		help_text(f, query_name(qp));
		for (int i = 0; i < qp->n_keys; i++) {
			fputs(i ? ", " : " by ", f);
			help_text(f, qp->keys[i].label);
		}
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* The `le` of bucket b (inclusive upper bound; false: +Inf). */
static bool bucket_le(const struct hq_agg_slot *s, unsigned b, char *buf, size_t len)
{
	if (b + 1 >= s->n_buckets)
		return false;
	if (s->kind == HQ_AGG_HIST) {
		snprintf(buf, len, "%llu", b ? (unsigned long long)((1ull << b) - 1) : 0ull);
		return true;
	}
	int64_t hi = b == 0 ? s->lmin : s->lmin + (int64_t)b * s->lstep;
	if (hi > s->lmax)
		hi = s->lmax;
	snprintf(buf, len, "%lld", (long long)(hi - 1));
	return true;
}

static void render_hist(FILE *f, const char *name, const struct hq_qplan *qp,
                        const struct hq_agg_slot *s, const uint8_t *key, const uint64_t *ret,
                        const uint64_t *cur)
{
	uint64_t cum = 0;
	char le[32];
	for (unsigned b = 0; b < s->n_buckets; b++) {
		cum += ret[b] + cur[b];
		bool fin = bucket_le(s, b, le, sizeof(le));
		fprintf(f, "%s_bucket", name);
		labels_open(f, qp, key);
		fprintf(f, "%sle=\"%s\"} %llu\n", qp->n_keys ? "," : "", fin ? le : "+Inf",
		        (unsigned long long)cum);
	}
	unsigned n = s->n_buckets;
	fprintf(f, "%s_sum", name);
	labels_open(f, qp, key);
	labels_close(f, qp);
	fprintf(f, " %llu\n", (unsigned long long)(ret[n] + cur[n]));
	fprintf(f, "%s_count", name);
	labels_open(f, qp, key);
	labels_close(f, qp);
	fprintf(f, " %llu\n", (unsigned long long)cum);
}

static void render_value(FILE *f, const struct hq_agg_slot *s, const struct macc_entry *e,
                         unsigned w, int i)
{
	uint64_t v;
	if (agg_counter(s->kind)) {
		fprintf(f, " %llu\n", (unsigned long long)(e->ret[w] + e->cur[w]));
		return;
	}
	v = e->flags[i] & MF_CUR ? e->cur[w] : e->ret[w];
	if (s->kind == HQ_AGG_AVG) {
		double d;
		memcpy(&d, &v, sizeof(d));
		fprintf(f, " %.17g\n", d);
	} else {
		fprintf(f, " %llu\n", (unsigned long long)v);
	}
}

static void render_agg(FILE *f, const struct hq_qplan *qp, const struct macc *a, int i)
{
	const struct hq_agg_slot *s = &qp->aggs[i];
	char name[256];
	family_name(name, sizeof(name) - 8, qp, s->label);
	if (agg_counter(s->kind))
		strcat(name, "_total");
	family_head(f, name,
	            agg_hist(s->kind)      ? "histogram"
	            : agg_counter(s->kind) ? "counter"
	                                   : "gauge",
	            s->label, qp);
	for (size_t k = 0; k < a->n; k++) {
		const struct macc_entry *e = &a->e[k];
		uint8_t fl = e->flags[i];
		bool show = agg_counter(s->kind) || agg_hist(s->kind) ? fl & (MF_CUR | MF_RET)
		                                                      : fl & (MF_CUR | MF_LAST);
		if (!show)
			continue;
		if (agg_hist(s->kind)) {
			render_hist(f, name, qp, s, e->key, e->ret + a->woff[i],
			            e->cur + a->woff[i]);
			continue;
		}
		fputs(name, f);
		if (qp->n_keys) {
			labels_open(f, qp, e->key);
			labels_close(f, qp);
		}
		render_value(f, s, e, a->woff[i], i);
	}
}

/* Read query q's groups as they are now (no reset) into the cur values. */
static int read_current(struct hq_metrics *m, struct hq_run *r, int q)
{
	const struct hq_qplan *qp = &r->plan->qplans[q];
	struct macc *a = &m->acc[q];
	struct hq_group_dump g;
	struct hq_group_table t;
	for (size_t k = 0; k < a->n; k++) {
		memset(a->e[k].cur, 0, a->words * sizeof(uint64_t));
		for (int i = 0; i < qp->n_aggs; i++)
			a->e[k].flags[i] &= (uint8_t)~MF_CUR;
	}
	int err = groups_dump(r->ld->group_fds[q], qp->key_size, qp->val_size, r->ncpus, false, &g);
	if (!err) {
		if (r->anon_keys)
			r->anon_keys(r, qp, &g);
		err = groups_table(qp, &g, r->ncpus, &t);
	}
	if (err) {
		groups_dump_free(&g);
		return err;
	}
	for (int k = 0; k < t.n; k++) { /* rows point into g */
		struct macc_entry *e = macc_find(a, t.rows[k].key, (unsigned)qp->n_aggs);
		if (e)
			macc_store(qp, a, e, &t.rows[k], e->cur, false, MF_CUR);
	}
	groups_table_free(&t);
	groups_dump_free(&g);
	return 0;
}

static void render_query(FILE *f, struct hq_metrics *m, struct hq_run *r, int q)
{
	const struct hq_qplan *qp = &r->plan->qplans[q];
	char name[256];
	if (qp->q->action == HQ_ACT_COUNT) {
		family_name(name, sizeof(name), qp, "packets_total");
		family_head(f, name, "counter", "packets matched", qp);
		fprintf(f, "%s %llu\n", name, (unsigned long long)stats_query(r, q));
	} else if (qp->q->action == HQ_ACT_LOG) {
		family_name(name, sizeof(name), qp, "records_total");
		family_head(f, name, "counter", "log records printed", qp);
		fprintf(f, "%s %llu\n", name, (unsigned long long)r->q_logged[q]);
	} else if (qp->q->action == HQ_ACT_GROUP) {
		if (read_current(m, r, q)) {
			fprintf(f, "# hdrq: cannot read the groups of query %s\n", query_name(qp));
			return;
		}
		for (int i = 0; i < qp->n_aggs; i++)
			if (!qp->aggs[i].hidden)
				render_agg(f, qp, &m->acc[q], i);
	}
}

static void render_counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family_head(f, name, "counter", help, NULL);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static void render_health(FILE *f, struct hq_run *r)
{
	struct hq_loss l;
	stats_loss(r, &l);
	family_head(f, "hdrq_build_info", "gauge", "hdrq version", NULL);
	fprintf(f, "hdrq_build_info{version=\"%s\",mode=\"%s\"} 1\n", HQ_VERSION,
	        r->offline ? "offline" : "live");
	render_counter(f, "hdrq_packets_total", "packets the program ran on", l.packets);
	render_counter(f, "hdrq_ringbuf_drops_total", "log records lost: ring buffer full",
	               l.rb_drops);
	render_counter(f, "hdrq_map_full_drops_total", "group updates lost: map full", l.map_full);
	render_counter(f, "hdrq_rate_limited_total", "log records held back by the rate limit",
	               l.rate_drops);
	render_counter(f, "hdrq_truncated_packets_total", "packets cut before a needed header",
	               l.truncated);
	render_counter(f, "hdrq_skipped_frames_total", "capture frames hdrq could not run",
	               l.skipped_frames);
}

static char *render(struct hq_metrics *m, struct hq_run *r, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	render_health(f, r);
	for (int q = 0; q < r->plan->n_qplans; q++)
		render_query(f, m, r, q);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void metrics_service(struct hq_metrics *m, struct hq_run *r, bool force)
{
	if (!m || (!force && !atomic_load(&m->want)))
		return;
	atomic_store(&m->want, false);
	size_t len = 0;
	char *text = render(m, r, &len);
	pthread_mutex_lock(&m->lock);
	if (text) {
		free(m->text);
		m->text = text;
		m->len = len;
	}
	m->gen++;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

void metrics_linger(struct hq_metrics *m, struct hq_run *r, double seconds,
                    volatile sig_atomic_t *signalled)
{
	uint64_t end = sys_mono_ns() + (uint64_t)(seconds * 1e9);
	metrics_service(m, r, true);
	while (!*signalled && sys_mono_ns() < end) {
		poll(NULL, 0, METRICS_LINGER_MS);
		metrics_service(m, r, false);
	}
}

/* --- the server ------------------------------------------------------------------- */

/* Copy of the exposition, fresh if the main loop answers within the wait. */
static char *metrics_fresh(struct hq_metrics *m, size_t *len)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += METRICS_WAIT_MS / 1000;
	pthread_mutex_lock(&m->lock);
	unsigned long gen = m->gen;
	atomic_store(&m->want, true);
	while (m->gen == gen && !m->closing)
		if (pthread_cond_timedwait(&m->cond, &m->lock, &until) == ETIMEDOUT)
			break;
	char *copy = malloc(m->len + 1);
	if (copy) {
		memcpy(copy, m->text ? m->text : "", m->len);
		copy[m->len] = '\0';
		*len = m->len;
	}
	pthread_mutex_unlock(&m->lock);
	return copy;
}

static enum MHD_Result metrics_reply(const struct hq_metrics *m, struct MHD_Connection *c,
                                     unsigned status, char *body, size_t len, const char *ctype)
{
	struct MHD_Response *resp =
	    m->api->MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	m->api->MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	enum MHD_Result ret = m->api->MHD_queue_response(c, status, resp);
	m->api->MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result metrics_handler(void *cls, struct MHD_Connection *c, const char *url,
                                       const char *method, const char *version, const char *upload,
                                       size_t *upload_size, void **state)
{
	struct hq_metrics *m = cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return metrics_reply(m, c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET only\n"), 9,
		                     "text/plain");
	if (!strcmp(url, "/metrics")) {
		size_t len = 0;
		char *body = metrics_fresh(m, &len);
		if (!body)
			return MHD_NO;
		return metrics_reply(m, c, MHD_HTTP_OK, body, len, METRICS_CTYPE);
	}
	if (!strcmp(url, "/")) {
		const char *s = "hdrq: metrics at /metrics\n";
		return metrics_reply(m, c, MHD_HTTP_OK, strdup(s), strlen(s), "text/plain");
	}
	return metrics_reply(m, c, MHD_HTTP_NOT_FOUND, strdup("not found\n"), 10, "text/plain");
}

/* ADDR:PORT, [ADDR6]:PORT, :PORT -> a socket address (numeric only). */
static int metrics_addr(const char *listen, struct sockaddr_storage *ss, socklen_t *sl,
                        struct hq_diag *d)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	size_t hl = (size_t)(colon - listen);
	const char *h = listen;
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']')
		h++, hl -= 2;
	if (hl >= sizeof(host))
		return diag_errorf(d, "--metrics %s: address too long", listen);
	memcpy(host, h, hl);
	host[hl] = '\0';
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
	                         .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int err = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res);
	if (err)
		return diag_errorf(d, "--metrics %s: %s (give a numeric address)", listen,
		                   gai_strerror(err));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

struct hq_metrics *metrics_start(const char *listen, const struct hq_plan *plan, struct hq_diag *d)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	if (metrics_addr(listen, &ss, &sl, d))
		return NULL;
	struct hq_metrics *m = calloc(1, sizeof(*m));
	if (!m || !(m->acc = calloc(plan->n_qplans + 1, sizeof(*m->acc))))
		return free(m), diag_errorf(d, "out of memory"), NULL;
	m->plan = plan;
	if (!(m->api = lazy_mhd(d)))
		return free(m->acc), free(m), NULL;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	for (int q = 0; q < plan->n_qplans; q++)
		if (macc_init(&m->acc[q], &plan->qplans[q]))
			return metrics_stop(m), diag_errorf(d, "out of memory"), NULL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	m->mhd = m->api->MHD_start_daemon(flags, 0, NULL, NULL, metrics_handler, m,
	                                  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	                                  MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!m->mhd) {
		diag_errorf(d, "--metrics %s: cannot listen: %s", listen,
		            errno ? strerror(errno) : "libmicrohttpd refused");
		metrics_stop(m);
		return NULL;
	}
	const union MHD_DaemonInfo *info =
	    m->api->MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);
	char host[INET6_ADDRSTRLEN + 2] = "";
	getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	fprintf(stderr, "hdrq: metrics on http://%s%s%s:%u/metrics\n",
	        ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "",
	        info ? info->port : 0);
	return m;
}

void metrics_stop(struct hq_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->closing = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	if (m->mhd)
		m->api->MHD_stop_daemon(m->mhd);
	for (int q = 0; m->acc && q < m->plan->n_qplans; q++)
		macc_free(&m->acc[q]);
	free(m->acc);
	free(m->text);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	free(m);
}
