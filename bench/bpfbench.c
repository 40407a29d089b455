/* bpfbench.c — in-kernel cost of one XDP program, measured with
 * BPF_PROG_TEST_RUN: load an ELF (hdrq's `--emit obj`, a bench/reference
 * program, or the empty XDP_PASS one), then run the named program over each
 * frame file `repeat` times and print the kernel's average ns per run.
 *
 *   bpfbench OBJ PROG REPEAT FRAME...
 *
 * Output, one line per frame: `FRAME ns=<avg> wall=<ns> ret=<xdp verdict>`
 * (ns: the kernel's integer average, what bench/run.sh uses; wall: the
 * syscall's wall time divided by `repeat`, which also holds the test run's
 * fixed rescheduling cost, see docs/BENCHMARKS.md), and first
 * a line `xlated=<instructions> jited=<bytes>` for the program. hq_meta's
 * `offline` is left at 0, so hdrq's program takes pkt.len/ts/ifindex from
 * the kernel as it does live. Every run is repeated ROUNDS times (5, or
 * BPFBENCH_ROUNDS from the environment) and the fastest round is kept
 * (the machine's noise only ever adds time).
 *
 * Log queries write a ring-buffer record per matching frame. A ring that
 * nobody reads fills after some thousands of runs, and from then on every
 * run would measure the path of a full ring (reserve fails, the record is
 * counted lost), not the query's. So where a frame writes records, the
 * `repeat` runs go in batches that fill at most half of the program's
 * smallest ring buffer, which is read empty between batches (outside the
 * kernel's timing); ns is the mean over all of them, weighted, and the
 * line says `records=<bytes per run>/<batches>`. Every record of every run
 * must arrive, else the frame's measurement fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define ROUNDS    5
#define MAX_FRAME 4096

/* the ring buffers of the program measured, read after each batch */
struct rings {
	struct ring_buffer *rb;
	unsigned long smallest; /* bytes */
	unsigned long records, bytes;
};

static int count_record(void *ctx, void *data, size_t size)
{
	struct rings *r = ctx;

	(void)data;
	r->records++;
	r->bytes += (size + 8 + 7) & ~7ul; /* as the ring takes it: header, 8-byte aligned */
	return 0;
}

/* Every ring-buffer map of the loaded object (none: rb NULL). */
static int rings_open(struct bpf_object *obj, struct rings *r)
{
	struct bpf_map *m;

	memset(r, 0, sizeof(*r));
	bpf_object__for_each_map(m, obj)
	{
		unsigned long size = bpf_map__max_entries(m);

		if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF || bpf_map__fd(m) < 0)
			continue;
		if (!r->rb)
			r->rb = ring_buffer__new(bpf_map__fd(m), count_record, r, NULL);
		else if (ring_buffer__add(r->rb, bpf_map__fd(m), count_record, r))
			return -1;
		if (!r->rb)
			return -1;
		if (!r->smallest || size < r->smallest)
			r->smallest = size;
	}
	return 0;
}

/* Read every ring empty; the records and bytes read since the last call. */
static void rings_drain(struct rings *r, unsigned long *records, unsigned long *bytes)
{
	r->records = r->bytes = 0;
	if (r->rb)
		ring_buffer__consume(r->rb);
	*records = r->records;
	*bytes = r->bytes;
}

/* One test run of `repeat` runs over the frame: the kernel's ns per run,
 * the wall time per run in *wall. */
static int test_run(int fd, const unsigned char *frame, long len, unsigned long repeat, double *ns,
                    double *wall, unsigned *ret)
{
	static unsigned char out[MAX_FRAME + 256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .data_out = out,
	            .data_size_out = sizeof(out), .repeat = (int)repeat);
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (bpf_prog_test_run_opts(fd, &o))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ns = o.duration;
	*wall = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / repeat;
	*ret = o.retval;
	return 0;
}

/* The runs per batch for this frame: all of them if it writes no record,
 * else as many as fill half the smallest ring. *per_run: record bytes. */
