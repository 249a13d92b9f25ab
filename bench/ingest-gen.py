#!/usr/bin/env python3
"""ingest-gen.py N OUT.mbox [SEED] [--truth FILE]: a generated mbox for bench/ingest.

Writes N Turkish customer-support mails as mboxrd to OUT.mbox: "From "
separator lines, ">From " escaping, a blank line after every message.  The
corpus is deterministic: message i depends only on SEED (default 1) and i,
so the corpus of N/4 messages is the first quarter of the corpus of N.

The mix (by weight): UTF-8 8bit 22, UTF-8 quoted-printable 12, UTF-8 base64
8, windows-1254 labelled 8, windows-1254 unlabelled 5, ISO-8859-9 7,
HTML only 8, multipart/alternative 12, multipart/mixed with a binary
attachment of 20-200 KB as base64 10, forwarded message/rfc822 8.  About
70 % of the mails name one to three order numbers ("12345 numaralı
siparişim", "sipariş no: 12345", "#12345 nolu sipariş", "order #12345",
package "12345-1", lists after a match or under a heading), in the
subject, the body, a quoted reply or the forwarded message; most carry
distractor numbers (phones, prices, tracking and invoice numbers, dates,
postal codes, IBANs, support tickets).  Message-IDs are unique.

With --truth FILE, writes one line per message: MESSAGE-ID<TAB>ORDERS
(the planted order numbers, comma-separated, or "-").  A summary goes to
stderr.
"""
import base64
import quopri
import random
import sys
from datetime import datetime, timedelta, timezone

FIRST = ["Ayşe", "Fatma", "Emine", "Hatice", "Zeynep", "Elif", "Merve",
         "Büşra", "Özlem", "Gülşen", "Şeyma", "Çiğdem", "İrem", "Ebru",
         "Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim",
         "Emre", "Burak", "Oğuz", "Çağrı", "Gökhan", "Ümit", "Serkan",
         "Tuğba", "Derya", "Sevgi", "Kübra", "Yasemin", "Şule", "Barış",
         "Uğur", "Onur", "Volkan", "Selin", "Deniz"]
LAST = ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım",
        "Öztürk", "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan",
        "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat", "Güneş",
        "Erdoğan", "Aktaş", "Korkmaz", "Işık", "Gündüz", "Bulut", "Türkmen",
        "Ünal"]
SHOPS = [("Örnek Mağaza", "ornekmagaza.com"), ("Lale Butik", "lalebutik.com.tr"),
         ("Kuzey Outdoor", "kuzeyoutdoor.com"), ("Pamuk Ev Tekstili", "pamukev.com.tr"),
         ("Mavi Kitap", "mavikitap.com"), ("Nar Kozmetik", "narkozmetik.com.tr")]
DOMAINS = ["gmail.com", "hotmail.com", "outlook.com", "yahoo.com",
           "icloud.com", "yandex.com.tr", "windowslive.com"]
CITIES = ["Kadıköy/İstanbul", "Çankaya/Ankara", "Karşıyaka/İzmir",
          "Nilüfer/Bursa", "Muratpaşa/Antalya", "Şahinbey/Gaziantep",
          "Odunpazarı/Eskişehir", "Atakum/Samsun", "Üsküdar/İstanbul"]
STREETS = ["Atatürk Cad.", "Cumhuriyet Mah. Gül Sok.", "İnönü Bulvarı",
           "Bağdat Cad.", "Fevzi Çakmak Mah. 1453 Sok.", "Şehit Er Sok.",
           "Gazi Mustafa Kemal Bulvarı", "372/1 Sokak", "Çınar Sok."]
PRODUCTS = ["keten gömlek", "deri bot", "yün hırka", "nevresim takımı",
            "kahve makinesi", "spor ayakkabı", "kadın montu", "çocuk tulumu",
            "seramik vazo", "nemlendirici krem", "kitap seti", "sırt çantası",
            "pamuklu pike", "termos", "ipek eşarp", "kot pantolon"]
ASCII = str.maketrans("çÇğĞıİöÖşŞüÜâÂîÎûÛ", "cCgGiIoOsSuUaAiIuU")
KINDS = [("utf8-8bit", 22), ("utf8-qp", 12), ("utf8-base64", 8),
         ("cp1254", 8), ("cp1254-unlabelled", 5), ("iso-8859-9", 7),
         ("html", 8), ("alternative", 12), ("attachment", 10),
         ("forwarded", 8)]


