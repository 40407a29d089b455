/* parser.y — the pure bison grammar of queries and scripts: builds the AST
 * with spans, checks clause multiplicity, and turns bison's syntax errors
 * into "expected X, found Y" diagnostics at the offending token.
 *
 * Statements are separated by `;` or by a newline. A newline only ends a
 * statement when the next line starts one (`let`, `on` or a layer name),
 * the previous token does not need more (`and`, `,`, `where`, …) and no
 * bracket is open, so long queries can be broken over lines:
 *     tcp where flags.syn
 *         and not flags.ack
 *         group by ip.src
 * Precedence, loosest first: or, and, not, comparisons (== != < <= > >= in
 * `not in` contains startswith, non-associative), |, &, `..`. So
 * `not dst_port == 80` is `not (dst_port == 80)`, as in Wireshark.
 */
%code requires {
#include <stdbool.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"

/* State shared by the scanner (yyextra) and the parser (%param). */
struct hq_parse {
	void *scanner;
	const struct hq_source *src;
	struct hq_diag *d;
	struct hq_script *script;
	int line, col;	  /* scanner position */
	bool lex_failed;  /* the scanner reported an error */
	int depth;	  /* open ( and { */
	int n_ops;	  /* operators in the current statement */
	int prev;	  /* token before the lookahead (0: none yet) */
	int cur;	  /* the lookahead: last token handed to the parser */
	bool on_list;	  /* cur is inside `on IFACE, …` (for messages) */
	bool on_prev;	  /* prev is inside `on IFACE, …` */
	bool nl_sep;	  /* the current SEP came from a newline */
	char text[48];	  /* text of the token handed to the parser */
	/* one token of lookahead, read past a newline */
	int pend;
	union YYSTYPE *pend_val;
	struct hq_span pend_loc;
	char pend_text[48];
};

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                                       \
	do {                                                                              \
		if (N) {                                                                  \
			(Cur).line = YYRHSLOC(Rhs, 1).line;                               \
			(Cur).col = YYRHSLOC(Rhs, 1).col;                                 \
			(Cur).end_line = YYRHSLOC(Rhs, N).end_line;                       \
			(Cur).end_col = YYRHSLOC(Rhs, N).end_col;                         \
		} else {                                                                  \
			(Cur).line = (Cur).end_line = YYRHSLOC(Rhs, 0).end_line;          \
			(Cur).col = (Cur).end_col = YYRHSLOC(Rhs, 0).end_col + 1;         \
		}                                                                         \
	} while (0)
}

%code provides {
int lex_begin(struct hq_parse *ps);
void lex_finish(struct hq_parse *ps);
const char *lex_text(struct hq_parse *ps);
}

%code {
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

int lex_lex(YYSTYPE *val, YYLTYPE *loc, void *scanner);
static int yylex(YYSTYPE *val, YYLTYPE *loc, struct hq_parse *ps);
static void yyerror(const YYLTYPE *loc, struct hq_parse *ps, const char *msg);
static void parse_list_free(struct hq_expr_list *l);
static void parse_query_finish(struct hq_parse *ps, struct hq_query *q, struct hq_span span);
static struct hq_query *parse_head(char *layer, struct hq_span span);
static void parse_clause_dup(struct hq_parse *ps, struct hq_span span, const char *what);
static void parse_set_log(struct hq_parse *ps, struct hq_query *q, struct hq_expr_list l,
			  struct hq_span span);
static void parse_set_group(struct hq_parse *ps, struct hq_query *q, struct hq_expr_list l,
			    struct hq_span span);
static uint64_t parse_count(struct hq_parse *ps, struct hq_expr *n, const char *clause);

/* Operators per statement are bounded, so that the recursive passes over the
 * tree (sema, dump, free) have a bounded depth. YYABORT does not reclaim the
 * right-hand side of the aborting rule, so the new node (which owns it) is
 * freed here. */
#define PARSE_MAX_OPS 2000
#define PARSE_OP(dst, loc, make)                                                          \
	do {                                                                              \
		dst = (make);                                                             \
		if (++ps->n_ops > PARSE_MAX_OPS) {                                        \
			diag_error(ps->d, ps->src, loc,                                   \
				   "expression too complex (more than %d operators)",     \
				   PARSE_MAX_OPS);                                        \
			ast_expr_free(dst);                                               \
			YYABORT;                                                          \
		}                                                                         \
	} while (0)
}

