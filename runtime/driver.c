/* driver.c — the pipeline of one invocation: source text, frontend, plan,
 * codegen, then emit / check / run (live or offline), and the one place
 * where diagnostics are printed. Also sets up what a run carries along:
 * --anonymize (anon.h), --metrics and --linger (metrics.h), --rate (the
 * plan's default record rate), and finds the standard library of an
 * installed binary (PREFIX/bin/hdrq -> PREFIX/share/hdrq/stdlib). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../codegen/codegen.h"
#include "../frontend/frontend.h"
#include "anon.h"
#include "driver.h"
#include "entry.h"
#include "hook.h"
#include "live.h"
#include "loader.h"
#include "metrics.h"
#include "offline.h"
#include "pcapw.h"
#include "privs.h"
#include "reader_groups.h"
#include "reader_ring.h"
#include "run.h"
#include "stdlib_list.h"
#include "sys.h"

#ifndef HQ_VERSION
#define HQ_VERSION "0.0.0"
#endif

/* Bytes of each matching packet kept for -w. Live, they travel in the ring
 * buffer with every record, so this bounds its cost: 2048 covers a
 * 1500-byte MTU frame with VLAN tags. Offline the original frame is written
 * from the capture, so the kernel copies only a token amount. */
#define DRV_SNAPLEN_LIVE         2048
#define DRV_SNAPLEN_OFFLINE      64
#define DRV_RINGBUF_WRITE        (32u << 20)
#define DRV_SNAPLEN_FILE_OFFLINE 262144 /* the pcap header's snaplen for -r -w */

struct drv {
	struct hq_options *o;
	struct hq_diag d;
	int status; /* exit status once something failed */
	struct hq_proto *proto;
	struct hq_source src;
	char *text;
	char *src_name;
	struct hq_script *script;
	struct hq_plan *plan;
	struct hq_object elf;
	struct hq_loaded *ld;
	struct hq_hooks hooks;
	struct hq_entry entry; /* live: what the hooks run until armed */
	struct hq_output *out;
	struct hq_pcapw *pw;
	struct hq_anon *anon;
	struct hq_metrics *metrics;
	struct hq_run run;
	char *vlog_tail;
};

static volatile sig_atomic_t drv_signalled;

static void drv_on_signal(int sig)
{
	drv_signalled = sig;
}

static void drv_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = drv_on_signal;
	/* SA_RESTART: a write blocked on a full stdout pipe when the signal
	 * comes must finish, not fail with EINTR and lose the record stdio
	 * was writing. epoll_wait and usleep return at once all the same
	 * (signal(7): never restarted). */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Fail with `status` (the diagnostic is already in d). */
static int drv_fail(struct drv *dr, int status)
{
	dr->status = status;
	return -1;
}

void driver_version(FILE *f)
{
	fprintf(f, "hdrq %s\n%s\nlibbpf %u.%u\n", HQ_VERSION, codegen_llvm_version(),
	        libbpf_major_version(), libbpf_minor_version());
}

/* An installed hdrq (PREFIX/bin/hdrq) uses PREFIX/share/hdrq/stdlib when
 * HDRQ_STDLIB is not set, wherever PREFIX was moved (DESTDIR, a tarball):
 * proto_stdlib_dir() reads HDRQ_STDLIB first, so it is set here. A binary in
 * the build tree has no such directory beside it and falls back to the
 * source tree's stdlib, then to the configured install prefix. */
static void drv_stdlib_beside_binary(void)
{
	char exe[4096], dir[4096 + 32];
	const char *env = getenv("HDRQ_STDLIB");
	if (env && *env)
		return;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/../share/hdrq/stdlib", exe);
	char proto[sizeof(dir) + 8];
	snprintf(proto, sizeof(proto), "%s/proto", dir);
	struct stat st;
	char *real = realpath(dir, NULL);
	if (real && stat(proto, &st) == 0 && S_ISDIR(st.st_mode))
		setenv("HDRQ_STDLIB", real, 1);
	free(real);
}

static int drv_proto(struct drv *dr)
{
	drv_stdlib_beside_binary();
	const char *dir = proto_stdlib_dir();
	if (!dir) {
		diag_errorf(&dr->d, "cannot find the hdrq standard library (stdlib/proto); set "
		                    "HDRQ_STDLIB to its directory");
		return drv_fail(dr, 1);
	}
	dr->proto = proto_load_dir(dir, &dr->d);
	return dr->proto ? 0 : drv_fail(dr, 1);
}

