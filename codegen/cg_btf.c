/* cg_btf.c — debug info that LLVM's BPF backend turns into BTF: the
 * compile unit, the program functions, and BTF-defined maps in ".maps"
 * (the layout libbpf expects: a struct whose members are pointers to
 * arrays whose lengths carry type, sizes and max_entries).
 */
#include <string.h>

#include <linux/bpf.h>

#include "cg.h"

#define DW_ATE_signed         0x05
#define DW_ATE_unsigned       0x08
#define DW_TAG_structure_type 0x13
#define DW_TAG_const_type     0x26

void cg_di_init(struct cg *cg)
{
	cg->di = LLVMCreateDIBuilder(cg->mod);
	cg->di_file = LLVMDIBuilderCreateFile(cg->di, "query.hq", 8, ".", 1);
	cg->di_cu = LLVMDIBuilderCreateCompileUnit(cg->di, LLVMDWARFSourceLanguageC, cg->di_file,
	                                           "hdrq", 4, 1, "", 0, 0, "", 0,
	                                           LLVMDWARFEmissionFull, 0, 0, 0, "", 0, "", 0);
	cg->di_int =
	    LLVMDIBuilderCreateBasicType(cg->di, "int", 3, 32, DW_ATE_signed, LLVMDIFlagZero);
	cg->di_u32 = LLVMDIBuilderCreateBasicType(cg->di, "unsigned int", 12, 32, DW_ATE_unsigned,
	                                          LLVMDIFlagZero);
	LLVMAddModuleFlag(cg->mod, LLVMModuleFlagBehaviorWarning, "Debug Info Version", 18,
	                  LLVMValueAsMetadata(cg_const32(cg, 3)));
	LLVMAddModuleFlag(cg->mod, LLVMModuleFlagBehaviorWarning, "Dwarf Version", 13,
	                  LLVMValueAsMetadata(cg_const32(cg, 5)));
}

/* int (*name)[n]: how a BTF map definition spells a number */
static LLVMMetadataRef cg_di_uint_member(struct cg *cg, LLVMMetadataRef scope, const char *name,
                                         unsigned n, unsigned idx)
{
	LLVMMetadataRef range = LLVMDIBuilderGetOrCreateSubrange(cg->di, 0, n);
	LLVMMetadataRef arr =
	    LLVMDIBuilderCreateArrayType(cg->di, (uint64_t)n * 32, 32, cg->di_int, &range, 1);
	LLVMMetadataRef p = LLVMDIBuilderCreatePointerType(cg->di, arr, 64, 0, 0, "", 0);
	return LLVMDIBuilderCreateMemberType(cg->di, scope, name, strlen(name), cg->di_file, 0, 64,
	                                     64, (uint64_t)idx * 64, LLVMDIFlagZero, p);
}

/* the global g, of debug type t, in the BTF LLVM emits */
static void cg_di_global(struct cg *cg, LLVMValueRef g, const char *name, LLVMMetadataRef t)
{
	LLVMMetadataRef expr = LLVMDIBuilderCreateExpression(cg->di, NULL, 0);
	LLVMMetadataRef gve = LLVMDIBuilderCreateGlobalVariableExpression(
	    cg->di, cg->di_cu, name, strlen(name), name, strlen(name), cg->di_file, 0, t, 0, expr,
	    NULL, 64);
	LLVMGlobalSetMetadata(g, LLVMGetMDKindIDInContext(cg->ctx, "dbg", 3), gve);
}

/* Hash maps (groups, distinct values) allocate an entry when a key first
 * appears: preallocating 65,536 per-CPU entries took a third of a run's
 * start-up in the kernel, for groups most runs never see. */
static bool cg_map_lazy(int type)
{
	return type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_PERCPU_HASH;
}

