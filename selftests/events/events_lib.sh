# SPDX-License-Identifier: GPL-2.0-only
# Helpers of the Detector's tests (source after ../lib.sh): the official
# CloudEvents JavaScript SDK, installed with npm into the build directory
# on first use, and receivers built on it (ce_receiver.js), each in a
# network namespace of the test so ports never meet another test's.

EV_JS=$ES_BUILD/events-js
EV_SDK_VERSION=10.0.0

# ev_sdk_or_skip PLAN_NAME: the SDK is there, or the test is skipped (loudly).
ev_sdk_or_skip() {
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		es_plan 1
		es_skip "$1" "node or npm missing: tools/setup/install-deps installs them"
		echo "# SKIPPED: NO CLOUDEVENTS CONSUMER (node/npm missing)" >&2
		exit 0
	fi
	if [ ! -f "$EV_JS/node_modules/cloudevents/package.json" ]; then
		mkdir -p "$EV_JS"
		if ! (cd "$EV_JS" && timeout 300 npm install --no-audit --no-fund --no-save \
			--prefix . "cloudevents@$EV_SDK_VERSION" >"$ES_TMP/npm.log" 2>&1); then
			es_plan 1
			es_skip "$1" "npm could not install cloudevents@$EV_SDK_VERSION: $(tail -1 "$ES_TMP/npm.log")"
			echo "# SKIPPED: THE NPM REGISTRY IS UNREACHABLE, NO REAL CONSUMER RAN" >&2
			exit 0
		fi
	fi
}

# ev_receiver NS NAME PORT [ce_receiver.js options...]: a receiver on
# 127.0.0.1:PORT in NS writing $ES_TMP/NAME.jsonl; EV_RX_PID.
ev_receiver() {
	local ns=$1 name=$2 port=$3 i
	shift 3
	rm -f "$ES_TMP/$name.jsonl.ready"
	NODE_PATH=$EV_JS/node_modules es_bg --log "$ES_TMP/$name.log" es_in "$ns" \
		node "$ES_ROOT/selftests/events/ce_receiver.js" --port "$port" \
		--out "$ES_TMP/$name.jsonl" "$@"
	EV_RX_PID=$ES_BG_PID
	touch "$ES_TMP/$name.jsonl"
	for i in $(seq 100); do
		[ -f "$ES_TMP/$name.jsonl.ready" ] && return 0
		sleep 0.1
	done
	es_diag <"$ES_TMP/$name.log"
	return 1
}

# ev_stop PID: stop a receiver and wait until it is gone.
ev_stop() {
	kill "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
	kill -9 "$1" 2>/dev/null
}

# ev_emit NS CONFIG_JSON [es-events-emit options...]: prints its JSON summary.
ev_emit() {
	local ns=$1 cfg=$2
	shift 2
	es_in "$ns" "$ES_BUILD/es-events-emit" --config "$cfg" "$@" 2>>"$ES_TMP/emit.log"
}

# ev_jq NAME FILTER: jq -s over what receiver NAME recorded.
ev_jq() { jq -r -s "$2" "$ES_TMP/$1.jsonl"; }
