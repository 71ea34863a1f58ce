#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor on a network bottleneck: the three-tier es-tier
# pipeline (tiers.bash) with each tier a pod, a network namespace of its
# own joined to the node's by a veth, the requests (1000 bytes each, 1500
# a second: about 13 Mbit/s) sent over TCP from tier to tier. The node's
# side of every link has a tbf root qdisc at 1 Gbit/s (a bandwidth limit
# that does not bind). 2.5 s into the run, the tbf on logic's link drops
# to 8 Mbit/s: logic can take only about 900 requests a second, the
# requests queue on the link and in the connection ahead of it, and the
# tbf counts the times it held packets back (overlimits). `edgeshift
# advise`, in the node's namespace with each tier's link, must rank logic
# first, driven by a network series of its link (net_limited, net_drops or
# net_backlog), scale it out, with a reason that says the link is
# rate-limited and its overlimits, and hold the others.
# ES_ADV_TIER changes the tier (default logic) and ES_ADV_NET_RATE the
# rate (default 8mbit), for measuring accuracy. About 7 s a window.
source "$(dirname "$0")/../lib.sh"
es_require_root

source "$(dirname "$0")/tiers.bash"

tiers_skip_without_v1
es_plan 7
trap 'tiers_cleanup; es_cleanup' EXIT

T=${ES_ADV_TIER:-logic}
make_cgroups
tiers_net_setup || es_not_ok "the tiers' namespaces and links" "see the log"
# measure: one run. The window (16 samples of 250 ms) starts once the
# tiers are connected; the rate limit falls in its second half.
measure() {
	tc -n "$(es_ns node)" qdisc change dev "$(tiers_link "$T")" root \
		tbf rate 1gbit burst 256kb latency 50ms
	TIERS_LIMIT=net tiers_run "$T" 2.5 6 "${ES_ADV_NET_RATE:-8mbit}"
	sleep 0.5
	tiers_advise_short
	held=$(tc -n "$(es_ns node)" -s -j qdisc show dev "$(tiers_link "$T")" root |
		jq '.[0].overlimits // 0')
	tiers_stop
	wait "$TIERS_PID" 2>/dev/null
}
# TCP through a tbf is noisy (it backs off after a drop, bursts after):
# the link's best series reached r = 0.52-0.82 in 8 quiet runs here, and
# fell under 0.5 in fresh-clone runs beside the other lane (0.40 once,
# 0.48 in two windows in a row once). A window that scales nothing out is
# measured again, up to three windows in all, each one's reason logged.
for w in 1 2 3; do
	measure
	[ "$(jq -r '.scale_out // "none"' <<<"$TIERS_OUT" 2>/dev/null)" != none ] && break
	jq -c --arg w "$w" '{window: $w, reason}' <<<"$TIERS_OUT" 2>/dev/null | es_diag
done

# The injection did what it is meant to: the tbf held the tier's traffic back.
es_expect_ge "the tbf on $T's link held packets back (overlimits)" "${held:-0}" 100
case "$(jq -r '.ranking[0].resource' <<<"$TIERS_OUT" 2>/dev/null)" in
net_limited|net_drops|net_backlog|net_rate_used) res=$(jq -r '.ranking[0].resource' <<<"$TIERS_OUT") ;;
*) res="a series of its link (net_limited, net_drops, net_backlog, net_rate_used)" ;;
esac
tiers_expect_first "$T" rate-limited "$res" "network: link $(tiers_link "$T") rate-limited, overlimits"
es_expect_eq "the first block's link is $T's" \
	"$(jq -r '.ranking[0].link' <<<"$TIERS_OUT" 2>/dev/null)" "$(tiers_link "$T")"
es_expect_eq "the other tiers hold" \
	"$(jq -r --arg t "$T" '[.ranking[] | select(.block != $t) | .action] | join(",")' <<<"$TIERS_OUT" \
	2>/dev/null)" hold,hold
es_done
