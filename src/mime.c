/*
 * mime.c - raw message -> struct mail with GMime (the only file that
 * includes it)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "ikasq/digest.h"
#include "ikasq/html.h"
#include "ikasq/mime.h"
#include "ikasq/util.h"

/* Deeper MIME trees than this are not searched for text (the parser
 * itself copes; we only bound our own recursion). */
#define MAX_DEPTH 64
/* Headers of an oversize message are looked for in its first bytes. */
#define HEADER_SCAN_MAX (256u * 1024)

static GMimeParserOptions *parser_options;

static void
mime_init(void)
{
	static const char *fallback[] = { "utf-8", "windows-1254", NULL };

	if (parser_options != NULL)
		return;
	g_mime_init();
	parser_options = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(parser_options, fallback);
	g_mime_parser_options_set_address_compliance_mode(parser_options,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(parser_options,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_rfc2047_compliance_mode(parser_options,
	    GMIME_RFC_COMPLIANCE_LOOSE);
}

/*
 * g_convert() opens a converter (and glibc loads a gconv module) on every
 * call; a mail has a few parts in one or two charsets, so keep them open.
 */
static gchar *
convert(const char *bytes, size_t len, const char *from, gsize *n)
{
	static struct {
		char *name;
		GIConv cd;
	} cache[8];
	static unsigned next;
	unsigned i;
	GIConv cd = (GIConv)-1;

	for (i = 0; i < G_N_ELEMENTS(cache); i++)
		if (cache[i].name != NULL && strcmp(cache[i].name, from) == 0) {
			cd = cache[i].cd;
			break;
		}
	if (cd == (GIConv)-1) {
		cd = g_iconv_open("UTF-8", from);
		if (cd == (GIConv)-1)
			return NULL;
		i = next++ % G_N_ELEMENTS(cache);
		if (cache[i].name != NULL) {
			g_iconv_close(cache[i].cd);
			free(cache[i].name);
		}
		cache[i].name = xstrdup(from);
		cache[i].cd = cd;
	}
	return g_convert_with_iconv(bytes, (gssize)len, cd, NULL, n, NULL);
}

/* UTF-8 without NULs from bytes in charset (NULL: unknown). */
static char *
to_utf8(const char *bytes, size_t len, const char *charset)
{
	const char *iconv_name;
	char *out = NULL, *valid, *p;
	gsize n = 0;

	char *copy = NULL;

	if (bytes == NULL || len == 0)
		return xstrdup("");
	/* PostgreSQL text holds no NUL, and a NUL would make valid UTF-8
	 * fail validation and be misread as windows-1254 */
	if (memchr(bytes, '\0', len) != NULL) {
		copy = xstrndup(bytes, len);
		for (p = copy; p < copy + len; p++)
			if (*p == '\0')
				*p = ' ';
		bytes = copy;
	}
	if (charset != NULL && *charset != '\0') {
		iconv_name = g_mime_charset_iconv_name(charset);
		if (iconv_name != NULL && g_ascii_strcasecmp(iconv_name,
		    "UTF-8") != 0)
			out = convert(bytes, len, iconv_name, &n);
	}
	if (out == NULL) {
		if (g_utf8_validate(bytes, (gssize)len, NULL)) {
			out = g_strndup(bytes, len);
			n = len;
		} else {
			/* unlabelled or mislabelled 8-bit text: Turkish mail
			 * is windows-1254 far more often than anything else */
			out = convert(bytes, len, "CP1254", &n);
		}
	}
	if (out == NULL) {
		out = g_strndup(bytes, len);
		n = len;
	}
	/* a conversion may yield NUL again (UTF-16 labels); then
	 * g_utf8_make_valid replaces what is still not UTF-8 */
	for (p = out; p < out + n; p++)
		if (*p == '\0')
			*p = ' ';
	valid = g_utf8_make_valid(out, (gssize)n);
	g_free(out);
	free(copy);
	out = xstrdup(valid);
	g_free(valid);
	return out;
}

char *
mime_to_utf8(const char *text, size_t len)
{
	return to_utf8(text, len, NULL);
}

static char *
clean(const char *s)
{
	return s != NULL ? to_utf8(s, strlen(s), NULL) : NULL;
}

/* The decoded content of a leaf part, converted to UTF-8. */
static char *
part_text(GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *bytes;
	char *text;

	if (content == NULL)
		return xstrdup("");
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	text = to_utf8((const char *)bytes->data, bytes->len,
	    g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
	    "charset"));
	g_object_unref(mem);
	return text;
}

static bool
is_type(GMimeObject *o, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

static void add_message(GMimeMessage *msg, struct strbuf *out, int depth,
			bool header);

/* Append the readable text of o to out; true if it held any. */
static bool
add_text(GMimeObject *o, struct strbuf *out, int depth)
{
	size_t before = out->len;
	int i, n;

	if (o == NULL || depth > MAX_DEPTH)
		return false;
	if (GMIME_IS_MESSAGE_PART(o)) {
		add_message(g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(o)), out, depth + 1, true);
	} else if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);

		n = g_mime_multipart_get_count(mp);
		if (is_type(o, "multipart", "alternative")) {
			/* the plain alternative if there is one, else any */
			for (i = 0; i < n; i++) {
				GMimeObject *c = g_mime_multipart_get_part(mp,
				    i);

				if (is_type(c, "text", "plain") &&
				    add_text(c, out, depth + 1))
					return true;
			}
			for (i = n - 1; i >= 0; i--)
				if (add_text(g_mime_multipart_get_part(mp, i),
				    out, depth + 1))
					return true;
			return false;
		}
		for (i = 0; i < n; i++)
			add_text(g_mime_multipart_get_part(mp, i), out,
			    depth + 1);
	} else if (GMIME_IS_PART(o) && !g_mime_part_is_attachment(
	    GMIME_PART(o))) {
		bool html = is_type(o, "text", "html");
		char *t;

		if (!html && !is_type(o, "text", "plain") &&
		    !is_type(o, "text", "enriched"))
			return false;
		t = part_text(GMIME_PART(o));
		if (html) {
			char *plain = html_to_text(t, strlen(t));

			free(t);
			t = plain;
		}
		if (*t != '\0') {
			if (out->len > 0 && out->buf[out->len - 1] != '\n')
				sb_addc(out, '\n');
			sb_adds(out, t);
		}
		free(t);
	}
	return out->len > before;
}

