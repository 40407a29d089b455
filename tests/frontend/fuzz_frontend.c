/* fuzz_frontend.c — libFuzzer target: arbitrary bytes through the whole
 * frontend (parse_script, sema_check against the real stdlib, the AST dump)
 * must never crash, leak, or trip a sanitizer. Built with HQ_FUZZ=ON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

static struct hq_proto *fuzz_proto;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hq_diag d;
	const char *dir = proto_stdlib_dir();

	(void)argc;
	(void)argv;
	diag_init(&d);
	fuzz_proto = dir ? proto_load_dir(dir, &d) : NULL;
	if (!fuzz_proto) {
		fprintf(stderr, "fuzz_frontend: cannot load the stdlib (set HDRQ_STDLIB)\n");
		diag_print(&d, stderr, false);
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct hq_source src = {"fuzz", text};
	struct hq_script *s;
	struct hq_diag d;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	diag_init(&d);
	s = parse_script(&src, &d);
	if (s) {
		char *dump;

		sema_check(s, fuzz_proto, &d);
		dump = ast_dump_script(s);
		free(dump);
		ast_script_free(s);
	}
	/* the printer must cope with every span the frontend produces */
	{
		FILE *null = fopen("/dev/null", "w");
		if (null) {
			diag_print(&d, null, false);
			fclose(null);
		}
	}
	free(text);
	return 0;
}
