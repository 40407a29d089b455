/* cg_walk_app.c — application hints from the first payload bytes: the
 * first question of a DNS message (RFC 1035 §4.1.2) and an HTTP/1.x request
 * line, Host header or status line. Cleartext only, bounded.
 *
 * The byte loops keep their state in volatile scratch memory (map value
 * bytes the verifier does not track), so every iteration looks the same to
 * the verifier and is checked once; indexes are clamped before each use.
 */
#include <stdio.h>
#include <string.h>

#include "cg_walk.h"

/* loop state slots in the scratch walker area */
enum { W_IN, W_OUT, W_REM, W_STATE };
enum { ST_RUN = 0, ST_DONE = 1, ST_FAIL = 2 };

static LLVMValueRef cg_wslot(struct cg *cg, int i)
{
	return cg_gepc(cg, cg->scratch, cg->scratch_walk_off + 8 * i);
}

static LLVMValueRef cg_vload(struct cg *cg, int i)
{
	LLVMValueRef v = LLVMBuildLoad2(cg->b, cg->i64, cg_wslot(cg, i), "");
	LLVMSetVolatile(v, 1);
	return v;
}

static void cg_vstore(struct cg *cg, int i, LLVMValueRef v)
{
	LLVMValueRef s = LLVMBuildStore(cg->b, v, cg_wslot(cg, i));
	LLVMSetVolatile(s, 1);
}

static LLVMValueRef cg_clampc(struct cg *cg, LLVMValueRef v, uint64_t max)
{
	v = cg_opaque(cg, v);
	return LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntUGT, v, cg_const64(cg, max), ""),
			       cg_const64(cg, max), v, "");
}

/* for (j = 0; j < n && state == RUN; j++) body(); — a real loop */
typedef void (*cg_loop_body)(struct cg *cg, void *arg);

static void cg_loop(struct cg *cg, unsigned n, cg_loop_body body, void *arg)
{
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(cg->b);
	LLVMBasicBlockRef head = cg_block(cg, "loop"), run = cg_block(cg, "loop_body"),
			  out = cg_block(cg, "loop_end");
	LLVMBuildBr(cg->b, head);
	LLVMPositionBuilderAtEnd(cg->b, head);
	LLVMValueRef j = LLVMBuildPhi(cg->b, cg->i64, "j");
	LLVMValueRef go = LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntULT, j, cg_const64(cg, n), ""),
				       cg_eqc(cg, cg_vload(cg, W_STATE), ST_RUN), "");
	LLVMBuildCondBr(cg->b, go, run, out);
	LLVMPositionBuilderAtEnd(cg->b, run);
	body(cg, arg);
	LLVMValueRef j1 = LLVMBuildAdd(cg->b, j, cg_const64(cg, 1), "");
	LLVMBasicBlockRef latch = LLVMGetInsertBlock(cg->b);
	LLVMBuildBr(cg->b, head);
	LLVMValueRef inc[2] = {cg_const64(cg, 0), j1};
	LLVMBasicBlockRef from[2] = {pre, latch};
	LLVMAddIncoming(j, inc, from, 2);
	LLVMPositionBuilderAtEnd(cg->b, out);
}

static void cg_walk_init(struct cg *cg)
{
	for (int i = W_IN; i <= W_STATE; i++)
		cg_vstore(cg, i, cg_const64(cg, 0));
}

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
	LLVMValueRef full = LLVMBuildICmp(cg->b, LLVMIntUGE, o, cg_const64(cg, d->out->size - 1), "");
	LLVMBasicBlockRef lenb = cg_block(cg, "dns_len"), chr = cg_block(cg, "dns_chr");
	LLVMBuildCondBr(cg->b, cg_eqc(cg, rem, 0), lenb, chr);
	/* inside a label: copy one byte */
	LLVMPositionBuilderAtEnd(cg->b, chr);
	LLVMBasicBlockRef put = cg_block(cg, "dns_put");
	LLVMBuildCondBr(cg->b, full, fail, put);
	LLVMPositionBuilderAtEnd(cg->b, put);
	cg_put_char(cg, d->out, o, c);
	cg_vstore(cg, W_OUT, LLVMBuildAdd(cg->b, o, cg_const64(cg, 1), ""));
	cg_vstore(cg, W_REM, LLVMBuildSub(cg->b, rem, cg_const64(cg, 1), ""));
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

