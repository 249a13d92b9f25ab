/* cmd_extract.c - ikasq extract: what ikasq reads in a message, as JSON */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "ikasq/config.h"
#include "ikasq/extract.h"
#include "ikasq/log.h"
#include "ikasq/mailbox.h"
#include "ikasq/mime.h"
#include "cmd.h"

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
describe(const struct mail *m, const struct order_match *v, int n,
	 bool text)
{
	json_t *o = json_object(), *from = json_object(), *orders, *nums;
	json_t *refs = json_array();
	char *copy, *tok, *save = NULL;
	int i;

	json_object_set_new(o, "message_id", str_or_null(m->message_id));
	json_object_set_new(o, "date", str_or_null(m->date));
	json_object_set_new(from, "address", str_or_null(m->from_addr));
	json_object_set_new(from, "name", str_or_null(m->from_name));
	json_object_set_new(o, "from", from);
	json_object_set_new(o, "to", str_or_null(m->to));
	json_object_set_new(o, "subject", str_or_null(m->subject));
	json_object_set_new(o, "in_reply_to", str_or_null(m->in_reply_to));
	if (m->references != NULL) {
		copy = xstrdup(m->references);
		for (tok = strtok_r(copy, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save))
			json_array_append_new(refs, json_string(tok));
		free(copy);
	}
	json_object_set_new(o, "references", refs);
	json_object_set_new(o, "size", json_integer((json_int_t)m->size));
	json_object_set_new(o, "sha256", json_string(m->sha256));
	orders = json_array();
	nums = json_array();
	for (i = 0; i < n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "order", json_string(v[i].order));
		json_object_set_new(e, "evidence", json_string(v[i].evidence));
		json_object_set_new(e, "where", json_string(v[i].where));
		json_array_append_new(orders, e);
		json_array_append_new(nums, json_string(v[i].order));
	}
	json_object_set_new(o, "order_numbers", nums);
	json_object_set_new(o, "orders", orders);
	json_object_set_new(o, "parse_error", str_or_null(m->parse_error));
	json_object_set_new(o, "note", str_or_null(m->note));
	if (text)
		json_object_set_new(o, "text", json_string(m->body));
	return o;
}

static void
print_one(const struct extractor *x, const char *raw, size_t len,
	  size_t max_size, bool text, bool compact)
{
	struct order_match *v;
	struct mail m;
	json_t *o;
	char *s;
	int n;

	mime_parse(raw, len, max_size, &m);
	extract_orders(x, m.subject, m.body, &v, &n);
	o = describe(&m, v, n, text);
	s = json_dumps(o, JSON_PRESERVE_ORDER | (compact ? JSON_COMPACT :
	    JSON_INDENT(2)));
	puts(s);
	free(s);
	json_decref(o);
	order_matches_free(v, n);
	mail_release(&m);
}

int
cmd_extract(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "text", no_argument, NULL, 't' },
		{ "mbox", required_argument, NULL, 'm' },
		{ "maildir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf in = STRBUF_INIT;
	struct extractor *x = NULL;
	struct mailbox *mb = NULL;
	struct ikasq_err err;
	const char *mbox = NULL, *maildir = NULL, *raw, *where;
	bool text = false;
	size_t len, max_size;
	int c, ex, got;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': text = true; break;
		case 'm': mbox = optarg; break;
		case 'd': maildir = optarg; break;
		default: return cmd_bad_option(ctx, argc, argv);
		}
	}
	if ((mbox || maildir) && optind != argc)
		return cmd_usage_error(ctx, "a FILE and --mbox or --maildir "
		    "exclude each other");
	if (mbox && maildir)
		return cmd_usage_error(ctx, "--mbox and --maildir exclude each "
		    "other");
	if (argc - optind > 1)
		return cmd_usage_error(ctx, "too many arguments");
	if ((ex = ctx_config(ctx)) != EX_OK)
		return ex;
	err_clear(&err);
	if (extractor_new(ctx->cfg, &x, &err) != IKASQ_OK)
		return cmd_fail(&err);
	max_size = (size_t)config_size(ctx->cfg, "ingest", "max_size");
	if (mbox != NULL || maildir != NULL) {
		if ((mbox ? mailbox_open_mbox(mbox, &mb, &err) :
		    mailbox_open_maildir(maildir, &mb, &err)) != IKASQ_OK) {
			extractor_free(x);
			return cmd_fail(&err);
		}
		while ((got = mailbox_next(mb, &raw, &len, &where, &err)) != 0) {
			if (got < 0) {
				log_warn("%s", err.msg);
				continue;
			}
			print_one(x, raw, len, max_size, text, true);
		}
		mailbox_close(mb);
		extractor_free(x);
		return EX_OK;
	}
	sb_init(&in);
	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		if (!read_file(argv[optind], &in)) {
			err_set(&err, errno == ENOENT ? IKASQ_ENOINPUT :
			    IKASQ_EIO, "cannot read '%s': %s", argv[optind],
			    strerror(errno));
			goto fail;
		}
	} else if (!read_all_fd(STDIN_FILENO, &in)) {
		err_set(&err, IKASQ_EIO, "cannot read standard input: %s",
		    strerror(errno));
		goto fail;
	}
	if (in.len == 0) {
		err_set(&err, IKASQ_EDATA, "empty message%s%s",
		    optind < argc ? " in " : " on standard input",
		    optind < argc ? argv[optind] : "");
		goto fail;
	}
	print_one(x, in.buf, in.len, max_size, text, false);
	sb_release(&in);
	extractor_free(x);
	return EX_OK;
fail:
	sb_release(&in);
	extractor_free(x);
	return cmd_fail(&err);
}
