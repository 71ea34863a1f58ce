/* SPDX-License-Identifier: GPL-2.0-only */
/* TLS of the agent's own listener (libmicrohttpd with GnuTLS), when configured. */
#ifndef EDGESHIFT_API_TLS_H
#define EDGESHIFT_API_TLS_H

#include "http/http_server.h"

/*
 * Serve HTTPS with the PEM certificate and key (migration.tls_cert/tls_key,
 * cert_file naming the first in the log) when both are set; else o stays
 * plain HTTP.
 */
void es_api_tls_options(const char *cert_pem, const char *key_pem, const char *cert_file,
			struct es_http_server_opts *o);

#endif
