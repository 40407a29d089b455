/* hist.c — bpftrace-style histogram bars for text output.
 *
 * Owns hist_print(): one block per group and histogram, the bucket labels in
 * bpftrace's forms (hist: [0], [1], [2, 4), ... [1K, 2K) with K/M/G/T/P/E
 * suffixes; lhist: (..., min), [a, b), [max, ...)) and 52-column bars scaled
 * to the fullest bucket. Only the buckets between the first and the last
 * non-empty one are drawn.
 */
#include <inttypes.h>
#include <string.h>

#include "output_priv.h"

#define HIST_BAR_WIDTH 52

/* 2^power with bpftrace's binary suffixes: 1K, 512K, 1M, 16E. */
static void hist_pow2_label(char *buf, size_t len, unsigned power)
{
	static const char suffix[] = " KMGTPE";
	unsigned s = power / 10;
	if (s > 6)
		s = 6;
	power -= s * 10;
	if (s)
		snprintf(buf, len, "%llu%c", 1ull << power, suffix[s]);
	else
		snprintf(buf, len, "%llu", 1ull << power);
}

static void hist_log2_header(char *buf, size_t len, unsigned i)
{
	char lo[24], hi[24];
	if (i == 0) {
		snprintf(buf, len, "[0]");
		return;
	}
	if (i == 1) {
		snprintf(buf, len, "[1]");
		return;
	}
	hist_pow2_label(lo, sizeof(lo), i - 1);
	hist_pow2_label(hi, sizeof(hi), i);
	snprintf(buf, len, "[%s, %s)", lo, hi);
}

/* bpftrace prints lhist bounds with K/M suffixes when the step is a
 * multiple of 1024. */
static void hist_lin_label(char *buf, size_t len, int64_t v, int64_t step)
{
	const int64_t kilo = 1024, mega = 1024 * 1024;
	if (step % kilo || v == 0)
		snprintf(buf, len, "%" PRId64, v);
	else if (v % mega == 0)
		snprintf(buf, len, "%" PRId64 "M", v / mega);
	else if (v % kilo == 0)
		snprintf(buf, len, "%" PRId64 "K", v / kilo);
	else
		snprintf(buf, len, "%" PRId64, v);
}

static void hist_lin_header(char *buf, size_t len, const struct hq_agg_slot *a, unsigned i)
{
	char lo[32], hi[32];
	if (i == 0) {
		hist_lin_label(lo, sizeof(lo), a->lmin, a->lstep);
		snprintf(buf, len, "(..., %s)", lo);
		return;
	}
	if (i + 1 >= a->n_buckets) {
		hist_lin_label(lo, sizeof(lo), a->lmax, a->lstep);
		snprintf(buf, len, "[%s, ...)", lo);
		return;
	}
	int64_t l = a->lmin + (int64_t)(i - 1) * a->lstep;
	int64_t h = l + a->lstep > a->lmax ? a->lmax : l + a->lstep;
	hist_lin_label(lo, sizeof(lo), l, a->lstep);
	hist_lin_label(hi, sizeof(hi), h, a->lstep);
	snprintf(buf, len, "[%s, %s)", lo, hi);
}

static void hist_bar_line(FILE *f, const char *header, uint64_t count, uint64_t max)
{
	char bar[HIST_BAR_WIDTH + 1];
	int w = max ? (int)((double)count / (double)max * HIST_BAR_WIDTH) : 0;
	memset(bar, '@', (size_t)w);
	bar[w] = '\0';
	fprintf(f, "%-16s%8llu |%-*s|\n", header, (unsigned long long)count, HIST_BAR_WIDTH, bar);
}

void hist_print(FILE *f, const char *title, const struct hq_agg_slot *a, const uint64_t *counts)
{
	unsigned first, last;
	uint64_t max = 0;
	char header[80];

	fprintf(f, "@%s:\n", title);
	if (counts && out_bucket_range(a, counts, &first, &last)) {
		for (unsigned i = first; i <= last; i++)
			if (counts[i] > max)
				max = counts[i];
		for (unsigned i = first; i <= last; i++) {
			if (a->kind == HQ_AGG_LHIST)
				hist_lin_header(header, sizeof(header), a, i);
			else
				hist_log2_header(header, sizeof(header), i);
			hist_bar_line(f, header, counts[i], max);
		}
	}
	fputc('\n', f);
}
