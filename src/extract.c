/*
 * extract.c - order numbers in mail text, with GLib's GRegex (PCRE2)
 *
 * The text is folded first (lower case, Turkish letters as ASCII, blanks
 * squeezed), keeping for every folded byte the offset of the original byte
 * it came from, so patterns stay simple and evidence is the customer's own
 * words.  Strong patterns tie a number to an order keyword ("sipariş no",
 * "12345 numaralı siparişim", "order #"); weak ones ("#12345") are vetoed
 * when a word such as "fatura" or "takip" stands just before.  Numbers
 * listed after a match ("12345 ve 12346") are taken too.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ikasq/config.h"
#include "ikasq/extract.h"
#include "ikasq/util.h"

#define EVIDENCE_MAX 120
/* More order numbers than this in one mail is a list, not a question. */
#define ORDERS_MAX 100
#define VETO_WINDOW 32

/* {N}: an order number, or a package number "<order>-<n>". */
static const char number_re[] =
    "(?<![\\da-z])(?<!\\d[.,/-])(?<order>[1-9]\\d{%d,%d})"
    "(?:-\\d{1,2}(?![\\d-]))?(?!\\d|[.,/:-]\\d)";

/* Order keywords, as folded text reads them: "siparis" and the common
 * slips of a hurried hand (sipraiş, siapriş, sparis), "sip. no", "spr no",
 * "order". */
#define KW "(?:s[iy]?(?:par|pra|apr|pr|pa)[iy]s[a-z]*|(?:sip|spr)\\.?" \
    "(?=\\s*no\\b)|orders?)"
#define NO "(?:no|nu|num|numara\\w*|number|nr|id|kodu?|kod\\w*)"
/* What may stand between an order word and its number. */
#define BETWEEN "(?:\\s*(?:" NO "\\.?|is|:|=|-|#|\\(|ettim|verdim|" \
    "ettigim|verdigim)){0,4}"
/* What ties a number before an order word to it. */
#define INFIX "(?:'?\\s*(?:nolu|no'?lu|no\\.?lu|numarali|sayili|" \
    "nr'?li)|'\\w{1,4})"
#define BEFORE "(?:^|(?<=[\\s(\\[>:#\"']))#?\\s?"

static const char *const default_strong[] = {
	/* sipariş no: 12345 / Sipariş Numarası #12345 / order #12345 /
	 * my order number is 12345 / Siparişim (No: 12345) / Sipariş 12345 /
	 * sipariş ettim: 12345 */
	"\\b" KW BETWEEN "\\s*#?\\s*{N}",
	/* 12345 numaralı siparişim / #12345 nolu sipariş / 12345'te sipariş */
	BEFORE "{N}" INFIX "?\\s+" KW,
	/* 132141-1 numaralı paketiniz (but not "1000 paket") */
	BEFORE "{N}'?\\s*(?:nolu|no'?lu|no\\.?lu|numarali|sayili)\\s+paket",
};
static const char *const default_weak[] = {
	/* a bare "#12345" */
	"(?:^|(?<=[\\s(\\[>:,]))#\\s?{N}",
};
/* Words that, just before a bare "#12345", say it numbers something else. */
static const char *const default_veto[] = {
	"fatura", "invoice", "takip", "tracking", "gonderi kodu",
	"gonderi no", "kargo kodu", "kargo no", "barkod", "iade kodu",
	"iade no", "return", "musteri no", "musteri numara", "customer",
	"kupon", "coupon", "sku", "urun kodu", "stok kodu", "kimlik", "iban",
	"tel", "gsm", "fax", "posta kodu", "kart", "ticket", "talep", "vaka",
	"case", "ref", "destek", "support",
};

struct pattern {
	GRegex *re;
	bool weak;
};

struct extractor {
	struct pattern *p;
	int np;
	char **veto;
	GRegex *list_next;	/* ", 12346" / " ve 12346" after a match */
	GRegex *list_prev;	/* "12345 ve " before a match */
	GRegex *list_head;	/* "siparişlerimiz şunlar:" ending a line */
	GRegex *list_item;	/* "- 12345 (...)" on the lines after it */
	GRegex *reject_after;	/* "1250 TL", "2 adet" */
	GRegex *year_after;	/* "2023'te", "2023 yılında" */
};

