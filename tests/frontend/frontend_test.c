/* frontend_test.c — table-driven tests of the frontend (lexer, parser, AST
 * dump, semantic analysis), in the manner of libpcap's filter tests.
 *
 *   frontend_test [--proto FILE | --stdlib] MODE TABLE
 *
 * MODE parse   lines `QUERY<TAB>DUMP`: parse only, compare ast_dump_script
 * MODE accept  lines `QUERY<TAB>DUMP`: parse + sema_check, compare the dump
 * MODE reject  lines `QUERY<TAB>LINE:COL<TAB>TEXT`: the first error is at
 *              LINE:COL and its message contains TEXT; with TEXT
 *              `warning: …`, the first warning instead
 *
 * The registry is FILE (loaded with proto_load_text, independent of the
 * stdlib) or the real stdlib (proto_stdlib_dir, i.e. $HDRQ_STDLIB). In
 * QUERY, `\n` stands for a newline, `\t` for a tab and `\\` for a
 * backslash; in DUMP, the statements of a script are joined by " ; ".
 * Blank lines and lines starting with `#` are comments. Every accepted tree
 * is also checked for spans on every node, for deep copies that dump the
 * same, and (under ASan) for leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

enum ft_mode { FT_PARSE, FT_ACCEPT, FT_REJECT };

struct ft {
	enum ft_mode mode;
	const struct hq_proto *proto;
	const char *table;
	int lineno;
	int run, failed;
};

static char *ft_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* \n -> newline, \t -> tab, \\ -> backslash; anything else is kept. */
static void ft_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && (s[1] == 'n' || s[1] == 't' || s[1] == '\\')) {
			*o++ = s[1] == 'n' ? '\n' : s[1] == 't' ? '\t' : '\\';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

static void ft_fail(struct ft *t, const char *query, const char *fmt, const char *a, const char *b)
{
	t->failed++;
	fprintf(stderr, "%s:%d: FAIL: %s\n  ", t->table, t->lineno, query);
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
}

/* --- tree invariants --------------------------------------------------------- */

static int ft_check_span(const struct hq_span *s)
{
	if (s->line < 1 || s->col < 1 || s->end_line < s->line)
		return -1;
	if (s->end_line == s->line && s->end_col < s->col)
		return -1;
	return 0;
}

static int ft_check_expr(const struct hq_expr *e)
{
	int rc;

	if (!e)
		return 0;
	rc = ft_check_span(&e->span) | ft_check_expr(e->lhs) | ft_check_expr(e->rhs);
	for (int i = 0; i < e->items.n; i++)
		rc |= ft_check_expr(e->items.items[i]);
	return rc;
}

static int ft_check_list(const struct hq_expr_list *l)
{
	int rc = 0;

	for (int i = 0; i < l->n; i++)
		rc |= ft_check_expr(l->items[i]);
	return rc;
}

static int ft_check_tree(const struct hq_script *s)
{
	int rc = 0;

	for (int i = 0; i < s->n_lets; i++)
		rc |= ft_check_span(&s->lets[i]->span) | ft_check_expr(s->lets[i]->value);
	for (int i = 0; i < s->n_queries; i++) {
		const struct hq_query *q = s->queries[i];
		rc |= ft_check_span(&q->span) | ft_check_span(&q->layer_span);
		rc |= ft_check_expr(q->where) | ft_check_expr(q->having);
		rc |= ft_check_list(&q->log) | ft_check_list(&q->keys) | ft_check_list(&q->aggs);
	}
	return rc;
}

/* Deep copies of every where clause dump like the original. */
static int ft_check_copy(const struct hq_script *s)
{
	for (int i = 0; i < s->n_queries; i++) {
		const struct hq_expr *w = s->queries[i]->where;
		struct hq_expr *c;
		char *a, *b;
		int same;

		if (!w)
			continue;
		c = ast_expr_copy(w);
		a = ast_dump_expr(w);
		b = ast_dump_expr(c);
		same = !strcmp(a, b);
		free(a);
		free(b);
		ast_expr_free(c);
		if (!same)
			return -1;
	}
	return 0;
}

static char *ft_dump(const struct hq_script *s)
{
	char *d = ast_dump_script(s), *o;
	size_t n = 0;

	for (char *p = d; *p; p++)
		n += *p == '\n' ? 3 : 1;
	o = malloc(n + 1);
	n = 0;
	for (char *p = d; *p; p++) {
		if (*p == '\n') {
			memcpy(o + n, " ; ", 3);
			n += 3;
		} else {
			o[n++] = *p;
		}
	}
	o[n] = 0;
	free(d);
	return o;
}

static void ft_print_diags(const struct hq_diag *d)
{
	for (int i = 0; i < d->n; i++)
		fprintf(stderr, "    %d:%d: %s\n", d->entries[i].span.line, d->entries[i].span.col,
		        d->entries[i].msg);
}

/* --- cases ----------------------------------------------------------------------- */

static void ft_accept(struct ft *t, const char *query, const char *expect)
{
	struct hq_source src = {"query", query};
	struct hq_diag d;
	struct hq_script *s;
	char *got;

	diag_init(&d);
	s = parse_script(&src, &d);
	if (s && t->mode == FT_ACCEPT && sema_check(s, t->proto, &d) < 0) {
		ast_script_free(s);
		s = NULL;
	}
	if (!s) {
		ft_fail(t, query, "expected success%s, got errors:%s", "", "");
		ft_print_diags(&d);
		return;
	}
	got = ft_dump(s);
	if (strcmp(got, expect))
		ft_fail(t, query, "expected: %s\n  got:      %s", expect, got);
	else if (ft_check_tree(s))
		ft_fail(t, query, "a node has no valid span%s%s", "", "");
	else if (ft_check_copy(s))
		ft_fail(t, query, "a copy does not dump like its original%s%s", "", "");
	free(got);
	ast_script_free(s);
}

static void ft_reject(struct ft *t, const char *query, const char *pos, const char *text)
{
	struct hq_source src = {"query", query};
	struct hq_diag d;
	struct hq_script *s;
	const struct hq_diag_entry *e = NULL;
	enum hq_diag_level level = HQ_DIAG_ERROR;
	char at[32];

	diag_init(&d);
	s = parse_script(&src, &d);
	if (s) {
		sema_check(s, t->proto, &d);
		ast_script_free(s);
	}
	if (!strncmp(text, "warning: ", 9)) {
		level = HQ_DIAG_WARNING;
		text += 9;
	}
	for (int i = 0; i < d.n && !e; i++)
		if (d.entries[i].level == level)
			e = &d.entries[i];
	if (!e) {
		ft_fail(t, query, "expected a diagnostic at %s: %s, got none", pos, text);
		return;
	}
	snprintf(at, sizeof(at), "%d:%d", e->span.line, e->span.col);
	if (strcmp(at, pos) || !strstr(e->msg, text)) {
		char want[600], got[600];
		snprintf(want, sizeof(want), "%s: ...%s...", pos, text);
		snprintf(got, sizeof(got), "%s: %s", at, e->msg);
		ft_fail(t, query, "expected: %s\n  got:      %s", want, got);
	}
}

static void ft_line(struct ft *t, char *line)
{
	char *f[3] = {line, NULL, NULL};
	int n = 1;

	for (char *p = line; *p && n < 3; p++) {
		if (*p == '\t') {
			*p = 0;
			while (p[1] == '\t')
				p++;
			f[n++] = p + 1;
		}
	}
	if (n < (t->mode == FT_REJECT ? 3 : 2)) {
		ft_fail(t, line, "malformed table line (%s%s)",
		        t->mode == FT_REJECT ? "QUERY<TAB>LINE:COL<TAB>TEXT" : "QUERY<TAB>DUMP",
		        "");
		return;
	}
	ft_unescape(f[0]);
	t->run++;
	if (t->mode == FT_REJECT)
		ft_reject(t, f[0], f[1], f[2]);
	else
		ft_accept(t, f[0], f[1]);
}

static int ft_run_table(struct ft *t)
{
	char *text = ft_slurp(t->table), *line, *next;

	if (!text) {
		fprintf(stderr, "frontend_test: cannot read %s\n", t->table);
		return -1;
	}
	for (line = text, t->lineno = 1; line && *line; line = next, t->lineno++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (*line && *line != '#')
			ft_line(t, line);
	}
	free(text);
	return 0;
}

static struct hq_proto *ft_load_proto(const char *file, struct hq_diag *d)
{
	struct hq_proto *p;
	char *text;
	const char *dir;

	if (!file) {
		dir = proto_stdlib_dir();
		if (!dir) {
			fprintf(stderr, "frontend_test: no stdlib (set HDRQ_STDLIB)\n");
			return NULL;
		}
		return proto_load_dir(dir, d);
	}
	text = ft_slurp(file);
	if (!text) {
		fprintf(stderr, "frontend_test: cannot read %s\n", file);
		return NULL;
	}
	p = proto_load_text(file, text, d);
	free(text);
	return p;
}

int main(int argc, char **argv)
{
	struct ft t = {0};
	struct hq_proto *p = NULL;
	const char *proto_file = NULL;
	struct hq_diag d;
	int i = 1;

	if (i + 1 < argc && !strcmp(argv[i], "--proto")) {
		proto_file = argv[i + 1];
		i += 2;
	} else if (i < argc && !strcmp(argv[i], "--stdlib")) {
		i++;
	}
	if (argc - i != 2) {
		fprintf(stderr,
		        "usage: frontend_test [--proto FILE | --stdlib] parse|accept|reject "
		        "TABLE\n");
		return 2;
	}
	t.mode = !strcmp(argv[i], "parse")    ? FT_PARSE
	         : !strcmp(argv[i], "accept") ? FT_ACCEPT
	                                      : FT_REJECT;
	t.table = argv[i + 1];
	diag_init(&d);
	if (t.mode != FT_PARSE) {
		p = ft_load_proto(proto_file, &d);
		if (!p) {
			ft_print_diags(&d);
			return 1;
		}
		t.proto = p;
	}
	if (ft_run_table(&t) < 0) {
		proto_free(p);
		return 1;
	}
	proto_free(p);
	printf("%s: %d cases, %d failed\n", t.table, t.run, t.failed);
	return t.failed || !t.run ? 1 : 0;
}
