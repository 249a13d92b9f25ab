/*
 * ikas.c - the İkas Admin API through the http module, parsed with jansson
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ikasq/config.h"
#include "ikasq/db.h"
#include "ikasq/http.h"
#include "ikasq/ikas.h"
#include "ikasq/log.h"

/* The fields a support reply needs (ikas.dev Order, OrderPackage,
 * TrackingInfo); the whole order comes back as JSON into the cache. */
static const char list_order_query[] =
    "query GetOrders($orderNumber: StringFilterInput, "
    "$pagination: PaginationInput) { listOrder(orderNumber: $orderNumber, "
    "pagination: $pagination) { count data { id orderNumber status "
    "orderPaymentStatus orderPackageStatus totalFinalPrice currencyCode "
    "orderedAt customer { email firstName lastName phone } "
    "shippingAddress { firstName lastName phone addressLine1 "
    "city { name } district { name } } "
    "orderLineItems { quantity finalPrice variant { name sku } } "
    "orderPackages { orderPackageNumber orderPackageFulfillStatus "
    "trackingInfo { cargoCompany trackingNumber trackingLink } } } } }";

struct ikas {
	const struct config *cfg;
	char *store;
	char *client_id;
	char *token_url;
	char *graphql_url;
	char *bucket;
	int batch;
	double rate, burst;
	int64_t max_wait_s;
	struct http_opts http;
	char *token;		/* the last one read from the database */
	long calls;
};

static char *
expand_store(const char *tmpl, const char *store)
{
	const char *p = strstr(tmpl, "{store}");

	if (p == NULL)
		return xstrdup(tmpl);
	return xasprintf("%.*s%s%s", (int)(p - tmpl), tmpl, store, p + 7);
}

