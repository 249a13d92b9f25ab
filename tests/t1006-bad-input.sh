#!/bin/sh
# Hostile and broken mail: CPython's email test corpus and malformed MIME
# made here (unterminated and 1,000-deep structures, bogus charsets, 8-bit
# and NUL bytes in headers, 50 MB lines, garbage).  ikasq extract prints
# valid JSON and ikasq ingest stores every message, within a minute each,
# and nothing that is not valid UTF-8 text reaches the database.
. "$TOP_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null 2>&1 || skip_all "needs python3"
command -v timeout >/dev/null 2>&1 || skip_all "needs timeout(1)"
pg_setup

# --- inputs --------------------------------------------------------------
# CPython's corpus: that of python3, else any installed one
pydata=$(python3 -c 'import os, test.test_email as t; print(os.path.join(os.path.dirname(t.__file__), "data"))' 2>/dev/null)
if [ ! -d "$pydata" ]; then
	pydata=
	for _d in /usr/lib/python3*/test/test_email/data \
	    /usr/local/lib/python3*/test/test_email/data \
	    "${PYENV_ROOT:-${HOME:-}/.pyenv}"/versions/*/lib/python3*/test/test_email/data; do
		[ -d "$_d" ] && pydata=$_d
	done
fi

mkdir "$T/bad" "$T/out"
cat >"$T/gen.py" <<'PYEOF'
# Malformed mail, written into sys.argv[1].  Deterministic: the same bytes
# on every run.
import base64, os, random, sys
out = sys.argv[1]

def w(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)

H = (b"From: Musteri <musteri@example.com>\n"
     b"To: destek@example.com\n"
     b"Date: Thu, 23 May 2024 10:07:05 +0300\n")

def msg(name, headers, body):
    w(name, H + b"Message-ID: <" + name.encode() + b"@t1006>\n" + headers +
      b"\n" + body)

# a multipart whose closing boundary never comes, cut inside a part
msg("unterminated-multipart",
    b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n",
    b"preamble\n--b1\nContent-Type: text/plain; charset=utf-8\n\n"
    b"Sipari\xc5\x9f no: 123456\n--b1\nContent-Type: text/html\n"
    b"Content-Transfer-Encoding: base64\n\nPGI+a2VzaWsgPC9i")
msg("unterminated-nested-multipart",
    b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o\"\n",
    b"--o\nContent-Type: multipart/alternative; boundary=\"i\"\n\n--i\n"
    b"Content-Type: text/plain\n\nic\n--o\nContent-Type: text/plain\n\ndis\n")
# bogus charset names in Content-Type, over a body of mixed bytes
for i, cs in enumerate([b"x-no-such-charset", b"", b"utf-8;;",
                        b"../../../etc/passwd", b"a" * 300, b"utf-16",
                        b"UTF-7", b"iso-2022-jp", b"\xff\xfe",
                        b"windows-99999", b"ucs-4", b"utf-32le"]):
    msg("bogus-charset-ct-%02d" % i,
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=\"" + cs +
        b"\"\nContent-Transfer-Encoding: 8bit\n",
        b"Sipari\xfe no: 654321 \xc3\x28 \x81\x8d\x8f\x90\x9d \x00 "
        b"+AGEAYgBj- \x1b$B\nh\x00i\x00 \xff\xfe\xfd\n")
# bogus charsets and encodings in RFC 2047 encoded words
msg("bogus-charset-rfc2047",
    b"Subject: =?x-bogus?Q?Sipari=FE?= =?utf-8?B?////?= =??Q?bos?= "
    b"=?utf-8*tr?Q?dil?= =?utf-8?X?bilinmeyen?= =?utf-16?B?AGEAYgBj?= "
    b"=?iso-8859-1?Q?a=00b?= =?utf-8?Q?yar=C5?= "
    b"=?windows-1254?Q?=FE=FD=F0?=\n"
    b"MIME-Version: 1.0\nContent-Type: text/plain\n",
    b"govde\n")
