/* pcapw.h — `-w FILE`: the matching packets, as a pcap file (Ethernet,
 * nanosecond time stamps) with libpcap's pcap_dump.
 *
 * Live, the packet bytes come from the ring-buffer records (the first
 * `snaplen` bytes, see driver.c for the default); a packet that matches
 * several queries produces several records and is written once. Offline,
 * the original frame from the capture is written as it was. */
#ifndef HQ_PCAPW_H
#define HQ_PCAPW_H

#include <stdint.h>

#include "../codegen/plan.h"

struct hq_pcapw;

struct hq_pcapw *pcapw_open(const char *path, unsigned snaplen, struct hq_diag *d);
/* One packet: caplen bytes of data, wire length len. */
void pcapw_write(struct hq_pcapw *w, uint64_t ts_ns, const uint8_t *data, uint32_t caplen,
                 uint32_t len);
/* One ring-buffer record's packet (bytes after the record's slots). */
void pcapw_record(struct hq_pcapw *w, const struct hq_rec_hdr *h, const uint8_t *pkt,
                  uint64_t ts_ns);
struct hq_anon;
/* --anonymize: every packet written from now on has its addresses rewritten. */
void pcapw_set_anon(struct hq_pcapw *w, const struct hq_anon *a);
uint64_t pcapw_count(const struct hq_pcapw *w);
/* Flush to disk; -1 with an error in d if writing failed. */
int pcapw_flush(struct hq_pcapw *w, struct hq_diag *d);
int pcapw_close(struct hq_pcapw *w, struct hq_diag *d);

#endif
