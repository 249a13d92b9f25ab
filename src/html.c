/* html.c - HTML mail bodies as plain text */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ikasq/html.h"
#include "ikasq/util.h"

static const struct {
	const char *name;
	unsigned cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' }, { "shy", 0 },
	{ "ccedil", 0xe7 }, { "Ccedil", 0xc7 }, { "ouml", 0xf6 },
	{ "Ouml", 0xd6 }, { "uuml", 0xfc }, { "Uuml", 0xdc },
	{ "scedil", 0x15f }, { "Scedil", 0x15e }, { "gbreve", 0x11f },
	{ "Gbreve", 0x11e }, { "imath", 0x131 }, { "inodot", 0x131 },
	{ "Idot", 0x130 }, { "acirc", 0xe2 }, { "Acirc", 0xc2 },
	{ "icirc", 0xee }, { "Icirc", 0xce }, { "ucirc", 0xfb },
	{ "Ucirc", 0xdb }, { "auml", 0xe4 }, { "eacute", 0xe9 },
	{ "egrave", 0xe8 }, { "aacute", 0xe1 }, { "agrave", 0xe0 },
	{ "euro", 0x20ac }, { "pound", 0xa3 }, { "copy", 0xa9 },
	{ "reg", 0xae }, { "trade", 0x2122 }, { "deg", 0xb0 },
	{ "times", 0xd7 }, { "middot", 0xb7 }, { "bull", 0x2022 },
	{ "hellip", 0x2026 }, { "ndash", 0x2013 }, { "mdash", 0x2014 },
	{ "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "sbquo", 0x201a },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "bdquo", 0x201e },
	{ "laquo", 0xab }, { "raquo", 0xbb }, { "zwnj", 0 }, { "zwj", 0 },
	{ "ensp", ' ' }, { "emsp", ' ' }, { "thinsp", ' ' },
};

/* Elements whose start or end is a line break. */
static const char *const blocks[] = {
	"p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3",
	"h4", "h5", "h6", "blockquote", "pre", "hr", "dt", "dd", "dl",
	"section", "article", "header", "footer", "address", "center",
	"tbody", "thead", "tfoot", "form", "fieldset", "title",
};
/* Elements whose content is not text. */
static const char *const hidden[] = { "script", "style", "head", "noscript",
	"template", "svg" };

static void
add_utf8(struct strbuf *sb, unsigned cp)
{
	char b[4];
	int n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		sb_addc(sb, (char)cp);
		return;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		n = 1;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		n = 2;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		n = 3;
	}
	b[n] = (char)(0x80 | (cp & 0x3f));
	sb_add(sb, b, (size_t)n + 1);
}

/* Decode the reference at p ('&...'); returns bytes consumed, 0 if none. */
static size_t
entity(const char *p, const char *end, struct strbuf *sb)
{
	const char *q = p + 1;
	unsigned long cp = 0;
	size_t i, n;

	if (q < end && *q == '#') {
		int hex = q + 1 < end && (q[1] == 'x' || q[1] == 'X');
		const char *d = q + 1 + hex;

		for (q = d; q < end && (hex ? isxdigit((unsigned char)*q) :
		    isdigit((unsigned char)*q)) && q - d < 8; q++)
			cp = cp * (hex ? 16 : 10) + (unsigned long)(isdigit(
			    (unsigned char)*q) ? *q - '0' :
			    (tolower((unsigned char)*q) - 'a' + 10));
		if (q == d)
			return 0;
		if (q < end && *q == ';')
			q++;
		/* windows-1252 numbers that senders use for quotes and dashes */
		if (cp >= 0x80 && cp <= 0x9f)
			cp = cp == 0x80 ? 0x20ac : cp == 0x93 ? 0x201c :
			    cp == 0x94 ? 0x201d : cp == 0x92 ? 0x2019 :
			    cp == 0x96 ? 0x2013 : cp == 0x97 ? 0x2014 : 0xfffd;
		add_utf8(sb, (unsigned)cp);
		return (size_t)(q - p);
	}
	for (n = 0; q + n < end && isalnum((unsigned char)q[n]) && n < 10; n++)
		;
	if (n == 0)
		return 0;
	for (i = 0; i < ARRAY_SIZE(entities); i++)
		if (strlen(entities[i].name) == n &&
		    strncmp(entities[i].name, q, n) == 0) {
			if (entities[i].cp != 0)
				add_utf8(sb, entities[i].cp);
			return 1 + n + (q + n < end && q[n] == ';');
		}
	return 0;
}

