#!/usr/bin/env python3
"""ingest-python.py MBOX [--dump FILE]: what `ikasq extract --mbox` does, in Python.

The comparison side of bench/ingest.  For every message of the mboxrd file
MBOX (split and ">From "-unescaped as ikasq's src/mailbox.c does) it

  - parses the message with the standard email package
    (email.message_from_bytes(raw, policy=email.policy.default)),
  - takes the decoded subject and the readable text as src/mime.c does:
    text/plain preferred in multipart/alternative, else the HTML stripped of
    tags (regular expressions and html.unescape), every part of other
    multiparts, attachments skipped, message/rfc822 parts descended into
    with their From and Subject; charset from the part, else UTF-8 if valid,
    else windows-1254,
  - folds the text as src/extract.c does (lower case, Turkish letters as
    ASCII, quotes, blanks squeezed, newlines kept),
  - runs src/extract.c's patterns, ported to Python's re: the strong
    patterns, the weak one with its veto words, the list continuation and
    the price/quantity and year filters.

Evidence is the matched folded text (ikasq maps it back to the original
bytes; that is left out here).  Prints one summary line on stdout:

  python: N messages, P with order numbers, K order numbers, S s, R msgs/s

With --dump FILE, writes MESSAGE-ID<TAB>ORDERS (comma-separated in the
order found, "-" if none) per message, for comparing with ikasq's.
"""
import email
import email.policy
import html
import mmap
import re
import sys
import time

# --- src/extract.c, ported -----------------------------------------------------
# GRegex runs with G_REGEX_RAW and G_REGEX_MULTILINE: on the UTF-8 bytes of
# the folded text, with ASCII classes; here bytes patterns with re.MULTILINE,
# so that counts ({0,80}, the veto window, the list prefix) are in bytes as
# there.  PCRE's (?<order>...) is (?P<order>...).
MIN_DIGITS, MAX_DIGITS = 4, 9
NUMBER = (r"(?<![\da-z])(?<!\d[.,/-])(?P<order>[1-9]\d{%d,%d})"
          r"(?:-\d{1,2}(?![\d-]))?(?!\d|[.,/:-]\d)") % (MIN_DIGITS - 1, MAX_DIGITS - 1)
KW = (r"(?:s[iy]?(?:par|pra|apr|pr|pa)[iy]s[a-z]*|(?:sip|spr)\.?"
      r"(?=\s*no\b)|orders?)")
NO = r"(?:no|nu|num|numara\w*|number|nr|id|kodu?|kod\w*)"
BETWEEN = (r"(?:\s*(?:" + NO + r"\.?|is|:|=|-|#|\(|ettim|verdim|"
           r"ettigim|verdigim)){0,4}")
INFIX = (r"(?:'?\s*(?:nolu|no'?lu|no\.?lu|numarali|sayili|"
         r"nr'?li)|'\w{1,4})")
BEFORE = r"(?:^|(?<=[\s(\[>:#\"']))#?\s?"
STRONG = [
    r"\b" + KW + BETWEEN + r"\s*#?\s*{N}",
    BEFORE + "{N}" + INFIX + r"?\s+" + KW,
    BEFORE + r"{N}'?\s*(?:nolu|no'?lu|no\.?lu|numarali|sayili)\s+paket",
]
WEAK = [
    r"(?:^|(?<=[\s(\[>:,]))#\s?{N}",
]
VETO = [w.encode() for w in [
    "fatura", "invoice", "takip", "tracking", "gonderi kodu",
    "gonderi no", "kargo kodu", "kargo no", "barkod", "iade kodu",
    "iade no", "return", "musteri no", "musteri numara", "customer",
    "kupon", "coupon", "sku", "urun kodu", "stok kodu", "kimlik", "iban",
    "tel", "gsm", "fax", "posta kodu", "kart", "ticket", "talep", "vaka",
    "case", "ref", "destek", "support",
]]
VETO_WINDOW = 32


def rx(pattern):
    return re.compile(pattern.encode("utf-8"), re.MULTILINE)


