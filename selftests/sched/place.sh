#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift place: site selection against hand-computed scores
# (docs/placement.md has the worked example), ties, a region that cannot
# hold the request, zero-utilisation and saturated links, per-region
# weights, and bad input files that must fail with the field named.
. "$(dirname "$0")/../lib.sh"
FIX=$ES_ROOT/selftests/sched/fixtures/place
ES=$ES_BUILD/edgeshift

es_plan 34

place() { "$ES" place --regions "$1" --request "$2" --json; }

# approx NAME GOT WANT: |GOT - WANT| < 5e-6 (the hand values have 6 digits)
approx() {
	if awk -v g="$2" -v w="$3" 'BEGIN { d = g - w; exit !(g != "" && d < 5e-6 && d > -5e-6) }'
	then es_ok "$1"; else es_not_ok "$1" "got '$2', want $3"; fi
}

# --- the worked example of docs/placement.md
out=$(place "$FIX/regions.json" "$FIX/request.json"); rc=$?
es_expect_eq "worked example: exit status 0 when a region is chosen" "$rc" 0
es_expect_eq "worked example: ranking by id" \
	"$(jq -c '[.ranking[] | .id]' <<<"$out")" "[2,3,1,4]"
# daejeon: path 0.9 * 0.75 = 0.675, centrality 30/40; load (8/16 + 32/64 + 400/400) / 3
approx "worked example: daejeon location (0.675 + 0.75) / 2" \
	"$(jq '.ranking[0].location_weight' <<<"$out")" 0.7125
approx "worked example: daejeon load (0.5 + 0.5 + 1) / 3" \
	"$(jq '.ranking[0].load_weight' <<<"$out")" 0.666667
approx "worked example: daejeon score" "$(jq '.ranking[0].score' <<<"$out")" 0.689583
# busan: two links, 0.9 * 0.75 * 0.9 * 0.5 = 0.30375, no data; load (1 + 1 + 0.5) / 3
approx "worked example: busan path factor" "$(jq '.ranking[1].path_factor' <<<"$out")" 0.30375
approx "worked example: busan score (0.151875 + 0.833333) / 2" \
	"$(jq '.ranking[1].score' <<<"$out")" 0.492604
# seoul: no external link, 10/40 of the data; load (4/16 + 8/64 + 100/400) / 3
approx "worked example: seoul score (0.625 + 0.208333) / 2" \
	"$(jq '.ranking[2].score' <<<"$out")" 0.416667
es_expect_eq "worked example: gwangju (2Gi free) cannot hold 4Gi" \
	"$(jq -c '.ranking[3] | [.eligible, .rank, .score]' <<<"$out")" "[false,null,null]"
es_expect_eq "worked example: the reason names memory" \
	"$(jq -r '.ranking[3].reason' <<<"$out")" "memory: 2.0GiB free < 4.0GiB requested"
approx "worked example: saturated link gives path factor 0" \
	"$(jq '.ranking[3].path_factor' <<<"$out")" 0
es_expect_eq "worked example: daejeon chosen" "$(jq '.chosen.id' <<<"$out")" 2
table=$("$ES" place --regions "$FIX/regions.json" --request "$FIX/request.json")
es_expect_eq "table: first row is the chosen region with its score" \
	"$(awk 'NR == 2 { print $1, $3, $NF }' <<<"$table")" "1 daejeon-edge 0.6896"

# --- ties and zero-utilisation links: every external link costs the hop factor
cat >"$ES_TMP/tie.json" <<'J'
{ "links": { "idle": { "capacity_mbit": 1000, "used_mbit": 0 } },
  "regions": [
    { "id": 7, "name": "a", "mode": "macvlan", "kubeconfig": "a.conf", "namespace": "x",
      "path": ["idle"], "free": { "cpu": 4, "memory": "8Gi", "storage": "10Gi" } },
    { "id": 5, "name": "b", "mode": "macvlan", "kubeconfig": "b.conf", "namespace": "x",
      "path": ["idle"], "free": { "cpu": 4, "memory": "8Gi", "storage": "10Gi" } },
    { "id": 3, "name": "c", "mode": "macvlan", "kubeconfig": "c.conf", "namespace": "x",
      "path": ["idle", "idle"], "free": { "cpu": 4, "memory": "8Gi", "storage": "10Gi" } } ] }
J
echo '{ "cpu": 1, "memory": "1Gi", "storage": "1Gi" }' >"$ES_TMP/small.json"
out=$(place "$ES_TMP/tie.json" "$ES_TMP/small.json")
# a, b: path 0.9, centrality 0 -> location 0.45, load 1 -> 0.725; c: 0.81 -> 0.7025
approx "tie: one idle link scores (0.45 + 1) / 2" "$(jq '.ranking[0].score' <<<"$out")" 0.725
es_expect_eq "tie: equal scores share rank 1, lower id first" \
	"$(jq -c '[.ranking[] | [.id, .rank, .tie]]' <<<"$out")" "[[5,1,true],[7,1,true],[3,3,false]]"
approx "tie: two idle links count against (0.405 + 1) / 2" \
	"$(jq '.ranking[2].score' <<<"$out")" 0.7025
es_expect_eq "tie: the lower id is chosen" "$(jq '.chosen.id' <<<"$out")" 5

