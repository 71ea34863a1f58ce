/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The options CRIU gets that runc has no flag for. runc starts CRIU for
 * every checkpoint and restore; CRIU reads the file CRIU_CONFIG_FILE
 * names, in its RPC mode too, so the agent writes one into its state
 * directory and names it in its own environment, which runc and CRIU
 * inherit. (runc's own way, a container annotation org.criu.config,
 * crashes CRIU 4.1.1 in its RPC mode.)
 */
#ifndef EDGESHIFT_CRIU_CONF_H
#define EDGESHIFT_CRIU_CONF_H

#include <stddef.h>
#include "mig_config.h"

/*
 * Write STATE_DIR/criu.conf from cfg and set CRIU_CONFIG_FILE to it,
 * unless the agent was started with CRIU_CONFIG_FILE set (the operator's
 * file is used, said in the log). 0, or -errno with err.
 */
int es_criu_conf_install(const struct es_mig_config *cfg, char *err, size_t err_len);

#endif
