// SPDX-License-Identifier: GPL-2.0-only
/* Where an incoming migration is staged: STATE/migrations/in-ID, its manifest. */
#include <stdio.h>
#include <string.h>
#include "migrate.h"

void es_mig_in_dir(struct es_migrator *m, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/migrations/in-%s", m->cfg->state_dir, id);
}

json_t *es_mig_in_manifest(struct es_migrator *m, const char *id)
{
	char path[ES_PATH];

	es_mig_in_dir(m, id, path, sizeof(path));
	strncat(path, "/manifest.json", sizeof(path) - strlen(path) - 1);
	return json_load_file(path, 0, NULL);
}
