// SPDX-License-Identifier: GPL-2.0-only
/* The agent API client and the output helpers every command shares. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include "cli.h"
#include "http/http_body.h"
#include "bpf/es_maps.h"

static json_t *api_request(const struct cli *c, const char *path, json_t *body,
			   char *err, size_t err_len)
{
	struct curl_slist *hdrs = NULL;
	char *text = NULL;
	struct es_http_body b = {};
	json_error_t jerr;
	char url[1024];
	json_t *j = NULL;
	CURLcode rc;
	long code = 0;
	CURL *h;

	h = curl_easy_init();
	if (!h)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", c->api, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, es_http_body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (getenv("EDGESHIFT_CA"))	/* an https --api checked against this CA file */
		curl_easy_setopt(h, CURLOPT_CAINFO, getenv("EDGESHIFT_CA"));
	if (c->token) {
		char auth[512];

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text ?: "{}");
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		snprintf(err, err_len, "%.300s: %s", url, curl_easy_strerror(rc));
	} else {
		j = json_loads(b.data ? b.data : "", 0, &jerr);
		if (!j)
			snprintf(err, err_len, "%.300s: not JSON: %.150s", url, jerr.text);
		else if (code / 100 != 2)
			snprintf(err, err_len, "%.300s: HTTP %ld: %.150s", url, code,
				 json_string_value(json_object_get(j, "error")) ?: "?");
	}
	if (j && code / 100 != 2) {
		json_decref(j);
		j = NULL;
		errno = EINVAL;	/* the agent answered: no fallback */
	} else if (!j) {
		errno = ECONNREFUSED;
	}
	free(b.data);
	free(text);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
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
	char *esc = curl_easy_escape(NULL, val, 0);
	int n;

	if (!esc)
		return -1;
	n = snprintf(path + used, len - used, "%c%s=%s", strchr(path, '?') ? '&' : '?', key, esc);
	curl_free(esc);
	return n < 0 || (size_t)n >= len - used ? -1 : 0;
}

