// SPDX-License-Identifier: GPL-2.0-only
/* edgeshift session-test: finds how many fixed-rate sessions a path holds (issue 6). Not built yet. */
#include <stdio.h>
#include "cli.h"

int cmd_session_test(const struct cli *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	fprintf(stderr, "edgeshift %s: not implemented yet\n", argv[0]);
	return 1;
}
