/* digest.c - SHA-256 with GnuTLS */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ikasq/digest.h"

void
sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];
	int i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, d) < 0) {
		/* only without memory; the digest identifies stored mail */
		fprintf(stderr, "ikasq: SHA-256 failed\n");
		abort();
	}
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}
