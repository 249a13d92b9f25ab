/*
 * ai.h - an OpenAI-compatible chat completions client (OpenAI, Azure-style
 * gateways, Ollama, vLLM, llama.cpp server) and the reply prompt.
 */
#ifndef IKASQ_AI_H
#define IKASQ_AI_H

#include <stdbool.h>
#include <stdint.h>

#include "ikasq/err.h"

struct config;
struct ai;

/* Read [ai]; IKASQ_ECONFIG naming a missing or bad setting. */
int ai_new(const struct config *cfg, struct ai **out, struct ikasq_err *err);
void ai_free(struct ai *a);
const char *ai_model(const struct ai *a);

/* The request body for a system and a user message (caller frees). */
char *ai_request(const struct ai *a, const char *system, const char *user);

struct ai_reply {
	char *text;		/* the draft */
	char *model;		/* as the endpoint names it */
	char *usage;		/* the endpoint's usage object, JSON; "{}" */
	int64_t latency_ms;	/* of the successful call */
};

/*
 * POST body to {base_url}/chat/completions.  429 and 5xx are retried with
 * backoff ([ai] retries times).  Errors: IKASQ_EUNAVAIL with the
 * endpoint's own message (or the first 200 bytes of an answer that is not
 * the expected JSON), IKASQ_ETEMP when it cannot be reached, IKASQ_EPERM
 * for a refused key.
 */
int ai_complete(struct ai *a, const char *body, struct ai_reply *r,
		struct ikasq_err *err);
void ai_reply_release(struct ai_reply *r);

/* Parse a chat completion answer (exposed for tests and fuzzing). */
int ai_parse(const char *body, size_t len, struct ai_reply *r,
	     struct ikasq_err *err);

#endif
