/* cg.h — internal state of the code generator, shared by codegen/cg_*.c.
 *
 * One struct cg lives for one compilation. Per BPF function (hook) the
 * members under "per function" are reset; layer parse state lives in
 * allocas that mem2reg turns into SSA values.
 */
#ifndef HQ_CG_H
#define HQ_CG_H

#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>

#include "codegen.h"
#include "plan.h"

enum cg_hook { CG_HOOK_XDP, CG_HOOK_TC_IN, CG_HOOK_TC_OUT, CG_HOOK_N };

/* A value during expression evaluation.
 *   UINT/BOOL: a = i64
 *   IP4:       a = i32 in memory (network) byte order
 *   MAC:       a = i64 holding the 6 bytes in memory order
 *   IP6:       a, b = i64 halves in memory order
 *   INET:      a = i32 family (4/6), b, c = i64 halves (IPv4 in b's low bytes)
 *   STR:       ptr = bytes (NUL-padded, `size` long), in scratch memory */
struct cg_val {
	enum hq_type type;
	LLVMValueRef present; /* i1 */
	LLVMValueRef a, b, c;
	LLVMValueRef ptr;
	unsigned size;
};

/* Parse state of one layer. Its flags and the header's offsets from the
 * packet start live in volatile scratch memory ("cells"), not in registers:
 * the verifier then sees one unknown bounded value per cell instead of one
 * exact state per path through the headers before it (VLANs, options, IPv6
 * extension headers, walker loops), which would multiply without bound. */
struct cg_layer {
	bool needed;
	bool parsed;             /* code emitted in this function */
	unsigned slot;           /* scratch offset: u64 start, u64 next (from data) */
	unsigned ok;             /* scratch offset of the flag: header present */
	unsigned kids_ok;        /* scratch offset of the flag: next_if holds */
	LLVMValueRef yield_bits; /* the `yield` port bitmap (cg_rodata), once made */
	/* early exit (cg_exit.c), per function */
	bool want;       /* a query of this hook needs it present */
	bool lasting;    /* its parse keeps state beyond the packet */
	bool leads;      /* wanted or lasting, or a parent of a layer that leads */
	bool exit_after; /* a check follows its parse */
	bool exit_reads; /* a check tests its children's selectors (stored: cg_select.c) */
	bool fast_walks; /* the fast walk follows it (cg_fast.c), per function */
	bool fast_read;  /* a query of the function reads its fields or presence */
};

/* Largest header offset a layer may start at; deeper headers are not parsed. */
#define CG_MAX_OFF 4095
/* bytes of a key of the retransmit walker's flow table (cg_walk_tcp.c) */
#define CG_FLOW_KEY 48
enum { CG_START = 0, CG_NEXT = 1 };

/* A value a walker produced (walker fields), or a metadata value. */
struct cg_slotvar {
	const struct hq_layer *layer;
	const char *key;
	unsigned present; /* cell: flag */
	unsigned val;     /* cell: i64 value (scalars) */
	LLVMValueRef str; /* ptr to scratch bytes (STR) */
	unsigned size;
	unsigned str_off; /* STR: the bytes' offset in the scratch value */
	bool declared;    /* its cells set to "absent" where the layer's parse starts */
};

/* the scratch bytes a string output of n bytes takes: whole words */
#define CG_STR_ROOM(n) (((n) + 7) & ~7u)

#define CG_MAX_VARS 128

struct cg {
	const struct hq_plan *plan;
	const struct hq_proto *proto;
	struct hq_diag *d;

	LLVMContextRef ctx;
	LLVMModuleRef mod;
	LLVMBuilderRef b;
	LLVMTypeRef i1, i8, i16, i32, i64, ptr, voidt;

	LLVMDIBuilderRef di;
	LLVMMetadataRef di_cu, di_file, di_int, di_u32;

