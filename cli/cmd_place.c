// SPDX-License-Identifier: GPL-2.0-only
/* edgeshift place: picks an edge site for a request (issue 6). Not built yet. */
#include <stdio.h>
#include "cli.h"

int cmd_place(const struct cli *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	fprintf(stderr, "edgeshift %s: not implemented yet\n", argv[0]);
	return 1;
}
