#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# migration_forwarding.sh with the tcx forwarder on the users' interface
# (the hook for veth): the same counts must come out of either hook.
ES_MIG_USER_HOOK=usertc exec bash "$(dirname "$0")/migration_forwarding.sh"