	/* maps (globals in .maps) */
	LLVMValueRef map_events, map_scratch, map_rate, map_flows;
	LLVMValueRef *map_groups;    /* per query, or NULL */
	LLVMValueRef **map_distinct; /* per query, per distinct aggregate */
	unsigned scratch_size;
	unsigned scratch_key_off, scratch_dkey_off, scratch_zero_off, scratch_str_off;
	unsigned scratch_walk_off;    /* 8 x u64 of walker loop state (volatile) */
	unsigned scratch_layers_off;  /* 4 x u64 per layer: start, next, ok, kids */
	unsigned scratch_vars_off;    /* 2 x u64 per walker output: present, value */
	unsigned scratch_flow_off;    /* CG_FLOW_KEY + 8 bytes: a flow key + value being built */
	unsigned scratch_hw_off;      /* 24 bytes: TC's VLAN tag metadata (cg_tc_vlan.c) */
	unsigned scratch_verdict_off; /* 8 bytes: a query's where verdict (cg_launder) */
	unsigned scratch_lazy_off;    /* 2 x u64: pkt.ts and pkt.len once read (cg_prog.c) */
	unsigned scratch_sub_off;     /* 6 x u64: what a subprogram hands back (cg_sub.c) */
	/* per function: the stores that start those cells (cg_lazy_init), and
	 * which cells anything reads (bit per cell): unread, the stores go */
	LLVMValueRef lazy_inits[8];
	unsigned lazy_init_cells[8];
	int n_lazy_inits;
	unsigned lazy_read;

	/* per function */
	enum cg_hook hook;
	LLVMValueRef fn, ctx_arg;
	LLVMValueRef data, data_end; /* ptr */
	LLVMValueRef scratch;        /* ptr: this CPU's scratch value */
	LLVMValueRef meta;           /* ptr: hq_meta value */
	LLVMValueRef pkt_num;        /* i64 */
	LLVMValueRef ifindex;        /* i64, after the walk only (cg_ifindex) */
	LLVMValueRef wire_len;       /* i64 when fetched up front, else NULL */
	LLVMBasicBlockRef exit_bb;
	int where_at;            /* registry index of the layer after which the where clauses
	                          * are tested (cg_exit_where.c), -1: nowhere */
	bool where_in_body;      /* ... in that layer's parse body, before its walker */
	struct cg_layer *layers; /* indexed by hq_layer.index */
	/* while a layer's own parse code is emitted: that layer, and a pointer
	 * the verifier knows to have its fixed header (cg_field reads it) */
	const struct hq_layer *hdr_layer;
	LLVMValueRef hdr_p;
	/* inside a layer's parse body (straight code: an earlier read dominates
	 * a later one): its `zero rest` field once read, whose read costs a
	 * flag test, a bounds check and maybe the frame length (cg_field) */
	bool memo_on;
	const struct hq_field *memo_field;
	struct cg_val memo_val;
	const struct hq_field **used; /* fields the queries read (walkers skip the rest) */
	int n_used;
	bool all_used; /* log * */
	struct cg_slotvar vars[CG_MAX_VARS];
	int n_vars;
	unsigned str_used; /* bytes of the scratch string area handed out */
	bool error;
	bool no_fast;  /* leave the fast walk out (cg_fast.c): the program was too large */
	bool has_fast; /* some program has a fast walk */
	/* while the fast walk (cg_fast.c) is emitted: its chain of headers,
	 * which fields and layers are read from (cg_field, cg_layer_ok) */
	struct cg_fast *fast;
};

/* cg_module.c: context, types, helpers */
int cg_init(struct cg *cg, const struct hq_plan *plan, struct hq_diag *d);
void cg_fini(struct cg *cg);
/* Optimise and emit; CG_TOO_LARGE (no diag) where a function has more
 * than CG_MAX_IR instructions: BPF's conditional jumps reach 32,767
 * instructions, and LLVM aborts on a program they do not span. A
 * function's IR becomes up to 1.3 times as many BPF instructions. */