static unsigned long batch_size(int fd, struct rings *r, const unsigned char *frame, long len,
                                unsigned long repeat, unsigned long *per_run)
{
	unsigned long recs, bytes, batch;
	double ns, wall;
	unsigned ret;

	rings_drain(r, &recs, &bytes);
	if (test_run(fd, frame, len, 1, &ns, &wall, &ret))
		return 0;
	rings_drain(r, &recs, &bytes);
	*per_run = bytes;
	if (!bytes)
		return repeat;
	batch = r->smallest / 2 / bytes;
	return batch < 1 ? 1 : batch > repeat ? repeat : batch;
}

/* One round: `repeat` runs in batches, the rings read between them. The
 * mean ns per run (the kernel's figures, weighted), -1 on a lost record. */
static int round_run(int fd, struct rings *r, const unsigned char *frame, long len,
                     unsigned long repeat, unsigned long batch, unsigned long per_run, double *ns,
                     double *wall, unsigned *ret)
{
	double sum = 0, wsum = 0;

	for (unsigned long done = 0; done < repeat;) {
		unsigned long n = repeat - done < batch ? repeat - done : batch, recs, bytes;
		double bns, bwall;

		if (test_run(fd, frame, len, n, &bns, &bwall, ret))
			return -1;
		rings_drain(r, &recs, &bytes);
		if (bytes != per_run * n) {
			fprintf(stderr, "bpfbench: %lu of %lu record bytes arrived\n", bytes,
			        per_run * n);
			errno = ENOBUFS;
			return -1;
		}
		sum += bns * n;
		wsum += bwall * n;
		done += n;
	}
	*ns = sum / repeat;
	*wall = wsum / repeat;
	return 0;
}

static int quiet_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_WARN && !strstr(fmt, "skipping"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static long read_frame(const char *path, unsigned char *buf)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "bpfbench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, MAX_FRAME, f);
	fclose(f);
	return (long)n;
}

int main(int argc, char **argv)
{
	static unsigned char frame[MAX_FRAME];
	struct bpf_prog_info info;
	__u32 info_len = sizeof(info);
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct rings rings;
	unsigned long repeat;
	int fd, err, i, rounds = ROUNDS;

	if (argc < 5) {
		fprintf(stderr, "usage: bpfbench OBJ PROG REPEAT FRAME...\n");
		return 2;
	}
	repeat = strtoul(argv[3], NULL, 0);
	libbpf_set_print(quiet_print);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "bpfbench: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* load only the program measured: fewer maps' worth of verifier time */
	bpf_object__for_each_program(prog, obj)
	    bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), argv[2]));
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "bpfbench: load %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, argv[2]);
	if (!prog) {
		fprintf(stderr, "bpfbench: %s has no program %s\n", argv[1], argv[2]);
		return 1;
	}
	fd = bpf_program__fd(prog);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len) == 0)
		printf("xlated=%u jited=%u\n", info.xlated_prog_len / 8, info.jited_prog_len);
	if (rings_open(obj, &rings)) {
		fprintf(stderr, "bpfbench: ring buffer: %s\n", strerror(errno));
		return 1;
	}

	if (getenv("BPFBENCH_ROUNDS"))
		rounds = atoi(getenv("BPFBENCH_ROUNDS"));
	if (rounds < 1)
		rounds = 1;
	for (i = 4; i < argc; i++) {
		long len = read_frame(argv[i], frame);
		unsigned long per_run = 0, batch;
		double best = 1e30, wbest = 1e30;
		unsigned ret = 0;

		if (len < 0)
			return 1;
		batch = batch_size(fd, &rings, frame, len, repeat, &per_run);
		for (int r = 0; r < rounds && batch; r++) {
			double ns, w;

			if (round_run(fd, &rings, frame, len, repeat, batch, per_run, &ns, &w,
			              &ret)) {
				batch = 0;
				break;
			}
			best = ns < best ? ns : best;
			wbest = w < wbest ? w : wbest;
		}
		if (!batch) {
			fprintf(stderr, "bpfbench: test run on %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		printf("%s ns=%.0f wall=%.2f ret=%u", argv[i], best, wbest, ret);
		if (per_run)
			printf(" records=%lu/%lu", per_run, (repeat + batch - 1) / batch);
		printf("\n");
	}
	ring_buffer__free(rings.rb);
	bpf_object__close(obj);
	return 0;
}
