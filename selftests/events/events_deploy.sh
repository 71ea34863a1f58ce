#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# deploy/'s Knative wiring holds together: valid YAML; the SinkBinding's
# subject is the agent's DaemonSet; its Broker is the Trigger's; the
# Trigger filters on a type the agent emits; the DaemonSet keeps the
# spool's directory on the host; the K_CE_OVERRIDES the SinkBinding makes
# from ceOverrides is one the agent accepts.
. "$(dirname "$0")/../lib.sh"
es_plan 6
D=$ES_ROOT/deploy
if command -v yamllint >/dev/null; then
	es_check "valid YAML" yamllint -d relaxed "$D/events-sinkbinding.yaml" "$D/events-trigger.yaml"
else
	es_skip "valid YAML" "no yamllint (tools/setup/install-deps installs it)"
fi
doc() {	# FILE KIND: that document as JSON
	python3 -c 'import sys, yaml, json
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == sys.argv[2]: print(json.dumps(d)); break' "$1" "$2"
}
sb=$(doc "$D/events-sinkbinding.yaml" SinkBinding)
ds=$(doc "$D/edgeshiftd-daemonset.yaml" DaemonSet)
tr=$(doc "$D/events-trigger.yaml" Trigger)
# every check below compares what these documents say: without them (no
# python3 yaml, a kind renamed) each would compare nothing with nothing
for d in sb ds tr; do
	[ -n "${!d}" ] || es_not_ok "deploy/'s $d document read" "empty: python3 -c 'import yaml' fails or the kind is gone"
done
es_expect_eq "the SinkBinding's subject is the agent's DaemonSet" \
	"$(jq -r '"\(.metadata.namespace)/\(.spec.subject.kind)/\(.spec.subject.name)"' <<<"$sb")" \
	"$(jq -r '"\(.metadata.namespace)/\(.kind)/\(.metadata.name)"' <<<"$ds")"
es_expect_eq "the SinkBinding's Broker is the Trigger's" \
	"$(jq -r '"\(.spec.sink.ref.namespace)/\(.spec.sink.ref.name)"' <<<"$sb")" \
	"$(jq -r '"\(.metadata.namespace)/\(.spec.broker)"' <<<"$tr")"
type=$(jq -r '.spec.filter.attributes.type // empty' <<<"$tr")
es_check "the Trigger's type ($type) is one the agent emits" \
	grep -q "\"${type:-no type in the Trigger}\"" "$ES_ROOT/agent/events/events_config.c"
es_expect_eq "the spool's directory is on the host" \
	"$(jq -r '.spec.template.spec.volumes[] | select(.hostPath.path == "/var/lib/edgeshift") | .name' <<<"$ds")" state
over=$(jq -c '{extensions: .spec.ceOverrides.extensions}' <<<"$sb")
echo '{}' >"$ES_TMP/c.json"
out=$(env K_SINK=http://broker-ingress.knative-eventing.svc.cluster.local/edge-functions/edge-events \
	K_CE_OVERRIDES="$over" "$ES_BUILD/edgeshiftd" -c "$ES_TMP/c.json" --check-config 2>&1)
es_expect_eq "the agent accepts the SinkBinding's K_SINK and K_CE_OVERRIDES (with extensions)" \
	"$?/$(grep -c '^events: to http://broker-ingress' <<<"$out")/$(jq '.extensions | length > 0' <<<"$over" 2>/dev/null)" \
	"0/1/true"
es_done