int
ikas_new(const struct config *cfg, struct ikas **out, struct ikasq_err *err)
{
	const char *store = config_str(cfg, "ikas", "store");
	const char *id = config_str(cfg, "ikas", "client_id");
	struct ikas *k;

	*out = NULL;
	if (store == NULL || *store == '\0')
		return err_set(err, IKASQ_ECONFIG, "[ikas] store is not set "
		    "(the shop's name in <store>.myikas.com)");
	if (strspn(store, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    strlen(store))
		return err_set(err, IKASQ_ECONFIG, "[ikas] store '%s' is not "
		    "a store name (a-z, 0-9, -)", store);
	if (id == NULL || *id == '\0')
		return err_set(err, IKASQ_ECONFIG, "[ikas] client_id is not "
		    "set");
	k = xcalloc(1, sizeof(*k));
	k->cfg = cfg;
	k->store = xstrdup(store);
	k->client_id = xstrdup(id);
	k->token_url = expand_store(config_str(cfg, "ikas", "token_url"),
	    store);
	k->graphql_url = xstrdup(config_str(cfg, "ikas", "graphql_url"));
	k->bucket = xasprintf("ikas:%s", store);
	k->batch = (int)config_int(cfg, "ikas", "batch_size");
	/*
	 * A bucket of burst tokens refilled at r per second lets through at
	 * most burst + r * window requests in any window; with r = (limit -
	 * burst) / window that is never more than rate_limit.
	 */
	k->burst = (double)config_int(cfg, "ikas", "burst");
	if (k->burst >= (double)config_int(cfg, "ikas", "rate_limit")) {
		err_set(err, IKASQ_ECONFIG, "[ikas] burst (%ld) must be less "
		    "than rate_limit (%ld)", config_int(cfg, "ikas", "burst"),
		    config_int(cfg, "ikas", "rate_limit"));
		free(k->store);
		free(k->client_id);
		free(k->token_url);
		free(k->graphql_url);
		free(k->bucket);
		free(k);
		return IKASQ_ECONFIG;
	}
	k->rate = ((double)config_int(cfg, "ikas", "rate_limit") - k->burst) /
	    (double)config_duration(cfg, "ikas", "rate_window");
	k->max_wait_s = config_duration(cfg, "ikas", "max_wait");
	k->http.timeout_ms = (int)config_duration(cfg, "ikas", "timeout") *
	    1000;
	k->http.connect_timeout_ms = (int)config_duration(cfg, "ikas",
	    "connect_timeout") * 1000;
	k->http.ca_file = config_str(cfg, "ikas", "ca_file");
	if (!http_url_allowed(k->token_url) ||
	    !http_url_allowed(k->graphql_url)) {
		bool tok = !http_url_allowed(k->token_url);

		err_set(err, IKASQ_ECONFIG, "[ikas] %s '%s' must be https:// "
		    "(http:// only to this machine)", tok ? "token_url" :
		    "graphql_url", tok ? k->token_url : k->graphql_url);
		ikas_free(k);
		return IKASQ_ECONFIG;
	}
	*out = k;
	return IKASQ_OK;
}

void
ikas_free(struct ikas *k)
{
	if (k == NULL)
		return;
	free(k->store);
	free(k->client_id);
	free(k->token_url);
	free(k->graphql_url);
	free(k->bucket);
	if (k->token != NULL) {
		explicit_bzero(k->token, strlen(k->token));
		free(k->token);
	}
	free(k);
}

int
ikas_batch_size(const struct ikas *k)
{
	return k->batch;
}

long
ikas_calls(const struct ikas *k)
{
	return k->calls;
}

/* POST the client credentials; a new token into *token and the database. */
static int
fetch_token(struct ikas *k, struct db *db, char **token, struct ikasq_err *err)
{
	struct http_resp r;
	char *secret = NULL, *body, *eid, *esec, *snip;
	json_t *j = NULL, *at, *exp;
	json_error_t je;
	char expires[32];
	int rc;

	rc = config_secret(k->cfg, "ikas", "client_secret", &secret, err);
	if (rc != IKASQ_OK)
		return rc;
	if (secret == NULL)
		return err_set(err, IKASQ_ECONFIG, "[ikas] client_secret is not "
		    "set (nor client_secret_command, nor "
		    "$IKASQ_IKAS_CLIENT_SECRET)");
	eid = http_form_escape(k->client_id);
	esec = http_form_escape(secret);
	body = xasprintf("grant_type=client_credentials&client_id=%s&"
	    "client_secret=%s", eid, esec);
	explicit_bzero(secret, strlen(secret));
	explicit_bzero(esec, strlen(esec));
	free(secret);
	free(esec);
	free(eid);
	rc = http_post(k->token_url, "application/x-www-form-urlencoded",
	    body, strlen(body), NULL, &k->http, &r, err);
	explicit_bzero(body, strlen(body));
	free(body);
	if (rc != IKASQ_OK)
		return err_prefix(err, "cannot get an İkas token");
	j = json_loadb(r.body, r.len, 0, &je);
	if (r.status >= 400 && r.status < 500) {
		json_t *e = json_array_get(json_object_get(j, "errors"), 0);
		const char *msg = json_string_value(json_object_get(e, "msg"));

		snip = excerpt(r.body, r.len, 200);
		rc = err_set(err, IKASQ_EPERM, "İkas refused the client "
		    "credentials of store '%s' (HTTP %ld): %s", k->store,
		    r.status, msg ? msg : snip);
		free(snip);
		goto out;
	}
	if (r.status != 200) {
		rc = err_set(err, IKASQ_ETEMP, "cannot get an İkas token: HTTP "
		    "%ld", r.status);
		goto out;
	}
	at = json_object_get(j, "access_token");
	exp = json_object_get(j, "expires_in");
	if (!json_is_string(at) || *json_string_value(at) == '\0') {
		snip = excerpt(r.body, r.len, 200);
		rc = err_set(err, IKASQ_ETEMP, "İkas's token answer has no "
		    "access_token: %s", j ? "(JSON without it)" : snip);
		free(snip);
		goto out;
	}
	snprintf(expires, sizeof(expires), "%lld", json_is_integer(exp) ?
	    (long long)json_integer_value(exp) : 3600LL);
	{
		const char *p[3] = { k->store, json_string_value(at), expires };

		rc = db_exec(db,
		    "INSERT INTO ikas_token (store, access_token, expires_at)"
		    " VALUES ($1, $2, now() + make_interval(secs => $3::int))"
		    " ON CONFLICT (store) DO UPDATE SET"
		    " access_token = EXCLUDED.access_token,"
		    " expires_at = EXCLUDED.expires_at, updated_at = now()",
		    3, p, NULL, err);
	}
	if (rc == IKASQ_OK) {
		*token = xstrdup(json_string_value(at));
		log_info("got a new İkas access token for store '%s' (valid "
		    "%s s)", k->store, expires);
	}
out:
	json_decref(j);
	http_resp_release(&r);
	return rc;
}

/*
 * A token that is good for a while yet.  With stale (the one the API just
 * refused), a new one is fetched unless another worker already did.  One
 * worker at a time fetches (an advisory lock); the rest read its result.
 */
static int
get_token(struct ikas *k, struct db *db, const char *stale, char **token,
	  struct ikasq_err *err)
{
	const char *p[1] = { k->store };
	struct db_res *res;
	char *key;
	int rc;

	*token = NULL;
	rc = db_exec(db, "SELECT access_token FROM ikas_token WHERE store = $1"
	    " AND expires_at > now() + interval '5 minutes'", 1, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	if (db_ntuples(res) == 1 && (stale == NULL ||
	    strcmp(stale, db_get(res, 0, 0)) != 0)) {
		*token = xstrdup(db_get(res, 0, 0));
		db_res_free(res);
		return IKASQ_OK;
	}
	db_res_free(res);
	key = xasprintf("ikasq.ikas.token:%s", k->store);
	if ((rc = db_begin(db, err)) != IKASQ_OK ||
	    (rc = db_exec(db, "SELECT pg_advisory_xact_lock(hashtextextended("
	    "$1, 0))", 1, (const char *[]){ key }, NULL, err)) != IKASQ_OK)
		goto out;
	rc = db_exec(db, "SELECT access_token FROM ikas_token WHERE store = $1"
	    " AND expires_at > now() + interval '5 minutes'", 1, p, &res, err);
	if (rc != IKASQ_OK)
		goto out;
	if (db_ntuples(res) == 1 && (stale == NULL ||
	    strcmp(stale, db_get(res, 0, 0)) != 0))
		*token = xstrdup(db_get(res, 0, 0));
	db_res_free(res);
	if (*token == NULL)
		rc = fetch_token(k, db, token, err);
	if (rc == IKASQ_OK)
		rc = db_commit(db, err);
out:
	if (rc != IKASQ_OK) {
		db_rollback(db);
		free(*token);
		*token = NULL;
	}
	free(key);
	return rc;
}

int
ikas_token_ensure(struct ikas *k, struct db *db, struct ikasq_err *err)
{
	char *t = NULL;
	int rc = get_token(k, db, NULL, &t, err);

	if (t != NULL) {
		explicit_bzero(t, strlen(t));
		free(t);
	}
	return rc;
}

/* Wait for the shared bucket; IKASQ_ERATELIMIT when the wait is long. */
static int
take_rate(struct ikas *k, struct db *db, int64_t *retry_after_s,
	  struct ikasq_err *err)
{
	char n[8] = "1", rate[32], burst[32];
	const char *p[4] = { k->bucket, n, rate, burst };
	struct db_res *res;
	double wait;
	int rc;

	snprintf(rate, sizeof(rate), "%.6f", k->rate);
	snprintf(burst, sizeof(burst), "%.1f", k->burst);
	for (;;) {
		rc = db_exec(db, "SELECT ikasq_rate_take($1, $2::float8,"
		    " $3::float8, $4::float8)", 4, p, &res, err);
		if (rc != IKASQ_OK)
			return rc;
		wait = atof(db_get(res, 0, 0));
		db_res_free(res);
		if (wait <= 0)
			return IKASQ_OK;
		if (wait > (double)k->max_wait_s) {
			*retry_after_s = (int64_t)ceil(wait);
			return err_set(err, IKASQ_ERATELIMIT, "İkas rate limit: "
			    "waiting %.0f s", wait);
		}
		usleep((useconds_t)(wait * 1e6) + 1000);
	}
}

/* A Retry-After beyond this is a broken header, not a plan: an hour. */
#define BLOCK_MAX_S 3600

static void
block_rate(struct ikas *k, struct db *db, int64_t seconds)
{
	char s[32];
	const char *p[2] = { k->bucket, s };
	struct ikasq_err e;

	if (seconds > BLOCK_MAX_S)
		seconds = BLOCK_MAX_S;
	snprintf(s, sizeof(s), "%lld", (long long)seconds);
	db_exec(db, "SELECT ikasq_rate_block($1, $2::float8)", 2, p, NULL, &e);
}

static char *
request_body(const char *const *numbers, int n)
{
	json_t *root = json_object(), *vars = json_object(), *in = json_array();
	json_t *filter = json_object(), *page = json_object();
	char *s, *out;
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(in, json_string(numbers[i]));
	json_object_set_new(filter, "in", in);
	json_object_set_new(page, "page", json_integer(1));
	json_object_set_new(page, "limit", json_integer(n));
	json_object_set_new(vars, "orderNumber", filter);
	json_object_set_new(vars, "pagination", page);
	json_object_set_new(root, "query", json_string(list_order_query));
	json_object_set_new(root, "variables", vars);
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	out = xstrdup(s);
	free(s);
	return out;
}

/* What an "errors" array says, and whether it means a dead token. */
static int
graphql_errors(json_t *errors, bool *login_required, struct ikasq_err *err)
{
	json_t *e = json_array_get(errors, 0);
	const char *code = json_string_value(json_object_get(
	    json_object_get(e, "extensions"), "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	size_t i;

	*login_required = false;
	for (i = 0; i < json_array_size(errors); i++) {
		const char *c = json_string_value(json_object_get(
		    json_object_get(json_array_get(errors, i), "extensions"),
		    "code"));

		if (c != NULL && strcmp(c, "LOGIN_REQUIRED") == 0)
			*login_required = true;
	}
	if (code == NULL)
		code = "no code";
	if (msg == NULL)
		msg = "no message";
	if (*login_required || strcmp(code, "UNAUTHORIZED") == 0 ||
	    strcmp(code, "FORBIDDEN") == 0)
		return err_set(err, IKASQ_EPERM, "İkas GraphQL error %s: %s",
		    code, msg);
	if (strstr(code, "VALIDATION") != NULL ||
	    strcmp(code, "BAD_USER_INPUT") == 0)
		return err_set(err, IKASQ_EDATA, "İkas GraphQL error %s: %s",
		    code, msg);
	return err_set(err, IKASQ_ETEMP, "İkas GraphQL error %s: %s", code,
	    msg);
}

int
ikas_parse_answer(long status, const char *body, size_t len,
		  int64_t retry_after_hdr, const char *const *numbers, int n,
		  struct ikas_order **out, int64_t *retry_after_s,
		  bool *login_required, struct ikasq_err *err)
{
	struct ikas_order *v;
	json_t *j, *data;
	json_error_t je;
	char *snip;
	size_t x;
	int rc, i;

	*out = NULL;
	*retry_after_s = -1;
	*login_required = false;
	j = json_loadb(body ? body : "", body ? len : 0, 0, &je);
	if (status == 429) {
		json_t *ra = json_object_get(j, "retryAfter");
		int64_t s = retry_after_hdr;

		if (s < 0 && json_is_integer(ra) && json_integer_value(ra) >= 0)
			s = (int64_t)json_integer_value(ra);
		else if (s < 0 && json_is_real(ra) && json_real_value(ra) >= 0 &&
		    json_real_value(ra) < 1e9)
			s = (int64_t)ceil(json_real_value(ra));
		*retry_after_s = s;
		rc = err_set(err, IKASQ_ERATELIMIT, "İkas answered HTTP 429 Too "
		    "Many Requests (%s%lld%s)", s >= 0 ? "retry after " :
		    "no Retry-After", s >= 0 ? (long long)s : 0LL,
		    s >= 0 ? " s" : "");
		if (s < 0)
			snprintf(err->msg, sizeof(err->msg), "İkas answered "
			    "HTTP 429 Too Many Requests (no Retry-After)");
	} else if (status == 401) {
		*login_required = true;
		rc = err_set(err, IKASQ_EPERM, "İkas answered HTTP 401");
	} else if (status == 403) {
		rc = err_set(err, IKASQ_EPERM, "İkas refused the access token "
		    "(HTTP 403)");
	} else if (status >= 500 || status == 408) {
		snip = excerpt(body, len, 200);
		rc = err_set(err, IKASQ_ETEMP, "İkas answered HTTP %ld: %s",
		    status, snip);
		free(snip);
	} else if (status != 200) {
		snip = excerpt(body, len, 200);
		rc = err_set(err, IKASQ_EDATA, "İkas answered HTTP %ld: %s",
		    status, snip);
		free(snip);
	} else if (j == NULL) {
		snip = excerpt(body, len, 200);
		rc = err_set(err, IKASQ_ETEMP, "İkas answered something that "
		    "is not JSON: '%s'", snip);
		free(snip);
	} else if (json_array_size(json_object_get(j, "errors")) > 0) {
		rc = graphql_errors(json_object_get(j, "errors"),
		    login_required, err);
	} else if (!json_is_array(data = json_object_get(json_object_get(
	    json_object_get(j, "data"), "listOrder"), "data"))) {
		snip = excerpt(body, len, 200);
		rc = err_set(err, IKASQ_ETEMP, "İkas's answer has no "
		    "data.listOrder.data: '%s'", snip);
		free(snip);
	} else {
		v = xcalloc((size_t)n + 1, sizeof(*v));
		for (i = 0; i < n; i++)
			v[i].number = xstrdup(numbers[i]);
		for (x = 0; x < json_array_size(data); x++) {
			json_t *o = json_array_get(data, x);
			const char *num = json_string_value(json_object_get(o,
			    "orderNumber"));

			for (i = 0; num != NULL && i < n; i++)
				if (v[i].json == NULL &&
				    strcmp(v[i].number, num) == 0)
					v[i].json = json_dumps(o, JSON_COMPACT |
					    JSON_PRESERVE_ORDER);
		}
		*out = v;
		rc = IKASQ_OK;
	}
	json_decref(j);
	return rc;
}

int
ikas_lookup(struct ikas *k, struct db *db, const char *const *numbers, int n,
	    struct ikas_order **out, int64_t *retry_after_s,
	    struct ikasq_err *err)
{
	struct http_resp r;
	char *token = NULL, *stale = NULL, *body, *auth;
	const char *hdr[2];
	bool login = false;
	int rc, attempt;

	*out = NULL;
	*retry_after_s = -1;
	body = request_body(numbers, n);
	for (attempt = 0;; attempt++) {
		rc = get_token(k, db, stale, &token, err);
		if (rc != IKASQ_OK)
			break;
		if ((rc = take_rate(k, db, retry_after_s, err)) != IKASQ_OK)
			break;
		auth = xasprintf("Authorization: Bearer %s", token);
		hdr[0] = auth;
		hdr[1] = NULL;
		k->calls++;
		rc = http_post(k->graphql_url, "application/json", body,
		    strlen(body), hdr, &k->http, &r, err);
		explicit_bzero(auth, strlen(auth));
		free(auth);
		if (rc != IKASQ_OK) {
			err_prefix(err, "İkas listOrder");
			break;
		}
		rc = ikas_parse_answer(r.status, r.body, r.len, r.retry_after_s,
		    numbers, n, out, retry_after_s, &login, err);
		if (rc == IKASQ_ERATELIMIT)
			/* every worker holds back, not only this one */
			block_rate(k, db, *retry_after_s >= 0 ? *retry_after_s :
			    60);
		if (login && attempt > 0)
			err_set(err, IKASQ_EPERM, "İkas refused the access token "
			    "(%s) even after renewing it: check client_id and "
			    "client_secret", r.status == 401 ? "HTTP 401" :
			    "LOGIN_REQUIRED");
		http_resp_release(&r);
		/* a token the API no longer takes: renew it, once */
		if (login && attempt == 0) {
			log_info("İkas no longer accepts the access token; "
			    "getting a new one");
			free(stale);
			stale = token;
			token = NULL;
			continue;
		}
		break;
	}
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	if (stale != NULL) {
		explicit_bzero(stale, strlen(stale));
		free(stale);
	}
	free(body);
	return rc;
}

void
ikas_orders_free(struct ikas_order *v, int n)
{
	int i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].number);
		free(v[i].json);
	}
	free(v);
}
