/* entry.c — load the entry programs and arm them (entry.h says why). Each
 * is written out as instructions here: it is the same five whatever the
 * query, and it must exist before the compiler has run. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "entry.h"

static const struct {
	const char *name;
	enum bpf_prog_type type;
	enum bpf_attach_type expected; /* as libbpf loads the real one */
	int pass;                      /* the verdict while the slot is empty */
} entry_kind[HQ_PROG_KINDS] = {
    {"hq_entry_xdp", BPF_PROG_TYPE_XDP, BPF_XDP, XDP_PASS},
    {"hq_entry_tc_in", BPF_PROG_TYPE_SCHED_CLS, 0, TC_ACT_UNSPEC},
    {"hq_entry_tc_out", BPF_PROG_TYPE_SCHED_CLS, 0, TC_ACT_UNSPEC},
};

void entry_init(struct hq_entry *e)
{
	for (int k = 0; k < HQ_PROG_KINDS; k++)
		e->array_fd[k] = e->prog_fd[k] = -1;
}

/* r2 = the array; r3 = 0; tail_call(ctx in r1, r2, r3); return pass */
static int entry_prog(int k, int array_fd)
{
	const struct bpf_insn insns[] = {
	    {.code = BPF_LD | BPF_DW | BPF_IMM,
	     .dst_reg = BPF_REG_2,
	     .src_reg = BPF_PSEUDO_MAP_FD,
	     .imm = array_fd},
	    {0}, /* second half of the 64-bit immediate */
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 0},
	    {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = entry_kind[k].pass},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = entry_kind[k].expected);
	int fd = bpf_prog_load(entry_kind[k].type, entry_kind[k].name, "GPL", insns,
	                       sizeof(insns) / sizeof(insns[0]), &po);
	return fd < 0 ? -errno : fd;
}

int entry_load(struct hq_entry *e, unsigned progs, struct hq_diag *d)
{
	for (int k = 0; k < HQ_PROG_KINDS; k++) {
		if (!(progs & (1u << k)))
			continue;
		e->array_fd[k] =
		    bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, entry_kind[k].name, 4, 4, 1, NULL);
		if (e->array_fd[k] < 0)
			return diag_errorf(d, "cannot create the program array of %s: %s",
			                   entry_kind[k].name, strerror(errno));
		e->prog_fd[k] = entry_prog(k, e->array_fd[k]);
		if (e->prog_fd[k] < 0)
			return diag_errorf(d, "cannot load %s: %s", entry_kind[k].name,
			                   strerror(-e->prog_fd[k]));
	}
	return 0;
}

int entry_arm(const struct hq_entry *e, const struct hq_loaded *ld, struct hq_diag *d)
{
	const int fds[HQ_PROG_KINDS] = {ld->prog_xdp, ld->prog_tc_in, ld->prog_tc_out};
	const unsigned slot = 0;
	for (int k = 0; k < HQ_PROG_KINDS; k++) {
		if (e->array_fd[k] < 0)
			continue;
		if (fds[k] < 0 || bpf_map_update_elem(e->array_fd[k], &slot, &fds[k], BPF_ANY))
			return diag_errorf(d, "cannot start %s's program: %s", entry_kind[k].name,
			                   fds[k] < 0 ? "not loaded" : strerror(errno));
	}
	return 0;
}

void entry_free(struct hq_entry *e)
{
	for (int k = 0; k < HQ_PROG_KINDS; k++) {
		if (e->prog_fd[k] >= 0)
			close(e->prog_fd[k]);
		if (e->array_fd[k] >= 0)
			close(e->array_fd[k]);
	}
	entry_init(e);
}
