/*
 * tap.h - run GLib's g_test with TAP output for Automake's tap-driver.
 */
#ifndef IKASQ_TEST_TAP_H
#define IKASQ_TEST_TAP_H

#include <glib.h>
#include <string.h>

/* g_test_init() with --tap added, whatever GLib's default format. */
static inline void
tap_init(int *argc, char ***argv)
{
	static char *v[64];
	int i, n = 0;

	for (i = 0; i < *argc && n < 62; i++)
		v[n++] = (*argv)[i];
	v[n++] = (char *)"--tap";
	v[n] = NULL;
	*argc = n;
	*argv = v;
	g_test_init(argc, argv, NULL);
}

#endif
