// SPDX-License-Identifier: GPL-2.0-only
/*
 * The target side of a migration. Everything arriving is staged under
 * STATE/migrations/in-ID; a container being restored carries a
 * "restoring" marker until runc reports it running, so an agent that dies
 * mid-restore removes it on its next start (es_runtime_recover) and a
 * failed restore removes it at once: nothing half-restored stays.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "util/clock.h"
#include "util/errf.h"
#include "util/log.h"
#include "util/fs_util.h"
#include "util/tree_digest.h"
#include "layer_archive.h"
#include "migrate.h"
#include "stream_unpack.h"


#define ES_MIG_IN_KEEP	64	/* restore records kept in memory */

/* An older incoming migration of the same container is abandoned: drop it. */
static void drop_superseded(struct es_migrator *m, const char *container)
{
	char path[ES_PATH];
	struct dirent *d;
	json_t *man;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/migrations", m->cfg->state_dir);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		if (strncmp(d->d_name, "in-", 3) || !es_safe_name(d->d_name + 3))
			continue;
		man = es_mig_in_manifest(m, d->d_name + 3);
		if (man && !strcmp(json_string_value(json_object_get(man, "container")) ?: "",
				   container)) {
			es_mig_in_dir(m, d->d_name + 3, path, sizeof(path));
			es_info("migration_superseded", "id=%s container=%s", d->d_name + 3,
				container);
			es_rm_rf(path);
		}
		json_decref(man);
	}
	if (dir)
		closedir(dir);
}

static enum es_mig_err in_check(struct es_migrator *m, const struct es_mig_in_request *req,
				char *err, size_t len)
{
	const char *id = req->id, *ct = req->container, *mode = req->mode;
	char why[512];

	if (!id || !es_safe_name(id) || !ct || !es_safe_name(ct))
		return es_errf(err, len, ES_MIG_EINVAL,
			       "fields 'id' and 'container' must be safe names");
	if (!mode || (strcmp(mode, "partial") && strcmp(mode, "complete")))
		return es_errf(err, len, ES_MIG_EINVAL,
			       "field 'mode' must be \"partial\" or \"complete\"");
	if (es_spec_validate(req->spec, why, sizeof(why)))
		return es_errf(err, len, ES_MIG_EINVAL, "%s", why);
	if (strcmp(json_string_value(json_object_get(req->spec, "name")), ct))
		return es_errf(err, len, ES_MIG_EINVAL, "spec.name differs from 'container'");
	if (es_container_exists(&m->rt, ct))
		return es_errf(err, len, ES_MIG_EEXIST,
			       "container \"%s\" already exists on node %s", ct, m->node);
	return ES_MIG_OK;
}

/* What the restore needs of the announcement, kept in the staging directory. */
static int write_manifest(const struct es_mig_in_request *req, const char *path)
{
	json_t *man = json_pack("{s:s,s:s,s:s,s:O}", "id", req->id, "container", req->container,
				"mode", req->mode, "spec", req->spec);
	int ret;

	if (man && req->from)
		json_object_set_new(man, "from", json_string(req->from));
	ret = man ? json_dump_file(man, path, JSON_COMPACT) : -1;
	json_decref(man);
	return ret;
}

enum es_mig_err es_mig_in_prepare(struct es_migrator *m, const struct es_mig_in_request *req,
				  json_t **resp, char *err, size_t err_len)
{
	char path[ES_PATH];
	enum es_mig_err e;

	e = in_check(m, req, err, err_len);
	if (e)
		return e;
	drop_superseded(m, req->container);
	es_mig_in_dir(m, req->id, path, sizeof(path));
	if (mkdir(path, 0700))
		return es_errf(err, err_len, errno == EEXIST ? ES_MIG_EEXIST : ES_MIG_EINTERNAL,
			       "staging %s: %s", req->id, strerror(errno));
	strncat(path, "/manifest.json", sizeof(path) - strlen(path) - 1);
	if (write_manifest(req, path))
		return es_errf(err, err_len, ES_MIG_EINTERNAL, "cannot write %s", path);
	es_event(&m->log, "target", req->id, req->container, "transfer_start",
		 json_pack("{s:s,s:s}", "from", req->from ?: "?", "mode", req->mode));
	/* the pod's ADD runs while the objects travel (in_pod.c) */
	es_mig_in_pod_start(m, req->id, req->container, req->spec);
	/* bundle: takes PUT .../bundle (bundle.h); the test build can say no, as an older agent */
	*resp = json_pack("{s:b,s:b}", "have_image",
			  es_image_present(&m->rt, json_string_value(json_object_get(req->spec,
										   "image"))),
			  "bundle", !es_mig_fault("no_bundle"));
	return ES_MIG_OK;
}

