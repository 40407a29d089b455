/* loader.c — libbpf open/load of the codegen's object: autoload selection,
 * verifier log capture, map lookup and layout checks, `--check` report. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"

/* Rotating verifier log (kernel >= 6.4 keeps the tail when it overflows). */
#define VLOG_SIZE       (16u << 20)
#define VLOG_TAIL_LINES 30
#define VLOG_LINE_MAX   160

static bool libbpf_debug;
/* libbpf prints from both threads of a live start (driver.c attaches on
 * its own while the main thread loads): the two below are under the lock */
static pthread_mutex_t libbpf_lock = PTHREAD_MUTEX_INITIALIZER;
static char libbpf_first_warn[256]; /* the first warning since the last reset */
static char libbpf_failed_prog[64]; /* "prog 'X': BPF program load failed" */

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (libbpf_debug)
		return vfprintf(stderr, fmt, ap);
	if (level != LIBBPF_WARN)
		return 0;
	char buf[sizeof(libbpf_first_warn)];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* The verifier log arrives as one huge warning; we have our own copy. */
	if (strstr(buf, "-- BEGIN PROG LOAD LOG --"))
		return 0;
	buf[strcspn(buf, "\n")] = 0;
	const char *p = strstr(buf, "prog '");
	pthread_mutex_lock(&libbpf_lock);
	if (p && strstr(buf, "load failed") && !libbpf_failed_prog[0])
		sscanf(p, "prog '%63[^']'", libbpf_failed_prog);
	if (buf[0] && !libbpf_first_warn[0])
		memcpy(libbpf_first_warn, buf, sizeof(buf));
	pthread_mutex_unlock(&libbpf_lock);
	return 0;
}

/* The first warning libbpf printed, as a note on d's last error. */
static void note_first_warn(struct hq_diag *d)
{
	char w[sizeof(libbpf_first_warn)];
	pthread_mutex_lock(&libbpf_lock);
	memcpy(w, libbpf_first_warn, sizeof(w));
	pthread_mutex_unlock(&libbpf_lock);
	if (w[0])
		diag_note(d, NULL, (struct hq_span){0}, "%s", w);
}

void loader_setup_libbpf_print(void)
{
	const char *e = getenv("HDRQ_DEBUG");
	libbpf_debug = e && *e && strcmp(e, "0");
	libbpf_set_print(libbpf_print);
}

/* The last `lines` lines of log, each cut to VLOG_LINE_MAX characters
 * (register dumps run long), malloc'd; NULL if the log is empty. */
static char *log_tail(const char *log, int lines)
{
	size_t len = strlen(log);
	while (len && log[len - 1] == '\n')
		len--;
	if (!len)
		return NULL;
	size_t start = len;
	int seen = 0;
	while (start > 0) {
		if (log[start - 1] == '\n' && ++seen == lines)
			break;
		start--;
	}
	char *out = malloc(len - start + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = log + start, *end = log + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t keep = n > VLOG_LINE_MAX ? VLOG_LINE_MAX - 3 : n;
		memcpy(o, p, keep);
		o += keep;
		if (keep < n) {
			memcpy(o, "...", 3);
			o += 3;
		}
		*o++ = '\n';
		p += n + 1;
	}
	o[-1] = 0;
	return out;
}

static const char *prog_names[] = {HQ_PROG_XDP, HQ_PROG_TC_IN, HQ_PROG_TC_OUT};

static int select_programs(struct bpf_object *obj, unsigned progs, char *vlog, struct hq_diag *d)
{
	for (int i = 0; i < 3; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, prog_names[i]);
		bool want = progs & (1u << i);
		if (!p && want)
			return diag_errorf(d,
			                   "the compiled object has no program %s (compiler bug)",
			                   prog_names[i]);
		if (!p)
			continue;
		bpf_program__set_autoload(p, want);
		bpf_program__set_log_buf(p, vlog, VLOG_SIZE);
	}
	return 0;
}

