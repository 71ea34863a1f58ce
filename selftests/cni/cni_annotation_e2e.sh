#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-cni end to end: the delegate chosen by the pod annotation
# edgeshift.io/network, read through a kubeconfig (CA made here, bearer
# token) from a Kubernetes API stand-in over HTTPS; CNI_ARGS and the
# default when there is no annotation; API unreachable, silent or refusing
# the token gives code 120 within the plugin's timeout and leaves nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni annotation e2e"
cni_require "cni annotation e2e"
es_plan 13
cni_host || exit 1
STANDIN=$(dirname "$0")/cni_standin.py
K=$ES_TMP/kube
mkdir -p "$K/pods/ns1"
(
	cd "$K" || exit 1
	ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj /CN=es-test-ca &&
	printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext &&
	openssl req "${ec[@]}" -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
		-days 2 -extfile srv.ext
) >"$ES_TMP/pki.log" 2>&1 || { es_diag <"$ES_TMP/pki.log"; exit 1; }
echo "tok-$ES_PREFIX.secret" >"$K/token.txt"
pod_json() {	# NAME [ANNOTATION]: the pod as the API serves it
	jq -n --arg n "$1" --arg a "${2:-}" '{kind: "Pod", apiVersion: "v1",
		metadata: ({name: $n, namespace: "ns1", uid: "u-\($n)"} +
			   (if $a == "" then {} else {annotations: {"edgeshift.io/network": $a}} end)),
		spec: {}, status: {phase: "Pending"}}' >"$K/pods/ns1/$1.json"
}
pod_json wants-mon mon
pod_json wants-mgmt mgmt
pod_json plain
pod_json wants-nothing nosuchnet
kubeconfig() {	# FILE PORT TOKEN
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
current-context: edge
contexts:
- name: edge
  context: {cluster: site, user: cni}
clusters:
- name: site
  cluster:
    server: https://127.0.0.1:$2
    certificate-authority: ca.pem
users:
- name: cni
  user:
    token: $3
EOF
}
kubeconfig "$K/kubeconfig" 18443 "$(cat "$K/token.txt")"
kubeconfig "$K/kc-down" 18449 "$(cat "$K/token.txt")"
kubeconfig "$K/kc-silent" 18441 "$(cat "$K/token.txt")"
kubeconfig "$K/kc-badtoken" 18443 wrong
es_bg --log "$ES_TMP/kube.log" es_in host python3 "$STANDIN" kube 18443 "$K"
es_bg --log "$ES_TMP/silent.log" es_in host python3 "$STANDIN" slow 18441
for _ in $(seq 50); do
	grep -q ready "$ES_TMP/kube.log" && grep -q ready "$ES_TMP/silent.log" && break
	sleep 0.1
done

# two macvlan delegates told apart by their mode in the pod
meta() {	# KUBECONFIG
	jq -c -n --arg m "$CNI_MASTER" --arg s "$CNI_STATE" --arg p "$CNI_PINS" --arg k "$1" \
		'{cniVersion: "1.0.0", name: "multicni", type: "multicni", kubeconfig: $k,
		stateDir: $s, pinPath: $p, default: "mgmt", plugins: [
		{name: "mgmt", type: "macvlan", master: $m, mode: "bridge", ipam: {}},
		{name: "mon", type: "macvlan", master: $m, mode: "private", ipam: {}}]}'
}
conf=$(meta "$K/kubeconfig")
n=0
# got CNI_ARGS [CONF]: ADD in a fresh namespace (not in a subshell: it is
# registered for cleanup); GOT is the pod's macvlan mode or the error
got() {
	local ns out
	n=$((n + 1)); ns=k$n
	cni_pod "$ns" || exit 1
	out=$(cni_exec "$CNI_BIN" ADD "c$n" "$(cni_pod_path "$ns")" eth0 "${2:-$conf}" "$1")
	if jq -e .code >/dev/null 2>&1 <<<"$out"; then
		GOT=$(jq -r '"code \(.code): \(.msg)"' <<<"$out")
		return
	fi
	GOT=$(es_in "$ns" ip -j -d link show dev eth0 | jq -r '.[0].linkinfo.info_data.mode')
	cni_exec "$CNI_BIN" DEL "c$n" "$(cni_pod_path "$ns")" eth0 "${2:-$conf}" "$1" >/dev/null ||
		GOT="DEL failed"
}
kargs() { echo "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=$1${2:+;EDGESHIFT_NETWORK=$2}"; }

got "$(kargs wants-mon)"
es_expect_eq "annotation mon: the mon delegate (private)" "$GOT" private
got "$(kargs wants-mgmt)"
es_expect_eq "annotation mgmt: the mgmt delegate (bridge)" "$GOT" bridge
got "$(kargs wants-mon mgmt)"
es_expect_eq "the annotation wins over CNI_ARGS" "$GOT" private
got "$(kargs plain mon)"
es_expect_eq "no annotation: CNI_ARGS EDGESHIFT_NETWORK=mon" "$GOT" private
got "$(kargs plain)"
es_expect_eq "no annotation, no CNI_ARGS choice: the default" "$GOT" bridge
got "EDGESHIFT_NETWORK=mon" "$(meta "$K/kc-down")"
es_expect_eq "no K8S_POD_* args: CNI_ARGS, the API is not asked" "$GOT" private
got "$(kargs wants-nothing)"
es_expect_eq "annotation naming no delegate: code 7 naming the annotation" \
	"$(grep -c "code 7: annotation edgeshift.io/network" <<<"$GOT")" 1

clean=$(ip -n "$(es_ns host)" -br link | awk '{ print $1 }' | sort | tr '\n' ' ')
api_fault() {	# NAME KUBECONFIG MAX_MS
	local t0 ms
	t0=$(date +%s%N)
	got "$(kargs wants-mon)" "$(meta "$2")"
	ms=$((($(date +%s%N) - t0) / 1000000))
	es_expect_eq "$1: code 120 within the timeout (${ms} ms)" \
		"$(grep -c "^code 120: " <<<"$GOT") $((ms < $3))" "1 1"
	echo "$GOT" | es_diag
}
api_fault "API unreachable" "$K/kc-down" 3000
api_fault "API silent" "$K/kc-silent" 7000
api_fault "token refused" "$K/kc-badtoken" 3000
es_expect_eq "... and nothing left behind: links" \
	"$(ip -n "$(es_ns host)" -br link | awk '{ print $1 }' | sort | tr '\n' ' ')" "$clean"
es_expect_eq "... nor pod interfaces" \
	"$(for i in $(seq $((n - 2)) "$n"); do es_in "k$i" ip -j link | jq length; done | tr '\n' ' ')" "1 1 1 "
es_expect_eq "... nor state records" "$(find "$CNI_STATE" -type f ! -path '*/ifindex/free/*' 2>/dev/null | wc -l)" 0
es_done
