#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The tree keeps its rooms: tools/dev/check-layout reads the sources and
# the built objects (no circle between files or rooms, doors, layers, HTTP
# only at the edge, no test code in a product binary).
root=$(cd "$(dirname "$0")/../.." && pwd)
exec python3 "$root/tools/dev/check-layout" --build "${ES_BUILD:-$root/build}"
