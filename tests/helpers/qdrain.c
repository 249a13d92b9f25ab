/*
 * qdrain - drive the queue module directly, for tests and bench/queue.
 *
 *   qdrain enqueue N [BATCH]   add N no-op jobs, BATCH per statement
 *   qdrain drain [BATCH [LEASE [OUTFILE]]]
 *                              claim and complete until nothing is due;
 *                              completed ids go to OUTFILE, one per line
 *   qdrain hold [LEASE]        claim one job, print its id, sleep forever
 *
 * The configuration comes from $IKASQ_CONFIG like the program's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ikasq/config.h"
#include "ikasq/db.h"
#include "ikasq/queue.h"

static struct db *
connect_db(struct config **cfg)
{
	struct strbuf pb = STRBUF_INIT;
	struct ikasq_err err;
	struct db *db;

	sb_init(&pb);
	if (config_load(NULL, cfg, &pb) != IKASQ_OK) {
		fprintf(stderr, "qdrain: %s", pb.buf);
		exit(78);
	}
	sb_release(&pb);
	if (db_connect(*cfg, &db, &err) != IKASQ_OK) {
		fprintf(stderr, "qdrain: %s\n", err.msg);
		exit(75);
	}
	return db;
}

static int
do_enqueue(struct db *db, long n, long batch)
{
	struct ikasq_err err;
	const char **payloads;
	char **texts;
	long i, done = 0;

	texts = xcalloc((size_t)batch, sizeof(*texts));
	payloads = xcalloc((size_t)batch, sizeof(*payloads));
	while (done < n) {
		long k = n - done < batch ? n - done : batch;

		for (i = 0; i < k; i++) {
			free(texts[i]);
			texts[i] = xasprintf("{\"n\":%ld}", done + i);
			payloads[i] = texts[i];
		}
		if (queue_enqueue_many(db, "noop", payloads, (int)k, 5, &err) !=
		    IKASQ_OK) {
			fprintf(stderr, "qdrain: %s\n", err.msg);
			return 1;
		}
		done += k;
	}
	for (i = 0; i < batch; i++)
		free(texts[i]);
	free(texts);
	free(payloads);
	return 0;
}

static int
do_drain(struct db *db, int batch, int64_t lease, const char *outpath)
{
	struct ikasq_err err;
	struct job_list l;
	const char **ids;
	FILE *out = NULL;
	long total = 0, done;
	int i;

	if (outpath != NULL && (out = fopen(outpath, "w")) == NULL) {
		perror(outpath);
		return 1;
	}
	ids = xcalloc((size_t)batch, sizeof(*ids));
	for (;;) {
		if (queue_claim(db, NULL, 0, batch, lease, worker_identity(),
		    &l, &err) != IKASQ_OK) {
			fprintf(stderr, "qdrain: claim: %s\n", err.msg);
			return 1;
		}
		if (l.n == 0) {
			job_list_release(&l);
			break;
		}
		for (i = 0; i < l.n; i++)
			ids[i] = l.v[i].id;
		if (queue_complete(db, ids, l.n, worker_identity(), NULL, &done,
		    &err) != IKASQ_OK) {
			fprintf(stderr, "qdrain: complete: %s\n", err.msg);
			return 1;
		}
		if (done != l.n) {
			fprintf(stderr, "qdrain: completed %ld of %d claimed "
			    "jobs\n", done, l.n);
			return 1;
		}
		if (out != NULL)
			for (i = 0; i < l.n; i++)
				fprintf(out, "%s\n", l.v[i].id);
		total += l.n;
		job_list_release(&l);
	}
	free(ids);
	if (out != NULL && fclose(out) != 0) {
		perror(outpath);
		return 1;
	}
	fprintf(stderr, "qdrain %s: completed %ld\n", worker_identity(), total);
	return 0;
}

static int
do_hold(struct db *db, int64_t lease)
{
	struct ikasq_err err;
	struct job_list l;

	if (queue_claim(db, NULL, 0, 1, lease, worker_identity(), &l, &err) !=
	    IKASQ_OK) {
		fprintf(stderr, "qdrain: claim: %s\n", err.msg);
		return 1;
	}
	printf("%s\n", l.n ? l.v[0].id : "none");
	fflush(stdout);
	job_list_release(&l);
	for (;;)
		pause();
}

int
main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct db *db;
	int rc = 2;

	if (argc < 2) {
		fprintf(stderr, "usage: qdrain enqueue N [BATCH] | drain [BATCH "
		    "[LEASE [OUT]]] | hold [LEASE]\n");
		return 64;
	}
	db = connect_db(&cfg);
	queue_set_rescue(1000, (int)config_int(cfg, "queue", "max_rescues"));
	if (strcmp(argv[1], "enqueue") == 0 && argc >= 3)
		rc = do_enqueue(db, atol(argv[2]), argc > 3 ? atol(argv[3]) :
		    1000);
	else if (strcmp(argv[1], "drain") == 0)
		rc = do_drain(db, argc > 2 ? atoi(argv[2]) : 100,
		    argc > 3 ? atol(argv[3]) : 300, argc > 4 ? argv[4] : NULL);
	else if (strcmp(argv[1], "hold") == 0)
		rc = do_hold(db, argc > 2 ? atol(argv[2]) : 300);
	db_close(db);
	config_free(cfg);
	return rc;
}
