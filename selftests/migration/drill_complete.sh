#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The zero-downtime migration drill in complete mode (the image travels
# too) at 10 and 100 requests per second: 0 lost, 0 answered twice, the
# counter equals the requests sent, the old container stopped only after
# the new one answered.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_complete
command -v criu >/dev/null || { es_plan 1; es_skip drill_complete "criu missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 8

drill_run c10 --mode complete --rate 10 --count 80 --handoff-at 30
drill_expect_done "complete, 10/s"
drill_run c100 --mode complete --rate 100 --count 400 --handoff-at 100
drill_expect_done "complete, 100/s"
es_done
