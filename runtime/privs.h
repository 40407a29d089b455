/* privs.h — what the kernel will demand before we ask it: capabilities
 * (checked with capget, no libcap) and the locked-memory limit. */
#ifndef HQ_PRIVS_H
#define HQ_PRIVS_H

#include <stdbool.h>

#include "../frontend/diag.h"

/* Check the effective capabilities needed to load BPF programs and, when
 * `attach_to` is not NULL, to attach them to that interface (a name, or a
 * short description such as "3 interfaces"). On a missing capability, an
 * error naming it goes to d and -1 is returned. */
int privs_check(const char *attach_to, struct hq_diag *d);

/* Raise RLIMIT_MEMLOCK (kernels before 5.11 charge BPF maps to it).
 * Failure is harmless on newer kernels and ignored. */
void privs_raise_memlock(void);

#endif
