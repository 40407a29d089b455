/* sys.c — clocks, whole-file reads, interface lookups and the RCU wait for
 * the runtime. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define SYS_HAVE_MEMCHECK 1
#endif
#endif

#include "sys.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sys_kernel_filled(const void *p, size_t len)
{
#ifdef SYS_HAVE_MEMCHECK
	VALGRIND_MAKE_MEM_DEFINED(p, len);
#else
	(void)p;
	(void)len;
#endif
}

/* XDP and TC programs run inside RCU read-side sections, and
 * MEMBARRIER_CMD_GLOBAL returns after synchronize_rcu(). */
void sys_wait_programs_done(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
		usleep(50000);
}

uint64_t sys_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t sys_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* Take the pair whose monotonic reads are closest together, so a preemption
 * between the two clock reads does not skew every timestamp of the run. */
int64_t sys_mono_to_wall_offset(void)
{
	int64_t best = 0;
	uint64_t best_gap = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		uint64_t m1 = sys_mono_ns(), w = sys_wall_ns(), m2 = sys_mono_ns();
		if (m2 - m1 < best_gap) {
			best_gap = m2 - m1;
			best = (int64_t)w - (int64_t)(m1 + (m2 - m1) / 2);
		}
	}
	return best;
}

char *sys_read_file(const char *path, struct hq_diag *d)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		diag_errorf(d, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (len + 1 < cap)
			break;
		char *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	int err = ferror(f) ? errno : 0;
	fclose(f);
	if (!buf || err) {
		diag_errorf(d, "cannot read %s: %s", path, buf ? strerror(err) : "out of memory");
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

bool sys_file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int sys_ifindex(const char *name, struct hq_diag *d)
{
	unsigned idx = strlen(name) < IF_NAMESIZE ? if_nametoindex(name) : 0;
	if (!idx) {
		diag_errorf(d, "no such interface '%s'", name);
		return -1;
	}
	return (int)idx;
}

static int iface_flags(int sock, const char *name)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return 0;
	return ifr.ifr_flags;
}

int sys_up_ifaces(struct hq_iface **out, struct hq_diag *d)
{
	struct if_nameindex *all = if_nameindex();
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!all || sock < 0) {
		diag_errorf(d, "cannot list network interfaces: %s", strerror(errno));
		if (all)
			if_freenameindex(all);
		if (sock >= 0)
			close(sock);
		return -1;
	}
	int n = 0, cap = 0;
	struct hq_iface *v = NULL;
	for (struct if_nameindex *i = all; i->if_index; i++) {
		int fl = iface_flags(sock, i->if_name);
		if (!(fl & IFF_UP) || (fl & IFF_LOOPBACK))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			struct hq_iface *nv = realloc(v, sizeof(*v) * cap);
			if (!nv)
				break;
			v = nv;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", i->if_name);
		v[n].ifindex = (int)i->if_index;
		n++;
	}
	if_freenameindex(all);
	close(sock);
	*out = v;
	return n;
}
