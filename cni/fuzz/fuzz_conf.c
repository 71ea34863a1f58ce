// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness of the network configuration parser: any bytes on
 * stdin must give either a parsed configuration or an error naming a
 * field, never a crash, a leak or a sanitizer report. `make fuzz-cni`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cni_conf.h"
#include "cni_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cni_conf c;
	struct cni_error err = {};
	char ver[16], val[64];

	if (cni_conf_parse((const char *)data, size, &c, &err) && (!err.code || !err.msg[0]))
		abort();	/* an error must say what is wrong */
	cni_conf_free(&c);
	memset(&err, 0, sizeof(err));
	cni_conf_version((const char *)data, size, ver, sizeof(ver), &err);
	if (size < 512) {
		char *args = strndup((const char *)data, size);

		if (args) {
			cni_args_get(args, "EDGESHIFT_NETWORK", val, sizeof(val));
			free(args);
		}
	}
	return 0;
}
