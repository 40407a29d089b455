/* diag.h — source spans and diagnostics.
 *
 * Every error in hdrq travels as a struct hq_diag up to the one place that
 * prints it (diag_print). A diagnostic carries the source it refers to, the
 * span inside that source, and a message; the printer renders
 *
 *   query:1:22: error: unknown field tcp.flgas; did you mean tcp.flags?
 *   tcp where tcp.flgas.rst group by dst_port
 *             ^~~~~~~~~~~~~
 *
 * Runtime errors (interface missing, errno text) use a diagnostic with no
 * span.
 */
#ifndef HQ_DIAG_H
#define HQ_DIAG_H

#include <stdbool.h>
#include <stdio.h>

/* A region of one source text. Lines and columns are 1-based; end_col is
 * the column of the last character (inclusive). line == 0 means "no
 * position". */
struct hq_span {
	int line, col;
	int end_line, end_col;
};

/* A source text: the query given on the command line ("query"), a script
 * file, or a stdlib file. */
struct hq_source {
	const char *name; /* "query", "script.hq", "stdlib/proto/ip.hdr" */
	const char *text; /* whole text, NUL-terminated */
};

enum hq_diag_level { HQ_DIAG_ERROR, HQ_DIAG_WARNING, HQ_DIAG_NOTE };

#define HQ_DIAG_MSG_MAX 512
#define HQ_DIAG_MAX     16

struct hq_diag_entry {
	enum hq_diag_level level;
	const struct hq_source *src; /* may be NULL */
	struct hq_span span;
	char msg[HQ_DIAG_MSG_MAX];
};

/* A bag of diagnostics. Stages append to it; the driver prints it once. */
struct hq_diag {
	struct hq_diag_entry entries[HQ_DIAG_MAX];
	int n;
	int n_errors;
};

void diag_init(struct hq_diag *d);

/* Append from's diagnostics to into's (a bag filled on another thread). */
void diag_merge(struct hq_diag *into, const struct hq_diag *from);

/* Append an error/warning/note at a span of src (src may be NULL, span may
 * be zero). printf-style. Returns -1 so callers can `return diag_error(...)`. */
int diag_error(struct hq_diag *d, const struct hq_source *src, struct hq_span span, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));
void diag_warning(struct hq_diag *d, const struct hq_source *src, struct hq_span span,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diag_note(struct hq_diag *d, const struct hq_source *src, struct hq_span span, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));

/* Error with no source position (runtime: interfaces, syscalls). */
int diag_errorf(struct hq_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

bool diag_has_errors(const struct hq_diag *d);

/* Print every entry, clang style, with the source line and a caret
 * underline, to f. Colour when use_color. */
void diag_print(const struct hq_diag *d, FILE *f, bool use_color);

/* Levenshtein-based suggestion: the candidate nearest to word, or NULL if
 * none is close enough to be a plausible typo. */
const char *diag_suggest(const char *word, const char *const *candidates, int n);

/* Span that covers a and b. */
struct hq_span span_join(struct hq_span a, struct hq_span b);

#endif
