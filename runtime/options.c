/* options.c — getopt_long over SPEC §3: every option, its validation, and
 * the `-h` text. Nothing here opens files or talks to the kernel. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

enum {
	OPT_HOOK = 256,
	OPT_METRICS,
	OPT_ANONYMIZE,
	OPT_RATE,
	OPT_LINGER,
	OPT_PROGRESS,
	OPT_EMIT,
	OPT_CHECK,
	OPT_VERSION,
	OPT_LIST,
};

static const struct option opt_long[] = {
    {"interface", required_argument, NULL, 'i'},
    {"hook", required_argument, NULL, OPT_HOOK},
    {"read", required_argument, NULL, 'r'},
    {"write", required_argument, NULL, 'w'},
    {"count", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, 'd'},
    {"output", required_argument, NULL, 'o'},
    {"file", required_argument, NULL, 'f'},
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"anonymize", required_argument, NULL, OPT_ANONYMIZE},
    {"rate", required_argument, NULL, OPT_RATE},
    {"linger", required_argument, NULL, OPT_LINGER},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"emit", required_argument, NULL, OPT_EMIT},
    {"check", no_argument, NULL, OPT_CHECK},
    {"list-fields", optional_argument, NULL, 'l'},
    {"list", no_argument, NULL, OPT_LIST},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void options_usage(FILE *f)
{
	fputs("usage: hdrq [OPTIONS] QUERY\n"
	      "       hdrq [OPTIONS] -f SCRIPT\n"
	      "       hdrq [OPTIONS] NAME          (a saved query from the standard library)\n"
	      "\n"
	      "  -i, --interface IFACE   attach to IFACE (repeatable); `any`: all up interfaces\n"
	      "      --hook xdp|tc       ingress hook (default xdp; egress is always tc)\n"
	      "  -r, --read FILE         run over a pcap/pcapng capture instead of live traffic\n"
	      "  -w, --write FILE        write the matching packets to a pcap file\n"
	      "  -c, --count N           stop after N matching packets\n"
	      "  -d, --duration SECONDS  stop after SECONDS\n"
	      "  -o, --output FORMAT     text (default), json or csv\n"
	      "  -f, --file SCRIPT       run the queries of a script file\n"
	      "      --metrics ADDR:PORT serve /metrics for Prometheus while running\n"
	      "      --linger SECONDS    keep serving --metrics for SECONDS after the run\n"
	      "      --anonymize KEYFILE prefix-preserving anonymisation of IP addresses\n"
	      "      --rate N            at most N log records per second per query\n"
	      "      --progress          progress bar for -r even when stderr is no terminal\n"
	      "      --emit KIND         compile only, to stdout: ir, asm, obj or ast\n"
	      "      --check             load through the verifier, print instruction counts\n"
	      "  -l, --list-fields [LAYER]  list layers and fields (with Wireshark names)\n"
	      "      --list              list the saved queries of the standard library\n"
	      "  -h, --help              this text\n"
	      "      --version           versions of hdrq, LLVM and libbpf\n"
	      "\n"
	      "example: hdrq -i eth0 'tcp where flags.rst group by dst_port'\n"
	      "exit status: 0 ok, 1 runtime error, 2 bad query or usage\n",
	      f);
}

static int opt_bad(struct hq_diag *d, const char *opt, const char *arg, const char *want)
{
	diag_errorf(d, "invalid argument '%s' for %s: expected %s", arg, opt, want);
	return 2;
}

static int parse_count(const char *arg, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*arg || *arg == '-')
		return -1;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || *end || v == 0)
		return -1;
	*out = v;
	return 0;
}

/* Seconds, optionally with a unit: 10, 2.5, 500ms, 1m, 1h. */
static int parse_duration(const char *arg, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || !isfinite(v) || v <= 0)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		*out = v;
	else if (!strcmp(end, "ms"))
		*out = v / 1000;
	else if (!strcmp(end, "m"))
		*out = v * 60;
	else if (!strcmp(end, "h"))
		*out = v * 3600;
	else
		return -1;
	return 0;
}

