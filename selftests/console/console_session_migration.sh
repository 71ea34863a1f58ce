#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The console's two live views in one browser run, as the issue's operator
# would use them: a session test started from the form and a migration
# drill running beside it. The migration drill (tools/drill/drill.sh, its
# own site: two nodes, an agent each, the WAN emulator, a runc container
# that moves) runs; edgeshift-console, started in node 1's namespace with
# the agents' token, watches both agents and is the session test's client
# on an emulated 100 Mbit/s link of its own to an `es-session sink`. One
# page in Chromium, driven through its DevTools protocol as a user (fill,
# click, read), is open from before the migration:
# - without the token the form's start is refused (401, said on the page)
#   and nothing runs;
# - the migration appears while it runs; beside it the session test is
#   started from the form, with the token, and lists its sessions; the
#   migration then shows done, with the steps and the engine's phases at
#   the times the source agent gives, in their order, and the console
#   reported it step by step;
# - the session test completes with the knee marked on the chart, its
#   label inside the plot, as the engine's result says; a second run is
#   torn down from the page and its sessions stop sending; a run towards no
#   sink fails with the reason on the page;
# - once the drill has reported, the migrations view's form moves the
#   container back (a plain migration from node 2 to node 1): without the
#   token refused on the page and sent to no agent; a container the agent
#   does not have refused in the agent's words; with it, the migration
#   shows in the view and ends done, as the source agent's own list says;
# - requests without the token are refused; a console without it refuses
#   the migration list, saying why; the drill, watched, still passes.
# Screenshots: build/console-session-test.png, build/console-migrations.png.
. "$(dirname "$0")/../lib.sh"
es_require_root console_session_migration
if ! command -v chromium >/dev/null || ! command -v criu >/dev/null || ! command -v node >/dev/null ||
   ! command -v runc >/dev/null || [ ! -f "$ES_BUILD/console-ui/.built" ]; then
	es_plan 1
	es_skip "console session test and migrations view" "chromium, criu, node, runc or build/console-ui missing (tools/setup/install-deps, then make)"
	exit 0
fi
es_plan 39

SITE=$ES_TMP/site.env
DRILL_PID=""
# The drill cleans its site up itself once it may go on (SITE removed); it
# must not be killed, which would leave its namespaces behind.
end_drill() {
	rm -f "$SITE"
	[ -n "$DRILL_PID" ] && wait "$DRILL_PID"
}
trap 'end_drill; es_cleanup' EXIT

# A CI-sized drill (40 ms RTT), 12 s of requests: the migration starts 6 s
# in (time for the browser to start and the page to try a start without the
# token first: 4 s left 0.3 to 0.9 s) and lasts about 2.5 s, which the
# page, refreshed every 300 ms, sees.
ES_DRILL_SITE=$SITE bash "$ES_ROOT/tools/drill/drill.sh" --quiet --delay-ms 20 \
	--rate 10 --count 120 --handoff-at 60 --out "$ES_TMP/drill" >"$ES_TMP/drill.out" 2>&1 &
DRILL_PID=$!
# Meanwhile the session test's destination: a sink at the end of its link.
es_netns_add d || exit 1
es_no_ipv6 d
RT=()
command -v chrt >/dev/null && RT=(chrt -f 10)
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
# The session test's own link from node 1 (docs/session-test.md): 100 Mbit/s,
# ~12 ms of queue; the drill's agents do not attach to it.
VC=$(es_ifname vc)
VD=$(es_ifname vd)
ip link add "$VC" netns "$DRILL_NS1" type veth peer name "$VD" netns "$(es_ns d)" || exit 1
ip -n "$DRILL_NS1" addr add 10.249.0.1/24 dev "$VC"
ip -n "$(es_ns d)" addr add 10.249.0.2/24 dev "$VD"
ip -n "$DRILL_NS1" link set "$VC" up
ip -n "$(es_ns d)" link set "$VD" up
tc -n "$DRILL_NS1" qdisc add dev "$VC" root tbf rate 100mbit burst 16kb limit 150000
es_bg --log "$ES_TMP/sink.log" es_in d "${RT[@]}" "$ES_BUILD/es-session" sink --port 7700
CON=$(command -v nsenter)
es_bg --log "$ES_TMP/console.log" "$CON" --net="/run/netns/$DRILL_NS1" "$ES_BUILD/edgeshift-console" \
	--control-plane "$DRILL_URL1" --agent "$DRILL_URL2" -l 127.0.0.1:8088 --refresh-ms 300 \
	--token-file "$ES_TMP/token" --log-level debug
