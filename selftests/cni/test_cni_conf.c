// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift-cni's configuration parser, versions and results, table
 * driven: every bad configuration gets the spec's code and a message
 * naming the field; results convert to each version's shape.
 */
#include <string.h>
#include "harness.h"
#include "cni_conf.h"
#include "cni_env.h"
#include "cni_result.h"
#include "cni_version.h"
#include "ipam.h"
#include "nl.h"

static const struct {
	const char	*conf;
	int		code;		/* 0: parses */
	const char	*field;		/* substring of the message */
} cases[] = {
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"macvlan\"}", 0, "" },
	{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"host-device\",\"device\":\"eth1\"}", 0, "" },
	{ "{\"cniVersion\":\"0.2.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"macvlan\"}", 1, "cniVersion" },
	{ "{\"name\":\"n\",\"type\":\"t\",\"kind\":\"macvlan\"}", 1, "cniVersion" },
	{ "{\"cniVersion\":\"1.0.0\",", 6, "JSON" },
	{ "[1,2]", 6, "object" },
	{ "{\"cniVersion\":\"1.0.0\",\"type\":\"t\",\"kind\":\"macvlan\"}", 7, "name" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"ipvlan\"}", 7, "kind" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"macvlan\",\"mode\":\"x\"}", 7, "mode" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"macvlan\",\"mtu\":-1}", 7, "mtu" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"macvlan\",\"mac\":\"01:00:00:00:00:01\"}", 7, "mac" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"macvlan\",\"master\":7}", 7, "master" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"host-device\"}", 7, "device" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"host-device\",\"device\":\"a\",\"hwaddr\":\"02:00:00:00:00:01\"}", 7, "only one" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"macvlan\",\"ipam\":{\"type\":\"../x\"}}", 7, "ipam.type" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"m\",\"type\":\"multicni\",\"plugins\":[{\"name\":\"a\",\"type\":\"macvlan\"},{\"name\":\"b\",\"type\":\"host-device\",\"devices\":[\"x\",\"x\"]}],\"default\":\"a\"}", 7, "plugins[1].devices[1]" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"m\",\"type\":\"multicni\",\"plugins\":[{\"name\":\"a\",\"type\":\"macvlan\"},{\"name\":\"b\",\"type\":\"macvlan\"}]}", 7, "default" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"m\",\"type\":\"multicni\",\"plugins\":[{\"name\":\"a\",\"type\":\"macvlan\"}],\"default\":\"z\"}", 7, "default" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"macvlan\",\"stateDir\":\"rel\"}", 7, "stateDir" },
	/* an HTTP IPAM without a server can serve no ADD: refused before one starts */
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"t\",\"kind\":\"macvlan\","
	  "\"ipam\":{\"type\":\"vdhcp\",\"servers\":[]}}", 7, "ipam.servers" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"m\",\"type\":\"multicni\",\"default\":\"a\","
	  "\"plugins\":[{\"name\":\"a\",\"type\":\"macvlan\"},{\"name\":\"b\","
	  "\"type\":\"host-device\",\"device\":\"x\",\"ipam\":{\"type\":\"vdhcp\","
	  "\"servers\":[]}}]}", 7, "plugins[1].ipam.servers" },
};

TEST(conf_table)
{
	struct cni_error err;
	struct cni_conf c;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		ret = cni_conf_parse(cases[i].conf, strlen(cases[i].conf), &c, &err);
		if (err.code != cases[i].code || (ret != 0) != (cases[i].code != 0) ||
		    !strstr(err.msg, cases[i].field))
			TEST_LOG("case %zu: code %d msg \"%s\"", i, err.code, err.msg);
		EXPECT_EQ(err.code, cases[i].code, "error code");
		EXPECT_TRUE(strstr(err.msg, cases[i].field) != NULL, "message names the field");
		cni_conf_free(&c);
	}
}

TEST(paper_b_multicni_keeps_its_field_names)
{
	const char *j = "{\"name\":\"multicni\",\"type\":\"multicni\",\"cniVersion\":\"1.0.0\","
		"\"kubeconfig\":\"/k\",\"default\":\"macvlan\",\"plugins\":["
		"{\"name\":\"macvlan\",\"type\":\"macvlan\",\"master\":\"NIC\",\"promiscMode\":true,"
		"\"ipam\":{\"type\":\"vdhcp\",\"servers\":[{\"url\":\"http://h:1/p/\",\"user\":\"u\",\"password\":\"p\"}]}},"
		"{\"name\":\"host-device\",\"type\":\"host-device\",\"devices\":[\"NIC1\",\"NIC2\"],"
		"\"ipam\":{\"type\":\"vdhcp\","
		"\"servers\":[{\"url\":\"http://h:1/p/\"}]}}]}";
	struct cni_error err = {};
	struct cni_conf c;

	ASSERT_OK(cni_conf_parse(j, strlen(j), &c, &err), err.msg);
	EXPECT_EQ(c.n_del, 2u, "delegates");
	EXPECT_EQ(c.default_idx, 0, "default");
	EXPECT_TRUE(c.del[0].promisc, "promiscMode");
	EXPECT_EQ(c.del[1].n_pool, 2u, "devices");
	EXPECT_TRUE(!strcmp(c.kubeconfig, "/k"), "kubeconfig");
	cni_conf_free(&c);
}

