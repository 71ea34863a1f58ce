// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Kubernetes pod annotation client (cni/k8s_pod.c, cni/kubeconfig.c).
 * No API server runs here, so two stand-ins serve the pod JSON of the real
 * API's format over HTTPS with a CA made by this test: an in-process
 * libmicrohttpd server checking a bearer token, and `openssl s_server`
 * requiring a client certificate. Each test has its own network namespace.
 */
#include "harness.h"
#include "cni_test_net.h"
#include <jansson.h>
#include <microhttpd.h>
#include "http/http_reply.h"
#include "http/http_server.h"
#include "k8s_pod.h"

#define PORT_TOKEN	16443
#define ES_STR2(x)	#x
#define ES_STR(x)	ES_STR2(x)
#define PORT_CERT	16444
#define PORT_SILENT	16445
#define PORT_DEAD	16446
#define TOKEN		"tok-123.secret"
#define KEY		"edgeshift.io/network"

static const char pki_script[] =
	"set -e; cd '%s'\n"
	"ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
	"openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj /CN=es-test-ca\n"
	"openssl req -x509 $ec -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=es-other-ca\n"
	"printf 'subjectAltName=IP:127.0.0.1\\n' > srv.ext\n"
	"openssl req $ec -keyout srv.key -out srv.csr -subj /CN=127.0.0.1\n"
	"openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile srv.ext\n"
	"printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n"
	"openssl req $ec -keyout client.key -out client.csr -subj /CN=edgeshift-cni\n"
	"openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext\n"
	"for f in ca.pem client.pem client.key; do base64 -w0 $f > $f.b64; done\n"
	"printf '" TOKEN "\\n' > token.txt\n"
	"mkdir -p www/api/v1/namespaces/ns1/pods\n";

static const char pod_annotated[] =
	"{\"kind\": \"Pod\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"annotated\","
	" \"namespace\": \"ns1\", \"uid\": \"0b7c\", \"annotations\": {\"" KEY "\": \"host-device\","
	" \"other\": \"x\"}}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"busybox\"}]},"
	" \"status\": {\"phase\": \"Pending\"}}";
static const char pod_plain[] =
	"{\"kind\": \"Pod\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"plain\","
	" \"namespace\": \"ns1\", \"labels\": {\"app\": \"x\"}}, \"spec\": {}, \"status\": {}}";

FIXTURE(k8s) {
	char			dir[64];
	struct es_http_server	*srv;
	pid_t			s_server;
	char			*srv_cert, *srv_key;
};

static char *slurp(const char *dir, const char *name)
{
	char path[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	ASSERT_OK_PTR(f, path);
	ASSERT_GE(getdelim(&buf, &len, '\0', f), 1, path);
	fclose(f);
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *body)
{
	return es_http_reply(c, code, "application/json", strdup(body));
}

/* The API server's answers: a pod, or a Status object. */
static enum MHD_Result api(void *cls, struct MHD_Connection *c, const char *url,
			   const char *method, const struct es_http_body_in *body)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	static const char prefix[] = "/api/v1/namespaces/ns1/pods/";
	char status[512];

	(void)cls, (void)method, (void)body;
	if (!auth || strcmp(auth, "Bearer " TOKEN))
		return reply(c, 401, "{\"kind\": \"Status\", \"apiVersion\": \"v1\", \"status\": \"Failure\","
			     " \"message\": \"Unauthorized\", \"reason\": \"Unauthorized\", \"code\": 401}");
	if (!strcmp(url, "/api/v1/namespaces/ns1/pods/annotated"))
		return reply(c, 200, pod_annotated);
	if (!strcmp(url, "/api/v1/namespaces/ns1/pods/plain"))
		return reply(c, 200, pod_plain);
	snprintf(status, sizeof(status), "{\"kind\": \"Status\", \"apiVersion\": \"v1\", \"status\": \"Failure\","
		 " \"message\": \"pods \\\"%.100s\\\" not found\", \"reason\": \"NotFound\", \"code\": 404}",
		 strncmp(url, prefix, strlen(prefix)) ? url : url + strlen(prefix));
	return reply(c, 404, status);
}

