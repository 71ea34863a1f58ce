// SPDX-License-Identifier: GPL-2.0-only
/* The source side of a migration: the phases and the worker running them. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include "util/clock.h"
#include "util/errf.h"
#include "util/log.h"
#include "util/fs_util.h"
#include "layer_archive.h"
#include "transfer.h"
#include "bundle.h"
#include "packer.h"
#include "migrate.h"


static void event(struct es_migrator *m, struct es_migration *mg, const char *ev, json_t *f)
{
	es_event(&m->log, "source", mg->id, mg->container, ev, f);
}

static void phase_begin(struct es_migrator *m, struct es_migration *mg, int ph)
{
	char ev[48];

	pthread_mutex_lock(&m->lock);
	mg->phase = es_mig_phase_names[ph];
	mg->ph[ph].start_ns = es_realtime_ns();
	pthread_mutex_unlock(&m->lock);
	es_mig_record_save(m, mg);
	snprintf(ev, sizeof(ev), "%s_start", es_mig_phase_names[ph]);
	if (ph != ES_PH_STOP)
		event(m, mg, ev, NULL);
}

static void phase_end(struct es_migrator *m, struct es_migration *mg, int ph, json_t *f)
{
	char ev[48];

	pthread_mutex_lock(&m->lock);
	mg->ph[ph].end_ns = es_realtime_ns();
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	if (!f)
		f = json_object();
	json_object_set_new(f, "elapsed_ms",
			    json_real((mg->ph[ph].end_ns - mg->ph[ph].start_ns) / 1e6));
	snprintf(ev, sizeof(ev), "%s_end", es_mig_phase_names[ph]);
	event(m, mg, ph == ES_PH_STOP ? "source_stopped" : ev, f);
}

static int mig_fail(struct es_migrator *m, struct es_migration *mg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int mig_fail(struct es_migrator *m, struct es_migration *mg, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&m->lock);
	va_start(ap, fmt);
	es_verrf(mg->error, sizeof(mg->error), -1, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&m->lock);
	return -1;
}

/*
 * The test build's stop at a step (EDGESHIFTD_FAULT=stall_STEP): the
 * worker waits a few seconds there, announced in the event log, so a test
 * can kill either agent at exactly that step. Once per agent process: the
 * retry that follows goes through. The product never stops.
 */
static void fault_stall(struct es_migrator *m, struct es_migration *mg, const char *step)
{
	static atomic_bool stalled;
	char fault[48];

	snprintf(fault, sizeof(fault), "stall_%s", step);
	if (!es_mig_fault(fault) || atomic_exchange(&stalled, true))
		return;
	event(m, mg, "fault_stall", json_pack("{s:s}", "step", step));
	sleep(3);
}

static void staging_dir(struct es_migrator *m, struct es_migration *mg, char *buf, size_t len)
{
	snprintf(buf, len, "%s/migrations/out-%s", m->cfg->state_dir, mg->id);
}

/* The prepare request; 0, or -1 with the target's refusal in why. */
static int prepare_request(struct es_migrator *m, struct es_migration *mg, bool *has_image,
			   bool *bundle, char *why, size_t why_len)
{
	json_t *req, *resp = NULL;
	int code;

	req = json_pack("{s:s,s:s,s:s,s:s,s:O}", "id", mg->id, "container", mg->container,
			"mode", mg->complete ? "complete" : "partial", "from", m->node,
			"spec", mg->spec);
	code = es_peer_json(es_migrator_peers(m), m->cfg, mg->url, "POST", "/v1/migrations/incoming", req,
			    m->cfg->request_timeout_ms, &resp, why, why_len);
	json_decref(req);
	*has_image = json_is_true(json_object_get(resp, "have_image"));
	*bundle = json_is_true(json_object_get(resp, "bundle"));
	json_decref(resp);
	return es_peer_done(code) ? 0 : -1;
}

int es_mig_prepare(struct es_migrator *m, struct es_migration *mg)
{
	char err[512];

	if (prepare_request(m, mg, &mg->target_has_image, &mg->target_bundle, err, sizeof(err)))
		return mig_fail(m, mg, "target %s refused the migration: %s", mg->to, err);
	return 0;
}

