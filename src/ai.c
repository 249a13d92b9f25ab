/* ai.c - OpenAI-compatible chat completions, through the http module */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ikasq/ai.h"
#include "ikasq/config.h"
#include "ikasq/http.h"
#include "ikasq/log.h"

struct ai {
	const struct config *cfg;
	char *url;		/* {base_url}/chat/completions */
	char *model;
	double temperature;
	long max_tokens;
	int retries;
	struct http_opts http;
};

int
ai_new(const struct config *cfg, struct ai **out, struct ikasq_err *err)
{
	const char *base = config_str(cfg, "ai", "base_url");
	const char *model = config_str(cfg, "ai", "model");
	struct ai *a;
	size_t n;

	*out = NULL;
	if (base == NULL || *base == '\0')
		return err_set(err, IKASQ_ECONFIG, "[ai] base_url is not set "
		    "(e.g. https://api.openai.com/v1, or "
		    "http://127.0.0.1:11434/v1 for Ollama)");
	if (model == NULL || *model == '\0')
		return err_set(err, IKASQ_ECONFIG, "[ai] model is not set");
	if (!http_url_allowed(base))
		return err_set(err, IKASQ_ECONFIG, "[ai] base_url '%s' must be "
		    "https:// (http:// only to this machine)", base);
	a = xcalloc(1, sizeof(*a));
	a->cfg = cfg;
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	a->url = xasprintf("%.*s/chat/completions", (int)n, base);
	a->model = xstrdup(model);
	a->temperature = strtod(config_str(cfg, "ai", "temperature"), NULL);
	a->max_tokens = config_int(cfg, "ai", "max_tokens");
	a->retries = (int)config_int(cfg, "ai", "retries");
	a->http.timeout_ms = (int)config_duration(cfg, "ai", "timeout") * 1000;
	a->http.connect_timeout_ms = 10000;
	a->http.ca_file = config_str(cfg, "ai", "ca_file");
	*out = a;
	return IKASQ_OK;
}

void
ai_free(struct ai *a)
{
	if (a == NULL)
		return;
	free(a->url);
	free(a->model);
	free(a);
}

const char *
ai_model(const struct ai *a)
{
	return a->model;
}

char *
ai_request(const struct ai *a, const char *system, const char *user)
{
	json_t *root = json_object(), *msgs = json_array(), *m;
	char *s, *out;

	m = json_object();
	json_object_set_new(m, "role", json_string("system"));
	json_object_set_new(m, "content", json_string(system));
	json_array_append_new(msgs, m);
	m = json_object();
	json_object_set_new(m, "role", json_string("user"));
	json_object_set_new(m, "content", json_string(user));
	json_array_append_new(msgs, m);
	json_object_set_new(root, "model", json_string(a->model));
	json_object_set_new(root, "messages", msgs);
	json_object_set_new(root, "temperature", json_real(a->temperature));
	json_object_set_new(root, "max_tokens", json_integer(a->max_tokens));
	json_object_set_new(root, "stream", json_false());
	s = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(2) |
	    JSON_REAL_PRECISION(6));
	json_decref(root);
	out = xstrdup(s);
	free(s);
	return out;
}

int
ai_parse(const char *body, size_t len, struct ai_reply *r,
	 struct ikasq_err *err)
{
	json_t *j, *content, *usage, *model;
	json_error_t je;
	char *s;

	memset(r, 0, sizeof(*r));
	j = json_loadb(body, len, 0, &je);
	content = json_object_get(json_object_get(json_array_get(
	    json_object_get(j, "choices"), 0), "message"), "content");
	if (!json_is_string(content) || *json_string_value(content) == '\0') {
		s = excerpt(body, len, 200);
		err_set(err, IKASQ_EUNAVAIL, "the AI endpoint's answer is not "
		    "a chat completion: '%s'", s);
		free(s);
		json_decref(j);
		return IKASQ_EUNAVAIL;
	}
	r->text = xstrdup(json_string_value(content));
	model = json_object_get(j, "model");
	r->model = json_is_string(model) ? xstrdup(json_string_value(model)) :
	    NULL;
	usage = json_object_get(j, "usage");
	s = json_is_object(usage) ? json_dumps(usage, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;
	r->usage = xstrdup(s ? s : "{}");
	free(s);
	json_decref(j);
	return IKASQ_OK;
}

/* The endpoint's own words for an error answer. */
static char *
error_message(const struct http_resp *resp)
{
	json_t *j = json_loadb(resp->body, resp->len, 0, NULL);
	json_t *e = json_object_get(j, "error");
	const char *m = json_is_string(e) ? json_string_value(e) :
	    json_string_value(json_object_get(e, "message"));
	char *out = m ? xstrdup(m) : excerpt(resp->body, resp->len, 200);

	json_decref(j);
	return out;
}

int
ai_complete(struct ai *a, const char *body, struct ai_reply *r,
	    struct ikasq_err *err)
{
	struct http_resp resp;
	char *key = NULL, *auth = NULL, *msg;
	const char *hdr[2] = { NULL, NULL };
	int rc, attempt;

	memset(r, 0, sizeof(*r));
	rc = config_secret(a->cfg, "ai", "api_key", &key, err);
	if (rc != IKASQ_OK)
		return rc;
	if (key != NULL) {	/* Ollama and llama.cpp need none */
		auth = xasprintf("Authorization: Bearer %s", key);
		hdr[0] = auth;
		explicit_bzero(key, strlen(key));
		free(key);
	}
	for (attempt = 0;; attempt++) {
		rc = http_post(a->url, "application/json", body, strlen(body),
		    hdr, &a->http, &resp, err);
		if (rc != IKASQ_OK) {
			err_prefix(err, "cannot reach the AI endpoint");
			if (attempt < a->retries && rc == IKASQ_ETEMP) {
				sleep(1u << attempt);
				continue;
			}
			break;
		}
		if ((resp.status == 429 || resp.status >= 500) &&
		    attempt < a->retries) {
			int64_t wait = resp.retry_after_s >= 0 &&
			    resp.retry_after_s <= 30 ? resp.retry_after_s :
			    (int64_t)1 << attempt;

			log_warn("the AI endpoint answered HTTP %ld; trying "
			    "again in %lld s", resp.status, (long long)wait);
			http_resp_release(&resp);
			sleep((unsigned)wait);
			continue;
		}
		if (resp.status != 200) {
			msg = error_message(&resp);
			rc = err_set(err, resp.status == 401 ||
			    resp.status == 403 ? IKASQ_EPERM : IKASQ_EUNAVAIL,
			    "the AI endpoint answered HTTP %ld: %s",
			    resp.status, msg);
			free(msg);
			http_resp_release(&resp);
			break;
		}
		rc = ai_parse(resp.body, resp.len, r, err);
		r->latency_ms = resp.elapsed_ms;
		http_resp_release(&resp);
		break;
	}
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	return rc;
}

void
ai_reply_release(struct ai_reply *r)
{
	free(r->text);
	free(r->model);
	free(r->usage);
	memset(r, 0, sizeof(*r));
}
