/* proto.h — the protocol model: layers and fields, read from stdlib/proto.
 *
 * Protocol knowledge lives in data files (the .hdr files of stdlib/proto, format in
 * docs/PROTO-FORMAT.md). This module loads them into a registry that the
 * semantic analysis (name resolution, types) and the code generator (how to
 * find a layer and extract a field) both read. Nothing here knows about a
 * particular protocol.
 */
#ifndef HQ_PROTO_H
#define HQ_PROTO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"

/* Value types, shared by fields, expressions and the kernel/user layouts. */
enum hq_type {
	HQ_T_NONE = 0,
	HQ_T_UINT, /* unsigned integer, carried as u64 */
	HQ_T_BOOL, /* 0/1, carried as u64 */
	HQ_T_IP4,  /* 4 bytes, network order */
	HQ_T_IP6,  /* 16 bytes, network order */
	HQ_T_INET, /* either family: 4-byte family (4 or 6) + 16 address bytes */
	HQ_T_MAC,  /* 6 bytes */
	HQ_T_STR,  /* fixed-size NUL-padded bytes (size in field->size) */
};

const char *proto_type_name(enum hq_type t);

/* How a field's bytes are found. */
enum hq_field_src {
	HQ_FS_FIXED,  /* at layer start + off (+ bit offset), see below */
	HQ_FS_WALKER, /* produced by the layer's walker (codegen), named by key */
	HQ_FS_FIRST,  /* the first present of `alts` (generic src/dst/ttl/proto) */
	HQ_FS_META,   /* packet metadata (pkt.num, pkt.len, ...), named by key */
};

struct hq_layer;

enum hq_cmp { HQ_CMP_EQ, HQ_CMP_NE, HQ_CMP_LT, HQ_CMP_LE, HQ_CMP_GT, HQ_CMP_GE };

struct hq_field {
	char *name;      /* short name inside the layer: "flags.rst", "src_port" */
	char *full;      /* "tcp.flags.rst" */
	char **ws_names; /* Wireshark display-filter names ("tcp.flags.reset"), NULL-terminated */
	char *help;      /* one line, for --list-fields */
	enum hq_type type;
	enum hq_field_src src;

	/* HQ_FS_FIXED: the value is read at byte `off` from the layer start.
	 * For UINT/BOOL: `nbits` bits starting `bit` bits into the big-endian
	 * (network order) byte at `off` (bit 0 = most significant), possibly
	 * spanning up to 8 bytes; when bit == 0 and nbits is 8/16/32/64 it is a
	 * plain big-endian integer. For IP4/IP6/MAC: `size` bytes at `off`. */
	unsigned off;
	unsigned bit;
	unsigned nbits;
	unsigned size; /* bytes the value occupies in records (STR: max length) */
	unsigned mul;  /* value is multiplied by mul (1 = raw); e.g. ip.hdr_len = ihl*4 */
	char *fmt;     /* display hint for text output: NULL, "hex", "tcpflags" */
	struct hq_field *when_field; /* field exists only if when_field is one of when_values */
	uint64_t *when_values;       /* (or, with when_op != EQ, `when_field OP when_values[0]`) */
	uint64_t *when_hi;           /* when_values[i]..when_hi[i] is a range (== for one value) */
	int n_when_values;
	enum hq_cmp when_op;
	bool zero_rest; /* a raw 0 means the rest of the packet from the layer start */
	int stop_level; /* how many of the layer's `stop_if` lines precede it */

	char *key;              /* HQ_FS_WALKER / HQ_FS_META: what to produce */
	struct hq_field **alts; /* HQ_FS_FIRST: candidates in order */
	int n_alts;

	struct hq_layer *layer;
	struct hq_source *src_file; /* where it was defined, for errors */
	struct hq_span span;
};

/* "this layer follows `parent` when parent.field equals one of values" */
struct hq_link {
	struct hq_layer *parent;
	struct hq_field *field; /* NULL: follows parent unconditionally (walker decides) */
	uint64_t *values;
	int n_values;
};

/* "field OP value" (or "field OP rhs"), a condition on a layer's own fields */
struct hq_cond {
	struct hq_field *field;
	enum hq_cmp op;
	uint64_t value;
	struct hq_field *rhs; /* compared with this field, not with value (NULL: value) */
};

struct hq_layer {
	char *name;    /* "tcp" */
	char *ws_name; /* "tcp" (Wireshark protocol name) or NULL */
	char *help;    /* "Transmission Control Protocol" */
	int index;     /* position in the registry, topologically ordered: parents first */
	bool root;     /* the frame starts with this layer (eth) */
	bool pseudo;   /* no header of its own (pkt, generic) */

	struct hq_link *links; /* how this layer is recognised */
	int n_links;

	unsigned size;         /* minimum header length in bytes */
	struct hq_field *hlen; /* header length = hlen * hlen_mul bytes (NULL: size) */
	unsigned hlen_mul;
	unsigned hlen_max; /* upper bound of that length in bytes (verifier bound) */

	struct hq_cond *valid; /* all must hold, else the layer is absent */
	int n_valid;
	struct hq_cond *next_if; /* all must hold for any child layer to be parsed */
	int n_next_if;
	struct hq_cond *stop; /* stop[i] holds: fields with stop_level > i are absent, */
	int n_stop;           /* and no child layer is parsed */

	char *walker; /* special parser implemented by codegen, or NULL */

	/* `yield A B PORTS`: tshark offers a payload to the dissector of the
	 * lower port first, so the layer is absent when min(A, B) is nonzero and
	 * in one of the ranges yield_lo[i]..yield_hi[i] (another protocol's port
	 * that takes it; see scripts/gen-yield-ports.py) */
	struct hq_field *yield_a, *yield_b;
	uint64_t *yield_lo, *yield_hi;
	int n_yield;

	struct hq_field **fields;
	int n_fields;

	struct hq_source *src_file;
	struct hq_span span;
};

struct hq_proto {
	struct hq_layer **layers; /* topological order: every parent before its children */
	int n_layers;
	struct hq_source **sources; /* the loaded files, kept for diagnostics */
	int n_sources;
};

/* Load every *.hdr file in dir (sorted by name). Errors (with file:line:col)
 * go to d. Returns NULL on error. dir may also be the stdlib root (what
 * proto_stdlib_dir returns): its `proto` subdirectory is then used. */
struct hq_proto *proto_load_dir(const char *dir, struct hq_diag *d);
/* Load from one in-memory text (tests). */
struct hq_proto *proto_load_text(const char *name, const char *text, struct hq_diag *d);
void proto_free(struct hq_proto *p);

struct hq_layer *proto_layer(const struct hq_proto *p, const char *name);
/* Find by full name ("tcp.flags.rst") or by Wireshark name
 * ("tcp.flags.reset"). */
struct hq_field *proto_field(const struct hq_proto *p, const char *name);
/* Field by short name inside one layer. */
struct hq_field *proto_layer_field(const struct hq_layer *l, const char *short_name);

/* True if `anc` is `l` or lies on some parent chain of `l`. */
bool proto_layer_under(const struct hq_layer *l, const struct hq_layer *anc);

/* `hdrq --list-fields [LAYER]`: per layer, every field with its full name,
 * type, Wireshark name(s) and meaning, in aligned columns. layer NULL = all
 * layers; an unknown layer prints nothing (check proto_layer first). */
void proto_list_fields(const struct hq_proto *p, const char *layer, FILE *f);

/* Locate the stdlib directory: $HDRQ_STDLIB, then the build tree, then the
 * install prefix. Returns a static string or NULL. */
const char *proto_stdlib_dir(void);

#endif
