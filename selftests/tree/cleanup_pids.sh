#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The shell tests' cleanup (lib.sh es_cleanup) signals only processes the
# test started. pid_max is 32768 on a small node and a full run wraps it,
# so a recorded pid whose process is gone may name another test's process
# by the time the cleanup signals it. A pid counts as the test's own only
# while the start time recorded with it holds. Here a second,
# independent lib.sh run (its own prefix) records pids in its bg.pids: its
# own process (killed), a process of ours listed with another start time,
# as a reused pid would be (left alone), and one whose command name holds
# ") " (its start time read right).
. "$(dirname "$0")/../lib.sh"
es_plan 5

# the process of "another test": started here, not by the run under test
# (not a job of this shell, which would report its kill on stderr)
OTHER=$(sleep 300 >/dev/null 2>&1 & echo $!)
OTHER_START=$(es_pid_start "$OTHER")
# a command name with ") " in it, as /proc/PID/stat prints it in parentheses
cp "$(command -v sleep)" "$ES_TMP/x) y"
ODD=$("$ES_TMP/x) y" 300 >/dev/null 2>&1 & echo $!)
# this test's cleanup kills both if a check fails before the end
echo "$OTHER $OTHER_START" >>"$ES_TMP/bg.pids"
echo "$ODD $(es_pid_start "$ODD")" >>"$ES_TMP/bg.pids"

es_expect_eq "es_pid_start reads the start time past a name holding ') '" \
	"$(es_pid_start "$ODD")" "$(awk '{ print $(NF - 30) }' "/proc/$ODD/stat")"

# The run under test: one background process of its own; its bg.pids then
# also names OTHER with a start time one tick off (the pid reused).
out=$(bash -c '
	. "$1/selftests/lib.sh"
	es_bg sleep 300
	echo "$ES_BG_PID"
	echo "$2 $(($3 + 1))" >>"$ES_TMP/bg.pids"
	echo "$4 $5" >>"$ES_TMP/bg.pids"
' sub "$ES_ROOT" "$OTHER" "$OTHER_START" "$ODD" "$(es_pid_start "$ODD")")
OWN=$out
sleep 0.2
es_expect_eq "the run's own background process is gone after its cleanup" \
	"$(kill -0 "$OWN" 2>/dev/null && echo alive || echo gone)" gone
es_expect_eq "a pid recorded with another start time (reused) is not signalled" \
	"$(kill -0 "$OTHER" 2>/dev/null && echo alive || echo gone)" alive
es_expect_eq "a pid whose start time holds is signalled, whatever its name" \
	"$(for _ in $(seq 20); do kill -0 "$ODD" 2>/dev/null || break; sleep 0.05; done
		kill -0 "$ODD" 2>/dev/null && echo alive || echo gone)" gone
es_expect_eq "es_kill_ours: a wrong start time leaves it, the right one kills" \
	"$(es_kill_ours "$OTHER" 1 && echo signalled || echo left) \
$(es_kill_ours -KILL "$OTHER" "$OTHER_START" && echo signalled || echo left)" "left signalled"
es_done