#define CG_MAX_IR    24000
#define CG_TOO_LARGE (-2)
int cg_finish(struct cg *cg, enum hq_emit what, struct hq_object *out);
LLVMValueRef cg_helper(struct cg *cg, int id, LLVMTypeRef ret, LLVMValueRef *args, int n);
LLVMValueRef cg_const64(struct cg *cg, uint64_t v);
LLVMValueRef cg_const32(struct cg *cg, uint32_t v);
LLVMValueRef cg_gep(struct cg *cg, LLVMValueRef p, LLVMValueRef off);
LLVMValueRef cg_gepc(struct cg *cg, LLVMValueRef p, unsigned off);
LLVMValueRef cg_alloca(struct cg *cg, LLVMTypeRef t, const char *name);
LLVMValueRef cg_opaque(struct cg *cg, LLVMValueRef v);
LLVMValueRef cg_vload_at(struct cg *cg, unsigned scratch_off);                  /* volatile i64 */
LLVMValueRef cg_vstore_at(struct cg *cg, unsigned scratch_off, LLVMValueRef v); /* volatile i64 */
LLVMValueRef cg_flag(struct cg *cg, unsigned cell);                             /* i1 */
LLVMValueRef cg_launder(struct cg *cg, LLVMValueRef i1);
void cg_set_flag(struct cg *cg, unsigned cell, LLVMValueRef i1);
LLVMBasicBlockRef cg_block(struct cg *cg, const char *name);
/* a phi of n values, vals[i] from block from[i], typed as vals[0] */
LLVMValueRef cg_phi(struct cg *cg, const char *name, LLVMValueRef *vals, LLVMBasicBlockRef *from,
                    unsigned n);
void cg_memset0(struct cg *cg, LLVMValueRef p, unsigned n);
/* n bytes; align: what both pointers are known to be aligned to */
void cg_memcpy(struct cg *cg, LLVMValueRef dst, LLVMValueRef src, unsigned n, unsigned align);
int cg_unsupported(struct cg *cg, const struct hq_query *q, struct hq_span span, const char *what);

/* cg_btf.c: debug info (-> BTF) and maps */
void cg_di_init(struct cg *cg);
void cg_di_function(struct cg *cg, LLVMValueRef fn, const char *name, enum cg_hook hook);
void cg_di_subprogram(struct cg *cg, LLVMValueRef fn, const char *name, unsigned out_size);
LLVMValueRef cg_rodata(struct cg *cg, const char *name, const unsigned char *bytes, unsigned n);
LLVMValueRef cg_data(struct cg *cg, const char *name, const char *section, const uint64_t *words,
                     unsigned n);
LLVMValueRef cg_map(struct cg *cg, const char *name, int type, unsigned key_size,
                    unsigned value_size, unsigned max_entries);
void cg_license(struct cg *cg);

/* cg_pkt.c: bounded packet access */
LLVMValueRef cg_in_bounds(struct cg *cg, LLVMValueRef p, unsigned n);
/* i64: packet pointer p's offset from the frame's start (cg->data) */
LLVMValueRef cg_pkt_off(struct cg *cg, LLVMValueRef p);
LLVMValueRef cg_load_be(struct cg *cg, LLVMValueRef p, unsigned nbytes);
LLVMValueRef cg_load_raw(struct cg *cg, LLVMValueRef p, LLVMTypeRef t);

/* cg_parse.c: layers */
void cg_layers_mark(struct cg *cg);
/* What a query names, one callback per field and per layer (repeats
 * included): in an expression, and in what it reads beyond its layer and
 * where clause (logged fields, group keys, aggregate arguments). */
struct cg_visit {
	void (*field)(struct cg *cg, const struct hq_field *f, void *arg);
	void (*layer)(struct cg *cg, const struct hq_layer *l, void *arg); /* or NULL */
	void *arg;
};
void cg_visit_expr(struct cg *cg, const struct hq_expr *e, const struct cg_visit *v);
void cg_visit_reads(struct cg *cg, const struct hq_qplan *qp, const struct cg_visit *v);
/* does the query name f (or a field f is the first of) anywhere? */
bool cg_query_reads(struct cg *cg, const struct hq_qplan *qp, const struct hq_field *f);
/* does any query read the walker output `key` of layer l? */
bool cg_field_used(struct cg *cg, const struct hq_layer *l, const char *key);
void cg_parse_layers(struct cg *cg);
/* the cell offset of the flag of k's parent that lets l follow it */
unsigned cg_link_gate(struct cg *cg, const struct hq_layer *l, const struct hq_link *k);
LLVMValueRef cg_layer_ok(struct cg *cg, const struct hq_layer *l);
/* i1: tshark gives l's payload to the protocol of the lower port first */
LLVMValueRef cg_yielded(struct cg *cg, const struct hq_layer *l);
bool cg_children_needed(struct cg *cg, const struct hq_layer *l);
/* offset (i64, clamped to CG_MAX_OFF) / pointer of a layer's start or next */
LLVMValueRef cg_layer_get(struct cg *cg, const struct hq_layer *l, int which);
void cg_layer_put(struct cg *cg, const struct hq_layer *l, int which, LLVMValueRef off);
LLVMValueRef cg_layer_ptr(struct cg *cg, const struct hq_layer *l, int which);
struct cg_slotvar *cg_var(struct cg *cg, const struct hq_layer *l, const char *key);
/* the scratch bytes of l's string output key, for the fast walk, which
 * runs before the full walk declares it (no code but the pointer) */
