/* sema_name.c — what a NAME in a query means.
 *
 * In order: a `let` defined earlier in the script (its value is copied in,
 * spans kept, so errors point into the definition); a full or Wireshark
 * field name (`tcp.flags.rst`, `tcp.flags.reset`); a layer name used as a
 * predicate (`where tcp or udp`); a bare field name, in DESIGN.md's tiers —
 * the LAYER's own fields (also by Wireshark name), the generic `inet`
 * fields, the fields of LAYER's ancestors, then of every layer: the first
 * tier with one candidate wins, a tier with several is an error listing
 * them; a derived field of the standard library (`retransmit`), unless the
 * registry already defines a field of that name. Anything else is an error
 * that suggests the nearest known name.
 */
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

/* Derived fields the code generator computes itself. */
static const struct {
	const char *name;
	enum hq_type type;
} sema_derived[] = {
    /* none left: `retransmit` is tcp.retransmit in stdlib/proto/40-tcp.hdr;
     * the table stays for derived values that no layer can own */
    {NULL, HQ_T_NONE},
};

#define SEMA_MAX_CANDS 16

struct sema_cands {
	const struct hq_field *f[SEMA_MAX_CANDS];
	int n;
};

static void sema_cands_add(struct sema_cands *c, const struct hq_field *f)
{
	if (!f)
		return;
	for (int i = 0; i < c->n; i++)
		if (c->f[i] == f)
			return;
	if (c->n < SEMA_MAX_CANDS)
		c->f[c->n++] = f;
}

static bool sema_before(struct hq_span a, struct hq_span b)
{
	return a.line < b.line || (a.line == b.line && a.col < b.col);
}

/* Does the definition d end before position at? A let's own value is
 * not after it: `let a = a and tcp` cannot loop. */
static bool sema_defined_before(struct hq_span d, struct hq_span at)
{
	return d.end_line < at.line || (d.end_line == at.line && d.end_col < at.col);
}

/* Is position at inside the definition d (a let's own value)? */
static bool sema_within(struct hq_span d, struct hq_span at)
{
	return !sema_before(at, d) && !sema_defined_before(d, at);
}

/* The let called name whose definition ends before position at (the last
 * such one), or NULL. */
const struct hq_let *sema_let_find(const struct sema *S, const char *name, struct hq_span at)
{
	const struct hq_let *found = NULL;

	for (int i = 0; i < S->script->n_lets; i++) {
		const struct hq_let *l = S->script->lets[i];
		if (!strcmp(l->name, name) && sema_defined_before(l->def, at))
			found = l;
	}
	return found;
}

/* Tier 1: the LAYER's own fields, by short name or by Wireshark name
 * relative to the layer (`nxt` in an ip6 query is `ipv6.nxt`). */
static void sema_tier_own(const struct sema *S, const char *name, struct sema_cands *c)
{
	char full[256];
	const struct hq_field *f;

	if (!S->layer)
		return;
	sema_cands_add(c, proto_layer_field(S->layer, name));
	for (int i = 0; i < 2; i++) {
		const char *prefix = i ? S->layer->ws_name : S->layer->name;
		if (!prefix)
			continue;
		snprintf(full, sizeof(full), "%s.%s", prefix, name);
		f = proto_field(S->p, full);
		if (f && f->layer == S->layer)
			sema_cands_add(c, f);
	}
}

/* Tier 3 (ancestors of LAYER) and 4 (every layer). */
static void sema_tier_layers(const struct sema *S, const char *name, bool ancestors,
                             struct sema_cands *c)
{
	for (int i = 0; i < S->p->n_layers; i++) {
		const struct hq_layer *l = S->p->layers[i];
		if (ancestors && (l == S->layer || !proto_layer_under(S->layer, l)))
			continue;
		sema_cands_add(c, proto_layer_field(l, name));
	}
}

static int sema_ambiguous(struct sema *S, const struct hq_expr *e, const struct sema_cands *c)
{
	char list[HQ_DIAG_MSG_MAX / 2] = "";
	size_t len = 0;

	for (int i = 0; i < c->n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		                        i == 0          ? ""
		                        : i == c->n - 1 ? " or "
		                                        : ", ",
		                        c->f[i]->full);
	return sema_err(S, e->span, "ambiguous field %s: it could be %s; write the full name",
	                e->name, list);
}

/* Bare-name tiers. Returns the field, NULL if none; *err set on ambiguity. */
static const struct hq_field *sema_bare(struct sema *S, const struct hq_expr *e, int *err)
{
	for (int tier = 1; tier <= 4; tier++) {
		struct sema_cands c = {0};

		if (tier == 1)
			sema_tier_own(S, e->name, &c);
		else if (tier == 2 && S->inet && S->inet != S->layer)
			sema_cands_add(&c, proto_layer_field(S->inet, e->name));
		else if (tier == 3 && S->layer)
			sema_tier_layers(S, e->name, true, &c);
		else if (tier == 4)
			sema_tier_layers(S, e->name, false, &c);
		if (c.n == 1)
			return c.f[0];
		if (c.n > 1) {
			*err = sema_ambiguous(S, e, &c);
			return NULL;
		}
	}
	return NULL;
}