def ascii_name(s):
    return s.translate(ASCII).lower()


class Mail:
    """What one generated message is made of."""

    def __init__(self, rng, i, seed):
        self.rng = rng
        self.i = i
        self.seed = seed
        self.orders = []

    def order(self):
        r = self.rng.random()
        if r < 0.45:
            n = self.rng.randint(1000, 99999)
        elif r < 0.85:
            n = self.rng.randint(100000, 999999)
        else:
            n = self.rng.randint(1000000, 9999999)
        s = str(n)
        if s not in self.orders:
            self.orders.append(s)
        return s


def digits(rng, n):
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


def phone(rng):
    p = "5" + str(rng.choice([30, 32, 33, 35, 36, 38, 39, 42, 43, 44, 46, 52, 53, 54, 55])) + digits(rng, 7)
    style = rng.randrange(4)
    if style == 0:
        return "0%s %s %s %s" % (p[:3], p[3:6], p[6:8], p[8:])
    if style == 1:
        return "0" + p
    if style == 2:
        return "+90 %s %s %s" % (p[:3], p[3:6], p[6:])
    return "(0%s) %s %s %s" % (p[:3], p[3:6], p[6:8], p[8:])


def price(rng):
    lira = rng.randint(49, 4999)
    kurus = rng.choice([0, 90, 99, 50, 0])
    style = rng.randrange(4)
    if style == 0:
        s = "{:,}".format(lira).replace(",", ".")
        return "%s,%02d TL" % (s, kurus)
    if style == 1:
        return "%d,%02d ₺" % (lira, kurus)
    if style == 2:
        return "%d TL" % lira
    return "₺%d" % lira


def date(rng):
    d = datetime(2024, 1, 1) + timedelta(days=rng.randrange(180))
    style = rng.randrange(3)
    if style == 0:
        return d.strftime("%d.%m.%Y")
    if style == 1:
        return d.strftime("%d/%m/%Y")
    return d.strftime("%Y-%m-%d")


def distractor(m):
    """A sentence with numbers that are not order numbers."""
    rng = m.rng
    k = rng.randrange(16)
    if k == 0:
        return "Telefon numaram %s, ulaşamazsanız mesaj atabilirsiniz." % phone(rng)
    if k == 1:
        return "Toplam %s ödedim, kargo ücreti de %s olarak yansıdı." % (price(rng), price(rng))
    if k == 2:
        return "Kargo takip numarası: %s ama sistemde hiçbir hareket görünmüyor." % digits(rng, 13)
    if k == 3:
        return "Yurtiçi Kargo gönderi kodu %s olarak mesaj geldi." % digits(rng, 10)
    if k == 4:
        return "Fatura no: %s olan faturada vergi numaram yanlış yazılmış." % digits(rng, rng.randint(5, 7))
    if k == 5:
        return "Müşteri numaram %s, kayıtlı e-posta adresimi değiştirmek istiyorum." % digits(rng, 5)
    if k == 6:
        return "%s tarihinde saat %02d:%02d civarı kurye geldi ama kimse zili çalmadı." % (
            date(rng), rng.randint(9, 21), rng.choice([0, 15, 30, 45]))
    if k == 7:
        return "Adresim: %s No: %d D: %d, %s %s" % (
            rng.choice(STREETS), rng.randint(1, 250), rng.randint(1, 20),
            digits(rng, 5), rng.choice(CITIES))
    if k == 8:
        return "İade tutarını TR%s %s %s %s %s %s %s numaralı IBAN'a yatırabilirsiniz." % (
            digits(rng, 2), digits(rng, 4), digits(rng, 4), digits(rng, 4),
            digits(rng, 4), digits(rng, 4), digits(rng, 2))
    if k == 9:
        return "%d adet %s aldım, %d numara olanı büyük geldi." % (
            rng.randint(2, 4), rng.choice(PRODUCTS), rng.randint(36, 44))
    if k == 10:
        return "INDIRIM%d kodunu kullandım ama %%%d indirim sepete yansımadı." % (
            rng.choice([10, 15, 20, 25]), rng.choice([10, 15, 20, 25]))
    if k == 11:
        return "Talep #%s için hâlâ dönüş bekliyorum." % digits(rng, 5)
    if k == 12:
        return "İade kodu %s ile kargoya verdim, %d gündür para iadesi yapılmadı." % (
            digits(rng, 6), rng.randint(3, 15))
    if k == 13:
        return "Ürün kodu %s olan %s stokta görünüyor ama sepete eklenmiyor." % (
            digits(rng, 5), rng.choice(PRODUCTS))
    if k == 14:
        return "%d yılından beri sizden alışveriş yapıyorum, ilk defa böyle bir sorun yaşıyorum." % (
            rng.randint(2015, 2023))
    return "Kartımın son 4 hanesi %s, ekstrede iki kez %s çekilmiş görünüyor." % (
        digits(rng, 4), price(rng))


