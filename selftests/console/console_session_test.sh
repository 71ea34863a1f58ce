#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The console's session test, from its form in a real headless Chromium
# (driven through the DevTools protocol, as a user: fill, click, read), on
# an emulated 100 Mbit/s link: the console's namespace is the client, an
# `es-session sink` the destination. Without the token the form's start is
# refused (401, said on the page) and nothing runs; with it the test runs,
# lists its sessions while it runs, and ends with the knee marked on the
# chart, its label inside the plot, as the engine's result says; a second
# run is torn down from the page and its sessions stop sending; a run
# towards no sink fails with the reason on the page. Requests without the
# token are refused. Screenshot: build/console-session-test.png.
. "$(dirname "$0")/../lib.sh"
es_require_root console_session_test
if ! command -v chromium >/dev/null || ! command -v node >/dev/null ||
   [ ! -f "$ES_BUILD/console-ui/.built" ]; then
	es_plan 1
	es_skip "console session test" "chromium, node or build/console-ui missing (tools/setup/install-deps, then make)"
	exit 0
fi
es_plan 16

es_netns_add c && es_netns_add d && es_netns_add n || exit 1
es_no_ipv6 c d n
es_veth c vc 10.249.0.1 d vd 10.249.0.2 || exit 1
# The console's node: an agent off the test's path.
es_veth c va 10.249.1.1 n vn 10.249.1.2 || exit 1
es_agent_launch n n -l 0.0.0.0:9464
VC=$(es_ifname vc)
VD=$(es_ifname vd)
# The session test's own link (docs/session-test.md): 100 Mbit/s, ~12 ms of queue.
tc -n "$(es_ns c)" qdisc add dev "$VC" root tbf rate 100mbit burst 16kb limit 150000
RT=()
command -v chrt >/dev/null && RT=(chrt -f 10)
es_bg --log "$ES_TMP/sink.log" es_in d "${RT[@]}" "$ES_BUILD/es-session" sink --port 7700
TOKEN=es-console-st-token
echo "$TOKEN" >"$ES_TMP/token"
es_agent_wait n n || exit 1
es_bg --log "$ES_TMP/console.log" es_in c "$ES_BUILD/edgeshift-console" \
	--control-plane http://10.249.1.2:9464 -l 127.0.0.1:8080 --refresh-ms 300 \
	--token-file "$ES_TMP/token" --log-level debug
CON_PID=$ES_BG_PID
URL=http://127.0.0.1:8080
for _ in $(seq 100); do es_in c curl -sf -m 1 "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# drive STEPS_JSON OUT: a browser through its steps
drive() {
	printf '%s\n' "$1" >"$ES_TMP/steps.json"
	es_in c timeout 300 node "$ES_ROOT/selftests/console/cdp.js" "$ES_TMP/steps.json" "$2" -- \
		chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$ES_TMP/chrome" --window-size=1280,1400 2>>"$ES_TMP/chrome.log"
}
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

steps=$(jq -n --arg url "$URL/#session-test" --arg fill "$JS_FILL" --arg st "$ST" \
	--arg rows "$ROWS" --arg knee "$KNEE_BOX" --arg png "$ES_BUILD/console-session-test.png" \
	--arg dom "$ES_TMP/dom.html" '[
	{navigate: $url},
	{wait: "\($st).state !== undefined", name: "page"},
	{eval: "(\($fill))(\"\", 8, 1)"},
	{wait: "document.getElementById(\"st-message\").dataset.bad === \"1\"", name: "refused"},
	{value: "document.getElementById(\"st-message\").textContent", name: "refused_text"},
	{value: "fetch(\"api/session-test\").then((r) => r.json()).then((d) => d.state)", name: "after_refused"},
	{eval: "(\($fill))(\"es-console-st-token\", 8, 1)"},
	{wait: "\($st).state === \"running\" && \($rows) >= 2", name: "live", timeout_s: 60},
	{value: "[...document.querySelectorAll(\"#st-sessions-body tr\")].map((r) => r.cells[0].textContent + \" \" + r.cells[2].textContent)", name: "live_rows"},
	{wait: "\($st).state !== \"running\"", name: "ended", timeout_s: 120},
	{wait: "document.getElementById(\"st-knee\").offsetWidth > 0 || \($st).state !== \"done\"", name: "knee drawn"},
	{value: "\($st).state", name: "state"},
	{value: $knee, name: "knee"},
	{value: "Number(document.getElementById(\"st-chart\").dataset.points)", name: "points"},
	{value: "document.querySelectorAll(\"#st-steps-body tr\").length", name: "step_rows"},
	{screenshot: $png}, {dom: $dom},
	{eval: "(\($fill))(\"es-console-st-token\", 30, 2)"},
	{wait: "\($st).state === \"running\" && \($rows) >= 2", name: "second run", timeout_s: 60},
	{eval: "document.getElementById(\"st-stop\").click()"},
	{wait: "\($st).state === \"stopped\"", name: "torn down", timeout_s: 30},
	{value: $rows, name: "rows_after"},
	{value: "\($st).state", name: "stopped_state"},
	{eval: "(\($fill))(\"es-console-st-token\", 2, 1, 7799)"},
	{wait: "\($st).state === \"failed\"", name: "no sink", timeout_s: 60},
	{value: "document.getElementById(\"st-status\").textContent", name: "failed_text"}
]')
drive "$steps" "$ES_TMP/out.json"
rc=$?
o=$ES_TMP/out.json
es_diag <<<"browser: $(jq -c '{failed, waited, values}' "$o" 2>&1) (after $SECONDS s)"
es_expect_eq "the browser went through every step" "$rc" 0