msg("bogus-charset-rfc2047-addresses",
    b"Subject: x\nReply-To: =?x-bogus?B?////?= <r@example.com>\n"
    b"Cc: =?utf-8?B?" + base64.b64encode(b"\xff\xfe\x00a") +
    b"?= <c@example.com>\n",
    b"govde\n")
# raw 8-bit bytes in headers: windows-1254, and bytes that are neither
# UTF-8 nor windows-1254 (0x81 0x8d 0x8e 0x8f 0x90 0x9d 0x9e)
w("8bit-headers-cp1254",
  b"From: \xd6zt\xfcrk \xde\xe7\xf0 <ozturk@example.com>\n"
  b"To: destek@example.com\n"
  b"Subject: Sipari\xfe no 777888 hakk\xfdnda \xfe\xfd\xf0\n"
  b"Message-ID: <cp1254-\xfe@t1006>\n\nG\xf6vde: sipari\xfeim gelmedi\n")
w("8bit-headers-invalid-utf8",
  b"From: \xc3\x28 \xff\xfe \x81\x8d <\xc0\xaf@example.com>\n"
  b"To: \xed\xa0\x80@example.com, a@\xff\n"
  b"Subject: \xc3\x28 \xff\xfe \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 "
  b"\x81\x8d\x8e\x8f\x90\x9d\x9e\n"
  b"Message-ID: <\xff\x81@t1006>\nIn-Reply-To: <\x8d\x8e@x>\n"
  b"References: <\x90@x> <\x9d\x9e@y>\nDate: \xff\xfe\n"
  b"Content-Type: text/plain; charset=\"\xff\x81\"; name=\"\x8d\"\n\n"
  b"\x81\x8d\x8e\x8f\x90\x9d\x9e\xc3\n")
# the same bytes in the headers of an attached message, which ikasq
# copies into the text
w("rfc822-8bit-inner",
  H + b"Subject: ic mesaj\nMIME-Version: 1.0\n"
  b"Content-Type: multipart/mixed; boundary=z\n\n"
  b"--z\nContent-Type: message/rfc822\n\n"
  b"From: \xc3\x28\x81\x8d <\xff@example.com>\n"
  b"Subject: \xc3\x28 \x81\x8d\x8e\x8f\x90\x9d\x9e \xed\xa0\x80\n\n"
  b"ic govde \x81\x8d\n--z--\n")
# NUL bytes in headers and body, raw and encoded
w("nul-bytes",
  b"From: a\x00b <a@example.com>\nTo: destek@example.com\n"
  b"Subject: Sipari\x00\xc5\x9f 1\x002345\nX-N\x00ul: v\x00\n"
  b"Message-ID: <nul\x00@t1006>\n"
  b"Content-Type: text/plain; charset=ut\x00f-8\n\n"
  b"\x00\x00govde\x00 sipari\xc5\x9f no: 998877\x00\n\x00")
w("nul-bytes-encoded",
  H + b"Subject: =?utf-8?Q?a=00b?= =?utf-8?B?" +
  base64.b64encode(b"c\x00d") + b"?=\n"
  b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=n\n\n"
  b"--n\nContent-Type: text/plain; charset=utf-8\n"
  b"Content-Transfer-Encoding: quoted-printable\n\na=00b=00\n"
  b"--n\nContent-Type: text/html; charset=utf-8\n"
  b"Content-Transfer-Encoding: base64\n\n" +
  base64.b64encode(b"<p>x\x00y&#0;&#x0;z</p>") + b"\n--n--\n")
w("nul-in-utf8-body",
  H + b"Message-ID: <nul-in-utf8-body@t1006>\nSubject: bos bayt\n"
  b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
  b"Sipari\xc5\x9f no: 998877\x00 gelmedi\n")
w("nul-only", b"\x00" * 4096)
# 1,000 nested multiparts, closed and never closed
depth = 1000
top = (H + b"Subject: nested multipart\nMIME-Version: 1.0\n"
       b"Content-Type: multipart/mixed; boundary=\"b0\"\n\n")
b = bytearray(top)
for i in range(1, depth):
    b += (b"--b%d\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n"
          % (i - 1, i))
open_ = bytes(b)
b += b"--b%d\nContent-Type: text/plain\n\nen icte: siparis no 112233\n" % (
    depth - 1)
