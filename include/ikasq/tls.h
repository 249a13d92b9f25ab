/*
 * tls.h - checking a server's certificate chain (GnuTLS).
 *
 * Debian's libetpan does the TLS handshake with no verification at all, so
 * the IMAP module hands the chain it received to tls_verify() before it
 * sends a password.
 */
#ifndef IKASQ_TLS_H
#define IKASQ_TLS_H

#include <stddef.h>

#include "ikasq/err.h"

/*
 * Verify a DER chain (leaf first) for host (a DNS name or an IP address)
 * against the system's CAs plus ca_file (PEM, may be NULL or "").
 * IKASQ_EUNAVAIL with the reason ("certificate signed by unknown
 * authority", "certificate is for another host") when it does not hold.
 */
int tls_verify(const unsigned char *const *der, const size_t *len, size_t n,
	       const char *host, const char *ca_file, struct ikasq_err *err);

#endif
