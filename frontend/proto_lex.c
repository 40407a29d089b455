/* proto_lex.c — owns the tokenizer of the .hdr protocol definition format:
 * words, strings, `,` `*` and comparison operators, one PT_EOL per line, each
 * token with its line:col span. `#` comments run to the end of the line.
 */
#include "proto_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	const struct hq_source *src;
	const char *p;
	int line, col;
	struct ptoks *out;
	struct hq_diag *d;
	int errors;
};

static bool is_word_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

static struct ptok *lex_push(struct lexer *lx, enum ptok_kind k, int col, int end_col)
{
	struct ptok *t = proto_push(&lx->out->v, &lx->out->n, sizeof(*t));
	t->kind = k;
	t->span = (struct hq_span){lx->line, col, lx->line, end_col};
	return t;
}

static void lex_error(struct lexer *lx, int col, int end_col, const char *msg, int c)
{
	struct hq_span s = {lx->line, col, lx->line, end_col};
	if (c)
		diag_error(lx->d, lx->src, s, msg, c);
	else
		diag_error(lx->d, lx->src, s, "%s", msg);
	lx->errors++;
}

static void lex_word(struct lexer *lx)
{
	const char *b = lx->p;
	while (is_word_char((unsigned char)*lx->p))
		lx->p++;
	int len = (int)(lx->p - b);
	struct ptok *t = lex_push(lx, PT_WORD, lx->col, lx->col + len - 1);
	t->text = proto_xrealloc(NULL, (size_t)len + 1, 1);
	memcpy(t->text, b, (size_t)len);
	t->text[len] = 0;
	lx->col += len;
}

/* "..." with \" and \\ escapes; a string may not cross a line. */
static void lex_string(struct lexer *lx)
{
	int col = lx->col;
	const char *b = ++lx->p;
	char *buf = proto_xrealloc(NULL, strlen(b) + 1, 1);
	int n = 0;
	lx->col++;
	while (*lx->p && *lx->p != '"' && *lx->p != '\n') {
		if (*lx->p == '\\' && (lx->p[1] == '"' || lx->p[1] == '\\')) {
			lx->p++;
			lx->col++;
		}
		buf[n++] = *lx->p++;
		lx->col++;
	}
	buf[n] = 0;
	if (*lx->p != '"') {
		lex_error(lx, col, lx->col - 1, "unterminated string", 0);
		free(buf);
		return;
	}
	lx->p++;
	lx->col++;
	struct ptok *t = lex_push(lx, PT_STRING, col, lx->col - 1);
	t->text = buf;
}

static bool lex_op(struct lexer *lx)
{
	static const struct {
		const char *s;
		enum hq_cmp op;
	} ops[] = {{"==", HQ_CMP_EQ}, {"!=", HQ_CMP_NE}, {"<=", HQ_CMP_LE},
	           {">=", HQ_CMP_GE}, {"<", HQ_CMP_LT},  {">", HQ_CMP_GT}};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t len = strlen(ops[i].s);
		if (strncmp(lx->p, ops[i].s, len) == 0) {
			struct ptok *t = lex_push(lx, PT_OP, lx->col, lx->col + (int)len - 1);
			t->op = ops[i].op;
			lx->p += len;
			lx->col += (int)len;
			return true;
		}
	}
	return false;
}

static void lex_newline(struct lexer *lx)
{
	lex_push(lx, PT_EOL, lx->col, lx->col);
	lx->p++;
	lx->line++;
	lx->col = 1;
}

static void lex_one(struct lexer *lx)
{
	int c = (unsigned char)*lx->p;
	if (c == '\n') {
		lex_newline(lx);
	} else if (c == ' ' || c == '\t' || c == '\r') {
		lx->p++;
		lx->col++;
	} else if (c == '#') {
		while (*lx->p && *lx->p != '\n') {
			lx->p++;
			lx->col++;
		}
	} else if (c == '"') {
		lex_string(lx);
	} else if (is_word_char(c)) {
		lex_word(lx);
	} else if (c == ',' || c == '*') {
		lex_push(lx, c == ',' ? PT_COMMA : PT_STAR, lx->col, lx->col);
		lx->p++;
		lx->col++;
	} else if (!lex_op(lx)) {
		if (isprint(c))
			lex_error(lx, lx->col, lx->col, "unexpected character '%c'", c);
		else
			lex_error(lx, lx->col, lx->col, "unexpected byte 0x%02x", c);
		lx->p++;
		lx->col++;
	}
}

int plex_tokenize(const struct hq_source *src, struct ptoks *out, struct hq_diag *d)
{
	struct lexer lx = {src, src->text, 1, 1, out, d, 0};
	memset(out, 0, sizeof(*out));
	while (*lx.p)
		lex_one(&lx);
	lex_push(&lx, PT_EOL, lx.col, lx.col);
	return lx.errors ? -1 : 0;
}

void plex_free(struct ptoks *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

const char *plex_describe(const struct ptok *t)
{
	static char buf[96];
	switch (t->kind) {
	case PT_WORD:
		snprintf(buf, sizeof(buf), "'%.80s'", t->text);
		return buf;
	case PT_STRING:
		return "a string";
	case PT_COMMA:
		return "','";
	case PT_STAR:
		return "'*'";
	case PT_OP:
		return "an operator";
	case PT_EOL:
		return "end of line";
	}
	return "?";
}
