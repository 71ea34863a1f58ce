// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTPS on the agent's listener: the same routes and the same token check
 * (TLS authenticates the agent to its peers and keeps the token and the
 * checkpoint private on the way; it does not replace the token).
 */
#include <stddef.h>
#include "util/log.h"
#include "api_tls.h"

unsigned int es_api_tls_options(const char *cert_pem, const char *key_pem, const char *cert_file,
				struct MHD_OptionItem opts[3])
{
	opts[0] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	if (!cert_pem || !key_pem)
		return 0;
	opts[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert_pem };
	opts[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key_pem };
	opts[2] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	es_info("api_tls", "cert=%s", cert_file);
	return MHD_USE_TLS;
}
