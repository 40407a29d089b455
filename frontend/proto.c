/* proto.c — owns the protocol registry once it is loaded: lookups by name,
 * ancestry, freeing, type names, locating the stdlib, and the small helpers
 * (allocation, numbers, the walker/meta key tables) the loader files share.
 * Loading itself lives in proto_lex.c, proto_load.c and proto_resolve.c.
 */
#include "proto_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- helpers shared by the loader ------------------------------------------------ */

void *proto_xrealloc(void *ptr, size_t n, size_t size)
{
	size_t bytes = n * size;
	void *r = realloc(ptr, bytes ? bytes : 1);
	if (!r) {
		fputs("hdrq: out of memory\n", stderr);
		abort();
	}
	return r;
}

char *proto_xstrdup(const char *s)
{
	size_t len = strlen(s);
	char *r = proto_xrealloc(NULL, len + 1, 1);
	memcpy(r, s, len + 1);
	return r;
}

/* Capacity is implicit: 8, then the next power of two at or above n. */
void *proto_push(void *vp, int *n, size_t size)
{
	void **v = vp;
	int k = *n;
	if (k == 0 || (k >= 8 && (k & (k - 1)) == 0))
		*v = proto_xrealloc(*v, k == 0 ? 8 : 2 * (size_t)k, size);
	char *e = (char *)*v + (size_t)k * size;
	memset(e, 0, size);
	(*n)++;
	return e;
}

bool proto_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (!s[2])
			return false;
		v = strtoull(s + 2, &end, 16);
		if (s[2] == '-' || s[2] == '+')
			return false;
	} else {
		v = strtoull(s, &end, 10);
	}
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* The walkers the code generator implements and their keys: the same table as
 * docs/PROTO-FORMAT.md. A .hdr file may only name these. */
const char *const proto_walker_names[] = {"vlan", "ip4_opts", "ip6_ext", "tcp_opts",
                                          "dns",  "http",     "l4len",   NULL};
static const char *const keys_vlan[] = {"type", "inner_id", "inner_pcp", "inner_dei", NULL};
static const char *const keys_ip4_opts[] = {"dst", NULL};
static const char *const keys_ip6_ext[] = {"proto", "frag_off", "mf", NULL};
static const char *const keys_tcp_opts[] = {"opt.mss",     "opt.wscale", "opt.sack_perm",
                                            "opt.sack",    "opt.ts_val", "opt.ts_ecr",
                                            "payload_len", "retransmit", NULL};
static const char *const keys_dns[] = {"qname", "qtype", "qclass", NULL};
static const char *const keys_http[] = {"method", "path", "version", "host", "status", NULL};
static const char *const keys_l4len[] = {"payload_len", NULL};
static const char *const *const walker_keys[] = {
    keys_vlan, keys_ip4_opts, keys_ip6_ext, keys_tcp_opts, keys_dns, keys_http, keys_l4len};

const char *const *proto_walker_keys(const char *walker)
{
	for (int i = 0; proto_walker_names[i]; i++)
		if (strcmp(walker, proto_walker_names[i]) == 0)
			return walker_keys[i];
	return NULL;
}

const char *const proto_meta_keys[] = {"num", "len", "ifindex", "dir", "ts", NULL};

/* ---- public API ------------------------------------------------------------------- */

const char *proto_type_name(enum hq_type t)
{
	switch (t) {
	case HQ_T_NONE:
		return "none";
	case HQ_T_UINT:
		return "uint";
	case HQ_T_BOOL:
		return "bool";
	case HQ_T_IP4:
		return "ip4";
	case HQ_T_IP6:
		return "ip6";
	case HQ_T_INET:
		return "inet";
	case HQ_T_MAC:
		return "mac";
	case HQ_T_STR:
		return "str";
	}
	return "?";
}

static void field_free(struct hq_field *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->full);
	for (char **w = f->ws_names; w && *w; w++)
		free(*w);
	free(f->ws_names);
	free(f->help);
	free(f->fmt);
	free(f->when_values);
	free(f->when_hi);
	free(f->key);
	free(f->alts);
	free(f);
}

