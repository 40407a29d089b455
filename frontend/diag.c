/* diag.c — owns diagnostics: collecting them (diag_error & co.), printing
 * them clang style with the source line and a caret underline (diag_print),
 * typo suggestions (diag_suggest) and span arithmetic (span_join).
 */
#include "diag.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- collecting ------------------------------------------------------------ */

void diag_init(struct hq_diag *d)
{
	memset(d, 0, sizeof(*d));
}

/* Append one entry. When the bag is full the entry is dropped but errors are
 * still counted, so diag_print can say how many were not shown. */
static void diag_add(struct hq_diag *d, enum hq_diag_level level, const struct hq_source *src,
                     struct hq_span span, const char *fmt, va_list ap)
{
	if (level == HQ_DIAG_ERROR)
		d->n_errors++;
	if (d->n >= HQ_DIAG_MAX)
		return;
	struct hq_diag_entry *e = &d->entries[d->n++];
	e->level = level;
	e->src = src;
	e->span = span;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void diag_merge(struct hq_diag *into, const struct hq_diag *from)
{
	into->n_errors += from->n_errors; /* those that did not fit in from too */
	for (int i = 0; i < from->n && into->n < HQ_DIAG_MAX; i++)
		into->entries[into->n++] = from->entries[i];
}

int diag_error(struct hq_diag *d, const struct hq_source *src, struct hq_span span, const char *fmt,
               ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_add(d, HQ_DIAG_ERROR, src, span, fmt, ap);
	va_end(ap);
	return -1;
}

void diag_warning(struct hq_diag *d, const struct hq_source *src, struct hq_span span,
                  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_add(d, HQ_DIAG_WARNING, src, span, fmt, ap);
	va_end(ap);
}

void diag_note(struct hq_diag *d, const struct hq_source *src, struct hq_span span, const char *fmt,
               ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_add(d, HQ_DIAG_NOTE, src, span, fmt, ap);
	va_end(ap);
}

int diag_errorf(struct hq_diag *d, const char *fmt, ...)
{
	struct hq_span none = {0, 0, 0, 0};
	va_list ap;
	va_start(ap, fmt);
	diag_add(d, HQ_DIAG_ERROR, NULL, none, fmt, ap);
	va_end(ap);
	return -1;
}

bool diag_has_errors(const struct hq_diag *d)
{
	return d->n_errors > 0;
}

/* ---- printing ---------------------------------------------------------------- */

#define C_RESET "\033[0m"
#define C_BOLD  "\033[1m"
#define C_RED   "\033[1;31m"
#define C_MAG   "\033[1;35m"
#define C_CYAN  "\033[1;36m"
#define C_GREEN "\033[1;32m"

static const char *level_name(enum hq_diag_level l)
{
	switch (l) {
	case HQ_DIAG_ERROR:
		return "error";
	case HQ_DIAG_WARNING:
		return "warning";
	case HQ_DIAG_NOTE:
		return "note";
	}
	return "error";
}

static const char *level_color(enum hq_diag_level l)
{
	return l == HQ_DIAG_ERROR ? C_RED : l == HQ_DIAG_WARNING ? C_MAG : C_CYAN;
}

/* Start of 1-based line `line` in text, or NULL; *len gets its length
 * without the newline. */
static const char *source_line(const char *text, int line, int *len)
{
	const char *p = text;
	for (int i = 1; i < line && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return NULL;
	const char *e = strchr(p, '\n');
	*len = e ? (int)(e - p) : (int)strlen(p);
	if (*len > 0 && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

/* The source line, then `^~~~` under columns col..end (1-based, inclusive).
 * Tabs in the source are echoed in the underline so the caret lines up. */
static void print_excerpt(const struct hq_diag_entry *e, FILE *f, bool color)
{
	int len;
	const char *line = source_line(e->src->text, e->span.line, &len);
	if (!line)
		return;
	int col = e->span.col < 1 ? 1 : e->span.col;
	int end = e->span.end_line > e->span.line ? len : e->span.end_col;
	if (col > len + 1)
		col = len + 1;
	if (end < col)
		end = col;
	if (end > len + 1)
		end = len + 1;
	fprintf(f, "%.*s\n", len, line);
	for (int i = 1; i < col; i++)
		fputc(line[i - 1] == '\t' ? '\t' : ' ', f);
	if (color)
		fputs(C_GREEN, f);
	fputc('^', f);
	for (int i = col + 1; i <= end; i++)
		fputc('~', f);
	if (color)
		fputs(C_RESET, f);
	fputc('\n', f);
}

static void print_entry(const struct hq_diag_entry *e, FILE *f, bool color)
{
	if (color)
		fputs(C_BOLD, f);
	if (e->src && e->span.line > 0)
		fprintf(f, "%s:%d:%d: ", e->src->name, e->span.line, e->span.col);
	else if (e->src)
		fprintf(f, "%s: ", e->src->name);
	else
		fputs("hdrq: ", f);
	if (color)
		fprintf(f, "%s%s:" C_RESET C_BOLD " %s" C_RESET "\n", level_color(e->level),
		        level_name(e->level), e->msg);
	else
		fprintf(f, "%s: %s\n", level_name(e->level), e->msg);
	if (e->src && e->src->text && e->span.line > 0)
		print_excerpt(e, f, color);
}

void diag_print(const struct hq_diag *d, FILE *f, bool use_color)
{
	int shown_errors = 0;
	for (int i = 0; i < d->n; i++) {
		print_entry(&d->entries[i], f, use_color);
		if (d->entries[i].level == HQ_DIAG_ERROR)
			shown_errors++;
	}
	if (d->n_errors > shown_errors)
		fprintf(f, "hdrq: note: %d more error%s not shown\n", d->n_errors - shown_errors,
		        d->n_errors - shown_errors == 1 ? "" : "s");
}

/* ---- suggestions --------------------------------------------------------------- */

/* Case-insensitive edit distance with adjacent transpositions (optimal string
 * alignment), so `flgas` is one edit from `flags`. Gives up early (returns
 * limit + 1) once every cell of a row exceeds limit. */
static int edit_distance(const char *a, const char *b, int limit)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	if (abs(la - lb) > limit)
		return limit + 1;
	int *rows = calloc(3 * (size_t)(lb + 1), sizeof(int));
	if (!rows)
		return limit + 1;
	int *prev2 = rows, *prev = rows + lb + 1, *cur = rows + 2 * (lb + 1);
	for (int j = 0; j <= lb; j++)
		prev[j] = j;
	for (int i = 1; i <= la; i++) {
		int best = cur[0] = i;
		for (int j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			int v = prev[j - 1] + (ca != cb);
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		int *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
		if (best > limit) {
			free(rows);
			return limit + 1;
		}
	}
	int r = prev[lb];
	free(rows);
	return r;
}

/* How many edits still count as a typo of a word of this length: one per
 * three characters, at least one. */
static int suggest_limit(size_t len)
{
	int l = (int)(len + 2) / 3;
	return l < 1 ? 1 : l;
}

const char *diag_suggest(const char *word, const char *const *candidates, int n)
{
	if (!word || !*word)
		return NULL;
	const char *best = NULL;
	int best_d = 0;
	for (int i = 0; i < n; i++) {
		const char *c = candidates[i];
		if (!c || !*c)
			continue;
		size_t lw = strlen(word), lc = strlen(c);
		int limit = suggest_limit(lw < lc ? lw : lc);
		int dist = edit_distance(word, c, limit);
		/* never "suggest" a word that shares nothing with the input */
		if (dist > limit || (size_t)dist >= (lw < lc ? lw : lc))
			continue;
		if (!best || dist < best_d) {
			best = c;
			best_d = dist;
		}
	}
	return best;
}

/* ---- spans --------------------------------------------------------------------- */

static bool span_before(int l1, int c1, int l2, int c2)
{
	return l1 < l2 || (l1 == l2 && c1 < c2);
}

struct hq_span span_join(struct hq_span a, struct hq_span b)
{
	if (a.line == 0)
		return b;
	if (b.line == 0)
		return a;
	struct hq_span r = a;
	if (span_before(b.line, b.col, a.line, a.col)) {
		r.line = b.line;
		r.col = b.col;
	}
	if (span_before(a.end_line, a.end_col, b.end_line, b.end_col)) {
		r.end_line = b.end_line;
		r.end_col = b.end_col;
	}
	return r;
}
