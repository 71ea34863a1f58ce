// SPDX-License-Identifier: GPL-2.0-only
/*
 * The target's replay of a migration's TCP connections together: which
 * sessions each migration started here, and their replay in the order
 * their segments arrived (es_mig_tcp_replay_group), so that connections
 * sharing state in the container reach the restored one in the old one's
 * order. Called for each session (the source asks side by side); the
 * first call does the work for all, the others find theirs done.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "replay/tcp_replay.h"
#include "util/clock.h"
#include "zdm_int.h"

/* Under group_lock. */
static struct es_zdm_group *find(struct es_zdm *z, const char *id)
{
	unsigned int i;

	for (i = 0; i < ES_ZDM_GROUPS; i++)
		if (z->groups[i].id[0] && !strcmp(z->groups[i].id, id))
			return &z->groups[i];
	return NULL;
}

/* key into migration id's group, made when create says so; under group_lock. */
static void add(struct es_zdm *z, const char *id, const struct es_mig_key *key, bool create)
{
	struct es_zdm_group *g;
	unsigned int i;

	if (key->proto != IPPROTO_TCP || strlen(id) >= sizeof(g->id))
		return;
	g = find(z, id);
	if (!g && !create)
		return;
	if (!g) {
		g = &z->groups[z->group_next++ % ES_ZDM_GROUPS];
		memset(g, 0, sizeof(*g));
		strcpy(g->id, id);
		g->created_ns = es_now_ns();
	}
	for (i = 0; i < g->n; i++)
		if (!memcmp(&g->keys[i], key, sizeof(*key)))
			break;
	if (i == g->n && g->n < ES_ZDM_GROUP_MAX)
		g->keys[g->n++] = *key;
}

void es_zdm_group_add(struct es_zdm *z, const char *id, const struct es_mig_key *key)
{
	pthread_mutex_lock(&z->group_lock);
	add(z, id, key, true);
	pthread_mutex_unlock(&z->group_lock);
}

/*
 * The group's sessions still to replay (not cut over); under group_lock.
 * -ESTALE when the data plane gave one up: the others' replay is moot.
 */
static int pending(struct es_zdm *z, const struct es_zdm_group *g, struct es_mig_key *keys)
{
	struct es_mig_session s;
	unsigned int i, n = 0, st;

	for (i = 0; g && i < g->n; i++) {
		if (es_mig_session_get(&z->dp, &g->keys[i], &s))
			continue;
		st = s.seq_state >> ES_MIG_STATE_SHIFT;
		if (st == ES_MIG_ABORTED)
			return -ESTALE;
		if (st == ES_MIG_FORWARDING || st == ES_MIG_REPLAYING)
			keys[n++] = g->keys[i];
	}
	return n;
}

bool es_zdm_group_since(struct es_zdm *z, const char *id, __u64 *since_ns)
{
	struct es_zdm_group *g;

	pthread_mutex_lock(&z->group_lock);
	g = find(z, id);
	if (g)
		*since_ns = g->created_ns;
	pthread_mutex_unlock(&z->group_lock);
	return g != NULL;
}

bool es_zdm_group_aborted(struct es_zdm *z, const char *id, char *why, size_t len)
{
	struct es_zdm_group *g;
	struct es_mig_session s;
	char key[ES_MIG_KEY_TEXT_LEN];
	unsigned int i;
	bool found = false;

	pthread_mutex_lock(&z->group_lock);
	g = find(z, id);
	for (i = 0; g && !found && i < g->n; i++) {
		if (es_mig_session_get(&z->dp, &g->keys[i], &s) ||
		    s.seq_state >> ES_MIG_STATE_SHIFT != ES_MIG_ABORTED)
			continue;
		es_mig_key_format(&g->keys[i], key, sizeof(key));
		snprintf(why, len, "connection %s of this migration: %s", key,
			 s.abort_reason ? es_mig_abort_why(s.abort_reason) : "aborted");
		found = true;
	}
	pthread_mutex_unlock(&z->group_lock);
	return found;
}

