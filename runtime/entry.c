/* entry.c — load the entry programs and arm them (entry.h says why). Each
 * is written out as instructions here: it is the same five whatever the
 * query, and it must exist before the compiler has run. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "entry.h"

static const struct {
	const char *name;
	const char *ctx; /* the context's struct, as in the kernel's BTF */
	enum bpf_prog_type type;
	enum bpf_attach_type expected; /* as libbpf loads the real one */
	int pass;                      /* the verdict while the slot is empty */
} entry_kind[HQ_PROG_KINDS] = {
    {"hq_entry_xdp", "xdp_md", BPF_PROG_TYPE_XDP, BPF_XDP, XDP_PASS},
    {"hq_entry_tc_in", "__sk_buff", BPF_PROG_TYPE_SCHED_CLS, 0, TC_ACT_UNSPEC},
    {"hq_entry_tc_out", "__sk_buff", BPF_PROG_TYPE_SCHED_CLS, 0, TC_ACT_UNSPEC},
};

void entry_init(struct hq_entry *e)
{
	for (int k = 0; k < HQ_PROG_KINDS; k++)
		e->array_fd[k] = e->prog_fd[k] = -1;
}

/* `int NAME(struct CTX *ctx)` in BTF of its own, as hdrq's programs have
 * theirs (bpftool shows it). Returns the BTF's fd and sets *func to the
 * function's type id; -1 if the kernel takes no BTF (the program loads
 * without it then). */
static int entry_btf(int k, __u32 *func)
{
	struct btf *b = btf__new_empty();
	if (!b)
		return -1;
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int ctx = btf__add_ptr(b, btf__add_struct(b, entry_kind[k].ctx, 0));
	int proto = btf__add_func_proto(b, i32);
	int fn = btf__add_func_param(b, "ctx", ctx)
	             ? -1
	             : btf__add_func(b, entry_kind[k].name, BTF_FUNC_GLOBAL, proto);
	int fd = fn > 0 && !btf__load_into_kernel(b) ? dup(btf__fd(b)) : -1;
	btf__free(b);
	*func = fn > 0 ? (__u32)fn : 0;
	return fd;
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
	struct bpf_func_info fi = {.insn_off = 0};
	int btf = entry_btf(k, &fi.type_id);
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = entry_kind[k].expected);
	if (btf >= 0) {
		po.prog_btf_fd = (__u32)btf;
		po.func_info = &fi;
		po.func_info_cnt = 1;
		po.func_info_rec_size = sizeof(fi);
	}
	int fd = bpf_prog_load(entry_kind[k].type, entry_kind[k].name, "GPL", insns,
	                       sizeof(insns) / sizeof(insns[0]), &po);
	int err = errno;
	if (btf >= 0)
		close(btf);
	return fd < 0 ? -err : fd;
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
