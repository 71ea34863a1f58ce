#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# svg_bounds.sh FILE.svg: every text of the picture as a browser draws it
# (Debian's headless Chromium, the system's sans-serif), one line each:
# "IN|OUT x0 x1 width text" (x0, x1: its left and right edge as drawn).
# OUT when it runs past the picture's left or right edge. Not a test: it prints no TAP (the session test's checks use it).
svg=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
	echo '<!DOCTYPE html><html><body>'
	grep -v '^<?xml' "$svg"
	cat <<'JS'
<script>
const svg = document.querySelector('svg');
const frame = svg.getBoundingClientRect();
// as drawn, rotated labels included, in the picture's pixels (drawn at 1:1)
document.body.dataset.bounds = [...svg.querySelectorAll('text')].map((t) => {
	const r = t.getBoundingClientRect();
	const x0 = r.left - frame.left, x1 = r.right - frame.left;
	return (x0 >= 0 && x1 <= frame.width ? 'IN' : 'OUT') + ' ' + x0.toFixed(1) + ' ' +
		x1.toFixed(1) + ' ' + frame.width + ' ' + t.textContent;
}).join('\n');
</script></body></html>
JS
} >"$dir/page.html"
timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$dir/chrome" \
	--virtual-time-budget=1000 --dump-dom "file://$dir/page.html" 2>/dev/null |
	python3 -c 'import html.parser, sys
class P(html.parser.HTMLParser):
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == "body" and "data-bounds" in a:
            print(a["data-bounds"])
P().feed(sys.stdin.read())'
