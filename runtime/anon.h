/* anon.h — `--anonymize KEYFILE`: prefix-preserving anonymisation of IPv4
 * and IPv6 addresses (Crypto-PAn, Xu et al. 2002) with AES-128 from OpenSSL.
 *
 * The key is 32 bytes: the first 16 are the AES key, the second 16 are
 * encrypted once to make the pad. Bit i of the anonymised address is bit i
 * of the original XOR the first bit of AES(first i bits of the original,
 * then the pad's bits). IPv6 uses the same construction over 128 bits, so
 * two addresses sharing exactly n leading bits share exactly n leading bits
 * after anonymisation, in both families. The mapping is a bijection: groups
 * never merge.
 *
 * KEYFILE holds the 32 bytes raw, or as 64 hexadecimal digits (white space
 * ignored). Everything that leaves hdrq goes through here: log fields and
 * group keys of type ip4/ip6/inet (anon_slot), and the packets written by
 * -w (anon_packet).
 */
#ifndef HQ_ANON_H
#define HQ_ANON_H

#include <stdint.h>

#include "../codegen/plan.h"
#include "../frontend/diag.h"

#define HQ_ANON_KEY_LEN 32

struct hq_anon;

/* Read KEYFILE; NULL with an error in d. */
struct hq_anon *anon_load(const char *path, struct hq_diag *d);
/* From 32 key bytes (tests). NULL if OpenSSL has no AES-128. */
struct hq_anon *anon_new(const uint8_t key[HQ_ANON_KEY_LEN]);
void anon_free(struct hq_anon *a);

/* In place. */
void anon_ip4(const struct hq_anon *a, uint8_t addr[4]);
void anon_ip6(const struct hq_anon *a, uint8_t addr[16]);
/* A slot value in plan.h encoding: IP4, IP6 and INET are rewritten, other
 * types left alone. */
void anon_slot(const struct hq_anon *a, const struct hq_slot *s, uint8_t *bytes);
/* A captured Ethernet frame (caplen bytes): IPv4/IPv6 source and
 * destination behind up to two VLAN tags, ARP sender/target protocol
 * addresses. The IPv4 header checksum is recomputed and TCP/UDP/ICMPv6
 * checksums are adjusted for the new addresses (RFC 1624) when the field
 * was captured; addresses inside payloads (ICMP errors, DNS answers) are
 * not rewritten. */
void anon_packet(const struct hq_anon *a, uint8_t *pkt, uint32_t caplen);

#endif