/* After a failed load: which program failed, and what did the verifier say. */
static int report_load_failure(int err, const char *vlog, char **vlog_tail, struct hq_diag *d)
{
	char failed[sizeof(libbpf_failed_prog)];
	pthread_mutex_lock(&libbpf_lock);
	snprintf(failed, sizeof(failed), "%s",
	         libbpf_failed_prog[0] ? libbpf_failed_prog : "(unknown)");
	pthread_mutex_unlock(&libbpf_lock);
	if (vlog[0]) {
		diag_errorf(d,
		            "the kernel verifier rejected program %s (%s); this is a compiler bug: "
		            "please report it with the query and the verifier log",
		            failed, strerror(err));
		if (vlog_tail)
			*vlog_tail = log_tail(vlog, VLOG_TAIL_LINES);
		return -1;
	}
	if (err == EPERM)
		diag_errorf(d,
		            "cannot load BPF programs: %s (need CAP_BPF, CAP_NET_ADMIN and "
		            "CAP_PERFMON, or root)",
		            strerror(err));
	else
		diag_errorf(d, "cannot load BPF programs: %s", strerror(err));
	note_first_warn(d);
	return -1;
}

static int map_fd(struct hq_loaded *ld, const char *name, unsigned key_size, unsigned val_size,
                  bool optional, struct hq_diag *d)
{
	struct bpf_map *m = bpf_object__find_map_by_name(ld->obj, name);
	if (!m) {
		if (optional)
			return -1;
		diag_errorf(d, "the compiled object has no map %s (compiler bug)", name);
		return -2;
	}
	if ((key_size && bpf_map__key_size(m) != key_size) ||
	    (val_size && bpf_map__value_size(m) != val_size)) {
		diag_errorf(d,
		            "map %s has key/value size %u/%u, the plan says %u/%u (compiler bug)",
		            name, bpf_map__key_size(m), bpf_map__value_size(m), key_size, val_size);
		return -2;
	}
	return bpf_map__fd(m);
}

static int find_query_maps(struct hq_loaded *ld, const struct hq_plan *plan, struct hq_diag *d)
{
	ld->group_fds = calloc(plan->n_qplans ? plan->n_qplans : 1, sizeof(int));
	ld->distinct_fds = calloc(plan->n_qplans ? plan->n_qplans : 1, sizeof(int *));
	if (!ld->group_fds || !ld->distinct_fds)
		return diag_errorf(d, "out of memory");
	for (int i = 0; i < plan->n_qplans; i++) {
		const struct hq_qplan *qp = &plan->qplans[i];
		ld->group_fds[i] = -1;
		if (qp->q->action != HQ_ACT_GROUP)
			continue;
		ld->group_fds[i] = map_fd(ld, qp->groups_map, qp->key_size, qp->val_size, false, d);
		if (ld->group_fds[i] < 0)
			return -1;
		ld->distinct_fds[i] = calloc(qp->n_distinct + 1, sizeof(int));
		if (!ld->distinct_fds[i])
			return diag_errorf(d, "out of memory");
		for (int k = 0; k < qp->n_distinct; k++) {
			int fd =
			    map_fd(ld, qp->distinct[k].name, qp->distinct[k].key_size, 0, false, d);
			if (fd < 0)
				return -1;
			ld->distinct_fds[i][k] = fd;
		}
	}
	return 0;
}

/* hq_meta's memory as the programs see it (libbpf creates global data
 * maps mmapable): loader_stop writes one word of it without rewriting the
 * counter the programs keep there. NULL if the kernel will not map it. */
static void map_meta(struct hq_loaded *ld)
{
	void *p =
	    mmap(NULL, sizeof(struct hq_meta), PROT_READ | PROT_WRITE, MAP_SHARED, ld->meta_fd, 0);
	ld->meta = p == MAP_FAILED ? NULL : p;
}

static int find_maps(struct hq_loaded *ld, const struct hq_plan *plan, struct hq_diag *d)
{
	ld->meta_fd = map_fd(ld, HQ_META_MAP, 4, sizeof(struct hq_meta), false, d);
	ld->scratch_fd = map_fd(ld, "hq_scratch", 4, 0, false, d);
	ld->events_fd = map_fd(ld, "hq_events", 0, 0, true, d);
	if (ld->meta_fd < 0 || ld->scratch_fd < 0 || ld->events_fd < -1)
		return -1;
	map_meta(ld);
	struct bpf_map *sc = bpf_object__find_map_by_name(ld->obj, "hq_scratch");
	ld->scratch_size = bpf_map__value_size(sc);
	if (ld->scratch_size < 8u * (HQ_STAT_N + plan->n_qplans))
		return diag_errorf(
		    d, "map hq_scratch has %u bytes, too few for %d counters (compiler bug)",
		    ld->scratch_size, HQ_STAT_N + plan->n_qplans);
	return find_query_maps(ld, plan, d);
}