static int pack_object(struct es_migrator *m, struct es_migration *mg, int i, const char *dir)
{
	struct es_mig_object *o = &mg->obj[i];
	struct es_archive_stats st;
	char stage[ES_PATH], err[512];
	int ret;

	staging_dir(m, mg, stage, sizeof(stage));
	snprintf(o->path, sizeof(o->path), "%s/%s.tar.zst", stage, o->name);
	ret = es_archive_pack(dir, o->path, m->cfg->compression_level, &st, err, sizeof(err));
	if (ret)
		return mig_fail(m, mg, "packing the %s: %s", o->name, err);
	ret = es_sha256_file(o->path, o->sha256);
	if (ret)
		return mig_fail(m, mg, "checksum of the %s: %s", o->name, strerror(-ret));
	o->bytes = es_tree_bytes(o->path);
	o->raw_bytes = st.raw_bytes;
	o->present = true;
	return 0;
}

/*
 * The dump and the writable layer must describe the same instant (CRIU
 * checks the size of every open file on restore), so both are taken while
 * the container is paused; it resumes before anything is sent.
 */
int es_mig_checkpoint(struct es_migrator *m, struct es_migration *mg)
{
	char stage[ES_PATH], ck[ES_PATH + 16], upper[ES_PATH], err[1024];
	uint64_t t0;
	int ret;

	phase_begin(m, mg, ES_PH_CHECKPOINT);
	staging_dir(m, mg, stage, sizeof(stage));
	snprintf(ck, sizeof(ck), "%s/checkpoint", stage);
	if (es_mig_fault("checkpoint_fail"))
		return mig_fail(m, mg, "checkpoint of %s: injected fault", mg->container);
	t0 = es_realtime_ns();
	ret = es_container_pause(&m->rt, mg->container, err, sizeof(err));
	if (ret)
		return mig_fail(m, mg, "checkpoint of %s: %s", mg->container, err);
	fault_stall(m, mg, "paused");
	ret = es_container_checkpoint(&m->rt, mg->container, ck, err, sizeof(err));
	if (ret)
		mig_fail(m, mg, "checkpoint of %s: %s", mg->container, err);
	es_ct_path(&m->rt, mg->container, ES_CT_UPPER, upper, sizeof(upper));
	if (!ret)
		ret = pack_object(m, mg, ES_MIG_OBJ_LAYER, upper);
	if (es_container_resume(&m->rt, mg->container, err, sizeof(err))) {
		es_error("container_resume_failed", "name=%s error=\"%s\"", mg->container, err);
		if (!ret)
			ret = mig_fail(m, mg, "resume of %s after the checkpoint: %s",
				       mg->container, err);
	}
	mg->freeze_ns = es_realtime_ns() - t0;
	if (ret)
		return -1;
	mg->ph[ES_PH_CHECKPOINT].bytes = es_tree_bytes(ck);
	phase_end(m, mg, ES_PH_CHECKPOINT,
		  json_pack("{s:I,s:I,s:f}", "bytes", (json_int_t)mg->ph[ES_PH_CHECKPOINT].bytes,
			    "layer_raw_bytes", (json_int_t)mg->obj[ES_MIG_OBJ_LAYER].raw_bytes,
			    "freeze_ms", mg->freeze_ns / 1e6));
	return 0;
}

struct progress {
	struct es_migrator	*m;
	struct es_migration	*mg;
	uint64_t		base;	/* bytes of the objects before this one */
};

static void on_progress(void *arg, uint64_t sent)
{
	struct progress *p = arg;

	pthread_mutex_lock(&p->m->lock);
	p->mg->bytes_sent = p->base + sent;
	if (p->mg->bytes_sent > p->mg->bytes_total)	/* a streamed object grows it */
		p->mg->bytes_total = p->mg->bytes_sent;
	pthread_mutex_unlock(&p->m->lock);
}

/*
 * Pack dir while it is sent: a packer thread writes the compressed archive
 * into a pipe that the upload drains, so packing hides behind the link;
 * the sha256 is taken over the bytes as they go out.
 */