TEST(result_shapes_per_version)
{
	json_t *r = cni_result_new(), *v;
	unsigned char mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct cni_error err = {};
	json_t *ipam = json_loads("{\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.2/24\"}]}", 0, NULL);

	cni_result_add_iface(r, "eth0", mac, 1400, "/run/netns/x");
	ASSERT_OK(cni_result_merge_ipam(r, ipam, 0, &err), err.msg);
	v = cni_result_for_version(r, "0.3.1");
	EXPECT_TRUE(!strcmp(json_string_value(json_object_get(json_array_get(
		json_object_get(v, "ips"), 0), "version")), "4"), "0.3.1 ips carry version");
	EXPECT_TRUE(!json_object_get(json_array_get(json_object_get(v, "interfaces"), 0), "mtu"),
		    "no mtu before 1.1");
	json_decref(v);
	v = cni_result_for_version(r, "1.1.0");
	EXPECT_TRUE(!json_object_get(json_array_get(json_object_get(v, "ips"), 0), "version"),
		    "1.x ips have no version");
	EXPECT_EQ(json_integer_value(json_object_get(json_array_get(json_object_get(v, "interfaces"), 0),
						     "mtu")), 1400, "1.1 interfaces carry mtu");
	json_decref(v);
	json_decref(ipam);
	json_decref(r);
}

TEST(cni_args)
{
	char v[32];

	EXPECT_EQ(cni_args_get("IgnoreUnknown=1;EDGESHIFT_NETWORK=data;K=v", "EDGESHIFT_NETWORK",
			       v, sizeof(v)), 1, "found");
	EXPECT_TRUE(!strcmp(v, "data"), "value");
	EXPECT_EQ(cni_args_get("EDGESHIFT_NETWORKX=1", "EDGESHIFT_NETWORK", v, sizeof(v)), 0,
		  "prefix of another key");
	EXPECT_EQ(cni_version_num("1.1.0") > cni_version_num("1.0.0"), 1, "order");
}

/*
 * CHECK's part of a prevResult: our interface's addresses that ADD
 * recorded, matched as addresses (a runtime hands the result back
 * re-encoded, IPv6 lower case and shortened), and a recorded address
 * the prevResult lacks named.
 */
TEST(check_own_part_by_address)
{
	json_t *prev = json_loads("{\"ips\":[{\"address\":\"fd00::5/64\",\"interface\":1},"
				  "{\"address\":\"10.1.0.2/24\"},"
				  "{\"address\":\"10.2.0.2/24\",\"interface\":1}],"
				  "\"routes\":[{\"dst\":\"fd01::/64\",\"gw\":\"fd00::1\"}]}",
				  0, NULL);
	json_t *ips = json_loads("[{\"address\":\"FD00:0:0::5/64\"},{\"address\":\"10.2.0.2/24\"}]",
				 0, NULL);
	json_t *routes = json_loads("[{\"dst\":\"FD01:0::/64\",\"gw\":\"FD00::1\"}]", 0, NULL);
	json_t *lacking = json_loads("[{\"address\":\"10.3.0.2/24\"}]", 0, NULL);
	json_t *own;

	ASSERT_TRUE(prev && ips && routes && lacking, "test JSON parses");
	own = ipam_own_part(prev, 1, ips, routes);
	ASSERT_TRUE(own != NULL, "own part built");
	EXPECT_EQ(json_array_size(json_object_get(own, "ips")), 2,
		  "both recorded addresses found, the IPv6 one spelt otherwise");
	EXPECT_EQ(json_array_size(json_object_get(own, "routes")), 1,
		  "the route spelt otherwise found");
	EXPECT_TRUE(ipam_own_missing(own, ips) == NULL, "nothing recorded is missing");
	EXPECT_TRUE(ipam_own_missing(own, lacking) &&
		    !strcmp(ipam_own_missing(own, lacking), "10.3.0.2/24"),
		    "a recorded address prevResult lacks is named");
	json_decref(own);
	own = ipam_own_part(prev, 0, ips, routes);
	EXPECT_EQ(json_array_size(json_object_get(own, "ips")), 0,
		  "another interface's index, or none, is not ours");
	json_decref(own);
	json_decref(lacking);
	json_decref(routes);
	json_decref(ips);
	json_decref(prev);
}

/* One address however spelt, for CHECK and the HTTP IPAM's comparison. */
TEST(addresses_compare_however_spelt)
{
	EXPECT_TRUE(nl_addr_same("FD00:0:0::5/64", "fd00::5/64"), "IPv6 case and zeros");
	EXPECT_TRUE(nl_addr_same("10.1.0.2/24", "10.1.0.2/24"), "IPv4");
	EXPECT_TRUE(!nl_addr_same("fd00::5/64", "fd00::5/48"), "another prefix");
	EXPECT_TRUE(!nl_addr_same("fd00::5/64", "fd00::6/64"), "another address");
	EXPECT_TRUE(!nl_addr_same("10.1.0.2", "::ffff:10.1.0.2"), "another family");
	EXPECT_TRUE(nl_addr_same("not-an-ip", "NOT-AN-IP"), "text as text");
}

TEST_HARNESS_MAIN
