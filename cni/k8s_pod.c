// SPDX-License-Identifier: GPL-2.0-only
/*
 * GET /api/v1/namespaces/NS/pods/NAME with the kubeconfig's current
 * context, and one annotation out of the pod's metadata.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "http/http_client.h"
#include "k8s_pod.h"
#include "kubeconfig.h"

/* DNS-1123 names: what the API server accepts for namespaces and pods. */
static int valid_k8s_name(const char *s)
{
	size_t i, len = s ? strlen(s) : 0;

	if (!len || len > 253)
		return 0;
	for (i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= '0' && s[i] <= '9') &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* The API's Status object says why; fall back to the raw start. */
static void status_message(const struct es_http_response *r, char *buf, size_t len)
{
	json_t *j = r->body ? json_loads(r->body, 0, NULL) : NULL;
	const char *m = json_string_value(json_object_get(j, "message"));

	snprintf(buf, len, "%.200s", m ? m : r->body ? r->body : "(empty answer)");
	json_decref(j);
}

static int pod_annotation(const struct es_http_response *r, const char *key, char **value,
			  const char *what, struct cni_error *err)
{
	json_t *pod = r->body ? json_loads(r->body, 0, NULL) : NULL;
	const json_t *meta = json_object_get(pod, "metadata");
	const json_t *ann = json_object_get(meta, "annotations");
	const json_t *v = json_object_get(ann, key);
	int ret = 0;

	if (!json_is_object(meta) || (ann && !json_is_object(ann)) || (v && !json_is_string(v)))
		ret = cni_fail(err, CNI_ERR_KUBE_API,
			       "kubernetes: %s: the answer is not a pod object", what);
	else if (v && !(*value = strdup(json_string_value(v))))
		ret = cni_fail(err, CNI_ERR_KUBE_API, "kubernetes: out of memory");
	json_decref(pod);
	return ret;
}

static int interpret(const struct kubeconfig *kc, const struct es_http_response *r,
		     const char *ns, const char *pod, const char *key, char **value,
		     struct cni_error *err)
{
	char what[600], msg[256];

	snprintf(what, sizeof(what), "pod %s/%s at %s", ns, pod, kc->server);
	if (r->status == 200)
		return pod_annotation(r, key, value, what, err);
	status_message(r, msg, sizeof(msg));
	if (r->status == 404)
		return cni_fail(err, CNI_ERR_KUBE_API, "kubernetes: %s: not found (%s)", what, msg);
	if (r->status == 401 || r->status == 403)
		return cni_fail(err, CNI_ERR_KUBE_API,
				"kubernetes: %s: the API server refused the credentials of kubeconfig user '%s' (HTTP %ld: %s)",
				what, kc->user_name, r->status, msg);
	return cni_fail(err, CNI_ERR_KUBE_API, "kubernetes: %s: HTTP %ld: %s", what, r->status, msg);
}

int k8s_pod_annotation(const char *kubeconfig, const char *ns, const char *pod,
		       const char *key, long timeout_ms, char **value, struct cni_error *err)
{
	struct es_http_response r = { 0 };
	struct kubeconfig kc;
	char why[256];
	char *url = NULL;
	int ret = -1;

	*value = NULL;
	if (!valid_k8s_name(ns) || !valid_k8s_name(pod))
		return cni_fail(err, CNI_ERR_KUBE_API,
				"kubernetes: pod '%s/%s': not a valid namespace/name", ns ? ns : "",
				pod ? pod : "");
	if (!kubeconfig || !*kubeconfig)
		return cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig: no file named in the configuration");
	if (kubeconfig_load(kubeconfig, &kc, err))
		return -1;
	if (asprintf(&url, "%s/api/v1/namespaces/%s/pods/%s", kc.server, ns, pod) < 0) {
		url = NULL;
		cni_fail(err, CNI_ERR_KUBE_API, "kubernetes: out of memory");
		goto out;
	}
	struct es_http_request req = {
		.method = "GET", .url = url, .bearer = kc.token, .user = kc.username,
		.password = kc.password, .ca_file = kc.ca_file, .ca = kc.ca,
		.cert_file = kc.cert_file, .cert = kc.cert, .key_file = kc.key_file,
		.key = kc.key, .insecure = kc.insecure,
		.connect_ms = timeout_ms, .total_ms = timeout_ms,
	};
	if (es_http_perform(&req, &r, why, sizeof(why))) {
		cni_fail(err, CNI_ERR_KUBE_API,
			 "kubernetes: API server %s did not answer (timeout %ld ms): %s", kc.server,
			 timeout_ms, why);
		goto out;
	}
	ret = interpret(&kc, &r, ns, pod, key, value, err);
out:
	es_http_response_free(&r);
	free(url);
	kubeconfig_free(&kc);
	return ret;
}
