// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fault hook of the test build (build/edgeshiftd-faults, never
 * installed): $EDGESHIFTD_FAULT, comma-separated, names the faults the
 * migration engine injects. The product links
 * agent/migration/mig_fault_off.c in its place.
 */
#include <stdlib.h>
#include <string.h>
#include "util/log.h"
#include "migration/migration.h"

/* The faults the engine knows; a name outside it is reported, not injected. */
static const char *const known[] = {
	"checkpoint_fail",	/* the checkpoint fails before the pause */
	"restore_slow",		/* the target's restore takes 12 s more */
	"restore_crash",	/* the target's agent exits right after runc restore */
	"restore_reply_lost",	/* the answer to the restore request is dropped */
	"restore_outcome_lost",	/* that answer and every status answer are dropped */
	"no_bundle",		/* the target takes no bundle, as an older agent */
	/* the source's worker waits 3 s at a step (once), for a test to kill an agent there */
	"stall_prepared",	/* the target accepted the migration */
	"stall_paused",		/* the container is paused, not yet checkpointed */
	"stall_transfer",	/* the writable layer is sent, the checkpoint not */
	"stall_restored",	/* the target runs the container, the source too */
	"stall_stop",		/* the source is about to be stopped */
	"verify_timed_out",	/* the target's first exactly-once check of a UDP session times out */
};

static const char *faults;

static bool listed(const char *list, const char *fault)
{
	size_t n = strlen(fault);
	const char *p;

	for (p = list; p && (p = strstr(p, fault)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

void es_mig_fault_init(void)
{
	size_t i;

	faults = getenv("EDGESHIFTD_FAULT");
	if (!faults)
		return;
	es_warn("fault_injection_enabled", "fault=%s", faults);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (listed(faults, known[i]))
			return;
	es_warn("fault_injection_unknown", "fault=%s", faults);
}

bool es_mig_fault(const char *fault)
{
	return listed(faults, fault);
}
