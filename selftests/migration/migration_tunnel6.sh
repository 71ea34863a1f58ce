#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# migration_forwarding.sh on nodes joined by IPv6 only (an IPv6-only
# cluster): the tunnel's outer headers are IPv6 (es_mig_outer6), the
# user and the service IPv6 too. Handoff detection, forwarding, hold,
# replay, cut-over, a full buffer and an abort in the hold, the same counts.
ES_MIG_FAMILY=6 ES_MIG_NODE_FAMILY=6 exec bash "$(dirname "$0")/migration_forwarding.sh"
