/* cg_walk_app.c — application hints from the first payload bytes: the
 * first question of a DNS message (RFC 1035 §4.1.2) and an HTTP/1.x request
 * line, Host header or status line. Cleartext only, bounded.
 *
 * The byte loops keep their state in volatile scratch memory (map value
 * bytes the verifier does not track), so every iteration looks the same to
 * the verifier and is checked once; indexes are clamped before each use.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cg_walk.h"

/* the byte at base + clamp(in), or fail the walk; returns i64 */
static LLVMValueRef cg_byte_at(struct cg *cg, LLVMValueRef base, LLVMValueRef in, unsigned max,
                               LLVMBasicBlockRef fail)
{
	LLVMValueRef p = cg_gep(cg, base, cg_clampc(cg, in, max));
	LLVMBasicBlockRef ok = cg_block(cg, "byte");
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, p, 1), ok, fail);
	LLVMPositionBuilderAtEnd(cg->b, ok);
	return cg_load_be(cg, p, 1);
}

/* Clear a string output before a walk writes it: its bytes after the NUL
 * would otherwise be another packet's (the scratch value is per CPU), and
 * a group key or a distinct set, which copies all of them, would tell
 * apart values that print the same. */
static void cg_str_clear(struct cg *cg, struct cg_slotvar *out)
{
	cg_memset0(cg, out->str, CG_STR_ROOM(out->size));
}

/* The string output of `size` bytes at str: s, NUL-padded over its room
 * (cg_str_clear's), in word stores. */
static void cg_str_const(struct cg *cg, LLVMValueRef str, unsigned size, const char *s)
{
	unsigned n = strlen(s);
	for (unsigned i = 0; i < CG_STR_ROOM(size); i += 8) {
		uint64_t w = 0;
		if (i < n)
			memcpy(&w, s + i, n - i < 8 ? n - i : 8); /* memory order, as the bytes */
		LLVMValueRef at = cg_gepc(cg, str, i);
		LLVMSetAlignment(LLVMBuildStore(cg->b, cg_const64(cg, w), at), 8);
	}
}

static void cg_put_char(struct cg *cg, struct cg_slotvar *out, LLVMValueRef o, LLVMValueRef c)
{
	LLVMValueRef p = cg_gep(cg, out->str, cg_clampc(cg, o, out->size - 1));
	LLVMBuildStore(cg->b, LLVMBuildTrunc(cg->b, c, cg->i8, ""), p);
}

/* ---- DNS: labels of the first question, written as a.b.c -------------- */

struct cg_dns {
	LLVMValueRef q; /* ptr: first byte of QNAME */
	struct cg_slotvar *out;
};

static void cg_dns_byte(struct cg *cg, void *arg)
{
	struct cg_dns *d = arg;
	LLVMBasicBlockRef fail = cg_block(cg, "dns_fail"), next = cg_block(cg, "dns_next");
	LLVMValueRef in = cg_vload(cg, W_IN), o = cg_vload(cg, W_OUT), rem = cg_vload(cg, W_REM);
	LLVMValueRef c = cg_byte_at(cg, d->q, in, 255, fail);
	cg_vstore(cg, W_IN, LLVMBuildAdd(cg->b, in, cg_const64(cg, 1), ""));
	LLVMValueRef full =
	    LLVMBuildICmp(cg->b, LLVMIntUGE, o, cg_const64(cg, d->out->size - 1), "");
	LLVMBasicBlockRef lenb = cg_block(cg, "dns_len"), chr = cg_block(cg, "dns_chr");
	LLVMBuildCondBr(cg->b, cg_eqc(cg, rem, 0), lenb, chr);
	/* inside a label: copy one byte, escaped as tshark shows it — C escapes
	 * for 0x07..0x0d, three octal digits for other controls and 0x7f;
	 * bytes from 0x80 stay as they are */
	LLVMPositionBuilderAtEnd(cg->b, chr);
	LLVMValueRef cesc =
	    LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, c, cg_const64(cg, 7), ""),
	                 LLVMBuildICmp(cg->b, LLVMIntULE, c, cg_const64(cg, 13), ""), "");
	LLVMValueRef esc =
	    LLVMBuildOr(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, c, cg_const64(cg, 0x20), ""),
	                cg_eqc(cg, c, 0x7f), "");
	LLVMValueRef need = LLVMBuildSelect(cg->b, esc, cg_const64(cg, 4), cg_const64(cg, 1), "");
	need = LLVMBuildSelect(cg->b, cesc, cg_const64(cg, 2), need, "");
	LLVMValueRef room = LLVMBuildICmp(cg->b, LLVMIntULE, LLVMBuildAdd(cg->b, o, need, ""),
	                                  cg_const64(cg, d->out->size - 1), "");
	LLVMBasicBlockRef put = cg_block(cg, "dns_put"), oct = cg_block(cg, "dns_oct"),
	                  plain = cg_block(cg, "dns_plain");
	LLVMBuildCondBr(cg->b, room, put, fail);
	LLVMPositionBuilderAtEnd(cg->b, put);
	cg_vstore(cg, W_OUT, LLVMBuildAdd(cg->b, o, need, ""));
	cg_vstore(cg, W_REM, LLVMBuildSub(cg->b, rem, cg_const64(cg, 1), ""));
	LLVMBuildCondBr(cg->b, LLVMBuildOr(cg->b, esc, cesc, ""), oct, plain);
	LLVMPositionBuilderAtEnd(cg->b, plain);
	cg_put_char(cg, d->out, o, c);
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, oct);
	cg_put_char(cg, d->out, o, cg_const64(cg, '\\'));
	/* "abtnvfr" indexed by c - 7, packed in one word */
	uint64_t letters = 0;
	memcpy(&letters, "abtnvfr", 7);
	LLVMValueRef sh = LLVMBuildShl(cg->b, LLVMBuildSub(cg->b, c, cg_const64(cg, 7), ""),
	                               cg_const64(cg, 3), "");
	LLVMValueRef letter =
	    LLVMBuildAnd(cg->b,
	                 LLVMBuildLShr(cg->b, cg_const64(cg, letters),
	                               LLVMBuildAnd(cg->b, sh, cg_const64(cg, 63), ""), ""),
	                 cg_const64(cg, 0xff), "");
	LLVMBasicBlockRef cb = cg_block(cg, "dns_cesc"), ob = cg_block(cg, "dns_octal");
	LLVMBuildCondBr(cg->b, cesc, cb, ob);
	LLVMPositionBuilderAtEnd(cg->b, cb);
	cg_put_char(cg, d->out, LLVMBuildAdd(cg->b, o, cg_const64(cg, 1), ""), letter);
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, ob);
	for (int k = 0; k < 3; k++) {
		LLVMValueRef dig =
		    LLVMBuildAnd(cg->b, LLVMBuildLShr(cg->b, c, cg_const64(cg, 6 - 3 * k), ""),
		                 cg_const64(cg, 7), "");
		cg_put_char(cg, d->out, LLVMBuildAdd(cg->b, o, cg_const64(cg, k + 1), ""),
		            LLVMBuildAdd(cg->b, dig, cg_const64(cg, '0'), ""));
	}
	LLVMBuildBr(cg->b, next);
	/* a length byte: 0 ends the name, 0xc0 is a pointer (not followed) */
	LLVMPositionBuilderAtEnd(cg->b, lenb);
	LLVMBasicBlockRef end = cg_block(cg, "dns_end"), label = cg_block(cg, "dns_label");
	LLVMBasicBlockRef lab2 = cg_block(cg, "dns_label2");
	LLVMBuildCondBr(cg->b, cg_eqc(cg, c, 0), end, label);
	LLVMPositionBuilderAtEnd(cg->b, end);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_DONE));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, label);
	LLVMValueRef ptr = LLVMBuildICmp(cg->b, LLVMIntUGT, c, cg_const64(cg, 63), "");
	LLVMBuildCondBr(cg->b, LLVMBuildOr(cg->b, ptr, full, ""), fail, lab2);
	LLVMPositionBuilderAtEnd(cg->b, lab2);
	cg_vstore(cg, W_REM, c);
	LLVMBasicBlockRef dot = cg_block(cg, "dns_dot");
	LLVMBuildCondBr(cg->b, cg_eqc(cg, o, 0), next, dot);
	LLVMPositionBuilderAtEnd(cg->b, dot);
	cg_put_char(cg, d->out, o, cg_const64(cg, '.'));
	cg_vstore(cg, W_OUT, LLVMBuildAdd(cg->b, o, cg_const64(cg, 1), ""));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, fail);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_FAIL));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}

