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
 * the kernel as it does live. Every run is repeated ROUNDS times and the
 * fastest round is kept (the machine's noise only ever adds time).
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
	static unsigned char frame[MAX_FRAME], out[MAX_FRAME + 256];
	struct bpf_prog_info info;
	__u32 info_len = sizeof(info);
	struct bpf_object *obj;
	struct bpf_program *prog;
	unsigned long repeat;
	int fd, err, i;

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

	for (i = 4; i < argc; i++) {
		long len = read_frame(argv[i], frame);
		unsigned best = ~0u, ret = 0;
		double wbest = 1e30;
		int r;

		if (len < 0)
			return 1;
		for (r = 0; r < ROUNDS; r++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
			            .data_out = out, .data_size_out = sizeof(out),
			            .repeat = (int)repeat);
			struct timespec t0, t1;
			double w;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			err = bpf_prog_test_run_opts(fd, &o);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (err) {
				fprintf(stderr, "bpfbench: test run on %s: %s\n", argv[i],
				        strerror(errno));
				return 1;
			}
			w = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / repeat;
			if (w < wbest)
				wbest = w;
			if (o.duration < best)
				best = o.duration;
			ret = o.retval;
		}
		printf("%s ns=%u wall=%.2f ret=%u\n", argv[i], best, wbest, ret);
	}
	bpf_object__close(obj);
	return 0;
}
