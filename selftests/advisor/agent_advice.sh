#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor served by edgeshiftd: the agent samples the blocks of
# its "advisor" configuration (the three-tier es-tier pipeline, real v1
# cgroups) on its own clock; with the logic tier held to a tenth of a CPU
# once the window holds only steady load, the first advice polled
# (`edgeshift advise --agent`, GET /v1/advice), then the table (with
# --patch) and the edgeshift_advice_* series must say: scale out logic,
# because of its CFS throttling. A bad "advisor" configuration is refused by name. About 12 s.
source "$(dirname "$0")/../lib.sh"
es_require_root
source "$(dirname "$0")/tiers.bash"

tiers_skip_without_v1
es_plan 11
trap 'tiers_cleanup; es_cleanup' EXIT

echo '{"advisor": {"blocks": [{"name": "x"}]}}' >"$ES_TMP/bad.json"
out=$("$ES_BUILD/edgeshiftd" --check-config -c "$ES_TMP/bad.json" 2>&1)
es_check "a block without a cgroup is refused by name" \
	grep -q "advisor.blocks\[0\]' must be" <<<"$out"
echo '{"advisor": {"blocks": [{"name": "x", "cgroup": "y", "link": 5}]}}' >"$ES_TMP/bad.json"
out=$("$ES_BUILD/edgeshiftd" --check-config -c "$ES_TMP/bad.json" 2>&1)
es_check "a link that is not an interface name is refused by name" \
	grep -q "advisor.blocks\[0\]' must be" <<<"$out"
echo '{"advisor": {"blocks": [{"name": "x", "cgroup": "y"}]}}' >"$ES_TMP/bad.json"
out=$("$ES_BUILD/edgeshiftd" --check-config -c "$ES_TMP/bad.json" 2>&1)
es_check "blocks without a performance are refused" \
	grep -q "advisor.performance' is needed with blocks" <<<"$out"

make_cgroups
# 12 samples of 500 ms: the window holds only steady load 7 s in, when the
# quota is set; the advice is polled from then on, as a controller would.
cat >"$ES_TMP/agent.json" <<JSON
{"advisor": {"interval_ms": 500, "samples": 12,
  "blocks": [{"name": "front", "cgroup": "$(cg front)"},
             {"name": "logic", "cgroup": "$(cg logic)"},
             {"name": "db", "cgroup": "$(cg db)"}],
  "performance": {"file": "$ES_TMP/perf", "kind": "latency"}}}
JSON
es_netns_add node || exit 1
es_agent_start node main -c "$ES_TMP/agent.json" || exit 1

tiers_run logic 7 13
sleep 7
# The first tier the CLI names (through GET /v1/advice) within 5 s of the quota.
for _ in $(seq 20); do
	j=$(es_in node "$ES_BUILD/edgeshift" advise --agent --json)
	rc=$?
	[ "$(jq -r '.scale_out // "none"' <<<"$j")" = none ] || break
	sleep 0.25
done
es_expect_eq "edgeshift advise --agent: scale out logic" "$(jq -r '.scale_out // "none"' <<<"$j")" logic
es_expect_eq "exit status 0 with a ranking" $rc 0
es_expect_eq "driven by its CFS throttling" "$(jq -r '.ranking[0].resource' <<<"$j")" cpu_throttled
es_check "the reason says so: $(jq -r .reason <<<"$j")" \
	grep -q '^logic: CPU throttled [0-9]* % of the window' <<<"$(jq -r .reason <<<"$j")"
es_expect_ge "the ring holds the window" "$(jq -r .samples_held <<<"$j")" 12
[ "$(jq -r .scale_out <<<"$j")" = logic ] || es_diag <<<"$j"
table=$(es_in node "$ES_BUILD/edgeshift" advise --agent --patch --replicas logic=2)
es_check "the table recommends logic first" grep -Eq '^1 +logic +scale_out' <<<"$table"
es_check "and prints the patch of logic's Deployment to 3 replicas" grep -Fq \
	"kubectl patch deployment logic --type merge -p '{\"spec\":{\"replicas\":3}}'" <<<"$table"
grep -q '^1 .*scale_out' <<<"$table" || es_diag <<<"$table"
es_expect_eq "edgeshift_advice_scale_out is 1 for logic" \
	"$(es_metric node 'edgeshift_advice_scale_out{node="'"$ES_PREFIX-node"'",block="logic"}')" 1
# The pipeline is not waited for: the cleanup kills its tiers, and the rest ends with them.
es_done
