/* test_anon.c — runtime/anon.c: Crypto-PAn known answers (the sample trace
 * of the reference distribution for IPv4; the 128-bit extension as other
 * implementations compute it for IPv6), properties over thousands of random
 * addresses of both families (exact prefix preservation, no collisions, no
 * fixed points in practice), checksums of rewritten frames, and the key
 * file forms.
 *
 *   test_anon              run the tests
 *   test_anon map KEYFILE  anonymise the addresses read from stdin, one a
 *                          line, to stdout (for the end-to-end test)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anon.h"

static int failures;

#define CHECK(c, ...)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static const uint8_t sample_key[32] = {21,  34, 23,  141, 51, 164, 207, 128, 19,  10,  91,
                                       22,  73, 144, 125, 16, 216, 152, 143, 131, 121, 121,
                                       101, 39, 98,  87,  76, 45,  42,  132, 34,  2};

static const char *const kat4[][2] = {
    {"128.11.68.132", "135.242.180.132"},   {"129.118.74.4", "134.136.186.123"},
    {"130.132.252.244", "133.68.164.234"},  {"141.223.7.43", "141.167.8.160"},
    {"141.233.145.108", "141.129.237.235"}, {"152.163.225.39", "151.140.114.167"},
    {"156.29.3.236", "147.225.12.42"},      {"165.247.96.84", "162.9.99.234"},
    {"166.107.77.190", "160.132.178.185"},  {"192.102.249.13", "252.138.62.131"},
    {"192.215.32.125", "252.43.47.189"},    {"192.233.80.103", "252.25.108.8"},
    {"192.41.57.43", "252.222.221.184"},    {"193.150.244.223", "253.169.52.216"},
    {"195.205.63.100", "255.186.223.5"},    {"24.0.250.221", "100.15.198.226"},
    {"4.3.88.225", "124.60.155.63"},        {"64.14.118.196", "0.255.183.58"},
    {"10.185.25.118", "117.161.29.118"},
};

static const char *const kat6[][2] = {
    {"::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"},
    {"::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"},
    {"::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"},
    {"2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"},
    {"2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"},
};

static void test_kat(const struct hq_anon *a)
{
	for (size_t i = 0; i < sizeof(kat4) / sizeof(kat4[0]); i++) {
		uint8_t x[4], want[4];
		inet_pton(AF_INET, kat4[i][0], x);
		inet_pton(AF_INET, kat4[i][1], want);
		anon_ip4(a, x);
		char got[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, x, got, sizeof(got));
		CHECK(!memcmp(x, want, 4), "%s -> %s, want %s", kat4[i][0], got, kat4[i][1]);
	}
	for (size_t i = 0; i < sizeof(kat6) / sizeof(kat6[0]); i++) {
		uint8_t x[16], want[16];
		inet_pton(AF_INET6, kat6[i][0], x);
		inet_pton(AF_INET6, kat6[i][1], want);
		anon_ip6(a, x);
		char got[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, x, got, sizeof(got));
		CHECK(!memcmp(x, want, 16), "%s -> %s, want %s", kat6[i][0], got, kat6[i][1]);
	}
}

/* Leading bits two addresses share. */
static int common_prefix(const uint8_t *x, const uint8_t *y, int nbytes)
{
	for (int i = 0; i < nbytes; i++) {
		uint8_t d = x[i] ^ y[i];
		if (d)
			return i * 8 + __builtin_clz((unsigned)d) - 24;
	}
	return nbytes * 8;
}

static void rand_addr(uint8_t *x, int nbytes)
{
	for (int i = 0; i < nbytes; i++)
		x[i] = (uint8_t)(random() >> 7);
}

/* y := x with its first `keep` bits, then random bits, and bit `keep`
 * flipped (so exactly `keep` bits are shared), unless keep == all. */
static void derive(const uint8_t *x, uint8_t *y, int nbytes, int keep)
{
	rand_addr(y, nbytes);
	for (int b = 0; b < nbytes * 8; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));
		bool xb = x[b / 8] & m;
		bool set = b < keep ? xb : b == keep ? !xb : (y[b / 8] & m);
		y[b / 8] = (uint8_t)(set ? y[b / 8] | m : y[b / 8] & ~m);
	}
}

static void anon_n(const struct hq_anon *a, uint8_t *x, int nbytes)
{
	if (nbytes == 4)
		anon_ip4(a, x);
	else
		anon_ip6(a, x);
}

static void test_prefixes(const struct hq_anon *a, int nbytes, int rounds)
{
	int same = 0;
	for (int i = 0; i < rounds; i++) {
		uint8_t x[16], y[16], ax[16], ay[16];
		rand_addr(x, nbytes);
		int keep = (int)(random() % (nbytes * 8 + 1));
		derive(x, y, nbytes, keep);
		CHECK(common_prefix(x, y, nbytes) == keep, "derive() is wrong");
		memcpy(ax, x, 16);
		memcpy(ay, y, 16);
		anon_n(a, ax, nbytes);
		anon_n(a, ay, nbytes);
		int n = common_prefix(ax, ay, nbytes);
		CHECK(n == keep, "family %d: %d shared bits became %d", nbytes == 4 ? 4 : 6, keep,
		      n);
		same += !memcmp(ax, x, (size_t)nbytes);
	}
	/* a fixed point is possible (probability 2^-32 / 2^-128 each) */
	CHECK(same <= 1, "%d addresses mapped to themselves", same);
}

