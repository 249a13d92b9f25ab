#!/bin/sh
# procmail as the MDA, with the recipe of ikasq-ingest(1): a mail is stored
# once and its job queued once, a second delivery changes nothing, and while
# the database is down procmail exits 75 so the MTA keeps the mail (nothing
# falls through to the default mailbox), and the MTA's retry stores it
. "$TOP_SRCDIR/tests/lib.sh"
command -v procmail >/dev/null 2>&1 || skip_all "procmail is not installed"
pg_setup

# The recipe of the man page.  procmail -m clears the environment (only -p
# keeps it), so the rcfile names the configuration, as a deployment that
# does not use the default path would.
mkdir "$T/mail"
cat >"$T/procmailrc" <<EOF
SHELL=/bin/sh
MAILDIR=$T/mail
DEFAULT=$T/mail/default
LOGFILE=$T/procmail.log
IKASQ_CONFIG=$IKASQ_CONFIG

:0 w
| $IKASQ ingest

EXITCODE=75
HOST=retry-later
EOF
chmod 644 "$T/procmailrc"

# The messages end with an empty line, as procmail makes them (it appends
# a newline to one that does not), so the bytes stored are the file's.
# deliver FILE: as an MTA runs procmail; sets $rc
deliver() {
	procmail -m "$T/procmailrc" <"$1" >"$T/procmail.out" 2>&1
	rc=$?
}
mails() { sql "SELECT count(*) FROM mails WHERE sha256 = '$(sha "$1")'"; }
sha() { sha256sum <"$1" | cut -d' ' -f1; }
default_size() {
	if [ -f "$T/mail/default" ]; then wc -c <"$T/mail/default" | tr -d ' '
	else echo 0; fi
}

cat >"$T/order.eml" <<'EOF'
Received: from mail-wm1-f47.google.com (mail-wm1-f47.google.com [209.85.128.79])
	by mx1.ornekmagaza.com (Postfix) with ESMTPS id 2iqsNz6tGUMN3
	for <destek@ornekmagaza.com>; Thu, 23 May 2024 10:07:42 +0300
Message-ID: <t1005-order-1@mail.gmail.com>
Date: Thu, 23 May 2024 10:07:05 +0300
From: =?UTF-8?B?QXnFn2UgWcSxbG1heg==?= <ayse.yilmaz84@gmail.com>
To: destek@ornekmagaza.com
Subject: =?UTF-8?B?U2lwYXJpxZ9pbSBow6Jsw6Iga2FyZ295YSB2ZXJpbG1lZGk=?=
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Merhaba,

132141 numaralı siparişim 5 gündür kargoya verilmedi. Sitede "1-3 iş
günü içinde kargoda" yazıyordu ama hâlâ "Hazırlanıyor" görünüyor.

Ne zaman gönderilecek, bilgi verebilir misiniz?

İyi çalışmalar,
Ayşe Yılmaz

EOF

# (1) a Turkish mail naming an order
deliver "$T/order.eml"
is "$rc" 0 "procmail delivers a mail naming an order (exit 0)"
is "$(cat "$T/procmail.out")" "" "procmail prints nothing"
is "$(mails "$T/order.eml")" 1 "one mails row for it"
is "$(sql "SELECT count(*) FROM mails")" 1 "and no other"
is "$(sql "SELECT from_email, subject, order_numbers, source, size_bytes FROM mails")" \
   "ayse.yilmaz84@gmail.com|Siparişim hâlâ kargoya verilmedi|{132141}|stdin|$(wc -c <"$T/order.eml" | tr -d ' ')" \
   "sender, decoded subject, order number, source and size"
is "$(sql "SELECT raw = decode('$(od -An -v -tx1 "$T/order.eml" | tr -d ' \n')', 'hex') FROM mails")" t \
   "the raw bytes are stored as procmail passed them"