for i in range(depth - 1, -1, -1):
    b += b"--b%d--\n" % i
w("nested-multipart-1000", bytes(b))
w("nested-multipart-1000-open", open_)
# 1,000 nested message/rfc822
inner = H + b"Subject: en ic\n\nsiparis no 445566\n"
for i in range(depth):
    inner = (b"From: k%d@example.com\nSubject: ic %d\nMIME-Version: 1.0\n"
             b"Content-Type: message/rfc822\n\n" % (i, i)) + inner
w("nested-rfc822-1000", inner)
# nothing but blank lines
w("blank-lines", b"\n" * 5000)
w("blank-lines-crlf", b"\r\n" * 5000)
w("whitespace-only", b" \t\r\n" * 1000)
# random binary garbage (seeded)
r = random.Random(1006)
w("random-binary", bytes(r.getrandbits(8) for _ in range(256 * 1024)))
w("random-binary-after-headers", H + b"Subject: ikili\n\n" +
  bytes(r.getrandbits(8) for _ in range(64 * 1024)))
# 1 MB header lines
w("header-line-1mb-subject",
  H + b"Subject: " + b"siparis " * (1 << 17) + b"\n\nkisa\n")
w("header-line-1mb-to", b"From: a@example.com\nTo: " +
  b", ".join(b"k%d@example.com" % i for i in range(60000)) +
  b"\nSubject: cok alici\n\nx\n")
w("header-line-1mb-folded",
  H + b"Subject: x\nReferences:" + b"\n <r@x>" * (1 << 17) + b"\n\nx\n")
w("header-line-1mb-no-colon", b"X" * (1 << 20) + b"\n\nbody\n")
# quoted-printable: a soft line break at EOF, an escape cut at EOF, junk
msg("qp-soft-break-eof",
    b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"Sipari=C5=9F no: 123123 =\n=")
msg("qp-cut-escape-eof",
    b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"yar=C5=9F =C5=")
msg("qp-bad-escapes",
    b"MIME-Version: 1.0\nContent-Type: text/plain; charset=windows-1254\n"
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"=ZZ =G1 =\r\n=FE=FD=F0 =00 ==== =\x81\x8d")
# base64 with garbage characters, bad padding, and decoding to junk
msg("base64-garbage",
    b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: base64\n",
    b"U2lw!!YXJp@@xZ8g##bm8$$6IDEy%%MzQ1Ng^^==&&==\n\xff\xfe\x00\x81====\n"
    b"QQ\n=\nA")
msg("base64-invalid-utf8",
    b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: base64\n",
    base64.b64encode(b"\xc3\x28\xff\xfe\x81\x8d\xed\xa0\x80\x00"
                     b"sipari\xc5\x9f no 121212"))
# Content-Type with 1,000 parameters; 1,000 charsets; 1,000 RFC 2231
# continuations
msg("ct-1000-params",
    b"MIME-Version: 1.0\nContent-Type: text/plain; " +
    b"; ".join(b"p%d=\"v%d\"" % (i, i) for i in range(1000)) +
    b"; charset=utf-8\n",
    b"parametre\n")
msg("ct-1000-charset-params",
    b"MIME-Version: 1.0\nContent-Type: text/plain; " +
    b"; ".join(b"charset=x-bogus-%d" % i for i in range(1000)) + b"\n",
    b"parametre \xfe\n")
msg("ct-rfc2231-1000-continuations",
    b"MIME-Version: 1.0\nContent-Type: text/plain;\n " +
    b";\n ".join(b"charset*%d*=%s" % (i, b"utf-8''" if i == 0 else
                                       b"%FF%81") for i in range(1000)) +
    b"\nContent-Disposition: inline;\n " +
    b";\n ".join(b"filename*%d*=%%%02X" % (999 - i, i % 256)
                 for i in range(1000)) + b"\n",
    b"devam\n")
