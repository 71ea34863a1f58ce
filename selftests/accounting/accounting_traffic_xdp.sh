#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# accounting_traffic.sh with the XDP receive hook instead of tcx ingress:
# the same exact counts must come out of either hook.
ES_RX_HOOK=xdp exec bash "$(dirname "$0")/accounting_traffic.sh"
