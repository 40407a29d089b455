/* proto_load.c — owns reading .hdr files: proto_load_dir / proto_load_text,
 * and the parser of layer-level directives (layer, ws, root, pseudo, from,
 * size, hlen, valid, next_if, stop_if, walker). Field lines are parsed by
 * proto_field.c; names that point at other layers or fields are recorded as
 * pending references and resolved by proto_resolve.c once every file is read.
 */
#include "proto_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- token cursor ---------------------------------------------------------------- */

struct ptok *pp_tok(struct pparse *P)
{
	return &P->toks.v[P->i];
}

struct ptok *pp_next(struct pparse *P)
{
	struct ptok *t = &P->toks.v[P->i];
	if (t->kind != PT_EOL)
		P->i++;
	return t;
}

bool pp_at_word(struct pparse *P, const char *w)
{
	struct ptok *t = pp_tok(P);
	return t->kind == PT_WORD && strcmp(t->text, w) == 0;
}

int pp_err(struct pparse *P, const struct ptok *t, const char *fmt, ...)
{
	char msg[HQ_DIAG_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return diag_error(P->L->d, P->src, t->span, "%s", msg);
}

struct ptok *pp_expect_word(struct pparse *P, const char *what)
{
	struct ptok *t = pp_tok(P);
	if (t->kind != PT_WORD) {
		pp_err(P, t, "expected %s, got %s", what, plex_describe(t));
		return NULL;
	}
	return pp_next(P);
}

int pp_expect_eol(struct pparse *P, const char *after)
{
	struct ptok *t = pp_tok(P);
	if (t->kind != PT_EOL)
		return pp_err(P, t, "unexpected %s after %s", plex_describe(t), after);
	return 0;
}

int pp_number(struct pparse *P, const char *what, uint64_t *v)
{
	struct ptok *t = pp_tok(P);
	if (t->kind != PT_WORD || !proto_parse_u64(t->text, v))
		return pp_err(P, t, "expected %s (a decimal or 0x hex number), got %s", what,
		              plex_describe(t));
	pp_next(P);
	return 0;
}

/* A number that must fit in [lo, hi]. */
int pp_number_in(struct pparse *P, const char *what, uint64_t lo, uint64_t hi, unsigned *out)
{
	struct ptok *t = pp_tok(P);
	uint64_t v;
	if (pp_number(P, what, &v))
		return -1;
	if (v < lo || v > hi)
		return pp_err(P, t, "%s must be between %llu and %llu", what,
		              (unsigned long long)lo, (unsigned long long)hi);
	*out = (unsigned)v;
	return 0;
}

/* V[,V...] */
int pp_values(struct pparse *P, const char *what, uint64_t **vals, int *n)
{
	do {
		uint64_t v;
		if (pp_number(P, what, &v))
			return -1;
		*(uint64_t *)proto_push(vals, n, sizeof(uint64_t)) = v;
	} while (pp_tok(P)->kind == PT_COMMA && pp_next(P));
	return 0;
}

int pp_ranges(struct pparse *P, uint64_t max, uint64_t **lo, uint64_t **hi, int *n)
{
	do {
		struct ptok *t = pp_expect_word(P, "a value or a range LO..HI");
		if (!t)
			return -1;
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", t->text);
		char *dots = strstr(buf, "..");
		uint64_t a, b;
		if (dots)
			*dots = 0;
		if (!proto_parse_u64(buf, &a) || (dots && !proto_parse_u64(dots + 2, &b)))
			return pp_err(P, t, "expected a value or a range LO..HI, got '%s'",
			              t->text);
		if (!dots)
			b = a;
		if (b < a)
			return pp_err(P, t, "empty range '%s'", t->text);
		if (b > max)
			return pp_err(P, t, "'%s' is above %llu", t->text, (unsigned long long)max);
		int m = *n;
		*(uint64_t *)proto_push(lo, n, sizeof(uint64_t)) = a;
		*(uint64_t *)proto_push(hi, &m, sizeof(uint64_t)) = b;
	} while (pp_tok(P)->kind == PT_COMMA && pp_next(P));
	return 0;
}

/* Names: a letter or '_' first, then letters, digits, '_'; dot-separated
 * segments only when dots are allowed. */
bool pp_valid_name(const char *s, bool dots)
{
	bool seg_start = true;
	for (; *s; s++) {
		if (*s == '.' && dots && !seg_start) {
			seg_start = true;
			continue;
		}
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		          (!seg_start && ((*s >= '0' && *s <= '9') || *s == '-'));
		if (!ok)
			return false;
		seg_start = false;
	}
	return !seg_start;
}

void pp_add_ref(struct pparse *P, enum pref_kind k, struct hq_field *f, int index,
                const struct ptok *t)
{
	struct ploader *L = P->L;
	struct pref *r = proto_push(&L->refs, &L->n_refs, sizeof(*r));
	r->kind = k;
	r->layer = P->cur;
	r->field = f;
	r->index = index;
	r->name = proto_xstrdup(t->text);
	r->src = P->src;
	r->span = t->span;
}

/* ---- layer directives -------------------------------------------------------------- */

static int d_layer(struct pparse *P, struct ptok *kw)
{
	struct ptok *name = pp_expect_word(P, "a layer name");
	if (!name)
		return -1;
	if (!pp_valid_name(name->text, false))
		return pp_err(P, name, "invalid layer name '%s'", name->text);
	struct hq_layer *dup = proto_layer(P->L->p, name->text);
	if (dup) {
		pp_err(P, name, "duplicate layer '%s'", name->text);
		diag_note(P->L->d, dup->src_file, dup->span, "'%s' was first defined here",
		          dup->name);
		return -1;
	}
	struct ptok *help = pp_tok(P);
	if (help->kind != PT_STRING)
		return pp_err(P, help, "expected a description string after 'layer %s'",
		              name->text);
	pp_next(P);
	if (pp_expect_eol(P, "the layer description"))
		return -1;
	struct hq_layer *l = proto_xrealloc(NULL, 1, sizeof(*l));
	memset(l, 0, sizeof(*l));
	l->name = proto_xstrdup(name->text);
	l->help = proto_xstrdup(help->text);
	l->src_file = (struct hq_source *)P->src;
	l->span = span_join(kw->span, name->span);
	struct hq_proto *p = P->L->p;
	l->index = p->n_layers;
	*(struct hq_layer **)proto_push(&p->layers, &p->n_layers, sizeof(l)) = l;
	P->cur = l;
	return 0;
}

static int d_ws(struct pparse *P, struct ptok *kw)
{
	struct ptok *w = pp_expect_word(P, "a Wireshark protocol name");
	if (!w)
		return -1;
	if (P->cur->ws_name)
		return pp_err(P, kw, "layer '%s' already has a Wireshark name", P->cur->name);
	struct hq_proto *p = P->L->p;
	for (int i = 0; i < p->n_layers; i++)
		if (p->layers[i]->ws_name && strcmp(p->layers[i]->ws_name, w->text) == 0)
			return pp_err(P, w, "Wireshark protocol '%s' already belongs to layer '%s'",
			              w->text, p->layers[i]->name);
	P->cur->ws_name = proto_xstrdup(w->text);
	return pp_expect_eol(P, "the Wireshark protocol name");
}

static int d_flag(struct pparse *P, struct ptok *kw)
{
	if (strcmp(kw->text, "root") == 0)
		P->cur->root = true;
	else
		P->cur->pseudo = true;
	return pp_expect_eol(P, kw->text);
}

/* from PARENT | from PARENT.FIELD V[,V...] */
static int d_from(struct pparse *P, struct ptok *kw)
{
	struct ptok *t = pp_expect_word(P, "a parent layer (PARENT or PARENT.FIELD)");
	if (!t)
		return -1;
	if (!pp_valid_name(t->text, true))
		return pp_err(P, t, "invalid parent '%s'", t->text);
	struct hq_link link = {0};
	if (strchr(t->text, '.')) {
		if (pp_values(P, "a value of the parent field", &link.values, &link.n_values)) {
			free(link.values);
			return -1;
		}
	}
	if (pp_expect_eol(P, "the 'from' line")) {
		free(link.values);
		return -1;
	}
	struct hq_layer *l = P->cur;
	*(struct hq_link *)proto_push(&l->links, &l->n_links, sizeof(link)) = link;
	pp_add_ref(P, PR_LINK, NULL, l->n_links - 1, t);
	return 0;
}

/* yield PARENT.FIELD PARENT.FIELD PORTS: repeatable, always the same two fields */
static int d_yield(struct pparse *P, struct ptok *kw)
{
	(void)kw;
	struct ptok *f[2];
	for (int i = 0; i < 2; i++) {
		f[i] = pp_expect_word(P, i ? "the second port field (PARENT.FIELD)"
		                           : "a port field (PARENT.FIELD)");
		if (!f[i])
			return -1;
		if (!pp_valid_name(f[i]->text, true) || !strchr(f[i]->text, '.'))
			return pp_err(P, f[i],
			              "expected a field of a parent layer (PARENT.FIELD), "
			              "got '%s'",
			              f[i]->text);
	}
	struct hq_layer *l = P->cur;
	if (pp_ranges(P, 65535, &l->yield_lo, &l->yield_hi, &l->n_yield))
		return -1;
	if (pp_expect_eol(P, "the 'yield' line"))
		return -1;
	for (int i = 0; i < 2; i++)
		pp_add_ref(P, PR_YIELD, NULL, i, f[i]);
	return 0;
}

static int d_size(struct pparse *P, struct ptok *kw)
{
	if (pp_number_in(P, "the header size", 0, 65535, &P->cur->size))
		return -1;
	return pp_expect_eol(P, "the size");
}

/* hlen FIELD * N max M */
static int d_hlen(struct pparse *P, struct ptok *kw)
{
	struct hq_layer *l = P->cur;
	struct ptok *f = pp_expect_word(P, "the length field");
	if (!f)
		return -1;
	if (l->hlen_mul)
		return pp_err(P, kw, "layer '%s' already has an 'hlen' line", l->name);
	struct ptok *star = pp_tok(P);
	if (star->kind != PT_STAR)
		return pp_err(P, star, "expected '*' after the length field, got %s",
		              plex_describe(star));
	pp_next(P);
	unsigned mul, max;
	if (pp_number_in(P, "the length multiplier", 1, 1024, &mul))
		return -1;
	if (!pp_at_word(P, "max"))
		return pp_err(P, pp_tok(P), "expected 'max M' (the largest header length), got %s",
		              plex_describe(pp_tok(P)));
	pp_next(P);
	struct ptok *mt = pp_tok(P);
	if (pp_number_in(P, "the maximum header length", 1, 65535, &max))
		return -1;
	if (max < l->size)
		return pp_err(P, mt, "maximum header length %u is below the size %u", max, l->size);
	if (pp_expect_eol(P, "the 'hlen' line"))
		return -1;
	l->hlen_mul = mul;
	l->hlen_max = max;
	pp_add_ref(P, PR_HLEN, NULL, 0, f);
	return 0;
}

/* valid|next_if|stop_if FIELD OP V|FIELD2 */
static int d_cond(struct pparse *P, struct ptok *kw)
{
	struct ptok *f = pp_expect_word(P, "a field of this layer");
	if (!f)
		return -1;
	struct ptok *op = pp_tok(P);
	if (op->kind != PT_OP)
		return pp_err(P, op, "expected a comparison (== != < <= > >=), got %s",
		              plex_describe(op));
	pp_next(P);
	struct hq_cond c = {NULL, op->op, 0, NULL};
	struct ptok *rhs = pp_tok(P);
	if (rhs->kind == PT_WORD && !proto_parse_u64(rhs->text, &c.value))
		pp_next(P); /* another field of this layer */
	else if (pp_number(P, "a value or a field", &c.value))
		return -1;
	else
		rhs = NULL;
	if (pp_expect_eol(P, "the condition"))
		return -1;
	struct hq_layer *l = P->cur;
	enum pref_kind k = kw->text[0] == 'v'   ? PR_VALID
	                   : kw->text[0] == 'n' ? PR_NEXT_IF
	                                        : PR_STOP;
	struct hq_cond **v = k == PR_VALID ? &l->valid : k == PR_NEXT_IF ? &l->next_if : &l->stop;
	int *n = k == PR_VALID ? &l->n_valid : k == PR_NEXT_IF ? &l->n_next_if : &l->n_stop;
	*(struct hq_cond *)proto_push(v, n, sizeof(c)) = c;
	pp_add_ref(P, k, NULL, *n - 1, f);
	if (rhs) {
		pp_add_ref(P, k, NULL, *n - 1, rhs);
		P->L->refs[P->L->n_refs - 1].rhs = true;
	}
	return 0;
}

static int d_walker(struct pparse *P, struct ptok *kw)
{
	struct ptok *w = pp_expect_word(P, "a walker name");
	if (!w)
		return -1;
	if (!proto_walker_keys(w->text)) {
		int n = 0;
		while (proto_walker_names[n])
			n++;
		const char *s = diag_suggest(w->text, proto_walker_names, n);
		return pp_err(P, w, "unknown walker '%s'%s%s%s", w->text,
		              s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
	}
	if (P->cur->walker)
		return pp_err(P, kw, "layer '%s' already has a walker", P->cur->name);
	P->cur->walker = proto_xstrdup(w->text);
	return pp_expect_eol(P, "the walker name");
}

/* ---- lines ---------------------------------------------------------------------------- */

static const struct {
	const char *kw;
	int (*fn)(struct pparse *, struct ptok *);
} directives[] = {
    {"layer", d_layer},  {"ws", d_ws},        {"root", d_flag},     {"pseudo", d_flag},
    {"from", d_from},    {"size", d_size},    {"hlen", d_hlen},     {"valid", d_cond},
    {"next_if", d_cond}, {"stop_if", d_cond}, {"walker", d_walker}, {"field", pfield_parse},
    {"yield", d_yield},
};
#define N_DIRECTIVES ((int)(sizeof(directives) / sizeof(directives[0])))

static int unknown_directive(struct pparse *P, struct ptok *kw)
{
	const char *names[N_DIRECTIVES];
	for (int i = 0; i < N_DIRECTIVES; i++)
		names[i] = directives[i].kw;
	const char *s = diag_suggest(kw->text, names, N_DIRECTIVES);
	if (s)
		return pp_err(P, kw, "unknown directive '%s'; did you mean '%s'?", kw->text, s);
	return pp_err(P, kw, "unknown directive '%s'", kw->text);
}

static int parse_line(struct pparse *P)
{
	struct ptok *kw = pp_tok(P);
	if (kw->kind == PT_EOL)
		return 0;
	if (kw->kind != PT_WORD)
		return pp_err(P, kw, "expected a directive (layer, field, from, ...), got %s",
		              plex_describe(kw));
	for (int i = 0; i < N_DIRECTIVES; i++) {
		if (strcmp(kw->text, directives[i].kw) != 0)
			continue;
		pp_next(P);
		if (i > 0 && !P->cur)
			return pp_err(P, kw, "'%s' outside a layer (start one with 'layer NAME')",
			              kw->text);
		return directives[i].fn(P, kw);
	}
	return unknown_directive(P, kw);
}

static int load_source(struct ploader *L, const char *name, const char *text)
{
	struct hq_source *src = proto_xrealloc(NULL, 1, sizeof(*src));
	src->name = proto_xstrdup(name);
	src->text = proto_xstrdup(text);
	*(struct hq_source **)proto_push(&L->p->sources, &L->p->n_sources, sizeof(src)) = src;

	struct pparse P = {.L = L, .src = src};
	int rc = plex_tokenize(src, &P.toks, L->d);
	while (P.i < P.toks.n) {
		if (parse_line(&P))
			rc = -1;
		while (pp_tok(&P)->kind != PT_EOL) /* skip the rest of a bad line */
			P.i++;
		P.i++;
	}
	plex_free(&P.toks);
	return rc;
}

/* ---- entry points ---------------------------------------------------------------------- */

static struct hq_proto *finish(struct ploader *L, int rc)
{
	if (rc == 0 && !diag_has_errors(L->d))
		rc = presolve_all(L);
	for (int i = 0; i < L->n_refs; i++)
		free(L->refs[i].name);
	free(L->refs);
	if (rc || diag_has_errors(L->d)) {
		proto_keep_sources(L->p); /* the diagnostics point into them */
		proto_free(L->p);
		return NULL;
	}
	return L->p;
}

static struct ploader loader_new(struct hq_diag *d)
{
	struct ploader L = {0};
	L.p = proto_xrealloc(NULL, 1, sizeof(*L.p));
	memset(L.p, 0, sizeof(*L.p));
	L.d = d;
	return L;
}

struct hq_proto *proto_load_text(const char *name, const char *text, struct hq_diag *d)
{
	struct ploader L = loader_new(d);
	return finish(&L, load_source(&L, name, text));
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0, r;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = proto_xrealloc(buf, cap, 1);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	bool bad = ferror(f) || memchr(buf, 0, n);
	fclose(f);
	if (bad) {
		free(buf);
		errno = EINVAL;
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.hdr names in dir, or -1 (errno set). */
static int list_hdr_files(const char *dir, char ***names)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return -1;
	int n = 0;
	*names = NULL;
	struct dirent *e;
	while ((e = readdir(dp))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] != '.' && len > 4 && strcmp(e->d_name + len - 4, ".hdr") == 0)
			*(char **)proto_push(names, &n, sizeof(char *)) = proto_xstrdup(e->d_name);
	}
	closedir(dp);
	if (n)
		qsort(*names, (size_t)n, sizeof(char *), cmp_names);
	return n;
}

/* The directory itself, or its `proto` subdirectory when given the stdlib
 * root (what proto_stdlib_dir returns). */
static char *hdr_dir(const char *dir)
{
	char *sub = proto_xrealloc(NULL, strlen(dir) + 8, 1);
	sprintf(sub, "%s/proto", dir);
	DIR *dp = opendir(sub);
	if (dp) {
		closedir(dp);
		char **names;
		int n = list_hdr_files(dir, &names);
		for (int i = 0; i < n; i++)
			free(names[i]);
		if (n > 0)
			free(names);
		if (n <= 0)
			return sub;
	}
	free(sub);
	return proto_xstrdup(dir);
}

struct hq_proto *proto_load_dir(const char *dir, struct hq_diag *d)
{
	char *hdir = hdr_dir(dir);
	char **names;
	int n = list_hdr_files(hdir, &names);
	if (n <= 0) {
		if (n < 0)
			diag_errorf(d, "cannot read protocol directory %s: %s", hdir,
			            strerror(errno));
		else
			diag_errorf(d, "no protocol definitions (*.hdr) in %s", hdir);
		free(hdir);
		return NULL;
	}
	struct ploader L = loader_new(d);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		char *path = proto_xrealloc(NULL, strlen(hdir) + strlen(names[i]) + 2, 1);
		sprintf(path, "%s/%s", hdir, names[i]);
		char *text = read_file(path);
		if (!text)
			rc = diag_errorf(d, "cannot read %s: %s", path, strerror(errno));
		else if (load_source(&L, path, text))
			rc = -1;
		free(text);
		free(path);
		free(names[i]);
	}
	free(names);
	free(hdir);
	return finish(&L, rc);
}