static bool drv_is_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* `hdrq NAME`: a bare word that is no layer and names stdlib/queries/NAME.hq. */
static char *drv_stdlib_query(struct drv *dr, const char *word)
{
	if (!drv_is_word(word) || !strcmp(word, "any") || proto_layer(dr->proto, word))
		return NULL;
	char *path = NULL;
	if (asprintf(&path, "%s/queries/%s.hq", proto_stdlib_dir(), word) < 0)
		return NULL;
	if (sys_file_exists(path))
		return path;
	free(path);
	return NULL;
}

static int drv_source(struct drv *dr)
{
	const char *file = dr->o->script_file;
	char *saved = file ? NULL : drv_stdlib_query(dr, dr->o->query);
	if (saved)
		file = saved;
	if (file) {
		dr->text = sys_read_file(file, &dr->d);
		dr->src_name = strdup(file);
		free(saved);
		if (!dr->text)
			return drv_fail(dr, 2);
		dr->src.name = dr->src_name;
		dr->src.text = dr->text;
		return 0;
	}
	dr->src.name = "query";
	dr->src.text = dr->o->query;
	return 0;
}

static int drv_frontend(struct drv *dr)
{
	dr->script = parse_script(&dr->src, &dr->d);
	if (!dr->script || sema_check(dr->script, dr->proto, &dr->d) || diag_has_errors(&dr->d)) {
		bool suggested = dr->d.n && strstr(dr->d.entries[0].msg, "did you mean");
		if (!dr->o->script_file && drv_is_word(dr->o->query) && !dr->text && !suggested)
			diag_note(&dr->d, NULL, (struct hq_span){0},
			          "'%s' is not a saved query either (%s/queries/%s.hq)",
			          dr->o->query, proto_stdlib_dir(), dr->o->query);
		return drv_fail(dr, 2);
	}
	if (!dr->script->n_queries) {
		diag_errorf(&dr->d, "%s holds no query", dr->src.name);
		return drv_fail(dr, 2);
	}
	return 0;
}

/* `on IFACE` of every query must exist here (a runtime error, exit 1). */
static int drv_query_ifaces(struct drv *dr)
{
	for (int q = 0; q < dr->script->n_queries; q++) {
		const struct hq_query *qq = dr->script->queries[q];
		for (int i = 0; i < qq->n_ifaces; i++)
			if (strcmp(qq->ifaces[i], "any") && !if_nametoindex(qq->ifaces[i]))
				diag_error(&dr->d, qq->src, qq->on_span, "no such interface '%s'",
				           qq->ifaces[i]);
	}
	return diag_has_errors(&dr->d) ? drv_fail(dr, 1) : 0;
}

static int drv_plan(struct drv *dr)
{
	struct hq_plan_opts po = {0};
	po.rate = dr->o->rate;
	if (dr->o->mode == HQ_MODE_RUN && dr->o->write_file) {
		po.write_packets = true;
		po.snaplen = dr->o->read_file ? DRV_SNAPLEN_OFFLINE : DRV_SNAPLEN_LIVE;
		po.ringbuf_size = dr->o->read_file ? 0 : DRV_RINGBUF_WRITE;
	}
	if (dr->o->mode == HQ_MODE_RUN && drv_query_ifaces(dr))
		return -1;
	dr->plan = plan_build(dr->script, dr->proto, &po, &dr->d);
	return dr->plan ? 0 : drv_fail(dr, 2);
}

static int drv_emit(struct drv *dr)
{
	static const enum hq_emit kinds[] = {
	    [HQ_EMIT_KIND_IR] = HQ_EMIT_IR,
	    [HQ_EMIT_KIND_ASM] = HQ_EMIT_ASM,
	    [HQ_EMIT_KIND_OBJ] = HQ_EMIT_OBJ,
	};
	if (dr->o->emit == HQ_EMIT_KIND_OBJ && isatty(STDOUT_FILENO)) {
		diag_errorf(&dr->d, "--emit obj writes an ELF object; redirect it to a file "
		                    "(hdrq --emit obj '...' > prog.o)");
		return drv_fail(dr, 2);
	}
	if (codegen_compile(dr->plan, kinds[dr->o->emit], HQ_LOAD_ALL, &dr->elf, &dr->d))
		return drv_fail(dr, 2);
	if (fwrite(dr->elf.data, 1, dr->elf.size, stdout) != dr->elf.size || fflush(stdout)) {
		if (errno == EPIPE)
			return 0; /* `| head`: the reader has seen enough */
		diag_errorf(&dr->d, "cannot write to standard output: %s", strerror(errno));
		return drv_fail(dr, 1);
	}
	return 0;
}

