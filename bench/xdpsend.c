/* xdpsend.c — a flood sender that hands frames to a veth the way a NIC's
 * driver hands them to native XDP: as XDP frames, with no socket buffer
 * built before the receiver's program runs. It runs a two-instruction
 * XDP_TX program through BPF_PROG_TEST_RUN in live-frames mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES): each run transmits the frame out of
 * IFNAME, and a veth passes it to its peer's ring through ndo_xdp_xmit.
 * Both ends must be in veth's NAPI mode (an XDP program attached, or GRO
 * on): the test run wants IFNAME's receive queue registered for XDP, and
 * the veth refuses frames for a peer without its ring.
 *
 *   xdpsend IFNAME COUNT FRAMEFILE
 *
 * Sends COUNT copies of the frame in FRAMEFILE (raw bytes from the
 * Ethernet header on) from the current network namespace's IFNAME and
 * prints `sent=<COUNT> secs=<wall seconds>`. The kernel runs the batches
 * and the receiver's NAPI poll on the calling CPU (each batch ends with a
 * flush and a softirq), so the time holds the receive path too. The run is
 * bounded by COUNT; a signal ends it early, with an error.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#define MAX_FRAME 1514

static int fail(const char *what, int err)
{
	fprintf(stderr, "xdpsend: %s: %s\n", what, strerror(err));
	return 1;
}

static size_t read_frame(const char *path, unsigned char *buf)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, MAX_FRAME, f);
	fclose(f);
	return n;
}

static int load_xdp_tx(void)
{
	const struct bpf_insn prog[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_TX},
	    {.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "hq_xdpsend", "GPL", prog, 2, NULL);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned char frame[MAX_FRAME];
	struct xdp_md ctx = {0};
	unsigned long count;
	size_t len;
	double t0;
	int prog;

	if (argc != 4) {
		fprintf(stderr, "usage: xdpsend IFNAME COUNT FRAMEFILE\n");
		return 2;
	}
	ctx.ingress_ifindex = if_nametoindex(argv[1]);
	if (!ctx.ingress_ifindex)
		return fail(argv[1], errno);
	count = strtoul(argv[2], NULL, 10);
	if (count == 0 || count > 0xffffffffUL) {
		fprintf(stderr, "xdpsend: COUNT must be 1 to 4294967295: %s\n", argv[2]);
		return 2;
	}
	len = read_frame(argv[3], frame);
	if (len < 14)
		return fail(argv[3], len ? EINVAL : errno);
	ctx.data_end = len; /* the kernel wants the context to span the frame */
	prog = load_xdp_tx();
	if (prog < 0)
		return fail("loading the XDP_TX program", errno);

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len, .ctx_in = &ctx,
	            .ctx_size_in = sizeof(ctx), .repeat = count,
	            .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
	t0 = now();
	if (bpf_prog_test_run_opts(prog, &opts))
		return fail("BPF_PROG_TEST_RUN (live frames)", errno);
	printf("sent=%lu secs=%.6f\n", count, now() - t0);
	return 0;
}