int es_mig_in_object_path(struct es_migrator *m, const char *id, const char *object,
			  char *buf, size_t len)
{
	struct stat st;
	size_t i;

	if (!es_safe_name(id))
		return -1;
	for (i = 0; i < ES_MIG_OBJECTS; i++)
		if (!strcmp(object, es_mig_object_names[i]))
			break;
	if (i == ES_MIG_OBJECTS)
		return -1;
	es_mig_in_dir(m, id, buf, len);
	if (lstat(buf, &st) || !S_ISDIR(st.st_mode))
		return -1;
	snprintf(buf + strlen(buf), len - strlen(buf), "/%s.tar.zst", object);
	return 0;
}

/* The object arrived whole and unchanged: its sha256 (computed while it was received). */
static enum es_mig_err verify_object(struct es_migrator *m, const char *id, const char *name,
				     const struct es_mig_in_object *want, uint64_t *bytes,
				     char *err, size_t err_len)
{
	const char *sha = want->sent ? want->sha256 : NULL;
	char path[ES_PATH], got[65];
	struct stat st;
	int ret;

	char *seen;

	es_mig_in_object_path(m, id, name, path, sizeof(path));
	if (!sha || lstat(path, &st))
		return es_errf(err, err_len, ES_MIG_EINVAL, "object %s was not received", name);
	snprintf(path + strlen(path) - strlen(".tar.zst"), 16, ".sha256");
	seen = es_read_file(path, 64, NULL);	/* taken while it arrived */
	snprintf(path + strlen(path) - strlen(".sha256"), 16, ".tar.zst");
	ret = seen && strlen(seen) == 64 ? 0 : es_sha256_file(path, got);
	if (seen && !ret)
		snprintf(got, sizeof(got), "%s", seen);
	free(seen);
	if (ret)
		return es_errf(err, err_len, ES_MIG_EINTERNAL, "object %s: %s", name,
			       strerror(-ret));
	if (strcmp(got, sha) || (uint64_t)st.st_size != want->bytes)
		return es_errf(err, err_len, ES_MIG_ECORRUPT,
			       "object %s: checksum mismatch (got %.16s..., want %.16s...)",
			       name, got, sha);
	*bytes += st.st_size;
	return ES_MIG_OK;
}

static enum es_mig_err check_image(const char *tmp, const char *digest, char *msg,
				   size_t msg_len)
{
	char root[ES_PATH], got[65], err[512];
	int ret;

	snprintf(root, sizeof(root), "%s/rootfs", tmp);
	ret = es_tree_digest(root, got, err, sizeof(err));
	if (!ret && !strcmp(got, digest))
		return ES_MIG_OK;
	es_rm_rf(tmp);
	if (ret == -ENOENT)
		return es_errf(msg, msg_len, ES_MIG_ECORRUPT, "image %.12s: no rootfs in it",
			       digest);
	if (ret)
		return es_errf(msg, msg_len, ES_MIG_EINTERNAL, "image %.12s: %s", digest, err);
	return es_errf(msg, msg_len, ES_MIG_ECORRUPT,
		       "image sent as %.16s... has digest %.16s...: refused, not stored", digest, got);
}