ISSUES = [
    "hâlâ kargoya verilmedi, ne zaman gönderilecek?",
    "5 gündür \"Hazırlanıyor\" görünüyor.",
    "yanlış beden geldi, değişim yapmak istiyorum.",
    "iptal etmek istiyorum, henüz kargoya verilmediyse lütfen iptal edin.",
    "hasarlı geldi, kutu ezilmişti ve ürün kırık çıktı.",
    "eksik geldi, paketten sadece bir ürün çıktı.",
    "için fatura adresimi değiştirmem gerekiyor.",
    "teslim edildi görünüyor ama elime ulaşmadı.",
    "için iade talebi oluşturdum, onay bekliyorum.",
    "ile ilgili kimse bana dönüş yapmadı.",
]
AFTER_LABEL = [
    "Ürünler hâlâ elime ulaşmadı, kargo takibinde hareket yok.",
    "Paketten yanlış renk çıktı, değişim yapmak istiyorum.",
    "Henüz kargoya verilmediyse iptal edebilir misiniz?",
    "Kutu ezik geldi, üründe kırık var. Fotoğraf ekleyebilirim.",
    "Faturayı şirket adına kesmeniz gerekiyordu.",
    "Teslim edildi görünüyor ama elime ulaşmadı.",
    "İade kargosunu gönderdim, para iadesi ne zaman yapılır?",
]
NEG_ISSUES = [
    "Siparişimi nasıl takip edebilirim? Sitede sipariş numaramı bulamıyorum.",
    "Bu ürün ne zaman tekrar stoğa girecek?",
    "Kapıda ödeme seçeneği var mı acaba?",
    "Sipariş verirken kartım reddedildi, başka bir yöntem önerebilir misiniz?",
    "Geçen hafta verdiğim siparişin numarasını bilmiyorum, e-posta adresimle bakabilir misiniz?",
    "Beden tablosunda M beden kaç cm'e denk geliyor?",
    "Mağazanız hafta sonu açık mı?",
    "Hediye paketi yapıyor musunuz?",
    "Üyelik bilgilerimi güncellemek istiyorum, şifre sıfırlama maili gelmiyor.",
    "Kampanya ne zamana kadar geçerli?",
]


def np_phrase(m, o):
    """A noun phrase naming order o: the subject of a sentence."""
    k = m.rng.randrange(9)
    return [
        "%s numaralı siparişim", "%s nolu siparişim", "#%s nolu siparişim",
        "#%s numaralı siparişim", "Siparişim %s", "%s sayılı siparişim",
        "%s no'lu siparişim", "%s numaralı siparişimdeki %s",
        "Sipariş #%s",
    ][k] % ((o, m.rng.choice(PRODUCTS)) if k == 7 else o)


def label_line(m, o):
    """A line that labels order o."""
    k = m.rng.randrange(9)
    return [
        "Sipariş no: %s", "Sipariş Numarası: #%s", "Siparis No:%s",
        "Sip no %s", "Sipariş numaram %s.", "Sipariş kodu: %s",
        "siparis numaram: %s", "SİPARİŞ NO: %s", "Sipariş No.: %s",
    ][k] % o


def english_order(m, o):
    k = m.rng.randrange(4)
    return ["my order #%s", "order number %s", "Order No. %s", "order #%s"][k] % o


def cap(s):
    return s[0].upper() + s[1:] if s else s