static int pick(const char *arg, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	return -1;
}

/* ADDR:PORT, [ADDR6]:PORT or :PORT (every address); port 0..65535 (0: a
 * free port, printed on stderr). Only the form is checked here. */
static int parse_listen(const char *arg)
{
	const char *colon = strrchr(arg, ':');
	if (!colon || !colon[1] || strlen(colon + 1) > 5)
		return -1;
	for (const char *p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	if (atoi(colon + 1) > 65535)
		return -1;
	if (arg[0] == '[' && (colon == arg || colon[-1] != ']'))
		return -1;
	return 0;
}

/* N or N/s */
static int parse_rate(const char *arg, uint64_t *out)
{
	char buf[32];
	size_t n = strlen(arg);
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, arg, n + 1);
	if (n > 2 && !strcmp(buf + n - 2, "/s"))
		buf[n - 2] = '\0';
	return parse_count(buf, out);
}

/* One option; returns 0 or an exit code. */
static int opt_one(int c, const char *arg, struct hq_options *o, struct hq_diag *d)
{
	static const char *const hooks[] = {"xdp", "tc"};
	static const char *const fmts[] = {"text", "json", "csv"};
	static const char *const emits[] = {"ir", "asm", "obj", "ast"};
	int k;

	switch (c) {
	case 'i': {
		char **n = realloc(o->ifaces, sizeof(*n) * (o->n_ifaces + 1));
		if (!n)
			return diag_errorf(d, "out of memory"), 1;
		o->ifaces = n;
		o->ifaces[o->n_ifaces++] = (char *)arg;
		return 0;
	}
	case OPT_HOOK:
		if ((k = pick(arg, hooks, 2)) < 0)
			return opt_bad(d, "--hook", arg, "xdp or tc");
		o->hook = (enum hq_hook_kind)k;
		o->hook_set = true;
		return 0;
	case 'r':
		o->read_file = arg;
		return 0;
	case 'w':
		o->write_file = arg;
		return 0;
	case 'c':
		if (parse_count(arg, &o->count))
			return opt_bad(d, "-c", arg, "a positive integer");
		return 0;
	case 'd':
		if (parse_duration(arg, &o->duration))
			return opt_bad(d, "-d", arg, "a positive number of seconds");
		return 0;
	case 'o':
		if ((k = pick(arg, fmts, 3)) < 0)
			return opt_bad(d, "-o", arg, "text, json or csv");
		o->format = (enum hq_format)k;
		return 0;
	case 'f':
		o->script_file = arg;
		return 0;
	case OPT_EMIT:
		if ((k = pick(arg, emits, 4)) < 0)
			return opt_bad(d, "--emit", arg, "ir, asm, obj or ast");
		if (o->mode == HQ_MODE_CHECK)
			return diag_errorf(d, "--emit and --check cannot be combined"), 2;
		o->emit = (enum hq_emit_kind)k;
		o->mode = HQ_MODE_EMIT;
		return 0;
	case OPT_CHECK:
		if (o->mode == HQ_MODE_EMIT)
			return diag_errorf(d, "--emit and --check cannot be combined"), 2;
		o->mode = HQ_MODE_CHECK;
		return 0;
	case OPT_LIST:
		o->mode = HQ_MODE_LIST_QUERIES;
		return 0;
	case 'l':
		o->mode = HQ_MODE_LIST_FIELDS;
		o->list_layer = arg;
		return 0;
	case OPT_METRICS:
		if (parse_listen(arg))
			return opt_bad(d, "--metrics", arg,
			               "ADDR:PORT (127.0.0.1:9464, [::1]:9464, :9464)");
		o->metrics = arg;
		return 0;
	case OPT_ANONYMIZE:
		o->anon_key = arg;
		return 0;
	case OPT_RATE:
		if (parse_rate(arg, &o->rate))
			return opt_bad(d, "--rate", arg, "a positive number of records per second");
		return 0;
	case OPT_LINGER:
		if (parse_duration(arg, &o->linger))
			return opt_bad(d, "--linger", arg, "a positive number of seconds");
		return 0;
	case OPT_PROGRESS:
		o->progress = true;
		return 0;
	}
	return 0;
}

