/* test-mime.c - raw messages to struct mail, and HTML to text */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ikasq/html.h"
#include "ikasq/mime.h"
#include "tap.h"

static void
parse(const char *raw, struct mail *m)
{
	mime_parse(raw, strlen(raw), 0, m);
}

static void
test_headers(void)
{
	struct mail m;

	parse("From: =?UTF-8?B?QXnFn2UgWcSxbG1heg==?= <ayse@example.com>\n"
	    "To: Destek <destek@magaza.com>, satis@magaza.com\n"
	    "Subject: =?UTF-8?Q?Sipari=C5=9F_132141?= =?windows-1254?Q?_hakk=FDnda?=\n"
	    "Message-ID: <abc.123@example.com>\n"
	    "In-Reply-To: <prev@magaza.com>\n"
	    "References: <a@x> <prev@magaza.com>\n"
	    "Date: Sun, 29 Nov 2026 10:00:00 +0300\n"
	    "\n"
	    "merhaba\n", &m);
	g_assert_cmpstr(m.from_addr, ==, "ayse@example.com");
	g_assert_cmpstr(m.from_name, ==, "Ayşe Yılmaz");
	g_assert_cmpstr(m.to, ==, "destek@magaza.com, satis@magaza.com");
	g_assert_cmpstr(m.subject, ==, "Sipariş 132141 hakkında");
	g_assert_cmpstr(m.message_id, ==, "abc.123@example.com");
	g_assert_cmpstr(m.in_reply_to, ==, "prev@magaza.com");
	g_assert_cmpstr(m.references, ==, "a@x prev@magaza.com");
	g_assert_cmpstr(m.date, ==, "2026-11-29T07:00:00Z");
	g_assert_cmpstr(m.body, ==, "merhaba\n");
	g_assert_null(m.parse_error);
	g_assert_null(m.note);
	mail_release(&m);
}

static void
test_encoded_words(void)
{
	struct mail m;

	/* two base64 words, the first padded: GMime 3.2.13 drops the second */
	parse("Subject: =?UTF-8?B?U2lwYXJpxZ9pbQ==?= "
	    "=?UTF-8?B?IDEzMjE0MSBoYWtrxLFuZGE=?=\n\nx\n", &m);
	g_assert_cmpstr(m.subject, ==, "Siparişim 132141 hakkında");
	mail_release(&m);
	/* a character split across two words, folded onto two lines */
	parse("Subject: =?UTF-8?B?U2lwYXJp?=\n =?UTF-8?B?xZ8=?= no\n\nx\n",
	    &m);
	g_assert_cmpstr(m.subject, ==, "Sipariş no");
	mail_release(&m);
	/* Q words, plain text between, another charset, RFC 2231 language */
	parse("Subject: Re: =?iso-8859-9?Q?Sipari=FE_no?= 55 "
	    "=?windows-1254*tr?Q?hakk=FDnda?=\n\nx\n", &m);
	g_assert_cmpstr(m.subject, ==, "Re: Sipariş no 55 hakkında");
	mail_release(&m);
	/* not encoded words at all */
	parse("Subject: =?bozuk ve =?x?Q?yarim\n\nx\n", &m);
	g_assert_cmpstr(m.subject, ==, "=?bozuk ve =?x?Q?yarim");
	mail_release(&m);
}

static void
test_raw_8bit_headers(void)
{
	struct mail m;

	/* windows-1254 bytes in a header, no encoding at all */
	parse("From: \xc7" "a\xf0la\xfe <c@x.com>\nSubject: Sipari\xfe no\n\nx\n",
	    &m);
	g_assert_cmpstr(m.subject, ==, "Sipariş no");
	g_assert_cmpstr(m.from_name, ==, "Çağlaş");
	mail_release(&m);
}

