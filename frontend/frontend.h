/* frontend.h — the frontend's entry points: text in, checked AST out.
 *
 *   parse_script()  flex/bison: text -> AST with spans (syntax only)
 *   sema_check()    names, types, aggregates, clauses -> annotated AST
 */
#ifndef HQ_FRONTEND_H
#define HQ_FRONTEND_H

#include <stdbool.h>

#include "ast.h"
#include "diag.h"
#include "proto.h"

/* Parse src. A one-line query and a script file share one grammar: a
 * script is `let` definitions and queries separated by newlines or `;`,
 * with `#` comments. Returns NULL on syntax errors (reported in d). */
struct hq_script *parse_script(const struct hq_source *src, struct hq_diag *d);

/* Resolve and type-check every query of s against the protocol registry.
 * Returns 0, or -1 with errors in d. */
int sema_check(struct hq_script *s, const struct hq_proto *p, struct hq_diag *d);

#endif
