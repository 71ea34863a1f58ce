// SPDX-License-Identifier: GPL-2.0-only
/* The versions edgeshift-cni speaks and what each of them allows. */
#include <string.h>
#include "cni_version.h"

static const char *const supported[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };
static const int ordinal[] = { 300, 301, 400, 10000, 10100 };

int cni_version_num(const char *v)
{
	size_t i;

	for (i = 0; v && i < sizeof(supported) / sizeof(supported[0]); i++)
		if (!strcmp(v, supported[i]))
			return ordinal[i];
	return -1;
}

int cni_version_check(const char *v, struct cni_error *err)
{
	if (cni_version_num(v) >= 0)
		return 0;
	cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION,
		 "cniVersion: \"%s\" is not supported (supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)",
		 v ? v : "");
	return -1;
}

json_t *cni_version_info(const char *v)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < sizeof(supported) / sizeof(supported[0]); i++)
		json_array_append_new(list, json_string(supported[i]));
	return json_pack("{s:s, s:o}", "cniVersion", v && *v ? v : CNI_VERSION_LATEST,
			 "supportedVersions", list);
}