/* i1: the capture's snap length cut the frame inside an IP datagram, so
 * an application layer's bytes are not all there; tshark does not decode
 * one then (a cut in the Ethernet trailer leaves the datagram whole) */
static LLVMValueRef cg_payload_cut(struct cg *cg)
{
	return LLVMBuildNot(cg->b, cg_l3_captured(cg), "");
}

static LLVMValueRef cg_dns_len(struct cg *cg, const struct hq_layer *l);

/* DNS needs its 12-byte header inside the UDP payload: the one udp.len
 * declares, cut to the IP payload where that ends first (tshark calls a
 * longer udp.len bogus and hands on what the IP payload holds) */
static void cg_dns_needs_udp_room(struct cg *cg, const struct hq_layer *l, struct cg_layer *st)
{
	const struct hq_field *ulen = proto_field(cg->proto, "udp.len");
	if (!ulen || !cg->layers[ulen->layer->index].parsed)
		return;
	struct cg_val v = cg_field(cg, ulen);
	LLVMValueRef room =
	    LLVMBuildICmp(cg->b, LLVMIntUGE, cg_dns_len(cg, l), cg_const64(cg, l->size), "");
	LLVMValueRef ok = LLVMBuildAnd(cg->b, LLVMBuildNot(cg->b, cg_layer_ok(cg, ulen->layer), ""),
	                               cg_i1(cg, 1), "");
	ok = LLVMBuildOr(cg->b, ok, LLVMBuildAnd(cg->b, v.present, room, ""), "");
	ok = LLVMBuildAnd(cg->b, ok, LLVMBuildNot(cg->b, cg_payload_cut(cg), ""), "");
	ok = LLVMBuildAnd(cg->b, ok, cg_l3_complete(cg), "");
	cg_set_flag(cg, st->ok, ok);
	cg_set_flag(cg, st->kids_ok, LLVMBuildAnd(cg->b, ok, cg_flag(cg, st->kids_ok), ""));
}

#define W_DLEN 5 /* walker slot: the DNS message's length (cg_dns_len) */

/* i64: bytes of the UDP datagram, as tshark bounds it: what udp.len
 * declares (where present), or less when the IP payload (ip_len) ends
 * first */
static LLVMValueRef cg_udp_bound(struct cg *cg, struct cg_val udp_len, LLVMValueRef ip_len)
{
	LLVMValueRef u =
	    LLVMBuildSelect(cg->b, udp_len.present, udp_len.a, cg_const64(cg, 0xffff), "");
	return LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, u, ip_len, ""), u, ip_len,
	                       "");
}

/* i64: bytes of the DNS message: the UDP datagram's (cg_udp_bound) after
 * its header */
static LLVMValueRef cg_dns_len(struct cg *cg, const struct hq_layer *l)
{
	const struct hq_field *ulen = proto_field(cg->proto, "udp.len");
	LLVMValueRef ok, len = cg_l3_remaining(cg, l, &ok);
	len = LLVMBuildSelect(cg->b, ok, len, cg_const64(cg, 0xffff), "");
	if (ulen && cg->layers[ulen->layer->index].parsed)
		len = cg_udp_bound(cg, cg_field(cg, ulen), len);
	LLVMValueRef hdr = cg_const64(cg, 8);
	return LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, len, hdr, ""),
	                       LLVMBuildSub(cg->b, len, hdr, ""), cg_const64(cg, 0), "");
}

/* The name's wire form, label by label (cg_dns_label): a name of 127
 * one-byte labels fills the 255 bytes a shown name may take, and W_IN stays
 * below DNS_LABELS * 64, inside DNS_SKIP_MASK. */
#define DNS_LABELS    128
#define DNS_SKIP_MASK 0x1fff
/* tshark shows a name whose dotted form exceeds 253 characters (wire form
 * over 255 bytes) as "<Name too long>"; hdrq leaves dns.qname absent */
#define DNS_WIRE_MAX 255

/* one label of the first question's name: its length byte, then a jump
 * over it; 0 ends the name, above 63 is a compression pointer or an
 * extended label (not followed). W_IN: the wire bytes walked. */
