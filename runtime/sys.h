/* sys.h — small system helpers for the runtime: clocks, whole-file reads,
 * network interfaces. No BPF here. */
#ifndef HQ_SYS_H
#define HQ_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../frontend/diag.h"

/* Nanoseconds on CLOCK_MONOTONIC (the clock of bpf_ktime_get_ns) and
 * CLOCK_REALTIME. */
/* Memory the kernel filled through bpf(2) (batch map reads): tells
 * Valgrind's memcheck, which does not know every bpf command, that it is
 * defined. A no-op outside Valgrind and without its headers. */
void sys_kernel_filled(const void *p, size_t len);

uint64_t sys_mono_ns(void);
/* Wait until every BPF program that was running when this was called has
 * finished: an RCU grace period (membarrier), or 50 ms where the kernel
 * cannot do that. */
void sys_wait_programs_done(void);
uint64_t sys_wall_ns(void);
/* wall - monotonic, measured at one instant: add it to a kernel timestamp
 * to get epoch ns. */
int64_t sys_mono_to_wall_offset(void);

/* Read a whole file into a NUL-terminated malloc'd buffer. Errors (with the
 * file name and strerror) go to d. */
char *sys_read_file(const char *path, struct hq_diag *d);
bool sys_file_exists(const char *path);

/* An interface to attach to. */
struct hq_iface {
	char name[32];
	int ifindex;
};

/* ifindex of name, or an error "no such interface 'eth9'" in d (-1). */
int sys_ifindex(const char *name, struct hq_diag *d);
/* Every interface that is up, except loopbacks. Returns the count (0 is
 * possible) or -1 with an error in d; *out is malloc'd. */
int sys_up_ifaces(struct hq_iface **out, struct hq_diag *d);

#endif
