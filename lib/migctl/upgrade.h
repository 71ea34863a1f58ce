/* SPDX-License-Identifier: GPL-2.0-only */
/* The migration maps' pins, and those of an agent of another version (upgrade.c). */
#ifndef EDGESHIFT_MIGCTL_UPGRADE_H
#define EDGESHIFT_MIGCTL_UPGRADE_H

#include <stddef.h>

/* The migration maps' pin names under a pin directory. */
extern const char *const es_mig_map_pins[];
extern const size_t es_mig_n_map_pins;

/*
 * Before es_mig_load on pins an agent of another version made: maps of
 * another layout are unpinned when no migration is under way, so the load
 * makes new ones: 1, *rebuilt_from their layout (0 when they had none
 * written). 0 when the pins are reused or absent; with a migration under
 * way -EBUSY and err says what to do, the pins untouched; other -errno.
 */
int es_mig_pins_upgrade(const char *pin_path, unsigned int *rebuilt_from, char *err,
			size_t err_len);

#endif /* EDGESHIFT_MIGCTL_UPGRADE_H */