is "$(sql "SELECT count(*) FROM job_queue")" 1 "one job queued"
is "$(sql "SELECT j.job_type, j.priority, j.status, j.payload->'order_numbers', j.payload->>'mail_id' = m.id::text FROM job_queue j, mails m")" \
   'fetch_ikas_order|5|pending|["132141"]|t' \
   "fetch_ikas_order at priority 5 for order 132141 and that mail"
is "$(default_size)" 0 "nothing delivered to DEFAULT"
unlike "$(cat "$T/procmail.log")" "Program failure|Error|error" "no failure in procmail's log"

# (2) the same bytes again
deliver "$T/order.eml"
is "$rc" 0 "a second delivery of the same mail succeeds (exit 0)"
is "$(sql "SELECT count(*) FROM mails")" 1 "still one mails row"
is "$(sql "SELECT count(*) FROM job_queue")" 1 "still one job"
is "$(default_size)" 0 "nothing delivered to DEFAULT"

# (3) the database is down: procmail exits 75, the MTA keeps the mail
sed -e 's/t1005-order-1@/t1005-order-2@/' -e 's/132141/132777/' \
    "$T/order.eml" >"$T/retry.eml"
if [ "$PG_OWN" = yes ]; then
	pg_stop fast
	deliver "$T/retry.eml"
	is "$rc" 75 "with the database down procmail exits 75 (EX_TEMPFAIL)"
	like "$(cat "$T/procmail.log")" "Program failure \(75\)" "procmail saw ikasq exit 75"
	like "$(cat "$T/procmail.log")" "ikasq: .*connect" "ikasq's reason is in procmail's log"
	is "$(default_size)" 0 "nothing delivered to DEFAULT: the mail stays with the MTA"
	pg_start || bail "PostgreSQL did not restart"
	is "$(mails "$T/retry.eml")" 0 "no row for it after the restart"
	is "$(sql "SELECT count(*) FROM job_queue")" 1 "and no job"
	deliver "$T/retry.eml"
	is "$rc" 0 "the MTA's retry succeeds (exit 0)"
else
	for _s in "procmail exits 75" "procmail saw ikasq exit 75" \
	    "ikasq's reason is logged" "nothing delivered to DEFAULT" \
	    "no row after restart" "and no job"; do
		ok "# SKIP needs a server of its own to stop: $_s"
	done
	deliver "$T/retry.eml"
	is "$rc" 0 "a new mail is delivered (exit 0)"
fi
is "$(mails "$T/retry.eml")" 1 "it is stored exactly once"
is "$(sql "SELECT count(*) FROM job_queue WHERE payload->'order_numbers' = '[\"132777\"]'")" 1 \
   "its job is queued once"
is "$(sql "SELECT count(*) FROM job_queue")" 2 "two jobs in all"
deliver "$T/retry.eml"
is "$rc" 0 "delivering it yet again succeeds"
is "$(sql "SELECT count(*) FROM mails")/$(sql "SELECT count(*) FROM job_queue")" 2/2 \
   "and changes nothing"
is "$(default_size)" 0 "nothing delivered to DEFAULT"

# (4) a mail without an order number: stored, no job
cat >"$T/plain.eml" <<'EOF'
Message-ID: <t1005-plain@example.com>
Date: Fri, 24 May 2024 11:00:00 +0300
From: Mehmet Öztürk <mehmet@example.com>
To: destek@ornekmagaza.com
Subject: =?ISO-8859-9?Q?Ma=F0aza_saatleri?=
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Merhaba, mağazanız cumartesi günleri kaçta açılıyor?
Teşekkürler.

EOF
deliver "$T/plain.eml"
is "$rc" 0 "a mail without an order number is delivered (exit 0)"
is "$(mails "$T/plain.eml")" 1 "it is stored"
is "$(sql "SELECT subject, order_numbers FROM mails WHERE message_id = 't1005-plain@example.com'")" \
   "Mağaza saatleri|{}" "with its subject and no order numbers"
is "$(sql "SELECT count(*) FROM job_queue")" 2 "no job was queued for it"
is "$(default_size)" 0 "nothing was ever delivered to DEFAULT"
done_testing
