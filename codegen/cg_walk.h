/* cg_walk.h — what the walker files share: structured-control helpers and
 * the walker entry points registered in cg_walk.c.
 */
#ifndef HQ_CG_WALK_H
#define HQ_CG_WALK_H

#include "cg.h"

/* if (cond) { ...  cg_endif(cont) } */
LLVMBasicBlockRef cg_if(struct cg *cg, LLVMValueRef cond, const char *name);
void cg_endif(struct cg *cg, LLVMBasicBlockRef cont);
LLVMValueRef cg_i1(struct cg *cg, int v);
LLVMValueRef cg_eqc(struct cg *cg, LLVMValueRef v, uint64_t c);
/* set / read a walker output of layer l (no-op / absent if no field uses it) */
void cg_set(struct cg *cg, const struct hq_layer *l, const char *key, LLVMValueRef v);
LLVMValueRef cg_get(struct cg *cg, const struct hq_layer *l, const char *key,
		    LLVMValueRef *present);
/* bytes from the start of an upper layer to the end of the IP payload */
LLVMValueRef cg_l3_remaining(struct cg *cg, const struct hq_layer *l, LLVMValueRef *ok);

void cg_walk_tcp(struct cg *cg, const struct hq_layer *l, struct cg_layer *st);
void cg_walk_dns(struct cg *cg, const struct hq_layer *l, struct cg_layer *st);
void cg_walk_http(struct cg *cg, const struct hq_layer *l, struct cg_layer *st);

#endif
