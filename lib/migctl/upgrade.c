// SPDX-License-Identifier: GPL-2.0-only
/*
 * An agent of another version starting on the pins of the one before: the
 * migration programs already attached keep running until the new ones take
 * their place. Maps of another layout (ES_MIG_LAYOUT_VERSION) cannot be
 * reused by the new object; they are replaced when no migration is under
 * way and kept, with the agent refusing, when one is. The links are then
 * swapped to the new programs in place (es_mig_link_update), never
 * detached: the interfaces see no moment without a program.
 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <edgeshift/migration.h>
#include "upgrade.h"

/* The migration maps' pins, as es_mig_load pins them. */
const char *const es_mig_map_pins[] = {
	"es_mig_sessions", "es_mig_replay", "es_mig_services", "es_mig_remote",
	"es_mig_config", "es_mig_events", "es_mig_held", "es_mig_sent", "es_mig_rseen",
	"es_mig_tcpblk", "es_mig_xlate", "es_mig_rclaim",
};
const size_t es_mig_n_map_pins = sizeof(es_mig_map_pins) / sizeof(es_mig_map_pins[0]);

/* Maps whose entries are a migration under way (or a connection it translates). */
static const char *const in_flight[] = {
	"es_mig_sessions", "es_mig_remote", "es_mig_held", "es_mig_xlate",
};

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
/* Larger than any key or es_mig_config value of any layout so far. */
#define PIN_BUF		512

static int open_map_pin(const char *pin_path, const char *name, struct bpf_map_info *info)
{
	char path[PATH_MAX];
	__u32 len = sizeof(*info);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_path, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	if (bpf_map_get_info_by_fd(fd, info, &len)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* The layout version of the pinned es_mig_config, 0 when it has none, -errno when absent. */
static int pinned_layout(const char *pin_path, bool *same_size)
{
	struct bpf_map_info info;
	__u8 value[PIN_BUF] = { 0 };
	__u32 zero = 0, version = 0;
	int fd;

	fd = open_map_pin(pin_path, "es_mig_config", &info);
	if (fd < 0)
		return fd;
	if (info.value_size >= sizeof(version) && info.value_size <= sizeof(value) &&
	    !bpf_map_lookup_elem(fd, &zero, value))
		memcpy(&version, value, sizeof(version));
	*same_size = info.value_size == sizeof(struct es_mig_node_config);
	close(fd);
	return (int)version;
}

/* Entries of a migration under way in the pinned maps: 0 when none. */
static int entries_in_flight(const char *pin_path, const char **which)
{
	struct bpf_map_info info;
	__u8 key[PIN_BUF];
	size_t i;
	int fd, found;

	for (i = 0; i < ARRAY_LEN(in_flight); i++) {
		fd = open_map_pin(pin_path, in_flight[i], &info);
		if (fd == -ENOENT)
			continue;
		if (fd < 0)
			return fd;
		found = info.key_size > sizeof(key) ? -EINVAL : !bpf_map_get_next_key(fd, NULL, key);
		close(fd);
		if (found < 0)
			return found;
		if (found) {
			*which = in_flight[i];
			return 1;
		}
	}
	return 0;
}

int es_mig_pins_upgrade(const char *pin_path, unsigned int *rebuilt_from, char *err,
			size_t err_len)
{
	const char *which = NULL;
	char path[PATH_MAX];
	bool same_size = false;
	int version, ret;
	size_t i;

	*rebuilt_from = 0;
	version = pinned_layout(pin_path, &same_size);
	if (version == -ENOENT || (version == ES_MIG_LAYOUT_VERSION && same_size))
		return 0;	/* a first start, or pins this object reuses */
	if (version < 0) {
		if (err)
			snprintf(err, err_len, "cannot read the pinned es_mig_config in %s: %s",
				 pin_path, strerror(-version));
		return version;
	}
	ret = entries_in_flight(pin_path, &which);
	if (ret) {
		if (err)
			snprintf(err, err_len, "pinned migration maps in %s have layout %d, this "
				 "agent's is %u, and %s holds a migration under way: let the agent "
				 "that made it finish or abort it, or remove the pins "
				 "(es-migctl cleanup --pin %s); its programs keep forwarding meanwhile",
				 pin_path, version, ES_MIG_LAYOUT_VERSION,
				 ret > 0 ? which : "a map that cannot be read", pin_path);
		return ret > 0 ? -EBUSY : ret;
	}
	for (i = 0; i < es_mig_n_map_pins; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_path, es_mig_map_pins[i]);
		if (unlink(path) && errno != ENOENT) {
			ret = -errno;
			if (err)
				snprintf(err, err_len, "cannot remove the old pin %s: %s", path,
					 strerror(-ret));
			return ret;
		}
	}
	*rebuilt_from = version;
	return 1;
}