static enum es_mig_err install_image(struct es_migrator *m, const char *id, const char *digest,
				     char *msg, size_t msg_len)
{
	char tmp[ES_PATH], dst[ES_PATH], src[ES_PATH], err[512];
	struct es_archive_stats st;
	enum es_mig_err e;
	int ret;

	if (es_image_present(&m->rt, digest))
		return ES_MIG_OK;
	es_mig_in_stage(m, id, "image", tmp, sizeof(tmp));
	snprintf(dst, sizeof(dst), "%s/images/%s", m->cfg->state_dir, digest);
	ret = es_mig_in_unpacked(m, id, "image", &e, msg, msg_len);
	if (ret < 0)
		return e;
	if (ret) {	/* unpacked while it arrived, now verified */
		if ((e = check_image(tmp, digest, msg, msg_len)))
			return e;
		if (!rename(tmp, dst))
			return ES_MIG_OK;
		ret = errno;
		es_rm_rf(tmp);
		return es_errf(msg, msg_len, ES_MIG_EINTERNAL, "image: %.400s: %s", dst,
			       strerror(ret));
	}
	es_mig_in_object_path(m, id, "image", src, sizeof(src));
	es_rm_rf(tmp);
	if (mkdir(tmp, 0700))
		return es_errf(msg, msg_len, ES_MIG_EINTERNAL, "%s: %s", tmp, strerror(errno));
	ret = es_archive_unpack(src, tmp, &st, err, sizeof(err));
	if (!ret && (e = check_image(tmp, digest, msg, msg_len)))
		return e;
	if (!ret && rename(tmp, dst))
		ret = -errno, snprintf(err, sizeof(err), "%.400s: %s", dst, strerror(errno));
	if (ret) {
		es_rm_rf(tmp);
		return es_errf(msg, msg_len, es_mig_unpack_err(ret), "image: %s", err);
	}
	return ES_MIG_OK;
}

/*
 * An object's unpacked tree at dst: its stage moved there when it was
 * unpacked while it arrived, else unpacked from the received file now
 * (into dst, made with mode). 0 or the migration error with msg.
 */
static enum es_mig_err take_unpacked(struct es_migrator *m, const char *id, const char *name,
				     const char *dst, mode_t mode, char *msg, size_t msg_len)
{
	char src[ES_PATH], err[512];
	struct es_archive_stats st;
	enum es_mig_err e;
	int ret;

	ret = es_mig_in_unpacked(m, id, name, &e, msg, msg_len);
	if (ret < 0)
		return e;
	es_mig_in_stage(m, id, name, src, sizeof(src));
	if (ret && !rename(src, dst)) {
		es_info("object_unpacked", "id=%s object=%s while_received=1", id, name);
		return ES_MIG_OK;
	}
	es_rm_rf(src);
	if (mkdir(dst, mode) && errno != EEXIST)
		return es_errf(msg, msg_len, ES_MIG_EINTERNAL, "%s: %s", dst, strerror(errno));
	es_mig_in_object_path(m, id, name, src, sizeof(src));
	ret = es_archive_unpack(src, dst, &st, err, sizeof(err));
	if (ret)
		return es_errf(msg, msg_len, es_mig_unpack_err(ret), "%s: %s", name, err);
	es_info("object_unpacked", "id=%s object=%s entries=%llu whiteouts=%llu opaque_dirs=%llu",
		id, name, (unsigned long long)st.entries, (unsigned long long)st.whiteouts,
		(unsigned long long)st.opaque_dirs);
	return ES_MIG_OK;
}

/* Writable layer into the new container's upper directory, marked restoring. */
static enum es_mig_err stage_container(struct es_migrator *m, const char *id, const char *ct,
				       char *msg, size_t msg_len)
{
	char path[ES_PATH];

	es_ct_path(&m->rt, ct, ES_CT_DIR, path, sizeof(path));
	if (mkdir(path, 0700))
		return es_errf(msg, msg_len, errno == EEXIST ? ES_MIG_EEXIST : ES_MIG_EINTERNAL,
			       "container \"%s\" %s on node %s", ct,
			       errno == EEXIST ? "already exists" : strerror(errno), m->node);
	es_ct_path(&m->rt, ct, ES_CT_RESTORING, path, sizeof(path));
	if (es_write_file(path, id, strlen(id)))
		return es_errf(msg, msg_len, ES_MIG_EINTERNAL, "cannot mark %s restoring", ct);
	es_ct_path(&m->rt, ct, ES_CT_UPPER, path, sizeof(path));
	return take_unpacked(m, id, "layer", path, 0755, msg, msg_len);
}

static enum es_mig_err unpack_checkpoint(struct es_migrator *m, const char *id, char *ck,
					 size_t len, char *msg, size_t msg_len)
{
	es_mig_in_dir(m, id, ck, len);
	strncat(ck, "/checkpoint", len - strlen(ck) - 1);
	return take_unpacked(m, id, "checkpoint", ck, 0700, msg, msg_len);
}

/* What the source sent of each object, copied for the restore thread. */
struct in_objects {
	struct es_mig_in_object	o[ES_MIG_OBJECTS];
};

