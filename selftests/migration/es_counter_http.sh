#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# es-counter --http, the drills' HTTP/1.1 keep-alive service, against real
# clients in a namespace of its own: curl reusing one connection for
# several requests, errors answered with the connection kept, HTTP/1.0
# without keep-alive closed, no Date header; a request split across
# segments and pipelined behind another; ab -k (every request complete,
# none failed, the counter equal); es-drill --http with 16-request
# pipelines (every reply's value its request's number); the service's
# memory checksum after all of it. Then the client's stop: SIGTERM while a
# request waits on a paused server lets that request finish (a signal that
# cut the wait short logged as lost a request the server applied), and a
# server that never answers still lets the client end within its grace.
. "$(dirname "$0")/../lib.sh"
es_require_root es_counter_http
command -v ab >/dev/null || { es_plan 1; es_skip es_counter_http "ab missing (tools/setup/install-deps)"; exit 0; }
es_plan 11
PORT=8080
URL=http://127.0.0.1:$PORT

es_netns_add s || exit 1
es_bg es_in s "$ES_BUILD/es-counter" serve --tcp $PORT --udp $PORT --http --bind 127.0.0.1
es_wait_listen s t $PORT || { es_not_ok "es-counter listens" "no listener on $PORT"; es_done; }

# three requests of one curl: one connection, counted 1, 2, 3
es_expect_eq "keep-alive: three requests on one connection, the key counted 1, 2, 3" \
	"$(es_in s curl -s -w ' %{num_connects}\n' "$URL/incr/a" "$URL/incr/a" "$URL/get/a" | tr '\n' ' ')" \
	"a 000000000001  1 a 000000000002  0 a 000000000002  0 "
es_expect_eq "errors answered, the connection kept: 404, 405, 404, then 200 on it" \
	"$(es_in s curl -s -o /dev/null -w '%{http_code}:%{num_connects} ' "$URL/nope" \
		--next -s -o /dev/null -w '%{http_code}:%{num_connects} ' -X DELETE "$URL/incr/b" \
		--next -s -o /dev/null -w '%{http_code}:%{num_connects} ' "$URL/get/b" \
		--next -s -o /dev/null -w '%{http_code}:%{num_connects}' "$URL/incr/b")" \
	"404:1 405:0 404:0 200:0"
head=$(es_in s curl -s -D - -o /dev/null "$URL/get/a" | tr -d '\r')
es_expect_eq "reply head: 200, Content-Length of the body, no Date" \
	"$(grep -c '^HTTP/1.1 200 OK$' <<<"$head") $(grep -c '^Content-Length: 15$' <<<"$head") $(grep -ci '^Date:' <<<"$head")" \
	"1 1 0"
es_expect_eq "HTTP/1.0 without keep-alive: Connection: close" \
	"$(es_in s curl -s -0 -D - -o /dev/null "$URL/get/a" | tr -d '\r' | grep -ci '^Connection: close$')" 1

# a request cut in three segments, the last carrying a second request
split=$(es_in s timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT
	printf 'GET /incr/s' >&3; sleep 0.1
	printf ' HTTP/1.1\r\nHo' >&3; sleep 0.1
	printf 'st: x\r\n\r\nGET /get/s HTTP/1.1\r\nHost: x\r\n\r\n' >&3
	timeout 1 cat <&3" | tr -d '\r')
es_expect_eq "a request split across segments, a second pipelined behind it: both answered" \
	"$(grep -c '^s 000000000001$' <<<"$split")" 2

ab=$(es_in s ab -k -c 4 -n 2000 "$URL/incr/ab" 2>&1)
es_expect_eq "ab -k -c 4 -n 2000: all complete, none failed, all keep-alive" \
	"$(awk '/^Complete requests:/ { c = $3 } /^Failed requests:/ { f = $3 }
		/^Keep-Alive requests:/ { k = $3 } END { print c, f, k }' <<<"$ab")" "2000 0 2000"
es_expect_eq "ab's key counted every request once" "$(es_in s curl -s "$URL/get/ab")" "ab 000000002000"

es_in s "$ES_BUILD/es-drill" client --to 127.0.0.1:$PORT --http p --pipeline 16 --rate 2000 --count 640 \
	--drain-ms 1000 --log "$ES_TMP/p.jsonl" >"$ES_TMP/p.json"
es_expect_eq "es-drill --http --pipeline 16: all 640 answered, every value its request's number" \
	"$(jq -r '"\(.answered) \(.lost) \(.stray) \(.resets)"' "$ES_TMP/p.json") $(jq -s '[.[] | select(.counter != .seq)] | length' "$ES_TMP/p.jsonl")" \
	"640 0 0 0 0"
# 2 (curl) + 1 (after the errors) + 1 (split) + 2000 (ab) + 640 (es-drill) increments
es_expect_eq "the service's counter and memory checksum after it all" \
	"$(es_in s "$ES_BUILD/es-counter" client --to 127.0.0.1 --port $PORT --check | jq -r '"\(.counter) \(.memory_intact)"')" \
	"2644 true"

# stop_client MS: a UDP request to the paused server, SIGTERM to the client,
# the server resumed after MS (never when 0); the client's log line, and
# how long the client took to end after the signal.
server=$ES_BG_PID
stop_client() {
	local log=$ES_TMP/stop-$1.jsonl pid t0 i
	kill -STOP "$server"
	es_bg es_in s "$ES_BUILD/es-counter" client --to 127.0.0.1 --port $PORT --count 2 \
		--rate 1 --timeout-ms 30000 --start-seq 7 --log "$log"
	pid=$ES_BG_PID
	sleep 0.3	# connected, the request sent, its answer awaited
	t0=$(date +%s%N)
	kill -TERM "$pid"
	[ "$1" -gt 0 ] && { sleep "$(awk -v m="$1" 'BEGIN { print m / 1000 }')"; kill -CONT "$server"; }
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	wait "$pid" 2>/dev/null
	kill -CONT "$server"
	echo "$(jq -c '{seq, lost, answered: (.counter != null)}' "$log" | tr '\n' ' ')$((($(date +%s%N) - t0) / 1000000 / 1000))s"
}
es_expect_eq "SIGTERM in a request's wait: the request answered, no other sent" \
	"$(stop_client 500)" '{"seq":7,"lost":null,"answered":true} 0s'
es_expect_eq "SIGTERM, the server never answers: the request lost, the client gone within 3 s" \
	"$(stop_client 0 | sed 's/ [0-2]s$/ <3s/')" '{"seq":7,"lost":true,"answered":false} <3s'
es_done
