#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `edgeshift zdm` with the target node's agent killed at each step
# (selftests/migration/zdm_kill.inc says which and what is checked).
. "$(dirname "$0")/../lib.sh"
es_require_root zdm_kill_target
command -v criu >/dev/null || { es_plan 1; es_skip zdm_kill_target "criu missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
# shellcheck source=selftests/migration/zdm_kill.inc
. "$(dirname "$0")/zdm_kill.inc"
zdm_kill_plan
zdm_kill_run target
es_done