LLVMValueRef cg_map(struct cg *cg, const char *name, int type, unsigned key_size,
                    unsigned value_size, unsigned max_entries)
{
	const char *names[5] = {"type", "max_entries", "key_size", "value_size", "map_flags"};
	unsigned vals[5] = {(unsigned)type, max_entries, key_size, value_size, BPF_F_NO_PREALLOC};
	int n = !key_size ? 2 : cg_map_lazy(type) ? 5 : 4;
	LLVMMetadataRef members[5];
	for (int i = 0; i < n; i++)
		members[i] = cg_di_uint_member(cg, cg->di_file, names[i], vals[i], i);
	LLVMMetadataRef st = LLVMDIBuilderCreateStructType(cg->di, cg->di_file, "", 0, cg->di_file,
	                                                   0, (uint64_t)n * 64, 64, LLVMDIFlagZero,
	                                                   NULL, members, n, 0, NULL, "", 0);

	LLVMTypeRef fields[5] = {cg->ptr, cg->ptr, cg->ptr, cg->ptr, cg->ptr};
	LLVMTypeRef t = LLVMStructTypeInContext(cg->ctx, fields, n, 0);
	LLVMValueRef g = LLVMAddGlobal(cg->mod, t, name);
	LLVMSetInitializer(g, LLVMConstNull(t));
	LLVMSetSection(g, ".maps");
	LLVMSetAlignment(g, 8);

	cg_di_global(cg, g, name, st);
	return g;
}

/* A global array of count elements (elem: their debug type, elem_bits
 * wide) with init, in section, 8-aligned, with the debug info BTF is made
 * from: what cg_rodata and cg_data share. */
static LLVMValueRef cg_array_global(struct cg *cg, const char *name, const char *section,
                                    LLVMValueRef init, LLVMMetadataRef elem, unsigned count,
                                    unsigned elem_bits)
{
	LLVMValueRef g = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), name);
	LLVMSetInitializer(g, init);
	LLVMSetSection(g, section);
	LLVMSetAlignment(g, 8);
	LLVMMetadataRef range = LLVMDIBuilderGetOrCreateSubrange(cg->di, 0, count);
	LLVMMetadataRef arr = LLVMDIBuilderCreateArrayType(cg->di, (uint64_t)count * elem_bits,
	                                                   elem_bits, elem, &range, 1);
	cg_di_global(cg, g, name, arr);
	return g;
}

/* const unsigned char name[n] in ".rodata": libbpf loads it as a frozen,
 * read-only array map the program reads without a helper call or a NULL
 * check (the verifier knows its size and that it never changes). */
LLVMValueRef cg_rodata(struct cg *cg, const char *name, const unsigned char *bytes, unsigned n)
{
	LLVMMetadataRef u8 = LLVMDIBuilderCreateBasicType(cg->di, "unsigned char", 13, 8,
	                                                  DW_ATE_unsigned, LLVMDIFlagZero);
	LLVMMetadataRef cu8 = LLVMDIBuilderCreateQualifiedType(cg->di, DW_TAG_const_type, u8);
	LLVMValueRef init = LLVMConstStringInContext(cg->ctx, (const char *)bytes, n, 1);
	LLVMValueRef g = cg_array_global(cg, name, ".rodata", init, cu8, n, 8);
	LLVMSetGlobalConstant(g, 1);
	return g;
}

/* u64 name[n] = {words...} in its own data section: libbpf loads the
 * section as a writable one-element array map named after it, which the
 * runtime updates and the program addresses directly (no helper call, no
 * NULL check). */
LLVMValueRef cg_data(struct cg *cg, const char *name, const char *section, const uint64_t *words,
                     unsigned n)
{
	LLVMMetadataRef u64 = LLVMDIBuilderCreateBasicType(cg->di, "unsigned long long", 18, 64,
	                                                   DW_ATE_unsigned, LLVMDIFlagZero);
	LLVMValueRef v[n];
	for (unsigned i = 0; i < n; i++)
		v[i] = cg_const64(cg, words[i]);
	LLVMValueRef init = LLVMConstArray(cg->i64, v, n);
	return cg_array_global(cg, name, section, init, u64, n, 64);
}

/* fn as `int name(...)`, global (not local to the unit): sig holds the
 * return type, then the n parameters' types, named as names */
