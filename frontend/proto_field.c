/* proto_field.c — owns parsing one `field` line of a .hdr file:
 *
 *   field NAME TYPE at OFF[.BIT] | walker KEY | meta KEY | first L.F[,...]
 *         [bits N] [mul K] [when F V|LO..HI[,...]] [fmt F] [ws A[,...]] [size N] [zero rest]
 *         "help"
 *
 * It checks everything a single line can tell (types, widths, which clause
 * goes with which source) and leaves names of other fields (`when`, `first`)
 * to proto_resolve.c.
 */
#include "proto_int.h"

#include <stdlib.h>
#include <string.h>

/* What one field line said, with the tokens kept for error positions. */
struct fspec {
	struct ptok *name, *type, *srckw, *key, *off;
	struct ptok *bits, *mul, *when, *fmt, *ws, *size, *zero, *help;
	enum hq_type t;
	enum hq_field_src src;
	unsigned offv, bitv, nbits, mulv, sizev;
	bool has_bit;
	struct ptok **alts, **wsn, **whenf; /* token lists */
	int n_alts, n_ws;
	uint64_t *when_values, *when_hi;
	int n_when;
	enum hq_cmp when_op;
};

static const char *const type_names[] = {"uint", "bool", "ip4", "ip6", "inet", "mac", "str"};
static const enum hq_type type_vals[] = {HQ_T_UINT, HQ_T_BOOL, HQ_T_IP4, HQ_T_IP6,
                                         HQ_T_INET, HQ_T_MAC,  HQ_T_STR};
#define N_TYPES 7

static int parse_type(struct pparse *P, struct fspec *s)
{
	struct ptok *t = pp_expect_word(P, "a type (uint, bool, ip4, ip6, inet, mac, str)");
	if (!t)
		return -1;
	s->type = t;
	for (int i = 0; i < N_TYPES; i++)
		if (strcmp(t->text, type_names[i]) == 0) {
			s->t = type_vals[i];
			return 0;
		}
	const char *sug = diag_suggest(t->text, type_names, N_TYPES);
	if (sug)
		return pp_err(P, t, "unknown type '%s'; did you mean '%s'?", t->text, sug);
	return pp_err(P, t, "unknown type '%s' (expected uint, bool, ip4, ip6, inet, mac or str)",
	              t->text);
}

/* OFF or OFF.BIT, both decimal or 0x hex */
static int parse_offset(struct pparse *P, struct fspec *s)
{
	struct ptok *t = pp_expect_word(P, "an offset OFF[.BIT]");
	if (!t)
		return -1;
	s->off = t;
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", t->text);
	char *dot = strchr(buf, '.');
	uint64_t off, bit = 0;
	if (dot)
		*dot = 0;
	if (!proto_parse_u64(buf, &off) || (dot && !proto_parse_u64(dot + 1, &bit)))
		return pp_err(P, t, "expected an offset OFF[.BIT], got '%s'", t->text);
	if (off > 65535)
		return pp_err(P, t, "offset %llu is too large", (unsigned long long)off);
	if (bit > 7)
		return pp_err(P, t, "bit position %llu is not inside a byte (0..7)",
		              (unsigned long long)bit);
	s->offv = (unsigned)off;
	s->bitv = (unsigned)bit;
	s->has_bit = dot != NULL;
	return 0;
}

static bool in_list(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(w, *list) == 0)
			return true;
	return false;
}

static int parse_source(struct pparse *P, struct fspec *s)
{
	struct ptok *t = pp_tok(P);
	s->srckw = t;
	if (pp_at_word(P, "at")) {
		pp_next(P);
		s->src = HQ_FS_FIXED;
		return parse_offset(P, s);
	}
	if (pp_at_word(P, "walker") || pp_at_word(P, "meta")) {
		pp_next(P);
		bool meta = strcmp(t->text, "meta") == 0;
		s->src = meta ? HQ_FS_META : HQ_FS_WALKER;
		s->key = pp_expect_word(P, meta ? "a metadata key" : "a walker key");
		if (!s->key)
			return -1;
		if (meta && !in_list(s->key->text, proto_meta_keys))
			return pp_err(P, s->key,
			              "unknown metadata key '%s' (expected num, len, "
			              "ifindex, dir or ts)",
			              s->key->text);
		return 0;
	}
	if (pp_at_word(P, "first")) {
		pp_next(P);
		s->src = HQ_FS_FIRST;
		do {
			struct ptok *a = pp_expect_word(P, "a field LAYER.FIELD");
			if (!a)
				return -1;
			*(struct ptok **)proto_push(&s->alts, &s->n_alts, sizeof(a)) = a;
		} while (pp_tok(P)->kind == PT_COMMA && pp_next(P));
		return 0;
	}
	return pp_err(P, t, "expected where the field is (at, walker, meta or first), got %s",
	              plex_describe(t));
}

