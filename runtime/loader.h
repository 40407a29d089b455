/* loader.h — from the codegen's ELF bytes to loaded programs and map fds.
 *
 * Opens the object in memory (object name "hdrq"), autoloads only the
 * programs the run attaches, loads them through the verifier with the log
 * captured, and looks up every map the plan describes, checking that the
 * kernel's key/value sizes match plan.h's layouts.
 */
#ifndef HQ_LOADER_H
#define HQ_LOADER_H

#include <stdbool.h>
#include <stdio.h>

#include "../codegen/codegen.h"

struct bpf_object;

struct hq_loaded {
	struct bpf_object *obj;
	int prog_xdp, prog_tc_in, prog_tc_out; /* fds, -1 when not loaded */
	int meta_fd, scratch_fd, events_fd;    /* events_fd -1 when no ring buffer */
	int *group_fds;                        /* per qplan, -1 when not grouping */
	int **distinct_fds;                    /* per qplan: n_distinct fds */
	unsigned scratch_size; /* bytes of one CPU's hq_scratch value: the counters first */
	struct hq_meta *meta;  /* hq_meta's value, mmapped; NULL if it could not be */
};

/* Route libbpf's messages: everything to stderr with HDRQ_DEBUG set,
 * otherwise only remembered (the first warning becomes a note on errors). */
void loader_setup_libbpf_print(void);

/* Load. On a verifier rejection the error says so and *vlog_tail (if not
 * NULL) receives the last lines of the verifier log (malloc'd), for the
 * driver to print after the diagnostics. */
int loader_load(const struct hq_object *elf, const struct hq_plan *plan, unsigned progs,
                struct hq_loaded **out, char **vlog_tail, struct hq_diag *d);

/* Live: from now on every program returns at once, counting nothing
 * (hq_meta.stopped); those already running finish within an RCU grace
 * period. False if hq_meta is not mapped: then only detaching stops them. */
bool loader_stop(struct hq_loaded *ld);

/* Offline: set hq_meta, then run hq_xdp once over `size` bytes of data
 * (BPF_PROG_TEST_RUN). Returns 0 or -errno. */
int loader_test_run(const struct hq_loaded *ld, const struct hq_meta *meta, const void *data,
                    uint32_t size);

/* --check: one line per loaded program with its instruction counts. */
int loader_report(const struct hq_loaded *ld, FILE *f, struct hq_diag *d);

void loader_free(struct hq_loaded *ld, const struct hq_plan *plan);

#endif