static void cg_di_func(struct cg *cg, LLVMValueRef fn, const char *name, LLVMMetadataRef *sig,
                       unsigned n, const char *const *names)
{
	LLVMMetadataRef fty =
	    LLVMDIBuilderCreateSubroutineType(cg->di, cg->di_file, sig, n + 1, LLVMDIFlagZero);
	LLVMMetadataRef sp =
	    LLVMDIBuilderCreateFunction(cg->di, cg->di_file, name, strlen(name), name, strlen(name),
	                                cg->di_file, 1, fty, 0, 1, 1, LLVMDIFlagPrototyped, 1);
	LLVMSetSubprogram(fn, sp);
	for (unsigned i = 0; i < n; i++)
		LLVMDIBuilderCreateParameterVariable(cg->di, sp, names[i], strlen(names[i]), i + 1,
		                                     cg->di_file, 1, sig[i + 1], 1, LLVMDIFlagZero);
}

/* the context struct of a hook's programs, as the kernel's BTF names it */
static const char *cg_ctx_struct(enum cg_hook hook)
{
	return hook == CG_HOOK_XDP ? "xdp_md" : "__sk_buff";
}

/* int name(struct xdp_md *ctx) / int name(struct __sk_buff *skb) */
void cg_di_function(struct cg *cg, LLVMValueRef fn, const char *name, enum cg_hook hook)
{
	const char *ctxname = cg_ctx_struct(hook);
	LLVMMetadataRef fwd =
	    LLVMDIBuilderCreateForwardDecl(cg->di, DW_TAG_structure_type, ctxname, strlen(ctxname),
	                                   cg->di_file, cg->di_file, 0, 0, 0, 0, "", 0);
	LLVMMetadataRef sig[2] = {cg->di_int,
	                          LLVMDIBuilderCreatePointerType(cg->di, fwd, 64, 0, 0, "", 0)};
	static const char *const names[1] = {"ctx"};
	cg_di_func(cg, fn, name, sig, 1, names);
}

/* int name(CTX *ctx, u64 a, u64 b, unsigned char (*out)[out_size]), for
 * cg_sub.c: global, so the verifier checks it alone; CTX a struct, not a
 * forward declaration, since the verifier knows a context argument by its
 * struct's name */
void cg_di_subprogram(struct cg *cg, LLVMValueRef fn, const char *name, unsigned out_size)
{
	const char *ctxname = cg_ctx_struct(cg->hook);
	LLVMMetadataRef ctx_t = LLVMDIBuilderCreateStructType(
	    cg->di, cg->di_file, ctxname, strlen(ctxname), cg->di_file, 0, 0, 0, LLVMDIFlagZero,
	    NULL, NULL, 0, 0, NULL, "", 0);
	LLVMMetadataRef u64 = LLVMDIBuilderCreateBasicType(cg->di, "unsigned long long", 18, 64,
	                                                   DW_ATE_unsigned, LLVMDIFlagZero);
	LLVMMetadataRef u8 = LLVMDIBuilderCreateBasicType(cg->di, "unsigned char", 13, 8,
	                                                  DW_ATE_unsigned, LLVMDIFlagZero);
	LLVMMetadataRef range = LLVMDIBuilderGetOrCreateSubrange(cg->di, 0, out_size);
	LLVMMetadataRef bytes =
	    LLVMDIBuilderCreateArrayType(cg->di, 8ull * out_size, 8, u8, &range, 1);
	LLVMMetadataRef sig[5] = {
	    cg->di_int, LLVMDIBuilderCreatePointerType(cg->di, ctx_t, 64, 0, 0, "", 0), u64,
	    u64,        LLVMDIBuilderCreatePointerType(cg->di, bytes, 64, 0, 0, "", 0),
	};
	static const char *const names[4] = {"ctx", "a", "b", "out"}; /* as bpftool shows them */
	cg_di_func(cg, fn, name, sig, 4, names);
}

void cg_license(struct cg *cg)
{
	static const char lic[] = "GPL";
	LLVMValueRef s = LLVMConstStringInContext(cg->ctx, lic, sizeof(lic) - 1, 0);
	LLVMValueRef g = LLVMAddGlobal(cg->mod, LLVMTypeOf(s), "_license");
	LLVMSetInitializer(g, s);
	LLVMSetSection(g, "license");
	LLVMSetAlignment(g, 1);
}