CON_PID=$ES_BG_PID
# The console's namespace by its process: the drill removes its names when it ends.
inc() { nsenter --net="/proc/$CON_PID/ns/net" "$@"; }
URL=http://127.0.0.1:8088
for _ in $(seq 100); do inc curl -sf -m 1 "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# JavaScript the steps use: the form filled (token T), a figure of the page
JS_FILL='(t, n, step, port = 7700) => { const v = { "st-to": "10.249.0.2", "st-port": port, "st-rate": 20,
	"st-sessions": n, "st-step": step, "st-slo": 1000, "st-token": t };
	for (const [k, x] of Object.entries(v)) document.getElementById(k).value = x;
	document.getElementById("st-start").click(); }'
ST='document.getElementById("st-status").dataset'
ROWS='document.querySelectorAll("#st-sessions-body tr").length'
KNEE_BOX='(() => { const l = document.getElementById("st-knee"),
	o = document.querySelector("#st-chart .u-over");
	const a = l.getBoundingClientRect(), b = o.getBoundingClientRect();
	return { text: l.textContent, sessions: Number(l.dataset.sessions), hidden: l.hidden,
		inside: a.width > 0 && a.left >= b.left && a.right <= b.right && a.top >= b.top &&
			a.bottom <= b.bottom }; })()'
# The migrations form filled (token T, container C, kind K) and sent
MIG_FILL='(t, c, k, from, to) => { const v = { "mig-token": t, "mig-container": c, "mig-kind": k,
	"mig-from": from, "mig-to": to };
	for (const [id, x] of Object.entries(v)) document.getElementById(id).value = x;
	document.getElementById("mig-stop").checked = true;
	document.getElementById("mig-message").dataset.bad = "";
	document.getElementById("mig-start").click(); }'
MIG_MSG='document.getElementById("mig-message")'
# Node ids of the console: node 1 (the drill's source) and node 2
nid() { inc curl -s -m 5 "$URL/api/nodes" | jq -r --arg u "$1" --arg k "$2" '.nodes[] | select(.url == $u) | .[$k]'; }
N1=$(nid "$DRILL_URL1" id)
N2=$(nid "$DRILL_URL2" id)
SHOWN='[...document.querySelectorAll(".migration")].map((m) => ({ id: m.dataset.id,
	kind: m.dataset.kind, state: m.dataset.state, container: m.dataset.container,
	title: m.querySelector("h3").textContent,
	steps: [...m.querySelectorAll(".step")].map((e) => ({ name: e.dataset.step, ms: Number(e.dataset.ms) })),
	phases: [...m.querySelectorAll(".phase")].map((e) => ({ name: e.dataset.phase,
		start_ms: Number(e.dataset.startMs), ms: e.dataset.ms === "" ? null : Number(e.dataset.ms) })) }))'

