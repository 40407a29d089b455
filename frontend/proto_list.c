/* proto_list.c — owns `hdrq --list-fields [LAYER]`: the field table of the
 * loaded registry, per layer, in aligned columns (full name, type,
 * Wireshark names, meaning).
 */
#include "proto_int.h"

#include <string.h>

struct list_widths {
	int name, type, ws;
};

/* "uint", "str[64]", ... as shown in the type column */
static void type_text(const struct hq_field *fl, char *buf, size_t n)
{
	if (fl->type == HQ_T_STR)
		snprintf(buf, n, "str[%u]", fl->size);
	else
		snprintf(buf, n, "%s", proto_type_name(fl->type));
}

static void ws_text(const struct hq_field *fl, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = 0;
	for (char **w = fl->ws_names; w && *w && used + 1 < n; w++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? "," : "", *w);
	if (!used)
		snprintf(buf, n, "-");
}

static void measure(const struct hq_layer *l, struct list_widths *w)
{
	char buf[256];
	for (int i = 0; i < l->n_fields; i++) {
		const struct hq_field *fl = l->fields[i];
		int len = (int)strlen(fl->full);
		if (len > w->name)
			w->name = len;
		type_text(fl, buf, sizeof(buf));
		if ((int)strlen(buf) > w->type)
			w->type = (int)strlen(buf);
		ws_text(fl, buf, sizeof(buf));
		if ((int)strlen(buf) > w->ws)
			w->ws = (int)strlen(buf);
	}
}

static void list_layer(const struct hq_layer *l, const struct list_widths *w, FILE *f)
{
	char type[64], ws[256];
	fprintf(f, "%s — %s%s\n", l->name, l->help, l->pseudo ? " (pseudo layer)" : "");
	for (int i = 0; i < l->n_fields; i++) {
		const struct hq_field *fl = l->fields[i];
		type_text(fl, type, sizeof(type));
		ws_text(fl, ws, sizeof(ws));
		fprintf(f, "  %-*s  %-*s  %-*s  %s\n", w->name, fl->full, w->type, type, w->ws, ws,
		        fl->help);
	}
}

void proto_list_fields(const struct hq_proto *p, const char *layer, FILE *f)
{
	struct list_widths w = {(int)strlen("FIELD"), (int)strlen("TYPE"),
	                        (int)strlen("WIRESHARK")};
	bool any = false;
	for (int i = 0; i < p->n_layers; i++)
		if (!layer || strcmp(p->layers[i]->name, layer) == 0) {
			measure(p->layers[i], &w);
			any = true;
		}
	if (!any)
		return;
	fprintf(f, "  %-*s  %-*s  %-*s  %s\n", w.name, "FIELD", w.type, "TYPE", w.ws, "WIRESHARK",
	        "MEANING");
	for (int i = 0; i < p->n_layers; i++) {
		if (layer && strcmp(p->layers[i]->name, layer) != 0)
			continue;
		fputc('\n', f);
		list_layer(p->layers[i], &w, f);
	}
}
