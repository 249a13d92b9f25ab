/* tls.c - certificate chain verification with GnuTLS */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ikasq/tls.h"
#include "ikasq/util.h"

int
tls_verify(const unsigned char *const *der, const size_t *len, size_t n,
	   const char *host, const char *ca_file, struct ikasq_err *err)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t *crts;
	gnutls_typed_vdata_st data;
	unsigned char ip[16];
	unsigned int status = 0;
	gnutls_datum_t out = { NULL, 0 };
	size_t i, ncrt = 0;
	int rc = IKASQ_OK, r;

	if (n == 0)
		return err_set(err, IKASQ_EUNAVAIL, "the server sent no "
		    "certificate");
	crts = xcalloc(n, sizeof(*crts));
	for (i = 0; i < n; i++) {
		gnutls_datum_t d = { (unsigned char *)der[i],
		    (unsigned int)len[i] };

		if (gnutls_x509_crt_init(&crts[i]) < 0 ||
		    gnutls_x509_crt_import(crts[i], &d, GNUTLS_X509_FMT_DER) <
		    0) {
			ncrt = i + 1;
			rc = err_set(err, IKASQ_EUNAVAIL, "the server's "
			    "certificate cannot be read");
			goto out;
		}
		ncrt = i + 1;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		rc = err_set(err, IKASQ_EINTERNAL, "cannot set up certificate "
		    "verification");
		goto out;
	}
	r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (ca_file != NULL && *ca_file != '\0') {
		r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
		if (r <= 0) {
			rc = err_set(err, IKASQ_ECONFIG, "cannot read CA "
			    "certificates from '%s'%s%s", ca_file,
			    r < 0 ? ": " : ": no certificate in it",
			    r < 0 ? gnutls_strerror(r) : "");
			goto out;
		}
	} else if (r <= 0) {
		rc = err_set(err, IKASQ_EUNAVAIL, "no trusted CA certificates "
		    "on this system (install ca-certificates or set ca_file)");
		goto out;
	}
	memset(&data, 0, sizeof(data));
	if (inet_pton(AF_INET, host, ip) == 1) {
		data.type = GNUTLS_DT_IP_ADDRESS;
		data.data = ip;
		data.size = 4;
	} else if (inet_pton(AF_INET6, host, ip) == 1) {
		data.type = GNUTLS_DT_IP_ADDRESS;
		data.data = ip;
		data.size = 16;
	} else {
		data.type = GNUTLS_DT_DNS_HOSTNAME;
		data.data = (unsigned char *)host;
		data.size = 0;
	}
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned)ncrt, &data,
	    1, 0, &status, NULL);
	if (r < 0) {
		rc = err_set(err, IKASQ_EUNAVAIL, "certificate check failed: %s",
		    gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		const char *why = "not trusted";

		if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
			why = "the certificate is for another host name";
		else if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
			why = "certificate signed by an unknown authority";
		else if (status & GNUTLS_CERT_EXPIRED)
			why = "the certificate has expired";
		else if (status & GNUTLS_CERT_NOT_ACTIVATED)
			why = "the certificate is not valid yet";
		else if (status & GNUTLS_CERT_REVOKED)
			why = "the certificate was revoked";
		else if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
			why = "the certificate uses an insecure algorithm";
		else if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) == 0)
			why = (const char *)out.data;
		rc = err_set(err, IKASQ_EUNAVAIL, "%s", why);
	}
out:
	if (out.data != NULL)
		gnutls_free(out.data);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	return rc;
}