LLVMValueRef cg_var_str(struct cg *cg, const struct hq_layer *l, const char *key);
struct cg_slotvar *cg_var_new(struct cg *cg, const struct hq_layer *l, const char *key,
                              unsigned str_size);
void cg_var_set(struct cg *cg, struct cg_slotvar *v, LLVMValueRef present, LLVMValueRef val);

/* i1: the condition(s) hold (an absent field makes one false) */
LLVMValueRef cg_cond(struct cg *cg, const struct hq_cond *c);
LLVMValueRef cg_conds(struct cg *cg, const struct hq_cond *c, int n);
/* is l carried directly by IPv4/IPv6 (whose declared length bounds it)? */
bool cg_above_ip(const struct hq_layer *l);

/* cg_fast.c: the fast walk, before the full walk; true if it was built
 * (the builder is then at the full walk's first block) */
bool cg_fast_walk(struct cg *cg);
/* while it is emitted: is l there, the header of l (NULL: not there), and
 * "go on where cond holds, else to the full walk" */
bool cg_fast_has(struct cg *cg, const struct hq_layer *l);
LLVMValueRef cg_fast_hdr(struct cg *cg, const struct hq_layer *l);
bool cg_fast_running(struct cg *cg); /* in the queries it runs (no cg_fast_need) */
void cg_fast_need(struct cg *cg, LLVMValueRef cond);
/* in a walker's `fast`: where cond holds, its layer is not there after all
 * (http: no request or status line), and the walk goes on as if no link
 * led to it; before it gives any output */
void cg_fast_absent_if(struct cg *cg, LLVMValueRef cond);
/* A walker output of l in the fast walk (cg_walker.fast): where it is
 * present, and its value, good where usable holds (NULL: always). Where
 * usable does not hold, mend works the value out from l's header at p,
 * only where the walk runs a query that reads it (it may cg_fast_need);
 * without one, the full walk runs such queries. */
typedef LLVMValueRef (*cg_fast_mender)(struct cg *cg, const struct hq_layer *l, LLVMValueRef p);
void cg_fast_set(struct cg *cg, const struct hq_layer *l, const char *key, LLVMValueRef present,
                 LLVMValueRef v, LLVMValueRef usable, cg_fast_mender mend);
/* cg_fast_set, always usable, where some query reads l's output key */
void cg_fast_set_used(struct cg *cg, const struct hq_layer *l, const char *key,
                      LLVMValueRef present, LLVMValueRef v);
bool cg_fast_get(struct cg *cg, const struct hq_layer *l, const char *key, struct cg_val *v);
/* the output key of the layer under l in the chain (false: none) */
bool cg_fast_get_under(struct cg *cg, const struct hq_layer *l, const char *key, struct cg_val *v);

/* cg_select.c: link selector fields, stored by the parent once per packet */
/* the selector field of link k if it is a fixed integer field of the
 * parent, else NULL */
const struct hq_field *cg_select_of(const struct hq_link *k);
void cg_select_declare(struct cg *cg, const struct hq_layer *l);
void cg_select_store(struct cg *cg, const struct hq_layer *l);
struct cg_val cg_select_field(struct cg *cg, const struct hq_link *k);
/* goto hit if v is present and one of the n values, else goto miss */
void cg_select_branch(struct cg *cg, struct cg_val v, const uint64_t *values, int n,
                      LLVMBasicBlockRef hit, LLVMBasicBlockRef miss);
