#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift place: site selection against hand-computed scores
# (docs/placement.md has the worked example), ties, a region that cannot
# hold the request, zero-utilisation and saturated links, per-region
# weights, Paper B's region format against edgeshift's, the two formulas
# (--formula edgeshift|paper) on a case where they rank differently, and
# bad input files that must fail with the field named. About 0.3 s.
. "$(dirname "$0")/../lib.sh"
FIX=$ES_ROOT/selftests/sched/fixtures/place
ES=$ES_BUILD/edgeshift

es_plan 80

place() { "$ES" place --regions "$1" --request "$2" --json "${@:3}"; }
# the ranking as [id, rank, score] rows, to compare two runs
rows() { jq -c '[.ranking[] | [.id, .rank, .score]]'; }

# approx NAME GOT WANT: GOT a number, |GOT - WANT| < 5e-6 (the hand values
# have 6 digits); awk would take null or a word for 0
approx() {
	if [[ $2 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]] &&
	   awk -v g="$2" -v w="$3" 'BEGIN { d = g - w; exit !(d < 5e-6 && d > -5e-6) }'
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

# --- Paper B's region format: the worked example written as Paper B writes a
# region (string id, config, macAddress, weights per city); the request
# comes from Seoul, whose weights favour Busan's load over its distance
PFIX_R=$FIX/regions_paper.json
PFIX_Q=$FIX/request_paper.json
# the same sites in edgeshift's format: Seoul's value as weights.location
jq '.regions[0].weights = {location: 1} | .regions[1].weights = {location: 1} |
    .regions[2].weights = {location: 0.2} | .regions[3].weights = {location: 0.6}' \
	"$FIX/regions.json" >"$ES_TMP/own.json"
out=$(place "$PFIX_R" "$PFIX_Q"); rc=$?
es_expect_eq "paper format: exit status 0, every region read as Paper B's" \
	"$rc $(jq -c '[.ranking[].format] | unique' <<<"$out")" '0 ["paper"]'
es_expect_eq "paper format: Seoul's weights rank busan first" \
	"$(jq -c '[.ranking[] | .id]' <<<"$out")" "[3,2,1,4]"
# busan: location weight 0.2 -> (0.2 * 0.151875 + 0.833333) / 1.2
approx "paper format: busan (0.030375 + 0.833333) / 1.2" \
	"$(jq '.ranking[0].score' <<<"$out")" 0.719757
es_expect_eq "paper format: config and macAddress read into the site" \
	"$(jq -c '.ranking[] | select(.id == 1) | [.name, .mode, .namespace, .mac]' <<<"$out")" \
	'["seoul-edge","host-device","mec","02:00:00:00:00:01"]'
own=$(place "$ES_TMP/own.json" "$FIX/request.json")
es_expect_eq "paper format: same ranking and scores as edgeshift's format" \
	"$(rows <<<"$out")" "$(rows <<<"$own")"
es_expect_eq "paper format: same ranking as edgeshift's with --formula paper" \
	"$(place "$PFIX_R" "$PFIX_Q" --formula paper | rows)" \
	"$(place "$ES_TMP/own.json" "$FIX/request.json" --formula paper | rows)"
jq --slurpfile own "$ES_TMP/own.json" '.regions[2:] = $own[0].regions[2:]' "$PFIX_R" \
	>"$ES_TMP/mixed.json"
out=$(place "$ES_TMP/mixed.json" "$PFIX_Q")
es_expect_eq "mixed file: each region read in its own format, same ranking" \
	"$(jq -c '[.ranking | sort_by(.id)[] | .format]' <<<"$out") $(rows <<<"$out")" \
	'["paper","paper","edgeshift","edgeshift"] '"$(rows <<<"$own")"
jq '.city = "Busan"' "$PFIX_Q" >"$ES_TMP/from_busan.json"
out=$(place "$PFIX_R" "$ES_TMP/from_busan.json")
es_expect_eq "paper format: a request from Busan takes Busan's values" \
	"$(jq -c '[.ranking | sort_by(.id)[] | .weights.location]' <<<"$out")" "[0.3,0.6,2,0.3]"

# --- the two formulas: a site that weighs its terms otherwise (north's load
# weight 3) ranks last with edgeshift's means and second with Paper B's sums
T_R=$FIX/three_sites.json
T_Q=$FIX/three_sites_request.json
out=$(place "$T_R" "$T_Q")
es_expect_eq "three sites: edgeshift's formula ranks east, west, north" \
	"$(jq -c '[.formula, [.ranking[].name]]' <<<"$out")" '["edgeshift",["east","west","north"]]'
# east (0.5 + 1) / 2, west (0.5 + 0.6) / 2, north (0.5 + 3 * 0.3) / 4
es_expect_eq "three sites: edgeshift's scores (0.5 + R) / 2 and (0.5 + 3R) / 4" \
	"$(jq -c '[.ranking[].score]' <<<"$out")" '[0.75,0.55,0.35]'
out=$(place "$T_R" "$T_Q" --formula paper)
es_expect_eq "three sites: Paper B's formula ranks east, north, west" \
	"$(jq -c '[.formula, [.ranking[].name]]' <<<"$out")" '["paper",["east","north","west"]]'
# east 1 + 3 * 1, north 1 + 3 * (3 * 0.3), west 1 + 3 * 0.6
approx "three sites: Paper B's east 1 + 3" "$(jq '.ranking[0].score' <<<"$out")" 4
approx "three sites: Paper B's north 1 + 3 * 0.9" "$(jq '.ranking[1].score' <<<"$out")" 3.7
approx "three sites: Paper B's west 1 + 1.8" "$(jq '.ranking[2].score' <<<"$out")" 2.8
out=$(place "$FIX/regions.json" "$FIX/request.json" --formula paper)
approx "paper formula: no factor per external link (busan 0.75 * 0.5)" \
	"$(jq '.ranking[] | select(.id == 3) | .path_factor' <<<"$out")" 0.375
approx "paper formula: daejeon (0.75 + 0.75) + (0.5 + 0.5 + 1)" \
	"$(jq '.ranking[0].score' <<<"$out")" 3.5
"$ES" place --regions "$T_R" --request "$T_Q" --formula mean >/dev/null 2>&1
es_expect_eq "usage: an unknown --formula is exit status 2" "$?" 2

# --- bad input: exit status 1 and a message naming the file and the field
# bad_in REGIONS REQUEST NAME 'jq edit of REGIONS' 'expected message part'
bad_in() {
	local err rc
	jq "$4" "$1" >"$ES_TMP/bad.json"
	err=$("$ES" place --regions "$ES_TMP/bad.json" --request "$2" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 1 ] && [[ "$err" == *"bad.json: $5"* ]]; then es_ok "bad input: $3"
	else es_not_ok "bad input: $3" "exit $rc: $err (want '$5')"; fi
}
bad() { bad_in "$FIX/regions.json" "$FIX/request.json" "$@"; }
bad "misspelt field" '.regions[1].free.memroy = 1' 'regions[1].free: unknown field "memroy"'
bad "not a quantity" '.regions[2].free.memory = "12Qi"' \
	'regions[2].free.memory: "12Qi" is not a quantity: the suffix must be one of'
bad "hexadecimal quantity" '.regions[0].free.cpu = "0x10"' \
	'regions[0].free.cpu: "0x10" is not a quantity: hexadecimal'
bad "quantity with a leading space" '.regions[0].free.cpu = " 4"' \
	'regions[0].free.cpu: " 4" is not a quantity: a quantity holds no spaces'
bad "exponent with a binary suffix" '.regions[1].free.memory = "1e1Gi"' \
	'regions[1].free.memory: "1e1Gi" is not a quantity: an exponent (e3) takes no suffix'
bad "negative amount" '.regions[0].free.cpu = -1' 'regions[0].free.cpu: -1 is negative'
bad "data held, not a quantity" '.regions[0].data["cam-video"] = "10 Gi"' \
	'regions[0].data.cam-video: "10 Gi" is not a quantity: a quantity holds no spaces'
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
# Paper B's records
Q="'"
bad_p() { bad_in "$PFIX_R" "$PFIX_Q" "Paper B: $1" "$2" "$3"; }
bad_p "in neither format" 'del(.regions[1].config)' 'regions[1]: in neither format'
bad_p "both formats in one region" '.regions[0].name = "x"' \
	"regions[0]: \"config\" is Paper B${Q}s format and \"name\" edgeshift${Q}s"
bad_p "a number as id" '.regions[0].id = 1' \
	"regions[0].id: Paper B${Q}s id is a string of at most 18 digits"
bad_p "a name as id" '.regions[0].id = "seoul"' \
	"regions[0].id: Paper B${Q}s id is a string of at most 18 digits"
bad_p "duplicate id" '.regions[1].id = "1"' "regions[1].id: 1 is also regions[0]${Q}s"
bad_p "config not an object" '.regions[0].config = "seoul"' 'regions[0].config: must be an object'
bad_p "config without kubeconfig" 'del(.regions[2].config.kubeconfig)' \
	'regions[2].config: "kubeconfig" is missing'
bad_p "unknown field in config" '.regions[0].config.kubeconfigPath = "x"' \
	'regions[0].config: unknown field "kubeconfigPath"'
bad_p "unknown mode in config" '.regions[0].config.mode = "bridge"' \
	'regions[0].config.mode: "bridge" is neither'
bad_p "edgeshift's mac in a Paper B region" '.regions[0].mac = "02:00:00:00:00:01"' \
	"regions[0]: unknown field \"mac\" in Paper B${Q}s format"
bad_p "bad macAddress" '.regions[0].macAddress = "02-00-00-00-00-01"' \
	'regions[0].macAddress: "02-00-00-00-00-01" is not a MAC address'
bad_p "weights as an object" '.regions[1].weights = {location: 1}' \
	"regions[1].weights: Paper B${Q}s weights are a non-empty list"
bad_p "empty weights" '.regions[1].weights = []' \
	"regions[1].weights: Paper B${Q}s weights are a non-empty list"
bad_p "weight without value" 'del(.regions[1].weights[0].value)' \
	'regions[1].weights[0]: "value" is missing'
bad_p "weight without city" '.regions[1].weights[0] = {value: 1}' \
	'regions[1].weights[0]: "city" is missing'
bad_p "negative weight" '.regions[1].weights[1].value = -1' \
	'regions[1].weights[1].value: must be a number >= 0'
bad_p "weight as a string" '.regions[1].weights[1].value = "1"' \
	'regions[1].weights[1].value: must be a number >= 0'
bad_p "unknown field in a weight" '.regions[1].weights[0].town = "x"' \
	'regions[1].weights[0]: unknown field "town"'
bad_p "a city twice" '.regions[1].weights[1].city = "Seoul"' \
	"regions[1].weights[1].city: \"Seoul\" is also regions[1].weights[0]${Q}s"
bad "Paper B's weights in an edgeshift region" '.regions[0].weights = [{city: "Seoul", value: 1}]' \
	'regions[0].weights: must be an object (a list of {"city", "value"} is Paper B'
bad "Paper B's macAddress in an edgeshift region" '.regions[0].macAddress = "02:00:00:00:00:01"' \
	"regions[0]: unknown field \"macAddress\" in edgeshift${Q}s format"
err=$("$ES" place --regions "$PFIX_R" --request "$FIX/request.json" 2>&1 >/dev/null); rc=$?
es_expect_eq "Paper B: a request without a city is exit status 1, named" "$rc $err" \
	"1 edgeshift place: $FIX/request.json: (top level): \"city\" is missing: region 1 (\"seoul-edge\") is in Paper B${Q}s format, whose weights are per city"
jq '.city = "Incheon"' "$PFIX_Q" >"$ES_TMP/incheon.json"
err=$("$ES" place --regions "$PFIX_R" --request "$ES_TMP/incheon.json" 2>&1 >/dev/null); rc=$?
es_expect_eq "Paper B: a city no list holds is exit status 1, named" "$rc $err" \
	"1 edgeshift place: $ES_TMP/incheon.json: city: \"Incheon\" has no value in the weights of region 1 (\"seoul-edge\")"
jq '.regions[1].weights[0].value = 0 | .weights.load = 0' "$PFIX_R" >"$ES_TMP/zero.json"
err=$("$ES" place --regions "$ES_TMP/zero.json" --request "$PFIX_Q" 2>&1 >/dev/null); rc=$?
es_expect_eq "Paper B: a city's weight 0 with load weight 0 is exit status 1" "$rc $err" \
	"1 edgeshift place: $PFIX_Q: region 2${Q}s weights for \"Seoul\": location and load are both 0"
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