static int stream_object(struct es_migrator *m, struct es_migration *mg, int i, const char *dir,
			 uint64_t base)
{
	struct progress p = { m, mg, base };
	struct es_mig_object *o = &mg->obj[i];
	char path[256], err[700];
	struct es_packer pk;
	int code, packed;

	if (es_packer_start(&pk, dir, m->cfg->compression_level, err, sizeof(err)))
		return mig_fail(m, mg, "packing the %s: %s", o->name, err);
	snprintf(path, sizeof(path), "/v1/migrations/incoming/%s/objects/%s", mg->id, o->name);
	code = es_peer_put_stream(es_migrator_peers(m), m->cfg, mg->url, path, pk.fd, on_progress,
				  &p, o->sha256, &o->bytes, err, sizeof(err));
	packed = es_packer_finish(&pk);	/* a broken upload stops the packer (EPIPE) */
	/* a broken upload also breaks the packer's pipe: the upload's reason first */
	if (!es_peer_done(code))
		return mig_fail(m, mg, "transfer of the %s to %s: %s", o->name, mg->to, err);
	if (packed)
		return mig_fail(m, mg, "packing the %s: %s", o->name, pk.err);
	o->raw_bytes = pk.st.raw_bytes;
	o->present = true;
	return 0;
}

static int send_object(struct es_migrator *m, struct es_migration *mg, int i, uint64_t base)
{
	struct progress p = { m, mg, base };
	char path[256], err[700];
	int code;

	snprintf(path, sizeof(path), "/v1/migrations/incoming/%s/objects/%s", mg->id,
		 mg->obj[i].name);
	code = es_peer_put_file(es_migrator_peers(m), m->cfg, mg->url, path, mg->obj[i].path, on_progress, &p,
				err, sizeof(err));
	if (!es_peer_done(code))
		return mig_fail(m, mg, "transfer of the %s to %s: %s", mg->obj[i].name, mg->to, err);
	return 0;
}

struct bundle_send {
	struct es_migrator		*m;
	struct es_migration		*mg;
	struct es_mig_bundle_part	*parts;
	int				n;
};

/* The transfer phase's end, with what the parts were on the wire and before packing. */
static void transfer_end(struct es_migrator *m, struct es_migration *mg)
{
	struct es_mig_phase *ph = &mg->ph[ES_PH_TRANSFER];

	phase_end(m, mg, ES_PH_TRANSFER,
		  json_pack("{s:I,s:I,s:b}", "bytes", (json_int_t)ph->bytes, "raw_bytes",
			    (json_int_t)ph->raw_bytes, "image_sent", mg->obj[ES_MIG_OBJ_IMAGE].present));
}

/*
 * A part of the bundle went out (the layer: where the test build's
 * stall_transfer waits), or its restore request (obj -1): the transfer
 * ends there and the restore begins.
 */
static void bundle_part_sent(void *arg, int obj)
{
	struct bundle_send *bs = arg;
	struct es_mig_phase *ph = &bs->mg->ph[ES_PH_TRANSFER];
	struct es_mig_object *o;
	int i;

	if (obj == ES_MIG_OBJ_LAYER)
		fault_stall(bs->m, bs->mg, "transfer");
	if (obj >= 0)
		return;
	for (i = 0; i < bs->n; i++) {
		o = &bs->mg->obj[bs->parts[i].obj];
		memcpy(o->sha256, bs->parts[i].sha256, sizeof(o->sha256));
		o->bytes = bs->parts[i].bytes;
		o->raw_bytes = bs->parts[i].raw_bytes;
		o->present = true;
		ph->bytes += o->bytes;
		ph->raw_bytes += o->raw_bytes;
	}
	transfer_end(bs->m, bs->mg);
	phase_begin(bs->m, bs->mg, ES_PH_RESTORE);
}

/*
 * How long the bundle's answer may wait for the restore's outcome: inside
 * the stall timeout, which also counts a wait for the answer.
 */
static unsigned int bundle_wait_ms(const struct es_migrator *m)
{
	unsigned int w = es_mig_wait_ms(m), stall = m->cfg->stall_timeout_ms / 2;

	return stall && stall < w ? stall : w;
}