static void
add_message(GMimeMessage *msg, struct strbuf *out, int depth, bool header)
{
	const char *subject;
	InternetAddressList *from;
	char *s;

	if (msg == NULL)
		return;
	if (header) {
		/* a forwarded or attached mail: its subject and sender are
		 * part of what the customer sent us */
		if (out->len > 0 && out->buf[out->len - 1] != '\n')
			sb_addc(out, '\n');
		sb_adds(out, "\n---------- attached message ----------\n");
		from = g_mime_message_get_from(msg);
		if (from != NULL && internet_address_list_length(from) > 0) {
			s = internet_address_list_to_string(from, NULL, FALSE);
			sb_addf(out, "From: %s\n", s);
			g_free(s);
		}
		subject = g_mime_message_get_subject(msg);
		if (subject != NULL)
			sb_addf(out, "Subject: %s\n", subject);
		sb_addc(out, '\n');
	}
	add_text(g_mime_message_get_mime_part(msg), out, depth);
}

/* The bytes of one encoded word's text ("B" or "Q"), appended to out. */
static void
word_bytes(const char *text, size_t n, char enc, struct strbuf *out)
{
	size_t i;

	if (enc == 'B' || enc == 'b') {
		gint state = 0;
		guint save = 0;
		guchar *buf = xmalloc(n * 3 / 4 + 4);
		gsize got = g_base64_decode_step(text, n, buf, &state, &save);

		sb_add(out, buf, got);
		free(buf);
		return;
	}
	for (i = 0; i < n; i++) {
		if (text[i] == '_') {
			sb_addc(out, ' ');
		} else if (text[i] == '=' && i + 2 < n &&
		    g_ascii_isxdigit(text[i + 1]) &&
		    g_ascii_isxdigit(text[i + 2])) {
			sb_addc(out, (char)(g_ascii_xdigit_value(text[i + 1]) *
			    16 + g_ascii_xdigit_value(text[i + 2])));
			i += 2;
		} else {
			sb_addc(out, text[i]);
		}
	}
}

