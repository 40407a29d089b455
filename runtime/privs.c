/* privs.c — capability checks before loading (capget syscall, no libcap)
 * and RLIMIT_MEMLOCK. hdrq pins nothing, so it needs no bpffs mount. */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct caps {
	uint64_t eff;
	bool ok;
};

static struct caps caps_get(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	struct caps c = {0};
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) == 0) {
		c.eff = data[0].effective | (uint64_t)data[1].effective << 32;
		c.ok = true;
	}
	return c;
}

static bool has(struct caps c, int cap)
{
	return c.eff & (1ull << cap);
}

/* CAP_BPF and CAP_PERFMON are split out of CAP_SYS_ADMIN since 5.8; on
 * older kernels CAP_SYS_ADMIN alone grants both. */
static const char *missing_cap(struct caps c, bool attach)
{
	bool admin = has(c, CAP_SYS_ADMIN);
	if (!admin && !has(c, CAP_BPF))
		return "CAP_BPF";
	/* XDP and TC programs are networking programs: loading them needs
	 * CAP_NET_ADMIN (or CAP_SYS_ADMIN), attaching needs CAP_NET_ADMIN. */
	if (!has(c, CAP_NET_ADMIN) && (attach || !admin))
		return "CAP_NET_ADMIN";
	if (!admin && !has(c, CAP_PERFMON))
		return "CAP_PERFMON";
	return NULL;
}

int privs_check(const char *attach_to, struct hq_diag *d)
{
	struct caps c = caps_get();
	if (!c.ok)
		return 0; /* cannot tell; let the kernel say no */
	const char *miss = missing_cap(c, attach_to != NULL);
	if (!miss)
		return 0;
	const char *why = "needed to load BPF programs";
	if (!strcmp(miss, "CAP_PERFMON"))
		why = "needed by the verifier for packet pointer arithmetic";
	if (!strcmp(miss, "CAP_NET_ADMIN"))
		why = attach_to ? NULL : "needed to load XDP and TC programs";
	if (why)
		diag_errorf(d,
		            "missing capability %s (%s); run as root or grant "
		            "CAP_BPF,CAP_NET_ADMIN,CAP_PERFMON",
		            miss, why);
	else
		diag_errorf(d,
		            "missing capability %s (needed to attach to %s); run as root or grant "
		            "CAP_BPF,CAP_NET_ADMIN,CAP_PERFMON",
		            miss, attach_to);
	return -1;
}

void privs_raise_memlock(void)
{
	struct rlimit r = {RLIM_INFINITY, RLIM_INFINITY};
	if (setrlimit(RLIMIT_MEMLOCK, &r) == 0)
		return;
	if (getrlimit(RLIMIT_MEMLOCK, &r) == 0) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &r);
	}
}