/*
 * Every object and the restore request in one request (bundle.h). 0 once
 * the restore request went and no refusal came back (es_mig_restore reads
 * the answer); -1 when the target cannot have started a restore, or
 * refused to.
 */
static int transfer_bundle(struct es_migrator *m, struct es_migration *mg, const char *img,
			   const char *ck)
{
	struct es_mig_bundle_part parts[ES_MIG_OBJECTS] = { 0 };
	struct bundle_send bs = { m, mg, parts, 0 };
	struct progress p = { m, mg, 0 };
	struct es_mig_bundle_out *b;
	char path[256], err[700], why[700] = "";
	bool sent;
	int code;

	if (mg->complete || !mg->target_has_image)
		parts[bs.n++] = (struct es_mig_bundle_part){ .obj = ES_MIG_OBJ_IMAGE, .dir = img };
	parts[bs.n++] = (struct es_mig_bundle_part){ .obj = ES_MIG_OBJ_LAYER,
		.file = mg->obj[ES_MIG_OBJ_LAYER].path, .raw_bytes = mg->obj[ES_MIG_OBJ_LAYER].raw_bytes };
	parts[bs.n++] = (struct es_mig_bundle_part){ .obj = ES_MIG_OBJ_CHECKPOINT, .dir = ck };
	b = es_mig_bundle_out_new(parts, bs.n, m->cfg->compression_level, bundle_part_sent, &bs);
	if (!b)
		return mig_fail(m, mg, "transfer to %s: out of memory", mg->to);
	snprintf(path, sizeof(path), "/v1/migrations/incoming/%s/bundle?wait_ms=%u", mg->id,
		 bundle_wait_ms(m));
	code = es_peer_put_read(es_migrator_peers(m), m->cfg, mg->url, path, es_mig_bundle_out_read,
				b, on_progress, &p, &mg->bundle_resp, err, sizeof(err));
	sent = es_mig_bundle_out_restore_sent(b);
	if (es_mig_bundle_out_error(b))
		snprintf(why, sizeof(why), "%s", es_mig_bundle_out_error(b));
	es_mig_bundle_out_free(b);
	mg->bundle_code = code;
	/* no answer after the restore request is no verdict: es_mig_restore asks */
	if (sent && (!code || es_peer_done(code) || es_peer_accepted(code)))
		return 0;
	json_decref(mg->bundle_resp);
	mg->bundle_resp = NULL;
	if (sent)
		return mig_fail(m, mg, "restore at %s: %s", mg->to, err);
	/* a broken upload also stops the reader: the upload's reason first */
	return mig_fail(m, mg, "transfer to %s: %s", mg->to, code || !why[0] ? err : why);
}

/*
 * Image (complete mode, or a target without it) and checkpoint stream; the
 * layer was packed paused. A target that takes bundles gets them and the
 * restore request in one (transfer_bundle), else one PUT each.
 */
int es_mig_transfer(struct es_migrator *m, struct es_migration *mg)
{
	struct es_mig_phase *ph = &mg->ph[ES_PH_TRANSFER];
	char img[ES_PATH + 16], ck[ES_PATH + 16];
	uint64_t base = 0;
	int i, ret;

	phase_begin(m, mg, ES_PH_TRANSFER);
	pthread_mutex_lock(&m->lock);
	mg->bytes_total = mg->obj[ES_MIG_OBJ_LAYER].bytes;
	pthread_mutex_unlock(&m->lock);
	snprintf(img, sizeof(img), "%s/images/%s", m->cfg->state_dir,
		 json_string_value(json_object_get(mg->spec, "image")));
	snprintf(ck, sizeof(ck), "%s/migrations/out-%s/checkpoint", m->cfg->state_dir, mg->id);
	if (mg->target_bundle)
		return transfer_bundle(m, mg, img, ck);
	for (i = 0; i < ES_MIG_OBJECTS; i++) {
		if (i == ES_MIG_OBJ_IMAGE && !mg->complete && mg->target_has_image)
			continue;
		ret = i == ES_MIG_OBJ_LAYER ? send_object(m, mg, i, base)
				     : stream_object(m, mg, i, i == ES_MIG_OBJ_IMAGE ? img : ck, base);
		if (ret)
			return -1;
		if (i == ES_MIG_OBJ_LAYER)
			fault_stall(m, mg, "transfer");
		base += mg->obj[i].bytes;
		ph->bytes += mg->obj[i].bytes;
		ph->raw_bytes += mg->obj[i].raw_bytes;
	}
	transfer_end(m, mg);
	return 0;
}