def order_paragraph(m):
    """One paragraph naming one or more orders."""
    rng = m.rng
    r = rng.random()
    if r < 0.08:
        a, b = m.order(), m.order()
        return "%s ve %s numaralı siparişlerim tek pakette gelecekti, ikisi de %s" % (
            a, b, rng.choice(ISSUES))
    if r < 0.12:
        a, b, c = m.order(), m.order(), m.order()
        return "Sipariş numaralarım: %s, %s ve %s. Üçünü de iade etmek istiyorum." % (a, b, c)
    if r < 0.15:
        a, b = m.order(), m.order()
        return "İade etmek istediğim siparişlerim şunlar:\n- %s (%s)\n- %s (%s)" % (
            a, rng.choice(PRODUCTS), b, rng.choice(PRODUCTS))
    if r < 0.20:
        o = m.order()
        return "Siparişim iki ayrı paket halinde gönderilmiş. %s-2 numaralı paket dün geldi, ama %s-1 numaralı paketim hâlâ \"dağıtımda\" görünüyor." % (o, o)
    if r < 0.28:
        o = m.order()
        return "Bir de şunu sormak istiyorum:\n#%s ne zaman kargoya verilir?" % o
    if r < 0.60:
        o = m.order()
        return "%s %s" % (cap(np_phrase(m, o)), rng.choice(ISSUES))
    o = m.order()
    return "%s\n%s" % (label_line(m, o), rng.choice(AFTER_LABEL))


def customer(m):
    rng = m.rng
    f, l = rng.choice(FIRST), rng.choice(LAST)
    sep = rng.choice([".", "", "_"])
    addr = "%s%s%s%s@%s" % (ascii_name(f), sep, ascii_name(l),
                            rng.choice(["", str(rng.randint(1, 99))]),
                            rng.choice(DOMAINS))
    return f, l, addr


def quoted_reply(m, shop, o=None):
    rng = m.rng
    lines = ["Merhaba,", "",
             "Talebiniz alınmıştır. Talep numaranız: %s" % digits(rng, 5),
             "Müşteri hizmetlerimiz en geç 2 iş günü içinde size dönüş yapacaktır."]
    if o is not None:
        lines += ["", "%s numaralı siparişiniz kargoya verilmiştir." % o,
                  "Kargo takip numaranız: %s" % digits(rng, 12)]
    lines += ["", "Çalışma saatlerimiz: hafta içi 09.00-18.00",
              "Müşteri hizmetleri: 0850 %s %s %s" % (digits(rng, 3), digits(rng, 2), digits(rng, 2)),
              "", "Saygılarımızla,", "%s Müşteri Hizmetleri" % shop[0]]
    head = "%s tarihinde %s <destek@%s> şunu yazdı:" % (date(rng), shop[0], shop[1])
    return head + "\n" + "\n".join(("> " + l) if l else ">" for l in lines)


def body_text(m, shop, positive, english):
    """The customer's text (UTF-8 str) and a subject."""
    rng = m.rng
    f, l = m.name
    paras = []
    subject = None
    if english:
        if positive:
            o = m.order()
            e = english_order(m, o)
            paras.append("Hello,")
            paras.append("I placed %s on %s and it still has not shipped. "
                         "From the tracking page it looks stuck in Istanbul." % (e, date(rng)))
            if rng.random() < 0.3:
                paras.append("From now on please contact me at %s." % phone(rng))
            subject = rng.choice(["Where is my order?", "Order %s" % o,
                                  "Re: Your order #%s has been received" % o,
                                  "Shipping question"])
        else:
            paras.append("Hi,")
            paras.append("From what I see on your site you ship to Germany, "
                         "is that right? My postcode is %s." % digits(rng, 5))
            subject = "Question about shipping"
        paras.append(distractor(m))
        paras.append("Thanks,\n%s %s" % (f.translate(ASCII), l.translate(ASCII)))
        return subject, "\n\n".join(paras) + "\n"
    paras.append(rng.choice(["Merhaba,", "İyi günler,", "Merhabalar,",
                             "Selamlar,", "Sayın yetkili,", "Merhaba, iyi çalışmalar."]))
    in_subject = positive and rng.random() < 0.12
    quote_order = None
    if positive and not in_subject:
        n = 1 if rng.random() < 0.8 else 2
        for _ in range(n):
            if quote_order is None and rng.random() < 0.1:
                quote_order = m.order()
            else:
                paras.append(order_paragraph(m))
    elif not positive:
        paras.append(rng.choice(NEG_ISSUES))
    for _ in range(rng.randint(0, 3)):
        paras.append(distractor(m))
    paras.append(rng.choice(["Bilgi verebilir misiniz?", "Yardımcı olursanız sevinirim.",
                             "Acil dönüş bekliyorum.", "Teşekkürler.",
                             "Konuyla ilgili bilgi rica ediyorum."]))
    sig = rng.choice(["İyi çalışmalar,", "Teşekkürler,", "Saygılarımla,", "Kolay gelsin,"])
    sig += "\n%s %s" % (f, l)
    if rng.random() < 0.5:
        sig += "\n" + phone(rng)
    paras.append(sig)
    if rng.random() < 0.35 or quote_order is not None:
        paras.append(quoted_reply(m, shop, quote_order))
    if rng.random() < 0.03:
        paras.append(">From the shop's FAQ: returns within 14 days.")
    if in_subject:
        o = m.order()
        subject = rng.choice(["Re: Siparişiniz Alındı #%s", "Sipariş No: %s hakkında",
                              "%s numaralı siparişim", "Re: Siparişiniz kargoya verildi #%s",
                              "Siparis %s iade",
                              "Re: Siparişiniz kargoya verildi ama hâlâ teslim edilmedi, sipariş no: %s"]) % o
    else:
        subject = rng.choice(["Siparişim hâlâ gelmedi", "İade talebi", "Değişim hakkında",
                              "Kargo gecikmesi", "Fatura hakkında", "Acil!!", "Bilgi",
                              "Re: Talebiniz alınmıştır", "Hasarlı ürün", "Ödeme sorunu",
                              "Sipariş iptali", "Adres değişikliği", "Soru",
                              "Siparişim hâlâ gelmedi, iki haftadır bekliyorum, lütfen acil dönüş yapın",
                              "Yanlış ürün gönderilmiş, değişim için ne yapmam gerekiyor? Teşekkürler"])
    return subject, "\n\n".join(paras) + "\n"


