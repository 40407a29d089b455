/* value.c — rendering of one slot value (plan.h encoding) as text.
 *
 * Owns value_format()/value_present() from output.h and the small shared
 * renderers behind them: addresses (inet_ntop, so IPv6 comes out in RFC 5952
 * form), MACs, tcpdump-style TCP flags, `fmt hex` integers and escaped
 * strings, plus the UTF-8 check the JSON and CSV writers use.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

#include "output.h"
#include "output_priv.h"

/* An append-only view of the caller's buffer; output is cut, never overrun. */
struct value_buf {
	char *p;
	size_t len, n;
};

static void value_putc(struct value_buf *b, char c)
{
	if (b->n + 1 < b->len)
		b->p[b->n++] = c;
	if (b->len)
		b->p[b->n] = '\0';
}

static void value_puts(struct value_buf *b, const char *s)
{
	while (*s)
		value_putc(b, *s++);
}

static __attribute__((format(printf, 2, 3))) void value_printf(struct value_buf *b, const char *fmt,
                                                               ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	value_puts(b, tmp);
}

bool value_present(const uint8_t *present_words, int bit)
{
	uint64_t w;
	if (bit < 0)
		return true;
	memcpy(&w, present_words + 8 * (bit / 64), sizeof(w));
	return (w >> (bit % 64)) & 1;
}

int value_utf8_len(const uint8_t *s, size_t n)
{
	uint32_t cp;
	int len;
	if (!n)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if ((size_t)len > n)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t value_str_len(const struct hq_slot *slot, const uint8_t *bytes)
{
	return strnlen((const char *)bytes, slot->size);
}

/* tcpdump's order and letters: F S R P . U E W. */
int value_tcpflags(char *buf, size_t len, uint64_t flags)
{
	static const char letters[8] = {'F', 'S', 'R', 'P', '.', 'U', 'E', 'W'};
	struct value_buf b = {buf, len, 0};
	value_putc(&b, '[');
	if (!(flags & 0xff))
		value_puts(&b, "none");
	for (int i = 0; i < 8; i++)
		if (flags & (1u << i))
			value_putc(&b, letters[i]);
	value_putc(&b, ']');
	return (int)b.n;
}

static bool value_fmt_is(const struct hq_slot *slot, const char *fmt)
{
	return slot->field && slot->field->fmt && !strcmp(slot->field->fmt, fmt);
}

/* `fmt hex`: 0x and as many hex digits as the field has bits (eth.type
 * 0x0800), like tshark. */
static void value_hex(struct value_buf *b, const struct hq_slot *slot, uint64_t v)
{
	unsigned nbits = slot->field->nbits;
	int digits = nbits ? (int)((nbits + 3) / 4) : 1;
	value_printf(b, "0x%0*llx", digits, (unsigned long long)v);
}

static void value_uint(struct value_buf *b, const struct hq_slot *slot, const uint8_t *bytes,
                       bool human)
{
	uint64_t v;
	memcpy(&v, bytes, sizeof(v));
	if (human && value_fmt_is(slot, "hex"))
		value_hex(b, slot, v);
	else if (human && value_fmt_is(slot, "tcpflags"))
		b->n += value_tcpflags(b->p + b->n, b->len - b->n, v);
	else
		value_printf(b, "%llu", (unsigned long long)v);
}

static void value_bool(struct value_buf *b, const uint8_t *bytes, bool human)
{
	uint64_t v;
	memcpy(&v, bytes, sizeof(v));
	if (human)
		value_puts(b, v ? "true" : "false");
	else
		value_putc(b, v ? '1' : '0');
}

static void value_addr(struct value_buf *b, int family, const uint8_t *bytes)
{
	char tmp[INET6_ADDRSTRLEN];
	if (inet_ntop(family, bytes, tmp, sizeof(tmp)))
		value_puts(b, tmp);
	else
		value_putc(b, '?');
}

static void value_inet(struct value_buf *b, const uint8_t *bytes)
{
	uint32_t family;
	memcpy(&family, bytes, sizeof(family));
	if (family == 4)
		value_addr(b, AF_INET, bytes + 4);
	else if (family == 6)
		value_addr(b, AF_INET6, bytes + 4);
	else
		value_putc(b, '?');
}

static void value_mac(struct value_buf *b, const uint8_t *m)
{
	value_printf(b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Text form of a string: printable ASCII and valid UTF-8 as they are,
 * backslash escapes for the rest (\n \r \t \\ \" \xNN). */
static void value_str_human(struct value_buf *b, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		int u = value_utf8_len(s + i, n - i);
		uint8_t c = s[i];
		if (u > 1) {
			for (int k = 0; k < u; k++)
				value_putc(b, (char)s[i + k]);
			i += u;
			continue;
		}
		if (c == '\\' || c == '"') {
			value_putc(b, '\\');
			value_putc(b, (char)c);
		} else if (c == '\n') {
			value_puts(b, "\\n");
		} else if (c == '\r') {
			value_puts(b, "\\r");
		} else if (c == '\t') {
			value_puts(b, "\\t");
		} else if (c < 0x20 || c >= 0x7f) {
			value_printf(b, "\\x%02x", c);
		} else {
			value_putc(b, (char)c);
		}
		i++;
	}
}

static void value_str(struct value_buf *b, const struct hq_slot *slot, const uint8_t *bytes,
                      bool human)
{
	size_t n = value_str_len(slot, bytes);
	if (human) {
		value_str_human(b, bytes, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		value_putc(b, (char)bytes[i]);
}

int value_format(char *buf, size_t len, const struct hq_slot *slot, const uint8_t *bytes,
                 bool human)
{
	struct value_buf b = {buf, len, 0};
	if (len)
		buf[0] = '\0';
	switch (slot->type) {
	case HQ_T_UINT:
		value_uint(&b, slot, bytes, human);
		break;
	case HQ_T_BOOL:
		value_bool(&b, bytes, human);
		break;
	case HQ_T_IP4:
		value_addr(&b, AF_INET, bytes);
		break;
	case HQ_T_IP6:
		value_addr(&b, AF_INET6, bytes);
		break;
	case HQ_T_INET:
		value_inet(&b, bytes);
		break;
	case HQ_T_MAC:
		value_mac(&b, bytes);
		break;
	case HQ_T_STR:
		value_str(&b, slot, bytes, human);
		break;
	case HQ_T_NONE:
		break;
	}
	return (int)b.n;
}