static void cg_dns_label(struct cg *cg, void *arg)
{
	struct cg_dns *d = arg;
	LLVMBasicBlockRef fail = cg_block(cg, "dnsl_fail"), next = cg_block(cg, "dnsl_next");
	LLVMValueRef in = cg_vload(cg, W_IN);
	LLVMValueRef c = cg_byte_at(cg, d->q, in, DNS_SKIP_MASK, fail);
	cg_vstore(cg, W_IN,
	          LLVMBuildAdd(cg->b, in, LLVMBuildAdd(cg->b, c, cg_const64(cg, 1), ""), ""));
	LLVMBasicBlockRef end = cg_block(cg, "dnsl_end"), more = cg_block(cg, "dnsl_more");
	LLVMBuildCondBr(cg->b, cg_eqc(cg, c, 0), end, more);
	LLVMPositionBuilderAtEnd(cg->b, end);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_DONE));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, more);
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGT, c, cg_const64(cg, 63), ""), fail,
	                next);
	LLVMPositionBuilderAtEnd(cg->b, fail);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_FAIL));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}

/* dns.qname: the name of wire bytes, written out byte by byte with
 * tshark's escapes (cg_dns_byte); absent when the text does not fit */
static void cg_dns_name(struct cg *cg, struct cg_dns *d, LLVMValueRef wire)
{
	LLVMBasicBlockRef shown =
	    cg_if(cg, LLVMBuildICmp(cg->b, LLVMIntULE, wire, cg_const64(cg, DNS_WIRE_MAX), ""),
	          "dns_shown");
	cg_str_clear(cg, d->out);
	cg_walk_init(cg);
	cg_loop(cg, DNS_WIRE_MAX, cg_dns_byte, d);
	LLVMBasicBlockRef have = cg_if(cg, cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE), "dns_named");
	/* NUL-terminate; a root name reads "<Root>" as tshark shows it */
	cg_put_char(cg, d->out, cg_vload(cg, W_OUT), cg_const64(cg, 0));
	cg_var_set(cg, d->out, cg_i1(cg, 1), NULL);
	cg_endif(cg, have);
	cg_endif(cg, shown);
}

/* the first question: its name's length from the labels, then type and
 * class; the name's text only where something reads it */
void cg_walk_dns(struct cg *cg, const struct hq_layer *l, struct cg_layer *st, struct cg_hdr h)
{
	cg_dns_needs_udp_room(cg, l, st);
	struct cg_slotvar *name = cg_var(cg, l, "qname");
	if (name && name->size <= 1)
		name = NULL;
	if (!name && !cg_var(cg, l, "qtype") && !cg_var(cg, l, "qclass"))
		return;
	LLVMValueRef start = h.p;
	LLVMValueRef qd = cg_load_be(cg, cg_gepc(cg, start, 4), 2);
	LLVMBasicBlockRef cont =
	    cg_if(cg, LLVMBuildICmp(cg->b, LLVMIntUGT, qd, cg_const64(cg, 0), ""), "dns_q");
	struct cg_dns d = {.q = cg_gepc(cg, start, 12), .out = name};
	/* computed before the loop: code after it runs once per way out */
	cg_vstore(cg, W_DLEN, cg_dns_len(cg, l));
	cg_walk_init(cg);
	cg_loop(cg, DNS_LABELS, cg_dns_label, &d);
	LLVMBasicBlockRef have = cg_if(cg, cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE), "dns_end");
	LLVMValueRef in = cg_clampc(cg, cg_vload(cg, W_IN), DNS_SKIP_MASK);
	LLVMValueRef tp = cg_gep(cg, d.q, in);
	/* tshark shows the question only when all of it (name, type, class)
	 * lies inside the message */
	LLVMValueRef qend = LLVMBuildAdd(cg->b, in, cg_const64(cg, 12 + 4), "");
	LLVMValueRef inside = LLVMBuildICmp(cg->b, LLVMIntULE, qend, cg_vload(cg, W_DLEN), "");
	LLVMBasicBlockRef tcont =
	    cg_if(cg, LLVMBuildAnd(cg->b, inside, cg_in_bounds(cg, tp, 4), ""), "dns_qtype");
	cg_set(cg, l, "qtype", cg_load_be(cg, tp, 2));
	cg_set(cg, l, "qclass", cg_load_be(cg, cg_gepc(cg, tp, 2), 2));
	if (name)
		cg_dns_name(cg, &d, in);
	cg_endif(cg, tcont);
	cg_endif(cg, have);
	cg_endif(cg, cont);
}

/* ---- DNS in the fast walk (cg_walker.fast) ----------------------------- */

static LLVMValueRef cg_add(struct cg *cg, LLVMValueRef a, uint64_t b)
{
	return LLVMBuildAdd(cg->b, a, cg_const64(cg, b), "");
}

/* labels of the first question's name the fast walk follows, the root's
 * included; a longer name goes to the full walk */
#define DNS_FAST_LABELS 8

/* qtype and qclass after the first question's name at q (cg_walk_dns):
 * present where the name ends within DNS_FAST_LABELS labels, no
 * compression pointer, and the question lies inside the message of dlen
 * bytes and the frame */
