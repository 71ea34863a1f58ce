// SPDX-License-Identifier: GPL-2.0-only
/* edgeshift migrate: moves a running container to another node (issue 4). Not built yet. */
#include <stdio.h>
#include "cli.h"

int cmd_migrate(const struct cli *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	fprintf(stderr, "edgeshift %s: not implemented yet\n", argv[0]);
	return 1;
}
