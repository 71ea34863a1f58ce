// SPDX-License-Identifier: GPL-2.0-only
#include "es_names.h"

const char *const es_dir_names[ES_DIR_MAX] = {
	[ES_DIR_RX] = "rx",
	[ES_DIR_TX] = "tx",
};

const char *const es_skip_names[ES_SKIP_MAX] = {
	[ES_SKIP_NON_IP] = "non_ip",
	[ES_SKIP_VLAN] = "vlan",
	[ES_SKIP_TRUNCATED] = "truncated",
	[ES_SKIP_FRAGMENT] = "fragment",
	[ES_SKIP_BAD_HEADER] = "bad_header",
	[ES_SKIP_OTHER_PROTO] = "other_proto",
	[ES_SKIP_IPV6_EXT] = "ipv6_ext_chain",
	[ES_SKIP_MAP_FULL] = "map_full",
	[ES_SKIP_NO_SLOT] = "no_slot",
	[ES_SKIP_SLOT_BUSY] = "slot_busy",
};

const char *const es_close_names[ES_CLOSE_MAX] = {
	[ES_CLOSE_FIN] = "fin",
	[ES_CLOSE_RST] = "rst",
	[ES_CLOSE_IDLE] = "idle",
};

const char *const es_lat_names[ES_LAT_MAX] = {
	[ES_LAT_TCP_HANDSHAKE] = "tcp_handshake",
	[ES_LAT_SERVICE] = "service",
	[ES_LAT_RESPONSE] = "response",
};
