#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# migration_forwarding.sh with an IPv6 user and an IPv6 service (the
# tunnel between the nodes stays IPv4): handoff detection from the IPv6
# service entry, forwarding, hold, replay through a raw IPv6 socket,
# cut-over, a full buffer and an abort in the hold, the same counts.
ES_MIG_FAMILY=6 exec bash "$(dirname "$0")/migration_forwarding.sh"
