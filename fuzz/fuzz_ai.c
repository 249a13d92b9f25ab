/*
 * fuzz_ai.c - ai_parse(): a chat completion answer of an OpenAI-compatible
 * endpoint.  The input is the answer's body.
 *
 * Checked besides memory safety: IKASQ_OK or IKASQ_EUNAVAIL with a
 * message; on IKASQ_OK a draft that is not empty, usage that is a JSON
 * object, and nothing set on failure.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "ikasq/ai.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ai_reply r;
	struct ikasq_err err;
	json_t *usage;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = ai_parse((const char *)data, size, &r, &err);
	if (rc != IKASQ_OK) {
		FUZZ_CHECK(rc == IKASQ_EUNAVAIL && err.rc == rc &&
		    err.msg[0] != '\0', "rc %d, err.rc %d, message '%s'", rc,
		    err.rc, err.msg);
		FUZZ_CHECK(r.text == NULL && r.model == NULL &&
		    r.usage == NULL, "a reply set on failure");
		ai_reply_release(&r);
		return 0;
	}
	FUZZ_CHECK(r.text != NULL && r.text[0] != '\0', "an empty draft");
	FUZZ_CHECK(r.usage != NULL, "no usage");
	usage = json_loads(r.usage, 0, NULL);
	FUZZ_CHECK(json_is_object(usage), "usage is not an object: %s",
	    r.usage);
	json_decref(usage);
	ai_reply_release(&r);
	return 0;
}
