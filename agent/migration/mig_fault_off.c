// SPDX-License-Identifier: GPL-2.0-only
/*
 * The product's fault hook: no fault is ever injected. The test build
 * (edgeshiftd-faults) links agent/testing/mig_fault.c instead, so nothing
 * a node's environment holds can make the product crash or stall on
 * purpose.
 */
#include "migrate.h"

bool es_mig_fault(const char *fault)
{
	(void)fault;
	return false;
}

void es_mig_fault_init(void)
{
}