%define api.pure full
%define api.location.type {struct hq_span}
%define parse.error custom
%define parse.lac full
%locations
%param {struct hq_parse *ps}
%expect 0

%union {
	uint64_t num;
	char *str;
	struct hq_expr *expr;
	struct hq_query *query;
	struct hq_let *let;
	struct hq_expr_list list;
	struct { char **v; int n; } names;
	int dir;
}

%token <expr> INT "number" LITERAL "address" STRING "string"
%token <num> DURATION "duration"
%token <str> IDENT "name"
%token ON "on" INGRESS "ingress" EGRESS "egress" WHERE "where" LOG "log" GROUP "group"
%token BY "by" SELECT "select" HAVING "having" EVERY "every" TOP "top" LIMIT "limit"
%token RATE "rate" AS "as" LET "let"
%token AND "and" OR "or" NOT "not" IN "in" CONTAINS "contains" STARTSWITH "startswith"
%token EQ "==" NE "!=" LT "<" LE "<=" GT ">" GE ">=" BAND "&" BOR "|" DOTDOT ".."
%token SEP "end of statement" NEWLINE "newline"
%token LPAREN "(" RPAREN ")" LBRACE "{" RBRACE "}" COMMA "," STAR "*" SLASH "/" ASSIGN "="

%type <expr> expr primary
%type <list> expr_list
%type <query> query head
%type <let> let_def
%type <names> ifaces
%type <dir> dir_opt

%destructor { ast_expr_free($$); } <expr>
%destructor { free($$); } <str>
%destructor { ast_query_free($$); } <query>
%destructor { ast_let_free($$); } <let>
%destructor { parse_list_free(&$$); } <list>
%destructor { for (int i = 0; i < $$.n; i++) free($$.v[i]); free($$.v); } <names>

%left OR
%left AND
%right NOT
%nonassoc EQ NE LT LE GT GE IN CONTAINS STARTSWITH
%left BOR
%left BAND
%nonassoc DOTDOT

%%

script:
	  stmt
	| script SEP stmt
	;

stmt:
	  %empty
	| let_def		{ ast_script_add_let(ps->script, $1); }
	| query			{ parse_query_finish(ps, $1, @1); }
	;

let_def:
	  LET IDENT ASSIGN expr	{
					$$ = ast_alloc(sizeof(*$$));
					$$->name = $2;
					$$->value = $4;
					$$->span = @2;
					$$->def = span_join(@2, @4);
				}
	;

head:
	  IDENT			{ $$ = parse_head($1, @1); }
	| ON ifaces dir_opt IDENT {
					$$ = parse_head($4, @4);
					$$->ifaces = $2.v;
					$$->n_ifaces = $2.n;
					$$->has_dir = $3 >= 0;
					$$->dir = $3 > 0 ? HQ_DIR_EGRESS : HQ_DIR_INGRESS;
					$$->on_span = @1;
					$$->on_span.end_line = $3 >= 0 ? @3.end_line : @2.end_line;
					$$->on_span.end_col = $3 >= 0 ? @3.end_col : @2.end_col;
				}
	;

ifaces:
	  IDENT			{ $$.v = ast_alloc(sizeof(char *)); $$.v[0] = $1; $$.n = 1; }
	| ifaces COMMA IDENT	{
					$$ = $1;
					$$.v = realloc($$.v, (size_t)($$.n + 1) * sizeof(char *));
					if (!$$.v)
						abort();
					$$.v[$$.n++] = $3;
				}
	;

dir_opt:
	  %empty		{ $$ = -1; }
	| INGRESS		{ $$ = 0; }
	| EGRESS		{ $$ = 1; }
	;

