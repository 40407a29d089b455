/* anon.c — Crypto-PAn prefix-preserving address anonymisation (anon.h):
 * the key file, the per-bit construction over 32 or 128 bits with
 * OpenSSL's AES-128, slot values, and the rewriting of captured frames with
 * their checksums. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon.h"
#include "lazylib.h"

struct hq_anon {
	const struct hq_crypto *c; /* libcrypto, loaded on first use */
	EVP_CIPHER_CTX *ctx;       /* AES-128-ECB, no padding: one block per call */
	uint8_t pad[16];
};

/* --- the key ------------------------------------------------------------- */

static void anon_aes(const struct hq_anon *a, const uint8_t in[16], uint8_t out[16])
{
	int n = 0;
	a->c->EVP_EncryptUpdate(a->ctx, out, &n, in, 16);
}

struct hq_anon *anon_new(const uint8_t key[HQ_ANON_KEY_LEN])
{
	struct hq_diag why; /* anon_load reports a missing libcrypto itself */
	diag_init(&why);
	const struct hq_crypto *c = lazy_crypto(&why);
	struct hq_anon *a = c ? calloc(1, sizeof(*a)) : NULL;
	if (!a)
		return NULL;
	a->c = c;
	a->ctx = c->EVP_CIPHER_CTX_new();
	if (!a->ctx || c->EVP_EncryptInit_ex(a->ctx, c->EVP_aes_128_ecb(), NULL, key, NULL) != 1) {
		anon_free(a);
		return NULL;
	}
	c->EVP_CIPHER_CTX_set_padding(a->ctx, 0);
	anon_aes(a, key + 16, a->pad);
	return a;
}