/* --- suggestions for unknown names ------------------------------------------ */

struct sema_names {
	const char **v;
	int n;
	char **owned; /* prefixes made for one lookup */
	int n_owned;
};

static void sema_names_add(struct sema_names *s, const char *name)
{
	const char **v = realloc(s->v, (size_t)(s->n + 1) * sizeof(*v));

	if (!v)
		abort();
	s->v = v;
	s->v[s->n++] = name;
}

static void sema_names_add_cb(void *s, const char *name)
{
	sema_names_add(s, name);
}

static void sema_names_collect(const struct sema *S, struct sema_names *s)
{
	for (int i = 0; i < S->p->n_layers; i++) {
		const struct hq_layer *l = S->p->layers[i];
		sema_names_add(s, l->name);
		for (int j = 0; j < l->n_fields; j++) {
			sema_names_add(s, l->fields[j]->full);
			sema_names_add(s, l->fields[j]->name);
			for (char **w = l->fields[j]->ws_names; w && *w; w++)
				sema_names_add(s, *w);
		}
	}
	for (int i = 0; i < S->script->n_lets; i++)
		sema_names_add(s, S->script->lets[i]->name);
	for (size_t i = 0; i < sizeof(sema_derived) / sizeof(sema_derived[0]); i++)
		if (sema_derived[i].name)
			sema_names_add(s, sema_derived[i].name);
	sema_const_names(sema_names_add_cb, s);
}

static void sema_names_free(struct sema_names *s)
{
	for (int i = 0; i < s->n_owned; i++)
		free(s->owned[i]);
	free(s->owned);
	free(s->v);
}

static int sema_depth(const char *name)
{
	int d = 1;

	for (; *name; name++)
		d += *name == '.';
	return d;
}

/* Is p a known name, or the leading components of one? */
static bool sema_names_prefix(const struct sema_names *s, const char *p, bool whole)
{
	size_t n = strlen(p);

	for (int i = 0; i < s->n; i++)
		if (!strncmp(s->v[i], p, n) && (s->v[i][n] == 0 || (!whole && s->v[i][n] == '.')))
			return true;
	return false;
}

/* The nearest of the leading `depth` components of the longer known names. */
static const char *sema_suggest_depth(struct sema_names *s, const char *word, int depth)
{
	struct sema_names at = {0};
	const char *best;

	for (int i = 0; i < s->n; i++) {
		const char *p = s->v[i];
		int d = 0;
		size_t n = 0;

		while (p[n] && d < depth) {
			if (p[n] == '.' && ++d == depth)
				break;
			n++;
		}
		if (sema_depth(p) <= depth)
			continue; /* only proper prefixes: the word goes on after them */
		char *cut = strndup(p, n);
		if (!cut)
			abort();
		s->owned = realloc(s->owned, (size_t)(s->n_owned + 1) * sizeof(char *));
		if (!s->owned)
			abort();
		s->owned[s->n_owned++] = cut;
		sema_names_add(&at, cut);
	}
	best = diag_suggest(word, at.v, at.n);
	free(at.v);
	return best;
}

/* A let of that name exists, but not before the use: further down the
 * script, or the one whose value holds the use. */
static const struct hq_let *sema_let_later(const struct sema *S, const char *name)
{
	for (int i = 0; i < S->script->n_lets; i++)
		if (!strcmp(S->script->lets[i]->name, name))
			return S->script->lets[i];
	return NULL;
}

/* The first leading components of the name that match nothing known:
 * report them with the nearest known name of the same depth. */
static bool sema_unknown_prefix(struct sema *S, const struct hq_expr *e, struct sema_names *s)
{
	const char *w = e->name, *dot = w;
	int k = sema_depth(w);

	for (int j = 1; j < k; j++) {
		dot = strchr(dot, '.') + 1;
		char *pre = strndup(w, (size_t)(dot - w - 1));
		const char *sug;
		char fixed[256];

		if (!pre)
			abort();
		if (sema_names_prefix(s, pre, false)) {
			free(pre);
			continue;
		}
		sug = sema_suggest_depth(s, pre, j);
		snprintf(fixed, sizeof(fixed), "%s.%s", sug ? sug : "", dot);
		if (sug && j > 1)
			sema_err(S, e->span, "unknown field %s; did you mean %s?", pre, sug);
		else if (sug && sema_names_prefix(s, fixed, true))
			sema_err(S, e->span, "unknown field %s; did you mean %s?", w, fixed);
		else if (sug)
			sema_err(S, e->span, "unknown field %s (no layer %s; did you mean %s?)", w,
			         pre, sug);
		else
			sema_err(S, e->span, "unknown field %s", w);
		free(pre);
		return true;
	}
	return false;
}

