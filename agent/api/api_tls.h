/* SPDX-License-Identifier: GPL-2.0-only */
/* TLS of the agent's own listener (libmicrohttpd with GnuTLS), when configured. */
#ifndef EDGESHIFT_API_TLS_H
#define EDGESHIFT_API_TLS_H

#include <microhttpd.h>
#include "migration/migration.h"

/*
 * Fill opts (3 items, the last MHD_OPTION_END) for MHD_OPTION_ARRAY and
 * return the daemon flags to add: MHD_USE_TLS with the PEM certificate and
 * key (migration.tls_cert/tls_key, cert_file naming the first in the log),
 * or nothing when either is not set.
 */
unsigned int es_api_tls_options(const char *cert_pem, const char *key_pem, const char *cert_file,
				struct MHD_OptionItem opts[3]);

#endif
