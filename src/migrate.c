/* migrate.c - apply the compiled-in sql/ migrations */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikasq/db.h"
#include "ikasq/migrate.h"

/* pg_advisory_lock key: "ikasq" in ASCII, one lock for all migrations */
#define MIGRATE_LOCK "452942230385"

static char *
checksum(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return xasprintf("%016llx", (unsigned long long)h);
}

static int
applied_sum(struct db_res *res, int version, const char **sum)
{
	int i;

	for (i = 0; i < db_ntuples(res); i++)
		if (atoi(db_get(res, i, 0)) == version) {
			*sum = db_get(res, i, 1);
			return 1;
		}
	return 0;
}

int
migrate_run(struct db *db, bool status_only, struct strbuf *report,
	    int *applied, struct ikasq_err *err)
{
	struct db_res *res = NULL;
	const char *schema = db_schema(db);
	int rc, i;

	*applied = 0;
	rc = db_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", 0, NULL,
	    NULL, err);
	if (rc != IKASQ_OK)
		return rc;
	if (strcmp(schema, "public") != 0 && !status_only) {
		/* the name was checked by config: [a-z_][a-z0-9_]* */
		char *sql = xasprintf("CREATE SCHEMA IF NOT EXISTS %s",
		    schema);

		rc = db_exec_script(db, sql, err);
		free(sql);
		if (rc != IKASQ_OK)
			goto out;
	}
	if (!status_only) {
		rc = db_exec_script(db,
		    "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    " version integer PRIMARY KEY,"
		    " name text NOT NULL,"
		    " checksum text NOT NULL,"
		    " applied_at timestamptz NOT NULL DEFAULT now())", err);
		if (rc != IKASQ_OK)
			goto out;
	}
	if (status_only) {
		rc = db_exec(db, "SELECT to_regclass('schema_migrations') IS "
		    "NULL", 0, NULL, &res, err);
		if (rc != IKASQ_OK)
			goto out;
		if (strcmp(db_get(res, 0, 0), "t") == 0) {
			for (i = 0; i < nmigrations; i++)
				sb_addf(report, "pending  %s\n",
				    migrations[i].name);
			goto out;
		}
		db_res_free(res);
		res = NULL;
	}
	rc = db_exec(db, "SELECT version, checksum FROM schema_migrations "
	    "ORDER BY version", 0, NULL, &res, err);
	if (rc != IKASQ_OK)
		goto out;
	for (i = 0; i < nmigrations; i++) {
		const struct migration *m = &migrations[i];
		char *sum = checksum(m->sql), ver[16];
		const char *have, *p[3];

		if (applied_sum(res, m->version, &have)) {
			if (strcmp(have, sum) != 0)
				sb_addf(report, "warning: %s was changed after "
				    "it was applied\n", m->name);
			else if (status_only)
				sb_addf(report, "applied  %s\n", m->name);
			free(sum);
			continue;
		}
		if (status_only) {
			sb_addf(report, "pending  %s\n", m->name);
			free(sum);
			continue;
		}
		snprintf(ver, sizeof(ver), "%d", m->version);
		p[0] = ver;
		p[1] = m->name;
		p[2] = sum;
		if ((rc = db_begin(db, err)) != IKASQ_OK ||
		    (rc = db_exec_script(db, m->sql, err)) != IKASQ_OK ||
		    (rc = db_exec(db, "INSERT INTO schema_migrations (version,"
		    " name, checksum) VALUES ($1::int, $2, $3)", 3, p, NULL,
		    err)) != IKASQ_OK ||
		    (rc = db_commit(db, err)) != IKASQ_OK) {
			db_rollback(db);
			err_prefix(err, "migration %s", m->name);
			free(sum);
			goto out;
		}
		free(sum);
		sb_addf(report, "applied %s\n", m->name);
		(*applied)++;
	}
out:
	db_res_free(res);
	if (rc == IKASQ_OK || rc != IKASQ_ETEMP) {
		struct ikasq_err e2;

		db_exec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", 0,
		    NULL, NULL, &e2);
	}
	return rc;
}
