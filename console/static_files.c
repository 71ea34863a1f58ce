// SPDX-License-Identifier: GPL-2.0-only
/*
 * The page's files, served from the UI directory the build assembled
 * (the console's HTML, CSS and JavaScript and the chart library npm put
 * under build/). Only plain names directly in that directory are served,
 * so a request never reaches a path outside it; each answer carries a
 * Content-Security-Policy that lets the page load and fetch from the
 * console alone: no inline script, nothing from another origin.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <microhttpd.h>
#include "console_http.h"
#include "util/fs_util.h"

#define MAX_FILE	(4u << 20)

static const char csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static const struct {
	const char	*ext;
	const char	*type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".png", "image/png" },
	{ ".svg", "image/svg+xml" },
};

static const char *type_of(const char *name)
{
	size_t n = strlen(name), m, i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		m = strlen(types[i].ext);
		if (n > m && !strcmp(name + n - m, types[i].ext))
			return types[i].type;
	}
	return NULL;
}

enum MHD_Result con_reply(struct MHD_Connection *c, unsigned int code, const char *type,
			  void *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result con_static_reply(struct MHD_Connection *c, const char *ui_dir, const char *name)
{
	const char *type = type_of(name);
	char path[ES_PATH + 64];
	struct stat st;
	size_t len;
	char *body;

	if (!es_safe_name(name) || !type)
		return con_reply_error(c, MHD_HTTP_NOT_FOUND, "no such file of the console");
	snprintf(path, sizeof(path), "%s/%s", ui_dir, name);
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return con_reply_error(c, MHD_HTTP_NOT_FOUND, "no such file of the console");
	if (st.st_size > MAX_FILE)
		return con_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "file too large");
	body = es_read_file(path, MAX_FILE, &len);
	if (!body)
		return con_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(errno));
	return con_reply(c, MHD_HTTP_OK, type, body, len);
}

enum MHD_Result con_reply_json(struct MHD_Connection *c, unsigned int code, json_t *j)
{
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!body)
		return MHD_NO;
	return con_reply(c, code, "application/json", body, strlen(body));
}

enum MHD_Result con_reply_error(struct MHD_Connection *c, unsigned int code, const char *msg)
{
	return con_reply_json(c, code, json_pack("{s:s}", "error", msg));
}