/* POST restore?wait_ms: its status, its answer in *resp; -1 when the target refused. */
static int restore_request(struct es_migrator *m, struct es_migration *mg, json_t **resp)
{
	json_t *req = json_object(), *objs = json_object();
	char path[256], err[1024];
	int i, code;

	for (i = 0; i < ES_MIG_OBJECTS; i++)
		if (mg->obj[i].present)
			json_object_set_new(objs, mg->obj[i].name,
					    json_pack("{s:s,s:I}", "sha256", mg->obj[i].sha256,
						      "bytes", (json_int_t)mg->obj[i].bytes));
	json_object_set_new(req, "objects", objs);
	/* the outcome comes in the answer when the restore ends within the long poll */
	snprintf(path, sizeof(path), "/v1/migrations/incoming/%s/restore?wait_ms=%u", mg->id,
		 es_mig_wait_ms(m));
	code = es_peer_json(es_migrator_peers(m), m->cfg, mg->url, "POST", path, req,
			    m->cfg->request_timeout_ms, resp, err, sizeof(err));
	json_decref(req);
	/* no answer is no verdict: the target says what it runs (migrate_outcome.c) */
	if (code && !es_peer_accepted(code) && !es_peer_done(code))
		return mig_fail(m, mg, "restore at %s: %s", mg->to, err);
	return code;
}

int es_mig_restore(struct es_migrator *m, struct es_migration *mg)
{
	json_t *resp = NULL;
	int code, outcome;

	if (mg->target_bundle) {	/* asked for with the bundle: its answer */
		code = mg->bundle_code;
		resp = mg->bundle_resp;
		mg->bundle_resp = NULL;
	} else {
		phase_begin(m, mg, ES_PH_RESTORE);
		code = restore_request(m, mg, &resp);
		if (code < 0) {
			json_decref(resp);
			return -1;
		}
	}
	outcome = es_mig_restore_answer(m, mg, code, resp);
	json_decref(resp);
	/*
	 * A long-polled request without an answer may have started the
	 * restore (the target may have died in it): ask as if it had.
	 */
	if (outcome < 0 || (!outcome && es_mig_await_restore(m, mg, true)))
		return -1;
	phase_end(m, mg, ES_PH_RESTORE, json_pack("{s:s}", "target_status", "running"));
	return 0;
}