msg("ct-garbage", b"MIME-Version: 1.0\nContent-Type: ;;;;/;;=;=\"\n", b"x\n")
msg("cte-unknown",
    b"MIME-Version: 1.0\nContent-Type: text/plain\n"
    b"Content-Transfer-Encoding: x-uuencode-ish\n",
    b"begin 644 x\n`\nend\n")
msg("cte-uuencode-junk",
    b"MIME-Version: 1.0\nContent-Type: text/plain\n"
    b"Content-Transfer-Encoding: x-uuencode\n",
    b"begin 644 x.txt\nM\xff\xfe!!\n`\n")
# boundaries: one that never appears, an empty one, none, a 200-dash one
msg("boundary-never-appears",
    b"MIME-Version: 1.0\n"
    b"Content-Type: multipart/mixed; boundary=\"never-here\"\n",
    b"--elsewhere\nContent-Type: text/plain\n\nsiparis no 556677\n"
    b"--elsewhere--\n")
msg("boundary-empty",
    b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"\"\n",
    b"--\nContent-Type: text/plain\n\nbos sinir\n----\n")
msg("boundary-missing",
    b"MIME-Version: 1.0\nContent-Type: multipart/alternative\n",
    b"--\n\nsinir yok\n")
msg("boundary-200-dashes",
    b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"" +
    b"-" * 200 + b"\"\n",
    b"--" + b"-" * 200 + b"\n\ntire\n--" + b"-" * 200 + b"--\n")
msg("many-parts",
    b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=m\n",
    b"".join(b"--m\nContent-Type: text/plain\n\nparca %d\n" % i
             for i in range(20000)) + b"--m--\n")
msg("rfc822-empty", b"MIME-Version: 1.0\nContent-Type: message/rfc822\n",
    b"")
msg("rfc822-garbage", b"MIME-Version: 1.0\nContent-Type: message/rfc822\n",
    b"\x81\x8d\x00\xff" * 100)
msg("message-partial",
    b"MIME-Version: 1.0\n"
    b"Content-Type: message/partial; id=\"x\"; number=2; total=1\n",
    b"parca\n")
msg("message-external-body",
    b"MIME-Version: 1.0\nContent-Type: message/external-body; "
    b"access-type=local-file; name=\"/etc/passwd\"\n",
    b"Content-Type: text/plain\n\n")
# odd structure
w("headers-only-no-newline", H + b"Subject: yalniz basliklar")
w("cr-only-line-ends",
  (H + b"Subject: cr\n\nsiparis no 343434\n").replace(b"\n", b"\r"))
w("continuation-first", b" folded first\n\tagain\nSubject: x\n\nbody\n")
w("colon-only", b":\n:\n: :\n\n:\n")
# dates PostgreSQL or GLib might not take
msg("dates-absurd", b"Date: Thu, 31 Feb 99999 25:61:61 +9999\n"
    b"Date: Mon, 1 Jan 0001 00:00:00 +1400\n", b"x\n")
w("date-year-1", b"From: a@example.com\n"
  b"Date: Mon, 1 Jan 0001 00:00:00 +0000\nSubject: yil 1\n\nx\n")
w("date-year-999", b"From: a@example.com\n"
  b"Date: Mon, 1 Jan 999 00:00:00 +0000\nSubject: yil 999\n\nx\n")
w("date-year-9999-east", b"From: a@example.com\n"
  b"Date: Fri, 31 Dec 9999 23:59:59 -1200\nSubject: yil 9999\n\nx\n")
# HTML: deep tags, unterminated quote and comment, hostile references
msg("html-hostile",
    b"MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n",
    b"<div>" * 20000 + b"<p a='unterminated>sipari\xc5\x9f no: 909090 "
    b"&#xD800; &#99999999; &#0; &#x110000; &#128; &amp &zwnj; "
    b"<script>x<!-- <b>" + b"<" * 10000 + b"&" * 10000 + b"<!--")
msg("html-nul-and-8bit",
    b"MIME-Version: 1.0\nContent-Type: text/html\n",
    b"<html><body>\x00\x81\x8d\xc3\x28<p>sipari\xfe no 232323</p>"
    b"<style>\x00</style>")