static char *
expand(const char *pattern, const char *number)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	sb_init(&sb);
	for (p = pattern; *p != '\0'; p++) {
		if (strncmp(p, "{N}", 3) == 0) {
			sb_adds(&sb, number);
			p += 2;
		} else {
			sb_addc(&sb, *p);
		}
	}
	return sb_detach(&sb);
}

static int
compile(const char *src, const char *number, GRegex **out, const char *what,
	struct ikasq_err *err)
{
	GError *gerr = NULL;
	char *re = expand(src, number);

	*out = g_regex_new(re, G_REGEX_OPTIMIZE | G_REGEX_MULTILINE |
	    G_REGEX_RAW, 0, &gerr);
	free(re);
	if (*out == NULL) {
		err_set(err, IKASQ_ECONFIG, "bad pattern in %s: '%s': %s", what,
		    src, gerr->message);
		g_error_free(gerr);
		return IKASQ_ECONFIG;
	}
	return IKASQ_OK;
}

char *
extract_pattern_problem(const char *src)
{
	GError *gerr = NULL;
	GRegex *rx;
	char *number, *re, *why = NULL;

	if (strstr(src, "{N}") == NULL && strstr(src, "(?<order>") == NULL)
		return xasprintf("pattern '%s' has neither {N} nor "
		    "(?<order>...)", src);
	/* the digits bounds do not change whether it compiles */
	number = xasprintf(number_re, 3, 8);
	re = expand(src, number);
	rx = g_regex_new(re, G_REGEX_OPTIMIZE | G_REGEX_MULTILINE |
	    G_REGEX_RAW, 0, &gerr);
	if (rx == NULL) {
		/* GLib quotes the expanded pattern, which nobody wrote:
		 * keep PCRE's reason only */
		const char *m = g_strrstr(gerr->message, " at char ");

		m = m != NULL ? strstr(m, ": ") : NULL;
		why = xasprintf("pattern '%s' does not compile: %s", src,
		    m != NULL ? m + 2 : gerr->message);
		g_error_free(gerr);
	} else {
		g_regex_unref(rx);
	}
	free(re);
	free(number);
	return why;
}

static int
add_patterns(struct extractor *x, char **cfg_list, const char *const *defs,
	     size_t ndefs, bool weak, const char *number, const char *what,
	     struct ikasq_err *err)
{
	size_t i, n = 0;
	int rc;

	if (cfg_list != NULL && cfg_list[0] != NULL)
		while (cfg_list[n] != NULL)
			n++;
	else
		cfg_list = NULL;
	if (cfg_list == NULL)
		n = ndefs;
	x->p = xrealloc(x->p, (size_t)(x->np + (int)n) * sizeof(*x->p));
	for (i = 0; i < n; i++) {
		const char *src = cfg_list ? cfg_list[i] : defs[i];

		if (strstr(src, "{N}") == NULL && strstr(src, "(?<order>") ==
		    NULL)
			return err_set(err, IKASQ_ECONFIG, "bad pattern in %s: "
			    "'%s' has neither {N} nor (?<order>...)", what,
			    src);
		rc = compile(src, number, &x->p[x->np].re, what, err);
		if (rc != IKASQ_OK)
			return rc;
		x->p[x->np].weak = weak;
		x->np++;
	}
	return IKASQ_OK;
}

int
extractor_new(const struct config *cfg, struct extractor **out,
	      struct ikasq_err *err)
{
	struct extractor *x = xcalloc(1, sizeof(*x));
	char **strong = NULL, **weak = NULL, **veto = NULL, *number, *tmp;
	long min = 4, max = 9;
	size_t i;
	int rc;