static void cg_fast_dns_question(struct cg *cg, const struct hq_layer *l, LLVMValueRef q,
                                 LLVMValueRef qd, LLVMValueRef dlen)
{
	LLVMBasicBlockRef named = cg_block(cg, "fdns_named"), none = cg_block(cg, "fdns_none"),
	                  join = cg_block(cg, "fdns_q"), label = cg_block(cg, "fdns_label");
	LLVMBasicBlockRef from[DNS_FAST_LABELS];
	LLVMValueRef at[DNS_FAST_LABELS], in = cg_const64(cg, 0);
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGT, qd, cg_const64(cg, 0), ""), label,
	                none);
	for (int i = 0; i < DNS_FAST_LABELS; i++) {
		LLVMPositionBuilderAtEnd(cg->b, label);
		LLVMValueRef p = cg_gep(cg, q, in);
		cg_fast_need(cg, cg_in_bounds(cg, p, 1));
		LLVMValueRef c = cg_load_be(cg, p, 1);
		at[i] = LLVMBuildAdd(cg->b, in, cg_add(cg, c, 1), "");
		from[i] = LLVMGetInsertBlock(cg->b);
		LLVMBasicBlockRef more = cg_block(cg, "fdns_more");
		label = cg_block(cg, "fdns_label");
		LLVMBuildCondBr(cg->b, cg_eqc(cg, c, 0), named, more);
		LLVMPositionBuilderAtEnd(cg->b, more);
		LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGT, c, cg_const64(cg, 63), ""),
		                none, label);
		in = at[i];
	}
	LLVMPositionBuilderAtEnd(cg->b, label);
	cg_fast_need(cg, cg_i1(cg, 0)); /* a longer name */
	LLVMBuildBr(cg->b, none);
	LLVMPositionBuilderAtEnd(cg->b, named);
	LLVMValueRef end = cg_phi(cg, "fdns_in", at, from, DNS_FAST_LABELS);
	LLVMValueRef tp = cg_gep(cg, q, end);
	LLVMValueRef inside = LLVMBuildICmp(cg->b, LLVMIntULE, cg_add(cg, end, 12 + 4), dlen, "");
	LLVMBasicBlockRef have = cg_block(cg, "fdns_qtype");
	LLVMBuildCondBr(cg->b, LLVMBuildAnd(cg->b, inside, cg_in_bounds(cg, tp, 4), ""), have,
	                none);
	LLVMPositionBuilderAtEnd(cg->b, have);
	LLVMValueRef type = cg_load_be(cg, tp, 2), class = cg_load_be(cg, cg_gepc(cg, tp, 2), 2);
	LLVMBuildBr(cg->b, join);
	LLVMPositionBuilderAtEnd(cg->b, none);
	LLVMBuildBr(cg->b, join);
	LLVMPositionBuilderAtEnd(cg->b, join);
	LLVMBasicBlockRef bb[2] = {have, none};
	LLVMValueRef pv[2] = {cg_i1(cg, 1), cg_i1(cg, 0)};
	LLVMValueRef present = cg_phi(cg, "fdns_has", pv, bb, 2);
	const char *keys[2] = {"qtype", "qclass"};
	LLVMValueRef vals[2] = {type, class};
	for (int k = 0; k < 2; k++) {
		LLVMValueRef vv[2] = {vals[k], cg_const64(cg, 0)};
		LLVMValueRef v = cg_phi(cg, keys[k], vv, bb, 2);
		cg_fast_set(cg, l, keys[k], present, v, NULL, NULL);
	}
}

/* The fast walk's DNS walk, its header at p on UDP: the layer is there
 * where cg_dns_needs_udp_room has it (the UDP payload, cut to the IP
 * payload, has room for the DNS header; the IP payload is all in the
 * frame, so in the packet and not cut by a snap length), else the full
 * walk decides; then the first question's type and class where queries
 * read them. */
LLVMValueRef cg_fast_dns(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	const struct hq_field *ulen = proto_field(cg->proto, "udp.len");
	LLVMValueRef udp = ulen ? cg_fast_hdr(cg, ulen->layer) : NULL;
	struct cg_val ip = {.present = cg_i1(cg, 0), .a = cg_const64(cg, 0)};
	if (!udp || !cg_fast_get_under(cg, ulen->layer, "payload_len", &ip)) {
		cg_fast_need(cg, cg_i1(cg, 0)); /* not on UDP: the full walk */
		return NULL;
	}
	struct cg_val u = cg_field(cg, ulen);
	cg_fast_need(cg, LLVMBuildAnd(cg->b, u.present, ip.present, ""));
	LLVMValueRef len = cg_udp_bound(cg, u, ip.a);
	LLVMValueRef ok = LLVMBuildICmp(cg->b, LLVMIntUGE, len, cg_const64(cg, 8 + l->size), "");
	cg_fast_need(cg, LLVMBuildAnd(cg->b, ok, cg_in_bounds(cg, cg_gep(cg, udp, ip.a), 0), ""));
	if (!cg_field_used(cg, l, "qtype") && !cg_field_used(cg, l, "qclass"))
		return NULL;
	LLVMValueRef dlen = LLVMBuildSub(cg->b, len, cg_const64(cg, 8), ""); /* cg_dns_len's */
	cg_fast_dns_question(cg, l, cg_gepc(cg, p, 12), cg_load_be(cg, cg_gepc(cg, p, 4), 2), dlen);
	return NULL;
}

/* ---- HTTP: request method/path, Host header, response status ---------- */

#define HTTP_HOST_SCAN 255 /* a mask bound (see cg_clampc) */
/* the request line's version is found within these bytes of the target
 * (then of the spaces after it); the loops cost the verifier a pass each */
#define HTTP_TARGET_SCAN 127
#define HTTP_SPACE_SCAN  7
#define W_MLEN           4 /* walker slot: length of the request method */
#define W_HEND           5 /* walker slot: where the message ends (the TCP payload's end) */

static const char *const http_methods[] = {"GET",     "POST",  "PUT",     "DELETE", "HEAD",
                                           "OPTIONS", "PATCH", "CONNECT", "TRACE",  NULL};

/* do the payload bytes at off spell s? Letters of s match either case when
 * fold is set (header names are case-insensitive) */
static LLVMValueRef cg_bytes_match(struct cg *cg, LLVMValueRef off, const char *s, bool fold)
{
	unsigned n = strlen(s);
	LLVMValueRef p = cg_payload_ptr(cg, off);
	LLVMValueRef tmp = cg_alloca(cg, cg->i1, "beq");
	LLVMBuildStore(cg->b, cg_i1(cg, 0), tmp);
	LLVMBasicBlockRef cont = cg_if(cg, cg_in_bounds(cg, p, n), "beq_in");
	LLVMValueRef all = cg_i1(cg, 1);
	/* word-sized compares in memory order: few branches per call */
	for (unsigned i = 0; i < n;) {
		unsigned w = n - i >= 8 ? 8 : n - i >= 4 ? 4 : n - i >= 2 ? 2 : 1;
		uint64_t want = 0, mask = 0;
		memcpy(&want, s + i, w);
		for (unsigned j = 0; fold && j < w; j++)
			if (isalpha((unsigned char)s[i + j]))
				mask |= (uint64_t)0x20 << (8 * j);
		LLVMTypeRef t = LLVMIntTypeInContext(cg->ctx, 8 * w);
		LLVMValueRef got = cg_load_raw(cg, cg_gepc(cg, p, i), t);
		if (mask)
			got = LLVMBuildOr(cg->b, got, LLVMConstInt(t, mask, 0), "");
		all = LLVMBuildAnd(
		    cg->b, all,
		    LLVMBuildICmp(cg->b, LLVMIntEQ, got, LLVMConstInt(t, want | mask, 0), ""), "");
		i += w;
	}
	LLVMBuildStore(cg->b, all, tmp);
	cg_endif(cg, cont);
	return LLVMBuildLoad2(cg->b, cg->i1, tmp, "");
}

