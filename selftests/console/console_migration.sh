#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The console's migrations view in a real browser, on a real migration: the
# migration drill (tools/drill/drill.sh, its own site: two nodes, an agent
# each, the WAN emulator, a runc container that moves) runs, and
# edgeshift-console, started in node 1's namespace with the agents' token,
# watches both agents, and a page in Chromium (driven through its DevTools
# protocol) is open from before the migration. The console reports the
# zero-downtime migration while it runs and after; the same page shows it
# running, then done, with the steps and engine phases at the times the
# source agent gives, in their order; a console
# without the token refuses the list, saying why; the drill still passes.
# A screenshot goes to build/console-migrations.png.
. "$(dirname "$0")/../lib.sh"
es_require_root console_migration
if ! command -v chromium >/dev/null || ! command -v criu >/dev/null || ! command -v node >/dev/null ||
   ! command -v runc >/dev/null || [ ! -f "$ES_BUILD/console-ui/.built" ]; then
	es_plan 1
	es_skip "console migrations view" "chromium, criu, node, runc or build/console-ui missing (tools/setup/install-deps, then make)"
	exit 0
fi
es_plan 14

SITE=$ES_TMP/site.env
DRILL_PID=""
# The drill cleans its site up itself once it may go on (SITE removed); it
# must not be killed, which would leave its namespaces behind.
end_drill() {
	rm -f "$SITE"
	[ -n "$DRILL_PID" ] && wait "$DRILL_PID"
}
trap 'end_drill; es_cleanup' EXIT

# A CI-sized drill (40 ms RTT), 9 s of requests: the migration starts 3 s
# in and lasts about 2.5 s, which the page, refreshed every 300 ms, sees.
ES_DRILL_SITE=$SITE bash "$ES_ROOT/tools/drill/drill.sh" --quiet --delay-ms 20 \
	--rate 10 --count 90 --handoff-at 30 --out "$ES_TMP/drill" >"$ES_TMP/drill.out" 2>&1 &
DRILL_PID=$!
for _ in $(seq 1200); do
	[ -s "$SITE" ] || ! kill -0 "$DRILL_PID" 2>/dev/null && break
	sleep 0.1
done
if [ ! -s "$SITE" ]; then
	es_diag <"$ES_TMP/drill.out"
	es_not_ok "the drill's site came up"
	exit 1
fi
# shellcheck disable=SC1090
. "$SITE"
es_diag <<<"site up after $SECONDS s"
printf '%s\n' "$DRILL_TOKEN" >"$ES_TMP/token"
in1() { nsenter --net="/run/netns/$DRILL_NS1" "$@"; }
CON=$(command -v nsenter)
es_bg --log "$ES_TMP/console.log" "$CON" --net="/run/netns/$DRILL_NS1" "$ES_BUILD/edgeshift-console" \
	--control-plane "$DRILL_URL1" --agent "$DRILL_URL2" -l 127.0.0.1:8088 --refresh-ms 300 \
	--token-file "$ES_TMP/token"
CON_PID=$ES_BG_PID
# The console's namespace by its process: the drill removes its names when it ends.
inc() { nsenter --net="/proc/$CON_PID/ns/net" "$@"; }
URL=http://127.0.0.1:8088
for _ in $(seq 100); do inc curl -sf -m 1 "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# A page open before the migration, as an operator's: Chromium driven
# through its DevTools protocol reads it while the migration runs and after.
SHOWN='[...document.querySelectorAll(".migration")].map((m) => ({ id: m.dataset.id,
	kind: m.dataset.kind, state: m.dataset.state, container: m.dataset.container,
	title: m.querySelector("h3").textContent,
	steps: [...m.querySelectorAll(".step")].map((e) => ({ name: e.dataset.step, ms: Number(e.dataset.ms) })),
	phases: [...m.querySelectorAll(".phase")].map((e) => ({ name: e.dataset.phase,
		start_ms: Number(e.dataset.startMs), ms: e.dataset.ms === "" ? null : Number(e.dataset.ms) })) }))'
jq -n --arg url "$URL/#migrations" --arg shown "$SHOWN" --arg png "$ES_BUILD/console-migrations.png" '[
	{navigate: $url},
	{wait: "document.querySelector(\".migration[data-state=running]\") !== null", name: "running", timeout_s: 120},
	{value: $shown, name: "live"},
	{wait: "document.querySelector(\".migration:not([data-state=running])\") !== null", name: "ended", timeout_s: 120},
	{value: $shown, name: "done"},
	{value: "document.getElementById(\"mig-status\").dataset.count", name: "count"},
	{screenshot: $png}
]' >"$ES_TMP/steps.json"
# nsenter and timeout exec: $! is timeout's pid, which passes a kill on to node
"$CON" --net="/proc/$CON_PID/ns/net" timeout 300 node "$ES_ROOT/selftests/console/cdp.js" "$ES_TMP/steps.json" "$ES_TMP/page.json" \
	-- chromium --headless --no-sandbox --disable-gpu --no-first-run \
	--user-data-dir="$ES_TMP/chrome" --window-size=1280,900 2>"$ES_TMP/chrome.log" &
page_pid=$!
zdm_q() { jq -c '[.migrations[] | select(.kind == "zero-downtime")]'; }

# The console's list as the migration runs: every state and step it saw.
seen=""
for _ in $(seq 1200); do
	m=$(inc curl -s -m 5 "$URL/api/migrations" | zdm_q)
	st=$(jq -r '.[0] | if . then "\(.state):\(.step)" else "none" end' <<<"$m" 2>/dev/null)
	[ "${seen##* }" = "$st" ] || seen="$seen $st"
	case "$st" in done:*|failed:*) break ;; esac
	# a drill that gave up ("drill: REASON") holds its site for us: no migration comes
	grep -q '^drill: ' "$ES_TMP/drill.out" && break
	sleep 0.1