FIXTURE_SETUP(k8s)
{
	char script[2048], cmd[600], path[256], err[256];
	struct es_http_server_opts o = {
		.listen = "0.0.0.0:" ES_STR(PORT_TOKEN), .handler = api,
	};

	cnt_private_netns();
	snprintf(self->dir, sizeof(self->dir), "/tmp/es-k8s-test.XXXXXX");
	ASSERT_OK_PTR(mkdtemp(self->dir), "mkdtemp");
	snprintf(script, sizeof(script), pki_script, self->dir);
	snprintf(path, sizeof(path), "%s/pki.sh", self->dir);
	cnt_write_file(path, script);
	snprintf(cmd, sizeof(cmd), "sh '%s' >'%s/pki.log' 2>&1", path, self->dir);
	if (system(cmd)) {
		snprintf(path, sizeof(path), "%s/pki.log", self->dir);
		cnt_print_file(path);
		ASSERT_TRUE(0, "openssl made the test PKI");
	}
	snprintf(path, sizeof(path), "%s/www/api/v1/namespaces/ns1/pods/annotated", self->dir);
	cnt_write_file(path, pod_annotated);
	self->srv_cert = slurp(self->dir, "srv.pem");
	self->srv_key = slurp(self->dir, "srv.key");
	o.tls_cert = self->srv_cert;
	o.tls_key = self->srv_key;
	ASSERT_OK(es_http_server_start(&o, &self->srv, err, sizeof(err)),
		  "HTTPS stand-in of the API server");
}

FIXTURE_TEARDOWN(k8s)
{
	es_http_server_stop(self->srv);
	if (self->s_server > 0)
		cnt_kill_wait(self->s_server, SIGKILL);
	free(self->srv_cert);
	free(self->srv_key);
	if (self->dir[0])
		cnt_rm_tree(self->dir);
}

/* A kubeconfig with a decoy context, the real one current. */
static void kubeconfig(FIXTURE_DATA(k8s) *self, const char *name, int port,
		       const char *cluster_lines, const char *user_lines, char *path, size_t len)
{
	char text[20000];

	snprintf(path, len, "%s/%s", self->dir, name);
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Config\ncurrent-context: edge\n"
		 "contexts:\n"
		 "- name: decoy\n  context: {cluster: nowhere, user: nobody}\n"
		 "- name: edge\n  context:\n    cluster: site-a\n    user: cni\n    namespace: ns1\n"
		 "clusters:\n"
		 "- name: nowhere\n  cluster: {server: 'https://192.0.2.1:1'}\n"
		 "- name: site-a\n  cluster:\n    server: https://127.0.0.1:%d/\n%s"
		 "users:\n"
		 "- name: nobody\n  user: {token: wrong}\n"
		 "- name: cni\n  user:\n%s",
		 port, cluster_lines, user_lines);
	cnt_write_file(path, text);
}

static char *b64_line(FIXTURE_DATA(k8s) *self, const char *key, const char *file)
{
	char *data = slurp(self->dir, file), *line = NULL;

	ASSERT_GT(asprintf(&line, "    %s: %s\n", key, data), 0, "asprintf");
	free(data);
	return line;
}

static int lookup(const char *kc, const char *pod, long timeout_ms, char **value,
		  struct cni_error *err)
{
	int ret;

	memset(err, 0, sizeof(*err));
	ret = k8s_pod_annotation(kc, "ns1", pod, KEY, timeout_ms, value, err);
	if (ret)
		TEST_LOG("%s", err->msg);
	return ret;
}

TEST_F(k8s, token_and_ca_file)
{
	struct cni_error err;
	char kc[256], *v = NULL;

	/* A relative certificate-authority is relative to the kubeconfig. */
	kubeconfig(self, "kc-token", PORT_TOKEN, "    certificate-authority: ca.pem\n",
		   "    token: " TOKEN "\n", kc, sizeof(kc));
	ASSERT_OK(lookup(kc, "annotated", 3000, &v, &err), "lookup");
	ASSERT_OK_PTR(v, "annotation value");
	EXPECT_TRUE(!strcmp(v, "host-device"), "annotation value is host-device");
	free(v);
	v = (char *)1;
	EXPECT_OK(lookup(kc, "plain", 3000, &v, &err), "a pod without annotations");
	EXPECT_TRUE(v == NULL, "missing annotation gives NULL");
}