void cg_walk_dns(struct cg *cg, const struct hq_layer *l, struct cg_layer *st)
{
	struct cg_slotvar *name = cg_var(cg, l, "qname");
	LLVMValueRef start = LLVMBuildLoad2(cg->b, cg->ptr, st->start, "");
	LLVMValueRef qd = cg_load_be(cg, cg_gepc(cg, start, 4), 2);
	LLVMBasicBlockRef cont = cg_if(cg, LLVMBuildICmp(cg->b, LLVMIntUGT, qd, cg_const64(cg, 0), ""),
				       "dns_q");
	struct cg_dns d = {.q = cg_gepc(cg, start, 12), .out = name};
	if (name && name->size > 1) {
		cg_walk_init(cg);
		cg_loop(cg, name->size + 1, cg_dns_byte, &d);
		LLVMValueRef done = cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE);
		LLVMBasicBlockRef have = cg_if(cg, done, "dns_named");
		LLVMValueRef o = cg_vload(cg, W_OUT);
		cg_var_set(cg, name, cg_i1(cg, 1), NULL);
		/* NUL-terminate; a root name reads "<Root>" as tshark shows it */
		cg_put_char(cg, name, o, cg_const64(cg, 0));
		LLVMValueRef in = cg_clampc(cg, cg_vload(cg, W_IN), 255);
		LLVMValueRef tp = cg_gep(cg, d.q, in);
		LLVMBasicBlockRef tcont = cg_if(cg, cg_in_bounds(cg, tp, 4), "dns_qtype");
		cg_set(cg, l, "qtype", cg_load_be(cg, tp, 2));
		cg_set(cg, l, "qclass", cg_load_be(cg, cg_gepc(cg, tp, 2), 2));
		cg_endif(cg, tcont);
		cg_endif(cg, have);
	}
	cg_endif(cg, cont);
}

/* ---- HTTP: request method/path, Host header, response status ---------- */

static const char *const http_methods[] = {"GET",   "POST",	"PUT",	   "DELETE", "HEAD",
					   "OPTIONS", "PATCH", "CONNECT", "TRACE",  NULL};

/* i1: the bytes at p spell s (bounds checked) */
static LLVMValueRef cg_bytes_eq(struct cg *cg, LLVMValueRef p, const char *s)
{
	unsigned n = strlen(s);
	LLVMValueRef tmp = cg_alloca(cg, cg->i1, "beq");
	LLVMBuildStore(cg->b, cg_i1(cg, 0), tmp);
	LLVMBasicBlockRef cont = cg_if(cg, cg_in_bounds(cg, p, n), "beq_in");
	LLVMValueRef all = cg_i1(cg, 1);
	for (unsigned i = 0; i < n; i++)
		all = LLVMBuildAnd(cg->b, all,
				   cg_eqc(cg, cg_load_be(cg, cg_gepc(cg, p, i), 1), (uint8_t)s[i]), "");
	LLVMBuildStore(cg->b, all, tmp);
	cg_endif(cg, cont);
	return LLVMBuildLoad2(cg->b, cg->i1, tmp, "");
}

static void cg_store_cstr(struct cg *cg, struct cg_slotvar *v, const char *s)
{
	if (!v || !v->str)
		return;
	for (unsigned i = 0; i <= strlen(s) && i < v->size; i++)
		LLVMBuildStore(cg->b, LLVMConstInt(cg->i8, (uint8_t)s[i], 0), cg_gepc(cg, v->str, i));
	cg_var_set(cg, v, cg_i1(cg, 1), NULL);
}

struct cg_copy {
	LLVMValueRef src; /* ptr */
	struct cg_slotvar *out;
	unsigned max_in;
	uint8_t stop1, stop2; /* bytes that end the token */
};

