/* lazylib.c — dlopen() a library by its soname and fill its table of
 * functions by name (lazylib.h says which and why). */
#include <dlfcn.h>
#include <stddef.h>

#include "lazylib.h"

#if !defined(HQ_MHD_SONAME) || !defined(HQ_PCAP_SONAME) || !defined(HQ_CRYPTO_SONAME)
#error "the HQ_*_SONAME definitions come from CMakeLists.txt"
#endif

struct lazy_sym {
	const char *name;
	size_t off; /* of its pointer in the table */
};

struct lazy_lib {
	const char *soname;
	const char *needed_by; /* the option, for the error */
	const struct lazy_sym *syms;
	size_t n_syms;
	void *table;
	void *handle; /* set once loaded; kept open until exit */
};

static void *lazy_load(struct lazy_lib *l, struct hq_diag *d)
{
	if (l->handle)
		return l->table;
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		diag_errorf(d, "%s needs %s: %s", l->needed_by, l->soname, dlerror());
		return NULL;
	}
	for (size_t i = 0; i < l->n_syms; i++) {
		void *f = dlsym(h, l->syms[i].name);
		if (!f) {
			diag_errorf(d, "%s: %s has no %s", l->needed_by, l->soname,
			            l->syms[i].name);
			dlclose(h);
			return NULL;
		}
		/* POSIX: function pointers and void * share their representation */
		*(void **)((char *)l->table + l->syms[i].off) = f;
	}
	l->handle = h;
	return l->table;
}

#define SYM(type, f)                                                                               \
	{                                                                                          \
#f, offsetof(struct type, f)                                                       \
	}
#define LIB(so, opt, syms, table)                                                                  \
	{                                                                                          \
		so, opt, syms, sizeof(syms) / sizeof(syms[0]), &table, NULL                        \
	}

static const struct lazy_sym mhd_syms[] = {
    SYM(hq_mhd, MHD_start_daemon),        SYM(hq_mhd, MHD_stop_daemon),
    SYM(hq_mhd, MHD_get_daemon_info),     SYM(hq_mhd, MHD_create_response_from_buffer),
    SYM(hq_mhd, MHD_add_response_header), SYM(hq_mhd, MHD_queue_response),
    SYM(hq_mhd, MHD_destroy_response),
};
static struct hq_mhd mhd;
static struct lazy_lib mhd_lib = LIB(HQ_MHD_SONAME, "--metrics", mhd_syms, mhd);

static const struct lazy_sym pcap_syms[] = {
    SYM(hq_pcap, pcap_open_offline_with_tstamp_precision),
    SYM(hq_pcap, pcap_open_dead_with_tstamp_precision),
    SYM(hq_pcap, pcap_close),
    SYM(hq_pcap, pcap_datalink),
    SYM(hq_pcap, pcap_datalink_val_to_name),
    SYM(hq_pcap, pcap_datalink_val_to_description),
    SYM(hq_pcap, pcap_next_ex),
    SYM(hq_pcap, pcap_geterr),
    SYM(hq_pcap, pcap_file),
    SYM(hq_pcap, pcap_dump_open),
    SYM(hq_pcap, pcap_dump),
    SYM(hq_pcap, pcap_dump_flush),
    SYM(hq_pcap, pcap_dump_file),
    SYM(hq_pcap, pcap_dump_close),
};
static struct hq_pcap pcap;
static struct lazy_lib pcap_lib =
    LIB(HQ_PCAP_SONAME, "reading or writing a capture", pcap_syms, pcap);

static const struct lazy_sym crypto_syms[] = {
    SYM(hq_crypto, EVP_CIPHER_CTX_new),         SYM(hq_crypto, EVP_CIPHER_CTX_free),
    SYM(hq_crypto, EVP_CIPHER_CTX_set_padding), SYM(hq_crypto, EVP_EncryptInit_ex),
    SYM(hq_crypto, EVP_EncryptUpdate),          SYM(hq_crypto, EVP_aes_128_ecb),
};
static struct hq_crypto crypto;
static struct lazy_lib crypto_lib = LIB(HQ_CRYPTO_SONAME, "--anonymize", crypto_syms, crypto);

const struct hq_mhd *lazy_mhd(struct hq_diag *d)
{
	return lazy_load(&mhd_lib, d);
}

const struct hq_pcap *lazy_pcap(struct hq_diag *d)
{
	return lazy_load(&pcap_lib, d);
}

const struct hq_crypto *lazy_crypto(struct hq_diag *d)
{
	return lazy_load(&crypto_lib, d);
}
