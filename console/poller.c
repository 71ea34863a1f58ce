// SPDX-License-Identifier: GPL-2.0-only
/*
 * One thread per node polls its agent's GET /v1/node every refresh_ms and
 * keeps the latest answer and a ring of samples (history_s deep), so a
 * page that opens sees the chosen window at once, and a slow or dead
 * agent delays only its own row. With a Prometheus, one more thread asks
 * it for every node's figures as often: the node view shows those, and a
 * node's agent's own where Prometheus has none of it or does not answer.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "console.h"
#include "http/http_client.h"
#include "util/clock.h"
#include "util/log.h"

struct con_node {
	unsigned int		id;
	char			url[CON_URL_MAX];
	bool			control_plane;
	struct con_poller	*p;
	pthread_t		thread;
	bool			started;
	struct es_http_conn	*conn;		/* kept open: one session on the agent's node, not one a poll */
	pthread_mutex_t		lock;		/* the fields below */
	json_t			*view;		/* latest answer, or NULL */
	char			name[CON_NAME_MAX];	/* the agent's node name, else its URL */
	char			error[512];	/* why the latest poll failed; "" when it did not */
	int64_t			last_ok_ms;	/* realtime ms of the latest answer; 0: none */
	struct con_sample	*ring;
	size_t			cap, head, n;
};

struct con_poller {
	unsigned int		refresh_ms;
	unsigned int		n;
	struct con_node		nodes[CON_MAX_NODES];
	char			prom_url[CON_URL_MAX];	/* "" none */
	pthread_t		prom_thread;
	bool			prom_started;
	struct es_http_conn	*prom_conn;
	pthread_mutex_t		prom_lock;	/* the two below */
	json_t			*prom;		/* con_prom_nodes()'s latest answer; NULL: it failed */
	char			prom_error[512];	/* why it failed */
	pthread_mutex_t		stop_lock;
	pthread_cond_t		stop_cond;
	bool			stop;
};

static int64_t realtime_ms(void)
{
	return (int64_t)(es_realtime_ns() / NSEC_PER_MSEC);
}

static void record(struct con_node *nd, json_t *view, const char *error)
{
	const char *name = json_string_value(json_object_get(view, "node"));
	int64_t now = realtime_ms();

	pthread_mutex_lock(&nd->lock);
	snprintf(nd->error, sizeof(nd->error), "%s", error);
	if (view) {
		json_decref(nd->view);
		nd->view = json_incref(view);
		nd->last_ok_ms = now;
		if (name && *name)
			snprintf(nd->name, sizeof(nd->name), "%s", name);
		con_sample_from_view(view, now, &nd->ring[nd->head]);
		nd->head = (nd->head + 1) % nd->cap;
		if (nd->n < nd->cap)
			nd->n++;
	}
	pthread_mutex_unlock(&nd->lock);
}

/* Sleeps until the next poll is due; true when the poller stops. */
static bool wait_next(struct con_poller *p, int64_t due_ms)
{
	struct timespec ts;
	int64_t left = due_ms - es_now_ms();
	bool stop;

	pthread_mutex_lock(&p->stop_lock);
	if (left > 0 && !p->stop) {
		ts = es_mono_deadline((unsigned int)left);
		pthread_cond_timedwait(&p->stop_cond, &p->stop_lock, &ts);
	}
	stop = p->stop;
	pthread_mutex_unlock(&p->stop_lock);
	return stop;
}

static void *poll_loop(void *arg)
{
	struct con_node *nd = arg;
	long timeout = nd->p->refresh_ms < 2000 ? 2000 : nd->p->refresh_ms;
	char err[512];
	int64_t due;
	json_t *view;

	do {
		due = es_now_ms() + nd->p->refresh_ms;
		err[0] = '\0';
		view = con_agent_get(nd->url, "/v1/node", nd->conn, NULL, timeout, err, sizeof(err));
		if (!view)
			es_debug("poll_failed", "node=%u error=\"%s\"", nd->id, err);
		record(nd, view, err);
		json_decref(view);
	} while (!wait_next(nd->p, due));
	return NULL;
}

static void *prom_loop(void *arg)
{
	struct con_poller *p = arg;
	char err[512];
	json_t *nodes;
	int64_t due;

	do {
		due = es_now_ms() + p->refresh_ms;
		err[0] = '\0';
		nodes = con_prom_nodes(p->prom_url, p->prom_conn, err, sizeof(err));
		if (!nodes)
			es_debug("prometheus_failed", "error=\"%s\"", err);
		pthread_mutex_lock(&p->prom_lock);
		json_decref(p->prom);
		p->prom = nodes;
		snprintf(p->prom_error, sizeof(p->prom_error), "%s", err);
		pthread_mutex_unlock(&p->prom_lock);
	} while (!wait_next(p, due));
	return NULL;
}

