/* test_options.c — command-line parsing (runtime/options.c): accepted
 * forms, values, and the usage errors with their exit status. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

static int failures, checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

/* Parse a NULL-terminated list of words (argv[0] added). */
static int parse(struct hq_options *o, struct hq_diag *d, ...)
{
	char *argv[32] = {"hdrq"};
	int argc = 1;
	va_list ap;
	va_start(ap, d);
	for (char *w; (w = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = w;
	va_end(ap);
	diag_init(d);
	return options_parse(argc, argv, o, d);
}

static bool diag_says(const struct hq_diag *d, const char *what)
{
	for (int i = 0; i < d->n; i++)
		if (strstr(d->entries[i].msg, what))
			return true;
	return false;
}

static void test_query_and_values(void)
{
	struct hq_options o;
	struct hq_diag d;
	CHECK(parse(&o, &d, "-i", "eth0", "--interface", "any", "-c", "10", "-d", "2.5", "-o",
	            "json", "tcp", "where", "flags.rst", NULL) == 0);
	CHECK(o.mode == HQ_MODE_RUN);
	CHECK(o.n_ifaces == 2 && !strcmp(o.ifaces[0], "eth0") && !strcmp(o.ifaces[1], "any"));
	CHECK(o.count == 10);
	CHECK(o.duration == 2.5);
	CHECK(o.format == HQ_FMT_JSON);
	CHECK(o.query && !strcmp(o.query, "tcp where flags.rst"));
	options_free(&o);

	CHECK(parse(&o, &d, "tcp", "-d", "500ms", "--hook=tc", "-w", "out.pcap", NULL) == 0);
	CHECK(o.duration == 0.5 && o.hook == HQ_HOOK_TC && o.hook_set);
	CHECK(!strcmp(o.write_file, "out.pcap") && !strcmp(o.query, "tcp"));
	options_free(&o);

	CHECK(parse(&o, &d, "-r", "x.pcapng", "-o", "csv", "udp", NULL) == 0);
	CHECK(!strcmp(o.read_file, "x.pcapng") && o.format == HQ_FMT_CSV);
	options_free(&o);

	CHECK(parse(&o, &d, "-f", "s.hq", "-i", "lo", NULL) == 0);
	CHECK(!strcmp(o.script_file, "s.hq") && !o.query);
	options_free(&o);
}

static void test_modes(void)
{
	struct hq_options o;
	struct hq_diag d;
	CHECK(parse(&o, &d, "--emit", "ir", "tcp", NULL) == 0 && o.mode == HQ_MODE_EMIT &&
	      o.emit == HQ_EMIT_KIND_IR);
	options_free(&o);
	CHECK(parse(&o, &d, "--emit=ast", "tcp", NULL) == 0 && o.emit == HQ_EMIT_KIND_AST);
	options_free(&o);
	CHECK(parse(&o, &d, "--check", "tcp", NULL) == 0 && o.mode == HQ_MODE_CHECK);
	options_free(&o);
	CHECK(parse(&o, &d, "-l", NULL) == 0 && o.mode == HQ_MODE_LIST_FIELDS && !o.list_layer);
	options_free(&o);
	CHECK(parse(&o, &d, "-l", "tcp", NULL) == 0 && !strcmp(o.list_layer, "tcp"));
	options_free(&o);
	CHECK(parse(&o, &d, "--list-fields=ip", NULL) == 0 && !strcmp(o.list_layer, "ip"));
	options_free(&o);
	CHECK(parse(&o, &d, "-ltcp", NULL) == 0 && !strcmp(o.list_layer, "tcp"));
	options_free(&o);
	CHECK(parse(&o, &d, "-h", NULL) == 0 && o.mode == HQ_MODE_HELP);
	options_free(&o);
	CHECK(parse(&o, &d, "--version", NULL) == 0 && o.mode == HQ_MODE_VERSION);
	options_free(&o);
}

/* Each bad command line: exit status 2 and the message fragment. */
static void test_errors(void)
{
	static const struct {
		const char *argv[6];
		const char *msg;
	} bad[] = {
	    {{"-c", "0", "tcp"}, "invalid argument '0' for -c"},
	    {{"-c", "12x", "tcp"}, "invalid argument '12x' for -c"},
	    {{"-c", "-3", "tcp"}, "for -c"},
	    {{"-d", "soon", "tcp"}, "invalid argument 'soon' for -d"},
	    {{"-d", "0", "tcp"}, "for -d"},
	    {{"-o", "xml", "tcp"}, "text, json or csv"},
	    {{"--hook", "kprobe", "tcp"}, "xdp or tc"},
	    {{"--emit", "bc", "tcp"}, "ir, asm, obj or ast"},
	    {{"--metrics", "9100", "tcp"}, "invalid argument '9100' for --metrics"},
	    {{"--metrics", "host:99999", "tcp"}, "for --metrics"},
	    {{"--rate", "0", "tcp"}, "invalid argument '0' for --rate"},
	    {{"--rate", "5/m", "tcp"}, "for --rate"},
	    {{"--linger", "5", "tcp"}, "--linger keeps --metrics serving"},
	    {{"--bogus", "tcp"}, "unknown option --bogus"},
	    {{"-z", "tcp"}, "unknown option -z"},
	    {{"-i"}, "needs an argument"},
	    {{"-i", "eth0"}, "no query given"},
	    {{"-f", "a.hq", "tcp"}, "either a QUERY or -f SCRIPT"},
	    {{"-r", "a.pcap", "-i", "eth0", "tcp"}, "cannot be combined with -i"},
	    {{"--emit", "ir", "--check", "tcp"}, "cannot be combined"},
	    {{"-l", "tcp", "udp"}, "at most one LAYER"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hq_options o;
		struct hq_diag d;
		const char *const *a = bad[i].argv;
		int rc = parse(&o, &d, a[0], a[1], a[2], a[3], a[4], NULL);
		if (rc != 2 || !diag_says(&d, bad[i].msg)) {
			failures++;
			fprintf(stderr, "case %zu (%s): rc %d, message '%s'\n", i, bad[i].msg, rc,
			        d.n ? d.entries[0].msg : "(none)");
		}
		checks++;
		options_free(&o);
	}
}

static void test_usage_text(void)
{
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	options_usage(f);
	fclose(f);
	static const char *const opts[] = {"--interface", "--hook",        "--read",   "--write",
	                                   "--count",     "--duration",    "--output", "--emit",
	                                   "--check",     "--list-fields", "--help",   "--version"};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		CHECK(strstr(buf, opts[i]) != NULL);
}

int main(void)
{
	test_query_and_values();
	test_modes();
	test_errors();
	test_usage_text();
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