def html_of(m, text, shop):
    """text as a verbose HTML mail, entities and markup around numbers."""
    rng = m.rng
    out = []
    for para in text.rstrip("\n").split("\n\n"):
        lines = []
        for line in para.split("\n"):
            line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            if rng.random() < 0.3:
                line = line.replace("ç", "&ccedil;").replace("ö", "&ouml;").replace("ü", "&uuml;")
            if rng.random() < 0.2:
                line = line.replace(" no: ", " no:&nbsp;")
            lines.append(line)
        if para.startswith(">") or "şunu yazdı" in para:
            out.append('<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">'
                       + "<br>\n".join(lines) + "</blockquote>")
        else:
            out.append('<div dir="ltr" style="font-family:Arial,Helvetica,sans-serif;font-size:14px">'
                       + "<br>\n".join(lines) + "</div>")
    style = ("<style type=\"text/css\">body{margin:0;padding:0}"
             "p{margin:0 0 10px}.footer{color:#999;font-size:11px}</style>")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">%s<title>%s</title></head>\n"
            "<body>\n%s\n<table class=\"footer\"><tr><td>Gönderen:</td><td>%s</td></tr></table>\n"
            "<!-- generated by a webmail client -->\n</body></html>\n") % (
        style, shop[0], "\n".join(out), m.addr)


# --- encodings ----------------------------------------------------------------

def for_charset(text, cs):
    """text with what cs cannot hold replaced."""
    if cs in ("windows-1254", "iso-8859-9"):
        text = text.replace("₺", "TL")
    if cs == "iso-8859-9":
        text = (text.replace("’", "'").replace("“", '"').replace("”", '"')
                .replace("…", "..."))
    return text


def encode_text(text, cs):
    return for_charset(text, cs).encode(cs, errors="replace")


def qp(data):
    return quopri.encodestring(data).decode("ascii")


def b64(data):
    return base64.encodebytes(data).decode("ascii")


def encoded_words(text, cs, how, split=False):
    """RFC 2047 encoded words for a header, folded onto continuation lines:
    each word as long as 75 characters allow (as Gmail and Thunderbird
    write them), or with split, a word every few words of text (as Apple
    Mail and Outlook do)."""
    label = "UTF-8" if cs == "utf-8" else cs

    def word(chunk):
        data = chunk.encode(cs, errors="replace")
        if how == "B":
            enc = base64.b64encode(data).decode("ascii")
        else:
            enc = "".join(chr(c) if (c < 128 and chr(c).isalnum()) or chr(c) in "!*+-/"
                          else "_" if c == 32 else "=%02X" % c for c in data)
        return "=?%s?%s?%s?=" % (label, how, enc)

    words, chunk = [], ""
    for ch in for_charset(text, cs):
        if chunk and (len(word(chunk + ch)) > 75 or
                      (split and ch == " " and len(chunk) >= 12)):
            words.append(word(chunk))
            chunk = ""
        chunk += ch
    if chunk:
        words.append(word(chunk))
    return "\n ".join(words)