/*
 * RFC 2047 header text.  GMime 3.2.13 cuts a subject short when it is split
 * into several base64 words and the first ends in '=' padding (upstream
 * jstedfast/gmime#133), so we decode it ourselves: each word on its own,
 * adjacent words of one charset joined before conversion (senders split
 * multibyte characters across words), blanks between words dropped, and
 * text outside words read as UTF-8 or windows-1254.
 */
static char *
decode_header_text(const char *raw)
{
	struct strbuf out = STRBUF_INIT, acc = STRBUF_INIT, plain = STRBUF_INIT;
	char *charset = NULL, *t, *unfolded;
	const char *p;
	bool after_word = false;

	sb_init(&out);
	sb_init(&acc);
	sb_init(&plain);
	unfolded = xstrdup(raw);
	for (p = raw, t = unfolded; *p != '\0'; p++)
		if (*p != '\r' && *p != '\n')
			*t++ = *p;
	*t = '\0';
	for (p = unfolded; *p != '\0';) {
		const char *q1, *q2, *end;

		if (p[0] == '=' && p[1] == '?' &&
		    (q1 = strchr(p + 2, '?')) != NULL && q1[1] != '\0' &&
		    q1[2] == '?' && strchr("BbQq", q1[1]) != NULL &&
		    (end = strstr(q1 + 3, "?=")) != NULL &&
		    memchr(p + 2, ' ', (size_t)(q1 - p - 2)) == NULL &&
		    memchr(q1 + 3, ' ', (size_t)(end - q1 - 3)) == NULL) {
			char *cs = xstrndup(p + 2, (size_t)(q1 - p - 2));
			char *star = strchr(cs, '*');	/* RFC 2231 language */

			if (star != NULL)
				*star = '\0';
			/* blanks between two encoded words are not text */
			if (!after_word || strspn(plain.buf, " \t") != plain.len) {
				if (acc.len > 0) {
					t = to_utf8(acc.buf, acc.len, charset);
					sb_adds(&out, t);
					free(t);
					sb_reset(&acc);
				}
				t = to_utf8(plain.buf, plain.len, NULL);
				sb_adds(&out, t);
				free(t);
			}
			sb_reset(&plain);
			if (acc.len > 0 && (charset == NULL ||
			    g_ascii_strcasecmp(charset, cs) != 0)) {
				t = to_utf8(acc.buf, acc.len, charset);
				sb_adds(&out, t);
				free(t);
				sb_reset(&acc);
			}
			free(charset);
			charset = cs;
			q2 = q1 + 3;
			word_bytes(q2, (size_t)(end - q2), q1[1], &acc);
			after_word = true;
			p = end + 2;
			continue;
		}
		sb_addc(&plain, *p++);
	}
	if (acc.len > 0) {
		t = to_utf8(acc.buf, acc.len, charset);
		sb_adds(&out, t);
		free(t);
	}
	t = to_utf8(plain.buf, plain.len, NULL);
	sb_adds(&out, t);
	free(t);
	free(charset);
	free(unfolded);
	sb_release(&acc);
	sb_release(&plain);
	t = xstrdup(g_strstrip(out.buf));
	sb_release(&out);
	return t;
}

static InternetAddressMailbox *
first_mailbox(InternetAddressList *list, int depth)
{
	int i;

	if (list == NULL || depth > 4)
		return NULL;
	for (i = 0; i < internet_address_list_length(list); i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			return INTERNET_ADDRESS_MAILBOX(a);
		if (INTERNET_ADDRESS_IS_GROUP(a)) {
			InternetAddressMailbox *m = first_mailbox(
			    internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(a)), depth + 1);

			if (m != NULL)
				return m;
		}
	}
	return NULL;
}

static void
add_addresses(InternetAddressList *list, struct strbuf *sb, int depth)
{
	int i;

	if (list == NULL || depth > 4)
		return;
	for (i = 0; i < internet_address_list_length(list); i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(a)) {
			add_addresses(internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(a)), sb, depth + 1);
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(a))
			continue;
		if (sb->len > 0)
			sb_adds(sb, ", ");
		sb_adds(sb, internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(a)));
	}
}

