/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The CNI spec's error result. Every function of the plugin that can fail
 * fills one of these so the error printed on stdout names the field or the
 * server at fault with the spec's code.
 */
#ifndef EDGESHIFT_CNI_ERROR_H
#define EDGESHIFT_CNI_ERROR_H

/* Well-known codes of the CNI 1.x spec; 100 and up are plugin specific. */
enum cni_error_code {
	CNI_ERR_INCOMPATIBLE_VERSION	= 1,
	CNI_ERR_UNSUPPORTED_FIELD	= 2,
	CNI_ERR_UNKNOWN_CONTAINER	= 3,
	CNI_ERR_INVALID_ENV		= 4,
	CNI_ERR_IO			= 5,
	CNI_ERR_DECODE			= 6,
	CNI_ERR_INVALID_CONFIG		= 7,
	CNI_ERR_TRY_AGAIN		= 11,
	CNI_ERR_NOT_AVAILABLE		= 50,	/* STATUS: cannot serve ADD now */
	CNI_ERR_NOT_AVAILABLE_LIMITED	= 51,	/* ... and pods may have limited connectivity */
	CNI_ERR_IPAM_UNREACHABLE	= 100,	/* no HTTP IPAM server answered */
	CNI_ERR_IPAM_AUTH		= 101,	/* an IPAM server refused the credentials */
	CNI_ERR_IPAM_EXHAUSTED		= 102,	/* the network has no free address */
	CNI_ERR_IPAM_BAD_ANSWER		= 103,	/* a server answered something not in the API */
	CNI_ERR_NO_FREE_DEVICE		= 110,	/* every host-device of the delegate is in use */
	CNI_ERR_CHECK_DIFFERS		= 111,	/* CHECK: the pod lacks what prevResult lists */
	CNI_ERR_KUBE_API		= 120,	/* the pod's annotation could not be read */
};

struct cni_error {
	int	code;		/* enum cni_error_code, 0 when no error */
	char	msg[256];	/* short, names the field or server */
	char	details[768];	/* longer explanation, may be empty */
};

/* printf-style setter; returns -1 so callers can `return cni_fail(...)`. */
int cni_fail(struct cni_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