def header_value(m, text, prefer=None):
    """text for a header: ASCII as is, else encoded words."""
    if all(ord(c) < 128 for c in text):
        return text
    rng = m.rng
    cs = prefer or rng.choice(["utf-8", "utf-8", "utf-8", "windows-1254", "iso-8859-9"])
    return encoded_words(text, cs, rng.choice(["B", "Q"]), rng.random() < 0.2)


def leaf(ctype, cs, cte, data, extra=""):
    """A single part: headers and encoded body."""
    h = "Content-Type: %s" % ctype
    if cs:
        h += "; charset=%s" % (cs if "-" not in cs or cs.startswith("utf") else '"%s"' % cs)
    h += "\n"
    h += "Content-Transfer-Encoding: %s\n" % cte
    h += extra
    if cte == "quoted-printable":
        return (h + "\n" + qp(data)).encode("ascii")
    if cte == "base64":
        return (h + "\n" + b64(data)).encode("ascii")
    return h.encode("ascii") + b"\n" + data


def boundary(m):
    return "----=_Part_%d_%s.%d" % (m.rng.randint(1000, 99999),
                                    digits(m.rng, 9), m.rng.randint(10 ** 12, 10 ** 13))


def multipart(m, subtype, parts):
    b = boundary(m)
    out = [("Content-Type: multipart/%s;\n boundary=\"%s\"\n\n" % (subtype, b)).encode("ascii")]
    if m.rng.random() < 0.5:
        out.append(b"This is a multi-part message in MIME format.\n")
    for p in parts:
        out.append(("\n--%s\n" % b).encode("ascii"))
        out.append(p.rstrip(b"\n") + b"\n")
    out.append(("\n--%s--\n" % b).encode("ascii"))
    return b"".join(out)


