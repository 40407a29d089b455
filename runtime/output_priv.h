/* output_priv.h — helpers shared by the output formatters (not a contract).
 *
 * output.c implements the time stamps, aggregate value rendering, bucket
 * bounds and the stderr loss lines; value.c the UTF-8 checks; hist.c the
 * bpftrace-style bars. Only runtime/output*.c, value.c and hist.c include
 * this header.
 */
#ifndef HQ_OUTPUT_PRIV_H
#define HQ_OUTPUT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "output.h"

/* Large enough for any rendered slot (a STR of up to 1 KiB, escaped). */
#define OUT_VALUE_MAX 4200

/* --- output.c ------------------------------------------------------------ */

/* Per-format constructors (output_text.c, output_json.c, output_csv.c). */
struct hq_output *out_text_new(void);
struct hq_output *out_json_new(void);
struct hq_output *out_csv_new(void);

/* "07:53:00.123456" (usec) or "07:53:00", local time. */
void out_fmt_clock(char *buf, size_t len, uint64_t ts_ns, bool usec);
/* "2026-11-29T07:53:00.123456789Z" (UTC). */
void out_fmt_rfc3339(char *buf, size_t len, uint64_t ts_ns);
/* Shortest text that reads back as the same double ("512.5"). */
void out_fmt_double(char *buf, size_t len, double d);

const char *out_query_name(const struct hq_qplan *qp);
bool out_multi_query(const struct hq_output *o);
bool out_query_every(const struct hq_qplan *qp);

/* Presence words of a log record (rec points at its hq_rec_hdr). */
const uint8_t *out_rec_present(const uint8_t *rec);

bool out_agg_is_hist(const struct hq_agg_slot *a);
/* Render a scalar aggregate; false if it has no value (min/max/avg of a
 * group no CPU updated). human: avg with two decimals, else shortest. */
bool out_agg_scalar(char *buf, size_t len, const struct hq_agg_slot *a,
                    const struct hq_agg_value *v, bool human);

/* One histogram bucket, bounds inclusive. lhist bounds are signed. */
struct out_bucket {
	uint64_t count;
	bool lo_inf, hi_inf; /* lhist under/overflow: unbounded on that side */
	bool is_signed;      /* lo/hi hold int64_t values */
	uint64_t lo, hi;
};
void out_bucket_get(const struct hq_agg_slot *a, const uint64_t *counts, unsigned i,
                    struct out_bucket *b);
/* First and last non-empty bucket; false if every bucket is empty. */
bool out_bucket_range(const struct hq_agg_slot *a, const uint64_t *counts, unsigned *first,
                      unsigned *last);
/* A bound as decimal text ("-5", "18446744073709551615"). */
void out_bound_str(char *buf, size_t len, const struct out_bucket *b, bool hi);

/* Loss reporting on stderr (text and csv): one line with the non-zero
 * items, and at exit the packets summary. */
struct out_loss_state {
	bool seen;
	uint64_t packets;
};
void out_loss_line(FILE *err, struct out_loss_state *st, const struct hq_loss *l);
void out_loss_summary(FILE *err, const struct out_loss_state *st);

/* --- value.c ------------------------------------------------------------- */

/* Length (1..4) of the valid UTF-8 sequence at s, 0 if s[0] starts none. */
int value_utf8_len(const uint8_t *s, size_t n);
/* The bytes of a STR slot up to its first NUL. */
size_t value_str_len(const struct hq_slot *slot, const uint8_t *bytes);
/* tcpdump's flag letters: "[S.]", "[R]", "[none]". */
int value_tcpflags(char *buf, size_t len, uint64_t flags);

/* --- hist.c -------------------------------------------------------------- */

/* A bpftrace-style block: "@title:" then one bar line per bucket between the
 * first and last non-empty one, then an empty line. */
void hist_print(FILE *f, const char *title, const struct hq_agg_slot *a, const uint64_t *counts);

#endif