int es_mig_stop_source(struct es_migrator *m, struct es_migration *mg)
{
	int ret;

	if (mg->state != ES_MIG_RESTORED &&
	    !(mg->state == ES_MIG_RUNNING && mg->ph[ES_PH_RESTORE].end_ns))
		return mig_fail(m, mg, "the source stops only once the target runs the container");
	phase_begin(m, mg, ES_PH_STOP);
	fault_stall(m, mg, "stop");
	ret = es_container_destroy(&m->rt, mg->container);
	if (ret)
		return mig_fail(m, mg, "stopping %s: %s", mg->container, strerror(-ret));
	phase_end(m, mg, ES_PH_STOP, NULL);
	pthread_mutex_lock(&m->lock);
	mg->state = ES_MIG_DONE;
	mg->phase = "done";
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* The caller's look between the checkpoint and its transfer (es_migrator_set_checkpoint_hook). */
static int checkpoint_checked(struct es_migrator *m, struct es_migration *mg)
{
	char err[400] = "";

	if (!m->checkpointed || !m->checkpointed(m->checkpointed_arg, mg->container, err,
						 sizeof(err)))
		return 0;
	return mig_fail(m, mg, "after the checkpoint of %s: %s", mg->container, err);
}

struct prepare_job {
	struct es_migrator	*m;
	struct es_migration	*mg;
	int			ret;
	bool			has_image, bundle;
	char			why[512];
};

static void *prepare_main(void *arg)
{
	struct prepare_job *j = arg;

	j->ret = prepare_request(j->m, j->mg, &j->has_image, &j->bundle, j->why, sizeof(j->why));
	return NULL;
}

/*
 * The prepare runs beside the checkpoint: its handshake and request (two
 * round trips, 0.4 s at Paper D's 200 ms RTT) hide behind the dump instead
 * of coming before it. A target that refuses costs a checkpoint taken for
 * nothing (the container left running); a checkpoint that fails after the
 * target accepted is settled like any later failure (es_mig_abort_target
 * removes the target's staging). The target's refusal is the reason given
 * when both fail: it is the one a retry must fix.
 */
static int prepare_and_checkpoint(struct es_migrator *m, struct es_migration *mg)
{
	struct prepare_job j = { .m = m, .mg = mg };
	pthread_t t;
	int ret;

	if (pthread_create(&t, NULL, prepare_main, &j))	/* in order then */
		return es_mig_prepare(m, mg) ?: es_mig_checkpoint(m, mg);
	ret = es_mig_checkpoint(m, mg);
	pthread_join(t, NULL);
	if (j.ret)
		return mig_fail(m, mg, "target %s refused the migration: %s", mg->to, j.why);
	mg->target_has_image = j.has_image;
	mg->target_bundle = j.bundle;
	if (!ret)
		fault_stall(m, mg, "prepared");
	return ret;
}

struct worker_arg {
	struct es_migrator	*m;
	struct es_migration	*mg;
};

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct es_migrator *m = wa->m;
	struct es_migration *mg = wa->mg;
	char stage[ES_PATH];
	int ret;

	free(wa);
	ret = prepare_and_checkpoint(m, mg);
	if (!ret)
		ret = checkpoint_checked(m, mg);
	if (!ret)
		ret = es_mig_transfer(m, mg);
	if (!ret) {
		ret = es_mig_restore(m, mg);
		if (!ret)
			fault_stall(m, mg, "restored");
	}
	if (ret) {
		/* from the restore on, the target may run it: settle that */
		es_mig_abort_target(m, mg, mg->ph[ES_PH_RESTORE].start_ns != 0);
		/* settled: before the state is published, so no caller sees it with a record */
		es_mig_record_drop(m, mg);
		pthread_mutex_lock(&m->lock);
		mg->state = ES_MIG_FAILED;
		pthread_cond_broadcast(&m->changed);
		pthread_mutex_unlock(&m->lock);
		event(m, mg, "failed", json_pack("{s:s,s:s}", "phase", mg->phase, "reason",
						 mg->error));
	} else {
		/* with stop_source the answer stays "running" until the source is stopped */
		if (mg->stop_source && es_mig_stop_source(m, mg))
			event(m, mg, "failed", json_pack("{s:s,s:s}", "phase", "stop_source",
							 "reason", mg->error));
		es_mig_record_drop(m, mg);
		pthread_mutex_lock(&m->lock);
		if (mg->state != ES_MIG_DONE) {
			mg->state = ES_MIG_RESTORED;
			mg->phase = "restored";
		}
		pthread_cond_broadcast(&m->changed);
		pthread_mutex_unlock(&m->lock);
	}
	staging_dir(m, mg, stage, sizeof(stage));
	es_rm_rf(stage);
	return NULL;
}

static enum es_mig_err refuse(enum es_mig_err e, char *err, size_t len, const char *fmt,
			      const char *arg)
{
	snprintf(err, len, fmt, arg);
	return e;
}

static bool busy(struct es_migrator *m, const char *container)
{
	struct es_migration *mg;
	bool found = false;

	pthread_mutex_lock(&m->lock);
	for (mg = m->list; mg; mg = mg->next)
		if (!strcmp(mg->container, container) && mg->state == ES_MIG_RUNNING)
			found = true;
	pthread_mutex_unlock(&m->lock);
	return found;
}