/* can k's selector be read without a packet access: a field its parent
 * may store, or a walker output (already a cell)? */
bool cg_select_cheap(const struct hq_link *k);

/* cg_exit.c: leave the program once no query of the hook can match */
void cg_exit_begin(struct cg *cg);                           /* before the walk */
void cg_exit_after(struct cg *cg, const struct hq_layer *l); /* after layer l's parse */
/* cg_exit_where.c: the early exit on where clauses (cg_exit_begin and
 * cg_exit_after call these) */
void cg_exit_where_plan(struct cg *cg);
void cg_exit_where(struct cg *cg, const struct hq_layer *l);
/* in a layer's parse body, before its walker (cg_parse_body calls it) */
void cg_exit_where_body(struct cg *cg, const struct hq_layer *l);

/* cg_walk.c: walkers named in stdlib (vlan, ip6_ext, tcp_opts, dns, http, l4len) */

/* where a walker's header starts: offset from data (i64) and a pointer the
 * verifier knows to have the layer's `size` bytes in the packet */
struct cg_hdr {
	LLVMValueRef off, p;
};

struct cg_walker {
	const char *name;
	/* Called in a block where the layer's fixed header is known to be in
	 * the packet (ok is true). May clear ok, must store next and set the
	 * walker keys' vars. */
	void (*parse)(struct cg *cg, const struct hq_layer *l, struct cg_layer *st,
	              struct cg_hdr h);
	/* values the walker keeps for later layers that no field exposes */
	const char *const *internal_keys;
	/* does the walker need its own output key where no query reads it?
	 * (NULL: never) */
	bool (*keeps)(struct cg *cg, const struct hq_layer *l, const char *key);
	/* does the walker decide whether its layer is there (may clear ok) or
	 * where the children start (stores next)? The fast walk
	 * (cg_fast.c) then leaves the layer to the full walk, unless `fast`
	 * walks its plain case. */
	bool judges;
	/* for the fast walk: the walk of the layer's header at p in its
	 * plain case only (VLAN tags; IPv6 extension headers within bounds):
	 * cg_fast_need()s that it is one, gives the outputs children read
	 * (cg_fast_set: the link selectors, payload_len) and returns where
	 * the children start, at most fast_span bytes past the fixed header
	 * (NULL: at the header length). A walker that has one never clears
	 * ok. NULL: none. */
	LLVMValueRef (*fast)(struct cg *cg, const struct hq_layer *l, LLVMValueRef p);
	const char *const *fast_keys; /* the outputs `fast` (or `fast_lasting`) gives */
	unsigned fast_span;
	/* `fast` decides whether the layer is there (dns), so it runs
	 * wherever the walk enters the layer, whatever the queries read */
	bool fast_decides;
	/* does parsing l change state that outlives the packet, so that the
	 * program must not leave before it? (NULL: never) */
	bool (*lasting)(struct cg *cg, const struct hq_layer *l);
	/* for the fast walk, where `lasting` holds: the state change, run where
	 * a chain holding l's header at p ends, after every cg_fast_need of
	 * the chain and before the program leaves or runs the queries; may
	 * cg_fast_need first, gives its outputs (NULL: the full walk's) */
	void (*fast_lasting)(struct cg *cg, const struct hq_layer *l, LLVMValueRef p);
	/* for the fast walk: outputs only queries read, worked out where a
	 * chain holding l's header at p runs them, before its state changes
	 * (may cg_fast_need); gives fast_late_keys. NULL: none. */
	void (*fast_late)(struct cg *cg, const struct hq_layer *l, LLVMValueRef p);
	const char *const *fast_late_keys;
	/* the registry fields (NULL-terminated names) that computing the
	 * output `key` reads, so they are parsed too (NULL: none) */
	const char *const *(*reads)(const char *key);
};
/* the walker named name (a layer's `walker`); NULL for none or NULL */
const struct cg_walker *cg_walker_find(const char *name);

/* cg_field.c: reading a field of the current packet */
struct cg_val cg_field(struct cg *cg, const struct hq_field *f);
/* a walker output named `hdr.…`: derived from the layer's header length,
 * no walker code (IPv4/TCP options present, their length) */