static int sema_unknown(struct sema *S, const struct hq_expr *e)
{
	const struct hq_let *later = sema_let_later(S, e->name);
	struct sema_names s = {0};
	const char *sug;

	if (later && sema_within(later->def, e->span))
		return sema_err(S, e->span,
		                "the let %s uses itself; a let can use only the lets defined "
		                "before it",
		                e->name);
	if (later)
		return sema_err(S, e->span,
		                "%s is defined by the let on line %d, after this use; move the let "
		                "before it",
		                e->name, later->span.line);
	sema_names_collect(S, &s);
	if (!sema_unknown_prefix(S, e, &s)) {
		sug = diag_suggest(e->name, s.v, s.n);
		if (sug)
			sema_err(S, e->span, "unknown field %s; did you mean %s?", e->name, sug);
		else
			sema_err(S, e->span, "unknown field %s", e->name);
	}
	sema_names_free(&s);
	return -1;
}

/* --- resolution ---------------------------------------------------------------- */

static int sema_set_field(struct hq_expr *e, const struct hq_field *f)
{
	e->ref = HQ_REF_FIELD;
	e->field = f;
	e->type = f->type;
	return 0;
}

static int sema_resolve_name(struct sema *S, struct hq_expr *e)
{
	const struct hq_field *f = proto_field(S->p, e->name);
	const struct hq_layer *l;
	int err = 0;

	if (f)
		return sema_set_field(e, f);
	l = proto_layer(S->p, e->name);
	if (l) {
		e->ref = HQ_REF_LAYER;
		e->layer = l;
		e->type = HQ_T_BOOL;
		return 0;
	}
	f = sema_bare(S, e, &err);
	if (err)
		return -1;
	if (f)
		return sema_set_field(e, f);
	for (size_t i = 0; i < sizeof(sema_derived) / sizeof(sema_derived[0]); i++) {
		if (sema_derived[i].name && !strcmp(e->name, sema_derived[i].name)) {
			e->ref = HQ_REF_DERIVED;
			e->derived = sema_derived[i].name;
			e->type = sema_derived[i].type;
			return 0;
		}
	}
	err = sema_const_resolve(S, e);
	if (err)
		return err < 0 ? -1 : 0;
	return sema_unknown(S, e);
}

/* A field or layer that can never occur together with the query's LAYER
 * (`udp where flags.syn`) is legal but always absent: say so. */
static void sema_check_reach(struct sema *S, const struct hq_expr *e, const struct hq_layer *l)
{
	const struct hq_layer *q = S->layer;

	if (!q || q->pseudo || l->pseudo || proto_layer_under(q, l) || proto_layer_under(l, q))
		return;
	if (e->ref == HQ_REF_LAYER)
		diag_warning(S->d, S->src, e->span,
		             "%s packets never carry %s: this is always false", q->name, l->name);
	else
		diag_warning(S->d, S->src, e->span,
		             "%s packets never carry %s, so %s is always absent here", q->name,
		             l->name, e->name);
}

static int sema_resolve(struct sema *S, struct hq_expr *e)
{
	int rc = sema_resolve_name(S, e);

	if (!rc && e->ref == HQ_REF_FIELD)
		sema_check_reach(S, e, e->field->layer);
	else if (!rc && e->ref == HQ_REF_LAYER)
		sema_check_reach(S, e, e->layer);
	return rc;
}

/* Lets may use lets, so substitution can grow a tree exponentially
 * (let a2 = a1 and a1, let a3 = a2 and a2, ...): bound the nodes copied. */
#define SEMA_MAX_EXPANDED 100000

static long sema_count(const struct hq_expr *e)
{
	long n;

	if (!e)
		return 0;
	n = 1 + sema_count(e->lhs) + sema_count(e->rhs);
	for (int i = 0; i < e->items.n; i++)
		n += sema_count(e->items.items[i]);
	return n;
}

/* Resolve the NAME at *ep; a let is replaced by a checked copy of its value. */
int sema_name(struct sema *S, struct hq_expr **ep, enum sema_ctx ctx)
{
	struct hq_expr *e = *ep;
	const struct hq_let *let = sema_let_find(S, e->name, e->span);
	struct hq_span use = e->span;

	if (e->ref == HQ_REF_CONST)
		return 0; /* bound by sema_const_bind to the field it is compared with */
	if (let) {
		if (S->n_expanded > SEMA_MAX_EXPANDED)
			return -1; /* already reported */
		S->n_expanded += sema_count(let->value);
		if (S->n_expanded > SEMA_MAX_EXPANDED)
			return sema_err(
			    S, e->span,
			    "the lets used here expand to more than %d nodes; simplify them",
			    SEMA_MAX_EXPANDED);
		*ep = ast_expr_copy(let->value);
		ast_expr_free(e);
		if (sema_value(S, ep, ctx) < 0) {
			if (S->n_expanded > SEMA_MAX_EXPANDED)
				return -1;
			diag_note(S->d, S->src, use, "in '%s', defined by a let", let->name);
			return -1;
		}
		return 0;
	}
	if (ctx == SC_HAVING)
		return sema_err(
		    S, e->span,
		    "having can only use aggregates and numbers: %s is not an aggregate "
		    "(filter packets with where, or aggregate it, e.g. max(%s))",
		    e->name, e->name);
	return sema_resolve(S, e);
}
