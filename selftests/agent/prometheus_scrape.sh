#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A real Prometheus (Debian's package) scrapes the agent; its queries return
# what the agent counted.
. "$(dirname "$0")/../lib.sh"
es_require_root prometheus_scrape
if ! command -v prometheus >/dev/null; then
	es_plan 1
	es_skip "prometheus scrape" "prometheus is not installed (tools/setup/install-deps installs it)"
	exit 0
fi
es_plan 7

es_netns_add a && es_netns_add b || exit 1
es_no_ipv6 a b
es_veth a va 10.245.0.1 b vb 10.245.0.2 || exit 1
VB=$(es_ifname vb)
es_agent_start b main -i "$VB=shop/cart" || exit 1

es_prometheus_start b edgeshift "127.0.0.1:$ES_AGENT_PORT"
query() {
	es_in b curl -sf -m 5 --data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query
}
value() { query "$1" | jq -r '.data.result[0].value[1] // "none"'; }

up=none
for i in $(seq 100); do
	up=$(value 'up{job="edgeshift"}')
	[ "$up" = 1 ] && break
	sleep 0.2
done
es_expect_eq "prometheus scrapes the agent (up == 1)" "$up" 1

es_in a ping -q -c 5 -i 0.2 10.245.0.2 >/dev/null
SEL="interface=\"$VB\",direction=\"rx\""
ok=0
for i in $(seq 10); do
	sleep 1.2
	want=$(es_metric b "edgeshift_interface_packets_total{node=\"$ES_PREFIX-b\",interface=\"$VB\",namespace=\"shop\",pod=\"cart\",direction=\"rx\"}")
	got=$(value "edgeshift_interface_packets_total{$SEL}")
	[ "$got" = "$want" ] && { ok=1; break; }
done
es_expect_eq "queried rx packets equal the agent's counter" "$got" "$want"
es_expect_ge "and they include the 5 echo requests" "$got" 5
es_expect_eq "service latency samples: one per echo" \
	"$(value "sum(edgeshift_latency_seconds_count{interface=\"$VB\",kind=\"service\"})")" 5
es_expect_eq "pod label carried" \
	"$(value "edgeshift_pod_bytes_total{namespace=\"shop\",pod=\"cart\",direction=\"rx\"} > 0" | grep -c .)" 1
es_expect_eq "one active ICMP session" \
	"$(value "edgeshift_sessions_active{interface=\"$VB\",protocol=\"icmp\"}")" 1
es_expect_eq "histogram quantile computes" \
	"$(query "histogram_quantile(0.5, sum by (le) (edgeshift_latency_seconds_bucket{interface=\"$VB\",kind=\"service\"}))" | jq -r '.data.result | length')" 1
es_done
