/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A recommendation's reason in words (lib/advisor/say.c), shared by the
 * ranking (recommend.c) and Paper E's trap (trap.c), which overwrites it.
 */
#ifndef EDGESHIFT_ADVISOR_SAY_H
#define EDGESHIFT_ADVISOR_SAY_H

#include "advisor/advisor.h"

/* Writes r->reason, cut at ES_ADV_REASON_LEN: a long block name must not fail the advice. */
void es_adv_say(struct es_adv_reco *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