PATTERNS = ([(rx(p.replace("{N}", NUMBER)), False) for p in STRONG] +
            [(rx(p.replace("{N}", NUMBER)), True) for p in WEAK])
LIST_NEXT = rx(r"^(?:\s*(?:,|;|/|&|\+|ve|and|ile|veya|or)\s*#?\s*)" + NUMBER)
LIST_PREV = rx(r"#?" + NUMBER + r"\s*(?:,|&|\+|ve|and|ile|veya|or)\s*#?\s*\Z")
LIST_HEAD = rx(r"\b" + KW + r"[^:.?!\n]{0,80}(?:\n[^:.?!\n]{0,80})?:[ ]*\n")
LIST_ITEM = rx("^[ ]*(?:-|\\*|\u2022|\u00b7|>|\\d{1,2}[.)])?[ ]*#?" + NUMBER)
REJECT_AFTER = rx(
    r"^(?:-\d{1,2})?\s*(?:tl\b|try\b|lira|" "\u20ba" r"|\$|" "\u20ac" r"|usd\b|eur\b|adet|tane|"
    r"gun\b|saat|dk\b|dakika|kg\b|gr\b|ml\b|cm\b|mm\b)")
YEAR_AFTER = rx(
    r"^(?:'(?:de|da|te|ta|den|dan|ten|tan|e|a|ye|ya|"
    r"deki|daki|teki|taki)\b|\s*yil|\s*senesi)")

FOLD = str.maketrans({
    "ç": "c", "Ç": "c", "ğ": "g", "Ğ": "g", "ı": "i", "İ": "i", "î": "i",
    "Î": "i", "ö": "o", "Ö": "o", "ş": "s", "Ş": "s", "ü": "u", "Ü": "u",
    "û": "u", "Û": "u", "â": "a", "Â": "a", "\u2019": "'", "\u2018": "'",
    "\u00b4": "'", "`": "'", "\u2116": "no", "\uff03": "#",
})
BLANKS = re.compile("[ \t\r\u00a0\u202f\u2007\u200b]+")
AROUND_NL = re.compile(" ?\n ?")
DIGITS = b"0123456789"


def fold(text):
    """src/extract.c fold(), as UTF-8 bytes: Turkish letters as ASCII,
    lower case, blank runs as one space, none at the start of a line or
    before a newline."""
    s = BLANKS.sub(" ", text.translate(FOLD).lower())
    s = AROUND_NL.sub("\n", s)
    if s.startswith(" "):
        s = s[1:]
    return s.encode("utf-8", errors="replace")


def rejected(f, os_, oe):
    # as in C: the filters are anchored where the number ends
    rest = f[oe:]
    if REJECT_AFTER.match(rest):
        return True
    return (oe - os_ == 4 and f[os_:os_ + 2] in (b"19", b"20")
            and YEAR_AFTER.match(rest) is not None)


def vetoed(f, ms):
    start = max(ms - VETO_WINDOW, 0)
    nl = f.rfind(b"\n", start, ms)
    if nl >= 0:
        start = nl + 1
    window = f[start:ms]
    for w in VETO:
        k = window.find(w)
        # a word start: "tel" in "telefon", not in "hotel"
        while k > 0 and window[k - 1:k].isalnum():
            k = window.find(w, k + 1)
        if k >= 0:
            return True
    return False


def add(found, order, evidence, where):
    order = order.decode("ascii")
    if order not in found:
        found[order] = (b" ".join(evidence.split())[-120:].decode("utf-8", "replace"),
                        where)


def take_lists(f, found, ms, me, where):
    pos = me
    while True:
        m = LIST_NEXT.match(f[pos:])
        if m is None:
            break
        os_, oe = m.start("order") + pos, m.end("order") + pos
        if rejected(f, os_, oe):
            break
        add(found, f[os_:oe], f[os_:oe], where)
        pos += m.end()
    # "12345 ve 12346 numaralı siparişler": only when the match starts
    # with its number, not with an order word
    k = ms
    while k < len(f) and f[k] in b"# ":
        k += 1
    if k < len(f) and f[k] not in DIGITS:
        return
    start = max(ms - 48, 0)
    m = LIST_PREV.search(f[start:ms])
    if m is not None:
        add(found, m.group("order"), m.group("order"), where)


