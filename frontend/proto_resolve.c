/* proto_resolve.c — owns the second pass of loading: once every .hdr file is
 * read, resolve the names recorded as pending references (parents of `from`
 * lines, fields of hlen/valid/next_if/stop_if/when, `first` alternatives) and check
 * what only the whole registry can tell: parents defined before children,
 * one root, walker keys, types of referenced fields. Sets layer->index.
 */
#include "proto_int.h"

#include <stdlib.h>
#include <string.h>

static int ref_err(struct ploader *L, const struct pref *r, const char *fmt, const char *a,
                   const char *b, const char *sug)
{
	char msg[HQ_DIAG_MSG_MAX];
	snprintf(msg, sizeof(msg), fmt, a, b);
	if (sug)
		return diag_error(L->d, r->src, r->span, "%s; did you mean '%s'?", msg, sug);
	return diag_error(L->d, r->src, r->span, "%s", msg);
}

static const char *suggest_layer(struct hq_proto *p, const char *name)
{
	const char **names = proto_xrealloc(NULL, (size_t)p->n_layers + 1, sizeof(char *));
	for (int i = 0; i < p->n_layers; i++)
		names[i] = p->layers[i]->name;
	const char *s = diag_suggest(name, names, p->n_layers);
	free(names);
	return s;
}

static const char *suggest_field(const struct hq_layer *l, const char *name)
{
	const char **names = proto_xrealloc(NULL, (size_t)l->n_fields + 1, sizeof(char *));
	for (int i = 0; i < l->n_fields; i++)
		names[i] = l->fields[i]->name;
	const char *s = diag_suggest(name, names, l->n_fields);
	free(names);
	return s;
}

/* A numeric field of layer l, named by its short name. */
static struct hq_field *own_field(struct ploader *L, const struct pref *r, const struct hq_layer *l,
                                  const char *name)
{
	struct hq_field *f = proto_layer_field(l, name);
	if (!f) {
		ref_err(L, r, "layer '%s' has no field '%s'", l->name, name,
		        suggest_field(l, name));
		return NULL;
	}
	if (f->type != HQ_T_UINT && f->type != HQ_T_BOOL) {
		ref_err(L, r, "field '%s' is %s; only uint and bool fields can be compared",
		        f->full, proto_type_name(f->type), NULL);
		return NULL;
	}
	return f;
}

/* Parent layer `name` of layer l, which must be defined earlier. */
static struct hq_layer *earlier_layer(struct ploader *L, const struct pref *r, const char *name)
{
	struct hq_layer *par = proto_layer(L->p, name);
	if (!par) {
		ref_err(L, r, "unknown layer '%s'%s", name, "", suggest_layer(L->p, name));
		return NULL;
	}
	if (par == r->layer) {
		ref_err(L, r, "layer '%s' cannot follow itself%s", name, "", NULL);
		return NULL;
	}
	if (par->index > r->layer->index) {
		ref_err(L, r,
		        "layer '%s' is defined before its parent '%s' (a layer must come "
		        "after its parents; files load in name order)",
		        r->layer->name, name, NULL);
		diag_note(L->d, par->src_file, par->span, "'%s' is defined here", par->name);
		return NULL;
	}
	return par;
}

static bool value_fits(const struct hq_field *f, uint64_t v)
{
	if (f->src != HQ_FS_FIXED || f->mul != 1 || f->nbits >= 64)
		return true;
	return (v >> f->nbits) == 0;
}

static int resolve_link(struct ploader *L, const struct pref *r)
{
	struct hq_link *link = &r->layer->links[r->index];
	char *dot = strchr(r->name, '.');
	if (dot)
		*dot = 0;
	link->parent = earlier_layer(L, r, r->name);
	if (dot)
		*dot = '.';
	if (!link->parent || !dot)
		return link->parent ? 0 : -1;
	link->field = own_field(L, r, link->parent, dot + 1);
	if (!link->field)
		return -1;
	for (int i = 0; i < link->n_values; i++)
		if (!value_fits(link->field, link->values[i]))
			return diag_error(L->d, r->src, r->span,
			                  "value 0x%llx does not fit the %u bits of '%s'",
			                  (unsigned long long)link->values[i], link->field->nbits,
			                  link->field->full);
	return 0;
}

