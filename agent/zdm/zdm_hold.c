// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source-side hold of a zero-downtime migration (docs/migration.md,
 * "Exactly-once: the cursor"). The engine pauses the container for its
 * checkpoint; just before, tunnelled requests are held in the source's
 * data plane (es_mig_held) and the old container is let finish what it
 * was sent; just after the resume, the held requests are delivered in
 * order and the hold opens. Everything here is local to the source node:
 * no round trip to the target sits inside the window the user waits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "core/config.h"
#include "util/log.h"
#include "migration/migrate.h"
#include "zdm.h"

/* The migration whose next pause of this container holds, or NULL. */
static struct es_zdm_mig *find(struct es_zdm *z, const char *name, bool holding)
{
	struct es_zdm_mig *zm;

	pthread_mutex_lock(&z->lock);
	for (zm = z->list; zm; zm = zm->next)
		if (!strcmp(zm->container, name) && zm->step < ES_ZDM_DONE &&
		    (holding ? zm->holding : zm->quiesce))
			break;
	pthread_mutex_unlock(&z->lock);
	return zm;
}

int es_zdm_hold_release(struct es_zdm *z, struct es_zdm_mig *zm)
{
	unsigned int sent = 0;
	int ret;

	if (!z->dp_ready)
		return 0;
	ret = es_mig_src_release(&z->dp, &zm->key, &sent);
	if (ret == -ESTALE || ret == -ENOENT)
		ret = 0;	/* not holding */
	zm->holding = false;
	zm->held_sent += sent;
	if (ret)
		es_error("zdm_release_failed", "id=%s error=\"%s\"", zm->id, strerror(-ret));
	else
		es_zdm_event(z, zm, "zdm_resumed", json_pack("{s:i}", "held_sent", sent));
	return ret;
}

static int refuse(struct es_zdm *z, struct es_zdm_mig *zm, char *err, size_t len,
		  const char *what, int e)
{
	snprintf(err, len, "source-side hold of session %s: %s: %s", zm->key_text, what,
		 strerror(-e));
	es_zdm_hold_release(z, zm);
	return e;
}

/* Before the pause: hold, let the old container answer all it got, note the cursor. */
static int before_pause(void *arg, const char *name, char *err, size_t len)
{
	struct es_zdm *z = arg;
	struct es_zdm_mig *zm = find(z, name, false);
	__u64 hold_at = 0, cursor = 0;
	int ret;

	if (!zm)
		return 0;
	zm->quiesce = false;
	ret = es_mig_src_hold(&z->dp, &zm->key, es_zdm_peer_addr(z, zm->to), &hold_at);
	if (ret)
		return refuse(z, zm, err, len, "cannot hold", ret);
	zm->holding = true;
	es_zdm_event(z, zm, "zdm_hold", json_pack("{s:I}", "hold_at", (json_int_t)hold_at));
	ret = es_mig_src_wait_quiet(&z->dp, &zm->key, hold_at, z->cfg->hold_timeout_ms);
	if (ret)
		return refuse(z, zm, err, len, "the old container did not answer every request", ret);
	if (es_zdm_drain(z, zm))
		return refuse(z, zm, err, len, zm->error, -EBUSY);
	ret = es_mig_src_cursor(&z->dp, &zm->key, &cursor);
	if (ret)
		return refuse(z, zm, err, len, "a request could not be held", ret);
	zm->keep_cursor = cursor == ES_MIG_ANY_SEQ;
	zm->hold_seq = zm->keep_cursor ? 0 : cursor;
	es_zdm_set_step(z, zm, ES_ZDM_HELD, json_pack("{s:I,s:I,s:b}", "hold_at",
						      (json_int_t)hold_at, "cursor",
						      (json_int_t)zm->hold_seq, "keep_cursor",
						      zm->keep_cursor));
	return 0;
}

/* After the resume (or a failed pause): deliver what was held, open. */
static void after_resume(void *arg, const char *name)
{
	struct es_zdm *z = arg;
	struct es_zdm_mig *zm = find(z, name, true);

	if (zm)
		es_zdm_hold_release(z, zm);
}

void es_zdm_hold_install(struct es_zdm *z)
{
	z->m->rt.quiesce_arg = z;
	z->m->rt.after_resume = after_resume;
	z->m->rt.before_pause = before_pause;
}
