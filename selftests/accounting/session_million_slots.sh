#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# session_million.sh with the slot table (session_table: slots): live
# sessions exact through a flood, the agent answering within 1 s, /metrics
# under 250 ms and the agent's memory bounded, read through the table's
# mmap. The same sizes and knobs as session_million.sh.
ES_MILLION_TABLE=slots exec bash "$(dirname "$0")/session_million.sh"