def attachment(m):
    rng = m.rng
    size = rng.randint(15 * 1024, 150 * 1024)  # 20-200 KB as base64
    data = rng.randbytes(size)
    if rng.random() < 0.6:
        name = "IMG_%s_%02d%02d%02d.jpg" % (date(rng).replace(".", "").replace("/", "").replace("-", ""),
                                           rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
        ctype = "image/jpeg"
    else:
        name = "fatura_%s.pdf" % digits(rng, 5)
        ctype = "application/pdf"
    extra = "Content-Disposition: attachment;\n filename=\"%s\"\n" % name
    return leaf('%s; name="%s"' % (ctype, name), None, "base64", data, extra)


def shop_notification(m, shop, o):
    """The shop's own "your order has shipped" mail, forwarded by the customer."""
    rng = m.rng
    f, l = m.name
    subject = rng.choice(["Siparişiniz kargoya verildi", "Siparişin alındı!",
                          "Siparişiniz teslim edildi"])
    lines = ["Merhaba %s," % f, "",
             ("%s numaralı siparişiniz kargoya verilmiştir." % o) if o
             else "Siparişiniz kargoya verilmiştir.",
             "Kargo firması: %s" % rng.choice(["Yurtiçi Kargo", "MNG Kargo", "Aras Kargo"]),
             "Takip numarası: %s" % digits(rng, 12)]
    if o:
        lines.append("Paket: %s-1" % o)
    lines += ["",
             "Sipariş Tarihi: %s" % date(rng),
             "Toplam: %s" % price(rng), "",
             "%s | Müşteri hizmetleri 0850 %s %s %s" % (shop[0], digits(rng, 3), digits(rng, 2), digits(rng, 2))]
    text = "\n".join(lines) + "\n"
    hdr = ("From: %s <siparis@%s>\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <notify.%s.%d@%s>\nMIME-Version: 1.0\n"
           % (header_value(m, shop[0], "utf-8"), shop[1], m.addr, header_value(m, subject, "utf-8"),
              m.date_header(-3), m.seed, m.i, shop[1]))
    if rng.random() < 0.5:
        body = leaf("text/html", "utf-8", "quoted-printable",
                    html_of(m, text, shop).encode("utf-8"))
    else:
        body = leaf("text/plain", "utf-8", "quoted-printable", text.encode("utf-8"))
    return hdr.encode("ascii") + body


def make_mail(i, seed):
    rng = random.Random("ikasq-bench-ingest:%s:%d" % (seed, i))
    m = Mail(rng, i, seed)
    f, l, addr = customer(m)
    m.name, m.addr = (f, l), addr
    shop = rng.choice(SHOPS)
    kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    positive = rng.random() < 0.70
    english = rng.random() < 0.06 and kind not in ("cp1254", "cp1254-unlabelled", "iso-8859-9")
    base = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=3))) + timedelta(
        seconds=rng.randrange(180 * 86400))

    def date_header(days=0):
        return (base + timedelta(days=days)).strftime("%a, %d %b %Y %H:%M:%S +0300")
    m.date_header = date_header

    forwarded_order = None
    if kind == "forwarded" and positive and rng.random() < 0.6:
        # the order is only in the forwarded notification
        subject = rng.choice(["Fwd: Siparişiniz kargoya verildi", "İlet: kargo bildirimi",
                              "Fwd: bu kargo nerede?"])
        text = "%s\n\nAşağıdaki bildirim geldi ama paket hâlâ elime ulaşmadı.\n%s\n\n%s %s\n" % (
            rng.choice(["Merhaba,", "İyi günler,"]), distractor(m), f, l)
        forwarded_order = m.order()
    else:
        subject, text = body_text(m, shop, positive, english)

    # --- the MIME structure --------------------------------------------------
    ct_lines = "MIME-Version: 1.0\n"
    if kind == "utf8-8bit":
        body = leaf("text/plain", "utf-8", "8bit", text.encode("utf-8"))
    elif kind == "utf8-qp":
        body = leaf("text/plain", "utf-8", "quoted-printable", text.encode("utf-8"))
    elif kind == "utf8-base64":
        body = leaf("text/plain", "utf-8", "base64", text.encode("utf-8"))
    elif kind == "cp1254":
        body = leaf("text/plain", "windows-1254", rng.choice(["8bit", "quoted-printable"]),
                    encode_text(text, "windows-1254"))
    elif kind == "cp1254-unlabelled":
        data = encode_text(text, "windows-1254")
        if rng.random() < 0.5:
            body = b"Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\n" + data
        else:
            ct_lines = ""
            body = b"\n" + data
    elif kind == "iso-8859-9":
        body = leaf("text/plain", "iso-8859-9", rng.choice(["8bit", "quoted-printable"]),
                    encode_text(text, "iso-8859-9"))
    elif kind == "html":
        html = html_of(m, text, shop)
        if rng.random() < 0.25:
            # windows-1254 with the charset only in <meta>
            html = html.replace('<meta charset="utf-8">', '<meta charset="windows-1254">')
            body = leaf("text/html", None, "quoted-printable", encode_text(html, "windows-1254"))
        else:
            body = leaf("text/html", "utf-8", rng.choice(["quoted-printable", "base64"]),
                        html.encode("utf-8"))
    elif kind == "alternative":
        plain = leaf("text/plain", "utf-8", rng.choice(["quoted-printable", "base64"]),
                     text.encode("utf-8"))
        html = leaf("text/html", "utf-8", rng.choice(["quoted-printable", "base64"]),
                    html_of(m, text, shop).encode("utf-8"))
        body = multipart(m, "alternative", [plain, html])
    elif kind == "attachment":
        if rng.random() < 0.5:
            first = leaf("text/plain", "utf-8", rng.choice(["8bit", "quoted-printable"]),
                         text.encode("utf-8"))
        else:
            first = multipart(m, "alternative", [
                leaf("text/plain", "utf-8", "quoted-printable", text.encode("utf-8")),
                leaf("text/html", "utf-8", "quoted-printable", html_of(m, text, shop).encode("utf-8"))])
        parts = [first, attachment(m)]
        if rng.random() < 0.2:
            parts.append(attachment(m))
        body = multipart(m, "mixed", parts)
    else:  # forwarded
        # the shop's notification; on a negative mail one without a number
        inner = shop_notification(m, shop, forwarded_order or
                                  (m.orders[0] if m.orders else None))
        first = leaf("text/plain", "utf-8", rng.choice(["8bit", "quoted-printable"]),
                     text.encode("utf-8"))
        disp = rng.choice(["Content-Disposition: inline\n",
                           "Content-Disposition: attachment;\n filename=\"bildirim.eml\"\n", ""])
        fwd = b"Content-Type: message/rfc822\n" + disp.encode("ascii") + b"\n" + inner
        body = multipart(m, "mixed", [first, fwd])

    # --- headers -------------------------------------------------------------
    mid = "<bench.%s.%d.%s@mail.%s>" % (seed, i, "%016x" % rng.getrandbits(64),
                                        addr.split("@")[1])
    hdr = []
    relay = "mail-%s.%s" % (digits(rng, 3), addr.split("@")[1])
    for hop in range(rng.randint(1, 3)):
        hdr.append("Received: from %s (%s [%d.%d.%d.%d])\n\tby mx%d.%s (Postfix) with ESMTPS id %s\n\tfor <destek@%s>; %s"
                   % (relay, relay, rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255),
                      rng.randint(1, 254), hop + 1, shop[1], "%x" % rng.getrandbits(48), shop[1],
                      date_header()))
    hdr.append("Return-Path: <%s>" % addr)
    hdr.append("Message-ID: %s" % mid)
    hdr.append("Date: %s" % date_header())
    name_cs = "windows-1254" if kind.startswith("cp1254") and rng.random() < 0.5 else None
    hdr.append("From: %s <%s>" % (header_value(m, "%s %s" % (f, l), name_cs), addr))
    hdr.append("To: %s <destek@%s>" % (header_value(m, shop[0]), shop[1]))
    subj_cs = "windows-1254" if kind.startswith("cp1254") and rng.random() < 0.6 else None
    hdr.append("Subject: %s" % header_value(m, subject, subj_cs))
    if subject.startswith("Re:"):
        ref = "<reply.%d.%s@%s>" % (i, digits(rng, 8), shop[1])
        hdr.append("In-Reply-To: %s" % ref)
        hdr.append("References: %s" % ref)
    if rng.random() < 0.4:
        hdr.append("X-Mailer: %s" % rng.choice(["Microsoft Outlook 16.0", "iPhone Mail (21F90)",
                                                "Yandex.Mail", "Apple Mail (2.3774.500.171)"]))
    head = ("\n".join(hdr) + "\n" + ct_lines).encode("ascii")
    raw = head + body
    if not raw.endswith(b"\n"):
        raw += b"\n"
    return mid, raw, m.orders, kind


