/* proto_int.h — internals shared by the protocol loader's files (not a
 * contract for other stages): the .hdr tokenizer (proto_lex.c), the
 * directive parser (proto_load.c), name resolution and validation
 * (proto_resolve.c). Everything here is private to frontend/proto*.c.
 */
#ifndef HQ_PROTO_INT_H
#define HQ_PROTO_INT_H

#include "proto.h"

/* ---- tokens (proto_lex.c) ---------------------------------------------------- */

enum ptok_kind {
	PT_WORD,   /* run of [A-Za-z0-9_.-]: names, numbers, OFF.BIT */
	PT_STRING, /* "..." (text holds the unquoted, unescaped contents) */
	PT_COMMA,
	PT_STAR,
	PT_OP,  /* == != < <= > >= (op holds which) */
	PT_EOL, /* end of a directive (newline or end of file) */
};

struct ptok {
	enum ptok_kind kind;
	char *text; /* PT_WORD / PT_STRING, owned by the token array */
	enum hq_cmp op;
	struct hq_span span;
};

struct ptoks {
	struct ptok *v;
	int n, cap;
};

/* Split src into tokens; lexical errors go to d. The token list always ends
 * with PT_EOL. Returns 0, or -1 after reporting errors. */
int plex_tokenize(const struct hq_source *src, struct ptoks *out, struct hq_diag *d);
void plex_free(struct ptoks *t);
const char *plex_describe(const struct ptok *t); /* "'foo'", "end of line" */

/* ---- names resolved after every file is read (proto_load.c / proto_resolve.c) */

enum pref_kind {
	PR_LINK,    /* links[i]: parent [. field] */
	PR_HLEN,    /* layer->hlen */
	PR_VALID,   /* valid[i].field (.rhs with pref.rhs) */
	PR_NEXT_IF, /* next_if[i].field (.rhs with pref.rhs) */
	PR_STOP,    /* stop[i].field (.rhs with pref.rhs) */
	PR_WHEN,    /* field->when_field */
	PR_FIRST,   /* field->alts[i] (full name) */
	PR_YIELD,   /* layer->yield_a (index 0) / yield_b (index 1) (full name) */
};

struct pref {
	enum pref_kind kind;
	struct hq_layer *layer;
	struct hq_field *field; /* PR_WHEN / PR_FIRST */
	int index;              /* which link / cond / alt */
	bool rhs;               /* PR_VALID / PR_NEXT_IF / PR_STOP: the right-hand field */
	char *name;             /* as written: "eth", "eth.type", "ihl", "ip.src" */
	const struct hq_source *src;
	struct hq_span span;
};

struct ploader {
	struct hq_proto *p;
	struct hq_diag *d;
	struct pref *refs;
	int n_refs, cap_refs;
	int n_roots;
};

int presolve_all(struct ploader *L);

/* ---- the directive parser (proto_load.c, proto_field.c) --------------------- */

struct pparse {
	struct ploader *L;
	const struct hq_source *src;
	struct ptoks toks;
	int i;                /* current token */
	struct hq_layer *cur; /* layer being defined */
};

struct ptok *pp_tok(struct pparse *P);
struct ptok *pp_next(struct pparse *P); /* returns the token it steps over */
bool pp_at_word(struct pparse *P, const char *w);
int pp_err(struct pparse *P, const struct ptok *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct ptok *pp_expect_word(struct pparse *P, const char *what);
int pp_expect_eol(struct pparse *P, const char *after);
int pp_number(struct pparse *P, const char *what, uint64_t *v);
int pp_number_in(struct pparse *P, const char *what, uint64_t lo, uint64_t hi, unsigned *out);
int pp_values(struct pparse *P, const char *what, uint64_t **vals, int *n);
/* V[,V...] where each V may be a range LO..HI, none above max: appended to
 * (*lo, *hi), *n. */
int pp_ranges(struct pparse *P, uint64_t max, uint64_t **lo, uint64_t **hi, int *n);
bool pp_valid_name(const char *s, bool dots);
void pp_add_ref(struct pparse *P, enum pref_kind k, struct hq_field *f, int index,
                const struct ptok *t);

/* `field ...` line (proto_field.c); kw is the `field` token. */
int pfield_parse(struct pparse *P, struct ptok *kw);

/* ---- shared helpers --------------------------------------------------------- */

void *proto_xrealloc(void *ptr, size_t n, size_t size);
char *proto_xstrdup(const char *s);
/* Append one element to a growable array (*v, *n) of `size`-byte elements. */
void *proto_push(void *vp, int *n, size_t size);
/* Parse a decimal or 0x hex unsigned number; false if s is not one. */
bool proto_parse_u64(const char *s, uint64_t *out);

/* Move p's sources out of p into a list that lives until exit: the
 * diagnostics of a failed load still point into them after proto_free. */
void proto_keep_sources(struct hq_proto *p);

/* Walker names and the keys each one provides (mirrors PROTO-FORMAT.md). */
const char *const *proto_walker_keys(const char *walker); /* NULL-terminated, or NULL */
extern const char *const proto_walker_names[];
extern const char *const proto_meta_keys[];

#endif
