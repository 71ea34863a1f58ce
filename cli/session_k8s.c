// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session test's Kubernetes mode: the objects it would apply, one file
 * per object so that the sessions can be applied one step at a time: the
 * sink (a pod pinned to the destination node, and its Service), then one
 * pod per session, each an iperf3 client or `es-session send`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "session_test.h"

#define DEFAULT_IMAGE		"edgeshift/edgeshift-tools:0.1.0"
#define IPERF3_IMAGE		"docker.io/networkstatic/iperf3:latest"
#define IPERF3_PORT		5201

static FILE *open_manifest(const struct st_opts *o, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", o->manifests, name);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "edgeshift session-test: %s: %s\n", path, strerror(errno));
	return f;
}

static bool iperf3(const struct st_opts *o)
{
	return !strcmp(o->generator, "iperf3");
}

static void pod_header(FILE *f, const struct st_opts *o, const char *name, const char *role)
{
	fprintf(f, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: %s\n"
		"  labels:\n    app.kubernetes.io/name: edgeshift-session-test\n"
		"    edgeshift.io/session-test-role: %s\nspec:\n  restartPolicy: Never\n", name,
		o->k8s_namespace, role);
}

/* The sink's ports: one iperf3 server per session (each serves one client at a time). */
static int write_sink(const struct st_opts *o)
{
	FILE *f = open_manifest(o, "00-sink.yaml");
	uint32_t i;

	if (!f)
		return -1;
	pod_header(f, o, "edgeshift-session-sink", "sink");
	fprintf(f, "  nodeName: %s\n  containers:\n    - name: sink\n      image: %s\n", o->to,
		iperf3(o) ? IPERF3_IMAGE : o->image);
	if (iperf3(o))
		fprintf(f, "      command: [\"sh\", \"-c\", \"for p in $(seq %d %u); do iperf3 -s "
			"-p $p -D; done; exec sleep infinity\"]\n", IPERF3_PORT,
			IPERF3_PORT + o->max_sessions - 1);
	else
		fprintf(f, "      command: [\"es-session\", \"sink\", \"--port\", \"%u\"]\n",
			o->port);
	fprintf(f, "---\napiVersion: v1\nkind: Service\nmetadata:\n"
		"  name: edgeshift-session-sink\n  namespace: %s\nspec:\n  selector:\n"
		"    edgeshift.io/session-test-role: sink\n  ports:\n", o->k8s_namespace);
	if (!iperf3(o))
		fprintf(f, "    - {name: sessions, protocol: UDP, port: %u}\n", o->port);
	for (i = 0; iperf3(o) && i < o->max_sessions; i++)
		fprintf(f, "    - {name: s%u, protocol: UDP, port: %u}\n"
			"    - {name: c%u, protocol: TCP, port: %u}\n", i, IPERF3_PORT + i, i,
			IPERF3_PORT + i);
	return fclose(f) ? -1 : 0;
}

static int write_session(const struct st_opts *o, uint32_t i)
{
	char name[64], pod[64];
	FILE *f;

	snprintf(name, sizeof(name), "%02u-session-%03u.yaml", 1 + i / 100, i + 1);
	snprintf(pod, sizeof(pod), "edgeshift-session-%03u", i + 1);
	f = open_manifest(o, name);
	if (!f)
		return -1;
	pod_header(f, o, pod, "session");
	fprintf(f, "  containers:\n    - name: session\n      image: %s\n",
		iperf3(o) ? IPERF3_IMAGE : o->image);
	if (iperf3(o))
		fprintf(f, "      command: [\"iperf3\", \"-c\", \"edgeshift-session-sink.%s\", "
			"\"-p\", \"%u\", \"-u\", \"-b\", \"%gM\", \"-l\", \"%u\", \"-t\", \"0\"]\n",
			o->k8s_namespace, IPERF3_PORT + i, o->rate_mbit, o->size);
	else
		fprintf(f, "      command: [\"es-session\", \"send\", \"--to\", "
			"\"edgeshift-session-sink.%s\", \"--port\", \"%u\", \"--rate\", \"%g\", "
			"\"--size\", \"%u\", \"--session\", \"%u\"]\n", o->k8s_namespace, o->port,
			o->rate_mbit, o->size, i);
	return fclose(f) ? -1 : 0;
}

int st_emit_manifests(const struct st_opts *o)
{
	struct st_opts k = *o;
	uint32_t i;

	if (!k.k8s_namespace)
		k.k8s_namespace = "default";
	if (!k.image)
		k.image = DEFAULT_IMAGE;
	if (mkdir(k.manifests, 0755) && errno != EEXIST) {
		fprintf(stderr, "edgeshift session-test: %s: %s\n", k.manifests, strerror(errno));
		return -1;
	}
	if (write_sink(&k))
		return -1;
	for (i = 0; i < k.max_sessions; i++)
		if (write_session(&k, i))
			return -1;
	fprintf(stderr, "session-test: wrote the sink and %u session pods to %s; apply "
		"00-sink.yaml, then one session file every %g s\n", k.max_sessions, k.manifests,
		k.step_s);
	return 0;
}