static int prom_start(struct con_poller *p, const struct con_config *cfg)
{
	int ret;

	snprintf(p->prom_url, sizeof(p->prom_url), "%s", cfg->prom_url);
	snprintf(p->prom_error, sizeof(p->prom_error), "Prometheus: not asked yet");
	pthread_mutex_init(&p->prom_lock, NULL);
	if (!p->prom_url[0])
		return 0;
	p->prom_conn = es_http_conn_new();
	ret = -pthread_create(&p->prom_thread, NULL, prom_loop, p);
	p->prom_started = !ret;
	return ret;
}

static int node_init(struct con_poller *p, const struct con_config *cfg, unsigned int i)
{
	struct con_node *nd = &p->nodes[i];

	nd->id = i;
	nd->p = p;
	nd->control_plane = cfg->nodes[i].control_plane;
	snprintf(nd->url, sizeof(nd->url), "%s", cfg->nodes[i].url);
	snprintf(nd->name, sizeof(nd->name), "%s", nd->url);
	snprintf(nd->error, sizeof(nd->error), "not polled yet");
	pthread_mutex_init(&nd->lock, NULL);
	nd->conn = es_http_conn_new();
	nd->cap = (size_t)cfg->history_s * 1000 / cfg->refresh_ms + 1;
	nd->ring = calloc(nd->cap, sizeof(*nd->ring));
	return nd->ring ? 0 : -ENOMEM;
}

struct con_poller *con_poller_start(const struct con_config *cfg, char *err, size_t len)
{
	struct con_poller *p = calloc(1, sizeof(*p));
	unsigned int i;
	int ret;

	if (!p) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	p->refresh_ms = cfg->refresh_ms;
	pthread_mutex_init(&p->stop_lock, NULL);
	es_cond_init_mono(&p->stop_cond);
	ret = prom_start(p, cfg);
	if (ret) {
		snprintf(err, len, "cannot start the Prometheus reader: %s", strerror(-ret));
		con_poller_stop(p);
		return NULL;
	}
	for (i = 0; i < cfg->n_nodes; i++, p->n++) {
		ret = node_init(p, cfg, i);
		if (!ret)
			ret = -pthread_create(&p->nodes[i].thread, NULL, poll_loop, &p->nodes[i]);
		if (ret) {
			snprintf(err, len, "cannot start the poller of %s: %s", cfg->nodes[i].url,
				 strerror(-ret));
			free(p->nodes[i].ring);
			con_poller_stop(p);
			return NULL;
		}
		p->nodes[i].started = true;
	}
	return p;
}

void con_poller_stop(struct con_poller *p)
{
	unsigned int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->stop_lock);
	p->stop = true;
	pthread_cond_broadcast(&p->stop_cond);
	pthread_mutex_unlock(&p->stop_lock);
	for (i = 0; i < p->n; i++) {
		if (p->nodes[i].started)
			pthread_join(p->nodes[i].thread, NULL);
		json_decref(p->nodes[i].view);
		es_http_conn_free(p->nodes[i].conn);
		free(p->nodes[i].ring);
	}
	if (p->prom_started)
		pthread_join(p->prom_thread, NULL);
	json_decref(p->prom);
	es_http_conn_free(p->prom_conn);
	free(p);
}

int con_poller_node_url(struct con_poller *p, unsigned int id, char *url, size_t len)
{
	if (id >= p->n)
		return -ENOENT;
	snprintf(url, len, "%s", p->nodes[id].url);
	return 0;
}

/* The order every view shows: control plane first, then by name, then as configured. */
static int node_cmp(const void *a, const void *b)
{
	const struct con_node *x = *(struct con_node *const *)a, *y = *(struct con_node *const *)b;
	int c;

	if (x->control_plane != y->control_plane)
		return x->control_plane ? -1 : 1;
	c = strcmp(x->name, y->name);
	return c ? c : (int)x->id - (int)y->id;
}

/* The nodes in view order; names are read under each node's lock. */
static void sorted(struct con_poller *p, struct con_node **out)
{
	unsigned int i;

	for (i = 0; i < p->n; i++) {
		out[i] = &p->nodes[i];
		pthread_mutex_lock(&out[i]->lock);
	}
	qsort(out, p->n, sizeof(*out), node_cmp);
	for (i = 0; i < p->n; i++)
		pthread_mutex_unlock(&out[i]->lock);
}