/* copy bytes from src + W_IN until stop1/stop2 (done) or out of room (fail) */
static void cg_copy_byte(struct cg *cg, void *arg)
{
	struct cg_copy *k = arg;
	LLVMBasicBlockRef fail = cg_block(cg, "cp_fail"), next = cg_block(cg, "cp_next");
	LLVMValueRef in = cg_vload(cg, W_IN), o = cg_vload(cg, W_OUT);
	LLVMValueRef c = cg_byte_at(cg, k->src, in, k->max_in, fail);
	LLVMValueRef stop = LLVMBuildOr(cg->b, cg_eqc(cg, c, k->stop1), cg_eqc(cg, c, k->stop2), "");
	LLVMBasicBlockRef end = cg_block(cg, "cp_end"), put = cg_block(cg, "cp_put");
	LLVMBuildCondBr(cg->b, stop, end, put);
	LLVMPositionBuilderAtEnd(cg->b, end);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_DONE));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, put);
	LLVMValueRef full = LLVMBuildICmp(cg->b, LLVMIntUGE, o, cg_const64(cg, k->out->size - 1), "");
	LLVMBasicBlockRef room = cg_block(cg, "cp_room");
	LLVMBuildCondBr(cg->b, full, fail, room);
	LLVMPositionBuilderAtEnd(cg->b, room);
	cg_put_char(cg, k->out, o, c);
	cg_vstore(cg, W_OUT, LLVMBuildAdd(cg->b, o, cg_const64(cg, 1), ""));
	cg_vstore(cg, W_IN, LLVMBuildAdd(cg->b, in, cg_const64(cg, 1), ""));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, fail);
	cg_vstore(cg, W_STATE, cg_const64(cg, ST_FAIL));
	LLVMBuildBr(cg->b, next);
	LLVMPositionBuilderAtEnd(cg->b, next);
}

/* copy a token starting at src into out; out is present if it ended well */
static void cg_copy_token(struct cg *cg, LLVMValueRef src, struct cg_slotvar *out, uint8_t s1,
			  uint8_t s2)
{
	if (!out || out->size < 2)
		return;
	struct cg_copy k = {.src = src, .out = out, .max_in = 1024, .stop1 = s1, .stop2 = s2};
	cg_walk_init(cg);
	cg_loop(cg, out->size, cg_copy_byte, &k);
	LLVMBasicBlockRef cont = cg_if(cg, cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE), "tok");
	cg_put_char(cg, out, cg_vload(cg, W_OUT), cg_const64(cg, 0));
	cg_var_set(cg, out, cg_i1(cg, 1), NULL);
	cg_endif(cg, cont);
}

#define HTTP_HOST_SCAN 512

struct cg_host {
	LLVMValueRef base; /* payload start */
};

/* find "\r\nHost: " within the first bytes; W_IN ends just past it */
static void cg_host_step(struct cg *cg, void *arg)
{
	struct cg_host *h = arg;
	LLVMValueRef in = cg_vload(cg, W_IN);
	LLVMValueRef p = cg_gep(cg, h->base, cg_clampc(cg, in, HTTP_HOST_SCAN));
	LLVMValueRef hit = cg_bytes_eq(cg, p, "\r\nHost: ");
	LLVMValueRef blank = cg_bytes_eq(cg, p, "\r\n\r\n");
	LLVMValueRef past = LLVMBuildNot(cg->b, cg_in_bounds(cg, p, 8), "");
	cg_vstore(cg, W_IN, LLVMBuildAdd(cg->b, in, LLVMBuildSelect(cg->b, hit, cg_const64(cg, 8),
								       cg_const64(cg, 1), ""),
					 ""));
	LLVMValueRef st = LLVMBuildSelect(
		cg->b, hit, cg_const64(cg, ST_DONE),
		LLVMBuildSelect(cg->b, LLVMBuildOr(cg->b, blank, past, ""), cg_const64(cg, ST_FAIL),
				cg_const64(cg, ST_RUN), ""),
		"");
	cg_vstore(cg, W_STATE, st);
}

