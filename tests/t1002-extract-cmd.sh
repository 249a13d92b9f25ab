#!/bin/sh
# ikasq extract: the JSON a shop tunes its patterns with; configured patterns
. "$TOP_SRCDIR/tests/lib.sh"
unset IKASQ_CONFIG
HOME=$T/home; export HOME
C=$TOP_SRCDIR/tests/data/corpus
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if isinstance(d,list) else d[k]
print(d if not isinstance(d,(list,dict)) else json.dumps(d, ensure_ascii=False))' "$1"; }

cat >"$T/m.eml" <<'MAIL'
From: =?UTF-8?B?QXnFn2UgWcSxbG1heg==?= <ayse@example.com>
To: destek@magaza.com
Subject: =?UTF-8?Q?Sipari=C5=9F_132141_hakk=C4=B1nda?=
Message-ID: <m1@example.com>
Date: Sun, 29 Nov 2026 10:00:00 +0300
Content-Type: text/plain; charset=utf-8

Merhaba, SİPARİŞ NO: 132150 da gelmedi. Telefonum 0532 123 45 67.
MAIL

exits 0 "extract FILE" "$IKASQ" extract "$T/m.eml"
is "$(printf '%s' "$out" | jget order_numbers)" '["132141", "132150"]' "both orders, subject first"
is "$(printf '%s' "$out" | jget orders.1.evidence)" "SİPARİŞ NO: 132150" "the evidence is the customer's own text"
is "$(printf '%s' "$out" | jget orders.0.where)" subject "and says where it was"
is "$(printf '%s' "$out" | jget from.name)" "Ayşe Yılmaz" "the decoded sender name"
is "$(printf '%s' "$out" | jget date)" "2026-11-29T07:00:00Z" "the date in UTC"
is "$(printf '%s' "$out" | jget message_id)" "m1@example.com" "the Message-ID without brackets"
unlike "$out" '"text"' "no text unless asked"
exits 0 "extract from stdin with --text" sh -c "'$IKASQ' extract --text <'$T/m.eml'"
like "$(printf '%s' "$out" | jget text)" "^Merhaba, SİPARİŞ NO" "--text adds the decoded text"

# several mails at once: one JSON object per line
for f in "$C"/00[1-5]-*.eml; do printf 'From x@y Thu Jan  1 00:00:00 2026\n'; cat "$f"; printf '\n'; done >"$T/five.mbox"
exits 0 "extract --mbox" "$IKASQ" extract --mbox "$T/five.mbox"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 5 "five lines"
is "$(printf '%s\n' "$out" | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)))')" 5 "each a JSON object"
mkdir -p "$T/md/cur" "$T/md/new" "$T/md/tmp"
cp "$T/m.eml" "$T/md/new/1.eml"; cp "$C/007-"*.eml "$T/md/cur/2.eml"
exits 0 "extract --maildir" "$IKASQ" extract --maildir "$T/md"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 2 "a line per message"

exits 66 "a missing file" "$IKASQ" extract "$T/nope.eml"
is "$err" "ikasq: cannot read '$T/nope.eml': No such file or directory" "one line naming it"
exits 65 "an empty file" "$IKASQ" extract /dev/null
exits 65 "not an mbox" "$IKASQ" extract --mbox "$T/m.eml"
like "$err" "is not an mbox file" "says so"
exits 65 "not a Maildir" "$IKASQ" extract --maildir "$T"
exits 64 "a file and --mbox" "$IKASQ" extract --mbox "$T/five.mbox" "$T/m.eml"

# the patterns are the shop's to tune
printf 'Subject: x\n\nkargo takip no 123456, siparis kodu AB-7788 ve sip#99887\n' >"$T/t.eml"
exits 0 "defaults" "$IKASQ" extract "$T/t.eml"
is "$(printf '%s' "$out" | jget order_numbers)" '[]' "find nothing here"
cat >"$T/p.conf" <<'CONF'
[extract]
patterns = siparis kodu ab-{N}; sip#{N}
min_digits = 4
CONF
exits 0 "configured patterns" "$IKASQ" -c "$T/p.conf" extract "$T/t.eml"
is "$(printf '%s' "$out" | jget order_numbers)" '["7788", "99887"]' "find what the shop asked for"
printf '[extract]\nmin_digits = 7\n' >"$T/d.conf"
exits 0 "min_digits 7" "$IKASQ" -c "$T/d.conf" extract "$T/m.eml"
is "$(printf '%s' "$out" | jget order_numbers)" '[]' "6-digit numbers are no longer orders"
printf '[extract]\n\npatterns = siparis (?<order>\\d+; ok {N}\n' >"$T/bad.conf"
exits 78 "a pattern that does not compile" "$IKASQ" -c "$T/bad.conf" extract "$T/m.eml"
like "$err" "^ikasq: $T/bad.conf:3: bad value for 'patterns' in \[extract\]: pattern 'siparis \(\?<order>\\\\d\+' does not compile" "names the file, line and pattern"
printf '[extract]\npatterns = siparis no\n' >"$T/non.conf"
exits 78 "a pattern without {N}" "$IKASQ" -c "$T/non.conf" extract "$T/m.eml"
like "$err" "has neither \{N\} nor \(\?<order>" "says what is missing"
done_testing