# The page: a start without the token refused; the migration seen
# running, and the session test started from the form beside it, its
# sessions seen sending; the migration seen done; back on the session
# test, its end and knee (the steps that find it come after the
# migration's busy seconds, which could read as latency on this shared
# machine); once the drill has reported, the container moved back from the
# migrations view's form (refused without the token, refused by the agent
# for a container it lacks, then started); a second run torn down; a run
# towards no sink.
MIG_STATE='fetch("api/migrations").then((r) => r.json()).then((d) => d.migrations.filter((m) => m.kind === "zero-downtime").map((m) => m.state).join())'
steps=$(jq -n --arg url "$URL/#session-test" --arg fill "$JS_FILL" --arg st "$ST" \
	--arg rows "$ROWS" --arg knee "$KNEE_BOX" --arg shown "$SHOWN" --arg migst "$MIG_STATE" \
	--arg png "$ES_BUILD/console-session-test.png" --arg mpng "$ES_BUILD/console-migrations.png" \
	--arg dom "$ES_TMP/dom.html" --arg tok "$DRILL_TOKEN" --arg mfill "$MIG_FILL" \
	--arg mmsg "$MIG_MSG" --arg n1 "$N1" --arg n2 "$N2" --arg report "$ES_TMP/drill/report.json" '[
	{navigate: $url},
	{wait: "\($st).state !== undefined", name: "page"},
	{eval: "(\($fill))(\"\", 8, 1)"},
	{wait: "document.getElementById(\"st-message\").dataset.bad === \"1\"", name: "refused"},
	{value: "document.getElementById(\"st-message\").textContent", name: "refused_text"},
	{value: "fetch(\"api/session-test\").then((r) => r.json()).then((d) => d.state)", name: "after_refused"},
	{eval: "location.hash = \"#migrations\""},
	{wait: "document.querySelector(\".migration[data-state=running]\") !== null", name: "mig running", timeout_s: 40},
	{value: $shown, name: "mig_live"},
	{eval: "location.hash = \"#session-test\""},
	{eval: "(\($fill))(\"\($tok)\", 8, 1)"},
	{wait: "\($st).state === \"running\"", name: "started", timeout_s: 30},
	{value: $migst, name: "mig_at_start"},
	{wait: "\($st).state === \"running\" && \($rows) >= 2", name: "live", timeout_s: 60},
	{value: "[...document.querySelectorAll(\"#st-sessions-body tr\")].map((r) => r.cells[0].textContent + \" \" + r.cells[2].textContent)", name: "live_rows"},
	{eval: "location.hash = \"#migrations\""},
	{wait: "document.querySelector(\".migration:not([data-state=running])\") !== null", name: "mig ended", timeout_s: 120},
	{value: $shown, name: "mig_done"},
	{value: "document.getElementById(\"mig-status\").dataset.count", name: "mig_count"},
	{screenshot: $mpng},
	{eval: "location.hash = \"#session-test\""},
	{wait: "\($st).state !== \"running\"", name: "ended", timeout_s: 120},
	{wait: "document.getElementById(\"st-knee\").offsetWidth > 0 || \($st).state !== \"done\"", name: "knee drawn"},
	{value: "\($st).state", name: "state"},
	{value: $knee, name: "knee"},
	{value: "Number(document.getElementById(\"st-chart\").dataset.points)", name: "points"},
	{value: "document.querySelectorAll(\"#st-steps-body tr\").length", name: "step_rows"},
	{screenshot: $png}, {dom: $dom},
	{file: $report, name: "drill reported", timeout_s: 120},
	{eval: "location.hash = \"#migrations\""},
	{eval: "(\($mfill))(\"\", \"svc\", \"migrate\", \($n2), \($n1))"},
	{wait: "\($mmsg).dataset.bad === \"1\"", name: "mig refused"},
	{value: "\($mmsg).textContent", name: "mig_refused_text"},
	{eval: "(\($mfill))(\"\($tok)\", \"nosuch\", \"migrate\", \($n2), \($n1))"},
	{wait: "\($mmsg).dataset.bad === \"1\"", name: "mig no container"},
	{value: "\($mmsg).textContent", name: "mig_nosuch_text"},
	{eval: "(\($mfill))(\"\($tok)\", \"svc\", \"migrate\", \($n2), \($n1))"},
	{wait: "\($mmsg).dataset.bad === \"0\"", name: "mig started", timeout_s: 20},
	{value: "[\($mmsg).textContent, \($mmsg).dataset.id]", name: "mig_started"},
	{wait: "document.querySelector(`.migration[data-id=\"${\($mmsg).dataset.id}\"]:not([data-state=running])`) !== null", name: "mig back ended", timeout_s: 60},
	{value: $shown, name: "mig_back"},
	{eval: "location.hash = \"#session-test\""},
	{eval: "(\($fill))(\"\($tok)\", 30, 1)"},
	{wait: "\($st).state === \"running\" && \($rows) >= 1", name: "second run", timeout_s: 60},
	{eval: "document.getElementById(\"st-stop\").click()"},
	{wait: "\($st).state === \"stopped\"", name: "torn down", timeout_s: 30},
	{value: $rows, name: "rows_after"},
	{value: "\($st).state", name: "stopped_state"},
	{eval: "(\($fill))(\"\($tok)\", 2, 1, 7799)"},
	{wait: "\($st).state === \"failed\"", name: "no sink", timeout_s: 60},
	{value: "document.getElementById(\"st-status\").textContent", name: "failed_text"}
]')
printf '%s\n' "$steps" >"$ES_TMP/steps.json"
# nsenter and timeout exec: $! is timeout's pid, which passes a kill on to node
"$CON" --net="/proc/$CON_PID/ns/net" timeout 300 node "$ES_ROOT/selftests/console/cdp.js" \
	"$ES_TMP/steps.json" "$ES_TMP/out.json" -- chromium --headless --no-sandbox --disable-gpu \
	--no-first-run --user-data-dir="$ES_TMP/chrome" --window-size=1280,1400 2>"$ES_TMP/chrome.log" &