	*out = NULL;
	if (cfg != NULL) {
		strong = config_list(cfg, "extract", "patterns");
		weak = config_list(cfg, "extract", "weak_patterns");
		veto = config_list(cfg, "extract", "veto_words");
		min = config_int(cfg, "extract", "min_digits");
		max = config_int(cfg, "extract", "max_digits");
	}
	if (max < min)
		max = min;
	number = xasprintf(number_re, (int)min - 1, (int)max - 1);
	rc = add_patterns(x, strong, default_strong,
	    ARRAY_SIZE(default_strong), false, number, "[extract] patterns",
	    err);
	if (rc == IKASQ_OK)
		rc = add_patterns(x, weak, default_weak,
		    ARRAY_SIZE(default_weak), true, number,
		    "[extract] weak_patterns", err);
	if (rc == IKASQ_OK) {
		tmp = xasprintf("^(?:\\s*(?:,|;|/|&|\\+|ve|and|ile|veya|or)"
		    "\\s*#?\\s*)%s", number);
		rc = compile(tmp, "", &x->list_next, "list", err);
		free(tmp);
	}
	if (rc == IKASQ_OK) {
		tmp = xasprintf("#?%s\\s*(?:,|&|\\+|ve|and|ile|veya|or)\\s*#?"
		    "\\s*\\z", number);
		rc = compile(tmp, "", &x->list_prev, "list", err);
		free(tmp);
	}
	if (rc == IKASQ_OK)
		rc = compile("\\b" KW "[^:.?!\\n]{0,80}(?:\\n[^:.?!\\n]{0,80})?"
		    ":[ ]*\\n", "", &x->list_head, "list", err);
	if (rc == IKASQ_OK) {
		tmp = xasprintf("^[ ]*(?:-|\\*|\xe2\x80\xa2|\xc2\xb7|>|"
		    "\\d{1,2}[.)])?[ ]*#?%s", number);
		rc = compile(tmp, "", &x->list_item, "list", err);
		free(tmp);
	}
	if (rc == IKASQ_OK)
		rc = compile("^(?:-\\d{1,2})?\\s*(?:tl\\b|try\\b|lira|"
		    "\xe2\x82\xba|\\$|\xe2\x82\xac|usd\\b|eur\\b|adet|tane|"
		    "gun\\b|saat|dk\\b|dakika|kg\\b|gr\\b|ml\\b|cm\\b|mm\\b)",
		    "", &x->reject_after, "filters", err);
	if (rc == IKASQ_OK)
		rc = compile("^(?:'(?:de|da|te|ta|den|dan|ten|tan|e|a|ye|ya|"
		    "deki|daki|teki|taki)\\b|\\s*yil|\\s*senesi)", "",
		    &x->year_after, "filters", err);
	free(number);
	if (veto != NULL && veto[0] != NULL) {
		x->veto = veto;
		veto = NULL;
	} else {
		x->veto = xcalloc(ARRAY_SIZE(default_veto) + 1, sizeof(char *));
		for (i = 0; i < ARRAY_SIZE(default_veto); i++)
			x->veto[i] = xstrdup(default_veto[i]);
	}
	strv_free(strong);
	strv_free(weak);
	strv_free(veto);
	if (rc != IKASQ_OK) {
		extractor_free(x);
		return rc;
	}
	*out = x;
	return IKASQ_OK;
}

void
extractor_free(struct extractor *x)
{
	int i;

	if (x == NULL)
		return;
	for (i = 0; i < x->np; i++)
		g_regex_unref(x->p[i].re);
	free(x->p);
	strv_free(x->veto);
	if (x->list_next)
		g_regex_unref(x->list_next);
	if (x->list_prev)
		g_regex_unref(x->list_prev);
	if (x->list_head)
		g_regex_unref(x->list_head);
	if (x->list_item)
		g_regex_unref(x->list_item);
	if (x->reject_after)
		g_regex_unref(x->reject_after);
	if (x->year_after)
		g_regex_unref(x->year_after);
	free(x);
}

/* Folded text and, per folded byte, the original offset (map[len] too). */
struct folded {
	char *s;
	size_t len;
	size_t *map;
};

