#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs last: every test before it must have removed what it made.
# Test objects carry the per-run prefix "es" + 7 hex/decimal characters.
echo "TAP version 13"
echo "1..5"
pat='^es[0-9a-f]{5,7}-'
ns=$(ip netns list | awk '{ print $1 }' | grep -E "$pat")
pins=$(ls /sys/fs/bpf 2>/dev/null | grep -E "$pat")
# runc names a container's cgroups es-NODE-NAME, NODE starting with the prefix
cgroups=$(cd /sys/fs/cgroup 2>/dev/null && ls -d */es* 2>/dev/null | grep -E "/(es-)?${pat#^}")
procs=$(pgrep -af 'edgeshiftd|edgeshift-console|chromium|es-traffic|es-flood|es-wan|prometheus --config.file=/tmp/es' | grep -E '/sys/fs/bpf/es[0-9a-f]{5,7}-|/tmp/es[0-9a-f]{5,7}' | grep -v defunct)
# each test's ES_TMP (lib.sh): a background job that outlived its test
# writes into it while it is removed, and the directory stays
tmpdirs=$(ls -d /tmp/es* 2>/dev/null | grep -E '^/tmp/es[0-9a-f]{5,7}\.[A-Za-z0-9]{6}$')
n=0
check() {
	n=$((n + 1))
	if [ -z "$2" ]; then echo "ok $n - no leftover $1"
	else echo "not ok $n - no leftover $1"; printf '%s\n' "$2" | sed 's/^/# /'; fi
}
check "network namespaces" "$ns"
check "pin directories" "$pins"
check "processes" "$procs"
check "cgroups" "$cgroups"
check "temporary directories" "$tmpdirs"
