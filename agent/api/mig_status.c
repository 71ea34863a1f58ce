// SPDX-License-Identifier: GPL-2.0-only
#include <microhttpd.h>
#include "mig_status.h"

unsigned int es_mig_http_status(enum es_mig_err e)
{
	static const unsigned int status[] = {
		[ES_MIG_OK]		= MHD_HTTP_OK,
		[ES_MIG_EINVAL]		= MHD_HTTP_BAD_REQUEST,
		[ES_MIG_ENOENT]		= MHD_HTTP_NOT_FOUND,
		[ES_MIG_EEXIST]		= MHD_HTTP_CONFLICT,
		[ES_MIG_EBUSY]		= MHD_HTTP_CONFLICT,
		[ES_MIG_ENOIMAGE]	= MHD_HTTP_PRECONDITION_FAILED,
		[ES_MIG_ECORRUPT]	= MHD_HTTP_UNPROCESSABLE_CONTENT,
		[ES_MIG_EUNAVAIL]	= MHD_HTTP_SERVICE_UNAVAILABLE,
		[ES_MIG_EINTERNAL]	= MHD_HTTP_INTERNAL_SERVER_ERROR,
	};

	if ((unsigned int)e >= sizeof(status) / sizeof(status[0]) || !status[e])
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	return status[e];
}