def take_items(f, found, pos, where):
    """The lines from pos on that each start with a number, as in a list."""
    while pos < len(f) and f[pos] == 10:
        pos += 1
    while pos < len(f):
        m = LIST_ITEM.match(f[pos:])
        if m is None:
            break
        os_, oe = m.start("order") + pos, m.end("order") + pos
        if not rejected(f, os_, oe):
            add(found, f[os_:oe], f[os_:oe], where)
        nl = f.find(b"\n", pos)
        if nl < 0:
            break
        pos = nl + 1


def scan(found, text, where):
    if not text:
        return
    f = fold(text)
    for pattern, weak in PATTERNS:
        for m in pattern.finditer(f):
            ms, me = m.span()
            if weak and vetoed(f, ms):
                continue
            before = len(found)
            os_, oe = m.span("order")
            if os_ >= 0 and not rejected(f, os_, oe):
                add(found, f[os_:oe], f[ms:me], where)
            if len(found) > before or not weak:
                take_lists(f, found, ms, me, where)
    # "Aşağıdaki siparişlerim:" and then one number per line
    for m in LIST_HEAD.finditer(f):
        take_items(f, found, m.end(), where)


def extract_orders(subject, body):
    """{order: (evidence, where)}, subject first, then in order found."""
    subj, bod = {}, {}
    scan(subj, subject, "subject")
    scan(bod, body, "body")
    for k, v in bod.items():
        subj.setdefault(k, v)
    return subj


# --- src/mime.c and src/html.c, the Python way --------------------------------
HIDDEN = re.compile(r"<(script|style|head|noscript|template|svg)\b.*?</\1\s*>", re.S | re.I)
COMMENT = re.compile(r"<!--.*?-->", re.S)
BLOCK = re.compile(r"</?(?:p|div|br|li|ul|ol|tr|table|h[1-6]|blockquote|pre|hr|dt|dd|dl|"
                   r"section|article|header|footer|address|center|tbody|thead|tfoot|"
                   r"form|fieldset|title)\b[^>]*>", re.I)
CELL = re.compile(r"</?t[dh]\b[^>]*>", re.I)
TAG = re.compile(r"<[^>]*>")
HTML_BLANKS = re.compile(r"[ \t\r\n]+")
EMPTY_LINES = re.compile(r"\n[ \n]*\n")


def html_to_text(s):
    s = COMMENT.sub("", s)
    s = HIDDEN.sub("", s)
    s = HTML_BLANKS.sub(" ", s)
    s = BLOCK.sub("\n", s)
    s = CELL.sub(" ", s)
    s = TAG.sub("", s)
    s = html.unescape(s)
    s = re.sub(r" *\n *", "\n", s)
    s = EMPTY_LINES.sub("\n\n", s)
    return s.strip(" \n")


def to_text(data, charset):
    """UTF-8 text of bytes in charset; unknown: UTF-8 if valid, else
    windows-1254 (Turkish mail), as src/mime.c to_utf8()."""
    if charset:
        try:
            return data.decode(charset, errors="replace").replace("\0", " ")
        except LookupError:
            pass
    try:
        return data.decode("utf-8").replace("\0", " ")
    except UnicodeDecodeError:
        return data.decode("cp1254", errors="replace").replace("\0", " ")


def part_text(part):
    data = part.get_payload(decode=True) or b""
    t = to_text(data, part.get_param("charset"))
    if part.get_content_type() == "text/html":
        t = html_to_text(t)
    return t


def add_message(msg, out, depth, header):
    if msg is None:
        return
    if header:
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        out.append("\n---------- attached message ----------\n")
        frm = header_text(msg.get("from"))
        if frm:
            out.append("From: %s\n" % frm)
        subject = header_text(msg.get("subject"))
        if subject is not None:
            out.append("Subject: %s\n" % subject)
        out.append("\n")
    add_text(msg, out, depth)