/* Before anything BPF: privileges (attach_to: the interfaces, for the
 * message), the locked-memory limit of older kernels, libbpf's messages. */
static int drv_prepare(struct drv *dr, const char *attach_to)
{
	if (privs_check(attach_to, &dr->d))
		return drv_fail(dr, 1);
	privs_raise_memlock();
	loader_setup_libbpf_print();
	return 0;
}

/* Compile the programs of `progs` (HQ_LOAD_*) and load them. */
static int drv_build(struct drv *dr, unsigned progs)
{
	if (codegen_compile(dr->plan, HQ_EMIT_OBJ, progs, &dr->elf, &dr->d))
		return drv_fail(dr, 2);
	if (loader_load(&dr->elf, dr->plan, progs, &dr->ld, &dr->vlog_tail, &dr->d)) {
		if (drv_signalled) { /* Ctrl-C during a long verification */
			diag_init(&dr->d);
			free(dr->vlog_tail);
			dr->vlog_tail = NULL;
			diag_errorf(&dr->d, "interrupted while loading the programs");
		}
		return drv_fail(dr, 1);
	}
	return 0;
}

static int drv_load(struct drv *dr, unsigned progs, const char *attach_to)
{
	return drv_prepare(dr, attach_to) ? -1 : drv_build(dr, progs);
}

static int drv_check(struct drv *dr)
{
	if (drv_load(dr, HQ_LOAD_ALL, NULL))
		return -1;
	return loader_report(dr->ld, stdout, &dr->d) ? drv_fail(dr, 1) : 0;
}

static void drv_anon_keys(struct hq_run *r, const struct hq_qplan *qp, struct hq_group_dump *g)
{
	for (size_t i = 0; i < g->n; i++)
		for (int k = 0; k < qp->n_keys; k++)
			anon_slot(r->anon, &qp->keys[k],
			          g->keys + i * qp->key_size + qp->keys[k].off);
}

static void drv_retire(struct hq_run *r, int q, const struct hq_group_row *rows, int n)
{
	metrics_retire(r->metrics, q, rows, n);
}

/* Output, pcap writer and ring buffer: what both kinds of run share. */
static int drv_run_setup(struct drv *dr)
{
	struct hq_run *r = &dr->run;
	r->opt = dr->o;
	r->plan = dr->plan;
	r->ld = dr->ld;
	r->d = &dr->d;
	r->ncpus = libbpf_num_possible_cpus();
	r->q_logged = calloc(dr->plan->n_qplans + 1, sizeof(*r->q_logged));
	/* `-w -` writes the capture to stdout: results go to stderr then */
	bool pcap_stdout = dr->o->write_file && !strcmp(dr->o->write_file, "-");
	dr->out = r->out =
	    output_new(dr->o->format, dr->plan, pcap_stdout ? stderr : stdout, stderr);
	if (r->ncpus < 1 || !r->q_logged || !r->out) {
		diag_errorf(&dr->d, "cannot set up the run (CPUs: %d)", r->ncpus);
		return drv_fail(dr, 1);
	}
	if (dr->o->write_file &&
	    !(dr->pw = r->pw = pcapw_open(
	          dr->o->write_file, dr->o->read_file ? DRV_SNAPLEN_FILE_OFFLINE : DRV_SNAPLEN_LIVE,
	          &dr->d)))
		return drv_fail(dr, 1);
	r->anon = dr->anon;
	r->anon_keys = dr->anon ? drv_anon_keys : NULL;
	if (dr->pw && dr->anon)
		pcapw_set_anon(dr->pw, dr->anon);
	if (ring_open(r))
		return drv_fail(dr, 1);
	if (dr->o->metrics) {
		r->offline = dr->o->read_file != NULL;
		if (!(dr->metrics = r->metrics = metrics_start(dr->o->metrics, dr->plan, &dr->d)))
			return drv_fail(dr, 1);
		r->retire = drv_retire;
		metrics_service(r->metrics, r, true);
	}
	return 0;
}

/* --anonymize: read the key before anything is compiled or loaded. */
static int drv_anon(struct drv *dr)
{
	if (!dr->o->anon_key || dr->o->mode != HQ_MODE_RUN)
		return 0;
	dr->anon = anon_load(dr->o->anon_key, &dr->d);
	return dr->anon ? 0 : drv_fail(dr, 2);
}

/* --linger: the run is over (results printed); keep answering scrapes. */
static void drv_linger(struct drv *dr)
{
	if (dr->metrics && dr->o->linger && !dr->run.epipe)
		metrics_linger(dr->metrics, &dr->run, dr->o->linger, &drv_signalled);
}

