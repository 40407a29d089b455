/* codegen.h — from a plan to a BPF ELF object, through the LLVM C API.
 *
 * One object holds three programs that share every map:
 *   hq_xdp     SEC("xdp")      XDP ingress, returns XDP_PASS
 *   hq_tc_in   SEC("tc")       TC/tcx ingress, returns TC_ACT_UNSPEC (tcx: next)
 *   hq_tc_out  SEC("tc")       TC/tcx egress,  returns TC_ACT_UNSPEC
 * The runtime autoloads only the ones it attaches (offline uses hq_xdp).
 *
 * Maps (BTF-defined, in ".maps"; hq_meta is a global variable):
 *   .data.hq_meta  ARRAY[1] of struct hq_meta (HQ_META_MAP: libbpf's map for
 *                the section of the global hq_meta, which the programs
 *                address directly)
 *   hq_scratch   PERCPU_ARRAY[1]: the counters (HQ_STAT_N + n_queries u64,
 *                plan.h), then the program's per-packet working memory
 *   hq_events    RINGBUF (present when any query logs, or -w)
 *   hq_qN_groups PERCPU_HASH  key: group key, value: aggregates (plan.h)
 *   hq_qN_dK     HASH         distinct sets
 */
#ifndef HQ_CODEGEN_H
#define HQ_CODEGEN_H

#include <stddef.h>

#include "plan.h"

enum hq_emit { HQ_EMIT_OBJ, HQ_EMIT_ASM, HQ_EMIT_IR };

struct hq_object {
	void *data; /* ELF bytes (OBJ) or text (ASM, IR), malloc'd */
	size_t size;
};

#define HQ_META_MAP ".data.hq_meta"

#define HQ_PROG_XDP    "hq_xdp"
#define HQ_PROG_TC_IN  "hq_tc_in"
#define HQ_PROG_TC_OUT "hq_tc_out"

/* Which of those programs to generate, and to load (loader.h). */
enum {
	HQ_LOAD_XDP = 1 << 0,
	HQ_LOAD_TC_IN = 1 << 1,
	HQ_LOAD_TC_OUT = 1 << 2,
	HQ_LOAD_ALL = HQ_LOAD_XDP | HQ_LOAD_TC_IN | HQ_LOAD_TC_OUT,
};

/* Compile the plan into the programs of `progs` (HQ_LOAD_*); LLVM's
 * work is most of hdrq's start-up, so a run compiles only what it loads.
 * Unsupported constructs are errors with the query span. */
int codegen_compile(const struct hq_plan *plan, enum hq_emit what, unsigned progs,
                    struct hq_object *out, struct hq_diag *d);
void codegen_object_free(struct hq_object *o);

/* "LLVM 19.1.7" */
const char *codegen_llvm_version(void);

#endif