es_check "no token: the page says the start was refused (401) and why" \
	jq -e '.values.refused_text | test("refused \\(401\\): actions need the agents. bearer token")' "$o"
es_expect_eq "no token: no test ran" "$(jq -r .values.after_refused "$o")" idle
es_check "while it ran the page listed its sessions, sending ($(jq -c .values.live_rows "$o"))" \
	jq -e '.values.live_rows | length >= 2 and all(test("^[0-9]+ sending$"))' "$o"
# The first run's result, as the console kept it, before the second replaced it.
es_expect_eq "the run from the form completed" "$(jq -r .values.state "$o")" "done"
es_diag <<<"knee on the page: $(jq -c .values.knee "$o")"
dom=$ES_TMP/dom.html
# The engine's result, kept in the page's DOM as the API gave it.
first=$(python3 - "$dom" <<'PY'
import html.parser, json, sys
class P(html.parser.HTMLParser):
    rows, knee = [], None
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == 'tr' and 'data-sessions' in a:
            self.rows.append(int(a['data-sessions']))
        if a.get('id') == 'st-knee':
            self.knee = int(a.get('data-sessions', 0))
        if a.get('id') == 'st-status':
            self.state, self.steps = a.get('data-state'), int(a.get('data-steps', 0))
p = P()
p.feed(open(sys.argv[1]).read())
print(json.dumps({'rows': p.rows, 'knee': p.knee, 'state': p.state, 'steps': p.steps}))
PY
)
es_diag <<<"page after the run: $first"
knee=$(jq .knee <<<"$first")
es_check "the knee: 3 or 4 sessions of 20 Mbit/s on 100 Mbit/s (5 overfill it), got $knee" \
	test "$knee" -ge 3 -a "$knee" -le 4
es_check "the step after the knee missed the SLO (its row says so)" \
	grep -q "data-sessions=\"$((knee + 1))\".*slo-missed" <(tr -d '\n' <"$dom" | sed 's/<tr /\n<tr /g')
es_check "the knee's label says it and stays inside the plot ($(jq -c .values.knee "$o"))" \
	jq -e --argjson k "$knee" '.values.knee | .inside and .sessions == $k and
	(.text | test("^knee: \($k) sessions \\(\($k * 20).0 Mbit/s\\) meet the SLO$"))' "$o"
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
es_expect_eq "teardown: the sink's link receives nothing more ($a, then $b packets)" "$b" "$a"

es_check "a run towards no sink fails, and the page says why ($(jq -c .values.failed_text "$o"))" \
	jq -e '.values.failed_text | test("^failed: .*no answer from the sink at 10.249.0.2 port 7799")' "$o"

act() { es_in c curl -s -o /dev/null -w '%{http_code}' -X "$1" "${@:2}" "$URL/api/session-test"; }
body='{"to":"10.249.0.2","rate_mbit":1,"sessions":1,"step_s":0.1,"slo_us":1000}'
es_expect_eq "without the token: start and teardown refused (401)" \
	"$(act POST -d "$body"),$(act DELETE)" "401,401"
es_expect_eq "a destination that is not an address or host name: 400" \
	"$(act POST -H "Authorization: Bearer $TOKEN" -d '{"to":"<img src=x>","rate_mbit":1,"sessions":1,"step_s":1,"slo_us":1000}')" 400
jq -r '.console[]' "$o" 2>/dev/null | es_diag
# The refused start is the one failed load: seen, it also shows the log is read.
es_expect_eq "the browser logged nothing but the refused start's 401" \
	"$(jq -c '[.console[] | if test("status of 401") then "401" else . end]' "$o")" '["401"]'
es_diag <<<"done after $SECONDS s"
es_done