static int cmp4(const void *x, const void *y)
{
	return memcmp(x, y, 4);
}

/* 20000 distinct IPv4 addresses from one /16 (dense, shares prefixes) stay
 * distinct. */
static void test_bijection(const struct hq_anon *a)
{
	enum { N = 20000 };
	uint8_t(*v)[4] = calloc(N, 4);
	for (int i = 0; i < N; i++) {
		uint8_t x[4] = {198, 51, (uint8_t)(i >> 8), (uint8_t)i};
		anon_ip4(a, x);
		memcpy(v[i], x, 4);
		CHECK(x[0] != 198 || x[1] != 51, "a 198.51/16 address kept its first 16 bits");
	}
	qsort(v, N, 4, cmp4);
	for (int i = 1; i < N; i++)
		CHECK(memcmp(v[i - 1], v[i], 4), "two addresses collided");
	free(v);
}

static unsigned sum16(const uint8_t *p, size_t n, unsigned s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (unsigned)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (unsigned)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* An Ethernet/IPv4/UDP frame keeps valid IP and UDP checksums. */
static void test_frame(const struct hq_anon *a)
{
	uint8_t f[14 + 20 + 8 + 4] = {0};
	f[12] = 0x08;
	uint8_t *ip = f + 14, *udp = ip + 20;
	ip[0] = 0x45;
	ip[3] = 32;
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, "192.0.2.1", ip + 12);
	inet_pton(AF_INET, "198.51.100.7", ip + 16);
	unsigned s = ~sum16(ip, 20, 0) & 0xffff;
	ip[10] = (uint8_t)(s >> 8), ip[11] = (uint8_t)s;
	udp[0] = 0x12, udp[1] = 0x34, udp[3] = 53, udp[5] = 12;
	memcpy(udp + 8, "abcd", 4);
	uint8_t ph[12];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0, ph[9] = 17, ph[10] = 0, ph[11] = 12;
	s = ~sum16(udp, 12, sum16(ph, 12, 0)) & 0xffff;
	udp[6] = (uint8_t)(s >> 8), udp[7] = (uint8_t)s;

	anon_packet(a, f, sizeof(f));
	uint8_t orig[4];
	inet_pton(AF_INET, "192.0.2.1", orig);
	CHECK(memcmp(ip + 12, orig, 4), "source address not rewritten");
	CHECK(sum16(ip, 20, 0) == 0xffff, "IPv4 header checksum wrong after rewriting");
	memcpy(ph, ip + 12, 8);
	CHECK(sum16(udp, 12, sum16(ph, 12, 0)) == 0xffff, "UDP checksum wrong after rewriting");
}

static void test_keyfile(void)
{
	char path[] = "/tmp/hq_anon_keyXXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	for (int i = 0; i < 32; i++)
		fprintf(f, "%02x%s", sample_key[i], i == 15 ? "\n" : "");
	fputc('\n', f);
	fclose(f);
	struct hq_diag d;
	diag_init(&d);
	struct hq_anon *a = anon_load(path, &d);
	CHECK(a, "hex key file refused");
	if (a) {
		uint8_t x[4] = {128, 11, 68, 132};
		anon_ip4(a, x);
		CHECK(x[0] == 135 && x[1] == 242, "hex key file read wrongly");
		anon_free(a);
	}
	f = fopen(path, "w");
	fputs("not a key\n", f);
	fclose(f);
	CHECK(!anon_load(path, &d) && diag_has_errors(&d), "a bad key file was accepted");
	unlink(path);
}

static int map_stdin(const char *keyfile)
{
	struct hq_diag d;
	diag_init(&d);
	struct hq_anon *a = anon_load(keyfile, &d);
	if (!a) {
		diag_print(&d, stderr, false);
		return 1;
	}
	char line[256], out[INET6_ADDRSTRLEN];
	uint8_t x[16];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		int fam = strchr(line, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(fam, line, x) != 1)
			return fprintf(stderr, "not an address: %s\n", line), 1;
		anon_n(a, x, fam == AF_INET ? 4 : 16);
		printf("%s\n", inet_ntop(fam, x, out, sizeof(out)));
	}
	anon_free(a);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "map"))
		return map_stdin(argv[2]);
	struct hq_anon *a = anon_new(sample_key);
	if (!a)
		return fprintf(stderr, "no AES-128\n"), 1;
	srandom(42);
	test_kat(a);
	test_prefixes(a, 4, 5000);
	test_prefixes(a, 16, 3000);
	test_bijection(a);
	test_frame(a);
	test_keyfile();
	anon_free(a);
	if (failures)
		return fprintf(stderr, "test_anon: %d failures\n", failures), 1;
	puts("test_anon: ok");
	return 0;
}