static int drv_offline(struct drv *dr)
{
	for (int q = 0; q < dr->plan->n_qplans; q++) {
		const struct hq_qplan *qp = &dr->plan->qplans[q];
		if (qp->has_dir && qp->dir == HQ_DIR_EGRESS)
			diag_warning(&dr->d, qp->q->src, qp->q->on_span,
			             "frames read with -r count as ingress; query %s only watches "
			             "egress and will see nothing",
			             qp->q->name ? qp->q->name : qp->name);
	}
	if (dr->d.n && !diag_has_errors(&dr->d)) { /* warnings first, results after */
		diag_print(&dr->d, stderr, isatty(STDERR_FILENO));
		diag_init(&dr->d);
	}
	drv_signals();
	if (drv_load(dr, HQ_LOAD_XDP, NULL) || drv_run_setup(dr))
		return -1;
	if (offline_run(&dr->run, dr->o->read_file, &drv_signalled))
		return drv_fail(dr, 1);
	drv_linger(dr);
	return 0;
}

/* The attaching half of drv_build_attach, on a thread of its own. */
struct drv_reserve {
	struct hq_hooks *hooks;
	struct hq_entry *entry;
	unsigned progs;
	struct hq_diag d; /* merged into the run's after the join */
	int rc;
};

static void *drv_reserve(void *arg)
{
	struct drv_reserve *r = arg;
	r->rc = entry_load(r->entry, r->progs, &r->d) ||
	        hook_attach_all(r->hooks, r->entry->prog_fd, &r->d);
	return NULL;
}

/* Attach the entry programs (entry.h) while compiling and loading ours,
 * two jobs that take about as long, then arm them with ours. */
static int drv_build_attach(struct drv *dr, unsigned progs)
{
	struct drv_reserve r = {.hooks = &dr->hooks, .entry = &dr->entry, .progs = progs};
	diag_init(&r.d);
	pthread_t t;
	bool threaded = !pthread_create(&t, NULL, drv_reserve, &r);
	if (!threaded)
		drv_reserve(&r);
	int rc = drv_build(dr, progs);
	if (threaded)
		pthread_join(t, NULL);
	diag_merge(&dr->d, &r.d);
	if (r.rc || rc) {
		hook_detach_all(&dr->hooks);
		return rc ? -1 : drv_fail(dr, 1);
	}
	if (entry_arm(&dr->entry, dr->ld, &dr->d)) {
		hook_detach_all(&dr->hooks);
		return drv_fail(dr, 1);
	}
	return 0;
}

/* Plan the hooks, compile and load what they need, attach. */
static int drv_plan_load_attach(struct drv *dr)
{
	unsigned progs;
	if (hook_plan(dr->o, dr->plan, &dr->hooks, &progs, &dr->d))
		return drv_fail(dr, 1);
	char what[128] = "";
	for (int i = 0; i < dr->hooks.n; i++) { /* "eth0, eth1": each name once */
		const char *name = dr->hooks.v[i].ifname;
		if (i && !strcmp(name, dr->hooks.v[i - 1].ifname))
			continue;
		size_t len = strlen(what);
		snprintf(what + len, sizeof(what) - len, "%s%s", len ? ", " : "", name);
	}
	if (drv_prepare(dr, what))
		return -1;
	return drv_build_attach(dr, progs);
}

/* An XDP program can appear on an interface between planning and
 * attaching (two hdrq runs started together): then plan once more, which
 * leaves that program in place and watches with TC, and load again. */
static int drv_attach(struct drv *dr)
{
	struct hq_diag mark = dr->d;
	if (!drv_plan_load_attach(dr) || !dr->hooks.xdp_raced || drv_signalled)
		return dr->status ? -1 : 0;
	dr->d = mark; /* drop the "cannot attach" error */
	dr->status = 0;
	hook_free(&dr->hooks);
	entry_free(&dr->entry);
	loader_free(dr->ld, dr->plan);
	dr->ld = NULL;
	codegen_object_free(&dr->elf);
	free(dr->vlog_tail);
	dr->vlog_tail = NULL;
	return drv_plan_load_attach(dr);
}

static int drv_live(struct drv *dr)
{
	bool on = false;
	for (int q = 0; q < dr->script->n_queries; q++)
		on = on || dr->script->queries[q]->n_ifaces;
	if (!dr->o->n_ifaces && !on) {
		diag_errorf(&dr->d, "no interface to watch: give -i IFACE (or -i any), or read a "
		                    "capture with -r FILE");
		return drv_fail(dr, 2);
	}
	drv_signals();
	if (drv_attach(dr) || drv_run_setup(dr))
		return -1;
	if (live_run(&dr->run, &dr->hooks, &drv_signalled))
		return drv_fail(dr, 1);
	drv_linger(dr);
	return 0;
}

