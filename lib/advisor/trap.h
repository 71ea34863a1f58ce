/* SPDX-License-Identifier: GPL-2.0-only */
/* Paper E's trap, inside the recommendation (lib/advisor/trap.c). */
#ifndef EDGESHIFT_ADVISOR_TRAP_H
#define EDGESHIFT_ADVISOR_TRAP_H

#include "advisor/advisor.h"

/*
 * After res->reco[0] says scale out: when that block's last scale-out
 * stopped helping, holds it, says why (words: "the rise of ..."), and sets
 * res->trap and res->dependency. 1 when it did, 0 otherwise.
 */
int es_adv_trap(const struct es_adv_block *blocks, const struct es_adv_perf_desc *d,
		struct es_adv_result *res, const char *words);

/*
 * Every other block held whose last scale-out stopped helping: its reason
 * starts by saying so (after es_adv_trap, or with nothing scaled out).
 */
void es_adv_trap_note(const struct es_adv_block *blocks, const struct es_adv_perf_desc *d,
		      struct es_adv_result *res);

#endif
