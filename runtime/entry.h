/* entry.h — the entry programs: what a live run attaches while its own
 * programs are still being compiled and verified.
 *
 * Attaching a program waits for an RCU grace period in the kernel (the XDP
 * dispatcher, tcx: 8-16 ms here), and a run's programs exist only after
 * LLVM and the verifier (50 ms and more). So each hook first gets an entry
 * program of five instructions (with BTF of its own, as hdrq's programs
 * have), attached on a thread meanwhile: it tail-calls slot 0 of a program
 * array of its own, and passes the packet on while the slot is empty.
 * Putting the loaded program in the slot, a map update, is what starts the
 * count (entry_arm). Program arrays take no BTF.
 */
#ifndef HQ_ENTRY_H
#define HQ_ENTRY_H

#include "../frontend/diag.h"
#include "loader.h"

/* per program kind, in HQ_LOAD_* bit order: XDP, TC ingress, TC egress */
#define HQ_PROG_KINDS 3

struct hq_entry {
	int array_fd[HQ_PROG_KINDS]; /* one-slot program array; -1 if none */
	int prog_fd[HQ_PROG_KINDS];  /* the entry program; -1 if none */
};

/* No fds yet: entry_free is then a no-op. */
void entry_init(struct hq_entry *e);

/* Load the entry programs (and their arrays) for the kinds in `progs`
 * (HQ_LOAD_*). Uses no diag but d: safe on a thread of its own. */
int entry_load(struct hq_entry *e, unsigned progs, struct hq_diag *d);

/* Put each loaded program of ld in its entry's slot: from now on they run. */
int entry_arm(const struct hq_entry *e, const struct hq_loaded *ld, struct hq_diag *d);

void entry_free(struct hq_entry *e);

#endif