static bool
name_in(const char *name, size_t n, const char *const *set, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(set[i]) == n && strncasecmp(set[i], name, n) == 0)
			return true;
	return false;
}

/* Append c, collapsing blanks and limiting empty lines to one. */
static void
emit(struct strbuf *sb, char c)
{
	char last = sb->len ? sb->buf[sb->len - 1] : '\n';

	if (c == ' ' || c == '\t' || c == '\r') {
		if (last != ' ' && last != '\n')
			sb_addc(sb, ' ');
		return;
	}
	if (c == '\n') {
		while (sb->len > 0 && sb->buf[sb->len - 1] == ' ')
			sb->len--;
		sb->buf[sb->len] = '\0';
		if (sb->len >= 2 && sb->buf[sb->len - 1] == '\n' &&
		    sb->buf[sb->len - 2] == '\n')
			return;
		if (sb->len == 0)
			return;
	}
	sb_addc(sb, c);
}

char *
html_to_text(const char *html, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = html, *end = html + len;
	char hidden_until[16] = "";

	sb_init(&sb);
	while (p < end) {
		if (*p == '<') {
			const char *q = p + 1, *name;
			size_t n;
			bool closing = false;

			if (end - p >= 4 && strncmp(p, "<!--", 4) == 0) {
				const char *c = p + 4;

				while (c + 3 <= end && strncmp(c, "-->", 3) != 0)
					c++;
				p = c + 3 <= end ? c + 3 : end;
				continue;
			}
			if (q < end && *q == '/') {
				closing = true;
				q++;
			}
			name = q;
			while (q < end && (isalnum((unsigned char)*q)))
				q++;
			n = (size_t)(q - name);
			if (n == 0 && !closing && (q >= end || *q != '!')) {
				/* a lone '<' is text */
				if (hidden_until[0] == '\0')
					emit(&sb, '<');
				p++;
				continue;
			}
			/* to the end of the tag, minding quoted attributes */
			while (q < end && *q != '>') {
				if (*q == '"' || *q == '\'') {
					const char *e = memchr(q + 1, *q,
					    (size_t)(end - q - 1));

					q = e ? e : end - 1;
				}
				q++;
			}
			p = q < end ? q + 1 : end;
			if (hidden_until[0] != '\0') {
				if (closing && strlen(hidden_until) == n &&
				    strncasecmp(hidden_until, name, n) == 0)
					hidden_until[0] = '\0';
				continue;
			}
			if (!closing && name_in(name, n, hidden,
			    ARRAY_SIZE(hidden))) {
				memcpy(hidden_until, name, n);
				hidden_until[n] = '\0';
				continue;
			}
			if (name_in(name, n, blocks, ARRAY_SIZE(blocks)))
				emit(&sb, '\n');
			else if (n == 2 && (strncasecmp(name, "td", 2) == 0 ||
			    strncasecmp(name, "th", 2) == 0))
				emit(&sb, ' ');
			continue;
		}
		if (hidden_until[0] != '\0') {
			p++;
			continue;
		}
		if (*p == '&') {
			struct strbuf ent = STRBUF_INIT;
			size_t used, i;

			sb_init(&ent);
			used = entity(p, end, &ent);
			for (i = 0; i < ent.len; i++)
				emit(&sb, ent.buf[i]);
			sb_release(&ent);
			if (used > 0) {
				p += used;
				continue;
			}
		}
		if (*p == '\n' || *p == '\r' || *p == '\t')
			emit(&sb, ' ');
		else
			emit(&sb, *p);
		p++;
	}
	while (sb.len > 0 && (sb.buf[sb.len - 1] == '\n' ||
	    sb.buf[sb.len - 1] == ' '))
		sb.buf[--sb.len] = '\0';
	return sb_detach(&sb);
}
