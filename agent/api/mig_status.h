/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP status of each domain error of the migration engine and the
 * zero-downtime state machine (migration/migration.h): the one place where
 * their answers get a status, for /v1/migrations, /v1/containers and
 * /v1/zdm alike.
 */
#ifndef EDGESHIFT_MIG_STATUS_H
#define EDGESHIFT_MIG_STATUS_H

#include "migration/migration.h"

unsigned int es_mig_http_status(enum es_mig_err e);

#endif