done
es_diag <<<"the console saw:$seen (after $SECONDS s)"
es_check "the console reported the migration running, step by step, then done" \
	grep -Eq ' running:[a-z_]+ running:[a-z_]+ .*done:done$' <<<"$seen"
grep -q '^drill: ' "$ES_TMP/drill.out" && kill "$page_pid" 2>/dev/null	# it would wait in vain
wait "$page_pid"
page_rc=$?
P=$ES_TMP/page.json
es_diag <<<"the page: $(jq -c '{failed, waited}' "$P" 2>&1)"
es_diag <<<"while it ran: $(jq -c .values.live "$P" 2>&1)"
es_diag <<<"after: $(jq -c .values.done "$P" 2>&1)"
# The source agent's own record, read with the token.
agent=$(in1 curl -s -m 5 -H "Authorization: Bearer $DRILL_TOKEN" "$DRILL_URL1/v1/zdm/migrations")
a0=$(jq -c '.[0]' <<<"$agent")
pm=$(jq -c '.values.done[0]' "$P")
live=$(jq -c '.values' "$P")

es_expect_eq "the page went through it, open from before it started to its end" "$page_rc" 0
es_expect_eq "the page shows one migration (the engine's inside the zero-downtime one)" \
	"$(jq -r '.values | "\(.done | length),\(.count)"' "$P")" "1,1"
es_expect_eq "it is the agent's: id, kind, state, container" \
	"$(jq -r '"\(.id) \(.kind) \(.state) \(.container)"' <<<"$pm")" \
	"$(jq -r '"\(.id) zero-downtime done svc"' <<<"$a0")"
es_expect_eq "its title names the container and both nodes" \
	"$(jq -r .title <<<"$pm")" \
	"$(jq -r '"zero-downtime migration of \(.container): \(.from) \u2192 \(.to)"' <<<"$a0")"
# The agent's steps in the order they happen, at their ms after the request
# (the page shows 0.1 ms; both sides' doubles of the ns round alike but for
# a hair, hence 0.2 ms).
got=$(jq -r '.steps | map("\(.name)=\(.ms)") | join(" ")' <<<"$pm")
es_check "its steps at the agent's times, in order ($(jq -c .steps <<<"$a0"))" \
	jq -e --argjson a "$a0" '$a.steps as $s | (.steps | map(.name)) ==
	(["requested", "forwarding", "held", "checkpointed", "resumed", "restored", "cut_over",
	  "source_stopped", "done", "failed"] | map(select($s[.]))) and
	all(.steps[]; (.ms - ($s[.name] - $s.requested) / 1e6 | fabs) < 0.2)' <<<"$pm"
es_check "from the request to done: forwarding, held, checkpointed, restored, cut over ($got)" \
	grep -Eq '^requested=0 forwarding=.* held=.* checkpointed=.* restored=.* cut_over=.* done=' <<<"$got"
es_check "its marks go left to right in time" \
	jq -e '.steps | map(.ms) | . == sort' <<<"$pm"
got=$(jq -r '.phases | map("\(.name)=\(.ms)") | join(" ")' <<<"$pm")
es_check "the engine's phases and their lengths, as the agent's ($(jq -c '.engine.phases | map({name, ms})' <<<"$a0"))" \
	jq -e --argjson a "$a0" '(.phases | map(.name)) == ($a.engine.phases | map(.name)) and
	([.phases, $a.engine.phases] | transpose |
	 all(.[0].ms != null and (.[0].ms - .[1].ms | fabs) < 0.2))' <<<"$pm"
es_check "the engine's checkpoint, transfer and restore are there ($got)" \
	grep -Eq '^checkpoint=.* transfer=.* restore=' <<<"$got"

# The same page while it ran: running, the steps so far (the first of the
# final ones), a phase under way drawn open and last (between two engine
# phases none is).
es_check "while it ran the page showed it running, the steps so far, the phase under way open" \
	jq -e --argjson a "$a0" '.live[0] | .state == "running" and
	(.steps | length) >= 1 and (.steps | length) < ($a.steps | length) and
	(.steps | map(.name)) == ($a.steps | to_entries | sort_by(.value) | map(.key))[:(.steps | length)] and
	(.phases | length == 0 or (.[:-1] | all(.ms != null)))' <<<"$live"

jq -r '.console[]' "$P" 2>/dev/null | es_diag
es_expect_eq "the browser logged no console message" "$(jq '.console | length' "$P")" 0

# Without the token the agents' lists stay closed: the console says so.
es_bg --log "$ES_TMP/console2.log" "$CON" --net="/proc/$CON_PID/ns/net" "$ES_BUILD/edgeshift-console" \
	--control-plane "$DRILL_URL1" -l 127.0.0.1:8089
for _ in $(seq 100); do inc curl -sf -m 1 http://127.0.0.1:8089/healthz >/dev/null 2>&1 && break; sleep 0.1; done
es_expect_eq "no token: the list is refused (403), saying why" \
	"$(inc curl -s -m 5 -w ' %{http_code}' http://127.0.0.1:8089/api/migrations | sed 's/.*--token-file.* /token-file /')" \
	"token-file 403"

end_drill
rc=$?
DRILL_PID=""
es_expect_eq "the drill, watched, still passed" "$rc" 0
[ "$rc" = 0 ] || es_diag <"$ES_TMP/drill.out"
es_diag <<<"drill ended ($rc) after $SECONDS s"
es_done
