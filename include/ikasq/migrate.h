/*
 * migrate.h - the schema in sql/NNN_name.sql, compiled in, applied in order.
 */
#ifndef IKASQ_MIGRATE_H
#define IKASQ_MIGRATE_H

#include <stdbool.h>

#include "ikasq/err.h"
#include "ikasq/util.h"

struct db;

struct migration {
	int version;
	const char *name;	/* "001_init" */
	const char *sql;
};

extern const struct migration migrations[];
extern const int nmigrations;

/*
 * Apply every migration not yet recorded in schema_migrations, each in its
 * own transaction, under an advisory lock so that concurrent runs take
 * turns.  With status_only, apply nothing.  Appends one line per migration
 * applied (or, with status_only, per migration and its state) to report.
 * *applied counts those applied.
 */
int migrate_run(struct db *db, bool status_only, struct strbuf *report,
		int *applied, struct ikasq_err *err);

#endif