query:
	  head
	| query WHERE expr	{
					$$ = $1;
					if ($$->where) {
						parse_clause_dup(ps, @2, "where");
						ast_expr_free($3);
					} else {
						$$->where = $3;
					}
				}
	| query LOG STAR		{
					struct hq_expr_list l = {0};
					ast_list_push(&l, ast_expr_new(HQ_EX_STAR, @3));
					parse_set_log(ps, $1, l, @2);
					$$ = $1;
				}
	| query LOG expr_list	{ parse_set_log(ps, $1, $3, @2); $$ = $1; }
	| query GROUP BY expr_list { parse_set_group(ps, $1, $4, @2); $$ = $1; }
	| query SELECT expr_list {
					$$ = $1;
					if ($$->aggs.n) {
						parse_clause_dup(ps, @2, "select");
						parse_list_free(&$3);
					} else {
						$$->aggs = $3;
					}
				}
	| query HAVING expr	{
					$$ = $1;
					if ($$->having) {
						parse_clause_dup(ps, @2, "having");
						ast_expr_free($3);
					} else {
						$$->having = $3;
					}
				}
	| query EVERY DURATION	{
					$$ = $1;
					if ($$->every_ns)
						parse_clause_dup(ps, @2, "every");
					else if (!$3)
						diag_error(ps->d, ps->src, @3, "every needs a duration above zero");
					$$->every_ns = $$->every_ns ? $$->every_ns : $3;
					$$->every_span = @$;
					$$->every_span.line = @2.line;
					$$->every_span.col = @2.col;
				}
	| query TOP INT		{
					$$ = $1;
					if ($$->top) {
						parse_clause_dup(ps, @2, "top");
						ast_expr_free($3);
					} else
						$$->top = parse_count(ps, $3, "top");
					$$->top_span = @2;
					$$->top_span.end_line = @3.end_line;
					$$->top_span.end_col = @3.end_col;
				}
	| query LIMIT INT	{
					$$ = $1;
					if ($$->limit) {
						parse_clause_dup(ps, @2, "limit");
						ast_expr_free($3);
					} else
						$$->limit = parse_count(ps, $3, "limit");
					$$->limit_span = @2;
					$$->limit_span.end_line = @3.end_line;
					$$->limit_span.end_col = @3.end_col;
				}
	| query RATE INT SLASH IDENT {
					$$ = $1;
					if (strcmp($5, "s"))
						diag_error(ps->d, ps->src, @5, "rate is counted per second: write rate N/s");
					if ($$->rate) {
						parse_clause_dup(ps, @2, "rate");
						ast_expr_free($3);
					} else
						$$->rate = parse_count(ps, $3, "rate");
					free($5);
					$$->rate_span = @2;
					$$->rate_span.end_line = @5.end_line;
					$$->rate_span.end_col = @5.end_col;
				}
	| query AS IDENT	{
					$$ = $1;
					if ($$->name) {
						parse_clause_dup(ps, @2, "as");
						free($3);
					} else {
						$$->name = $3;
					}
				}
	;

expr_list:
	  expr			{ $$.items = NULL; $$.n = 0; ast_list_push(&$$, $1); }
	| expr_list COMMA expr	{ $$ = $1; ast_list_push(&$$, $3); }
	;

expr:
	  expr OR expr		{ PARSE_OP($$, @$, ast_binary(HQ_OP_OR, $1, $3)); }
	| expr AND expr		{ PARSE_OP($$, @$, ast_binary(HQ_OP_AND, $1, $3)); }
	| NOT expr		{ PARSE_OP($$, @$, ast_unary(HQ_OP_NOT, $2, @1)); }
	| expr EQ expr		{ PARSE_OP($$, @$, ast_binary(HQ_OP_EQ, $1, $3)); }
	| expr NE expr		{ PARSE_OP($$, @$, ast_binary(HQ_OP_NE, $1, $3)); }
	| expr LT expr		{ PARSE_OP($$, @$, ast_binary(HQ_OP_LT, $1, $3)); }
	| expr LE expr		{ PARSE_OP($$, @$, ast_binary(HQ_OP_LE, $1, $3)); }
	| expr GT expr		{ PARSE_OP($$, @$, ast_binary(HQ_OP_GT, $1, $3)); }
	| expr GE expr		{ PARSE_OP($$, @$, ast_binary(HQ_OP_GE, $1, $3)); }
	| expr IN expr		{ PARSE_OP($$, @$, ast_binary(HQ_OP_IN, $1, $3)); }
	| expr NOT IN expr %prec IN { PARSE_OP($$, @$, ast_binary(HQ_OP_NOT_IN, $1, $4)); }
	| expr CONTAINS expr	{ PARSE_OP($$, @$, ast_binary(HQ_OP_CONTAINS, $1, $3)); }
	| expr STARTSWITH expr	{ PARSE_OP($$, @$, ast_binary(HQ_OP_STARTSWITH, $1, $3)); }
	| expr BOR expr		{ PARSE_OP($$, @$, ast_binary(HQ_OP_BOR, $1, $3)); }
	| expr BAND expr	{ PARSE_OP($$, @$, ast_binary(HQ_OP_BAND, $1, $3)); }
	| expr DOTDOT expr	{
					PARSE_OP($$, @$, ast_binary(HQ_OP_NONE, $1, $3));
					$$->kind = HQ_EX_RANGE;
				}
	| primary
	;