# --- a saturated path against local data, and a region's own weights
cat >"$ES_TMP/sat.json" <<'J'
{ "weights": { "location": 3, "load": 1, "hop": 1 },
  "links": { "full": { "utilisation": 1 } },
  "data_sets": { "d": 1000 },
  "regions": [
    { "id": 1, "name": "x", "mode": "host-device", "kubeconfig": "x.conf", "namespace": "n",
      "path": ["full"], "free": { "cpu": 1, "memory": "1Gi", "storage": "1Gi" },
      "data": { "d": 1000 } WEIGHTS },
    { "id": 2, "name": "y", "mode": "macvlan", "kubeconfig": "y.conf", "namespace": "n",
      "free": { "cpu": 2, "memory": "2Gi", "storage": "2Gi" } } ] }
J
echo '{ "cpu": 1, "memory": "1Gi", "storage": "1Gi", "data_set": "d" }' >"$ES_TMP/req_d.json"
sed 's/WEIGHTS//' "$ES_TMP/sat.json" >"$ES_TMP/sat1.json"
out=$(place "$ES_TMP/sat1.json" "$ES_TMP/req_d.json")
# x: location (0 + 1) / 2, load 0.5 -> (3 * 0.5 + 0.5) / 4; y: location 0.5, load 1 -> 0.625
approx "saturated: x scores (1.5 + 0.5) / 4" \
	"$(jq '.ranking[] | select(.id == 1) | .score' <<<"$out")" 0.5
approx "saturated: y scores (1.5 + 1) / 4" "$(jq '.ranking[0].score' <<<"$out")" 0.625
sed 's/WEIGHTS/, "weights": { "centrality": 3 }/' "$ES_TMP/sat.json" >"$ES_TMP/sat2.json"
out=$(place "$ES_TMP/sat2.json" "$ES_TMP/req_d.json")
# x with centrality weight 3: location 3 / 4 -> (2.25 + 0.5) / 4
approx "region weights: x's own centrality weight gives (2.25 + 0.5) / 4" \
	"$(jq '.ranking[0].score' <<<"$out")" 0.6875
es_expect_eq "region weights: x chosen" "$(jq '.chosen.id' <<<"$out")" 1

# --- nothing can hold the request
echo '{ "cpu": 64, "memory": "1Gi", "storage": "1Gi" }' >"$ES_TMP/big.json"
out=$(place "$ES_TMP/tie.json" "$ES_TMP/big.json"); rc=$?
es_expect_eq "too big: exit status 1, nothing chosen, every region says why" \
	"$rc $(jq -c '[.chosen, ([.ranking[].reason] | unique)]' <<<"$out")" \
	'1 [null,["cpu: 4 free < 64 requested"]]'

# --- bad input: exit status 1 and a message naming the file and the field
# bad NAME 'jq edit of regions.json' 'expected message part'
bad() {
	local err rc
	jq "$2" "$FIX/regions.json" >"$ES_TMP/bad.json"
	err=$("$ES" place --regions "$ES_TMP/bad.json" --request "$FIX/request.json" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 1 ] && [[ "$err" == *"bad.json: $3"* ]]; then es_ok "bad input: $1"
	else es_not_ok "bad input: $1" "exit $rc: $err (want '$3')"; fi
}
bad "misspelt field" '.regions[1].free.memroy = 1' 'regions[1].free: unknown field "memroy"'
bad "not a quantity" '.regions[2].free.memory = "12Qi"' \
	'regions[2].free.memory: "12Qi" is not a quantity'
bad "unknown link" '.regions[0].path = ["nowhere"]' \
	'regions[0].path: link "nowhere" is not in "links"'
bad "more used than capacity" '.links["seoul-daejeon"].used_mbit = 20000' \
	'links.seoul-daejeon.used_mbit: 20000 exceeds capacity_mbit 10000'
bad "utilisation over 1" '.links["daejeon-busan"].utilisation = 1.5' \
	'links.daejeon-busan.utilisation: must be a number in 0..1'
bad "duplicate id" '.regions[3].id = 2' "regions[3].id: 2 is also regions[1]'s"
bad "unknown mode" '.regions[0].mode = "bridge"' 'regions[0].mode: "bridge" is neither'
bad "bad MAC" '.regions[0].mac = "02:00:00:00:00"' 'regions[0].mac: "02:00:00:00:00" is not'
bad "missing kubeconfig" 'del(.regions[2].kubeconfig)' 'regions[2]: "kubeconfig" is missing'
err=$("$ES" place --regions "$FIX/regions.json" --request "$ES_TMP/tie.json" 2>&1 >/dev/null)
es_expect_eq "bad input: a region file given as the request" \
	"$err" "edgeshift place: $ES_TMP/tie.json: (top level): unknown field \"links\""
printf '{ "regions": [ }' >"$ES_TMP/broken.json"
err=$("$ES" place --regions "$ES_TMP/broken.json" --request "$FIX/request.json" 2>&1 >/dev/null)
if [[ "$err" == *"broken.json:1:"* ]]; then es_ok "bad input: invalid JSON names line and column"
else es_not_ok "bad input: invalid JSON names line and column" "$err"; fi
"$ES" place --regions "$FIX/regions.json" >/dev/null 2>&1
es_expect_eq "usage: a missing --request is exit status 2" "$?" 2
es_done