def add_text(part, out, depth):
    """Append the readable text of part to out (a list); True if any."""
    if depth > 64:
        return False
    before = len(out)
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        inner = part.get_payload()
        add_message(inner[0] if inner else None, out, depth + 1, True)
    elif part.is_multipart():
        children = part.get_payload()
        if ctype == "multipart/alternative":
            for c in children:
                if c.get_content_type() == "text/plain" and add_text(c, out, depth + 1):
                    return True
            for c in reversed(children):
                if add_text(c, out, depth + 1):
                    return True
            return False
        for c in children:
            add_text(c, out, depth + 1)
    elif part.get_content_disposition() != "attachment":
        if ctype not in ("text/plain", "text/html", "text/enriched"):
            return False
        t = part_text(part)
        if t:
            if out and not out[-1].endswith("\n"):
                out.append("\n")
            out.append(t)
    return len(out) > before


def header_text(value):
    """A header as text; raw 8-bit bytes in it (which the email package
    keeps as surrogate escapes) read as src/mime.c reads them."""
    if value is None:
        return None
    s = str(value)
    if any("\udc80" <= c <= "\udcff" for c in s):
        s = to_text(s.encode("utf-8", errors="surrogateescape"), None)
    return s


def mail_text(raw):
    """(message-id, subject, body) of a raw message."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = []
    add_message(msg, out, 0, False)
    mid = msg.get("message-id")
    return (str(mid).strip().strip("<>") if mid else None,
            header_text(msg.get("subject")), "".join(out))


# --- src/mailbox.c: mboxrd ----------------------------------------------------
FROM_ESCAPED = re.compile(rb"^>(>*From )", re.M)


def separators(data):
    """Where the "From " lines start: at the start of the file and after
    an empty line."""
    starts = [0] if data[:5] == b"From " else []
    k = data.find(b"\nFrom ")
    while k >= 0:
        if k == 0 or data[k - 1] == 10 or (data[k - 1] == 13 and k >= 2 and
                                           data[k - 2] == 10):
            starts.append(k + 1)
        k = data.find(b"\nFrom ", k + 1)
    return starts


def messages(data):
    starts = separators(data)
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(data)
        nl = data.find(b"\n", s, e)
        start = nl + 1 if nl >= 0 else e
        end = e
        # the blank line before the next separator (or the end of the
        # file) belongs to the mbox, not to the message
        if k + 1 < len(starts):
            if end > start and data[end - 1:end] == b"\n":
                end -= 1
        elif (end - start >= 2 and data[end - 1:end] == b"\n" and
              (data[end - 2:end - 1] == b"\n" or
               (data[end - 2:end - 1] == b"\r" and end - start >= 3 and
                data[end - 3:end - 2] == b"\n"))):
            end -= 1
        if end > start and data[end - 1:end] == b"\r":
            end -= 1
        raw = data[start:end]
        if b">From " in raw:
            raw = FROM_ESCAPED.sub(rb"\1", raw)
        yield raw


def main(argv):
    dump = None
    args = []
    k = 0
    while k < len(argv):
        if argv[k] == "--dump" and k + 1 < len(argv):
            dump = argv[k + 1]
            k += 2
            continue
        args.append(argv[k])
        k += 1
    if len(args) != 1:
        sys.stderr.write("usage: ingest-python.py MBOX [--dump FILE]\n")
        return 2
    t0 = time.monotonic()
    n = with_orders = norders = 0
    out = open(dump, "w", encoding="utf-8") if dump else None
    with open(args[0], "rb") as fh:
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        for raw in messages(data):
            n += 1
            mid, subject, body = mail_text(raw)
            found = extract_orders(subject, body)
            with_orders += bool(found)
            norders += len(found)
            if out:
                out.write("%s\t%s\n" % (mid, ",".join(found) or "-"))
    if out:
        out.close()
    el = time.monotonic() - t0
    print("python: %d messages, %d with order numbers, %d order numbers, %.1f s, %.0f msgs/s"
          % (n, with_orders, norders, el, n / el if el > 0 else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