primary:
	  INT
	| LITERAL
	| STRING
	| IDENT			{ $$ = ast_expr_new(HQ_EX_NAME, @1); $$->name = $1; }
	| IDENT LPAREN RPAREN		{ $$ = ast_expr_new(HQ_EX_CALL, @$); $$->name = $1; }
	| IDENT LPAREN expr_list RPAREN {
					$$ = ast_expr_new(HQ_EX_CALL, @$);
					$$->name = $1;
					$$->items = $3;
				}
	| LPAREN expr RPAREN		{ $$ = $2; }
	| LBRACE RBRACE		{ $$ = ast_expr_new(HQ_EX_SET, @$); }
	| LBRACE expr_list RBRACE	{ $$ = ast_expr_new(HQ_EX_SET, @$); $$->items = $2; }
	;

%%

static void parse_list_free(struct hq_expr_list *l)
{
	for (int i = 0; i < l->n; i++)
		ast_expr_free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static struct hq_query *parse_head(char *layer, struct hq_span span)
{
	struct hq_query *q = ast_query_new();

	q->layer_name = layer;
	q->layer_span = span;
	return q;
}

static void parse_clause_dup(struct hq_parse *ps, struct hq_span span, const char *what)
{
	diag_error(ps->d, ps->src, span, "duplicate '%s' clause: each clause may appear once", what);
}

static void parse_set_log(struct hq_parse *ps, struct hq_query *q, struct hq_expr_list l,
			  struct hq_span span)
{
	if (q->action != HQ_ACT_COUNT) {
		if (q->action == HQ_ACT_LOG)
			parse_clause_dup(ps, span, "log");
		else
			diag_error(ps->d, ps->src, span,
				   "a query either logs or groups: 'log' cannot follow 'group by'");
		parse_list_free(&l);
		return;
	}
	q->action = HQ_ACT_LOG;
	q->log = l;
}

static void parse_set_group(struct hq_parse *ps, struct hq_query *q, struct hq_expr_list l,
			    struct hq_span span)
{
	if (q->action != HQ_ACT_COUNT) {
		if (q->action == HQ_ACT_GROUP)
			parse_clause_dup(ps, span, "group by");
		else
			diag_error(ps->d, ps->src, span,
				   "a query either logs or groups: 'group by' cannot follow 'log'");
		parse_list_free(&l);
		return;
	}
	q->action = HQ_ACT_GROUP;
	q->keys = l;
}

/* top/limit/rate N: a positive count. Consumes n. */
static uint64_t parse_count(struct hq_parse *ps, struct hq_expr *n, const char *clause)
{
	uint64_t v = n->u.num;

	if (!v)
		diag_error(ps->d, ps->src, n->span, "%s needs a number above zero", clause);
	ast_expr_free(n);
	return v;
}

static void parse_query_finish(struct hq_parse *ps, struct hq_query *q, struct hq_span span)
{
	q->span = span;
	q->src = ps->src;
	q->index = ps->script->n_queries;
	ast_script_add_query(ps->script, q);
}

/* --- token filter: newlines, bracket depth, token text ---------------------- */

static bool parse_needs_more(int tok)
{
	switch (tok) {
	case 0: case SEP: case ON: case WHERE: case LOG: case GROUP: case BY: case SELECT:
	case HAVING: case EVERY: case TOP: case LIMIT: case RATE: case AS: case LET:
	case AND: case OR: case NOT: case IN: case CONTAINS: case STARTSWITH:
	case EQ: case NE: case LT: case LE: case GT: case GE: case BAND: case BOR:
	case DOTDOT: case COMMA: case LPAREN: case LBRACE: case SLASH: case ASSIGN: case INGRESS:
	case EGRESS:
		return true;
	default:
		return false;
	}
}

static int parse_raw(struct hq_parse *ps, YYSTYPE *val, YYLTYPE *loc, char *text)
{
	int tok = lex_lex(val, loc, ps->scanner);

	if (!tok) { /* the end of the input sits just after its last character */
		loc->line = loc->end_line = ps->line;
		loc->col = loc->end_col = ps->col;
	}
	snprintf(text, sizeof(ps->text), "%s", tok ? lex_text(ps) : "");
	return tok;
}

static int yylex(YYSTYPE *val, YYLTYPE *loc, struct hq_parse *ps)
{
	int tok;

	ps->prev = ps->cur;
	ps->on_prev = ps->on_list;
	if (ps->pend) {
		tok = ps->pend;
		*val = *ps->pend_val;
		*loc = ps->pend_loc;
		memcpy(ps->text, ps->pend_text, sizeof(ps->text));
		ps->pend = 0;
	} else {
		tok = parse_raw(ps, val, loc, ps->text);
	}
	ps->nl_sep = false;
	if (tok == NEWLINE) {
		YYLTYPE nl = *loc;
		bool sep = ps->depth == 0 && !parse_needs_more(ps->prev);

		do
			tok = parse_raw(ps, val, loc, ps->pend_text);
		while (tok == NEWLINE);
		if (sep && (tok == LET || tok == ON || tok == IDENT)) {
			ps->pend = tok;
			*ps->pend_val = *val;
			ps->pend_loc = *loc;
			*loc = nl;
			tok = SEP;
			ps->nl_sep = true;
		} else {
			memcpy(ps->text, ps->pend_text, sizeof(ps->text));
		}
	}
	if (tok == LPAREN || tok == LBRACE)
		ps->depth++;
	else if ((tok == RPAREN || tok == RBRACE) && ps->depth > 0)
		ps->depth--;
	else if (tok == SEP)
		ps->depth = ps->n_ops = 0;
	ps->on_list = tok == ON || (ps->on_list && (tok == IDENT || tok == COMMA));
	ps->cur = tok;
	return tok;
}

/* --- syntax errors ------------------------------------------------------------ */

/* What bison expected, in words, in a fixed order of categories. */
enum parse_rank { PR_TOKEN, PR_VALUE, PR_OP, PR_CLAUSE, PR_END, PR_N };

struct parse_words {
	const char *item[PR_N][6];
	int n[PR_N];
	char quoted[PR_N * 6][24]; /* storage for 'token' words */
	int n_quoted;
};

static void parse_words_add(struct parse_words *w, enum parse_rank r, const char *s)
{
	for (int i = 0; i < w->n[r]; i++)
		if (!strcmp(w->item[r][i], s))
			return;
	if (w->n[r] < 6)
		w->item[r][w->n[r]++] = s;
}

static bool parse_has(const yysymbol_kind_t *exp, int n, yysymbol_kind_t k)
{
	for (int i = 0; i < n; i++)
		if (exp[i] == k)
			return true;
	return false;
}

static bool parse_at_layer(const struct hq_parse *ps)
{
	return ps->prev == 0 || ps->prev == SEP || ps->prev == INGRESS || ps->prev == EGRESS ||
	       (ps->on_prev && ps->prev == IDENT);
}

static const char *parse_describe_ident(const struct hq_parse *ps, bool value)
{
	if (parse_at_layer(ps))
		return "a layer name (eth, ip, tcp, …)";
	if (ps->prev == ON || (ps->on_prev && ps->prev == COMMA))
		return "an interface name";
	if (ps->prev == AS)
		return "a query name";
	if (ps->prev == LET)
		return "a name for the predicate";
	if (ps->prev == SLASH)
		return "'s'";
	return value ? "a value or field name" : "a name";
}

/* Describe one expected token; returns its category, or -1 to leave it out. */
static int parse_describe(const struct hq_parse *ps, yysymbol_kind_t k, bool value,
			  const char **out)
{
	switch (k) {
	case YYSYMBOL_IDENT:
		*out = parse_describe_ident(ps, value);
		return PR_VALUE;
	case YYSYMBOL_INT:
		*out = value ? NULL : "a number";
		return value ? -1 : PR_VALUE;
	case YYSYMBOL_LITERAL: case YYSYMBOL_STRING: case YYSYMBOL_LPAREN: case YYSYMBOL_LBRACE:
		return -1;
	case YYSYMBOL_NOT:
		*out = "an operator";
		return value ? -1 : PR_OP;
	case YYSYMBOL_DURATION:
		*out = "a duration (500ms, 1s, 1m, …)";
		return PR_VALUE;
	case YYSYMBOL_EQ: case YYSYMBOL_NE: case YYSYMBOL_LT: case YYSYMBOL_LE:
	case YYSYMBOL_GT: case YYSYMBOL_GE: case YYSYMBOL_IN: case YYSYMBOL_CONTAINS:
	case YYSYMBOL_STARTSWITH: case YYSYMBOL_BAND: case YYSYMBOL_BOR: case YYSYMBOL_DOTDOT:
	case YYSYMBOL_AND: case YYSYMBOL_OR:
		*out = "an operator";
		return PR_OP;
	case YYSYMBOL_WHERE: case YYSYMBOL_LOG: case YYSYMBOL_GROUP: case YYSYMBOL_SELECT:
	case YYSYMBOL_HAVING: case YYSYMBOL_EVERY: case YYSYMBOL_TOP: case YYSYMBOL_LIMIT:
	case YYSYMBOL_RATE: case YYSYMBOL_AS:
		*out = "a clause (where, log, group by, every, top, limit, as, …)";
		return PR_CLAUSE;
	case YYSYMBOL_SEP: case YYSYMBOL_YYEOF:
		*out = "the end of the query";
		return PR_END;
	case YYSYMBOL_LET: case YYSYMBOL_ON:
		return -1; /* only where a layer name is expected too */
	default:
		*out = yysymbol_name(k);
		return PR_TOKEN;
	}
}

static void parse_expected(const struct hq_parse *ps, const yysymbol_kind_t *exp, int n,
			   char *out, size_t size)
{
	bool value = parse_has(exp, n, YYSYMBOL_IDENT) && parse_has(exp, n, YYSYMBOL_INT);
	struct parse_words w = {0};
	const char *all[PR_N * 6];
	int total = 0;
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		const char *s = NULL;
		int r = parse_describe(ps, exp[i], value, &s);
		if (r == PR_TOKEN && w.n_quoted < PR_N * 6) {
			snprintf(w.quoted[w.n_quoted], sizeof(w.quoted[0]), "'%s'", s);
			s = w.quoted[w.n_quoted++];
		}
		if (r >= 0 && s)
			parse_words_add(&w, (enum parse_rank)r, s);
	}
	if (parse_has(exp, n, YYSYMBOL_IDENT) && parse_at_layer(ps))
		memset(&w, 0, sizeof(w)); /* where a query starts, the layer is what matters */
	for (int r = 0; r < PR_N; r++)
		for (int i = 0; i < w.n[r]; i++)
			all[total++] = w.item[r][i];
	if (!total)
		all[total++] = parse_describe_ident(ps, value);
	out[0] = 0;
	for (int i = 0; i < total && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s",
					i == 0 ? "" : i == total - 1 ? " or " : ", ", all[i]);
}

