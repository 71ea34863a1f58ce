#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# ce_receiver.sh PORT FILE: the SDK receiver (ce_receiver.js) on 127.0.0.1:PORT,
# recording into FILE; for tools that start a receiver by command
# (ES_DRILL_CE_RECEIVER of tools/drill/drill.sh). Not a test: it prints no TAP.
root=$(cd "$(dirname "$0")/../.." && pwd)
NODE_PATH=${ES_BUILD:-$root/build}/events-js/node_modules exec node \
	"$root/selftests/events/ce_receiver.js" --port "$1" --out "$2"