static json_t *node_head(const struct con_node *nd)
{
	return json_pack("{s:i, s:s, s:s, s:s}", "id", nd->id, "name", nd->name,
			 "role", nd->control_plane ? "control-plane" : "worker", "url", nd->url);
}

json_t *con_poller_heads_json(struct con_poller *p)
{
	struct con_node *order[CON_MAX_NODES];
	json_t *arr = json_array();
	unsigned int i;

	sorted(p, order);
	for (i = 0; i < p->n; i++) {
		pthread_mutex_lock(&order[i]->lock);
		json_array_append_new(arr, node_head(order[i]));
		pthread_mutex_unlock(&order[i]->lock);
	}
	return arr;
}

/*
 * The figures the node view shows of nd, into o: Prometheus's when it has
 * the node (prom: its latest answer), else the agent's, with why not.
 */
static void node_figures(json_t *o, const struct con_node *nd, const struct con_poller *p,
			 json_t *prom, const char *prom_error, int64_t now)
{
	int64_t t = 0;
	json_t *view = prom ? con_prom_node_view(prom, nd->name, &t) : NULL;

	if (view) {
		json_object_set_new(o, "source", json_string("prometheus"));
		json_object_set_new(o, "age_ms", json_integer(now > t ? now - t : 0));
		json_object_set_new(o, "view", view);
		return;
	}
	json_object_set_new(o, "source", json_string("agent"));
	if (p->prom_url[0])
		json_object_set_new(o, "source_note", json_string(prom ?
				    "Prometheus has no live series of this node" : prom_error));
	json_object_set_new(o, "age_ms", nd->last_ok_ms ?
			    json_integer(now - nd->last_ok_ms) : json_null());
	json_object_set(o, "view", nd->view ? nd->view : json_null());
}

json_t *con_poller_nodes_json(struct con_poller *p)
{
	struct con_node *order[CON_MAX_NODES];
	json_t *head = json_pack("{s:i}", "refresh_ms", p->refresh_ms);
	json_t *arr = json_array(), *o, *prom;
	int64_t now = realtime_ms();
	char prom_error[sizeof(p->prom_error)];
	unsigned int i;

	pthread_mutex_lock(&p->prom_lock);
	prom = json_incref(p->prom);
	snprintf(prom_error, sizeof(prom_error), "%s", p->prom_error);
	pthread_mutex_unlock(&p->prom_lock);
	if (p->prom_url[0] && !prom)
		json_object_set_new(head, "prometheus_error", json_string(prom_error));
	json_object_set_new(head, "prometheus", json_boolean(p->prom_url[0]));
	sorted(p, order);
	for (i = 0; i < p->n; i++) {
		pthread_mutex_lock(&order[i]->lock);
		o = node_head(order[i]);
		json_object_set_new(o, "reachable", json_boolean(!order[i]->error[0]));
		json_object_set_new(o, "error", json_string(order[i]->error));
		node_figures(o, order[i], p, prom, prom_error, now);
		pthread_mutex_unlock(&order[i]->lock);
		json_array_append_new(arr, o);
	}
	json_decref(prom);
	json_object_set_new(head, "nodes", arr);
	return head;
}

static json_t *value(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

/* The samples of nd taken at from_ms or later, oldest first, as columns. */
static json_t *node_series(struct con_node *nd, int64_t from_ms)
{
	json_t *o = node_head(nd), *t = json_array(), *col[RES_MAX];
	const struct con_sample *s;
	size_t k;
	int r;

	for (r = 0; r < RES_MAX; r++)
		col[r] = json_array();
	for (k = 0; k < nd->n; k++) {
		s = &nd->ring[(nd->head + nd->cap - nd->n + k) % nd->cap];
		if (s->t_ms < from_ms)
			continue;
		json_array_append_new(t, json_real(s->t_ms / 1000.0));
		for (r = 0; r < RES_MAX; r++)
			json_array_append_new(col[r], value(s->v[r]));
	}
	json_object_set_new(o, "t", t);
	for (r = 0; r < RES_MAX; r++)
		json_object_set_new(o, con_resource_names[r], col[r]);
	return o;
}

json_t *con_poller_history_json(struct con_poller *p, unsigned int window_s)
{
	struct con_node *order[CON_MAX_NODES];
	int64_t from = realtime_ms() - (int64_t)window_s * 1000;
	json_t *arr = json_array();
	unsigned int i;

	sorted(p, order);
	for (i = 0; i < p->n; i++) {
		pthread_mutex_lock(&order[i]->lock);
		json_array_append_new(arr, node_series(order[i], from));
		pthread_mutex_unlock(&order[i]->lock);
	}
	return json_pack("{s:i, s:o}", "window_s", window_s, "nodes", arr);
}