static int drv_list_fields(struct drv *dr)
{
	const char *layer = dr->o->list_layer;
	if (layer && !proto_layer(dr->proto, layer)) {
		const char **names = calloc(dr->proto->n_layers + 1, sizeof(*names));
		for (int i = 0; names && i < dr->proto->n_layers; i++)
			names[i] = dr->proto->layers[i]->name;
		const char *near = names ? diag_suggest(layer, names, dr->proto->n_layers) : NULL;
		if (near)
			diag_errorf(&dr->d, "unknown layer '%s'; did you mean %s?", layer, near);
		else
			diag_errorf(&dr->d, "unknown layer '%s' (hdrq -l lists them all)", layer);
		free(names);
		return drv_fail(dr, 2);
	}
	proto_list_fields(dr->proto, layer, stdout);
	return 0;
}

static int drv_pipeline(struct drv *dr)
{
	if (drv_proto(dr))
		return -1;
	if (dr->o->mode == HQ_MODE_LIST_FIELDS)
		return drv_list_fields(dr);
	if (drv_source(dr) || drv_frontend(dr))
		return -1;
	if (dr->o->mode == HQ_MODE_EMIT && dr->o->emit == HQ_EMIT_KIND_AST) {
		char *s = ast_dump_script(dr->script);
		fputs(s, stdout);
		if (s[0] && s[strlen(s) - 1] != '\n')
			fputc('\n', stdout);
		free(s);
		return 0;
	}
	if (drv_anon(dr) || drv_plan(dr))
		return -1;
	if (dr->o->mode == HQ_MODE_EMIT)
		return drv_emit(dr);
	if (dr->o->mode == HQ_MODE_CHECK)
		return drv_check(dr);
	return dr->o->read_file ? drv_offline(dr) : drv_live(dr);
}

static void drv_cleanup(struct drv *dr)
{
	hook_free(&dr->hooks);
	entry_free(&dr->entry);
	metrics_stop(dr->metrics); /* before the maps it reads go away */
	dr->metrics = dr->run.metrics = NULL;
	ring_close(&dr->run);
	free(dr->run.q_logged);
	free(dr->run.q_next);
	free(dr->run.q_count_prev);
	if (dr->pw && pcapw_close(dr->pw, &dr->d) && !dr->status)
		dr->status = 1;
	if (dr->out)
		dr->out->ops->destroy(dr->out);
	if (dr->plan)
		loader_free(dr->ld, dr->plan);
	codegen_object_free(&dr->elf);
	anon_free(dr->anon);
	plan_free(dr->plan);
	if (dr->script)
		ast_script_free(dr->script);
}

/* What diagnostics point into (source texts): freed after printing. */
static void drv_free_sources(struct drv *dr)
{
	if (dr->proto)
		proto_free(dr->proto);
	free(dr->text);
	free(dr->src_name);
}

int driver_run(struct hq_options *o)
{
	if (o->mode == HQ_MODE_HELP) {
		options_usage(stdout);
		return 0;
	}
	if (o->mode == HQ_MODE_VERSION) {
		driver_version(stdout);
		return 0;
	}
	if (o->mode == HQ_MODE_LIST_QUERIES)
		return stdlib_list(stdout, stderr);
	struct drv *dr = calloc(1, sizeof(*dr));
	if (!dr)
		return 1;
	dr->o = o;
	entry_init(&dr->entry);
	diag_init(&dr->d);
	if (drv_pipeline(dr) && !dr->status)
		dr->status = 1;
	drv_cleanup(dr);
	if (dr->run.bad_records)
		diag_warning(&dr->d, NULL, (struct hq_span){0},
		             "%llu malformed ring buffer records ignored (compiler bug)",
		             (unsigned long long)dr->run.bad_records);
	if (dr->run.epipe && !diag_has_errors(&dr->d))
		dr->d.n = 0; /* the reader went away: stop quietly */
	diag_print(&dr->d, stderr, isatty(STDERR_FILENO));
	if (dr->vlog_tail)
		fprintf(stderr, "--- verifier log (last lines) ---\n%s\n---\n", dr->vlog_tail);
	int status = dr->status;
	drv_free_sources(dr);
	free(dr->vlog_tail);
	free(dr);
	return status;
}
