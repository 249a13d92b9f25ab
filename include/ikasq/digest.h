/*
 * digest.h - SHA-256 (GnuTLS, which uses the CPU's SHA instructions where
 * it has them: every byte of every mail is hashed, attachments included).
 */
#ifndef IKASQ_DIGEST_H
#define IKASQ_DIGEST_H

#include <stddef.h>

/* The lower-case hex SHA-256 of data, into out (65 bytes). */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