/* The words left after the options: a query (joined by spaces, as tcpdump
 * does), or -l's LAYER. */
static int opt_positional(int argc, char **argv, int first, struct hq_options *o, struct hq_diag *d)
{
	int n = argc - first;
	if (o->mode == HQ_MODE_LIST_FIELDS) {
		if (n > 1 || (n == 1 && o->list_layer))
			return diag_errorf(d, "-l takes at most one LAYER"), 2;
		if (n == 1)
			o->list_layer = argv[first];
		return 0;
	}
	if (n == 0)
		return 0;
	size_t len = 1;
	for (int i = first; i < argc; i++)
		len += strlen(argv[i]) + 1;
	o->query = calloc(1, len);
	if (!o->query)
		return diag_errorf(d, "out of memory"), 1;
	for (int i = first; i < argc; i++) {
		if (i > first)
			strcat(o->query, " ");
		strcat(o->query, argv[i]);
	}
	return 0;
}

/* Combinations that cannot work, checked once everything is parsed. */
static int opt_validate(struct hq_options *o, struct hq_diag *d)
{
	if (o->mode == HQ_MODE_HELP || o->mode == HQ_MODE_VERSION || o->mode == HQ_MODE_LIST_FIELDS)
		return 0;
	if (o->mode == HQ_MODE_LIST_QUERIES)
		return o->query ? (diag_errorf(d, "--list takes no query"), 2) : 0;
	if (o->query && o->script_file)
		return diag_errorf(d, "give either a QUERY or -f SCRIPT, not both"), 2;
	if (!o->query && !o->script_file)
		return diag_errorf(d, "no query given (try 'hdrq -h')"), 2;
	if (o->read_file && o->n_ifaces)
		return diag_errorf(d, "-r reads a capture; it cannot be combined with -i"), 2;
	if (o->read_file && o->hook_set)
		return diag_errorf(d, "--hook has no meaning with -r"), 2;
	if (o->linger && !o->metrics)
		return diag_errorf(d, "--linger keeps --metrics serving; give --metrics ADDR:PORT"),
		       2;
	return 0;
}

int options_parse(int argc, char **argv, struct hq_options *o, struct hq_diag *d)
{
	memset(o, 0, sizeof(*o));
	o->mode = HQ_MODE_RUN;
	o->format = HQ_FMT_TEXT;
	optind = 0; /* full re-initialisation (glibc), so tests can parse twice */
	opterr = 0;
	int c, rc;
	while ((c = getopt_long(argc, argv, ":i:r:w:c:d:o:f:l::h", opt_long, NULL)) != -1) {
		if (c == 'h') {
			o->mode = HQ_MODE_HELP;
			return 0;
		}
		if (c == OPT_VERSION) {
			o->mode = HQ_MODE_VERSION;
			return 0;
		}
		if (c == '?' || c == ':') {
			const char *w = argv[optind - 1];
			if (c == ':')
				diag_errorf(d, "option %s needs an argument", w);
			else if (optopt)
				diag_errorf(d, "unknown option -%c (try 'hdrq -h')", optopt);
			else
				diag_errorf(d, "unknown option %s (try 'hdrq -h')", w);
			return 2;
		}
		if ((rc = opt_one(c, optarg, o, d)))
			return rc;
	}
	if ((rc = opt_positional(argc, argv, optind, o, d)))
		return rc;
	return opt_validate(o, d);
}

void options_free(struct hq_options *o)
{
	free(o->ifaces);
	free(o->query);
	memset(o, 0, sizeof(*o));
}
