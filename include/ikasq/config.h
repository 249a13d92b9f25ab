/*
 * config.h - ikasq.conf: an INI file read with GLib's GKeyFile.
 *
 * Every known key is described once in a table in config.c (type, default,
 * range, whether it is a secret).  Loading validates the whole file and
 * reports every problem as "file:line: ...".  Getters never fail: a key the
 * file leaves out has its default.  Secrets are resolved lazily (environment,
 * then the file, then KEY_command) so a command only runs when needed.
 */
#ifndef IKASQ_CONFIG_H
#define IKASQ_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "ikasq/err.h"
#include "ikasq/util.h"

struct config;

/*
 * Find and load the configuration.  explicit_path is -c FILE or NULL; then
 * $IKASQ_CONFIG, ~/.config/ikasq/ikasq.conf, /etc/ikasq/ikasq.conf are
 * tried in turn, and with none of them the defaults apply.  On failure
 * returns IKASQ_ECONFIG (or IKASQ_EIO) and appends one line per problem to
 * problems; *out is then NULL.  The caller frees *out with config_free().
 */
int config_load(const char *explicit_path, struct config **out,
		struct strbuf *problems);
/* Parse configuration text as if read from path (for tests and fuzzing);
 * no permission check. */
int config_load_text(const char *path, const char *text, size_t len,
		     struct config **out, struct strbuf *problems);
/* An all-defaults configuration. */
struct config *config_defaults(void);
void config_free(struct config *cfg);

/* The file in use, or NULL when running on defaults. */
const char *config_path(const struct config *cfg);

/* Values.  group is "queue", "imap:shop" ...; the key must be in the table. */
const char *config_str(const struct config *cfg, const char *group,
		       const char *key);
long config_int(const struct config *cfg, const char *group, const char *key);
int64_t config_duration(const struct config *cfg, const char *group,
			const char *key);
/* A size in bytes ("25M" -> 26214400). */
int64_t config_size(const struct config *cfg, const char *group,
		    const char *key);
bool config_bool(const struct config *cfg, const char *group, const char *key);
/* A list value ("a;b;c" or one per line); NULL-terminated, caller frees
 * with strv_free(). */
char **config_list(const struct config *cfg, const char *group,
		   const char *key);
void strv_free(char **v);

/*
 * Resolve a secret: $IKASQ_<GROUP>_<KEY> (upper case, other characters as
 * '_'), else the value in the file, else the first line printed by
 * <key>_command.  *value is NULL when none is set.  A failing command gives
 * IKASQ_ECONFIG.  The caller frees *value (and should wipe it).
 */
int config_secret(const struct config *cfg, const char *group,
		  const char *key, char **value, struct ikasq_err *err);

/* Names of the groups "prefix:NAME" (e.g. prefix "imap"), caller frees with
 * strv_free(). */
char **config_groups(const struct config *cfg, const char *prefix);

/* The effective configuration as INI text, secrets masked and resolved
 * secret commands checked; for `ikasq config check`. */
int config_dump(const struct config *cfg, struct strbuf *out,
		struct ikasq_err *err);

/* The environment variable that overrides a secret (caller frees). */
char *config_env_name(const char *group, const char *key);

#endif
