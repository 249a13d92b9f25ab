#!/bin/sh
# XOAUTH2 (Gmail, Microsoft 365): the access token comes from
# oauth2_token_command for every connection and is never logged
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
dovecot_setup oauth2
for i in $(seq 50); do [ -n "$(python3 -c "import socket; socket.create_connection(('127.0.0.1', $OAUTH_PORT), 1)" 2>&1)" ] || break; sleep 0.1; done
imap append INBOX "$TOP_SRCDIR/tests/data/corpus/007-"*.eml >/dev/null
printf '%s\n' "$OAUTH_TOKEN" >"$T/token"
cat >"$T/oa.conf" <<CONF
[database]
conninfo = $T_CONNINFO
schema = $T_SCHEMA
[imap:gmail]
host = 127.0.0.1
port = $IMAP_PORT
tls = none
user = shop
auth = xoauth2
oauth2_token_command = cat $T/token
CONF
chmod 600 "$T/oa.conf"

exits 0 "fetch with an XOAUTH2 token" "$IKASQ" -v -c "$T/oa.conf" fetch
is "$(sql "SELECT count(*) FROM mails")" 1 "the mail is fetched"
like "$(cat "$D/log/dovecot.log")" "Login: user=<shop>, method=XOAUTH2" "Dovecot saw an XOAUTH2 login"
unlike "$out$err" "$OAUTH_TOKEN" "the token is not in -v output"
exits 0 "again" "$IKASQ" -c "$T/oa.conf" fetch
is "$(grep -c . "$T/oauth-tokens.log")" 2 "the command gave a token for each connection"

echo "ya29.expired" >"$T/token"
exits 77 "an expired token" "$IKASQ" -c "$T/oa.conf" fetch
like "$err" "^ikasq: cannot log in to '127.0.0.1:$IMAP_PORT' as 'shop': login refused" "one line"
unlike "$err" "ya29" "without the token"
printf '[database]\nconninfo = %s\nschema = %s\n[imap:gmail]\nhost = 127.0.0.1\nport = %s\ntls = none\nuser = shop\nauth = xoauth2\noauth2_token_command = exit 4\n' \
    "$T_CONNINFO" "$T_SCHEMA" "$IMAP_PORT" >"$T/fail.conf"
chmod 600 "$T/fail.conf"
exits 78 "a token command that fails" "$IKASQ" -c "$T/fail.conf" fetch
like "$err" "'oauth2_token_command' in \[imap:gmail\] failed with exit status 4" "says which command"
IKASQ_IMAP_GMAIL_OAUTH2_TOKEN=$OAUTH_TOKEN exits 0 "the token from the environment" "$IKASQ" -c "$T/fail.conf" fetch
done_testing
