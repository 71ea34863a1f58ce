/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The parts of a kubeconfig file that reach the API server: the current
 * context's cluster (server, CA, insecure-skip-tls-verify) and user
 * (token, tokenFile, client certificate and key, basic auth). *-data
 * fields are decoded into memory; relative file names are resolved
 * against the kubeconfig's directory, as kubectl does.
 */
#ifndef EDGESHIFT_CNI_KUBECONFIG_H
#define EDGESHIFT_CNI_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "cni_error.h"
#include "http/http_client.h"

struct kubeconfig {
	char		*context;	/* name of the context used */
	char		*user_name;	/* name of its user entry */
	char		*server;	/* https://host:port[/path], no trailing '/' */
	char		*ca_file;
	struct es_http_blob ca;		/* certificate-authority-data, decoded */
	bool		insecure;	/* insecure-skip-tls-verify */
	char		*token;		/* token, or tokenFile's content */
	char		*cert_file;
	struct es_http_blob cert;		/* client-certificate-data, decoded */
	char		*key_file;
	struct es_http_blob key;		/* client-key-data, decoded */
	char		*username;	/* basic auth, rarely used */
	char		*password;
};

/* Returns 0, or -1 with err (CNI_ERR_KUBE_API) naming file and field. */
int kubeconfig_load(const char *path, struct kubeconfig *kc, struct cni_error *err);

void kubeconfig_free(struct kubeconfig *kc);

#endif