/* Index of key in g, or -1; under group_lock. */
static int slot(const struct es_zdm_group *g, const struct es_mig_key *key)
{
	unsigned int i;

	for (i = 0; g && i < g->n; i++)
		if (!memcmp(&g->keys[i], key, sizeof(*key)))
			return i;
	return -1;
}

/* One pass's figures added to what the group recorded for each session. */
static void count(struct es_zdm_group *g, const struct es_mig_key *key,
		  const struct es_mig_tcp_replay *r)
{
	int i = slot(g, key);

	if (i < 0)
		return;
	g->replayed[i] += r->injected;
	g->again[i] += r->again;
}

static int together(struct es_zdm *z, struct es_zdm_group *g, const struct es_mig_key *keys,
		    unsigned int n, const struct es_mig_key *key, bool cut,
		    struct es_mig_tcp_replay *mine)
{
	struct es_mig_tcp_replay *outs = calloc(n, sizeof(*outs));
	__u64 began = es_now_ns();
	struct es_mig_dp dp;
	unsigned int i;
	int ret;

	if (!outs)
		return -ENOMEM;
	/* one migration's sessions: one container's, one namespace */
	ret = es_zdm_ct_dp(z, key, &dp) ?:
	      es_mig_tcp_replay_group(&dp, keys, n, z->cfg->cutover_timeout_ms, cut, outs);
	es_zdm_ct_dp_put(&dp);
	for (i = 0; i < n; i++) {
		/* each session this pass caught up stamped (a late one joins after it) */
		if (!ret && !cut && slot(g, &keys[i]) >= 0)
			g->caught_up_ns[slot(g, &keys[i])] = began;
		count(g, &keys[i], &outs[i]);
		if (!memcmp(&keys[i], key, sizeof(*key)))
			*mine = outs[i];
	}
	free(outs);
	return ret;
}

int es_zdm_group_replay(struct es_zdm *z, const char *id, const struct es_mig_key *key, bool cut,
			bool *shared, struct es_mig_tcp_replay *mine)
{
	struct es_mig_key *keys = calloc(ES_ZDM_GROUP_MAX, sizeof(*keys));
	__u64 asked = es_now_ns();
	struct es_zdm_group *g;
	struct es_mig_dp dp;
	int n, i, ret;
	bool reuse;

	memset(mine, 0, sizeof(*mine));
	if (!keys)
		return -ENOMEM;
	pthread_mutex_lock(&z->group_lock);
	add(z, id, key, false);
	g = find(z, id);
	n = pending(z, g, keys);
	/*
	 * The source asks each session's catch-up, 16 side by side, and each
	 * call replays all of them: a pass that began after this call was
	 * asked, and caught this session up with the others, is this call's
	 * too (the same as a pass of its own would find, a moment earlier). A
	 * hundred connections took a hundred passes one after another,
	 * seconds under load, while the replay buffer filled.
	 */
	i = slot(g, key);
	reuse = !cut && n > 0 && i >= 0 && g->caught_up_ns[i] > asked;
	if (shared)
		*shared = reuse;
	/*
	 * Alone, or not known here (this agent restarted since the start, or
	 * the session is cut over already), or not in the group (past its
	 * ES_ZDM_GROUP_MAX): on its own, as before. The group's replay hands
	 * over its members only: one not among them would be left as it was.
	 */
	if (reuse) {
		ret = 0;
	} else if (n < 0) {
		ret = n;
	} else if (n > 1 && i >= 0 && !z->cfg->replay_per_connection) {
		ret = together(z, g, keys, n, key, cut, mine);
	} else {
		ret = es_zdm_ct_dp(z, key, &dp) ?:
		      es_mig_tcp_replay(&dp, key, z->cfg->cutover_timeout_ms, cut, mine);
		es_zdm_ct_dp_put(&dp);
		count(g, key, mine);
	}
	/* the session's whole replay, whichever calls handed it over */
	if (i >= 0) {
		mine->injected = g->replayed[i];
		mine->again = g->again[i];
	}
	pthread_mutex_unlock(&z->group_lock);
	free(keys);
	return ret;
}