static int objects_copy(struct in_objects *dst, const struct es_mig_in_object *src)
{
	int i;

	for (i = 0; i < ES_MIG_OBJECTS; i++) {
		dst->o[i] = src[i];
		dst->o[i].sha256 = src[i].sha256 ? strdup(src[i].sha256) : NULL;
		if (src[i].sha256 && !dst->o[i].sha256)
			return -ENOMEM;
	}
	return 0;
}

static void objects_free(struct in_objects *objs)
{
	int i;

	for (i = 0; i < ES_MIG_OBJECTS; i++)
		free((char *)objs->o[i].sha256);
}

/* Every object verified, the image installed when it was sent. */
static enum es_mig_err verify_all(struct es_migrator *m, const char *id, const char *digest,
				  const struct in_objects *objs, uint64_t *bytes,
				  char *err, size_t err_len)
{
	enum es_mig_err e;

	if ((e = verify_object(m, id, "layer", &objs->o[1], bytes, err, err_len)) ||
	    (e = verify_object(m, id, "checkpoint", &objs->o[2], bytes, err, err_len)))
		return e;
	if (objs->o[0].sent &&
	    ((e = verify_object(m, id, "image", &objs->o[0], bytes, err, err_len)) ||
	     (e = install_image(m, id, digest, err, err_len))))
		return e;
	if (!es_image_present(&m->rt, digest))
		return es_errf(err, err_len, ES_MIG_ENOIMAGE,
			       "image %.12s is not on node %s and was not sent", digest, m->node);
	return ES_MIG_OK;
}

static enum es_mig_err restore_locked(struct es_migrator *m, const char *id, json_t *man,
				      const struct in_objects *objs, double *restore_ms,
				      char *msg, size_t msg_len)
{
	json_t *spec = json_object_get(man, "spec");
	const char *ct = json_string_value(json_object_get(man, "container"));
	const char *digest = json_string_value(json_object_get(spec, "image"));
	char ck[ES_PATH], err[1024], path[ES_PATH];
	uint64_t bytes = 0, t0;
	enum es_mig_err e;

	if ((e = verify_all(m, id, digest, objs, &bytes, msg, msg_len)))
		return e;
	es_event(&m->log, "target", id, ct, "transfer_end",
		 json_pack("{s:I}", "bytes", (json_int_t)bytes));
	if ((e = stage_container(m, id, ct, msg, msg_len)))
		return e;
	if ((e = unpack_checkpoint(m, id, ck, sizeof(ck), msg, msg_len)))
		return e;
	if (es_container_bundle(&m->rt, spec, ES_CT_BUNDLE_RESTORE |
				(es_mig_in_pod_take(m, id) ? ES_CT_BUNDLE_POD_READY : 0),
				err, sizeof(err)))
		return es_errf(msg, msg_len, ES_MIG_EINTERNAL, "%s", err);
	t0 = es_realtime_ns();
	es_event(&m->log, "target", id, ct, "restore_start", NULL);
	if (es_mig_fault("restore_slow"))
		sleep(12);	/* longer than any fixed connection timeout */
	if (es_container_restore(&m->rt, ct, ck, err, sizeof(err)))
		return es_errf(msg, msg_len, ES_MIG_EINTERNAL, "%s", err);
	if (es_mig_fault("restore_crash")) {
		es_error("fault_injected", "fault=restore_crash id=%s", id);
		_exit(3);	/* dies with the container half-restored: the next start removes it */
	}
	es_ct_path(&m->rt, ct, ES_CT_ORIGIN, path, sizeof(path));
	if (es_write_file(path, id, strlen(id)))
		return es_errf(msg, msg_len, ES_MIG_EINTERNAL, "cannot record the origin of %s",
			       ct);
	*restore_ms = (es_realtime_ns() - t0) / 1e6;
	return ES_MIG_OK;
}

static struct es_mig_in *in_find(struct es_migrator *m, const char *id)
{
	struct es_mig_in *r;

	for (r = m->incoming; r; r = r->next)
		if (!strcmp(r->id, id))
			break;
	return r;
}

struct restore_job {
	struct es_migrator	*m;
	struct es_mig_in	*rec;
	json_t			*man;
	struct in_objects	objs;
};