page_pid=$!
# es_cleanup stops it too if the test ends early (es_bg's list)
echo "$page_pid $(es_pid_start "$page_pid")" >>"$ES_TMP/bg.pids"
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
# The source agent's own record, read with the token; then, once the
# session test's first run has ended, the drill may end while the page goes
# on (the console's namespace stays with it).
agent=$(in1 curl -s -m 5 -H "Authorization: Bearer $DRILL_TOKEN" "$DRILL_URL1/v1/zdm/migrations")
for _ in $(seq 1200); do
	[ "$(inc curl -s -m 5 "$URL/api/session-test" | jq -r .state)" = running ] || break
	kill -0 "$page_pid" 2>/dev/null || break
	sleep 0.1
done
# ... and once the page has moved the container back: node 2's own list
back() { inc curl -s -m 5 "$URL/api/migrations" | jq -c --argjson n "$N2" \
	'[.migrations[] | select(.kind == "plain" and .node_id == $n)]'; }
for _ in $(seq 1200); do
	[ "$(back | jq -r '.[0].state // "none"')" = "done" ] && break
	kill -0 "$page_pid" 2>/dev/null || break
	grep -q '^drill: ' "$ES_TMP/drill.out" && break
	sleep 0.1
done
NAME1=$(nid "$DRILL_URL1" name)
NAME2=$(nid "$DRILL_URL2" name)
agent2=$(in1 curl -s -m 5 -H "Authorization: Bearer $DRILL_TOKEN" "$DRILL_URL2/v1/migrations")
# the console's own refusals, while the agents run (the wrong token reaches none)
mact() { inc curl -s -m 5 -w ' %{http_code}' -X POST "$URL/api/migrations" -d "$@"; }
wrong=$(mact "{\"kind\":\"migrate\",\"container\":\"svc\",\"from\":$N2,\"to\":$N1}" \
	-H "Authorization: Bearer x$DRILL_TOKEN")
bad_node=$(mact "{\"kind\":\"zdm\",\"container\":\"svc\",\"from\":$N2,\"to\":99}" \
	-H "Authorization: Bearer $DRILL_TOKEN")
bad_ct=$(mact "{\"kind\":\"zdm\",\"container\":\"\",\"from\":$N2,\"to\":$N1}" \
	-H "Authorization: Bearer $DRILL_TOKEN")
# a zero-downtime start of a container node 2 lacks, through the console and
# as `edgeshift zdm` sends it straight to the agent: the same refusal
zdm_con=$(mact "{\"kind\":\"zdm\",\"container\":\"nosuch\",\"from\":$N2,\"to\":$N1}" \
	-H "Authorization: Bearer $DRILL_TOKEN")
zdm_agent=$(in1 curl -s -m 5 -w ' %{http_code}' -H "Authorization: Bearer $DRILL_TOKEN" -d '{}' \
	"$DRILL_URL2/v1/zdm/migrations?container=nosuch&to=$NAME1&mode=partial")
# a control: a start without the token, straight at the agent, is logged refused
in1 curl -s -o /dev/null -m 5 -d '{}' "$DRILL_URL2/v1/migrations"
rm -f "$SITE"
grep -q '^drill: ' "$ES_TMP/drill.out" && kill "$page_pid" 2>/dev/null	# it would wait in vain
wait "$page_pid"
rc=$?
o=$ES_TMP/out.json
es_diag <<<"browser: $(jq -c '{failed, waited, values: (.values | del(.mig_live, .mig_done, .mig_back))}' "$o" 2>&1) (after $SECONDS s)"
es_diag <<<"migration while it ran: $(jq -c .values.mig_live "$o" 2>&1)"
es_diag <<<"migration after: $(jq -c .values.mig_done "$o" 2>&1)"
es_expect_eq "the page went through every step, open from before the migration to its end" "$rc" 0

# ---- the session test ----
es_check "no token: the page says the start was refused (401) and why" \
	jq -e '.values.refused_text | test("refused \\(401\\): actions need the agents. bearer token")' "$o"
es_expect_eq "no token: no test ran" "$(jq -r .values.after_refused "$o")" idle
es_check "while it ran the page listed its sessions, sending ($(jq -c .values.live_rows "$o"))" \
	jq -e '.values.live_rows | length >= 2 and all(test("^[0-9]+ sending$"))' "$o"
es_expect_eq "the session test started beside the migration (running when the test was)" \
	"$(jq -r .values.mig_at_start "$o")" running
