/*
 * extract.h - order numbers in a mail's subject and body, with evidence.
 *
 * Patterns are PCRE2 (GLib GRegex) run over a folded copy of the text:
 * lower case, Turkish letters as their ASCII base letters (ç->c ğ->g ı->i
 * İ->i ö->o ş->s ü->u), runs of blanks as one space, so "SİPARİŞ NO",
 * "Sipariş No" and "siparis no" read alike.  Each pattern names the number
 * with the group (?<order>...).  Evidence is cut from the original text.
 */
#ifndef IKASQ_EXTRACT_H
#define IKASQ_EXTRACT_H

#include "ikasq/err.h"

struct config;
struct extractor;

struct order_match {
	char *order;		/* the order number, digits only */
	char *evidence;		/* the original text that matched */
	char *where;		/* "subject" or "body" */
};

/* Compile the [extract] patterns of cfg (defaults when cfg is NULL or sets
 * none); a bad pattern gives IKASQ_ECONFIG naming it. */
int extractor_new(const struct config *cfg, struct extractor **out,
		  struct ikasq_err *err);
void extractor_free(struct extractor *x);

/*
 * Whether one configured pattern compiles the way extractor_new() will
 * compile it: NULL if it does, else a malloc'd reason naming the pattern.
 */
char *extract_pattern_problem(const char *pattern);

/* The distinct order numbers in subject and body, in order of first
 * appearance.  The caller frees the array with order_matches_free(). */
int extract_orders(const struct extractor *x, const char *subject,
		   const char *body, struct order_match **out, int *n);
void order_matches_free(struct order_match *v, int n);

#endif