/* rec ended failed (why, reason); called with m->lock held. */
static void in_failed(struct es_mig_in *rec, enum es_mig_err why, const char *reason)
{
	rec->state = ES_IN_FAILED;
	rec->failure = why;
	snprintf(rec->error, sizeof(rec->error), "%s", reason);
}

/* The restore succeeded: keep it, unless the source gave up meanwhile. */
static void restore_settle(struct es_migrator *m, struct es_mig_in *rec, double restore_ms)
{
	char path[ES_PATH];
	bool aborted;

	pthread_mutex_lock(&m->lock);
	aborted = rec->abort_requested;
	if (!aborted) {
		rec->state = ES_IN_RUNNING;
		rec->restore_ms = restore_ms;
		pthread_cond_broadcast(&m->changed);	/* a status long poll answers */
	}
	pthread_mutex_unlock(&m->lock);
	if (aborted) {
		es_container_destroy(&m->rt, rec->container);
		pthread_mutex_lock(&m->lock);
		in_failed(rec, ES_MIG_EBUSY, "aborted by the source");
		pthread_cond_broadcast(&m->changed);
		pthread_mutex_unlock(&m->lock);
		es_event(&m->log, "target", rec->id, rec->container, "failed",
			 json_pack("{s:s,s:s}", "phase", "restore", "reason", "aborted by the source"));
		return;
	}
	es_ct_path(&m->rt, rec->container, ES_CT_RESTORING, path, sizeof(path));
	unlink(path);
	es_event(&m->log, "target", rec->id, rec->container, "restore_end",
		 json_pack("{s:f}", "elapsed_ms", rec->restore_ms));
}

static void *restore_worker(void *arg)
{
	struct restore_job *j = arg;
	struct es_migrator *m = j->m;
	struct es_mig_in *rec = j->rec;
	char path[ES_PATH], err[1024] = "?";
	double restore_ms = 0;
	enum es_mig_err e;

	pthread_mutex_lock(&m->rt.lock);
	e = restore_locked(m, rec->id, j->man, &j->objs, &restore_ms, err, sizeof(err));
	/* a container of that name that is not ours stays */
	if (e && e != ES_MIG_EEXIST) {
		es_ct_path(&m->rt, rec->container, ES_CT_RESTORING, path, sizeof(path));
		if (!access(path, F_OK))
			es_container_destroy(&m->rt, rec->container);
	}
	if (e)	/* failed before it took the pod made at the prepare */
		es_mig_in_pod_drop(m, rec->id);
	else
		restore_settle(m, rec, restore_ms);
	pthread_mutex_unlock(&m->rt.lock);
	if (e) {
		pthread_mutex_lock(&m->lock);
		in_failed(rec, e, err);
		pthread_cond_broadcast(&m->changed);
		pthread_mutex_unlock(&m->lock);
		es_event(&m->log, "target", rec->id, rec->container, "failed",
			 json_pack("{s:s,s:s}", "phase", "restore", "reason", rec->error));
	}
	es_mig_in_dir(m, rec->id, path, sizeof(path));
	es_rm_rf(path);
	es_mig_in_stage(m, rec->id, "image", path, sizeof(path));
	es_rm_rf(path);
	pthread_mutex_lock(&m->lock);
	rec->done = true;
	pthread_mutex_unlock(&m->lock);
	json_decref(j->man);
	objects_free(&j->objs);
	free(j);
	return NULL;
}

/*
 * Keep the newest records; older finished ones go (a restarted agent
 * answers from the origin markers anyway). Called with m->lock held.
 */
static void in_prune(struct es_migrator *m)
{
	struct es_mig_in **pp = &m->incoming, *r;
	unsigned int n = 0;

	while ((r = *pp)) {
		if (++n > ES_MIG_IN_KEEP && r->done) {
			*pp = r->next;
			free(r);
			continue;
		}
		pp = &r->next;
	}
}

/* A new record of id, listed, with its job; NULL when out of memory. Called with m->lock held. */
static struct restore_job *job_new(struct es_migrator *m, const char *id, json_t *man,
				   const struct es_mig_in_object *objs)
{
	struct es_mig_in *rec = calloc(1, sizeof(*rec));
	struct restore_job *j = rec ? calloc(1, sizeof(*j)) : NULL;

	if (!j || objects_copy(&j->objs, objs)) {
		if (j)
			objects_free(&j->objs);
		free(rec);
		free(j);
		return NULL;
	}
	snprintf(rec->id, sizeof(rec->id), "%s", id);
	snprintf(rec->container, sizeof(rec->container), "%s",
		 json_string_value(json_object_get(man, "container")));
	in_prune(m);
	rec->next = m->incoming;
	m->incoming = rec;
	j->m = m;
	j->rec = rec;
	j->man = man;
	return j;
}

