/* SPDX-License-Identifier: GPL-2.0-only */
/* TLS of the agent's own listener (libmicrohttpd with GnuTLS), when configured. */
#ifndef EDGESHIFT_API_TLS_H
#define EDGESHIFT_API_TLS_H

#include <microhttpd.h>
#include "migration/migration.h"

/*
 * Fill opts (3 items, the last MHD_OPTION_END) for MHD_OPTION_ARRAY and
 * return the daemon flags to add: MHD_USE_TLS with the certificate and key
 * of migration.tls_cert/tls_key, or nothing when they are not set.
 */
unsigned int es_api_tls_options(const struct es_mig_config *m, struct MHD_OptionItem opts[3]);

#endif
