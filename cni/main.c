// SPDX-License-Identifier: GPL-2.0-only
/* edgeshift-cni: placeholder until the plugin lands. */
#include <stdio.h>

int main(void)
{
	printf("{\"cniVersion\":\"1.1.0\",\"code\":4,\"msg\":\"edgeshift-cni is not built yet\"}\n");
	return 1;
}
