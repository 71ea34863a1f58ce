# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Sourced by tools/setup/install-deps (as root). The Detector's tests
# (selftests/events/) run a receiver on the official CloudEvents JavaScript
# SDK: node runs it, npm installs the SDK into the build directory when a
# test first needs it. Debian's nodejs and npm; nothing when a node and an
# npm are already on PATH (another nodejs build ships its own npm, and
# Debian's npm package would conflict with it).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	log "installing nodejs and npm (the CloudEvents consumer of selftests/events)"
	apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
