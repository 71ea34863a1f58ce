/* SPDX-License-Identifier: GPL-2.0-only */
/* Names of migration states and abort reasons; session keys as text. */
#ifndef EDGESHIFT_MIGCTL_NAMES_H
#define EDGESHIFT_MIGCTL_NAMES_H

#include <stddef.h>
#include <edgeshift/migration.h>

const char *es_mig_state_name(unsigned int state);
const char *es_mig_abort_name(unsigned int reason);
/* The same reason in words, for an error a person reads. */
const char *es_mig_abort_why(unsigned int reason);
/* "user:port>svc:port/udp" -> key; 0 or -EINVAL (err names the field). */
int es_mig_key_parse(const char *text, struct es_mig_key *key, char *err, size_t err_len);
void es_mig_key_format(const struct es_mig_key *key, char *buf, size_t len);

#endif /* EDGESHIFT_MIGCTL_NAMES_H */
