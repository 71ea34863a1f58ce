#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The agent image (tools/image/build.sh, `make image`) run with podman
# exactly as deploy/edgeshiftd-daemonset.yaml runs it: tools/image/ds-podman.py
# reads the command, args, env, securityContext, mounts and grace period
# from the manifest (and the config from its ConfigMap), so the two cannot
# drift. Differences, all of this machine and none of the manifest: the
# node's network is a test namespace (the pod's hostNetwork), the node's
# /var/lib/edgeshift is a directory of the test's (--host-path), the ConfigMap's
# pin_path and interface patterns name this run's pin directory and veth,
# and the rlimits fit a host without CAP_SYS_RESOURCE. Traffic crosses the
# interface the agent attached to, /metrics is scraped, then a rolling
# update (podman stop, a new container from the image's next tag) runs
# under traffic: no packet lost, every counter continues.
. "$(dirname "$0")/../lib.sh"
es_require_root agent_image
if ! command -v podman >/dev/null || ! command -v buildah >/dev/null ||
	! python3 -c 'import yaml' 2>/dev/null; then
	es_plan 1; es_skip agent_image "podman, buildah or python3-yaml missing (tools/setup/install-deps)"; exit 0
fi
es_plan 16

MANIFEST=$ES_ROOT/deploy/edgeshiftd-daemonset.yaml
IMAGE=localhost/$ES_PREFIX/edgeshiftd
NODE=$ES_PREFIX-node
NET=10.252.$((RANDOM % 250))
HOST_IP=$NET.2
CT=$ES_PREFIX-edgeshiftd
PIN=$(es_pin_path img)
ES_PINS+=("$PIN")
T=$ES_BUILD/es-traffic
img_cleanup() {
	podman rm -f -t 0 "$CT-1" "$CT-2" >/dev/null 2>&1
	podman rmi -f "$IMAGE:1" "$IMAGE:2" >/dev/null 2>&1
	es_cleanup
}
trap img_cleanup EXIT

es_netns_add n && es_netns_add c || exit 1
es_veth c vc "$NET.1" n vn "$HOST_IP" || exit 1
VN=$(es_ifname vn)

bash "$ES_ROOT/tools/image/build.sh" --build "$ES_BUILD" --tag "$IMAGE:1" >"$ES_TMP/build.log" 2>&1
es_expect_eq "the image builds from the project's binaries and Debian's libraries" "$?" 0
podman tag "$IMAGE:1" "$IMAGE:2"
es_expect_eq "the image records the Debian packages its libraries came from" \
	"$(podman image inspect "$IMAGE:1" | jq -r '.[0].Labels["io.edgeshift.debian-packages"]' | grep -c libc6)" 1

# ds_run N: container N of the DaemonSet's pod, image tag N
ds_run() {
	local args
	args=$(python3 "$ES_ROOT/tools/image/ds-podman.py" "$MANIFEST" --name "$CT-$1" \
		--node-name "$NODE" --host-ip "$HOST_IP" --configmap-dir "$ES_TMP/configmap" \
		--netns "/run/netns/$(es_ns n)" --image "$IMAGE:$1" \
		--host-path "/var/lib/edgeshift=$ES_TMP/node-state" \
		--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=16384:16384) || return 1
	echo "$args" >"$ES_TMP/podman-$1.json"
	# the ConfigMap as the operator adapts it: this run's pins and veth
	jq --arg p "$PIN" --arg i "$VN" '.pin_path = $p | .interfaces = [$i]' \
		"$ES_TMP/configmap/config.json" >"$ES_TMP/config.tmp" &&
		mv "$ES_TMP/config.tmp" "$ES_TMP/configmap/config.json"
	mapfile -t argv < <(jq -r '.[]' <<<"$args")
	podman "${argv[@]}" >/dev/null || return 1
	for _ in $(seq 150); do
		es_in n curl -sf -m 1 "http://$HOST_IP:9464/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	podman logs "$CT-$1" 2>&1 | es_diag
	return 1
}
# rx_packets: edgeshift_interface_packets_total of the veth, direction rx
rx_packets() {
	es_in n curl -sf -m 5 "http://$HOST_IP:9464/metrics" |
		awk -v i="interface=\"$VN\"" 'index($0, "edgeshift_interface_packets_total{") == 1 &&
			index($0, i) && index($0, "direction=\"rx\"") { print $NF; exit }'
}