# a second name for the same bytes: stored once
w("blank-lines-again", b"\n" * 5000)
# a 50 MB single line after the headers (over the 25 MB max_size) ...
with open(os.path.join(out, "line-50mb"), "wb") as f:
    f.write(H + b"Message-ID: <line-50mb@t1006>\n"
            b"Subject: buyuk mesaj, siparis no 676767\n\n")
    chunk = b"siparis " * (1 << 17)
    for _ in range(50):
        f.write(chunk)
# ... and a file of 50 MB that is one line and nothing else
with open(os.path.join(out, "line-50mb-no-headers"), "wb") as f:
    f.write(b"Subject: " + b"z" * ((1 << 20) - 9))
    chunk = b"z" * (1 << 20)
    for _ in range(49):
        f.write(chunk)
PYEOF
python3 "$T/gen.py" "$T/bad" || bail "cannot generate the malformed mail"

# inputs: NAME<TAB>PATH
: >"$T/inputs"
if [ -n "$pydata" ]; then
	for f in "$pydata"/*; do
		[ -f "$f" ] && [ -s "$f" ] &&
		    printf 'cpython/%s\t%s\n' "$(basename "$f")" "$f" >>"$T/inputs"
	done
fi
for f in "$T"/bad/*; do
	printf 'malformed/%s\t%s\n' "$(basename "$f")" "$f" >>"$T/inputs"
done
n_py=$(grep -c '^cpython/' "$T/inputs")
n_bad=$(grep -c '^malformed/' "$T/inputs")
if [ -n "$pydata" ]; then
	check "CPython's email corpus: $n_py files in $pydata" [ "$n_py" -ge 40 ]
else
	ok "# SKIP CPython's email test corpus (test.test_email) is not installed"
fi
check "malformed mail: $n_bad files" [ "$n_bad" -ge 60 ]

# --- ikasq extract --------------------------------------------------------
cat >"$T/check.py" <<'PYEOF'
# check.py LIST: LIST has a line NAME<TAB>PATH<TAB>RC<TAB>JSON-FILE<TAB>
# TEXT-RC<TAB>TEXT-JSON-FILE for each input, of ikasq extract FILE and
# ikasq extract --text FILE; prints a line for each: "ok", or the first
# thing wrong
import hashlib, json, sys
KEYS = {"message_id", "date", "from", "to", "subject", "in_reply_to",
        "references", "size", "sha256", "order_numbers", "orders",
        "parse_error", "note"}

def why_rc(rc):
    rc = int(rc)
    if rc == 124:
        return "timed out after 60 s"
    if rc > 128:
        return "killed by signal %d" % (rc - 128)
    return "exit %d" % rc

def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)

def bad_constant(c):
    raise ValueError("non-JSON constant " + c)

def check(rc, out, text):
    if rc != "0":
        return why_rc(rc)
    raw = open(out, "rb").read()
    try:
        d = json.loads(raw.decode("utf-8"), parse_constant=bad_constant)
    except (UnicodeDecodeError, ValueError) as e:
        return "not valid JSON: %s: %r" % (e, raw[:200])
    if not isinstance(d, dict):
        return "not a JSON object"
    want = KEYS | {"text"} if text else KEYS
    if set(d) != want:
        return "keys %s, expected %s" % (sorted(d), sorted(want))
    for s in strings(d):
        if "\0" in s:
            return "a NUL in %r" % s[:80]
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            return "an unpaired surrogate in %r" % s[:80]
    data = open(path, "rb").read()
    if d["size"] != len(data):
        return "size %r, the file has %d bytes" % (d["size"], len(data))
    if d["sha256"] != hashlib.sha256(data).hexdigest():
        return "sha256 %r is not the file's" % d["sha256"]
    if not isinstance(d["from"], dict) or \
       set(d["from"]) != {"address", "name"}:
        return "from is %r" % d["from"]
    for k in ("message_id", "date", "to", "subject", "in_reply_to",
              "parse_error", "note"):
        if d[k] is not None and not isinstance(d[k], str):
            return "%s is %r" % (k, d[k])
    if not isinstance(d["references"], list):
        return "references is %r" % d["references"]
    if not isinstance(d["order_numbers"], list) or \
       not all(isinstance(o, str) and o.isdigit()
               for o in d["order_numbers"]):
        return "order_numbers is %r" % d["order_numbers"]
    if not isinstance(d["orders"], list) or \
       not all(isinstance(o, dict) and set(o) == {"order", "evidence", "where"}
               for o in d["orders"]):
        return "orders is %r" % d["orders"]
    if text and not isinstance(d["text"], str):
        return "text is %r" % d["text"]
    return None

for line in open(sys.argv[1], encoding="utf-8"):
    name, path, rc, out, trc, tout = line.rstrip("\n").split("\t")
    try:
        e = check(rc, out, False)
        if e is None:
            e = check(trc, tout, True)
            if e is not None:
                e = "with --text: " + e
    except Exception as x:
        e = "check failed: %r" % x
    print("ok" if e is None else e.replace("\n", " "))
PYEOF

# Each input twice: extract FILE, and extract --text FILE
i=0
: >"$T/extract.err"
: >"$T/extracted"
while IFS='	' read -r name path; do
	i=$((i + 1))
	timeout 60 "$IKASQ" extract "$path" </dev/null >"$T/out/$i.json" \
	    2>"$T/out/$i.err"
	rc=$?
	timeout 60 "$IKASQ" extract --text "$path" </dev/null \
	    >"$T/out/$i.text.json" 2>>"$T/out/$i.err"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$path" $rc \
	    "$T/out/$i.json" $? "$T/out/$i.text.json" >>"$T/extracted"
	[ -s "$T/out/$i.err" ] &&
	    echo "$name: $(head -c 300 "$T/out/$i.err")" >>"$T/extract.err"
done <"$T/inputs"
python3 "$T/check.py" "$T/extracted" >"$T/checked" 2>&1
is "$(wc -l <"$T/checked" | tr -d ' ')" "$i" "the JSON of every input was checked"
while IFS='	' read -r name path rc; do
	read -r why <&3
	if [ "$why" = ok ]; then
		ok "extract $name: exit 0, valid JSON"
	else
		not_ok "extract $name: exit 0, valid JSON"
		diag "$why"
	fi
done <"$T/extracted" 3<"$T/checked"
is "$(cat "$T/extract.err")" "" "extract printed nothing on stderr"
note=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["note"])' \
    "$T/out/$(grep -n '^malformed/line-50mb	' "$T/inputs" | cut -d: -f1).json" 2>&1)
like "$note" "^message of 52428968 bytes is over the limit of 26214400; only its headers were read$" \
    "extract notes that the 50 MB message was read for its headers only"

# --- ikasq ingest ----------------------------------------------------------
: >"$T/ingest.err"
while IFS='	' read -r name path; do
	sha=$(sha256sum <"$path" | cut -d' ' -f1)
	echo "$sha" >>"$T/shas"
	timeout 60 "$IKASQ" ingest <"$path" >"$T/ingest.out" 2>"$T/ingest.one"
	rc=$?
	cat "$T/ingest.out" >>"$T/ingest.one"
	[ -s "$T/ingest.one" ] && echo "$name: $(head -c 300 "$T/ingest.one")" >>"$T/ingest.err"
	got=$(sql "SELECT count(*) FROM mails WHERE sha256 = '$sha'" </dev/null)
	if [ "$rc" = 0 ] && [ "$got" = 1 ]; then
		ok "ingest $name: exit 0, stored"
	else
		not_ok "ingest $name: exit 0, stored"
		if [ "$rc" = 124 ]; then diag "timed out after 60 s"
		elif [ "$rc" -gt 128 ]; then diag "killed by signal $((rc - 128))"
		else diag "exit $rc"; fi
		diag "rows with its sha256: $got" "$(cat "$T/ingest.one")"
	fi
done <"$T/inputs"
is "$(cat "$T/ingest.err")" "" "ingest printed nothing (on stdout or stderr)"

distinct=$(sort -u "$T/shas" | wc -l | tr -d ' ')
is "$(sql "SELECT count(*) FROM mails")" "$distinct" \
    "one row per distinct content: $distinct rows for $((n_py + n_bad)) files"
is "$(sql "SELECT count(*) FROM mails WHERE body_text IS NULL")" 0 \
    "no row without body_text"
is "$(sql "SELECT count(*) FROM mails WHERE length(convert_to(
	coalesce(message_id, '') || coalesce(from_email, '') ||
	coalesce(from_name, '') || coalesce(to_email, '') ||
	coalesce(subject, '') || coalesce(in_reply_to, '') ||
	coalesce(references_ids, '') || body_text ||
	coalesce(parse_error, '') || coalesce(note, ''), 'UTF8')) >= 0")" \
    "$(sql "SELECT count(*) FROM mails")" \
    "every text column of every row converts to UTF-8"
is "$(sql "SELECT count(*) FROM mails WHERE position('\\000'::bytea IN convert_to(body_text || coalesce(subject, ''), 'UTF8')) > 0")" 0 \
    "no NUL in body_text or subject"
is "$(sql "SELECT count(*) FROM mails WHERE raw IS NULL OR encode(sha256(raw), 'hex') <> sha256 OR length(raw) <> size_bytes")" 0 \
    "every row keeps the raw bytes it was given"
is "$(sql "SELECT count(*) FROM mails WHERE order_numbers IS NULL OR jsonb_typeof(orders) <> 'array'")" 0 \
    "order_numbers and orders are set on every row"

# what the man page promises for some of them
sha_of() { sha256sum <"$T/bad/$1" | cut -d' ' -f1; }
is "$(sql "SELECT body_text = '' AND note = 'message of 52428968 bytes is over the limit of 26214400; only its headers were read', subject, order_numbers FROM mails WHERE sha256 = '$(sha_of line-50mb)'")" \
    "t|buyuk mesaj, siparis no 676767|{676767}" \
    "the 50 MB message: headers stored, no text, a note"
is "$(sql "SELECT body_text = '' AND note LIKE 'message of 52428800 bytes is over the limit%' FROM mails WHERE sha256 = '$(sha_of line-50mb-no-headers)'")" \
    t "the 50 MB line without headers: no text, a note"
is "$(sql "SELECT count(*) FROM job_queue WHERE payload->'order_numbers' ? '676767'")" 1 \
    "its order number (from the subject) is queued"
is "$(sql "SELECT from_name, subject, order_numbers FROM mails WHERE sha256 = '$(sha_of 8bit-headers-cp1254)'")" \
    "Öztürk Şçğ|Sipariş no 777888 hakkında şığ|{777888}" \
    "raw windows-1254 headers are read as windows-1254"
is "$(sql "SELECT parse_error IS NOT NULL FROM mails WHERE sha256 = '$(sha_of random-binary)'")" \
    t "random bytes are stored with a parse_error"
# A NUL byte in an otherwise valid UTF-8 body costs that byte, not the
# decoding of the whole body
is "$(sql "SELECT body_text LIKE 'Sipariş no: 998877%' AND order_numbers = '{998877}' FROM mails WHERE sha256 = '$(sha_of nul-in-utf8-body)'")" \
    t "a NUL in a UTF-8 body leaves the rest UTF-8 and the order found"

# empty input: refused, nothing stored
: >"$T/empty"
n0=$(sql "SELECT count(*) FROM mails")
exits 65 "extract of an empty file" "$IKASQ" extract "$T/empty"
exits 65 "ingest of an empty message" sh -c "'$IKASQ' ingest <'$T/empty'"
is "$(sql "SELECT count(*) FROM mails")" "$n0" "nothing stored for it"

# the MTA delivers everything again: nothing new (the 50 MB ones aside)
rm -f "$T"/bad/line-50mb*
: >"$T/again"
while IFS='	' read -r name path; do
	[ -f "$path" ] || continue
	timeout 60 "$IKASQ" ingest <"$path" >/dev/null 2>&1 ||
	    echo "$name: exit $?" >>"$T/again"
done <"$T/inputs"
is "$(cat "$T/again")" "" "a second delivery of every input exits 0"
is "$(sql "SELECT count(*) FROM mails")" "$distinct" "and stores nothing new"
done_testing