static LLVMValueRef cg_bytes_eq(struct cg *cg, LLVMValueRef off, const char *s)
{
	return cg_bytes_match(cg, off, s, false);
}

/* i1: the n bytes at off are in the message (W_HEND), not past the TCP
 * payload in an Ethernet trailer, which tshark does not hand to HTTP */
static LLVMValueRef cg_in_message(struct cg *cg, LLVMValueRef off, uint64_t n)
{
	return LLVMBuildICmp(cg->b, LLVMIntULE, cg_add(cg, off, n), cg_vload(cg, W_HEND), "");
}

/* i1: the message at base starts with a status line's "HTTP/1." */
static LLVMValueRef cg_http_status_line(struct cg *cg, LLVMValueRef base)
{
	return LLVMBuildAnd(cg->b, cg_bytes_eq(cg, base, "HTTP/1."), cg_in_message(cg, base, 7),
	                    "");
}

struct cg_copy {
	LLVMValueRef base; /* i64 offset of the token's first byte */
	struct cg_slotvar *out;
	uint8_t stop1, stop2, stop3; /* bytes that end the token */
};

/* copy bytes from base + W_IN until stop1/stop2 (done) or out of room (fail) */
static void cg_copy_byte(struct cg *cg, void *arg)
{
	struct cg_copy *k = arg;
	LLVMBasicBlockRef fail = cg_block(cg, "cp_fail"), next = cg_block(cg, "cp_next");
	LLVMValueRef in = cg_clampc(cg, cg_vload(cg, W_IN), 1023), o = cg_vload(cg, W_OUT);
	LLVMValueRef at = LLVMBuildAdd(cg->b, k->base, in, "");
	LLVMBasicBlockRef end = cg_block(cg, "cp_end"), more = cg_block(cg, "cp_more");
	/* the end of the message ends a token as a line end does */
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, at, cg_vload(cg, W_HEND), ""), end,
	                more);
	LLVMPositionBuilderAtEnd(cg->b, more);
	LLVMValueRef p = cg_payload_ptr(cg, at);
	LLVMBasicBlockRef have = cg_block(cg, "cp_byte");
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, p, 1), have, fail);
	LLVMPositionBuilderAtEnd(cg->b, have);
	LLVMValueRef c = cg_load_be(cg, p, 1);
	LLVMValueRef stop =
	    LLVMBuildOr(cg->b, cg_eqc(cg, c, k->stop1), cg_eqc(cg, c, k->stop2), "");
	stop = LLVMBuildOr(cg->b, stop, cg_eqc(cg, c, k->stop3), "");
	stop = LLVMBuildOr(cg->b, stop, cg_eqc(cg, c, 0), ""); /* tshark's strings end at NUL */
	LLVMBasicBlockRef put = cg_block(cg, "cp_put");
	LLVMBuildCondBr(cg->b, stop, end, put);
	LLVMPositionBuilderAtEnd(cg->b, end);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_DONE));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, put);
	LLVMValueRef full =
	    LLVMBuildICmp(cg->b, LLVMIntUGE, o, cg_const64(cg, k->out->size - 1), "");
	LLVMBasicBlockRef room = cg_block(cg, "cp_room");
	LLVMBuildCondBr(cg->b, full, fail, room);
	LLVMPositionBuilderAtEnd(cg->b, room);
	cg_put_char(cg, k->out, o, c);
	cg_vstore(cg, W_OUT, cg_add(cg, o, 1));
	cg_vstore(cg, W_IN, cg_add(cg, in, 1));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, fail);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_FAIL));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}

/* copy the token at offset base into out; out is present if it ended well */
static void cg_copy_token(struct cg *cg, LLVMValueRef base, struct cg_slotvar *out, uint8_t s1,
                          uint8_t s2)
{
	if (!out || out->size < 2)
		return;
	/* a line ends a token too, as in tshark ("GET /\n" has the target "/") */
	struct cg_copy k = {.base = base, .out = out, .stop1 = s1, .stop2 = s2, .stop3 = '\n'};
	cg_str_clear(cg, out);
	cg_walk_init(cg);
	cg_loop(cg, out->size, cg_copy_byte, &k);
	/* an empty token is no value (tshark shows none either) */
	LLVMValueRef got =
	    LLVMBuildAnd(cg->b, cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE),
	                 LLVMBuildNot(cg->b, cg_eqc(cg, cg_vload(cg, W_OUT), 0), ""), "");
	LLVMBasicBlockRef cont = cg_if(cg, got, "tok");
	cg_put_char(cg, out, cg_vload(cg, W_OUT), cg_const64(cg, 0));
	cg_var_set(cg, out, cg_i1(cg, 1), NULL);
	cg_endif(cg, cont);
}

/* The request target at a: its bytes up to a space, CR, LF or NUL, or to
 * the message's end b, into out (cleared first, as cg_str_clear); returns
 * its length, 0 where there is none: empty, running past the frame, or
 * longer than the field (*arg bytes with its NUL) holds. cg_copy_token's
 * rules, in registers, in a subprogram of its own (cg_sub.c): the verifier
 * follows the loop once, not once per state the fast walk reaches it in. */