bool cg_hdr_key(const struct hq_field *f);
/* In code where layer l is known to be there: check its fixed header's
 * bounds once (else branch to `absent`), and read its fixed fields from
 * that pointer until cg_hdr_end, which puts back the header checked
 * before (they nest: a record inside a query, a where test inside a
 * layer's parse). */
struct cg_hdr_mark {
	const struct hq_layer *layer;
	LLVMValueRef p;
	bool memo_on;
};
struct cg_hdr_mark cg_hdr_begin(struct cg *cg, const struct hq_layer *l, LLVMBasicBlockRef absent);
void cg_hdr_end(struct cg *cg, struct cg_hdr_mark m);

/* cg_expr.c: expressions */
struct cg_val cg_expr(struct cg *cg, const struct hq_query *q, const struct hq_expr *e);
LLVMValueRef cg_truth(struct cg *cg, struct cg_val v); /* i1 */

/* cg_str.c: string predicates against a literal (NULL if not applicable) */
LLVMValueRef cg_str_pred(struct cg *cg, enum hq_op op, struct cg_val v, const char *lit);

/* cg_action.c: per-query actions */
/* where_holds: the query's where clause is known to hold here (the fast
 * walk tested it before leaving), so it is not tested again */
void cg_query(struct cg *cg, const struct hq_qplan *qp, bool where_holds);
bool cg_query_in_hook(struct cg *cg, const struct hq_qplan *qp);
void cg_store_slot(struct cg *cg, LLVMValueRef base, LLVMValueRef present_words,
                   const struct hq_slot *s, struct cg_val v);
void cg_stat_inc(struct cg *cg, unsigned idx);
void cg_store_value(struct cg *cg, LLVMValueRef p, const struct hq_slot *s, struct cg_val v);
void cg_add64(struct cg *cg, LLVMValueRef p, LLVMValueRef v);
LLVMValueRef cg_lookup(struct cg *cg, LLVMValueRef map, LLVMValueRef key);
LLVMValueRef cg_is_null(struct cg *cg, LLVMValueRef p);
LLVMValueRef cg_map_update(struct cg *cg, LLVMValueRef map, LLVMValueRef key, LLVMValueRef val,
                           uint64_t flags);

/* cg_agg.c: one aggregate of a group value */
void cg_agg_update(struct cg *cg, const struct hq_qplan *qp, const struct hq_agg_slot *a,
                   LLVMValueRef val, LLVMValueRef key);

/* cg_prog.c: the three hook functions */
void cg_programs(struct cg *cg, unsigned progs);
/* the frame's time stamp and length (i64), fetched at the first use in a
 * packet (each may cost a helper call) and the same at every later one */
LLVMValueRef cg_ts_ns(struct cg *cg);
LLVMValueRef cg_wire_len(struct cg *cg);
/* the interface index (i64); like pkt.ts, only the queries read it */
LLVMValueRef cg_ifindex(struct cg *cg);
/* the context's interface index (i64), live or offline (BPF_PROG_TEST_RUN's
 * loopback there: one for all frames); cg_ifindex is hq_meta's offline */
LLVMValueRef cg_ctx_ifindex(struct cg *cg);
/* what the queries read first where the fast walk runs them itself */
void cg_fast_query_prologue(struct cg *cg);
/* cg->data and cg->data_end from the context (fresh: volatile loads) */
void cg_packet_ptrs(struct cg *cg, bool fresh);

/* cg_sub.c: global subprograms, which the verifier checks once. A body
 * is built with the builder in the subprogram (cg->data, cg->data_end and
 * cg_block are its) and out not NULL; it returns an i32. */
typedef void (*cg_sub_body)(struct cg *cg, LLVMValueRef a, LLVMValueRef b, LLVMValueRef out,
                            const void *arg);
/* Call NAME(ctx, a, b, out) (i64 a, b; out: out_size bytes of the scratch
 * value), built by body(arg) on first use in a context type, where when
 * holds (NULL: always); its result as an i64, 0 where not called. */
LLVMValueRef cg_sub_call(struct cg *cg, const char *name, unsigned out_size, cg_sub_body body,
                         const void *arg, LLVMValueRef when, LLVMValueRef a, LLVMValueRef b,
                         LLVMValueRef out);

#endif
