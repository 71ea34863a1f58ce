// SPDX-License-Identifier: GPL-2.0-only
/* Container lifecycle through runc (fork/exec) on an overlay root. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include "util/log.h"
#include "util/fs_util.h"
#include "pod_net.h"
#include "proc_exec.h"
#include "container.h"
#include "service_ip.h"
#include "tcp_clock.h"

#define RUNC_ERR	1024
#define QUICK_MS	15000U	/* runc state, pause, resume, delete */

int es_runtime_init(struct es_runtime *rt, const struct es_mig_config *cfg, const char *node)
{
	static const char *const subdirs[] = { "images", "containers", "migrations", "runc" };
	char path[ES_PATH];
	size_t i;
	int err;

	rt->cfg = cfg;
	snprintf(rt->node, sizeof(rt->node), "%s", node);
	pthread_mutex_init(&rt->lock, NULL);
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, subdirs[i]);
		err = es_mkdir_p(path, 0700);
		if (err)
			return err;
	}
	return 0;
}

void es_ct_path(const struct es_runtime *rt, const char *name, enum es_ct_dir what,
		char *buf, size_t len)
{
	static const char *const leaf[] = { "", "/upper", "/work", "/rootfs", "/spec.json",
					    "/restoring", "/migration" };

	snprintf(buf, len, "%s/containers/%s%s", rt->cfg->state_dir, name, leaf[what]);
}

void es_image_rootfs(const struct es_runtime *rt, const char *digest, char *buf, size_t len)
{
	snprintf(buf, len, "%s/images/%s/rootfs", rt->cfg->state_dir, digest);
}

bool es_image_present(const struct es_runtime *rt, const char *digest)
{
	char path[ES_PATH];
	struct stat st;

	if (!es_hex_digest(digest))
		return false;
	es_image_rootfs(rt, digest, path, sizeof(path));
	return !lstat(path, &st) && S_ISDIR(st.st_mode);
}

bool es_container_exists(const struct es_runtime *rt, const char *name)
{
	char path[ES_PATH];
	struct stat st;

	es_ct_path(rt, name, ES_CT_DIR, path, sizeof(path));
	return !lstat(path, &st);
}

static int spec_fail(char *err, size_t len, const char *field, const char *want)
{
	snprintf(err, len, "spec: field '%s' %s", field, want);
	return -1;
}

static int check_strings(json_t *a, const char *field, bool required, char *err, size_t len)
{
	size_t i;
	json_t *e;

	if (!a)
		return required ? spec_fail(err, len, field, "is required") : 0;
	if (!json_is_array(a) || (required && !json_array_size(a)) || json_array_size(a) > 256)
		return spec_fail(err, len, field, "must be an array of 1 to 256 strings");
	json_array_foreach(a, i, e)
		if (!json_is_string(e) || json_string_length(e) > 4096)
			return spec_fail(err, len, field, "must hold strings only");
	return 0;
}