def mboxrd_escape(raw):
    out = []
    for line in raw.split(b"\n"):
        if line.lstrip(b">").startswith(b"From "):
            line = b">" + line
        out.append(line)
    return b"\n".join(out)


def main(argv):
    truth = None
    args = []
    k = 0
    while k < len(argv):
        if argv[k] == "--truth" and k + 1 < len(argv):
            truth = argv[k + 1]
            k += 2
            continue
        if argv[k].startswith("--truth="):
            truth = argv[k].split("=", 1)[1]
            k += 1
            continue
        args.append(argv[k])
        k += 1
    if len(args) not in (2, 3) or not args[0].isdigit() or int(args[0]) < 1:
        sys.stderr.write("usage: ingest-gen.py N OUT.mbox [SEED] [--truth FILE]\n")
        return 2
    n, out = int(args[0]), args[1]
    seed = args[2] if len(args) > 2 else "1"
    kinds = {}
    positive = 0
    size = 0
    tf = open(truth, "w", encoding="utf-8") if truth else None
    with open(out, "wb") as f:
        for i in range(n):
            mid, raw, orders, kind = make_mail(i, seed)
            kinds[kind] = kinds.get(kind, 0) + 1
            positive += bool(orders)
            sender = "MAILER-DAEMON"
            stamp = (datetime(2024, 1, 1) + timedelta(minutes=i)).strftime("%a %b %e %H:%M:%S %Y")
            chunk = b"From %s %s\n" % (sender.encode(), stamp.encode()) + mboxrd_escape(raw) + b"\n"
            f.write(chunk)
            size += len(chunk)
            if tf:
                tf.write("%s\t%s\n" % (mid.strip("<>"), ",".join(orders) or "-"))
    if tf:
        tf.close()
    sys.stderr.write("ingest-gen: %d messages, %.1f MB, %d (%.0f%%) name order numbers; %s\n" % (
        n, size / 1e6, positive, 100.0 * positive / n,
        ", ".join("%s %d" % (k, kinds[k]) for k, _ in KINDS if k in kinds)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
