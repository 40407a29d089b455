/* plan.h — the lowered form of a checked script: what the kernel program
 * stores where.
 *
 * plan_build() turns the annotated AST into byte layouts for log records
 * (ring buffer), group keys and per-CPU group values. The code generator
 * writes those bytes and the runtime reads them, both from this one
 * description, so the two sides cannot drift apart.
 *
 * Conventions (all little-endian host order unless the type says otherwise):
 *  - UINT/BOOL slots are u64; IP4 4 bytes, IP6 16 bytes, MAC 6 bytes, all in
 *    network order; INET is u32 family (4 or 6) + 16 bytes (IPv4 in the first
 *    4); STR is `size` NUL-padded bytes. Slots are 8-byte aligned.
 *  - A value that the packet does not carry has its presence bit clear and
 *    its bytes zero.
 */
#ifndef HQ_PLAN_H
#define HQ_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "../frontend/ast.h"

/* Header of every ring-buffer record. */
struct hq_rec_hdr {
	uint32_t query;   /* query index in the script */
	uint32_t cap_len; /* packet bytes appended after the slots (-w), 0 if none */
	uint64_t ts_ns;   /* CLOCK_MONOTONIC live, capture time (epoch ns) offline */
	uint64_t num;     /* pkt.num (0 if the program does not number packets) */
	uint32_t ifindex;
	uint32_t wire_len; /* pkt.len */
	uint32_t dir;      /* enum hq_dir */
	uint32_t _pad;
	/* then: uint64_t present[plan->n_present_words]; then the slots; then
	 * cap_len packet bytes */
};

/* Per-run metadata the runtime hands the program (array map "hq_meta",
 * one element). Offline, the runtime sets it before each BPF_PROG_TEST_RUN
 * so that pkt.ts/pkt.len/pkt.num/pkt.ifindex match the capture. */
/* hq_meta.ts_ns and .wire_len in a live run (their values in the object):
 * no time stamp or frame length is this, so a program's first use of
 * either fetches it from the kernel */
#define HQ_META_UNFETCHED (~0ull)

struct hq_meta {
	uint64_t offline;  /* 1: use the values below instead of the kernel's */
	uint64_t ts_ns;    /* offline: the frame's; live: HQ_META_UNFETCHED */
	uint64_t wire_len; /* offline: the frame's; live: HQ_META_UNFETCHED */
	uint64_t ifindex;
	uint64_t num;     /* live: the program's packet counter (atomic) */
	uint64_t cap_len; /* offline: bytes captured (< wire_len: cut by the snap length) */
	/* live: the runtime sets it to 1 (through the map's mmap) when the run
	 * ends; a program that reads it set returns at once, counting nothing */
	uint64_t stopped;
};

/* Counters the program keeps: u64 number idx at the start of this CPU's
 * "hq_scratch" value (per-CPU array, one element), index = enum. The
 * program reaches them through the scratch pointer it already holds: no
 * lookup per count. */
enum hq_stat {
	HQ_STAT_PACKETS,    /* packets the program ran on */
	HQ_STAT_RB_DROPS,   /* log records lost: ring buffer full */
	HQ_STAT_MAP_FULL,   /* group updates lost: map full */
	HQ_STAT_RATE_DROPS, /* log records held back by the rate limit */
	HQ_STAT_TRUNCATED,  /* packets where a needed layer was cut off */
	HQ_STAT_N,
};
/* Per-query match counters live after the globals: counter HQ_STAT_N + q. */

struct hq_slot {
	const struct hq_expr *expr;   /* the expression stored (NULL for log * entries) */
	const struct hq_field *field; /* set when the slot is a plain field */
	char *label;                  /* column/key name: "ip.src", "tcp.dst_port" */
	enum hq_type type;
	unsigned off, size; /* byte offset and size inside its container */
	int present_bit;    /* bit index in the presence bitmap */
};

struct hq_agg_slot {
	enum hq_agg_kind kind;
	const struct hq_expr *call; /* the CALL node */
	const struct hq_expr *arg;  /* its first argument, or NULL (count) */
	char *label;                /* "count()", "sum(ip.len)" as written, normalised */
	bool hidden;                /* used only by `having`, not printed */
	unsigned off, size;         /* inside the per-CPU value */
	/* lhist */
	int64_t lmin, lmax, lstep;
	unsigned n_buckets; /* hist: 65 (0, then 2^k..2^(k+1)-1); lhist: see plan.c */
	int distinct_map;   /* DISTINCT: index into plan->qplans[i].distinct */
};

/* Per-CPU group value layout: u64 updates (how many packets this CPU added),
 * then each aggregate:
 *   COUNT    u64
 *   SUM      u64
 *   AVG      u64 sum, u64 count (packets whose argument was present)
 *   MIN/MAX  u64 value, u64 count (value valid only where count > 0)
 *   HIST     n_buckets x u64, u64 sum of the values
 *   LHIST    n_buckets x u64 (bucket 0: < lmin; last: >= lmax), u64 sum
 *   DISTINCT u64 new values first seen by this CPU (sum = exact distinct) */

struct hq_distinct_map {
	char name[16];     /* "hq_q0_d0" */
	unsigned key_size; /* group key size + 16 (value bytes, zero padded) */
	unsigned max_entries;
};

struct hq_qplan {
	const struct hq_query *q;
	int id;
	char name[16]; /* BPF-visible prefix: "hq_q0" */

	/* LOG */
	struct hq_slot *fields;
	int n_fields;
	unsigned n_present_words;
	unsigned rec_size; /* header + present words + slots (no packet bytes) */

	/* GROUP */
	struct hq_slot *keys;
	int n_keys;
	unsigned key_size; /* u64 presence bits + slots */
	struct hq_agg_slot *aggs;
	int n_aggs;
	unsigned val_size;
	char groups_map[16]; /* "hq_q0_groups" */
	unsigned max_groups;
	struct hq_distinct_map *distinct;
	int n_distinct;

	/* LOG: at most `rate` records per second (0: no limit), enforced in the
	 * kernel with a token bucket refilled each second (array map hq_rate,
	 * u64 = window second << 32 | tokens taken); records held back are
	 * counted in hq_stats[HQ_STAT_RATE_DROPS] */
	uint64_t rate;

	/* where this query applies: ifindexes (0 entries: every attached one) */
	int *ifindexes;
	int n_ifindexes;
	bool has_dir;
	enum hq_dir dir;
};

struct hq_plan_opts {
	unsigned max_groups;   /* per query group map size (default 65536) */
	unsigned snaplen;      /* bytes of packet appended to log records for -w (0: none) */
	bool write_packets;    /* -w: every matching packet is logged with its bytes */
	unsigned ringbuf_size; /* bytes, power of two (default 8 MiB) */
	uint64_t rate;         /* --rate: records/s for log queries without a `rate` clause */
};

struct hq_plan {
	const struct hq_script *script;
	const struct hq_proto *proto;
	struct hq_plan_opts opts;
	struct hq_qplan *qplans;
	int n_qplans;
	bool need_pkt_num; /* some query reads pkt.num */
};

/* Build the plan. Interface names are resolved to ifindexes here (an unknown
 * interface is an error with the query span). */
struct hq_plan *plan_build(const struct hq_script *s, const struct hq_proto *p,
                           const struct hq_plan_opts *opts, struct hq_diag *d);
void plan_free(struct hq_plan *p);

/* Size of a value of type t in a slot (STR: the field's size). */
unsigned plan_type_size(enum hq_type t, unsigned str_size);

#endif