static void
test_transfer_encodings(void)
{
	struct mail m;

	parse("Subject: qp\nContent-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Sipari=C5=9Fim gelmedi, =\nl=C3=BCtfen\n", &m);
	g_assert_cmpstr(m.body, ==, "Siparişim gelmedi, lütfen\n");
	mail_release(&m);
	parse("Subject: b64\nContent-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "U2lwYXJpxZ9pbSBuZXJlZGU/Cg==\n", &m);
	g_assert_cmpstr(m.body, ==, "Siparişim nerede?\n");
	mail_release(&m);
}

static void
test_charsets(void)
{
	struct mail m;

	parse("Subject: a\nContent-Type: text/plain; charset=windows-1254\n\n"
	    "\xdd\xfe\xe7i \xfe\xfd\xf0\n", &m);
	g_assert_cmpstr(m.body, ==, "İşçi şığ\n");
	mail_release(&m);
	parse("Subject: a\nContent-Type: text/plain; charset=iso-8859-9\n\n"
	    "S\xddPAR\xdd\xde\n", &m);
	g_assert_cmpstr(m.body, ==, "SİPARİŞ\n");
	mail_release(&m);
	/* no label, not UTF-8: windows-1254 */
	parse("Subject: a\nContent-Type: text/plain\n\nsipari\xfeim\n", &m);
	g_assert_cmpstr(m.body, ==, "siparişim\n");
	mail_release(&m);
	/* no Content-Type at all, UTF-8 bytes stay UTF-8 */
	parse("Subject: a\n\nsipari\xc5\x9fim\n", &m);
	g_assert_cmpstr(m.body, ==, "siparişim\n");
	mail_release(&m);
	/* a label that lies (us-ascii) or names nothing known */
	parse("Subject: a\nContent-Type: text/plain; charset=us-ascii\n\n"
	    "sipari\xfeim\n", &m);
	g_assert_cmpstr(m.body, ==, "siparişim\n");
	mail_release(&m);
	parse("Subject: a\nContent-Type: text/plain; charset=x-bogus\n\n"
	    "sipari\xfeim\n", &m);
	g_assert_cmpstr(m.body, ==, "siparişim\n");
	mail_release(&m);
}

static void
test_html(void)
{
	struct mail m;
	char *t;

	parse("Subject: h\nContent-Type: text/html; charset=utf-8\n\n"
	    "<html><head><style>p{color:red}</style><title>x</title></head>"
	    "<body><p>Merhaba,</p><p><b>132141</b> numaral&#305; "
	    "sipari&scedil;im &amp; &ccedil;ok ge&ccedil;</p>"
	    "<script>var a = '<p>no</p>';</script>"
	    "<div>Sat&#x131;r<br>iki</div><!-- gizli 99999 --></body></html>",
	    &m);
	/* paragraphs apart by a blank line, <br> a line break */
	g_assert_cmpstr(m.body, ==, "Merhaba,\n\n132141 numaralı siparişim & "
	    "çok geç\n\nSatır\niki");
	mail_release(&m);
	t = html_to_text("a&nbsp;&nbsp; b<td>c</td><td>d</td>&unknown; 1 < 2",
	    50);
	g_assert_cmpstr(t, ==, "a b c d &unknown; 1 < 2");
	free(t);
}

static void
test_multipart(void)
{
	struct mail m;

	parse("Subject: alt\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=B\n\n"
	    "--B\nContent-Type: text/html\n\n<p>html 11111</p>\n"
	    "--B\nContent-Type: text/plain; charset=utf-8\n\nplain 22222\n"
	    "--B--\n", &m);
	/* the line break before a boundary belongs to the boundary */
	g_assert_cmpstr(m.body, ==, "plain 22222");
	mail_release(&m);
	parse("Subject: mixed\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=M\n\n"
	    "--M\nContent-Type: text/plain\n\nsee attached\n"
	    "--M\nContent-Type: application/pdf; name=fatura_98765.pdf\n"
	    "Content-Disposition: attachment; filename=fatura_98765.pdf\n"
	    "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n"
	    "--M\nContent-Type: text/plain\n"
	    "Content-Disposition: attachment; filename=notes.txt\n\n"
	    "attached text 33333\n"
	    "--M\nContent-Type: message/rfc822\n\n"
	    "From: Magaza <bilgi@magaza.com>\nSubject: Siparisiniz 44444\n\n"
	    "inner text\n"
	    "--M--\n", &m);
	g_assert_nonnull(strstr(m.body, "see attached\n"));
	g_assert_null(strstr(m.body, "98765"));
	g_assert_null(strstr(m.body, "33333"));
	g_assert_nonnull(strstr(m.body, "Subject: Siparisiniz 44444\n"));
	g_assert_nonnull(strstr(m.body, "inner text"));
	mail_release(&m);
}

static void
test_oversize_and_garbage(void)
{
	struct mail m;
	GString *big = g_string_new("Subject: big 55555\nMessage-ID: <b@x>\n\n");
	int i;

	for (i = 0; i < 20000; i++)
		g_string_append(big, "0123456789012345678901234567890123456789\n");
	mime_parse(big->str, big->len, 100000, &m);
	g_assert_cmpstr(m.subject, ==, "big 55555");
	g_assert_cmpstr(m.message_id, ==, "b@x");
	g_assert_cmpstr(m.body, ==, "");
	g_assert_nonnull(m.note);
	g_assert_nonnull(strstr(m.note, "over the limit of 100000"));
	g_assert_cmpuint(m.size, ==, big->len);
	mail_release(&m);
	g_string_free(big, TRUE);

	mime_parse("a\0b\xff\xfe\0", 6, 0, &m);
	g_assert_true(g_utf8_validate(m.body, -1, NULL));
	mail_release(&m);
	mime_parse("Subject: x\n\nnul\0here\n", 21, 0, &m);
	g_assert_cmpstr(m.body, ==, "nul here\n");
	mail_release(&m);
}

static void
test_sha256(void)
{
	struct mail m;

	mime_parse("abc", 3, 0, &m);
	g_assert_cmpstr(m.sha256, ==, "ba7816bf8f01cfea414140de5dae2223b00361a3"
	    "96177a9cb410ff61f20015ad");
	g_assert_cmpuint(m.size, ==, 3);
	mail_release(&m);
}

int
main(int argc, char **argv)
{
	tap_init(&argc, &argv);
	g_test_add_func("/mime/headers", test_headers);
	g_test_add_func("/mime/encoded-words", test_encoded_words);
	g_test_add_func("/mime/raw-8bit-headers", test_raw_8bit_headers);
	g_test_add_func("/mime/transfer-encodings", test_transfer_encodings);
	g_test_add_func("/mime/charsets", test_charsets);
	g_test_add_func("/mime/html", test_html);
	g_test_add_func("/mime/multipart", test_multipart);
	g_test_add_func("/mime/oversize-and-garbage",
	    test_oversize_and_garbage);
	g_test_add_func("/mime/sha256", test_sha256);
	return g_test_run();
}