TEST_F(k8s, token_file_and_ca_data)
{
	char *ca = b64_line(self, "certificate-authority-data", "ca.pem.b64");
	struct cni_error err;
	char kc[256], *v = NULL;

	kubeconfig(self, "kc-tokenfile", PORT_TOKEN, ca, "    tokenFile: token.txt\n", kc, sizeof(kc));
	ASSERT_OK(lookup(kc, "annotated", 3000, &v, &err), "lookup");
	EXPECT_TRUE(v && !strcmp(v, "host-device"), "annotation value");
	free(v);
	free(ca);
}

TEST_F(k8s, missing_pod_is_a_clear_error)
{
	struct cni_error err;
	char kc[256], *v = NULL;

	kubeconfig(self, "kc", PORT_TOKEN, "    certificate-authority: ca.pem\n",
		   "    token: " TOKEN "\n", kc, sizeof(kc));
	EXPECT_EQ(lookup(kc, "gone", 3000, &v, &err), -1, "lookup fails");
	EXPECT_EQ(err.code, CNI_ERR_KUBE_API, "code 120");
	EXPECT_TRUE(strstr(err.msg, "ns1/gone") && strstr(err.msg, "not found"),
		    "message names the pod and says not found");
}

TEST_F(k8s, wrong_token_is_refused_credentials)
{
	struct cni_error err;
	char kc[256], *v = NULL;

	kubeconfig(self, "kc", PORT_TOKEN, "    certificate-authority: ca.pem\n",
		   "    token: not-the-token\n", kc, sizeof(kc));
	EXPECT_EQ(lookup(kc, "annotated", 3000, &v, &err), -1, "lookup fails");
	EXPECT_EQ(err.code, CNI_ERR_KUBE_API, "code 120");
	EXPECT_TRUE(strstr(err.msg, "refused the credentials") && strstr(err.msg, "'cni'"),
		    "message says the credentials of user cni were refused");
}

TEST_F(k8s, wrong_ca_fails_and_insecure_skip_verify_works)
{
	struct cni_error err;
	char kc[256], *v = NULL;

	kubeconfig(self, "kc-other", PORT_TOKEN, "    certificate-authority: other-ca.pem\n",
		   "    token: " TOKEN "\n", kc, sizeof(kc));
	EXPECT_EQ(lookup(kc, "annotated", 3000, &v, &err), -1, "an untrusted server is refused");
	EXPECT_EQ(err.code, CNI_ERR_KUBE_API, "code 120");
	kubeconfig(self, "kc-insecure", PORT_TOKEN, "    insecure-skip-tls-verify: true\n",
		   "    token: " TOKEN "\n", kc, sizeof(kc));
	EXPECT_OK(lookup(kc, "annotated", 3000, &v, &err), "insecure-skip-tls-verify");
	EXPECT_TRUE(v && !strcmp(v, "host-device"), "annotation value");
	free(v);
}

static void start_s_server(FIXTURE_DATA(k8s) *self)
{
	char cmd[1024], log[128];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	/* -WWW serves ./path; -Verify with -verify_return_error demands a client cert. */
	snprintf(cmd, sizeof(cmd),
		 "cd '%s/www' && exec openssl s_server -quiet -WWW -accept 127.0.0.1:%d"
		 " -cert ../srv.pem -key ../srv.key -CAfile ../ca.pem -Verify 1 -verify_return_error",
		 self->dir, PORT_CERT);
	snprintf(log, sizeof(log), "%s/s_server.log", self->dir);
	self->s_server = cnt_spawn(argv, log);
	ASSERT_OK(cnt_wait_port(PORT_CERT, 5000), "openssl s_server listens");
}

