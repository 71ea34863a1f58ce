/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The core room, its only door: the agent context (agent.h), the
 * configuration that composes every room's part (config.h), the scale
 * advisor's sampler (advisor.h), interface
 * discovery (iface_watch.h) and edgeshift-cni's pods (pods.h). Core sits
 * above accounting, signals, migration and zdm; only api and main.c are
 * above it.
 */
#ifndef EDGESHIFT_CORE_H
#define EDGESHIFT_CORE_H

#include "advisor.h"
#include "agent.h"
#include "config.h"
#include "iface_watch.h"
#include "pods.h"

#endif /* EDGESHIFT_CORE_H */