static void
read_headers(GMimeMessage *msg, struct mail *m)
{
	InternetAddressMailbox *from;
	struct strbuf sb = STRBUF_INIT;
	GDateTime *date, *utc;
	const char *h;
	GMimeReferences *refs;
	int i;

	m->message_id = clean(g_mime_message_get_message_id(msg));
	date = g_mime_message_get_date(msg);
	if (date != NULL) {
		utc = g_date_time_to_utc(date);
		if (utc != NULL) {
			char *s = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");

			m->date = clean(s);
			g_free(s);
			g_date_time_unref(utc);
		}
	}
	from = first_mailbox(g_mime_message_get_from(msg), 0);
	if (from != NULL) {
		const char *name = internet_address_get_name(
		    INTERNET_ADDRESS(from));

		m->from_addr = clean(internet_address_mailbox_get_addr(from));
		if (name != NULL && *name != '\0')
			m->from_name = clean(name);
	}
	sb_init(&sb);
	add_addresses(g_mime_message_get_to(msg), &sb, 0);
	if (sb.len > 0)
		m->to = clean(sb.buf);
	{
		GMimeHeader *sh = g_mime_header_list_get_header(
		    g_mime_object_get_header_list(GMIME_OBJECT(msg)),
		    "Subject");
		const char *raw = sh ? g_mime_header_get_raw_value(sh) : NULL;

		m->subject = raw ? decode_header_text(raw) :
		    clean(g_mime_message_get_subject(msg));
	}
	h = g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To");
	if (h != NULL) {
		char *id = g_mime_utils_decode_message_id(h);

		m->in_reply_to = clean(id);
		g_free(id);
	}
	h = g_mime_object_get_header(GMIME_OBJECT(msg), "References");
	if (h != NULL && (refs = g_mime_references_parse(parser_options,
	    h)) != NULL) {
		sb_reset(&sb);
		for (i = 0; i < g_mime_references_length(refs); i++) {
			if (sb.len > 0)
				sb_addc(&sb, ' ');
			sb_adds(&sb, g_mime_references_get_message_id(refs,
			    i));
		}
		if (sb.len > 0)
			m->references = clean(sb.buf);
		g_mime_references_free(refs);
	}
	sb_release(&sb);
}

static GMimeMessage *
parse(const char *raw, size_t len)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, parser_options);
	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

/* The header block of raw: up to the first empty line. */
static size_t
header_length(const char *raw, size_t len)
{
	size_t i, lim = len < HEADER_SCAN_MAX ? len : HEADER_SCAN_MAX;

	for (i = 0; i + 1 < lim; i++) {
		if (raw[i] == '\n' && raw[i + 1] == '\n')
			return i + 1;
		if (raw[i] == '\n' && raw[i + 1] == '\r' && i + 2 < lim &&
		    raw[i + 2] == '\n')
			return i + 1;
	}
	return lim;
}

void
mime_parse(const char *raw, size_t len, size_t max_size, struct mail *m)
{
	struct strbuf body = STRBUF_INIT;
	GMimeMessage *msg;
	bool oversize;

	mime_init();
	memset(m, 0, sizeof(*m));
	if (max_size == 0)
		max_size = MIME_DEFAULT_MAX_SIZE;
	m->size = len;
	sha256_hex(raw, len, m->sha256);
	oversize = len > max_size;
	msg = parse(raw, oversize ? header_length(raw, len) : len);
	sb_init(&body);
	if (msg == NULL) {
		m->parse_error = xstrdup("not a mail message: no headers "
		    "could be read");
		if (!oversize) {
			char *t = to_utf8(raw, len, NULL);

			sb_adds(&body, t);
			free(t);
		}
	} else {
		read_headers(msg, m);
		if (!oversize)
			add_message(msg, &body, 0, false);
		g_object_unref(msg);
	}
	if (oversize)
		m->note = xasprintf("message of %zu bytes is over the limit of "
		    "%zu; only its headers were read", len, max_size);
	m->body = sb_detach(&body);
}

void
mail_release(struct mail *m)
{
	free(m->message_id);
	free(m->date);
	free(m->from_addr);
	free(m->from_name);
	free(m->to);
	free(m->subject);
	free(m->in_reply_to);
	free(m->references);
	free(m->body);
	free(m->note);
	free(m->parse_error);
	memset(m, 0, sizeof(*m));
}
