/*
 * html.h - readable text from an HTML mail body.
 */
#ifndef IKASQ_HTML_H
#define IKASQ_HTML_H

#include <stddef.h>

/*
 * Tags dropped, the content of script, style, head and comments dropped,
 * block elements (p, div, br, li, tr, h1-h6, blockquote ...) as line breaks,
 * table cells separated by a space, character references decoded, runs of
 * blanks collapsed.  html must be UTF-8; so is the result (caller frees).
 */
char *html_to_text(const char *html, size_t len);

#endif
