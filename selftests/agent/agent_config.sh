#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad configuration is refused before anything is loaded, with a message
# that names the field; good configuration passes --check-config.
. "$(dirname "$0")/../lib.sh"
es_require_root agent_config

cases=(
	'{"session_map_size": 10}|session_map_size|must be an integer from 1024'
	'{"session_map_size": "big"}|session_map_size|must be an integer'
	'{"sesion_map_size": 65536}|sesion_map_size|is not a known field'
	'{"interfaces": "eth0"}|interfaces|must be an array'
	'{"interfaces": [{"pod": "a/b"}]}|interfaces[0].match|is required'
	'{"interfaces": [{"match": "eth0", "pod": "nopod"}]}|interfaces[0].pod|namespace/name'
	'{"interfaces": [{"match": "eth0", "colour": 1}]}|interfaces[0].colour|not a known field'
	'{"on_layout_mismatch": "ignore"}|on_layout_mismatch|"rebuild" or "refuse"'
	'{"session_table": "lru"}|session_table|"maps" or "slots"'
	'{"session_table": true}|session_table|"maps" or "slots"'
	'{"metrics": {"per_session": 1}}|metrics.per_session|true or false'
	'{"request_latency": "off"}|request_latency|true or false'
	'{"tcp_request_latency": 1}|tcp_request_latency|true or false'
	'{"listen": "localhost"}|listen|address:port'
	'{"pin_path": "relative/dir"}|pin_path|absolute path'
	'{"idle_timeout_ms": 5000, "closed_linger_ms": 9000}|closed_linger_ms|below idle_timeout_ms'
	'{"node_name": 42}|node_name|must be a string'
	'{"migration": {"criu_network_lock": "pf"}}|migration.criu_network_lock|"nftables" or "iptables"'
	'{"zero_downtime": {"tunnel_addr": "10.0.0.1", "replay_order": "fifo"}}|zero_downtime.replay_order|"arrival" or "connection"'
	'{"zero_downtime": {"tunnel_addr": "10.0.0.1", "services": [{"service": "10.4.0.10:0", "container": "c", "node": "n"}]}}|zero_downtime.services[0].service|"ADDR:port"'
	'{"zero_downtime": {"tunnel_addr": "10.0.0.1", "services": [{"service": "[10.4.0.10]:7000", "container": "c", "node": "n"}]}}|zero_downtime.services[0].service|IPv6 as [ADDR]'
	'{"zero_downtime": {"tunnel_addr": "10.0.0"}}|zero_downtime.tunnel_addr|IPv4 or IPv6 address'
	'{"migration": {"peers": {"n2": "http://[fd00::2]:9464"}}, "zero_downtime": {"tunnel_addr": "10.0.0.1"}}|zero_downtime.tunnel_addr|peer n2'"'"'s URL names an IPv6 address'
	'{"migration": {"peers": {"n2": "http://10.0.0.2:9464"}}, "zero_downtime": {"tunnel_addr": "fd00::1"}}|zero_downtime.tunnel_addr|is IPv6, but peer n2'"'"'s URL names an IPv4 address'
	'{"gc_interval_ms": 5, }|line 1|'
	'[1, 2]|top level|JSON object'
	'{"a": 1, "a": 2}|duplicate|'
)
es_plan $(( ${#cases[@]} + 6 ))

cfg=$ES_TMP/config.json
for c in "${cases[@]}"; do
	IFS='|' read -r json field msg <<<"$c"
	printf '%s\n' "$json" >"$cfg"
	out=$("$ES_BUILD/edgeshiftd" --config "$cfg" --check-config 2>&1)
	rc=$?
	if [ $rc = 2 ] && grep -qF -- "$field" <<<"$out" && grep -qF -- "$msg" <<<"$out"; then
		es_ok "refused: $json"
	else
		es_not_ok "refused: $json" "exit $rc, output: $out"
	fi
done

out=$("$ES_BUILD/edgeshiftd" --config /nonexistent/edgeshift.json --check-config 2>&1)
if [ $? = 2 ] && grep -q "/nonexistent/edgeshift.json" <<<"$out"; then
	es_ok "missing config file named in the error"
else
	es_not_ok "missing config file named in the error" "$out"
fi
out=$("$ES_BUILD/edgeshiftd" --session-map-size 12 --check-config 2>&1)
if [ $? = 2 ] && grep -q -- "--session-map-size" <<<"$out"; then
	es_ok "bad flag value refused"
else
	es_not_ok "bad flag value refused" "$out"
fi

cat >"$cfg" <<JSON
{
	"node_name": "edge-1",
	"pin_path": "$(es_pin_path cfg)",
	"listen": "[::1]:9464",
	"session_map_size": 131072,
	"interfaces": ["eth*", {"match": "veth1234", "pod": "default/web"}],
	"idle_timeout_ms": 60000,
	"closed_linger_ms": 500,
	"gc_interval_ms": 500,
	"on_layout_mismatch": "refuse",
	"metrics": {"per_session": true, "per_session_max": 50},
	"request_latency": false,
	"session_table": "slots"
}
JSON
es_check "full valid config accepted" "$ES_BUILD/edgeshiftd" --config "$cfg" --check-config

# A bad config must leave nothing behind: no pins, no attachment.
printf '{"session_map_size": 1}\n' >"$cfg"
"$ES_BUILD/edgeshiftd" --config "$cfg" -p "$(es_pin_path bad)" >/dev/null 2>&1
if [ ! -e "$(es_pin_path bad)" ]; then es_ok "refused config created no pins"
else es_not_ok "refused config created no pins"; fi

# The listen address is checked when the agent starts, before it serves.
es_netns_add c || exit 1
es_in c "$ES_BUILD/edgeshiftd" -p "$(es_pin_path lst)" -l "300.1.1.1:80" \
	--state-dir "$ES_TMP/state" --cni-state-dir "$ES_TMP/cni" >"$ES_TMP/lst.log" 2>&1
rc=$?
ES_PINS+=("$(es_pin_path lst)")
if [ $rc != 0 ] && grep -q "listen" "$ES_TMP/lst.log"; then es_ok "unusable listen address refused"
else es_not_ok "unusable listen address refused" "$(cat "$ES_TMP/lst.log")"; fi

# zero_downtime names an interface the node lacks: found only at start,
# after the migration programs loaded; the agent says which, exits 1 (not
# a crash on the way out) and removes what it pinned.
printf '{"zero_downtime": {"tunnel_addr": "10.0.0.1", "user_interfaces": ["nosuch0"]}}\n' \
	>"$ES_TMP/zdm.json"
es_in c "$ES_BUILD/edgeshiftd" --config "$ES_TMP/zdm.json" -p "$(es_pin_path zdm)" \
	-l 127.0.0.1:9464 --state-dir "$ES_TMP/state" --cni-state-dir "$ES_TMP/cni" >"$ES_TMP/zdm.log" 2>&1
rc=$?
ES_PINS+=("$(es_pin_path zdm)")
if [ $rc = 1 ] && grep -q "zero_downtime: no interface nosuch0" "$ES_TMP/zdm.log" &&
   [ ! -e "$(es_pin_path zdm)" ]; then
	es_ok "a missing zero_downtime interface refused at start, its pins removed"
else
	es_not_ok "a missing zero_downtime interface refused at start, its pins removed" \
		"exit $rc: $(tail -3 "$ES_TMP/zdm.log")"
fi
es_done