/* Register the restore (so its outcome can be asked for) and run it in a thread. */
enum es_mig_err es_mig_in_restore(struct es_migrator *m, const char *id,
				  const struct es_mig_in_object *objs, json_t **resp,
				  char *err, size_t err_len)
{
	json_t *man = es_safe_name(id) ? es_mig_in_manifest(m, id) : NULL;
	struct restore_job *j;
	pthread_t t;

	if (!man)
		return es_errf(err, err_len, ES_MIG_ENOENT, "no incoming migration \"%s\"", id);
	pthread_mutex_lock(&m->lock);
	if (in_find(m, id)) {
		/*
		 * Asked again (libcurl resends a request whose reused connection
		 * closed unanswered): the same answer, the restore runs once.
		 */
		pthread_mutex_unlock(&m->lock);
		json_decref(man);
		*resp = json_pack("{s:s,s:s}", "id", id, "state", "restoring");
		return ES_MIG_OK;
	}
	j = job_new(m, id, man, objs);
	if (!j) {
		pthread_mutex_unlock(&m->lock);
		json_decref(man);
		return es_errf(err, err_len, ES_MIG_EINTERNAL, "out of memory");
	}
	if (pthread_create(&t, NULL, restore_worker, j)) {
		in_failed(j->rec, ES_MIG_EINTERNAL, "cannot start the restore thread");
		pthread_mutex_unlock(&m->lock);
		json_decref(man);
		objects_free(&j->objs);
		free(j);
		return es_errf(err, err_len, ES_MIG_EINTERNAL, "cannot start the restore thread");
	}
	pthread_detach(t);
	pthread_mutex_unlock(&m->lock);
	*resp = json_pack("{s:s,s:s}", "id", id, "state", "restoring");
	return ES_MIG_OK;
}

/* The container migration id restored here, found by its origin marker. */
static bool restored_by(struct es_migrator *m, const char *ct, const char *id)
{
	char path[ES_PATH], *owner;
	bool yes;

	if (!ct || !es_safe_name(ct))
		return false;
	es_ct_path(&m->rt, ct, ES_CT_ORIGIN, path, sizeof(path));
	owner = es_read_file(path, 64, NULL);
	yes = owner && !strcmp(owner, id);
	free(owner);
	return yes;
}

/* A container restored by id after this agent restarted (the record is gone). */
static const char *find_restored(struct es_migrator *m, const char *id, char *name, size_t len)
{
	char path[ES_PATH];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/containers", m->cfg->state_dir);
	dir = opendir(path);
	name[0] = '\0';
	while (dir && (d = readdir(dir)))
		if (es_safe_name(d->d_name) && restored_by(m, d->d_name, id)) {
			snprintf(name, len, "%.63s", d->d_name);
			break;
		}
	if (dir)
		closedir(dir);
	return name[0] ? name : NULL;
}