ds_run 1
es_expect_eq "the pod's container answers /healthz on HOST_IP:9464" "$?" 0
es_expect_eq "run as the manifest says: privileged, BPF PERFMON NET_ADMIN SYS_ADMIN, bpffs rshared" \
	"$(jq -c '[index("--privileged") != null, ([.[]] | map(select(startswith("CAP_"))) | sort),
		(.[] | select(startswith("/sys/fs/bpf:")))]' "$ES_TMP/podman-1.json")" \
	'[true,["CAP_BPF","CAP_NET_ADMIN","CAP_PERFMON","CAP_SYS_ADMIN"],"/sys/fs/bpf:/sys/fs/bpf:rw,rshared"]'
es_expect_eq "node name from spec.nodeName, the interface attached" \
	"$(es_in n curl -sf -m 5 "http://$HOST_IP:9464/v1/status" | jq -r '"\(.node) \([.interfaces[].name] | join(","))"')" \
	"$NODE $VN"
# the node's state directory (hostPath /var/lib/edgeshift) is the test's:
# the agent writes its CRIU configuration there at start
es_expect_eq "the node's /var/lib/edgeshift is the test's directory" \
	"$(jq -r '.[] | select(startswith("'"$ES_TMP"'/node-state:"))' "$ES_TMP/podman-1.json" |
		cut -d: -f2) $(test -s "$ES_TMP/node-state/criu.conf" && echo written)" \
	"/var/lib/edgeshift written"
podman exec "$CT-1" edgeshift sessions --json >"$ES_TMP/exec.out" 2>&1
rc=$?
es_expect_eq "edgeshift in the container reaches the agent through EDGESHIFT_API" "$rc" 0
[ "$rc" = 0 ] || es_diag <"$ES_TMP/exec.out"

es_bg es_in n "$T" udp-server --port 7300 --timeout 60
es_wait_listen n u 7300
es_in c ping -q -c 5 -i 0.1 "$HOST_IP" >/dev/null
before=$(rx_packets)
es_expect_ge "/metrics counts the pings on $VN" "${before:-0}" 5

es_bg --out "$ES_TMP/client.json" es_in c "$T" udp-client --to "$HOST_IP" --port 7300 \
	--count 1000 --size 64 --rate 200 --timeout 30 --json
client=$ES_BG_PID
sleep 1
# the rolling update: the old pod stops (SIGTERM, the grace period), the
# new one starts from the next image; the data plane counts on meanwhile
last=$(rx_packets)
podman stop "$CT-1" >/dev/null
es_expect_eq "the old container exits 0 on SIGTERM" "$(podman inspect "$CT-1" | jq '.[0].State.ExitCode')" 0
ds_run 2
es_expect_eq "the new container from the next image answers /healthz" "$?" 0
es_expect_eq "the new agent adopted the pinned links" \
	"$(podman logs "$CT-2" 2>&1 | grep -c 'adopted_links=2')" 1
wait "$client"
es_expect_eq "no packet lost across the update (1000 requests, 1000 replies)" \
	"$(jq .received "$ES_TMP/client.json")" 1000
sleep 0.3
es_expect_eq "the session's counters continued: rx 1000, tx 1000" \
	"$(es_in n curl -sf -m 5 "http://$HOST_IP:9464/v1/sessions?proto=udp" |
		jq -r '[.sessions[] | select(.endpoint_hi | endswith(":7300"))][0] | "\(.rx.packets) \(.tx.packets)"')" \
	"1000 1000"
after=$(rx_packets)
es_expect_ge "the interface counter did not go back across the update" "${after:-0}" "$last"
es_expect_ge "and counted all 1000 requests" "${after:-0}" $((before + 1000))
podman stop "$CT-2" >/dev/null
es_expect_eq "the new container exits 0 on SIGTERM" "$(podman inspect "$CT-2" | jq '.[0].State.ExitCode')" 0
es_done
