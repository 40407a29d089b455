/* sema_const.c — named constants (`ip.proto == tcp`, `icmp.type ==
 * echo_request`, `eth.type == arp`), read as data from
 * stdlib/constants.tbl (format and resolution rules in that file and in
 * docs/LANGUAGE.md).
 *
 * Owns: loading the table (once per process), binding bare names compared
 * with a field to that field's constants (sema_const_pair, sema_const_bind),
 * the context-free fallback for a name that is nothing else
 * (sema_const_resolve), and the names offered as suggestions.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sema_int.h"

#define CONST_MAX_GROUP_FIELDS 8

struct cgroup {
	char *name;
	char *help;
	char *fields[CONST_MAX_GROUP_FIELDS]; /* full field names */
	int n_fields;
};

struct cconst {
	char *name;
	uint64_t value;
	int group;
};

struct ctable {
	struct cgroup *g;
	int ng;
	struct cconst *c;
	int nc;
	char *err;     /* why loading failed */
	bool reported; /* ... said once per process */
};

static struct ctable *const_table;

/* --- loading ------------------------------------------------------------------ */

static void *const_grow(void *v, int n, size_t size)
{
	void *p = realloc(v, (size_t)(n + 1) * size);

	if (!p)
		abort();
	return p;
}

static int const_fail(struct ctable *t, const char *path, int line, const char *what)
{
	if (!t->err && asprintf(&t->err, "%s:%d: %s", path, line, what) < 0)
		t->err = NULL;
	return -1;
}

/* `group NAME FIELD[,FIELD…] "help"` */
static int const_group(struct ctable *t, char *rest, const char *path, int line)
{
	char *name = strtok(rest, " \t"), *fields = strtok(NULL, " \t"), *help = strtok(NULL, "");
	struct cgroup *g;

	if (!name || !fields)
		return const_fail(t, path, line, "expected: group NAME FIELD[,FIELD…] \"help\"");
	t->g = const_grow(t->g, t->ng, sizeof(*t->g));
	g = memset(&t->g[t->ng++], 0, sizeof(*g));
	g->name = ast_strdup(name);
	while (help && (*help == ' ' || *help == '\t' || *help == '"'))
		help++;
	g->help = ast_strdup(help ? help : "");
	if (strchr(g->help, '"'))
		*strchr(g->help, '"') = 0;
	for (char *f = strtok(fields, ","); f; f = strtok(NULL, ",")) {
		if (g->n_fields == CONST_MAX_GROUP_FIELDS)
			return const_fail(t, path, line, "too many fields in one group");
		g->fields[g->n_fields++] = ast_strdup(f);
	}
	return 0;
}

/* `NAME VALUE` inside a group */
static int const_entry(struct ctable *t, char *s, const char *path, int line)
{
	char *name = strtok(s, " \t"), *val = strtok(NULL, " \t"), *end;
	uint64_t v;

	if (!t->ng)
		return const_fail(t, path, line, "a constant before any group line");
	if (!name || !val || strtok(NULL, " \t"))
		return const_fail(t, path, line, "expected: NAME VALUE");
	errno = 0;
	v = strtoull(val, &end, 0);
	if (errno || *end || *val == '-')
		return const_fail(t, path, line, "the value is not an unsigned number");
	t->c = const_grow(t->c, t->nc, sizeof(*t->c));
	t->c[t->nc++] = (struct cconst){ast_strdup(name), v, t->ng - 1};
	return 0;
}

static int const_line(struct ctable *t, char *s, const char *path, int line)
{
	char *hash = strchr(s, '#');

	if (hash)
		*hash = 0;
	s[strcspn(s, "\r\n")] = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	if (!strncmp(s, "group", 5) && (s[5] == ' ' || s[5] == '\t'))
		return const_group(t, s + 6, path, line);
	return const_entry(t, s, path, line);
}

