/* cg_walk.h — what the walker files share: structured-control helpers and
 * the walker entry points registered in cg_walk.c.
 */
#ifndef HQ_CG_WALK_H
#define HQ_CG_WALK_H

#include "cg.h"

/* if (cond) { ...  cg_endif(cont) } */
LLVMBasicBlockRef cg_if(struct cg *cg, LLVMValueRef cond, const char *name);
/* on to `fail` unless cond; the builder goes on where it holds */
void cg_need(struct cg *cg, LLVMBasicBlockRef fail, LLVMValueRef cond);
void cg_endif(struct cg *cg, LLVMBasicBlockRef cont);
LLVMValueRef cg_i1(struct cg *cg, int v);
LLVMValueRef cg_eqc(struct cg *cg, LLVMValueRef v, uint64_t c);
/* set / read a walker output of layer l (no-op / absent if no field uses it) */
void cg_set(struct cg *cg, const struct hq_layer *l, const char *key, LLVMValueRef v);
LLVMValueRef cg_get(struct cg *cg, const struct hq_layer *l, const char *key,
                    LLVMValueRef *present);
LLVMValueRef cg_l3_complete(struct cg *cg);
/* every IP datagram there was captured whole (not cut by the snap length) */
LLVMValueRef cg_l3_captured(struct cg *cg);
/* bytes from the start of an upper layer to the end of the IP payload */
LLVMValueRef cg_l3_remaining(struct cg *cg, const struct hq_layer *l, LLVMValueRef *ok);

/* bounded loops whose state lives in volatile scratch slots */
enum { W_IN, W_OUT, W_REM, W_STATE };
/* walker slot set by the prologue: the bytes captured where a snap length
 * cut the frame short (offline), else ~0 */
#define W_CAPLEN 7
enum { ST_RUN = 0, ST_DONE = 1, ST_FAIL = 2 };
typedef void (*cg_loop_body)(struct cg *cg, void *arg);
LLVMValueRef cg_vload(struct cg *cg, int slot);
void cg_vstore(struct cg *cg, int slot, LLVMValueRef v);
LLVMValueRef cg_clampc(struct cg *cg, LLVMValueRef v, uint64_t max);
/* data + (off & CG_PAYLOAD_MASK): a fresh pointer each time, so bounds the
 * verifier learns from one check never stick to a shared base and split
 * its states (HTTP's accesses, the subprograms') */
#define CG_PAYLOAD_MASK 0x1fff
LLVMValueRef cg_payload_ptr(struct cg *cg, LLVMValueRef off);
/* for (j = 0; j < n && state == ST_RUN; j++) body(arg) */
void cg_loop(struct cg *cg, unsigned n, cg_loop_body body, void *arg);
/* A loop whose state lives in registers: k->n phis at its head (k->v),
 * from init on entry; cg_rloop_next adds a back edge's values, from where
 * the builder is, and branches to the head. Emitted once (the verifier
 * follows its turns; LLVM unrolls none): small IR, which start-up
 * compiles. */
#define CG_RLOOP_MAX 3
struct cg_rloop {
	LLVMBasicBlockRef head;
	LLVMValueRef v[CG_RLOOP_MAX];
	int n;
};
void cg_rloop_begin(struct cg *cg, struct cg_rloop *k, const LLVMValueRef *init, int n,
                    const char *name);
void cg_rloop_next(struct cg *cg, struct cg_rloop *k, const LLVMValueRef *next);
/* all slots to 0 (ST_RUN) */
void cg_walk_init(struct cg *cg);

/* cg_tc_vlan.c: outer VLAN tags in TC's skb metadata */
void cg_tc_vlan_prologue(struct cg *cg);
LLVMValueRef cg_tc_vlan_hw(struct cg *cg);
bool cg_tc_vlan_covers(struct cg *cg, const struct hq_field *f);
bool cg_tc_vlan_layer(struct cg *cg, const struct hq_layer *l);
struct cg_val cg_tc_vlan_field(struct cg *cg, const struct hq_field *f, struct cg_val from_pkt);

LLVMValueRef cg_fast_tcp(struct cg *cg, const struct hq_layer *l, LLVMValueRef p);
void cg_fast_tcp_lasting(struct cg *cg, const struct hq_layer *l, LLVMValueRef p);
void cg_fast_tcp_late(struct cg *cg, const struct hq_layer *l, LLVMValueRef p);
extern const char *const cg_tcp_opt_keys[]; /* NULL-terminated */
void cg_walk_tcp(struct cg *cg, const struct hq_layer *l, struct cg_layer *st, struct cg_hdr h);
/* the retransmit flow table outlives the packet */
bool cg_tcp_lasting(struct cg *cg, const struct hq_layer *l);
/* retransmit reads the addresses (its flow key) */
const char *const *cg_tcp_reads(const char *key);
/* does the tcp_opts walker of l read the frame length (options, payload)? */
bool cg_walk_tcp_reads_len(struct cg *cg, const struct hq_layer *l);
void cg_walk_dns(struct cg *cg, const struct hq_layer *l, struct cg_layer *st, struct cg_hdr h);
LLVMValueRef cg_fast_dns(struct cg *cg, const struct hq_layer *l, LLVMValueRef p);
void cg_walk_http(struct cg *cg, const struct hq_layer *l, struct cg_layer *st, struct cg_hdr h);
LLVMValueRef cg_fast_http(struct cg *cg, const struct hq_layer *l, LLVMValueRef p);
void cg_fast_http_late(struct cg *cg, const struct hq_layer *l, LLVMValueRef p);

#endif
