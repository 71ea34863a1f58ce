// SPDX-License-Identifier: GPL-2.0-only
/* The agent API client and the output helpers every command shares. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "http/http_client.h"
#include "bpf/es_maps.h"

/* The agent's answers (session lists, migration records) are not bounded by the API. */
#define MAX_ANSWER	(256u << 20)

static json_t *api_request(const struct cli *c, const char *path, json_t *body,
			   char *err, size_t err_len)
{
	struct es_http_response r;
	char *text = NULL, why[256];
	json_error_t jerr;
	char url[1024];
	json_t *j = NULL;

	snprintf(url, sizeof(url), "%s%s", c->api, path);
	if (body)
		text = json_dumps(body, JSON_COMPACT);
	struct es_http_request req = {
		.url = url, .body = body ? text ?: "{}" : NULL, .bearer = c->token,
		/* an https --api checked against this CA file */
		.ca_file = getenv("EDGESHIFT_CA"),
		.total_ms = c->timeout_ms, .max_answer = MAX_ANSWER,
	};
	if (es_http_perform(&req, &r, why, sizeof(why))) {
		snprintf(err, err_len, "%.300s: %s", url, r.reason);
	} else {
		j = json_loads(r.body ? r.body : "", 0, &jerr);
		if (!j)
			snprintf(err, err_len, "%.300s: not JSON: %.150s", url, jerr.text);
		else if (r.status / 100 != 2)
			snprintf(err, err_len, "%.300s: HTTP %ld: %.150s", url, r.status,
				 json_string_value(json_object_get(j, "error")) ?: "?");
	}
	if (j && r.status / 100 != 2) {
		json_decref(j);
		j = NULL;
		errno = EINVAL;	/* the agent answered: no fallback */
	} else if (!j) {
		errno = ECONNREFUSED;
	}
	es_http_response_free(&r);
	free(text);
	return j;
}

json_t *cli_api_get(const struct cli *c, const char *path, char *err, size_t err_len)
{
	return api_request(c, path, NULL, err, err_len);
}

json_t *cli_api_post(const struct cli *c, const char *path, json_t *body, char *err,
		     size_t err_len)
{
	json_t *empty = NULL;
	json_t *j;

	if (!body)
		body = empty = json_object();
	j = api_request(c, path, body, err, err_len);
	json_decref(empty);
	return j;
}

int cli_open_pins(const struct cli *c, struct es_maps *m)
{
	char msg[256];
	int err;

	err = es_maps_open_pinned(m, c->pin_path);
	if (err) {
		fprintf(stderr, "edgeshift: cannot open the pinned maps in %s: %s\n", c->pin_path,
			strerror(-err));
		return err;
	}
	err = es_maps_check_layout(m, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "edgeshift: %s\n", msg);
		es_maps_close(m);
	}
	return err;
}

int cli_emit(const struct cli *c, json_t *j, void (*table)(json_t *))
{
	if (c->json) {
		json_dumpf(j, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		table(j);
	}
	json_decref(j);
	return 0;
}

void cli_human_bytes(unsigned long long v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", d, units[u]);
}

int cli_append_arg(char *path, size_t len, const char *key, const char *val)
{
	size_t used = strlen(path);
	char *esc = es_http_escape(val);
	int n;

	if (!esc)
		return -1;
	n = snprintf(path + used, len - used, "%c%s=%s", strchr(path, '?') ? '&' : '?', key, esc);
	free(esc);
	return n < 0 || (size_t)n >= len - used ? -1 : 0;
}

