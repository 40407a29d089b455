/* pcapw.c — writes matching packets to a pcap file (-w) through libpcap,
 * with their addresses anonymised under --anonymize (anon_packet). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon.h"
#include "lazylib.h"
#include "pcapw.h"

#define PCAPW_RECENT 16

/* What identifies one packet across the records of several queries: the
 * program stamps every record of one run with the same values. */
struct pkt_id {
	uint64_t ts_ns, num;
	uint32_t ifindex, wire_len, dir;
};

struct hq_pcapw {
	const struct hq_pcap *P; /* libpcap, loaded on first use */
	pcap_t *dead;
	pcap_dumper_t *dump;
	char *path;
	uint64_t written;
	struct pkt_id recent[PCAPW_RECENT];
	unsigned next;
	const struct hq_anon *anon; /* --anonymize: rewrite a copy of each packet */
	uint8_t *copy;
	uint32_t copy_size;
};

void pcapw_set_anon(struct hq_pcapw *w, const struct hq_anon *a)
{
	w->anon = a;
}

/* A writable copy of the packet, anonymised; NULL when out of memory. */
static const uint8_t *pcapw_anon(struct hq_pcapw *w, const uint8_t *data, uint32_t caplen)
{
	if (caplen > w->copy_size) {
		uint8_t *n = realloc(w->copy, caplen);
		if (!n)
			return NULL;
		w->copy = n;
		w->copy_size = caplen;
	}
	memcpy(w->copy, data, caplen);
	anon_packet(w->anon, w->copy, caplen);
	return w->copy;
}

struct hq_pcapw *pcapw_open(const char *path, unsigned snaplen, struct hq_diag *d)
{
	const struct hq_pcap *P = lazy_pcap(d);
	if (!P)
		return NULL;
	struct hq_pcapw *w = calloc(1, sizeof(*w));
	if (!w) {
		diag_errorf(d, "out of memory");
		return NULL;
	}
	w->P = P;
	w->path = strdup(path);
	w->dead = P->pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)snaplen,
	                                                  PCAP_TSTAMP_PRECISION_NANO);
	if (w->dead)
		w->dump = P->pcap_dump_open(w->dead, path);
	if (!w->dump) {
		diag_errorf(d, "cannot write %s: %s", path,
		            w->dead ? P->pcap_geterr(w->dead) : "out of memory");
		if (w->dead)
			P->pcap_close(w->dead);
		free(w->path);
		free(w);
		return NULL;
	}
	return w;
}

void pcapw_write(struct hq_pcapw *w, uint64_t ts_ns, const uint8_t *data, uint32_t caplen,
                 uint32_t len)
{
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u); /* nanosecond file */
	h.caplen = caplen;
	h.len = len < caplen ? caplen : len;
	if (w->anon && !(data = pcapw_anon(w, data, caplen)))
		return; /* never write an address in the clear */
	w->P->pcap_dump((u_char *)w->dump, &h, data);
	w->written++;
}

static bool seen_recently(struct hq_pcapw *w, const struct pkt_id *id)
{
	for (unsigned i = 0; i < PCAPW_RECENT; i++)
		if (!memcmp(&w->recent[i], id, sizeof(*id)))
			return true;
	w->recent[w->next++ % PCAPW_RECENT] = *id;
	return false;
}

void pcapw_record(struct hq_pcapw *w, const struct hq_rec_hdr *h, const uint8_t *pkt,
                  uint64_t ts_ns)
{
	struct pkt_id id;
	memset(&id, 0, sizeof(id));
	id.ts_ns = h->ts_ns;
	id.num = h->num;
	id.ifindex = h->ifindex;
	id.wire_len = h->wire_len;
	id.dir = h->dir;
	if (!h->cap_len || seen_recently(w, &id))
		return;
	pcapw_write(w, ts_ns, pkt, h->cap_len, h->wire_len);
}

uint64_t pcapw_count(const struct hq_pcapw *w)
{
	return w->written;
}

int pcapw_flush(struct hq_pcapw *w, struct hq_diag *d)
{
	if (w->P->pcap_dump_flush(w->dump) == 0 && !ferror(w->P->pcap_dump_file(w->dump)))
		return 0;
	return diag_errorf(d, "cannot write %s: %s", w->path, strerror(errno ? errno : EIO));
}

int pcapw_close(struct hq_pcapw *w, struct hq_diag *d)
{
	if (!w)
		return 0;
	int rc = pcapw_flush(w, d);
	w->P->pcap_dump_close(w->dump);
	w->P->pcap_close(w->dead);
	free(w->copy);
	free(w->path);
	free(w);
	return rc;
}
