#!/bin/sh
# TLS that is actually verified: the chain and the host name are checked
# before the password is sent, on IMAPS and STARTTLS
. "$TOP_SRCDIR/tests/lib.sh"
command -v openssl >/dev/null || skip_all "openssl is not installed"
pg_setup
dovecot_setup tls
C=$TOP_SRCDIR/tests/data/corpus
IMAP_PASS=secret imap append INBOX "$C/007-"*.eml >/dev/null

conf() { # conf TLS PORT HOST [CA]
	cat >"$T/tls.conf" <<-CONF
	[database]
	conninfo = $T_CONNINFO
	schema = $T_SCHEMA
	[imap:shop]
	host = $3
	port = $2
	tls = $1
	user = shop
	password = secret
	ca_file = ${4:-}
	CONF
	chmod 600 "$T/tls.conf"
}
logins() { grep -c "Login: user=<shop>" "$D/log/dovecot.log"; }

conf imaps "$IMAPS_PORT" localhost
n0=$(logins)
exits 69 "IMAPS with a certificate from an unknown CA" "$IKASQ" -c "$T/tls.conf" fetch
is "$err" "ikasq: cannot connect to 'localhost:$IMAPS_PORT': certificate not trusted: certificate signed by an unknown authority" "one line: which host, why"
sleep 0.3
is "$(logins)" "$n0" "no login was attempted"
is "$(sql "SELECT count(*) FROM mails")" 0 "nothing fetched"

conf imaps "$IMAPS_PORT" localhost "$T/tls/ca.pem"
exits 0 "IMAPS with ca_file naming the CA" "$IKASQ" -c "$T/tls.conf" fetch
is "$(sql "SELECT count(*) FROM mails")" 1 "the mail is fetched"
conf imaps "$IMAPS_PORT" 127.0.0.1 "$T/tls/ca.pem"
exits 0 "an IP address in the certificate's names" "$IKASQ" -c "$T/tls.conf" fetch

conf starttls "$IMAP_PORT" localhost
exits 69 "STARTTLS with an unknown CA" "$IKASQ" -c "$T/tls.conf" fetch
like "$err" "certificate signed by an unknown authority" "says why"
conf starttls "$IMAP_PORT" localhost "$T/tls/ca.pem"
IMAP_PASS=secret imap append INBOX "$C/008-"*.eml >/dev/null
exits 0 "STARTTLS with the CA" "$IKASQ" -c "$T/tls.conf" fetch
is "$(sql "SELECT count(*) FROM mails")" 2 "the new mail is fetched"

# a certificate for another name, from the trusted CA
dovecot_stop
sed -i "s|<$T/tls/server.pem|<$T/tls/wrong.pem|; s|<$T/tls/server.key|<$T/tls/wrong.key|" "$D/dovecot.conf"
dovecot_start || bail "dovecot restart"
conf imaps "$IMAPS_PORT" localhost "$T/tls/ca.pem"
n0=$(logins)
exits 69 "a certificate for another host name" "$IKASQ" -c "$T/tls.conf" fetch
is "$err" "ikasq: cannot connect to 'localhost:$IMAPS_PORT': certificate not trusted: the certificate is for another host name" "one line: which host, why"
sleep 0.3
is "$(logins)" "$n0" "no login was attempted"
conf starttls "$IMAP_PORT" localhost "$T/tls/ca.pem"
exits 69 "the same over STARTTLS" "$IKASQ" -c "$T/tls.conf" fetch
printf 'not a certificate\n' >"$T/bogus.pem"
conf imaps "$IMAPS_PORT" localhost "$T/bogus.pem"
exits 78 "a ca_file that holds no certificate" "$IKASQ" -c "$T/tls.conf" fetch
like "$err" "cannot read CA certificates from '$T/bogus.pem'" "names the file"
done_testing
