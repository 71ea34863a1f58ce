// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTPS on the agent's listener: the same routes and the same token check
 * (TLS authenticates the agent to its peers and keeps the token and the
 * checkpoint private on the way; it does not replace the token).
 */
#include <stddef.h>
#include "util/log.h"
#include "api_tls.h"

void es_api_tls_options(const char *cert_pem, const char *key_pem, const char *cert_file,
			struct es_http_server_opts *o)
{
	if (!cert_pem || !key_pem)
		return;
	o->tls_cert = cert_pem;
	o->tls_key = key_pem;
	es_info("api_tls", "cert=%s", cert_file);
}
