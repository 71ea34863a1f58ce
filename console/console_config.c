// SPDX-License-Identifier: GPL-2.0-only
/*
 * Settings of edgeshift-console, all from the command line (main.c): the
 * agents to watch, which of them run on the control plane, and the token
 * that unlocks actions. A refusal names the flag and what it expects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "console.h"
#include "util/fs_util.h"

void con_config_defaults(struct con_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->listen, "127.0.0.1:8080");
	cfg->refresh_ms = 1000;
	cfg->history_s = 900;
}

/* An http:// or https:// base URL into dst, without its trailing slashes. */
static int base_url(char *dst, const char *url, const char *what, char *err, size_t len)
{
	size_t n = strlen(url);

	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		snprintf(err, len, "%s URL '%.200s' must start with http:// or https://", what, url);
		return -EINVAL;
	}
	while (n && url[n - 1] == '/')
		n--;
	if (n >= CON_URL_MAX) {
		snprintf(err, len, "%s URL '%.200s...' is longer than %d bytes", what, url,
			 CON_URL_MAX - 1);
		return -EINVAL;
	}
	memcpy(dst, url, n);
	dst[n] = '\0';
	return 0;
}

int con_config_add_node(struct con_config *cfg, const char *url, bool control_plane,
			char *err, size_t len)
{
	if (cfg->n_nodes == CON_MAX_NODES) {
		snprintf(err, len, "at most %d agents", CON_MAX_NODES);
		return -E2BIG;
	}
	if (base_url(cfg->nodes[cfg->n_nodes].url, url, "agent", err, len))
		return -EINVAL;
	cfg->nodes[cfg->n_nodes].control_plane = control_plane;
	cfg->n_nodes++;
	return 0;
}

int con_config_prometheus(struct con_config *cfg, const char *url, char *err, size_t len)
{
	return base_url(cfg->prom_url, url, "Prometheus", err, len);
}

/* The agents' shared token (migration.token_file): one line, whitespace trimmed. */
int con_config_load_token(struct con_config *cfg, const char *path, char *err, size_t len)
{
	char *text = es_read_file(path, sizeof(cfg->token) + 2, NULL), *s, *e;

	if (!text) {
		snprintf(err, len, "--token-file %.200s: cannot be read (%s)", path, strerror(errno));
		return -EINVAL;
	}
	for (s = text; *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'; s++)
		;
	for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
					  e[-1] == '\r'); e--)
		;
	*e = '\0';
	if (!*s || strlen(s) >= sizeof(cfg->token)) {
		snprintf(err, len, "--token-file %.200s: want one token of 1 to %zu bytes", path,
			 sizeof(cfg->token) - 1);
		free(text);
		return -EINVAL;
	}
	strcpy(cfg->token, s);
	free(text);
	return 0;
}
