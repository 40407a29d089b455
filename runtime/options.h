/* options.h — the command line (SPEC §3) parsed into one struct.
 *
 * options_parse() only parses and validates syntax; it neither opens files
 * nor touches the kernel. Errors go to an hq_diag for the one printer.
 */
#ifndef HQ_OPTIONS_H
#define HQ_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "../frontend/diag.h"
#include "output.h"

enum hq_hook_kind { HQ_HOOK_XDP, HQ_HOOK_TC };

enum hq_mode {
	HQ_MODE_RUN,          /* compile, load, attach (or -r), print results */
	HQ_MODE_EMIT,         /* --emit: compile only, to stdout */
	HQ_MODE_CHECK,        /* --check: load through the verifier, attach nothing */
	HQ_MODE_LIST_FIELDS,  /* -l [LAYER] */
	HQ_MODE_LIST_QUERIES, /* --list: saved queries of the stdlib */
	HQ_MODE_HELP,
	HQ_MODE_VERSION,
};

enum hq_emit_kind { HQ_EMIT_KIND_IR, HQ_EMIT_KIND_ASM, HQ_EMIT_KIND_OBJ, HQ_EMIT_KIND_AST };

struct hq_options {
	enum hq_mode mode;
	char **ifaces; /* -i, in order; "any" kept as written (expanded later) */
	int n_ifaces;
	enum hq_hook_kind hook;  /* ingress hook; egress is always tc */
	bool hook_set;           /* --hook given explicitly */
	const char *read_file;   /* -r */
	const char *write_file;  /* -w */
	uint64_t count;          /* -c, 0: unlimited */
	double duration;         /* -d seconds, 0: unlimited */
	enum hq_format format;   /* -o */
	const char *script_file; /* -f */
	enum hq_emit_kind emit;
	const char *list_layer; /* -l LAYER, NULL: every layer */
	const char *metrics;    /* --metrics ADDR:PORT, or NULL */
	const char *anon_key;   /* --anonymize KEYFILE, or NULL */
	uint64_t rate;          /* --rate N: records/s per log query, 0: none */
	double linger;          /* --linger SECONDS: keep serving --metrics after the run */
	bool progress;          /* --progress: force the offline progress bar */
	char *query;            /* positional words joined by spaces, or NULL */
};

/* Parse argv. Returns 0 on success, or the exit code (2) with an error in d.
 * `-h`/`--version` set the mode and return 0. */
int options_parse(int argc, char **argv, struct hq_options *o, struct hq_diag *d);
void options_free(struct hq_options *o);

/* The short help text (`-h`). */
void options_usage(FILE *f);

#endif