static bool first_type_ok(enum hq_type want, enum hq_type alt)
{
	if (want == HQ_T_INET)
		return alt == HQ_T_IP4 || alt == HQ_T_IP6 || alt == HQ_T_INET;
	return want == alt;
}

static int resolve_first(struct ploader *L, const struct pref *r)
{
	struct hq_field *f = r->field;
	const char *dot = strchr(r->name, '.');
	char lname[64] = "";
	if (dot && (size_t)(dot - r->name) < sizeof(lname))
		memcpy(lname, r->name, (size_t)(dot - r->name));
	struct hq_layer *al = proto_layer(L->p, lname);
	struct hq_field *a = dot ? proto_layer_field(al, dot + 1) : NULL;
	if (!a)
		return ref_err(L, r, "unknown field '%s'%s", r->name, "",
		               al ? suggest_field(al, dot + 1) : NULL);
	if (a == f || (al != r->layer && al->index > r->layer->index))
		return ref_err(L, r, "'first' may only name fields of earlier layers, not '%s'%s",
		               r->name, "", NULL);
	if (!first_type_ok(f->type, a->type))
		return ref_err(L, r, "'%s' is %s, which does not fit this field's type", r->name,
		               proto_type_name(a->type), NULL);
	if (f->type == HQ_T_STR && a->size > f->size)
		f->size = a->size;
	f->alts[r->index] = a;
	return 0;
}

static bool follows(const struct hq_layer *l, const struct hq_layer *parent)
{
	for (int i = 0; i < l->n_links; i++)
		if (l->links[i].parent == parent)
			return true;
	return false;
}

/* A `yield` port field: a header field of at most 16 bits, read as is. */
static int resolve_yield(struct ploader *L, const struct pref *r)
{
	struct hq_layer *l = r->layer;
	const char *dot = strchr(r->name, '.');
	char lname[64] = "";
	if ((size_t)(dot - r->name) < sizeof(lname))
		memcpy(lname, r->name, (size_t)(dot - r->name));
	struct hq_layer *par = earlier_layer(L, r, lname);
	struct hq_field *f = par ? own_field(L, r, par, dot + 1) : NULL;
	if (!f)
		return -1;
	if (!follows(l, par))
		return ref_err(L, r, "'yield' field '%s' is not of a layer '%s' follows", f->full,
		               l->name, NULL);
	if (f->src != HQ_FS_FIXED || f->nbits > 16 || f->mul != 1)
		return ref_err(L, r, "'%s' is not a port (a header field of at most 16 bits)%s",
		               f->full, "", NULL);
	struct hq_field **slot = r->index ? &l->yield_b : &l->yield_a;
	if (*slot && *slot != f)
		return ref_err(L, r,
		               "every 'yield' line of layer '%s' must name the same two "
		               "fields, not '%s'",
		               l->name, f->full, NULL);
	*slot = f;
	return 0;
}

static int resolve_ref(struct ploader *L, const struct pref *r)
{
	struct hq_layer *l = r->layer;
	struct hq_field *f;
	switch (r->kind) {
	case PR_LINK:
		return resolve_link(L, r);
	case PR_FIRST:
		return resolve_first(L, r);
	case PR_YIELD:
		return resolve_yield(L, r);
	default:
		break;
	}
	if (!(f = own_field(L, r, l, r->name)))
		return -1;
	if (r->kind == PR_HLEN)
		l->hlen = f;
	else if (r->kind == PR_VALID || r->kind == PR_NEXT_IF || r->kind == PR_STOP) {
		struct hq_cond *c = r->kind == PR_VALID     ? &l->valid[r->index]
		                    : r->kind == PR_NEXT_IF ? &l->next_if[r->index]
		                                            : &l->stop[r->index];
		*(r->rhs ? &c->rhs : &c->field) = f;
		if (r->kind == PR_STOP && f->stop_level > r->index)
			return ref_err(L, r,
			               "'stop_if' may only test fields declared before it, not "
			               "'%s'%s",
			               f->name, "", NULL);
	} else if (f == r->field)
		return ref_err(L, r, "field '%s' cannot depend on itself%s", f->full, "", NULL);
	else
		r->field->when_field = f;
	return 0;
}