static void prog_fds(struct hq_loaded *ld, unsigned progs)
{
	int *fds[] = {&ld->prog_xdp, &ld->prog_tc_in, &ld->prog_tc_out};
	for (int i = 0; i < 3; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(ld->obj, prog_names[i]);
		*fds[i] = (progs & (1u << i)) && p ? bpf_program__fd(p) : -1;
	}
}

int loader_load(const struct hq_object *elf, const struct hq_plan *plan, unsigned progs,
                struct hq_loaded **out, char **vlog_tail, struct hq_diag *d)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "hdrq");
	struct hq_loaded *ld = calloc(1, sizeof(*ld));
	char *vlog = calloc(1, VLOG_SIZE);
	if (!ld || !vlog) {
		free(ld);
		free(vlog);
		return diag_errorf(d, "out of memory");
	}
	ld->prog_xdp = ld->prog_tc_in = ld->prog_tc_out = ld->events_fd = -1;
	*out = ld;
	pthread_mutex_lock(&libbpf_lock);
	libbpf_first_warn[0] = libbpf_failed_prog[0] = 0;
	pthread_mutex_unlock(&libbpf_lock);
	ld->obj = bpf_object__open_mem(elf->data, elf->size, &oo);
	if (!ld->obj) {
		int err = errno;
		ld->obj = NULL;
		diag_errorf(d, "cannot open the compiled BPF object: %s (compiler bug)",
		            strerror(err));
		note_first_warn(d);
		free(vlog);
		return -1;
	}
	int rc = select_programs(ld->obj, progs, vlog, d);
	int err = rc ? 0 : bpf_object__load(ld->obj);
	if (err)
		rc = report_load_failure(-err, vlog, vlog_tail, d);
	free(vlog);
	if (rc)
		return -1;
	prog_fds(ld, progs);
	return find_maps(ld, plan, d);
}

int loader_test_run(const struct hq_loaded *ld, const struct hq_meta *meta, const void *data,
                    uint32_t size)
{
	uint32_t zero = 0;
	if (bpf_map_update_elem(ld->meta_fd, &zero, meta, BPF_ANY))
		return -errno;
	LIBBPF_OPTS(bpf_test_run_opts, to, .data_in = data, .data_size_in = size, .repeat = 1);
	return bpf_prog_test_run_opts(ld->prog_xdp, &to) ? -errno : 0;
}

bool loader_stop(struct hq_loaded *ld)
{
	if (!ld->meta)
		return false;
	__atomic_store_n(&ld->meta->stopped, 1, __ATOMIC_SEQ_CST);
	return true;
}

int loader_report(const struct hq_loaded *ld, FILE *f, struct hq_diag *d)
{
	const int fds[] = {ld->prog_xdp, ld->prog_tc_in, ld->prog_tc_out};
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fds[i], &info, &len))
			return diag_errorf(d, "cannot read program info of %s: %s", prog_names[i],
			                   strerror(errno));
		fprintf(f, "%-10s %u instructions (xlated), %u bytes jited", prog_names[i],
		        info.xlated_prog_len / 8, info.jited_prog_len);
		if (info.verified_insns)
			fprintf(f, ", %u processed by the verifier", info.verified_insns);
		fputc('\n', f);
	}
	return 0;
}

void loader_free(struct hq_loaded *ld, const struct hq_plan *plan)
{
	if (!ld)
		return;
	if (ld->distinct_fds)
		for (int i = 0; i < plan->n_qplans; i++)
			free(ld->distinct_fds[i]);
	free(ld->distinct_fds);
	free(ld->group_fds);
	if (ld->meta)
		munmap(ld->meta, sizeof(struct hq_meta));
	bpf_object__close(ld->obj);
	free(ld);
}
