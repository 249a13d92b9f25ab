/* cache.c - the order cache in ikas_order_cache */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikasq/cache.h"
#include "ikasq/db.h"

int
cache_put_order(struct db *db, const char *order_number,
		const char *order_json, int64_t ttl_s, struct ikasq_err *err)
{
	char ttl[32];
	const char *p[3];

	snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_s);
	p[0] = order_number;
	p[1] = order_json;
	p[2] = ttl;
	return db_exec(db,
	    "INSERT INTO ikas_order_cache AS c (mail_id, order_number,"
	    " order_data, found, fetched_at, expires_at)"
	    " VALUES (NULL, $1, coalesce($2::jsonb, 'null'::jsonb),"
	    "  $2::jsonb IS NOT NULL, now(),"
	    "  now() + make_interval(secs => $3::bigint))"
	    " ON CONFLICT (order_number) WHERE mail_id IS NULL DO UPDATE SET"
	    " order_data = EXCLUDED.order_data, found = EXCLUDED.found,"
	    " fetched_at = now(), expires_at = EXCLUDED.expires_at,"
	    " updated_at = now()", 3, p, NULL, err);
}

int
cache_put_mail(struct db *db, const char *mail_id, const char *order_number,
	       const char *order_json, int64_t ttl_s, struct ikasq_err *err)
{
	char ttl[32];
	const char *p[4];

	snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_s);
	p[0] = mail_id;
	p[1] = order_number;
	p[2] = order_json;
	p[3] = ttl;
	/* a job may name a mail that is gone: no row then (the seed's
	 * foreign key would refuse it) */
	return db_exec(db,
	    "INSERT INTO ikas_order_cache AS c (mail_id, order_number,"
	    " order_data, found, fetched_at, expires_at)"
	    " SELECT $1::uuid, $2, coalesce($3::jsonb, 'null'::jsonb),"
	    "  $3::jsonb IS NOT NULL, now(),"
	    "  now() + make_interval(secs => $4::bigint)"
	    " WHERE EXISTS (SELECT 1 FROM mails WHERE id = $1::uuid)"
	    " ON CONFLICT (mail_id) DO UPDATE SET"
	    " order_number = EXCLUDED.order_number,"
	    " order_data = EXCLUDED.order_data, found = EXCLUDED.found,"
	    " fetched_at = now(), expires_at = EXCLUDED.expires_at,"
	    " updated_at = now()", 4, p, NULL, err);
}

static int
get_one(struct db *db, const char *sql, const char *key,
	struct cache_entry *out, bool *hit, struct ikasq_err *err)
{
	struct db_res *res;
	const char *p[1] = { key };
	int rc;

	memset(out, 0, sizeof(*out));
	*hit = false;
	rc = db_exec(db, sql, 1, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	if (db_ntuples(res) == 1) {
		*hit = true;
		out->order_number = xstrdup(db_get(res, 0, 0));
		out->found = strcmp(db_get(res, 0, 2), "t") == 0;
		out->order_data = out->found ? xstrdup(db_get(res, 0, 1)) :
		    NULL;
		out->fetched_at = xstrdup(db_get(res, 0, 3));
		out->expires_at = xstrdup(db_get(res, 0, 4));
	}
	db_res_free(res);
	return IKASQ_OK;
}

int
cache_get_order(struct db *db, const char *order_number,
		struct cache_entry *out, bool *hit, struct ikasq_err *err)
{
	return get_one(db,
	    "SELECT order_number, order_data::text, found, fetched_at,"
	    " expires_at FROM ikas_order_cache"
	    " WHERE order_number = $1 AND mail_id IS NULL"
	    " AND expires_at > now()", order_number, out, hit, err);
}

int
cache_get_mail(struct db *db, const char *mail_id, struct cache_entry *out,
	       bool *hit, struct ikasq_err *err)
{
	if (!is_uuid(mail_id))
		return err_set(err, IKASQ_ENOTFOUND, "unknown mail '%s': not a "
		    "mail id", mail_id);
	return get_one(db,
	    "SELECT order_number, order_data::text, found, fetched_at,"
	    " expires_at FROM ikas_order_cache"
	    " WHERE mail_id = $1::uuid AND expires_at > now()",
	    mail_id, out, hit, err);
}

void
cache_entry_release(struct cache_entry *e)
{
	free(e->order_number);
	free(e->order_data);
	free(e->fetched_at);
	free(e->expires_at);
	memset(e, 0, sizeof(*e));
}

int
cache_purge(struct db *db, long *deleted, struct ikasq_err *err)
{
	struct db_res *res;
	int rc;

	rc = db_exec(db, "DELETE FROM ikas_order_cache WHERE expires_at <= "
	    "now()", 0, NULL, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	*deleted = db_affected(res);
	db_res_free(res);
	return IKASQ_OK;
}