static void cg_http_target_body(struct cg *cg, LLVMValueRef a, LLVMValueRef b, LLVMValueRef out,
                                const void *arg)
{
	unsigned size = *(const unsigned *)arg;
	cg_memset0(cg, out, CG_STR_ROOM(size));
	struct cg_rloop k;
	cg_rloop_begin(cg, &k, (LLVMValueRef[]){cg_const64(cg, 0)}, 1, "tgt");
	LLVMBasicBlockRef more = cg_block(cg, "tgt_more"), have = cg_block(cg, "tgt_byte"),
	                  room = cg_block(cg, "tgt_room"), put = cg_block(cg, "tgt_put"),
	                  done = cg_block(cg, "tgt_done"), fail = cg_block(cg, "tgt_fail");
	LLVMValueRef i = k.v[0];
	LLVMValueRef at = LLVMBuildAdd(cg->b, a, i, "");
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, at, b, ""), done, more);
	LLVMPositionBuilderAtEnd(cg->b, more);
	LLVMValueRef p = cg_payload_ptr(cg, at);
	LLVMBuildCondBr(cg->b, cg_in_bounds(cg, p, 1), have, fail);
	LLVMPositionBuilderAtEnd(cg->b, have);
	LLVMValueRef c = cg_load_be(cg, p, 1), stop = cg_eqc(cg, c, 0);
	static const uint8_t stops[] = {' ', '\r', '\n'};
	for (size_t k = 0; k < sizeof(stops); k++)
		stop = LLVMBuildOr(cg->b, stop, cg_eqc(cg, c, stops[k]), "");
	LLVMBuildCondBr(cg->b, stop, done, room);
	LLVMPositionBuilderAtEnd(cg->b, room);
	LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGE, i, cg_const64(cg, size - 1), ""),
	                fail, put);
	LLVMPositionBuilderAtEnd(cg->b, put);
	LLVMBuildStore(cg->b, LLVMBuildTrunc(cg->b, c, cg->i8, ""), cg_gep(cg, out, i));
	cg_rloop_next(cg, &k, (LLVMValueRef[]){cg_add(cg, i, 1)});
	LLVMPositionBuilderAtEnd(cg->b, done);
	LLVMBuildRet(cg->b, LLVMBuildTrunc(cg->b, i, cg->i32, ""));
	LLVMPositionBuilderAtEnd(cg->b, fail);
	LLVMBuildRet(cg->b, cg_const32(cg, 0));
}

/* i1: the request target after the method (of length mlen) at base, in
 * the message that ends at end, is there, copied into out; looked for
 * where when holds (NULL: a request line is known to be there) */
static LLVMValueRef cg_http_target(struct cg *cg, const struct hq_layer *l, LLVMValueRef when,
                                   LLVMValueRef base, LLVMValueRef mlen, LLVMValueRef end,
                                   LLVMValueRef out)
{
	unsigned size = proto_layer_field(l, "path")->size;
	LLVMValueRef from = LLVMBuildAdd(cg->b, base, cg_add(cg, mlen, 1), "");
	LLVMValueRef n = cg_sub_call(cg, "hq_http_target", CG_STR_ROOM(size), cg_http_target_body,
	                             &size, when, from, end, out);
	return LLVMBuildNot(cg->b, cg_eqc(cg, n, 0), "");
}

/* find a "Host:" header line (any case, LF or CRLF line ends) in the head
 * of the message; W_IN ends just past the colon */
static void cg_host_step(struct cg *cg, void *arg)
{
	LLVMValueRef base = *(LLVMValueRef *)arg;
	LLVMValueRef in = cg_clampc(cg, cg_vload(cg, W_IN), 1023);
	LLVMValueRef at = LLVMBuildAdd(cg->b, base, in, "");
	/* laundered (cg_launder): the selects below would otherwise have the
	 * verifier keep every compare behind them exact, per iteration */
	LLVMValueRef hit = cg_launder(cg, cg_bytes_match(cg, at, "\nhost:", true));
	LLVMValueRef blank = cg_bytes_eq(cg, at, "\r\n\r\n");
	LLVMValueRef past = LLVMBuildNot(cg->b, cg_in_bounds(cg, cg_payload_ptr(cg, at), 8), "");
	LLVMValueRef end = cg_launder(cg, LLVMBuildOr(cg->b, blank, past, ""));
	cg_vstore(cg, W_IN,
	          LLVMBuildAdd(
	              cg->b, in,
	              LLVMBuildSelect(cg->b, hit, cg_const64(cg, 6), cg_const64(cg, 1), ""), ""));
	LLVMValueRef st = LLVMBuildSelect(
	    cg->b, hit, cg_const64(cg, ST_DONE),
	    LLVMBuildSelect(cg->b, end, cg_const64(cg, ST_FAIL), cg_const64(cg, ST_RUN), ""), "");
	cg_vstore(cg, W_STATE, st);
}

struct cg_skip {
	LLVMValueRef base; /* i64 offset the scan counts from */
	bool spaces;       /* skip spaces (else: skip up to the next space) */
};

/* Advance W_IN over a run: the request target (to the next space) or the
 * spaces after it. DONE on the byte that ends the run; FAIL on a line end,
 * a NUL or the end of the message, where the line has no version. */
static void cg_skip_step(struct cg *cg, void *arg)
{
	struct cg_skip *k = arg;
	LLVMValueRef in = cg_clampc(cg, cg_vload(cg, W_IN), 1023);
	LLVMValueRef at = LLVMBuildAdd(cg->b, k->base, in, "");
	LLVMValueRef p = cg_payload_ptr(cg, at);
	LLVMBasicBlockRef have = cg_block(cg, "skip_byte"), out = cg_block(cg, "skip_out"),
	                  next = cg_block(cg, "skip_next");
	LLVMValueRef inside =
	    LLVMBuildAnd(cg->b, cg_in_bounds(cg, p, 1),
	                 LLVMBuildICmp(cg->b, LLVMIntULT, at, cg_vload(cg, W_HEND), ""), "");
	LLVMBuildCondBr(cg->b, inside, have, out);
	LLVMPositionBuilderAtEnd(cg->b, have);
	LLVMValueRef c = cg_load_be(cg, p, 1);
	LLVMValueRef eol = LLVMBuildOr(cg->b, cg_eqc(cg, c, '\r'), cg_eqc(cg, c, '\n'), "");
	eol = LLVMBuildOr(cg->b, eol, cg_eqc(cg, c, 0), "");
	LLVMValueRef sp = cg_eqc(cg, c, ' ');
	LLVMValueRef ends = k->spaces ? LLVMBuildNot(cg->b, sp, "") : sp;
	LLVMValueRef st =
	    LLVMBuildSelect(cg->b, ends, cg_const64(cg, ST_DONE), cg_const64(cg, ST_RUN), "");
	cg_vstore(cg, W_STATE, LLVMBuildSelect(cg->b, eol, cg_const64(cg, ST_FAIL), st, ""));
	cg_vstore(cg, W_IN, LLVMBuildSelect(cg->b, ends, in, cg_add(cg, in, 1), ""));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, out);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_FAIL));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}

/* The request line's version: the rest of the line after the target and
 * its spaces ("GET / HTTP/1.1 x" has "HTTP/1.1 x", as in tshark). */
