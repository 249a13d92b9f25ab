/*
 * reply.h - a draft answer to one stored mail: the order cache (or a
 * priority-10 lookup and a short wait), a prompt that keeps the customer's
 * text fenced off and other customers' orders out, the AI endpoint, and a
 * mail_replies row.
 */
#ifndef IKASQ_REPLY_H
#define IKASQ_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "ikasq/err.h"

struct config;
struct db;

struct reply_opts {
	const char *mail_id;	/* or */
	const char *message_id;
	int64_t wait_ms;	/* for a missing order; 0: do not wait */
	bool dry_run;		/* print the request, call nothing */
};

struct reply_result {
	char mail_id[37];
	char *text;		/* the draft */
	char *request;		/* the request body (dry run) */
	bool order_data_used;
	char *orders;		/* JSON array: number, state, used */
	char *model;
	char *usage;		/* JSON */
	int64_t latency_ms;	/* of the whole reply */
	int64_t ai_ms;		/* of the AI call */
	bool waited;		/* a lookup was queued and waited for */
	char job_id[37];	/* the priority-10 job, "" if none */
};

int reply_run(const struct config *cfg, struct db *db,
	      const struct reply_opts *o, struct reply_result *r,
	      struct ikasq_err *err);
void reply_result_release(struct reply_result *r);

/* Pieces of the prompt, exposed for tests. */
char *reply_order_facts(const char *order_json, bool include_phone);

#endif