static const char *
fold_char(gunichar c)
{
	switch (c) {
	case 0xe7: case 0xc7: return "c";		/* ç Ç */
	case 0x11f: case 0x11e: return "g";		/* ğ Ğ */
	case 0x131: case 0x130: case 0xee: case 0xce:	/* ı İ î Î */
		return "i";
	case 0xf6: case 0xd6: return "o";		/* ö Ö */
	case 0x15f: case 0x15e: return "s";		/* ş Ş */
	case 0xfc: case 0xdc: case 0xfb: case 0xdb:	/* ü Ü û Û */
		return "u";
	case 0xe2: case 0xc2: return "a";		/* â Â */
	case 0x2019: case 0x2018: case 0xb4: case 0x60:	/* ’ ‘ ´ ` */
		return "'";
	case 0x2116: return "no";			/* № */
	case 0xff03: return "#";			/* ＃ */
	}
	return NULL;
}

static void
fold(const char *text, struct folded *f)
{
	size_t len = strlen(text), cap = len + 16, n = 0;
	const char *p = text, *end = text + len;

	f->s = xmalloc(cap + 1);
	f->map = xmalloc((cap + 1) * sizeof(size_t));
	while (p < end) {
		const char *start = p;
		gunichar c = g_utf8_get_char_validated(p, end - p);
		const char *rep;
		char buf[8];
		size_t k, rl;

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			c = (unsigned char)*p;
			p++;
		} else {
			p = g_utf8_next_char(p);
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == 0xa0 ||
		    c == 0x202f || c == 0x2007 || c == 0x200b) {
			if (n > 0 && f->s[n - 1] != ' ' && f->s[n - 1] != '\n')
				rep = " ";
			else
				continue;
		} else if (c == '\n') {
			if (n > 0 && f->s[n - 1] == ' ')
				n--;
			rep = "\n";
		} else if ((rep = fold_char(c)) == NULL) {
			if (c < 0x80) {
				buf[0] = (char)g_ascii_tolower((char)c);
				buf[1] = '\0';
			} else {
				buf[g_unichar_to_utf8(g_unichar_tolower(c),
				    buf)] = '\0';
			}
			rep = buf;
		}
		rl = strlen(rep);
		if (n + rl > cap) {
			cap = (cap + rl) * 2;
			f->s = xrealloc(f->s, cap + 1);
			f->map = xrealloc(f->map, (cap + 1) * sizeof(size_t));
		}
		for (k = 0; k < rl; k++) {
			f->s[n] = rep[k];
			f->map[n++] = (size_t)(start - text);
		}
	}
	f->s[n] = '\0';
	f->map[n] = len;
	f->len = n;
}

static void
fold_release(struct folded *f)
{
	free(f->s);
	free(f->map);
}

struct found {
	struct order_match *v;
	size_t *rank;		/* where (subject first) and position */
	int n;
	int where;		/* 0 subject, 1 body */
};

static void
evidence_add(struct found *fd, const char *order, const char *text,
	     const struct folded *f, size_t fs, size_t fe, const char *where)
{
	struct strbuf sb = STRBUF_INIT;
	size_t os = f->map[fs], oe = f->map[fe], i;
	const char *p;
	int k;

	if (fd->n >= ORDERS_MAX)
		return;
	for (k = 0; k < fd->n; k++)
		if (strcmp(fd->v[k].order, order) == 0)
			return;
	sb_init(&sb);
	for (p = text + os; p < text + oe; p++) {
		char c = *p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p;

		if (c == ' ' && (sb.len == 0 || sb.buf[sb.len - 1] == ' '))
			continue;
		sb_addc(&sb, c);
	}
	while (sb.len > 0 && sb.buf[sb.len - 1] == ' ')
		sb.buf[--sb.len] = '\0';
	if (sb.len > EVIDENCE_MAX) {
		/* cut at a character boundary, keep the number's end */
		i = sb.len - EVIDENCE_MAX;
		while (i < sb.len && ((unsigned char)sb.buf[i] & 0xc0) == 0x80)
			i++;
		memmove(sb.buf, sb.buf + i, sb.len - i + 1);
		sb.len -= i;
	}
	fd->v = xrealloc(fd->v, (size_t)(fd->n + 1) * sizeof(*fd->v));
	fd->rank = xrealloc(fd->rank, (size_t)(fd->n + 1) * sizeof(size_t));
	fd->rank[fd->n] = (size_t)fd->where * (SIZE_MAX / 2) + os;
	fd->v[fd->n].order = xstrdup(order);
	fd->v[fd->n].evidence = sb_detach(&sb);
	fd->v[fd->n].where = xstrdup(where);
	fd->n++;
}

