#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Fault injection lives in the test build only (docs/migration.md, "Fault
# injection (test builds only)"): the product binary cannot read
# $EDGESHIFTD_FAULT at all, the test build edgeshiftd-faults can.
. "$(dirname "$0")/../lib.sh"

es_plan 3
es_expect_eq "edgeshiftd does not hold the string EDGESHIFTD_FAULT" \
	"$(grep -c EDGESHIFTD_FAULT "$ES_BUILD/edgeshiftd")" 0
n=$(grep -c EDGESHIFTD_FAULT "$ES_BUILD/edgeshiftd-faults")
if [ "${n:-0}" -gt 0 ]; then es_ok "edgeshiftd-faults reads EDGESHIFTD_FAULT"
else es_not_ok "edgeshiftd-faults reads EDGESHIFTD_FAULT" "not in the test build"; fi
# edgeshiftd itself in the same listing: an empty one would pass otherwise
inst=$(make -C "$ES_ROOT" -s -n install DESTDIR=/nonexistent 2>/dev/null)
es_expect_eq "edgeshiftd-faults is not installed (edgeshiftd is)" \
	"$(grep -c "^install.*edgeshiftd-faults" <<<"$inst") \
$(grep -cE "^install .*/edgeshiftd( |$)" <<<"$inst")" "0 1"
es_done
