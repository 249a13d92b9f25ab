/*
 * ikas.h - the İkas Admin API: a shared OAuth2 token and listOrder.
 *
 * Every call goes through the rate limit shared by all workers (a token
 * bucket in PostgreSQL).  What went wrong decides what the worker does:
 *   IKASQ_ERATELIMIT  the API said 429 (or the bucket is blocked): try again
 *                     after *retry_after_s, the attempt does not count
 *   IKASQ_ETEMP       5xx, timeout, network, an answer that is not JSON:
 *                     retry with backoff
 *   IKASQ_EPERM       the credentials are refused (after one renewal)
 *   IKASQ_EDATA       a GraphQL validation error: it will not get better
 * No secret (client secret, access token) ever appears in a message.
 */
#ifndef IKASQ_IKAS_H
#define IKASQ_IKAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikasq/err.h"

struct config;
struct db;
struct ikas;

struct ikas_order {
	char *number;
	char *json;		/* the order as İkas sent it; NULL: no such order */
};

/* Read [ikas]; IKASQ_ECONFIG naming the setting that is missing or bad. */
int ikas_new(const struct config *cfg, struct ikas **out,
	     struct ikasq_err *err);
void ikas_free(struct ikas *k);
/* Numbers per listOrder call ([ikas] batch_size). */
int ikas_batch_size(const struct ikas *k);

/* Make sure a valid token is in the database (fetching one if needed). */
int ikas_token_ensure(struct ikas *k, struct db *db, struct ikasq_err *err);

/*
 * Look the orders up with one listOrder call (n <= ikas_batch_size()).
 * On IKASQ_OK, out[i] answers numbers[i]; free with ikas_orders_free().
 */
int ikas_lookup(struct ikas *k, struct db *db, const char *const *numbers,
		int n, struct ikas_order **out, int64_t *retry_after_s,
		struct ikasq_err *err);
void ikas_orders_free(struct ikas_order *v, int n);

/*
 * What an answer to listOrder says (status, body, Retry-After header or
 * -1), as ikas_lookup() decides it; *login_required when the token is no
 * longer taken.  Exposed for tests and fuzzing.
 */
int ikas_parse_answer(long status, const char *body, size_t len,
		      int64_t retry_after_hdr, const char *const *numbers,
		      int n, struct ikas_order **out, int64_t *retry_after_s,
		      bool *login_required, struct ikasq_err *err);

/* Counters for the worker's summary and the benchmark. */
long ikas_calls(const struct ikas *k);

#endif