/* A number that reads as a year, a price or a quantity is not an order. */
static bool
rejected(const struct extractor *x, const struct folded *f, size_t os,
	 size_t oe)
{
	if (g_regex_match_full(x->reject_after, f->s + oe,
	    (gssize)(f->len - oe), 0, G_REGEX_MATCH_ANCHORED, NULL, NULL))
		return true;
	/* 1900..2099 with a case suffix or "yılında" is a year */
	return oe - os == 4 && (strncmp(f->s + os, "19", 2) == 0 ||
	    strncmp(f->s + os, "20", 2) == 0) &&
	    g_regex_match_full(x->year_after, f->s + oe,
	    (gssize)(f->len - oe), 0, G_REGEX_MATCH_ANCHORED, NULL, NULL);
}

static bool
vetoed(const struct extractor *x, const struct folded *f, size_t ms)
{
	size_t from = ms > VETO_WINDOW ? ms - VETO_WINDOW : 0, i;
	char *window;
	bool hit = false;

	/* only the current line counts */
	for (i = ms; i > from; i--)
		if (f->s[i - 1] == '\n') {
			from = i;
			break;
		}
	window = xstrndup(f->s + from, ms - from);
	for (i = 0; x->veto[i] != NULL && !hit; i++) {
		const char *w = strstr(window, x->veto[i]);

		/* a word start: "tel" in "telefon", not in "hotel" */
		while (w != NULL && w > window && g_ascii_isalnum(w[-1]))
			w = strstr(w + 1, x->veto[i]);
		hit = w != NULL;
	}
	free(window);
	return hit;
}

static void
take(const struct extractor *x, struct found *fd, const char *text,
     const struct folded *f, GMatchInfo *mi, const char *where)
{
	gint ms, me, os, oe;
	char *order;

	g_match_info_fetch_pos(mi, 0, &ms, &me);
	if (!g_match_info_fetch_named_pos(mi, "order", &os, &oe) || os < 0)
		return;
	if (rejected(x, f, (size_t)os, (size_t)oe))
		return;
	order = xstrndup(f->s + os, (size_t)(oe - os));
	evidence_add(fd, order, text, f, (size_t)ms, (size_t)me, where);
	free(order);
}

/* Numbers listed right after (", 12346 ve 12347") or before a match. */
static void
take_lists(const struct extractor *x, struct found *fd, const char *text,
	   const struct folded *f, size_t ms, size_t me, const char *where)
{
	GMatchInfo *mi = NULL;
	size_t pos = me, from;
	gint s, e, os, oe;
	char *order, *prefix;

	for (;;) {
		if (!g_regex_match_full(x->list_next, f->s + pos,
		    (gssize)(f->len - pos), 0, G_REGEX_MATCH_ANCHORED, &mi,
		    NULL)) {
			g_match_info_free(mi);
			break;
		}
		g_match_info_fetch_pos(mi, 0, &s, &e);
		g_match_info_fetch_named_pos(mi, "order", &os, &oe);
		g_match_info_free(mi);
		mi = NULL;
		if (rejected(x, f, pos + (size_t)os, pos + (size_t)oe))
			break;
		order = xstrndup(f->s + pos + os, (size_t)(oe - os));
		evidence_add(fd, order, text, f, pos + (size_t)os,
		    pos + (size_t)oe, where);
		free(order);
		pos += (size_t)e;
	}
	/* "12345 ve 12346 numaralı siparişler": only when the match starts
	 * with its number, not with an order word */
	for (from = ms; from < f->len && (f->s[from] == '#' ||
	    f->s[from] == ' '); from++)
		;
	if (from < f->len && (f->s[from] < '0' || f->s[from] > '9'))
		return;
	from = ms > 48 ? ms - 48 : 0;
	prefix = xstrndup(f->s + from, ms - from);
	if (g_regex_match(x->list_prev, prefix, 0, &mi) &&
	    g_match_info_fetch_named_pos(mi, "order", &os, &oe)) {
		order = xstrndup(prefix + os, (size_t)(oe - os));
		evidence_add(fd, order, text, f, from + (size_t)os,
		    from + (size_t)oe, where);
		free(order);
	}
	g_match_info_free(mi);
	free(prefix);
}

