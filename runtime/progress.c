/* progress.c — the offline progress bar on stderr (progress.h). */
#include <sys/stat.h>
#include <unistd.h>

#include "progress.h"
#include "sys.h"

#define PROGRESS_DELAY_NS 500000000ull
#define PROGRESS_EVERY_NS 200000000ull
#define PROGRESS_WIDTH    30

void progress_start(struct hq_progress *p, FILE *cap, FILE *err, bool force)
{
	struct stat st;
	*p = (struct hq_progress){0};
	if (!cap || (!force && !isatty(fileno(err))))
		return;
	if (fstat(fileno(cap), &st) || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return;
	p->on = true;
	p->cap = cap;
	p->err = err;
	p->size = (long)st.st_size;
	p->start_ns = p->last_ns = sys_mono_ns();
}

void progress_update(struct hq_progress *p, uint64_t frames)
{
	if (!p->on || (frames & 255))
		return;
	uint64_t now = sys_mono_ns();
	if (now - p->start_ns < PROGRESS_DELAY_NS || now - p->last_ns < PROGRESS_EVERY_NS)
		return;
	p->last_ns = now;
	long pos = ftell(p->cap);
	int pct = pos > 0 ? (int)(100.0 * (double)pos / (double)p->size) : 0;
	if (pct > 100)
		pct = 100;
	int fill = pct * PROGRESS_WIDTH / 100;
	char bar[PROGRESS_WIDTH + 1];
	for (int i = 0; i < PROGRESS_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[PROGRESS_WIDTH] = '\0';
	fprintf(p->err, "\rhdrq: [%s] %3d%% %llu frames", bar, pct, (unsigned long long)frames);
	fflush(p->err);
	p->drawn = true;
}

void progress_end(struct hq_progress *p)
{
	if (p->on && p->drawn) {
		fputs("\r\033[K", p->err);
		fflush(p->err);
	}
	p->on = false;
}