TEST_F(k8s, client_certificate_data_and_files)
{
	char *ca = b64_line(self, "certificate-authority-data", "ca.pem.b64");
	char *cert = b64_line(self, "client-certificate-data", "client.pem.b64");
	char *key = b64_line(self, "client-key-data", "client.key.b64");
	char kc[256], users[8192], *v = NULL;
	struct cni_error err;

	start_s_server(self);
	snprintf(users, sizeof(users), "%s%s", cert, key);
	kubeconfig(self, "kc-cert-data", PORT_CERT, ca, users, kc, sizeof(kc));
	EXPECT_OK(lookup(kc, "annotated", 3000, &v, &err), "client certificate from data");
	EXPECT_TRUE(v && !strcmp(v, "host-device"), "annotation value (data)");
	free(v);
	v = NULL;
	kubeconfig(self, "kc-cert-files", PORT_CERT, "    certificate-authority: ca.pem\n",
		   "    client-certificate: client.pem\n    client-key: client.key\n", kc, sizeof(kc));
	EXPECT_OK(lookup(kc, "annotated", 3000, &v, &err), "client certificate from files");
	EXPECT_TRUE(v && !strcmp(v, "host-device"), "annotation value (files)");
	free(v);
	v = NULL;
	/* The stand-in really demands the certificate. */
	kubeconfig(self, "kc-no-cert", PORT_CERT, "    certificate-authority: ca.pem\n",
		   "    token: " TOKEN "\n", kc, sizeof(kc));
	EXPECT_EQ(lookup(kc, "annotated", 3000, &v, &err), -1, "no client certificate is refused");
	free(ca);
	free(cert);
	free(key);
}

TEST_F(k8s, unreachable_server_fails_within_the_timeout)
{
	struct cnt_standin s;
	struct cni_error err;
	char kc[256], *v = NULL;
	long long t0, took;

	cnt_standin_start(&s, PORT_SILENT, NULL);
	kubeconfig(self, "kc-silent", PORT_SILENT, "    certificate-authority: ca.pem\n",
		   "    token: " TOKEN "\n", kc, sizeof(kc));
	t0 = es_now_ms();
	EXPECT_EQ(lookup(kc, "annotated", 700, &v, &err), -1, "a silent server fails");
	took = es_now_ms() - t0;
	EXPECT_GE(took, 650, "waited for the timeout (ms)");
	EXPECT_LT(took, 700 + 500, "gave up at the timeout (ms)");
	EXPECT_TRUE(strstr(err.msg, "did not answer") != NULL, "message says it did not answer");
	kubeconfig(self, "kc-dead", PORT_DEAD, "    certificate-authority: ca.pem\n",
		   "    token: " TOKEN "\n", kc, sizeof(kc));
	t0 = es_now_ms();
	EXPECT_EQ(lookup(kc, "annotated", 700, &v, &err), -1, "a refused connection fails");
	EXPECT_LT(es_now_ms() - t0, 700, "at once (ms)");
}

TEST_F(k8s, bad_kubeconfig_names_the_problem)
{
	static const struct {
		const char	*text;
		const char	*want;
	} cases[] = {
		{ "apiVersion: v1\nclusters: []\n", "current-context" },
		{ "current-context: x\ncontexts: [\n", "line" },
		{ "current-context: x\ncontexts: []\n", "no context 'x'" },
		{ "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		  "clusters:\n- name: c\n  cluster: {server: 'ftp://h'}\n", "server" },
		{ "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		  "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n"
		  "users:\n- name: u\n  user: {exec: {command: aws}}\n", "exec" },
		{ "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		  "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1',"
		  " certificate-authority-data: '!!!'}\n", "certificate-authority-data" },
	};
	struct cni_error err;
	char path[256], *v = NULL;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/bad-%zu", self->dir, i);
		cnt_write_file(path, cases[i].text);
		EXPECT_EQ(lookup(path, "annotated", 500, &v, &err), -1, cases[i].want);
		EXPECT_TRUE(strstr(err.msg, cases[i].want) && strstr(err.msg, path),
			    "message names the file and the problem");
	}
	EXPECT_EQ(lookup("/nonexistent/kubeconfig", "annotated", 500, &v, &err), -1, "missing file");
	EXPECT_EQ(err.code, CNI_ERR_KUBE_API, "code 120");
}

TEST_HARNESS_MAIN
