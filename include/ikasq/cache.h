/*
 * cache.h - the İkas order cache (table ikas_order_cache).
 *
 * Two kinds of rows share the seed's table: one per mail (mail_id set,
 * what the seed's getCachedOrder(mailId) reads) and one per order number
 * (mail_id NULL), so an order asked for by many mails is fetched once.
 * A negative entry records that an order does not exist, with its own,
 * shorter TTL.  Only fresh rows (expires_at > now()) are ever returned.
 */
#ifndef IKASQ_CACHE_H
#define IKASQ_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "ikasq/err.h"

struct db;

struct cache_entry {
	char *order_number;
	char *order_data;	/* JSON text; NULL for a negative entry */
	bool found;		/* false: the order does not exist */
	char *fetched_at;
	char *expires_at;
};

/* Store an order (order_json) or its absence (order_json NULL) for
 * ttl_s seconds, replacing an older row for the same order number. */
int cache_put_order(struct db *db, const char *order_number,
		    const char *order_json, int64_t ttl_s,
		    struct ikasq_err *err);
/* Store the per-mail row the seed reads (one row per mail). */
int cache_put_mail(struct db *db, const char *mail_id,
		   const char *order_number, const char *order_json,
		   int64_t ttl_s, struct ikasq_err *err);

/* Fresh entry for an order number; *hit false on a miss or when stale. */
int cache_get_order(struct db *db, const char *order_number,
		    struct cache_entry *out, bool *hit, struct ikasq_err *err);
int cache_get_mail(struct db *db, const char *mail_id,
		   struct cache_entry *out, bool *hit, struct ikasq_err *err);
void cache_entry_release(struct cache_entry *e);

/* Delete expired rows. */
int cache_purge(struct db *db, long *deleted, struct ikasq_err *err);

#endif