static struct ctable *const_load(void)
{
	struct ctable *t = ast_alloc(sizeof(*t));
	const char *dir = proto_stdlib_dir();
	char path[4096], buf[512];
	FILE *f;
	int line = 0;

	if (!dir)
		return t; /* no stdlib: no constants (and no protocols either) */
	snprintf(path, sizeof(path), "%s/constants.tbl", dir);
	f = fopen(path, "r");
	if (!f)
		return t;
	while (fgets(buf, sizeof(buf), f))
		if (const_line(t, buf, path, ++line))
			break;
	fclose(f);
	return t;
}

static const struct ctable *const_get(struct sema *S)
{
	if (!const_table)
		const_table = const_load();
	if (const_table->err && S && !const_table->reported) {
		diag_errorf(S->d, "bad constants table: %s", const_table->err);
		const_table->reported = true;
	}
	return const_table;
}

/* --- lookups ------------------------------------------------------------------ */

static bool const_group_has_field(const struct sema *S, const struct cgroup *g,
                                  const struct hq_field *f)
{
	for (int i = 0; i < g->n_fields; i++)
		if (proto_field(S->p, g->fields[i]) == f)
			return true;
	return false;
}

/* The constant called name among f's groups, or NULL. */
static const struct cconst *const_for_field(struct sema *S, const char *name,
                                            const struct hq_field *f)
{
	const struct ctable *t = const_get(NULL);

	for (int i = 0; i < t->nc; i++)
		if (!strcasecmp(t->c[i].name, name) &&
		    const_group_has_field(S, &t->g[t->c[i].group], f))
			return &t->c[i];
	return NULL;
}

static bool const_field_has_groups(struct sema *S, const struct hq_field *f)
{
	const struct ctable *t = const_get(NULL);

	for (int i = 0; i < t->ng; i++)
		if (const_group_has_field(S, &t->g[i], f))
			return true;
	return false;
}

static bool const_known(const char *name)
{
	const struct ctable *t = const_get(NULL);

	for (int i = 0; i < t->nc; i++)
		if (!strcasecmp(t->c[i].name, name))
			return true;
	return false;
}

static void const_set(struct hq_expr *e, uint64_t v)
{
	e->ref = HQ_REF_CONST;
	e->u.num = v;
	e->type = HQ_T_UINT;
}

/* A bare NAME that a let does not claim. */
static bool const_free_name(const struct sema *S, const struct hq_expr *e)
{
	return e->kind == HQ_EX_NAME && e->ref == HQ_REF_NONE && !strchr(e->name, '.') &&
	       !sema_let_find(S, e->name, e->span);
}

/* Does e look like a constant expression (names of the table, numbers, and
 * masks of them)? Then the other side of a comparison is resolved first. */
static bool const_looking(const struct sema *S, const struct hq_expr *e)
{
	if (e->kind == HQ_EX_INT)
		return true;
	if (e->kind == HQ_EX_NAME)
		return const_free_name(S, e) && const_known(e->name) && !proto_field(S->p, e->name);
	if (e->kind == HQ_EX_BINARY && (e->op == HQ_OP_BAND || e->op == HQ_OP_BOR))
		return const_looking(S, e->lhs) && const_looking(S, e->rhs);
	return false;
}

/* The field a key-like expression is about: f, f & m, m | f … */
static const struct hq_field *const_base_field(const struct hq_expr *e)
{
	const struct hq_field *f;

	if (e->kind == HQ_EX_NAME)
		return e->ref == HQ_REF_FIELD ? e->field : NULL;
	if (e->kind != HQ_EX_BINARY || (e->op != HQ_OP_BAND && e->op != HQ_OP_BOR))
		return NULL;
	f = const_base_field(e->lhs);
	return f ? f : const_base_field(e->rhs);
}

