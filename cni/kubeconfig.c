// SPDX-License-Identifier: GPL-2.0-only
/* The current context of a kubeconfig file: cluster and credentials. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kubeconfig.h"
#include "yaml_json.h"

#define MAX_TOKEN	(64 * 1024)

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard or URL-safe base64; blanks are skipped, '=' ends the data. */
static int b64_decode(const char *s, struct es_http_blob *out)
{
	size_t len = strlen(s), n = 0;
	unsigned int acc = 0, bits = 0;
	unsigned char *buf = malloc(len / 4 * 3 + 3);
	int v;

	if (!buf)
		return -1;
	for (; *s && *s != '='; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
			continue;
		v = b64_value((unsigned char)*s);
		if (v < 0)
			goto bad;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (acc >> bits) & 0xff;
		}
	}
	if (!n)
		goto bad;
	out->data = buf;
	out->len = n;
	return 0;
bad:
	free(buf);
	return -1;
}

/* The entry of list `key` whose "name" is `name`, its `inner` object. */
static const json_t *named(const json_t *root, const char *key, const char *inner,
			   const char *name)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(root, key), i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n && !strcmp(n, name))
			return json_object_get(e, inner);
	}
	return NULL;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* kubectl resolves relative file names against the kubeconfig's directory. */
static char *resolve(const char *dir, const char *file)
{
	char *out;

	if (!file)
		return NULL;
	if (file[0] == '/' || asprintf(&out, "%s/%s", dir, file) < 0)
		return strdup(file);
	return out;
}

static char *read_token(const char *path, struct cni_error *err, const char *cfg)
{
	char *buf = calloc(1, MAX_TOKEN + 1);
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f || !buf) {
		cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig %s: tokenFile %s: %s", cfg, path,
			 strerror(errno));
		goto bad;
	}
	n = fread(buf, 1, MAX_TOKEN, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (!n) {
		cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig %s: tokenFile %s is empty", cfg, path);
		goto bad;
	}
	return buf;
bad:
	free(buf);
	return NULL;
}

static int data_field(const json_t *o, const char *key, struct es_http_blob *out,
		      const char *cfg, const char *where, struct cni_error *err)
{
	const char *v = str(o, key);

	if (!v)
		return 0;
	if (b64_decode(v, out))
		return cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig %s: %s.%s: not base64", cfg,
				where, key);
	return 0;
}

static int load_cluster(const json_t *root, const char *name, const char *dir,
			struct kubeconfig *kc, const char *cfg, struct cni_error *err)
{
	const json_t *c = named(root, "clusters", "cluster", name);
	const char *server = str(c, "server"), *skip = str(c, "insecure-skip-tls-verify");
	size_t len;

	if (!c)
		return cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig %s: clusters: no cluster '%s'",
				cfg, name);
	if (!server || (strncmp(server, "https://", 8) && strncmp(server, "http://", 7)))
		return cni_fail(err, CNI_ERR_KUBE_API,
				"kubeconfig %s: cluster '%s'.server: want an https:// URL", cfg, name);
	kc->server = strdup(server);
	len = strlen(kc->server);
	while (len > 8 && kc->server[len - 1] == '/')
		kc->server[--len] = '\0';
	kc->ca_file = resolve(dir, str(c, "certificate-authority"));
	kc->insecure = skip && !strcmp(skip, "true");
	return data_field(c, "certificate-authority-data", &kc->ca, cfg, "cluster", err);
}

static int load_user(const json_t *root, const char *name, const char *dir,
		     struct kubeconfig *kc, const char *cfg, struct cni_error *err)
{
	const json_t *u = named(root, "users", "user", name);
	char *token_file;

	if (!u)
		return cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig %s: users: no user '%s'", cfg, name);
	if (json_object_get(u, "exec") || json_object_get(u, "auth-provider"))
		return cni_fail(err, CNI_ERR_KUBE_API,
				"kubeconfig %s: user '%s': exec and auth-provider credentials are not supported; use a token or a client certificate",
				cfg, name);
	if (str(u, "token")) {
		kc->token = strdup(str(u, "token"));
	} else if ((token_file = resolve(dir, str(u, "tokenFile")))) {
		kc->token = read_token(token_file, err, cfg);
		free(token_file);
		if (!kc->token)
			return -1;
	}
	kc->cert_file = resolve(dir, str(u, "client-certificate"));
	kc->key_file = resolve(dir, str(u, "client-key"));
	if (str(u, "username"))
		kc->username = strdup(str(u, "username"));
	if (str(u, "password"))
		kc->password = strdup(str(u, "password"));
	return data_field(u, "client-certificate-data", &kc->cert, cfg, "user", err) ||
	       data_field(u, "client-key-data", &kc->key, cfg, "user", err);
}

int kubeconfig_load(const char *path, struct kubeconfig *kc, struct cni_error *err)
{
	char why[256], *copy = strdup(path), *dir;
	const char *cur, *cluster, *user;
	const json_t *ctx;
	json_t *root;
	int ret = -1;

	memset(kc, 0, sizeof(*kc));
	if (!copy)
		return cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig %s: out of memory", path);
	dir = dirname(copy);
	root = yaml_json_load(path, why, sizeof(why));
	if (!root) {
		cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig %s: %s", path, why);
		goto out;
	}
	cur = str(root, "current-context");
	if (!cur || !*cur) {
		cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig %s: current-context: not set", path);
		goto out;
	}
	ctx = named(root, "contexts", "context", cur);
	cluster = str(ctx, "cluster");
	user = str(ctx, "user");
	if (!ctx || !cluster) {
		cni_fail(err, CNI_ERR_KUBE_API, "kubeconfig %s: contexts: no context '%s' with a cluster",
			 path, cur);
		goto out;
	}
	kc->context = strdup(cur);
	kc->user_name = strdup(user ? user : "");
	if (load_cluster(root, cluster, dir, kc, path, err) ||
	    (user && load_user(root, user, dir, kc, path, err)))
		goto out;
	ret = 0;
out:
	if (ret)
		kubeconfig_free(kc);
	json_decref(root);
	free(copy);
	return ret;
}

void kubeconfig_free(struct kubeconfig *kc)
{
	free(kc->context);
	free(kc->user_name);
	free(kc->server);
	free(kc->ca_file);
	free((void *)kc->ca.data);
	/* Secrets do not linger in freed memory. */
	if (kc->token)
		explicit_bzero(kc->token, strlen(kc->token));
	if (kc->key.data)
		explicit_bzero((void *)kc->key.data, kc->key.len);
	free(kc->token);
	free(kc->cert_file);
	free((void *)kc->cert.data);
	free(kc->key_file);
	free((void *)kc->key.data);
	free(kc->username);
	free(kc->password);
	memset(kc, 0, sizeof(*kc));
}
