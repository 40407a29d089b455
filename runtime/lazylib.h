/* lazylib.h — the shared libraries a run loads only when it needs them:
 * libmicrohttpd (--metrics), libpcap (-r, -w) and libcrypto (--anonymize).
 *
 * Linked like libbpf, these three and what they pull in (GnuTLS, D-Bus,
 * libsystemd, libgcrypt, ...) cost every run about 5 ms of loading and
 * initialisation before main(), whichever options it had (docs/DESIGN.md).
 * Each is dlopen()ed by its soname, found at build time, the first time a
 * run asks for it; its functions are called through a table of pointers
 * with their own declared types, so the compiler still checks every call.
 */
#ifndef HQ_LAZYLIB_H
#define HQ_LAZYLIB_H

#include <microhttpd.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>

#include "../frontend/diag.h"

#define LAZY_FN(f) __typeof__(f) *f

struct hq_mhd {
	LAZY_FN(MHD_start_daemon);
	LAZY_FN(MHD_stop_daemon);
	LAZY_FN(MHD_get_daemon_info);
	LAZY_FN(MHD_create_response_from_buffer);
	LAZY_FN(MHD_add_response_header);
	LAZY_FN(MHD_queue_response);
	LAZY_FN(MHD_destroy_response);
};

struct hq_pcap {
	LAZY_FN(pcap_open_offline_with_tstamp_precision);
	LAZY_FN(pcap_open_dead_with_tstamp_precision);
	LAZY_FN(pcap_close);
	LAZY_FN(pcap_datalink);
	LAZY_FN(pcap_datalink_val_to_name);
	LAZY_FN(pcap_datalink_val_to_description);
	LAZY_FN(pcap_next_ex);
	LAZY_FN(pcap_geterr);
	LAZY_FN(pcap_file);
	LAZY_FN(pcap_dump_open);
	LAZY_FN(pcap_dump);
	LAZY_FN(pcap_dump_flush);
	LAZY_FN(pcap_dump_file);
	LAZY_FN(pcap_dump_close);
};

struct hq_crypto {
	LAZY_FN(EVP_CIPHER_CTX_new);
	LAZY_FN(EVP_CIPHER_CTX_free);
	LAZY_FN(EVP_CIPHER_CTX_set_padding);
	LAZY_FN(EVP_EncryptInit_ex);
	LAZY_FN(EVP_EncryptUpdate);
	LAZY_FN(EVP_aes_128_ecb);
};

#undef LAZY_FN

/* The library's table, loaded on the first call (later calls return the
 * same). NULL, with an error in d that names the library and what needed
 * it, if it or one of its functions is missing. Call them from the main
 * thread. */
const struct hq_mhd *lazy_mhd(struct hq_diag *d);
const struct hq_pcap *lazy_pcap(struct hq_diag *d);
const struct hq_crypto *lazy_crypto(struct hq_diag *d);

#endif