void anon_free(struct hq_anon *a)
{
	if (!a)
		return;
	a->c->EVP_CIPHER_CTX_free(a->ctx);
	memset(a, 0, sizeof(*a));
	free(a);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 64 hex digits, blanks anywhere; -1 if the text is anything else. */
static int anon_parse_hex(const uint8_t *s, size_t n, uint8_t key[HQ_ANON_KEY_LEN])
{
	int digits = 0;
	for (size_t i = 0; i < n; i++) {
		if (isspace(s[i]))
			continue;
		int v = hexval(s[i]);
		if (v < 0 || digits >= 2 * HQ_ANON_KEY_LEN)
			return -1;
		key[digits / 2] = (uint8_t)(digits % 2 ? key[digits / 2] | v : v << 4);
		digits++;
	}
	return digits == 2 * HQ_ANON_KEY_LEN ? 0 : -1;
}

struct hq_anon *anon_load(const char *path, struct hq_diag *d)
{
	uint8_t buf[256], key[HQ_ANON_KEY_LEN];
	FILE *f = fopen(path, "rb");
	if (!f) {
		diag_errorf(d, "cannot read the anonymisation key %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == HQ_ANON_KEY_LEN)
		memcpy(key, buf, sizeof(key));
	else if (anon_parse_hex(buf, n, key)) {
		diag_errorf(d,
		            "anonymisation key %s: expected 32 raw bytes or 64 hexadecimal digits "
		            "(e.g. head -c32 /dev/urandom > %s), found %zu bytes",
		            path, path, n);
		return NULL;
	}
	struct hq_anon *a = lazy_crypto(d) ? anon_new(key) : NULL;
	memset(key, 0, sizeof(key));
	memset(buf, 0, sizeof(buf));
	if (!a && !diag_has_errors(d))
		diag_errorf(d, "cannot set up AES-128 (OpenSSL) for --anonymize");
	return a;
}

/* --- the construction ----------------------------------------------------- */

/* Crypto-PAn over the first nbits (32 or 128) of addr. */
static void anon_bits(const struct hq_anon *a, uint8_t *addr, int nbits)
{
	uint8_t orig[16], in[16], out[16], flip[16] = {0};
	memcpy(orig, addr, (size_t)nbits / 8);
	for (int pos = 0; pos < nbits; pos++) {
		int byte = pos / 8, bit = pos % 8;
		memcpy(in, a->pad, sizeof(in));
		memcpy(in, orig, (size_t)byte);
		if (bit) {
			uint8_t mask = (uint8_t)(0xff << (8 - bit));
			in[byte] = (uint8_t)((orig[byte] & mask) | (a->pad[byte] & ~mask));
		}
		anon_aes(a, in, out);
		flip[byte] |= (uint8_t)((out[0] >> 7) << (7 - bit));
	}
	for (int i = 0; i < nbits / 8; i++)
		addr[i] = orig[i] ^ flip[i];
}

void anon_ip4(const struct hq_anon *a, uint8_t addr[4])
{
	anon_bits(a, addr, 32);
}

void anon_ip6(const struct hq_anon *a, uint8_t addr[16])
{
	anon_bits(a, addr, 128);
}

void anon_slot(const struct hq_anon *a, const struct hq_slot *s, uint8_t *bytes)
{
	uint32_t fam;
	switch (s->type) {
	case HQ_T_IP4:
		anon_ip4(a, bytes);
		break;
	case HQ_T_IP6:
		anon_ip6(a, bytes);
		break;
	case HQ_T_INET:
		memcpy(&fam, bytes, sizeof(fam));
		if (fam == 4)
			anon_ip4(a, bytes + 4);
		else if (fam == 6)
			anon_ip6(a, bytes + 4);
		break;
	default:
		break;
	}
}

/* --- frames ----------------------------------------------------------------- */

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') over the changed 16-bit words. */
static void csum_adjust(uint8_t *csum, const uint8_t *old, const uint8_t *new, size_t len, bool udp)
{
	unsigned hc = be16(csum);
	if (udp && !hc)
		return; /* UDP over IPv4 without a checksum */
	uint32_t s = ~hc & 0xffff;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (~be16(old + i) & 0xffff) + be16(new + i);
	unsigned r = ~fold(s) & 0xffff;
	put16(csum, udp && !r ? 0xffff : r);
}

static void ip4_header_csum(uint8_t *ip, unsigned hlen)
{
	uint32_t s = 0;
	put16(ip + 10, 0);
	for (unsigned i = 0; i + 1 < hlen; i += 2)
		s += be16(ip + i);
	put16(ip + 10, ~fold(s) & 0xffff);
}

/* The TCP/UDP/ICMPv6 checksum field at l4, if captured (end: frame end). */
static uint8_t *l4_csum(unsigned proto, uint8_t *l4, const uint8_t *end, bool *udp)
{
	unsigned off = proto == 6 ? 16 : proto == 17 ? 6 : proto == 58 ? 2 : 0;
	*udp = proto == 17;
	if (!off || l4 + off + 2 > end)
		return NULL;
	return l4 + off;
}

static void anon_frame_ip4(const struct hq_anon *a, uint8_t *ip, const uint8_t *end)
{
	if (ip + 20 > end || ip[0] >> 4 != 4)
		return;
	unsigned hlen = (ip[0] & 15u) * 4;
	uint8_t old[8];
	memcpy(old, ip + 12, 8);
	anon_ip4(a, ip + 12);
	anon_ip4(a, ip + 16);
	if (hlen >= 20 && ip + hlen <= end)
		ip4_header_csum(ip, hlen);
	bool udp, first_frag = (be16(ip + 6) & 0x1fff) == 0;
	uint8_t *c = first_frag && hlen >= 20 ? l4_csum(ip[9], ip + hlen, end, &udp) : NULL;
	if (c && ip[9] != 58)
		csum_adjust(c, old, ip + 12, 8, udp);
}

static void anon_frame_ip6(const struct hq_anon *a, uint8_t *ip, const uint8_t *end)
{
	if (ip + 40 > end || ip[0] >> 4 != 6)
		return;
	uint8_t old[32];
	memcpy(old, ip + 8, 32);
	anon_ip6(a, ip + 8);
	anon_ip6(a, ip + 24);
	bool udp;
	uint8_t *c = l4_csum(ip[6], ip + 40, end, &udp);
	if (c)
		csum_adjust(c, old, ip + 8, 32, false);
}

static void anon_frame_arp(const struct hq_anon *a, uint8_t *arp, const uint8_t *end)
{
	/* Ethernet/IPv4 ARP only: hlen 6, plen 4 */
	if (arp + 28 > end || be16(arp + 2) != 0x0800 || arp[4] != 6 || arp[5] != 4)
		return;
	anon_ip4(a, arp + 14);
	anon_ip4(a, arp + 24);
}

void anon_packet(const struct hq_anon *a, uint8_t *pkt, uint32_t caplen)
{
	const uint8_t *end = pkt + caplen;
	uint8_t *p = pkt + 12;
	if (caplen < 14)
		return;
	unsigned type = be16(p);
	for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); tags++) {
		p += 4;
		if (p + 2 > end)
			return;
		type = be16(p);
	}
	p += 2;
	if (type == 0x0800)
		anon_frame_ip4(a, p, end);
	else if (type == 0x86dd)
		anon_frame_ip6(a, p, end);
	else if (type == 0x0806)
		anon_frame_arp(a, p, end);
}