/* The lines from pos on that each start with a number, as in a list. */
static void
take_items(const struct extractor *x, struct found *fd, const char *text,
	   const struct folded *f, size_t pos, const char *where)
{
	GMatchInfo *mi = NULL;
	gint os, oe;
	char *order, *nl;

	while (pos < f->len && f->s[pos] == '\n')
		pos++;		/* a blank line between the head and its items */
	while (pos < f->len && g_regex_match_full(x->list_item, f->s + pos,
	    (gssize)(f->len - pos), 0, G_REGEX_MATCH_ANCHORED, &mi, NULL)) {
		g_match_info_fetch_named_pos(mi, "order", &os, &oe);
		g_match_info_free(mi);
		mi = NULL;
		if (!rejected(x, f, pos + (size_t)os, pos + (size_t)oe)) {
			order = xstrndup(f->s + pos + os, (size_t)(oe - os));
			evidence_add(fd, order, text, f, pos + (size_t)os,
			    pos + (size_t)oe, where);
			free(order);
		}
		nl = memchr(f->s + pos, '\n', f->len - pos);
		if (nl == NULL)
			break;
		pos = (size_t)(nl - f->s) + 1;
	}
	g_match_info_free(mi);
}

static void
scan(const struct extractor *x, struct found *fd, const char *text,
     const char *where)
{
	struct folded f;
	GMatchInfo *mi;
	int i;

	if (text == NULL || *text == '\0')
		return;
	fold(text, &f);
	for (i = 0; i < x->np; i++) {
		g_regex_match_full(x->p[i].re, f.s, (gssize)f.len, 0, 0, &mi,
		    NULL);
		while (g_match_info_matches(mi)) {
			gint ms, me;

			g_match_info_fetch_pos(mi, 0, &ms, &me);
			if (!x->p[i].weak || !vetoed(x, &f, (size_t)ms)) {
				int before = fd->n;

				take(x, fd, text, &f, mi, where);
				if (fd->n > before || !x->p[i].weak)
					take_lists(x, fd, text, &f, (size_t)ms,
					    (size_t)me, where);
			}
			g_match_info_next(mi, NULL);
		}
		g_match_info_free(mi);
	}
	/* "Aşağıdaki siparişlerim:" and then one number per line */
	g_regex_match_full(x->list_head, f.s, (gssize)f.len, 0, 0, &mi, NULL);
	while (g_match_info_matches(mi)) {
		gint ms, me;

		g_match_info_fetch_pos(mi, 0, &ms, &me);
		take_items(x, fd, text, &f, (size_t)me, where);
		g_match_info_next(mi, NULL);
	}
	g_match_info_free(mi);
	fold_release(&f);
}

/* Matches in the order they appear: subject first, then by position. */
int
extract_orders(const struct extractor *x, const char *subject,
	       const char *body, struct order_match **out, int *n)
{
	struct found fd = { NULL, NULL, 0, 0 };
	int i, j;

	scan(x, &fd, subject, "subject");
	fd.where = 1;
	scan(x, &fd, body, "body");
	for (i = 1; i < fd.n; i++)
		for (j = i; j > 0 && fd.rank[j - 1] > fd.rank[j]; j--) {
			struct order_match t = fd.v[j];
			size_t r = fd.rank[j];

			fd.v[j] = fd.v[j - 1];
			fd.rank[j] = fd.rank[j - 1];
			fd.v[j - 1] = t;
			fd.rank[j - 1] = r;
		}
	free(fd.rank);
	*out = fd.v;
	*n = fd.n;
	return IKASQ_OK;
}

void
order_matches_free(struct order_match *v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(v[i].order);
		free(v[i].evidence);
		free(v[i].where);
	}
	free(v);
}