static void const_bind_name(struct sema *S, const struct hq_field *f, struct hq_expr *e)
{
	const struct cconst *c;

	if (!const_free_name(S, e))
		return;
	c = const_for_field(S, e->name, f);
	if (c) {
		const_set(e, c->value);
		return;
	}
	if (const_known(e->name) && const_field_has_groups(S, f) && !proto_field(S->p, e->name) &&
	    !proto_layer(S->p, e->name)) {
		const char *names[512];
		int n = 0;
		const struct ctable *t = const_get(NULL);
		for (int i = 0; i < t->nc && n < 512; i++)
			if (const_group_has_field(S, &t->g[t->c[i].group], f))
				names[n++] = t->c[i].name;
		const char *sug = diag_suggest(e->name, names, n);
		sema_err(S, e->span, "%s is not a constant of %s%s%s%s", e->name, f->full,
		         sug ? "; did you mean " : "", sug ? sug : "", sug ? "?" : "");
		e->ref = HQ_REF_CONST; /* reported: keep later passes quiet */
		e->type = HQ_T_UINT;
	}
}

/* Bind the bare names in `other` (a name, a mask of names, a set or a
 * range) to the constants of the field that `field_side` is about. */
void sema_const_bind(struct sema *S, const struct hq_expr *field_side, struct hq_expr *other)
{
	const struct hq_field *f = const_base_field(field_side);

	if (!f || !other)
		return;
	switch (other->kind) {
	case HQ_EX_NAME:
		const_bind_name(S, f, other);
		break;
	case HQ_EX_BINARY:
		if (other->op == HQ_OP_BAND || other->op == HQ_OP_BOR) {
			sema_const_bind(S, field_side, other->lhs);
			sema_const_bind(S, field_side, other->rhs);
		}
		break;
	case HQ_EX_RANGE:
		sema_const_bind(S, field_side, other->lhs);
		sema_const_bind(S, field_side, other->rhs);
		break;
	case HQ_EX_SET:
		for (int i = 0; i < other->items.n; i++)
			sema_const_bind(S, field_side, other->items.items[i]);
		break;
	default:
		break;
	}
}

/* Type both sides of a binary operator, binding constants on one side to
 * the field on the other (whichever side is written first). */
int sema_const_pair(struct sema *S, struct hq_expr **a, struct hq_expr **b, enum sema_ctx ctx)
{
	int rc;

	if (const_looking(S, *a) && !const_looking(S, *b)) {
		rc = sema_value(S, b, ctx);
		if (!rc)
			sema_const_bind(S, *b, *a);
		return rc | sema_value(S, a, ctx);
	}
	rc = sema_value(S, a, ctx);
	if (!rc)
		sema_const_bind(S, *a, *b);
	return rc | sema_value(S, b, ctx);
}

/* A name that is no let, field, layer or derived field: its constant when
 * all its meanings agree. Returns 1 resolved, 0 not a constant, -1 error. */
int sema_const_resolve(struct sema *S, struct hq_expr *e)
{
	const struct ctable *t = const_get(S);
	const struct cconst *first = NULL;
	char list[HQ_DIAG_MSG_MAX / 2] = "";
	size_t len = 0;
	bool differ = false;

	for (int i = 0; i < t->nc; i++) {
		const struct cconst *c = &t->c[i];
		if (strcasecmp(c->name, e->name))
			continue;
		if (first && c->value != first->value)
			differ = true;
		if (!first)
			first = c;
		if (len < sizeof(list))
			len +=
			    (size_t)snprintf(list + len, sizeof(list) - len, "%s%" PRIu64 " for %s",
			                     len ? ", " : "", c->value, t->g[c->group].fields[0]);
	}
	if (!first)
		return 0;
	if (differ)
		return sema_err(S, e->span,
		                "%s means different constants (%s): compare it with one of those "
		                "fields",
		                e->name, list);
	const_set(e, first->value);
	return 1;
}

/* Every constant name, for "did you mean" suggestions. */
void sema_const_names(void (*add)(void *arg, const char *name), void *arg)
{
	const struct ctable *t = const_get(NULL);

	for (int i = 0; i < t->nc; i++)
		add(arg, t->c[i].name);
}