static enum es_mig_err check_request(struct es_migrator *m, const struct es_mig_request *req,
				     char *err, size_t len)
{
	const char *ct = req->container, *to = req->to, *mode = req->mode;

	if (!ct || !es_safe_name(ct))
		return refuse(ES_MIG_EINVAL, err, len, "field 'container' must name a container%s", "");
	if (!es_container_exists(&m->rt, ct))
		return refuse(ES_MIG_ENOENT, err, len, "no container \"%s\" on this node", ct);
	if (!to || !es_mig_peer_find(m->cfg, to))
		return refuse(ES_MIG_EINVAL, err, len,
			      "field 'to': \"%s\" is not a peer in migration.peers", to ?: "");
	if (!mode || (strcmp(mode, "partial") && strcmp(mode, "complete")))
		return refuse(ES_MIG_EINVAL, err, len,
			      "field 'mode' must be \"partial\" or \"complete\"%s", "");
	if (busy(m, ct))
		return refuse(ES_MIG_EBUSY, err, len, "container \"%s\" is already migrating", ct);
	return ES_MIG_OK;
}

/* A new migration of req, not yet listed nor running; NULL with err. */
static struct es_migration *mig_new(struct es_migrator *m, const struct es_mig_request *req,
				    char *err, size_t err_len)
{
	struct es_migration *mg = calloc(1, sizeof(*mg));
	unsigned char rnd[8];
	int i;

	if (!mg || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		free(mg);
		refuse(ES_MIG_EINTERNAL, err, err_len, "%s", "out of memory");
		return NULL;
	}
	for (i = 0; i < 8; i++)
		sprintf(mg->id + 2 * i, "%02x", rnd[i]);
	snprintf(mg->container, sizeof(mg->container), "%s", req->container);
	snprintf(mg->to, sizeof(mg->to), "%s", req->to);
	snprintf(mg->url, sizeof(mg->url), "%s", es_mig_peer_find(m->cfg, mg->to)->url);
	mg->complete = !strcmp(req->mode, "complete");
	mg->stop_source = req->stop_source;
	mg->spec = es_container_spec(&m->rt, mg->container);
	mg->requested_ns = es_realtime_ns();
	mg->phase = "requested";
	for (i = 0; i < ES_MIG_OBJECTS; i++)
		mg->obj[i].name = es_mig_object_names[i];
	if (!mg->spec) {
		free(mg);
		refuse(ES_MIG_EINTERNAL, err, err_len, "container %s has no readable spec",
		       req->container);
		return NULL;
	}
	return mg;
}

enum es_mig_err es_migration_begin(struct es_migrator *m, const struct es_mig_request *req,
				   struct es_migration **out, char *err, size_t err_len)
{
	struct worker_arg *wa;
	struct es_migration *mg;
	enum es_mig_err e;
	pthread_t t;

	e = check_request(m, req, err, err_len);
	if (e)
		return e;
	mg = mig_new(m, req, err, err_len);
	if (!mg)
		return ES_MIG_EINTERNAL;
	event(m, mg, "requested", json_pack("{s:s,s:s,s:s}", "mode",
					    mg->complete ? "complete" : "partial", "from", m->node,
					    "to", mg->to));
	pthread_mutex_lock(&m->lock);
	mg->next = m->list;
	m->list = mg;
	pthread_mutex_unlock(&m->lock);
	mg->recorded = true;
	es_mig_record_save(m, mg);
	wa = malloc(sizeof(*wa));
	if (wa)
		*wa = (struct worker_arg){ m, mg };
	if (!wa || pthread_create(&t, NULL, worker, wa)) {
		free(wa);
		pthread_mutex_lock(&m->lock);
		mg->state = ES_MIG_FAILED;
		snprintf(mg->error, sizeof(mg->error), "cannot start the worker thread");
		pthread_cond_broadcast(&m->changed);
		pthread_mutex_unlock(&m->lock);
		es_mig_record_drop(m, mg);
		return refuse(ES_MIG_EINTERNAL, err, err_len, "%s", "cannot start the worker thread");
	}
	pthread_detach(t);
	*out = mg;
	return ES_MIG_OK;
}