static void cg_http_req_version(struct cg *cg, const struct hq_layer *l, LLVMValueRef base)
{
	LLVMValueRef mlen = cg_clampc(cg, cg_vload(cg, W_MLEN), 15);
	struct cg_skip k = {.base = LLVMBuildAdd(cg->b, base, cg_add(cg, mlen, 1), "")};
	cg_walk_init(cg);
	cg_loop(cg, HTTP_TARGET_SCAN, cg_skip_step, &k);
	LLVMBasicBlockRef target = cg_if(cg, cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE), "ver");
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_RUN));
	k.spaces = true;
	cg_loop(cg, HTTP_SPACE_SCAN, cg_skip_step, &k);
	LLVMBasicBlockRef sp = cg_if(cg, cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE), "ver_sp");
	LLVMValueRef at = cg_clampc(cg, cg_vload(cg, W_IN), 1023);
	cg_copy_token(cg, LLVMBuildAdd(cg->b, k.base, at, ""), cg_var(cg, l, "version"), '\r',
	              '\r');
	cg_endif(cg, sp);
	cg_endif(cg, target);
}

static void cg_http_message(struct cg *cg, const struct hq_layer *l, struct cg_layer *st,
                            LLVMValueRef base);

static bool cg_wants(struct cg *cg, const struct hq_layer *l, const char *key)
{
	struct cg_slotvar *v = cg_var(cg, l, key);
	return v && cg_field_used(cg, l, key);
}

/* method token, request target and Host header */
static void cg_http_request(struct cg *cg, const struct hq_layer *l, LLVMValueRef base)
{
	if (cg_wants(cg, l, "method")) /* written by cg_http_method_len */
		cg_var_set(cg, cg_var(cg, l, "method"), cg_i1(cg, 1), NULL);
	if (cg_wants(cg, l, "path")) {
		struct cg_slotvar *path = cg_var(cg, l, "path");
		cg_var_set(cg, path,
		           cg_http_target(cg, l, NULL, base, cg_vload(cg, W_MLEN),
		                          cg_vload(cg, W_HEND), path->str),
		           NULL);
	}
	if (cg_wants(cg, l, "version"))
		cg_http_req_version(cg, l, base);
	if (!cg_wants(cg, l, "host"))
		return;
	cg_walk_init(cg);
	cg_loop(cg, HTTP_HOST_SCAN, cg_host_step, &base);
	LLVMBasicBlockRef cont = cg_if(cg, cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE), "host");
	/* the value starts after the spaces that follow the colon */
	struct cg_skip k = {.base = base, .spaces = true};
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_RUN));
	cg_loop(cg, HTTP_SPACE_SCAN, cg_skip_step, &k);
	LLVMBasicBlockRef val = cg_if(cg, cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE), "host_val");
	LLVMValueRef at = cg_clampc(cg, cg_vload(cg, W_IN), 1023);
	cg_copy_token(cg, LLVMBuildAdd(cg->b, base, at, ""), cg_var(cg, l, "host"), '\r', '\n');
	cg_endif(cg, val);
	cg_endif(cg, cont);
}

/* "HTTP/1.x NNN " */
static void cg_http_status(struct cg *cg, const struct hq_layer *l, LLVMValueRef base)
{
	LLVMValueRef p = cg_payload_ptr(cg, cg_add(cg, base, 9));
	LLVMValueRef in =
	    LLVMBuildAnd(cg->b, cg_in_bounds(cg, p, 3), cg_in_message(cg, base, 12), "");
	LLVMBasicBlockRef cont = cg_if(cg, in, "status");
	LLVMValueRef v = cg_const64(cg, 0), ok = cg_i1(cg, 1);
	for (int i = 0; i < 3; i++) {
		LLVMValueRef c = cg_load_be(cg, cg_gepc(cg, p, i), 1);
		LLVMValueRef d = LLVMBuildSub(cg->b, c, cg_const64(cg, '0'), "");
		ok = LLVMBuildAnd(cg->b, ok,
		                  LLVMBuildICmp(cg->b, LLVMIntULE, d, cg_const64(cg, 9), ""), "");
		v = LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, v, cg_const64(cg, 10), ""), d, "");
	}
	LLVMBasicBlockRef set = cg_if(cg, ok, "status_ok");
	cg_set(cg, l, "status", v);
	cg_endif(cg, set);
	cg_endif(cg, cont);
}

void cg_walk_http(struct cg *cg, const struct hq_layer *l, struct cg_layer *st, struct cg_hdr h)
{
	LLVMValueRef base = h.off;
	/* the message ends with the TCP payload (the carrier's walker measures
	 * it by the IP length): an Ethernet trailer is not part of it */
	LLVMValueRef have, plen = cg_get(cg, l->links[0].parent, "payload_len", &have);
	cg_vstore(cg, W_HEND,
	          LLVMBuildSelect(cg->b, have, LLVMBuildAdd(cg->b, base, plen, ""),
	                          cg_const64(cg, CG_PAYLOAD_MASK + 1), ""));
	LLVMBasicBlockRef whole = cg_block(cg, "http_whole"), cut = cg_block(cg, "http_cut");
	LLVMValueRef cut_short =
	    LLVMBuildOr(cg->b, cg_payload_cut(cg), LLVMBuildNot(cg->b, cg_l3_complete(cg), ""), "");
	LLVMBuildCondBr(cg->b, cg_launder(cg, cut_short), cut, whole);
	LLVMPositionBuilderAtEnd(cg->b, cut);
	cg_set_flag(cg, st->ok, cg_i1(cg, 0));
	cg_set_flag(cg, st->kids_ok, cg_i1(cg, 0));
	LLVMBasicBlockRef end = cg_block(cg, "http_end");
	LLVMBuildBr(cg->b, end);
	LLVMPositionBuilderAtEnd(cg->b, whole);
	cg_http_message(cg, l, st, base);
	LLVMBuildBr(cg->b, end);
	LLVMPositionBuilderAtEnd(cg->b, end);
}

/* The length of the request method at base, 0 if none of http_methods
 * followed by a space is there: one switch on the first four bytes (each
 * method's own: "GET ", "POST", "DELE", ...), then the rest of the one that
 * matched; its name written to the method output at out (NULL: not
 * read). */