static void cg_http_request(struct cg *cg, const struct hq_layer *l, LLVMValueRef start,
			    const char *method)
{
	cg_store_cstr(cg, cg_var(cg, l, "method"), method);
	cg_copy_token(cg, cg_gepc(cg, start, strlen(method) + 1), cg_var(cg, l, "path"), ' ', '\r');
	struct cg_slotvar *host = cg_var(cg, l, "host");
	if (!host)
		return;
	struct cg_host h = {.base = start};
	cg_walk_init(cg);
	cg_loop(cg, HTTP_HOST_SCAN, cg_host_step, &h);
	LLVMBasicBlockRef cont = cg_if(cg, cg_eqc(cg, cg_vload(cg, W_STATE), ST_DONE), "host");
	LLVMValueRef at = cg_clampc(cg, cg_vload(cg, W_IN), HTTP_HOST_SCAN + 8);
	cg_copy_token(cg, cg_gep(cg, start, at), host, '\r', '\n');
	cg_endif(cg, cont);
}

static void cg_http_status(struct cg *cg, const struct hq_layer *l, LLVMValueRef start)
{
	/* "HTTP/1.x NNN " */
	LLVMValueRef p = cg_gepc(cg, start, 9);
	LLVMBasicBlockRef cont = cg_if(cg, cg_in_bounds(cg, p, 3), "status");
	LLVMValueRef v = cg_const64(cg, 0), ok = cg_i1(cg, 1);
	for (int i = 0; i < 3; i++) {
		LLVMValueRef c = cg_load_be(cg, cg_gepc(cg, p, i), 1);
		LLVMValueRef d = LLVMBuildSub(cg->b, c, cg_const64(cg, '0'), "");
		ok = LLVMBuildAnd(cg->b, ok, LLVMBuildICmp(cg->b, LLVMIntULE, d, cg_const64(cg, 9), ""), "");
		v = LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, v, cg_const64(cg, 10), ""), d, "");
	}
	LLVMBasicBlockRef set = cg_if(cg, ok, "status_ok");
	cg_set(cg, l, "status", v);
	cg_endif(cg, set);
	cg_endif(cg, cont);
}

void cg_walk_http(struct cg *cg, const struct hq_layer *l, struct cg_layer *st)
{
	LLVMValueRef start = LLVMBuildLoad2(cg->b, cg->ptr, st->start, "");
	LLVMBasicBlockRef done = cg_block(cg, "http_done");
	for (int i = 0; http_methods[i]; i++) {
		char tok[16];
		snprintf(tok, sizeof(tok), "%s ", http_methods[i]);
		LLVMBasicBlockRef no = cg_block(cg, "http_next");
		LLVMBasicBlockRef yes = cg_block(cg, "http_req");
		LLVMBuildCondBr(cg->b, cg_bytes_eq(cg, start, tok), yes, no);
		LLVMPositionBuilderAtEnd(cg->b, yes);
		cg_http_request(cg, l, start, http_methods[i]);
		LLVMBuildBr(cg->b, done);
		LLVMPositionBuilderAtEnd(cg->b, no);
	}
	LLVMBasicBlockRef resp = cg_block(cg, "http_resp"), other = cg_block(cg, "http_not");
	LLVMBuildCondBr(cg->b, cg_bytes_eq(cg, start, "HTTP/1."), resp, other);
	LLVMPositionBuilderAtEnd(cg->b, resp);
	cg_http_status(cg, l, start);
	LLVMBuildBr(cg->b, done);
	/* neither a request nor a response line: not an HTTP message start */
	LLVMPositionBuilderAtEnd(cg->b, other);
	LLVMBuildStore(cg->b, cg_i1(cg, 0), st->ok);
	LLVMBuildStore(cg->b, cg_i1(cg, 0), st->kids_ok);
	LLVMBuildBr(cg->b, done);
	LLVMPositionBuilderAtEnd(cg->b, done);
}