static int parse_fmt(struct pparse *P, struct fspec *s)
{
	static const char *const fmts[] = {"hex", "tcpflags", NULL};
	struct ptok *f = pp_expect_word(P, "a display format (hex, tcpflags)");
	if (!f)
		return -1;
	s->fmt = f;
	if (in_list(f->text, fmts))
		return 0;
	const char *sug = diag_suggest(f->text, fmts, 2);
	return pp_err(P, f, "unknown display format '%s'%s%s%s", f->text,
	              sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
}

static int parse_ws(struct pparse *P, struct fspec *s)
{
	do {
		struct ptok *w = pp_expect_word(P, "a Wireshark field name");
		if (!w)
			return -1;
		*(struct ptok **)proto_push(&s->wsn, &s->n_ws, sizeof(w)) = w;
	} while (pp_tok(P)->kind == PT_COMMA && pp_next(P));
	return 0;
}

static int parse_when_values(struct pparse *P, struct fspec *s)
{
	return pp_ranges(P, UINT64_MAX, &s->when_values, &s->when_hi, &s->n_when);
}

/* One optional clause; `kw` is its keyword token. */
static int parse_option(struct pparse *P, struct fspec *s, struct ptok *kw)
{
	const char *k = kw->text;
	struct ptok **slot = strcmp(k, "bits") == 0   ? &s->bits
	                     : strcmp(k, "mul") == 0  ? &s->mul
	                     : strcmp(k, "when") == 0 ? &s->when
	                     : strcmp(k, "fmt") == 0  ? &s->fmt
	                     : strcmp(k, "ws") == 0   ? &s->ws
	                     : strcmp(k, "size") == 0 ? &s->size
	                     : strcmp(k, "zero") == 0 ? &s->zero
	                                              : NULL;
	if (!slot)
		return pp_err(P, kw,
		              "unexpected %s in a field definition (expected bits, mul, "
		              "when, fmt, ws, size, zero or the help string)",
		              plex_describe(kw));
	if (*slot)
		return pp_err(P, kw, "duplicate '%s'", k);
	*slot = kw;
	pp_next(P);
	if (slot == &s->bits)
		return pp_number_in(P, "the bit width", 1, 64, &s->nbits);
	if (slot == &s->mul)
		return pp_number_in(P, "the multiplier", 1, 1u << 30, &s->mulv);
	if (slot == &s->size)
		return pp_number_in(P, "the size", 1, 4096, &s->sizev);
	if (slot == &s->fmt)
		return parse_fmt(P, s);
	if (slot == &s->ws)
		return parse_ws(P, s);
	if (slot == &s->zero) /* the only meaning so far: zero rest */
		return pp_at_word(P, "rest") && pp_next(P)
		           ? 0
		           : pp_err(P, pp_tok(P), "expected 'rest' after 'zero', got %s",
		                    plex_describe(pp_tok(P)));
	s->whenf = proto_xrealloc(NULL, 1, sizeof(struct ptok *));
	s->whenf[0] = pp_expect_word(P, "a field of this layer");
	if (!s->whenf[0])
		return -1;
	if (pp_tok(P)->kind == PT_OP) { /* when F OP V: one comparison */
		s->when_op = pp_next(P)->op;
		if (pp_values(P, "a value", &s->when_values, &s->n_when))
			return -1;
		if (s->n_when != 1)
			return pp_err(P, pp_tok(P), "a comparison in 'when' takes one value");
		return 0;
	}
	return parse_when_values(P, s);
}

static int parse_field_line(struct pparse *P, struct fspec *s)
{
	s->name = pp_expect_word(P, "a field name");
	if (!s->name)
		return -1;
	if (!pp_valid_name(s->name->text, true))
		return pp_err(P, s->name, "invalid field name '%s'", s->name->text);
	if (parse_type(P, s) || parse_source(P, s))
		return -1;
	while (pp_tok(P)->kind != PT_STRING) {
		if (pp_tok(P)->kind == PT_EOL)
			return pp_err(P, pp_tok(P), "field '%s' needs a help string (\"...\")",
			              s->name->text);
		if (parse_option(P, s, pp_tok(P)))
			return -1;
	}
	s->help = pp_next(P);
	return pp_expect_eol(P, "the help string");
}

/* ---- what goes with what --------------------------------------------------------- */

static int check_fixed(struct pparse *P, struct fspec *s)
{
	bool num = s->t == HQ_T_UINT || s->t == HQ_T_BOOL;
	if (!num && (s->bits || s->has_bit))
		return pp_err(P, s->bits ? s->bits : s->off,
		              "a bit position or 'bits' only applies to uint and bool fields");
	if (s->t == HQ_T_UINT && !s->bits)
		return pp_err(P, s->type, "uint field '%s' needs 'bits N'", s->name->text);
	if (s->t == HQ_T_BOOL && !s->bits)
		s->nbits = 1;
	if (num && s->bitv + s->nbits > 64)
		return pp_err(P, s->bits, "bit range beyond 64 bits (starts at bit %u, %u bits)",
		              s->bitv, s->nbits);
	if (s->t == HQ_T_INET)
		return pp_err(P, s->srckw, "an inet field has no fixed place; use 'first'");
	return 0;
}

static int check_spec(struct pparse *P, struct fspec *s)
{
	if (s->src == HQ_FS_FIXED && check_fixed(P, s))
		return -1;
	if (s->src != HQ_FS_FIXED && s->bits)
		return pp_err(P, s->bits, "'bits' only applies to fields read with 'at'");
	if (s->mul && s->t != HQ_T_UINT)
		return pp_err(P, s->mul, "'mul' only applies to uint fields");
	if (s->mul && (s->src == HQ_FS_FIRST || s->src == HQ_FS_META))
		return pp_err(P, s->mul, "'mul' only applies to fields read with 'at' or 'walker'");
	if (s->size && s->t != HQ_T_STR)
		return pp_err(P, s->size, "'size' only applies to str fields");
	if (s->t == HQ_T_STR && !s->size && s->src != HQ_FS_FIRST)
		return pp_err(P, s->type, "str field '%s' needs 'size N'", s->name->text);
	if (s->fmt && s->t != HQ_T_UINT && s->t != HQ_T_BOOL)
		return pp_err(P, s->fmt, "'fmt' only applies to uint fields");
	if (s->when && (s->src == HQ_FS_FIRST || s->src == HQ_FS_META))
		return pp_err(P, s->when,
		              "'when' only applies to fields read with 'at' or 'walker'");
	if (s->zero && (s->t != HQ_T_UINT || s->src != HQ_FS_FIXED))
		return pp_err(P, s->zero, "'zero rest' only applies to uint fields read with 'at'");
	if (s->src == HQ_FS_META && s->t != HQ_T_UINT && s->t != HQ_T_BOOL)
		return pp_err(P, s->type, "metadata fields are uint");
	return 0;
}

static unsigned natural_size(const struct fspec *s)
{
	switch (s->t) {
	case HQ_T_IP4:
		return 4;
	case HQ_T_IP6:
		return 16;
	case HQ_T_MAC:
		return 6;
	case HQ_T_INET:
		return 20;
	case HQ_T_STR:
		return s->sizev;
	default:
		return 8;
	}
}

/* ---- building the field ---------------------------------------------------------------- */

static struct hq_field *build_field(struct pparse *P, struct fspec *s)
{
	struct hq_layer *l = P->cur;
	struct hq_field *f = proto_xrealloc(NULL, 1, sizeof(*f));
	memset(f, 0, sizeof(*f));
	f->name = proto_xstrdup(s->name->text);
	f->full = proto_xrealloc(NULL, strlen(l->name) + strlen(f->name) + 2, 1);
	sprintf(f->full, "%s.%s", l->name, f->name);
	f->ws_names = proto_xrealloc(NULL, (size_t)s->n_ws + 1, sizeof(char *));
	for (int i = 0; i < s->n_ws; i++)
		f->ws_names[i] = proto_xstrdup(s->wsn[i]->text);
	f->ws_names[s->n_ws] = NULL;
	f->help = proto_xstrdup(s->help->text);
	f->type = s->t;
	f->src = s->src;
	f->off = s->offv;
	f->bit = s->bitv;
	f->nbits = s->nbits;
	f->size = natural_size(s);
	f->mul = s->mul ? s->mulv : 1;
	f->fmt = s->fmt ? proto_xstrdup(s->fmt->text) : NULL;
	f->when_values = s->when_values;
	f->n_when_values = s->n_when;
	f->when_op = s->when_op;
	f->when_hi = s->when_hi;
	s->when_values = NULL;
	s->when_hi = NULL;
	f->zero_rest = s->zero != NULL;
	f->stop_level = l->n_stop;
	f->key = s->key ? proto_xstrdup(s->key->text) : NULL;
	if (s->n_alts) {
		f->alts = proto_xrealloc(NULL, (size_t)s->n_alts, sizeof(*f->alts));
		memset(f->alts, 0, (size_t)s->n_alts * sizeof(*f->alts));
		f->n_alts = s->n_alts;
	}
	f->layer = l;
	f->src_file = (struct hq_source *)P->src;
	f->span = s->name->span;
	return f;
}

/* Wireshark names are one namespace with full names: a tshark name may not
 * mean two fields. Checked against every field loaded so far, so each clash
 * is reported once, at the later of the two. */
static struct hq_field *ws_owner(struct hq_proto *p, const char *name, bool *as_full)
{
	for (int i = 0; i < p->n_layers; i++)
		for (int j = 0; j < p->layers[i]->n_fields; j++) {
			struct hq_field *g = p->layers[i]->fields[j];
			*as_full = strcmp(g->full, name) == 0;
			if (*as_full)
				return g;
			for (char **w = g->ws_names; *w; w++)
				if (strcmp(*w, name) == 0)
					return g;
		}
	return NULL;
}

static int check_ws(struct pparse *P, struct fspec *s)
{
	struct hq_proto *p = P->L->p;
	char full[256];
	bool as_full;
	snprintf(full, sizeof(full), "%s.%s", P->cur->name, s->name->text);
	struct hq_field *g = ws_owner(p, full, &as_full);
	if (g && !as_full)
		return pp_err(P, s->name, "field name '%s' is already a Wireshark name of '%s'",
		              full, g->full);
	for (int i = 0; i < s->n_ws; i++) {
		const char *w = s->wsn[i]->text;
		for (int k = 0; k < i; k++)
			if (strcmp(s->wsn[k]->text, w) == 0)
				return pp_err(P, s->wsn[i], "Wireshark name '%s' listed twice", w);
		if (strcmp(w, full) == 0 || !(g = ws_owner(p, w, &as_full)))
			continue;
		pp_err(P, s->wsn[i], "Wireshark name '%s' already %s '%s'", w,
		       as_full ? "names the field" : "belongs to", g->full);
		diag_note(P->L->d, g->src_file, g->span, "'%s' is defined here", g->full);
		return -1;
	}
	return 0;
}

static void add_field(struct pparse *P, struct fspec *s)
{
	struct hq_layer *l = P->cur;
	struct hq_field *f = build_field(P, s);
	*(struct hq_field **)proto_push(&l->fields, &l->n_fields, sizeof(f)) = f;
	if (s->when)
		pp_add_ref(P, PR_WHEN, f, 0, s->whenf[0]);
	for (int i = 0; i < s->n_alts; i++)
		pp_add_ref(P, PR_FIRST, f, i, s->alts[i]);
}

int pfield_parse(struct pparse *P, struct ptok *kw)
{
	struct fspec s = {0};
	int rc = parse_field_line(P, &s);
	if (rc == 0) {
		struct hq_field *dup = proto_layer_field(P->cur, s.name->text);
		if (dup) {
			rc = pp_err(P, s.name, "duplicate field '%s' in layer '%s'", s.name->text,
			            P->cur->name);
			diag_note(P->L->d, dup->src_file, dup->span, "'%s' was first defined here",
			          dup->full);
		}
	}
	if (rc == 0)
		rc = check_spec(P, &s);
	if (rc == 0)
		rc = check_ws(P, &s);
	if (rc == 0)
		add_field(P, &s);
	free(s.alts);
	free(s.wsn);
	free(s.whenf);
	free(s.when_values);
	free(s.when_hi);
	return rc;
}