/* The record's answer, or the truth of this node when it has none (restarted). */
static json_t *status_json(struct es_migrator *m, const char *id, enum es_mig_err *failure)
{
	static const char *const names[] = { "restoring", "running", "failed" };
	struct es_mig_in *rec;
	json_t *resp = NULL, *st;
	char ct[64];

	*failure = ES_MIG_OK;
	pthread_mutex_lock(&m->lock);
	rec = in_find(m, id);
	if (rec) {
		resp = json_pack("{s:s,s:s,s:s}", "id", id, "container", rec->container,
				 "state", names[rec->state]);
		if (rec->state == ES_IN_RUNNING)
			json_object_set_new(resp, "restore_ms", json_real(rec->restore_ms));
		if (rec->state == ES_IN_FAILED) {
			json_object_set_new(resp, "error", json_string(rec->error));
			*failure = rec->failure;
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (rec)
		return resp;
	if (!find_restored(m, id, ct, sizeof(ct)))
		return json_pack("{s:s,s:s}", "id", id, "state", "absent");
	st = es_container_state(&m->rt, ct);
	resp = json_pack("{s:s,s:s,s:s}", "id", id, "container", ct, "state",
			 !strcmp(json_string_value(json_object_get(st, "status")) ?: "", "running")
			 ? "running" : "failed");
	json_decref(st);
	return resp;
}

/*
 * A long poll: the answer leaves as soon as the restore ends, so the source
 * learns of it one way after it happened instead of up to a poll interval
 * plus a round trip later.
 */
enum es_mig_err es_mig_in_status(struct es_migrator *m, const char *id, unsigned int wait_ms,
				 json_t **resp, enum es_mig_err *failure, char *err,
				 size_t err_len)
{
	struct timespec until = es_mono_deadline(wait_ms);
	struct es_mig_in *rec;
	int wr = 0;

	if (!es_safe_name(id))
		return es_errf(err, err_len, ES_MIG_EINVAL, "migration ids are [A-Za-z0-9_.-]");
	*resp = status_json(m, id, failure);
	if (!wait_ms || strcmp(json_string_value(json_object_get(*resp, "state")) ?: "",
			       "restoring"))
		return ES_MIG_OK;
	/* the restore thread signals m->changed when its record leaves "restoring" */
	pthread_mutex_lock(&m->lock);
	while ((rec = in_find(m, id)) && rec->state == ES_IN_RESTORING && wr != ETIMEDOUT)
		wr = pthread_cond_timedwait(&m->changed, &m->lock, &until);
	pthread_mutex_unlock(&m->lock);
	json_decref(*resp);
	*resp = status_json(m, id, failure);
	return ES_MIG_OK;
}

/* The source gave up: a restore in progress removes its container when it ends. */
static bool abort_restore(struct es_migrator *m, const char *id, bool *pending)
{
	struct es_mig_in *rec;
	bool known;

	pthread_mutex_lock(&m->lock);
	rec = in_find(m, id);
	known = rec != NULL;
	*pending = rec && rec->state == ES_IN_RESTORING;
	if (*pending)
		rec->abort_requested = true;
	else if (rec && rec->state == ES_IN_RUNNING)
		in_failed(rec, ES_MIG_EBUSY, "aborted by the source");
	pthread_mutex_unlock(&m->lock);
	return known;
}

enum es_mig_err es_mig_in_abort(struct es_migrator *m, const char *id, json_t **resp,
				char *err, size_t err_len)
{
	json_t *man = es_safe_name(id) ? es_mig_in_manifest(m, id) : NULL;
	const char *ct = json_string_value(json_object_get(man, "container"));
	char path[ES_PATH], name[64], *owner;
	bool removed = false, pending = false;

	if (!es_safe_name(id))
		return es_errf(err, err_len, ES_MIG_EINVAL, "migration ids are [A-Za-z0-9_.-]");
	abort_restore(m, id, &pending);
	if (pending) {
		*resp = json_pack("{s:b,s:b}", "aborted", 1, "removal_pending", 1);
		json_decref(man);
		return ES_MIG_OK;	/* the restore thread removes it when runc is done */
	}
	es_mig_in_pod_drop(m, id);
	if (!ct)
		ct = find_restored(m, id, name, sizeof(name));
	if (!man && !ct) {
		*resp = json_pack("{s:b}", "aborted", 0);
		return ES_MIG_OK;	/* nothing staged, nothing restored: nothing to remove */
	}
	pthread_mutex_lock(&m->rt.lock);
	es_ct_path(&m->rt, ct, ES_CT_RESTORING, path, sizeof(path));
	owner = es_read_file(path, 64, NULL);
	if ((owner && !strcmp(owner, id)) || restored_by(m, ct, id)) {
		es_container_destroy(&m->rt, ct);
		removed = true;
	}
	free(owner);
	pthread_mutex_unlock(&m->rt.lock);
	es_mig_in_dir(m, id, path, sizeof(path));
	es_rm_rf(path);
	es_mig_in_stage(m, id, "image", path, sizeof(path));
	es_rm_rf(path);
	es_event(&m->log, "target", id, ct, "failed",
		 json_pack("{s:s,s:s}", "phase", removed ? "restore" : "transfer", "reason",
			   "aborted by the source"));
	*resp = json_pack("{s:b,s:b}", "aborted", 1, "container_removed", removed);
	json_decref(man);
	return ES_MIG_OK;
}
