/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The migration room's door: what the rest of the agent (the
 * zero-downtime state machine, the HTTP adapters, main.c) may use of the
 * migration engine. Files of other rooms include this header only.
 *
 * The engine speaks domain errors, not a transport's: every call that
 * can be refused returns an enum es_mig_err and writes the reason into a
 * message buffer (char *err, size_t err_len). An adapter (the HTTP API in
 * agent/api/) maps each error to its own status in one place.
 */
#ifndef EDGESHIFT_AGENT_MIGRATION_H
#define EDGESHIFT_AGENT_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "mig_config.h"
#include "container.h"
#include "event_log.h"
#include "transfer.h"
#include "stream_unpack.h"
#include "in_object.h"
#include "bundle.h"
#include "migrate.h"
#include "pod_net.h"

#endif
