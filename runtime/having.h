/* having.h — evaluates a query's `having` predicate on one combined group
 * row, in user space, over sema's annotated AST.
 *
 * Aggregate calls read row->aggs[call->agg_index]; names read the group key
 * they were grouped by; literals, comparisons, `in`, `& |`, `and or not`
 * work as in the kernel. A comparison with an absent value (a group key the
 * packets did not carry, a min/max/avg no CPU updated) is false, and `not`
 * negates it, as in `where`.
 */
#ifndef HQ_HAVING_H
#define HQ_HAVING_H

#include <stdbool.h>

#include "output.h"

bool having_eval(const struct hq_expr *e, const struct hq_qplan *qp,
                 const struct hq_group_row *row);

#endif