int es_spec_validate(json_t *spec, char *err, size_t err_len)
{
	const char *key, *name, *image;
	json_t *v;

	if (!json_is_object(spec))
		return spec_fail(err, err_len, "(top)", "must be a JSON object");
	json_object_foreach(spec, key, v)
		if (strcmp(key, "name") && strcmp(key, "image") && strcmp(key, "args") &&
		    strcmp(key, "env") && strcmp(key, "tcp_established") &&
		    strcmp(key, "service_ip") && strcmp(key, "ips"))
			return spec_fail(err, err_len, key, "is not a known field (name, image, args, "
					 "env, tcp_established, service_ip, ips)");
	name = json_string_value(json_object_get(spec, "name"));
	if (!name || !es_safe_name(name))
		return spec_fail(err, err_len, "name", "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
	image = json_string_value(json_object_get(spec, "image"));
	if (!image || !es_hex_digest(image))
		return spec_fail(err, err_len, "image", "must be a sha256 digest (64 hex digits)");
	v = json_object_get(spec, "service_ip");
	if (v && (!json_is_string(v) || inet_pton(AF_INET, json_string_value(v), &(struct in_addr){}) != 1))
		return spec_fail(err, err_len, "service_ip", "must be an IPv4 address");
	v = json_object_get(spec, "ips");
	if (v && es_pod_ips_validate(v, err, err_len))
		return -1;
	v = json_object_get(spec, "tcp_established");
	if (v && !json_is_boolean(v))
		return spec_fail(err, err_len, "tcp_established", "must be true or false");
	if (check_strings(json_object_get(spec, "args"), "args", true, err, err_len) ||
	    check_strings(json_object_get(spec, "env"), "env", false, err, err_len))
		return -1;
	return 0;
}

static json_t *oci_mounts(void)
{
	return json_pack("[{s:s,s:s,s:s},"
			 "{s:s,s:s,s:s,s:[s,s,s,s]},"
			 "{s:s,s:s,s:s,s:[s,s,s,s,s,s]},"
			 "{s:s,s:s,s:s,s:[s,s,s,s,s]},"
			 "{s:s,s:s,s:s,s:[s,s,s]},"
			 "{s:s,s:s,s:s,s:[s,s,s,s]}]",
			 "destination", "/proc", "type", "proc", "source", "proc",
			 "destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options",
			 "nosuid", "strictatime", "mode=755", "size=65536k",
			 "destination", "/dev/pts", "type", "devpts", "source", "devpts", "options",
			 "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
			 "destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options",
			 "nosuid", "noexec", "nodev", "mode=1777", "size=65536k",
			 "destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue",
			 "options", "nosuid", "noexec", "nodev",
			 "destination", "/sys", "type", "sysfs", "source", "sysfs", "options",
			 "nosuid", "noexec", "nodev", "ro");
}

/* cgroup names are flat ("/es-NODE-NAME"), so runc delete leaves no parent behind. */
static void cgroup_path(const struct es_runtime *rt, const char *name, char *buf, size_t len)
{
	char *p;

	snprintf(buf, len, "/es-%s-%s", rt->node, name);
	for (p = buf + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			*p = '_';
}

/* The runc config of spec on this node: same process, its network namespace at netns. */
static json_t *oci_config(const struct es_runtime *rt, json_t *spec, const char *netns)
{
	const char *name = json_string_value(json_object_get(spec, "name"));
	json_t *env = json_array(), *e, *caps;
	char cgroup[160];
	size_t i;

	json_array_append_new(env, json_string("PATH=/usr/local/bin:/usr/bin:/bin"));
	json_array_foreach(json_object_get(spec, "env"), i, e)
		json_array_append(env, e);
	cgroup_path(rt, name, cgroup, sizeof(cgroup));
	caps = json_pack("[s,s,s]", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
	return json_pack("{s:s,s:{s:b,s:{s:i,s:i},s:O,s:o,s:s,s:{s:O,s:O,s:O,s:o},"
			 "s:[{s:s,s:i,s:i}],s:b},s:{s:s,s:b},s:s,s:o,"
			 "s:{s:s,s:[{s:s},{s:s},{s:s},{s:s},{s:s,s:s}],"
			 "s:[s,s,s,s,s,s,s,s,s,s],s:[s,s,s,s,s]}}",
			 "ociVersion", "1.0.2",
			 "process", "terminal", 0, "user", "uid", 0, "gid", 0,
			 "args", json_object_get(spec, "args"), "env", env, "cwd", "/",
			 "capabilities", "bounding", caps, "effective", caps, "permitted", caps,
			 "ambient", caps,
			 "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
			 "noNewPrivileges", 1,
			 "root", "path", "rootfs", "readonly", 0,
			 "hostname", name,
			 "mounts", oci_mounts(),
			 "linux", "cgroupsPath", cgroup,
			 "namespaces", "type", "pid", "type", "ipc", "type", "uts", "type", "mount",
			 "type", "network", "path", netns,
			 "maskedPaths", "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
			 "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
			 "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
			 "readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
			 "/proc/sysrq-trigger");
}

static int mount_overlay(const struct es_runtime *rt, const char *name, const char *image)
{
	char lower[ES_PATH], upper[ES_PATH], work[ES_PATH], root[ES_PATH], opts[4 * ES_PATH];

	es_image_rootfs(rt, image, lower, sizeof(lower));
	es_ct_path(rt, name, ES_CT_UPPER, upper, sizeof(upper));
	es_ct_path(rt, name, ES_CT_WORK, work, sizeof(work));
	es_ct_path(rt, name, ES_CT_ROOTFS, root, sizeof(root));
	if (snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper,
		     work) >= (int)sizeof(opts))
		return -ENAMETOOLONG;
	return mount("overlay", root, "overlay", 0, opts) ? -errno : 0;
}

static int write_json(const char *path, json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	int err;

	if (!s)
		return -ENOMEM;
	err = es_write_file(path, s, strlen(s));
	free(s);
	return err;
}

/*
 * The namespace the container runs in: its pod's, wired by CNI ADD now
 * (before the start or the restore), or the node's (node_netns.c).
 */
static int ct_netns(struct es_runtime *rt, json_t *spec, bool pod_ready, char *path,
		    size_t len, char *err, size_t err_len)
{
	const char *name = json_string_value(json_object_get(spec, "name"));

	if (!rt->cfg->pod_conf)
		return es_node_netns_hold(rt, path, len, err, err_len);
	es_pod_netns_path(rt->cfg, name, path, len);
	return pod_ready ? 0 : es_pod_net_add(rt->cfg, name, spec, err, err_len);
}

int es_container_bundle(struct es_runtime *rt, json_t *spec, unsigned int flags, char *err,
			size_t err_len)
{
	bool upper_ready = flags & ES_CT_BUNDLE_RESTORE;
	const char *name = json_string_value(json_object_get(spec, "name"));
	const char *image = json_string_value(json_object_get(spec, "image"));
	char path[ES_PATH], netns[ES_PATH];
	json_t *cfg;
	int ret;

	if (!es_image_present(rt, image)) {
		snprintf(err, err_len, "image %s is not on node %s", image, rt->node);
		return -ENOENT;
	}
	es_ct_path(rt, name, ES_CT_DIR, path, sizeof(path));
	if (!upper_ready && mkdir(path, 0700)) {
		ret = -errno;
		snprintf(err, err_len, "container %s: %s", name,
			 ret == -EEXIST ? "already exists" : strerror(-ret));
		return ret;
	}
	es_ct_path(rt, name, ES_CT_UPPER, path, sizeof(path));
	if (!upper_ready && mkdir(path, 0755))
		goto sys_fail;
	es_ct_path(rt, name, ES_CT_WORK, path, sizeof(path));
	if (mkdir(path, 0700) && errno != EEXIST)
		goto sys_fail;
	es_ct_path(rt, name, ES_CT_ROOTFS, path, sizeof(path));
	if (mkdir(path, 0755) && errno != EEXIST)
		goto sys_fail;
	ret = mount_overlay(rt, name, image);
	if (ret) {
		snprintf(err, err_len, "overlay mount of %s: %s", name, strerror(-ret));
		return ret;
	}
	ret = ct_netns(rt, spec, flags & ES_CT_BUNDLE_POD_READY, netns, sizeof(netns), err,
		       err_len);
	if (ret)
		return ret;
	es_ct_path(rt, name, ES_CT_SPEC, path, sizeof(path));
	ret = write_json(path, spec);
	cfg = oci_config(rt, spec, netns);
	snprintf(path + strlen(path) - strlen("spec.json"), 16, "config.json");
	if (!ret)
		ret = cfg ? write_json(path, cfg) : -ENOMEM;
	json_decref(cfg);
	if (ret)
		snprintf(err, err_len, "writing the bundle of %s: %s", name, strerror(-ret));
	return ret;
sys_fail:
	ret = -errno;
	snprintf(err, err_len, "%s: %s", path, strerror(-ret));
	return ret;
}

/* runc with this agent's root and a log file; argv ends with NULL. */
static int runc(struct es_runtime *rt, const char *name, unsigned int timeout_ms, int flags,
		char *err, size_t err_len, const char *const *args)
{
	char root[ES_PATH], logf[ES_PATH], out[RUNC_ERR];
	const char *verb = args[0];
	char *argv[32];
	int n = 0, ret;

	snprintf(root, sizeof(root), "%s/runc", rt->cfg->state_dir);
	es_ct_path(rt, name, ES_CT_DIR, logf, sizeof(logf));
	strncat(logf, "/runc.log", sizeof(logf) - strlen(logf) - 1);
	argv[n++] = (char *)rt->cfg->runc;
	argv[n++] = "--root";
	argv[n++] = root;
	if (access(logf, F_OK) == 0 || es_container_exists(rt, name)) {
		argv[n++] = "--log";
		argv[n++] = logf;
	}
	while (*args && n < 31)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	ret = es_exec(argv, timeout_ms, flags, out, sizeof(out));
	if (ret && err) {
		char *tail = NULL;

		if (flags & ES_EXEC_NULL_STDIO)	/* the reason is in runc's log */
			tail = es_read_file(logf, 1 << 20, NULL);
		if (tail) {
			char *p = tail + strlen(tail);

			while (p > tail && p[-1] == '\n')
				*--p = '\0';
			p = strrchr(tail, '\n');
			snprintf(out, sizeof(out), "%s", p ? p + 1 : tail);
			free(tail);
		}
		snprintf(err, err_len, "runc %s %s: %s%.300s", verb, name,
			 ret == -ETIMEDOUT ? "timed out: " : "", out[0] ? out : "failed");
		if (strstr(err, "log file: "))	/* the log goes with the staging directory */
			*strstr(err, "log file: ") = '\0';
		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = ' ';
	}
	return ret > 0 ? -EIO : ret;
}

static void bundle_dir(const struct es_runtime *rt, const char *name, char *buf, size_t len)
{
	es_ct_path(rt, name, ES_CT_DIR, buf, len);
}

/*
 * The container's service IP onto (add) or off this node; 0 without one.
 * A pod holds its addresses itself (its CNI result): the node must not,
 * or it would answer for them instead of routing to the pod.
 */
static int service_ip(const struct es_runtime *rt, json_t *spec, bool add, char *err,
		      size_t err_len)
{
	const char *ip = json_string_value(json_object_get(spec, "service_ip"));

	return ip && !rt->cfg->pod_conf ? es_service_ip_set(ip, add, err, err_len) : 0;
}

int es_container_run(struct es_runtime *rt, json_t *spec, char *err, size_t err_len)
{
	const char *name;
	char bundle[ES_PATH];
	int ret;

	if (es_spec_validate(spec, err, err_len))
		return -EINVAL;
	name = json_string_value(json_object_get(spec, "name"));
	pthread_mutex_lock(&rt->lock);
	ret = es_container_bundle(rt, spec, 0, err, err_len);
	if (ret) {
		if (ret != -EEXIST)
			es_container_destroy(rt, name);
		goto out;
	}
	bundle_dir(rt, name, bundle, sizeof(bundle));
	ret = service_ip(rt, spec, true, err, err_len);
	if (!ret)
		ret = runc(rt, name, QUICK_MS, ES_EXEC_NULL_STDIO, err, err_len,
			   (const char *[]){ "run", "--detach", "--bundle", bundle, name, NULL });
	if (ret)
		es_container_destroy(rt, name);
	else
		es_info("container_started", "name=%s image=%.12s", name,
			json_string_value(json_object_get(spec, "image")));
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

/* The first CRIU error of a log worth showing (not the harmless rlimit one). */
static void criu_reason(const char *log, char *err, size_t err_len)
{
	char *text = es_read_file(log, 4 << 20, NULL), *line, *save = NULL;
	size_t used = strlen(err);

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *e = strstr(line, "Error (");

		if (!e || strstr(line, "rlimit") || strstr(line, "Dumping FAILED") ||
		    strstr(line, "Restoring FAILED"))
			continue;
		snprintf(err + used, err_len - used, " (criu: %s)", e);
		break;
	}
	free(text);
}

int es_container_restore(struct es_runtime *rt, const char *name, const char *image_dir,
			 char *err, size_t err_len)
{
	char bundle[ES_PATH], work[ES_PATH + 16];
	json_t *spec = es_container_spec(rt, name);
	bool tcp = spec && json_is_true(json_object_get(spec, "tcp_established"));
	int ret;

	/* sockets bound to the service IP need it here before CRIU rebinds them */
	ret = service_ip(rt, spec, true, err, err_len);
	json_decref(spec);
	if (!ret && tcp)
		ret = es_tcp_clock_catch_up(image_dir, err, err_len);
	if (ret)
		return ret;
	bundle_dir(rt, name, bundle, sizeof(bundle));
	snprintf(work, sizeof(work), "%s.work", image_dir);
	es_mkdir_p(work, 0700);
	ret = runc(rt, name, rt->cfg->restore_timeout_ms, ES_EXEC_NULL_STDIO, err, err_len,
		   tcp ? (const char *[]){ "restore", "--detach", "--tcp-established", "--bundle",
					   bundle, "--image-path", image_dir, "--work-path", work,
					   name, NULL }
		       : (const char *[]){ "restore", "--detach", "--bundle", bundle,
					   "--image-path", image_dir, "--work-path", work, name,
					   NULL });
	if (ret) {
		char log[ES_PATH + 64];

		snprintf(log, sizeof(log), "%s/restore.log", work);
		criu_reason(log, err, err_len);
	}
	return ret;
}

int es_container_checkpoint(struct es_runtime *rt, const char *name, const char *image_dir,
			    char *err, size_t err_len)
{
	char work[ES_PATH + 16];
	json_t *spec = es_container_spec(rt, name);
	bool tcp = spec && json_is_true(json_object_get(spec, "tcp_established"));

	char log[ES_PATH + 64], netns[ES_PATH];
	int ret;

	json_decref(spec);
	/* runc stats the netns path again: made anew if someone removed it */
	ret = rt->cfg->pod_conf ? 0 : es_node_netns_hold(rt, netns, sizeof(netns), err, err_len);
	if (ret)
		return ret;
	snprintf(work, sizeof(work), "%s.work", image_dir);
	es_mkdir_p(image_dir, 0700);
	es_mkdir_p(work, 0700);
	ret = runc(rt, name, rt->cfg->checkpoint_timeout_ms, 0, err, err_len,
		    tcp ? (const char *[]){ "checkpoint", "--leave-running", "--tcp-established",
					    "--image-path", image_dir, "--work-path", work, name,
					    NULL }
			: (const char *[]){ "checkpoint", "--leave-running", "--image-path",
					    image_dir, "--work-path", work, name, NULL });
	if (ret && err) {
		snprintf(log, sizeof(log), "%s/dump.log", work);
		criu_reason(log, err, err_len);
	}
	if (!ret && tcp) {
		ret = es_tcp_clock_note(image_dir);
		if (ret && err)
			snprintf(err, err_len, "noting the dump time in %s: %s", image_dir,
				 strerror(-ret));
	}
	return ret;
}

int es_container_pause(struct es_runtime *rt, const char *name, char *err, size_t err_len)
{
	int ret;

	if (rt->before_pause) {
		ret = rt->before_pause(rt->quiesce_arg, name, err, err_len);
		if (ret)
			return ret;
	}
	ret = runc(rt, name, QUICK_MS, 0, err, err_len, (const char *[]){ "pause", name, NULL });
	if (ret && rt->after_resume)
		rt->after_resume(rt->quiesce_arg, name);
	return ret;
}

int es_container_resume(struct es_runtime *rt, const char *name, char *err, size_t err_len)
{
	int ret;

	if (rt->before_resume)
		rt->before_resume(rt->quiesce_arg, name);
	ret = runc(rt, name, QUICK_MS, 0, err, err_len, (const char *[]){ "resume", name, NULL });
	if (rt->after_resume)
		rt->after_resume(rt->quiesce_arg, name);
	return ret;
}

int es_container_resume_if_paused(struct es_runtime *rt, const char *name, char *err,
				  size_t err_len)
{
	json_t *st = es_container_state(rt, name);
	bool paused = !strcmp(json_string_value(json_object_get(st, "status")) ?: "", "paused");
	int ret = 0;

	json_decref(st);
	if (paused) {
		ret = es_container_resume(rt, name, err, err_len);
		if (!ret) {
			es_warn("paused_container_resumed", "name=%s", name);
			ret = 1;
		}
	}
	return ret;
}

int es_container_destroy(struct es_runtime *rt, const char *name)
{
	char path[ES_PATH];
	char err[256];
	json_t *spec;
	int ret;

	if (!es_safe_name(name))
		return -EINVAL;
	/* first the address goes, so the dying copy cannot reset moved connections */
	spec = es_container_spec(rt, name);
	if (spec && service_ip(rt, spec, false, err, sizeof(err)))
		es_warn("service_ip_remove_failed", "name=%s error=\"%s\"", name, err);
	json_decref(spec);
	runc(rt, name, QUICK_MS, 0, NULL, 0, (const char *[]){ "delete", "--force", name, NULL });
	/* DEL after the container is gone, as a kubelet's runtime does */
	es_pod_net_del(rt->cfg, name);
	es_ct_path(rt, name, ES_CT_ROOTFS, path, sizeof(path));
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT)
		es_warn("container_umount_failed", "name=%s error=\"%s\"", name, strerror(errno));
	es_ct_path(rt, name, ES_CT_DIR, path, sizeof(path));
	ret = es_rm_rf(path);
	if (ret)
		es_warn("container_remove_failed", "name=%s error=\"%s\"", name, strerror(-ret));
	return ret;
}

json_t *es_container_spec(const struct es_runtime *rt, const char *name)
{
	char path[ES_PATH];

	es_ct_path(rt, name, ES_CT_SPEC, path, sizeof(path));
	return json_load_file(path, 0, NULL);
}

json_t *es_container_state(struct es_runtime *rt, const char *name)
{
	char root[ES_PATH], out[4096];
	json_t *st, *res;
	int ret;

	if (!es_container_exists(rt, name))
		return json_pack("{s:s,s:s}", "name", name, "status", "absent");
	snprintf(root, sizeof(root), "%s/runc", rt->cfg->state_dir);
	ret = es_exec((char *[]){ (char *)rt->cfg->runc, "--root", root, "state", (char *)name,
				  NULL }, QUICK_MS, ES_EXEC_CAPTURE_STDOUT, out, sizeof(out));
	st = ret ? NULL : json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
	res = json_pack("{s:s,s:s,s:I}", "name", name,
			"status", json_string_value(json_object_get(st, "status")) ?: "stopped",
			"pid", json_integer_value(json_object_get(st, "pid")));
	json_object_set_new(res, "spec", es_container_spec(rt, name) ?: json_null());
	json_decref(st);
	return res;
}

json_t *es_container_list(struct es_runtime *rt)
{
	json_t *list = json_array();
	char path[ES_PATH];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/containers", rt->cfg->state_dir);
	dir = opendir(path);
	while (dir && (d = readdir(dir)))
		if (es_safe_name(d->d_name))
			json_array_append_new(list, es_container_state(rt, d->d_name));
	if (dir)
		closedir(dir);
	return list;
}

/*
 * A pod no container owns: made by an incoming migration's prepare (in_pod.c)
 * whose staging the restart just dropped, or left by a start that died
 * between its ADD and its bundle. Its DEL frees what the plugins took.
 */
static void drop_orphan_pods(struct es_runtime *rt)
{
	char path[ES_PATH];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/pods", rt->cfg->state_dir);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		if (!es_safe_name(d->d_name) || es_container_exists(rt, d->d_name))
			continue;
		es_warn("orphan_pod_removed", "name=%s", d->d_name);
		es_pod_net_del(rt->cfg, d->d_name);
	}
	if (dir)
		closedir(dir);
}

void es_runtime_recover(struct es_runtime *rt)
{
	char path[ES_PATH];
	struct dirent *d;
	struct stat st;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/containers", rt->cfg->state_dir);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		if (!es_safe_name(d->d_name))
			continue;
		es_ct_path(rt, d->d_name, ES_CT_RESTORING, path, sizeof(path));
		if (lstat(path, &st))
			continue;
		es_warn("half_restored_container_removed", "name=%s", d->d_name);
		es_container_destroy(rt, d->d_name);
	}
	if (dir)
		closedir(dir);
	snprintf(path, sizeof(path), "%s/images", rt->cfg->state_dir);
	dir = opendir(path);
	while (dir && (d = readdir(dir)))
		if (!strncmp(d->d_name, ".in-", 4) && es_safe_name(d->d_name + 4)) {
			snprintf(path, sizeof(path), "%s/images/%s", rt->cfg->state_dir, d->d_name);
			es_rm_rf(path);	/* an image that was arriving */
		}
	if (dir)
		closedir(dir);
	snprintf(path, sizeof(path), "%s/migrations", rt->cfg->state_dir);
	es_rm_rf(path);
	es_mkdir_p(path, 0700);
	drop_orphan_pods(rt);
}
