/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The accounting skeleton with what every loader of it needs: the shared
 * structs before the skeleton (its .bss holds some of them) and one place
 * that sizes the four session maps.
 */
#ifndef EDGESHIFT_ACCOUNTING_SKEL_H
#define EDGESHIFT_ACCOUNTING_SKEL_H

#include <edgeshift/session.h>
#include "accounting.skel.h"

/* Call between open and load: max_entries of each session and state map. */
static inline void es_accounting_size_sessions(struct accounting *skel, __u32 entries)
{
	bpf_map__set_max_entries(skel->maps.es_sessions4, entries);
	bpf_map__set_max_entries(skel->maps.es_sessions6, entries);
	bpf_map__set_max_entries(skel->maps.es_session_state4, entries);
	bpf_map__set_max_entries(skel->maps.es_session_state6, entries);
}

#endif /* EDGESHIFT_ACCOUNTING_SKEL_H */
