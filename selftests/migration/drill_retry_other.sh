#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A retry towards another node, on an unmodified Redis with three
# connections, all idle while they move: the user hands off to node 2, the
# migration there fails in the restore (node 2's agent dies in it), the
# user moves on to node 3 and the migration is asked again towards node 3
# (drill.sh --retry-to-other). A failed migration keeps node 1's
# es_mig_remote entries, and they name node 2; an idle connection tunnels
# nothing that would correct its entry, so the retry must make each one
# anew, naming node 3. When it kept node 2's, the old container's RST at
# its abort after the cut-over went to node 2, which gave it to the user:
# every connection reset, and the source's exactly-once check failed. Once
# the retry is done, each connection asks again and the new container
# answers. Then the same with every connection busy throughout, and a
# UDP service busy throughout.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_retry_other
command -v criu >/dev/null || { es_plan 1; es_skip drill_retry_other "criu missing (tools/setup/install-deps)"; exit 0; }
command -v redis-server >/dev/null || { es_plan 1; es_skip drill_retry_other "redis-server missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 26

CONNS=3
# requests of the first connection, the one that hands off
COUNT=60
# requests of the other connections before they idle, and of each
# connection once the retry is done
OTHERS=10
AFTER=5
# The first connection sends until 3 s, the others until 0.5 s; the
# handoff at 1.5 s, the first migration fails some 4 s later: every
# connection is idle when the retry is asked, and held until it is done.
# In node 1's own namespace as drill_tcp_faults' retry (run by hand in pod
# mode too: the same outcome).
drill_run retry_other --service redis --connections $CONNS --mode partial --rate 20 --count $COUNT \
	--handoff-at 30 --others-count $OTHERS --fault restore_fail --retry --retry-to-other \
	--node-network --after-hold $AFTER
NAME="Redis, retried towards node 3"
drill_expect_done "$NAME"
drill_expect_connections "$NAME" redis $CONNS $((OTHERS + AFTER))
drill_expect_eq "$NAME: the first migration failed towards node 2, the retry done at node 3" \
	"$(jq -r '[.[] | "\(.state) \(.to | sub(".*-"; ""))"] | join(", ")' "$DRILL_DIR/zdm.json")" \
	"done node3, failed node2"
drill_expect_eq "$NAME: node 1's entries of the connections named node 3 in the retry, none node 2" \
	"$(drill_q '.site.retry_remote | "\(.entries) \(.naming_node3) \(.naming_node2)"')" "$CONNS $CONNS 0"

# the retry's request (the second) and its end at node 1
requested=$(jq -rs '[.[] | select(.event == "zdm_requested")][1].ts_ns // 0' "$DRILL_DIR/events-node1.log")
ended=$(jq -rs '[.[] | select(.event == "zdm_done" or .event == "zdm_failed")][-1].ts_ns // 0' \
	"$DRILL_DIR/events-node1.log")
# each connection's log and the requests it sends before its hold
logs=("$DRILL_DIR/client.jsonl:$COUNT")
for k in $(seq 2 $CONNS); do logs+=("$DRILL_DIR/client-$k.jsonl:$OTHERS"); done
# Without it the test proves nothing: a request through node 3 during the
# retry would have set its connection's entry right by itself.
es_expect_eq "$NAME: every connection idle through the retry (answered before it, nothing sent in it)" \
	"$(for l in "${logs[@]}"; do jq -s --argjson r "$requested" --argjson e "$ended" \
		'$r > 0 and $e > $r and (map(select(.sent_ns < $r)) | all((.recv_ns // $r) < $r)) and
		 (map(select(.sent_ns >= $r and .sent_ns <= $e)) | length == 0)' "${l%:*}"; done |
		sort -u | tr '\n' ' ')" "true "
es_expect_eq "$NAME: each connection asked again once the retry was done, answered in sequence" \
	"$(for l in "${logs[@]}"; do jq -s --argjson n "${l##*:}" --argjson a $AFTER \
		'length == $n + $a and (.[-$a:] | all(.counter == .seq))' "${l%:*}"; done |
		sort -u | tr '\n' ' ')" "true "

# The same site with every connection busy throughout: node 3 tunnels the
# user's requests from its own first number, often before the retry is
# asked (node 3's handoff then starts the migration itself), while node 2's
# abort may still send node 1 what it held. node 1's entries named node 2
# with its numbers, so node 3's first requests looked like copies: 80 of
# the first connection's 240 and 164 of the others' 480 were dropped, and
# the migration failed in the replay. Each tunnel's numbers are now its
# own (es_mig_remote.prev_addr).
drill_run retry_busy --service redis --connections $CONNS --mode partial --rate 20 --count 240 \
	--handoff-at 30 --others-count 240 --fault restore_fail --retry --retry-to-other \
	--node-network
NAME="Redis busy through a retry towards node 3"
drill_expect_done "$NAME"
drill_expect_connections "$NAME" redis $CONNS 240
drill_expect_eq "$NAME: the first migration failed towards node 2, the next done at node 3" \
	"$(jq -r '[.[] | "\(.state) \(.to | sub(".*-"; ""))"] | join(", ")' "$DRILL_DIR/zdm.json")" \
	"done node3, failed node2"

# UDP, the same way: node 1's entry named node 2 with its numbers, so the
# checkpoint's cursor was node 2's (node 3 refused it: out of range), and
# the old container's replies went on from node 2's count, which node 3
# took for a gap of 106 replies and had sent again: 106 answered twice.
drill_run retry_udp --service udp --rate 20 --count 240 --handoff-at 30 --fault restore_fail \
	--retry --retry-to-other
NAME="UDP busy through a retry towards node 3"
drill_expect_done "$NAME"
drill_expect_eq "$NAME: the first migration failed towards node 2, the next done at node 3" \
	"$(jq -r '[.[] | "\(.state) \(.to | sub(".*-"; ""))"] | join(", ")' "$DRILL_DIR/zdm.json")" \
	"done node3, failed node2"
es_done