static void layer_free(struct hq_layer *l)
{
	if (!l)
		return;
	free(l->name);
	free(l->ws_name);
	free(l->help);
	for (int i = 0; i < l->n_links; i++)
		free(l->links[i].values);
	free(l->links);
	free(l->valid);
	free(l->next_if);
	free(l->stop);
	free(l->walker);
	free(l->yield_lo);
	free(l->yield_hi);
	for (int i = 0; i < l->n_fields; i++)
		field_free(l->fields[i]);
	free(l->fields);
	free(l);
}

static void source_free(struct hq_source *s)
{
	free((char *)s->name);
	free((char *)s->text);
	free(s);
}

static struct hq_source **kept_sources;
static int n_kept_sources;

static void free_kept_sources(void)
{
	for (int i = 0; i < n_kept_sources; i++)
		source_free(kept_sources[i]);
	free(kept_sources);
	kept_sources = NULL;
	n_kept_sources = 0;
}

void proto_keep_sources(struct hq_proto *p)
{
	static bool registered;
	if (!registered && p->n_sources)
		registered = atexit(free_kept_sources) == 0;
	for (int i = 0; i < p->n_sources; i++)
		*(struct hq_source **)proto_push(&kept_sources, &n_kept_sources,
		                                 sizeof(struct hq_source *)) = p->sources[i];
	p->n_sources = 0;
}

void proto_free(struct hq_proto *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->n_layers; i++)
		layer_free(p->layers[i]);
	free(p->layers);
	for (int i = 0; i < p->n_sources; i++)
		source_free(p->sources[i]);
	free(p->sources);
	free(p);
}

struct hq_layer *proto_layer(const struct hq_proto *p, const char *name)
{
	for (int i = 0; p && name && i < p->n_layers; i++)
		if (strcmp(p->layers[i]->name, name) == 0)
			return p->layers[i];
	return NULL;
}

struct hq_field *proto_layer_field(const struct hq_layer *l, const char *short_name)
{
	for (int i = 0; l && short_name && i < l->n_fields; i++)
		if (strcmp(l->fields[i]->name, short_name) == 0)
			return l->fields[i];
	return NULL;
}

struct hq_field *proto_field(const struct hq_proto *p, const char *name)
{
	if (!p || !name)
		return NULL;
	const char *dot = strchr(name, '.');
	if (dot) {
		char lname[64];
		size_t len = (size_t)(dot - name);
		if (len < sizeof(lname)) {
			memcpy(lname, name, len);
			lname[len] = 0;
			struct hq_field *f = proto_layer_field(proto_layer(p, lname), dot + 1);
			if (f)
				return f;
		}
	}
	for (int i = 0; i < p->n_layers; i++) {
		struct hq_layer *l = p->layers[i];
		for (int j = 0; j < l->n_fields; j++)
			for (char **w = l->fields[j]->ws_names; w && *w; w++)
				if (strcmp(*w, name) == 0)
					return l->fields[j];
	}
	return NULL;
}

bool proto_layer_under(const struct hq_layer *l, const struct hq_layer *anc)
{
	if (!l || !anc)
		return false;
	if (l == anc)
		return true;
	for (int i = 0; i < l->n_links; i++)
		if (l->links[i].parent != l && proto_layer_under(l->links[i].parent, anc))
			return true;
	return false;
}

static bool has_proto_dir(const char *dir)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/proto", dir);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *proto_stdlib_dir(void)
{
	const char *env = getenv("HDRQ_STDLIB");
	if (env && *env)
		return env;
#ifdef HQ_STDLIB_BUILD_DIR
	if (has_proto_dir(HQ_STDLIB_BUILD_DIR))
		return HQ_STDLIB_BUILD_DIR;
#endif
#ifdef HQ_STDLIB_INSTALL_DIR
	if (has_proto_dir(HQ_STDLIB_INSTALL_DIR))
		return HQ_STDLIB_INSTALL_DIR;
#endif
	(void)has_proto_dir;
	return NULL;
}