static LLVMValueRef cg_http_method_len(struct cg *cg, const struct hq_layer *l, LLVMValueRef base,
                                       LLVMValueRef out)
{
	LLVMValueRef len = cg_alloca(cg, cg->i64, "mlen");
	LLVMBuildStore(cg->b, cg_const64(cg, 0), len);
	LLVMValueRef p = cg_payload_ptr(cg, base);
	LLVMValueRef in =
	    LLVMBuildAnd(cg->b, cg_in_bounds(cg, p, 4), cg_in_message(cg, base, 4), "");
	LLVMBasicBlockRef cont = cg_if(cg, in, "method");
	LLVMBasicBlockRef none = cg_block(cg, "method_end");
	LLVMValueRef sw = LLVMBuildSwitch(cg->b, cg_load_raw(cg, p, cg->i32), none, 16);
	for (int i = 0; http_methods[i]; i++) {
		char tok[16];
		uint32_t head;
		unsigned n = (unsigned)snprintf(tok, sizeof(tok), "%s ", http_methods[i]);
		memcpy(&head, tok, 4); /* memory order, as the load */
		LLVMBasicBlockRef is = cg_block(cg, "method_is");
		LLVMAddCase(sw, LLVMConstInt(cg->i32, head, 0), is);
		LLVMPositionBuilderAtEnd(cg->b, is);
		LLVMValueRef rest =
		    n > 4 ? LLVMBuildAnd(cg->b, cg_bytes_eq(cg, cg_add(cg, base, 4), tok + 4),
		                         cg_in_message(cg, base, n), "")
		          : cg_i1(cg, 1);
		LLVMBuildStore(
		    cg->b,
		    LLVMBuildSelect(cg->b, rest, cg_const64(cg, n - 1), cg_const64(cg, 0), ""),
		    len);
		if (out) {
			LLVMBasicBlockRef put = cg_if(cg, rest, "method_put");
			cg_str_const(cg, out, proto_layer_field(l, "method")->size,
			             http_methods[i]);
			cg_endif(cg, put);
		}
		LLVMBuildBr(cg->b, none);
	}
	LLVMPositionBuilderAtEnd(cg->b, none);
	cg_endif(cg, cont);
	return LLVMBuildLoad2(cg->b, cg->i64, len, "");
}

static void cg_http_message(struct cg *cg, const struct hq_layer *l, struct cg_layer *st,
                            LLVMValueRef base)
{
	/* which method, if any: its length (0 = not a request line) */
	LLVMValueRef method = cg_wants(cg, l, "method") ? cg_var(cg, l, "method")->str : NULL;
	cg_vstore(cg, W_MLEN, cg_http_method_len(cg, l, base, method));
	LLVMBasicBlockRef req = cg_block(cg, "http_req"), notreq = cg_block(cg, "http_notreq"),
	                  resp = cg_block(cg, "http_resp"), other = cg_block(cg, "http_not"),
	                  done = cg_block(cg, "http_done");
	LLVMBuildCondBr(cg->b, cg_flag(cg, cg->scratch_walk_off + 8 * W_MLEN), req, notreq);
	LLVMPositionBuilderAtEnd(cg->b, req);
	cg_http_request(cg, l, base);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, notreq);
	LLVMBuildCondBr(cg->b, cg_http_status_line(cg, base), resp, other);
	LLVMPositionBuilderAtEnd(cg->b, resp);
	if (cg_wants(cg, l, "version"))
		cg_copy_token(cg, base, cg_var(cg, l, "version"), ' ', ' ');
	cg_http_status(cg, l, base);
	LLVMBuildBr(cg->b, done);
	/* neither a request nor a response line: not an HTTP message start */
	LLVMPositionBuilderAtEnd(cg->b, other);
	cg_set_flag(cg, st->ok, cg_i1(cg, 0));
	cg_set_flag(cg, st->kids_ok, cg_i1(cg, 0));
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
}

/* The fast walk's HTTP walk, the message at p after the TCP header, which
 * the chain's tcp walk found whole in the frame (cg_fast_tcp): not there
 * without a request line of a method hdrq knows or the "HTTP/1." of a
 * status line (cg_fast_absent_if), as in cg_http_message; the method where
 * queries read it, and for cg_fast_http_late the method's length and the
 * message's end. */
LLVMValueRef cg_fast_http(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	struct cg_val plen = {.present = cg_i1(cg, 0), .a = cg_const64(cg, 0)};
	if (!cg_fast_get_under(cg, l, "payload_len", &plen)) {
		cg_fast_need(cg, cg_i1(cg, 0)); /* not on a tcp walk: the full walk */
		return NULL;
	}
	cg_fast_need(cg, plen.present);
	/* shorter than "GET " (SYNs, ACKs): no request or status line */
	cg_fast_absent_if(cg, LLVMBuildICmp(cg->b, LLVMIntULT, plen.a, cg_const64(cg, 4), ""));
	LLVMValueRef base = cg_pkt_off(cg, p);
	LLVMValueRef end = LLVMBuildAdd(cg->b, base, plen.a, "");
	cg_vstore(cg, W_HEND, end);
	LLVMValueRef method = cg_field_used(cg, l, "method") ? cg_var_str(cg, l, "method") : NULL;
	LLVMValueRef mlen = cg_http_method_len(cg, l, base, method);
	LLVMValueRef req = LLVMBuildNot(cg->b, cg_eqc(cg, mlen, 0), "");
	LLVMValueRef resp = cg_http_status_line(cg, base);
	cg_fast_absent_if(cg, LLVMBuildNot(cg->b, LLVMBuildOr(cg->b, req, resp, ""), ""));
	if (method)
		cg_fast_set(cg, l, "method", req, cg_const64(cg, 0), NULL, NULL);
	if (cg_field_used(cg, l, "path")) {
		cg_fast_set(cg, l, "method_len", cg_i1(cg, 1), mlen, NULL, NULL);
		cg_fast_set(cg, l, "message_end", cg_i1(cg, 1), end, NULL, NULL);
	}
	return NULL;
}

/* The fast walk's request target (cg_walker.fast_late), copied only where
 * a query takes the packet: after the method cg_fast_http found */
void cg_fast_http_late(struct cg *cg, const struct hq_layer *l, LLVMValueRef p)
{
	struct cg_val mlen, end;
	if (!cg_field_used(cg, l, "path") || !cg_fast_get(cg, l, "method_len", &mlen) ||
	    !cg_fast_get(cg, l, "message_end", &end))
		return;
	LLVMValueRef request = LLVMBuildNot(cg->b, cg_eqc(cg, mlen.a, 0), "");
	LLVMValueRef got = cg_http_target(cg, l, request, cg_pkt_off(cg, p), mlen.a, end.a,
	                                  cg_var_str(cg, l, "path"));
	cg_fast_set(cg, l, "path", got, cg_const64(cg, 0), NULL, NULL);
}