# The first run's result, as the console kept it, before the second replaced it.
es_expect_eq "the run from the form completed" "$(jq -r .values.state "$o")" "done"
es_diag <<<"knee on the page: $(jq -c .values.knee "$o")"
dom=$ES_TMP/dom.html
# The engine's result, kept in the page's DOM as the API gave it.
first=$(python3 - "$dom" <<'PY'
import html.parser, json, sys
class P(html.parser.HTMLParser):
    rows, verdicts, knee = [], [], None
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == 'tr' and 'data-sessions' in a:
            self.rows.append(int(a['data-sessions']))
        if tag == 'td' and 'slo-' in a.get('class', ''):
            self.verdicts.append(a['class'].split('slo-')[1])
        if a.get('id') == 'st-knee':
            self.knee = int(a.get('data-sessions', 0))
        if a.get('id') == 'st-status':
            self.state, self.steps = a.get('data-state'), int(a.get('data-steps', 0))
p = P()
p.feed(open(sys.argv[1]).read())
print(json.dumps({'rows': p.rows, 'verdicts': p.verdicts, 'knee': p.knee, 'state': p.state,
                  'steps': p.steps}))
PY
)
es_diag <<<"page after the run: $first"
knee=$(jq .knee <<<"$first")
# The page's knee is the largest step its rows say met the SLO, whatever
# the machine did. Where it must be needs steps 1 to 4 measured: a step
# the tool left out because its own client stalled (this VM stops for 10
# to 30 ms every few seconds; in one CI run steps 1 to 3 all did, beside
# the second lane's drills) says nothing of the link.
es_check "the knee is the largest step the page's rows say met the SLO, got $knee" \
	jq -e --argjson k "$knee" '[[.rows, .verdicts] | transpose[] | select(.[1] == "met") | .[0]] |
	(max // 0) == $k' <<<"$first"
low_stalled=$(jq -c '[[.rows, .verdicts] | transpose[] | select(.[0] <= 4 and .[1] == "stalled") |
	.[0]]' <<<"$first")
if [ "$low_stalled" = "[]" ]; then
	es_check "the knee: 3 or 4 sessions of 20 Mbit/s on 100 Mbit/s (5 overfill it), got $knee" \
		test "$knee" -ge 3 -a "$knee" -le 4
else
	es_skip "the knee: 3 or 4 sessions of 20 Mbit/s on 100 Mbit/s" \
		"steps $low_stalled stalled: the tool left them out"
fi
# A step the tool left out (its client stalled, its row says so) says nothing either way.
es_check "the step after the knee missed the SLO (its row says so; stalled ones skipped)" \
	jq -e --argjson k "$knee" '[.rows, .verdicts] | transpose |
	map(select(.[0] > $k and .[1] != "stalled")) | .[0][1] == "missed"' <<<"$first"
# no step met: no knee to label
es_check "the knee's label says it and stays inside the plot ($(jq -c .values.knee "$o"))" \
	jq -e --argjson k "$knee" '.values.knee | .inside and .sessions == $k and
	(.text | test(if $k == 0 then "^$"
		      else "^knee: \($k) sessions \\(\($k * 20).0 Mbit/s\\) meet the SLO$" end))' "$o"
es_check "the chart has a point per step, the table a row per step ($first)" \
	jq -e --argjson p "$(jq .values.points "$o")" '.steps == $p and $p == (.rows | length) and $p >= 5' <<<"$first"

es_expect_eq "teardown from the page: stopped, no session listed" \
	"$(jq -r '.values | "\(.stopped_state),\(.rows_after)"' "$o")" "stopped,0"
es_expect_eq "teardown: no session-test process left under the console" \
	"$(pgrep -P "$CON_PID" -c)" 0
rx() { es_in d ip -j -s link show "$VD" | jq '.[0].stats64.rx.packets'; }
a=$(rx)
sleep 1
b=$(rx)
# A sender left running would bring thousands of packets a second; the node's
# ARP probe of a neighbour gone quiet, or a last closing segment, a few.
es_expect_le "teardown: the sink's link receives at most 3 packets in 1 s ($a, then $b)" \
	"$([ -n "$a" ] && [ -n "$b" ] && echo $((b - a)))" 3

es_check "a run towards no sink fails, and the page says why ($(jq -c .values.failed_text "$o"))" \
	jq -e '.values.failed_text | test("^failed: .*no answer from the sink at 10.249.0.2 port 7799")' "$o"

act() { inc curl -s -o /dev/null -w '%{http_code}' -X "$1" "${@:2}" "$URL/api/session-test"; }
body='{"to":"10.249.0.2","rate_mbit":1,"sessions":1,"step_s":0.1,"slo_us":1000}'
es_expect_eq "without the token: start and teardown refused (401)" \
	"$(act POST -d "$body"),$(act DELETE)" "401,401"
es_expect_eq "a destination that is not an address or host name: 400" \
	"$(act POST -H "Authorization: Bearer $DRILL_TOKEN" -d '{"to":"<img src=x>","rate_mbit":1,"sessions":1,"step_s":1,"slo_us":1000}')" 400

# ---- the migration beside it ----
a0=$(jq -c '.[0]' <<<"$agent")
pm=$(jq -c '.values.mig_done[0]' "$o")
live=$(jq -c '{live: .values.mig_live}' "$o")
es_expect_eq "the page shows one migration (the engine's inside the zero-downtime one)" \
	"$(jq -r '.values | "\(.mig_done | length),\(.mig_count)"' "$o")" "1,1"
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

# ---- the migration started from the page ----
es_check "no token: the page says the migration was refused (401) and why ($(jq -c .values.mig_refused_text "$o"))" \
	jq -e '.values.mig_refused_text | test("^not started: refused \\(401\\): actions need the agents. bearer token")' "$o"
why=$(jq -r .values.mig_nosuch_text "$o")
es_expect_eq "a container the agent lacks: the page gives the agent's refusal verbatim" \
	"$why" "not started: the agent of $NAME2 refused (HTTP 404): no container \"nosuch\" on this node"
es_expect_eq "a wrong token: refused (401), and why" "$wrong" \
	"{\"error\":\"actions need the agents' bearer token\"} 401"
es_expect_eq "an unknown node, an empty container: 400 with the reason" "$bad_node | $bad_ct" \
	'{"error":"from and to must be the ids of two different nodes of the console"} 400 | {"error":"container must be a container name (1 to 128 of [A-Za-z0-9_.-])"} 400'
es_diag <<<"zero-downtime start of nosuch: console $zdm_con; agent $zdm_agent"
es_expect_eq "a zero-downtime start goes as edgeshift zdm's: the agent's refusal, status and words" \
	"$(jq -r '"\(.agent_status) \(.agent_error)"' <<<"${zdm_con% *}") ${zdm_con##* }" \
	"${zdm_agent##* } $(jq -r .error <<<"${zdm_agent% *}") ${zdm_agent##* }"
pb=$(jq -c --arg id "$(jq -r '.values.mig_started[1]' "$o")" '.values.mig_back | map(select(.id == $id))' "$o")
es_diag <<<"page's migration: $(jq -c .values.mig_started "$o"); shown: $pb; node 2's agent: $agent2"
es_expect_eq "the agent of node 2 has one migration, the page's: svc back to node 1, done" \
	"$(jq -r '[length, (.[0] | .id, .container, .to, .state)] | join(" ")' <<<"$agent2")" \
	"1 $(jq -r '.values.mig_started[1]' "$o") svc $NAME1 done"
es_expect_eq "the page showed it: plain, done, svc, from node 2 to node 1" \
	"$(jq -r '.[0] | "\(.kind) \(.state) \(.container) \(.title)"' <<<"$pb")" \
	"$(jq -rn --arg a "$NAME2" --arg b "$NAME1" '"plain done svc plain migration of svc: \($a) \u2192 \($b)"')"
es_check "with its phases as the agent's ($(jq -c '.[0].phases | map(.name)' <<<"$pb"))" \
	jq -e --argjson a "$(jq -c '.[0]' <<<"$agent2")" '.[0].phases | map(.name) as $p |
	$p == ($a.phases | map(.name)) and ($p | index("checkpoint")) != null and
	($p | index("restore")) != null' <<<"$pb"

jq -r '.console[]' "$o" 2>/dev/null | es_diag
# The refused starts are the failed loads: seen, they also show the log is read.
es_expect_eq "the browser logged nothing (network errors included) but the refused starts" \
	"$(jq -c '[.console[] | (capture("status of (?<s>40[14])").s // .)]' "$o")" '["401","401","404"]'

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
es_expect_eq "the page's start without the token reached no agent (node 2 logged one refusal: the control's)" \
	"$(grep -c auth_refused "$ES_TMP/drill/agent-n2.log")" 1
[ "$rc" = 0 ] || es_diag <"$ES_TMP/drill.out"
es_diag <<<"drill ended ($rc) after $SECONDS s"
es_done