/* ---- whole-layer checks ------------------------------------------------------------ */

static bool key_ok(const struct hq_layer *l, const char *key)
{
	if (strncmp(key, "hdr.", 4) == 0)
		return l->hlen &&
		       (strcmp(key, "hdr.opt_len") == 0 || strcmp(key, "hdr.opt_present") == 0);
	const char *const *keys = l->walker ? proto_walker_keys(l->walker) : NULL;
	for (; keys && *keys; keys++)
		if (strcmp(*keys, key) == 0)
			return true;
	return false;
}

static int check_field(struct ploader *L, const struct hq_layer *l, const struct hq_field *f)
{
	if (f->src == HQ_FS_WALKER && !key_ok(l, f->key)) {
		if (strncmp(f->key, "hdr.", 4) == 0)
			return diag_error(L->d, f->src_file, f->span,
			                  "'%s': key '%s' needs a layer with 'hlen' (keys: "
			                  "hdr.opt_len, hdr.opt_present)",
			                  f->full, f->key);
		if (!l->walker)
			return diag_error(L->d, f->src_file, f->span,
			                  "'%s' reads walker key '%s' but layer '%s' has no walker",
			                  f->full, f->key, l->name);
		const char *const *keys = proto_walker_keys(l->walker);
		int n = 0;
		while (keys[n])
			n++;
		const char *s = diag_suggest(f->key, keys, n);
		return diag_error(L->d, f->src_file, f->span, "walker '%s' has no key '%s'%s%s%s",
		                  l->walker, f->key, s ? "; did you mean '" : "", s ? s : "",
		                  s ? "'?" : "");
	}
	if (f->src == HQ_FS_FIXED && l->pseudo)
		return diag_error(L->d, f->src_file, f->span,
		                  "'%s': a pseudo layer has no header bytes to read 'at'", f->full);
	return 0;
}

static int check_layer(struct ploader *L, struct hq_layer *l)
{
	int rc = 0;
	if (l->root && l->n_links)
		rc = diag_error(L->d, l->src_file, l->span, "root layer '%s' cannot have 'from'",
		                l->name);
	if (!l->root && !l->pseudo && !l->n_links)
		rc = diag_error(L->d, l->src_file, l->span,
		                "layer '%s' has no 'from' line: say which layer it follows",
		                l->name);
	if (l->hlen && l->hlen_max < l->size)
		rc = diag_error(L->d, l->src_file, l->span,
		                "layer '%s': 'hlen' maximum %u is below its size %u", l->name,
		                l->hlen_max, l->size);
	for (int i = 0; i < l->n_fields; i++)
		if (check_field(L, l, l->fields[i]))
			rc = -1;
	if (l->root && L->n_roots++)
		rc = diag_error(L->d, l->src_file, l->span, "a second root layer '%s'", l->name);
	return rc;
}

int presolve_all(struct ploader *L)
{
	int rc = 0;
	for (int i = 0; i < L->p->n_layers; i++)
		L->p->layers[i]->index = i;
	/* parents first: `yield` checks its fields against them */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < L->n_refs; i++)
			if ((L->refs[i].kind == PR_LINK) == (pass == 0) &&
			    resolve_ref(L, &L->refs[i]))
				rc = -1;
	for (int i = 0; i < L->p->n_layers; i++)
		if (check_layer(L, L->p->layers[i]))
			rc = -1;
	if (L->p->n_layers && !L->n_roots)
		rc = diag_error(L->d, L->p->layers[0]->src_file, L->p->layers[0]->span,
		                "no root layer: mark the layer every frame starts with 'root'");
	return rc;
}