static void parse_found(const struct hq_parse *ps, yysymbol_kind_t k, char *out, size_t n)
{
	if (k == YYSYMBOL_YYEOF)
		snprintf(out, n, "the end of the input");
	else if (k == YYSYMBOL_SEP && ps->nl_sep)
		snprintf(out, n, "the end of the line");
	else
		snprintf(out, n, "'%s'", ps->text);
}

static int yyreport_syntax_error(const yypcontext_t *ctx, struct hq_parse *ps)
{
	yysymbol_kind_t exp[YYNTOKENS];
	int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
	yysymbol_kind_t found = yypcontext_token(ctx);
	char what[HQ_DIAG_MSG_MAX / 2];
	char seen[96];

	if (found == YYSYMBOL_YYerror || ps->lex_failed)
		return 0; /* the scanner has said what is wrong */
	parse_expected(ps, exp, n, what, sizeof(what));
	parse_found(ps, found, seen, sizeof(seen));
	diag_error(ps->d, ps->src, *yypcontext_location(ctx), "expected %s, found %s%s", what,
		   seen,
		   found == YYSYMBOL_ASSIGN && parse_has(exp, n, YYSYMBOL_EQ) ? " (use == to compare)"
									   : "");
	return 0;
}

static void yyerror(const YYLTYPE *loc, struct hq_parse *ps, const char *msg)
{
	diag_error(ps->d, ps->src, *loc, "%s", msg);
}

struct hq_script *parse_script(const struct hq_source *src, struct hq_diag *d)
{
	struct hq_parse ps = {0};
	YYSTYPE pend_val;
	int errors = d->n_errors;
	int rc;

	ps.src = src;
	ps.d = d;
	ps.pend_val = &pend_val;
	ps.script = ast_alloc(sizeof(*ps.script));
	ps.script->src = src;
	if (lex_begin(&ps)) {
		diag_errorf(d, "cannot start the query scanner");
		ast_script_free(ps.script);
		return NULL;
	}
	rc = yyparse(&ps);
	if (ps.pend) {
		yydestruct("pending", YYTRANSLATE(ps.pend), &pend_val, &ps.pend_loc, &ps);
		ps.pend = 0;
	}
	lex_finish(&ps);
	if (rc || d->n_errors > errors) {
		ast_script_free(ps.script);
		return NULL;
	}
	return ps.script;
}
