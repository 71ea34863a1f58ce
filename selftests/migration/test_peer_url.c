// SPDX-License-Identifier: GPL-2.0-only
/*
 * Migration peers are named by URL ("http://10.0.0.2:9464"); the data
 * path needs their address and port. es_url_host_port/es_url_ipv4 must
 * read what the peer configuration accepts and refuse the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "harness.h"
#include "http/http_url.h"

static const struct {
	const char	*url;
	const char	*host;
	int		port;
} good[] = {
	{ "http://10.0.0.2:9464", "10.0.0.2", 9464 },
	{ "http://10.0.0.2:9464/", "10.0.0.2", 9464 },
	{ "https://10.0.0.2/v1/x", "10.0.0.2", 443 },
	{ "http://10.0.0.2", "10.0.0.2", 80 },
	{ "HTTP://node-b.example:8080/p?q=1", "node-b.example", 8080 },
	{ "http://user:pw@10.1.2.3:1", "10.1.2.3", 1 },
	{ "http://[fd00::2]:9464/", "fd00::2", 9464 },
	{ "https://[::1]", "::1", 443 },
	{ "http://h:65535#frag", "h", 65535 },
};

static const char *const bad[] = {
	"", "10.0.0.2:9464", "ftp://10.0.0.2", "http://", "http:///x", "http://:80",
	"http://h:", "http://h:0", "http://h:65536", "http://h:12a", "http://h:123456",
	"http://[fd00::2", "http://[fd00::2]x:1", "unix:///run/x.sock",
};

TEST(host_and_port)
{
	char host[64];
	uint16_t port;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(host, 0, sizeof(host));
		port = 0;
		EXPECT_EQ(es_url_host_port(good[i].url, host, sizeof(host), &port), 0, good[i].url);
		EXPECT_TRUE(!strcmp(host, good[i].host), good[i].url);
		EXPECT_EQ(port, good[i].port, good[i].url);
	}
}

TEST(refused)
{
	char host[64];
	uint16_t port;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(es_url_host_port(bad[i], host, sizeof(host), &port), -EINVAL, bad[i]);
	EXPECT_EQ(es_url_host_port("http://a-long-name:1", host, 4, &port), -EINVAL,
		  "a host longer than the buffer");
}

TEST(ipv4_only)
{
	uint32_t a = 0;
	uint16_t port = 0;

	EXPECT_EQ(es_url_ipv4("http://10.0.0.2:9464/", &a, &port), 0, "IPv4 literal");
	EXPECT_EQ(a, inet_addr("10.0.0.2"), "network order");
	EXPECT_EQ(port, 9464, "port");
	EXPECT_EQ(es_url_ipv4("http://10.0.0.3", &a, NULL), 0, "port not asked");
	EXPECT_EQ(a, inet_addr("10.0.0.3"), "network order");
	EXPECT_EQ(es_url_ipv4("http://node-b:9464", &a, &port), -EINVAL, "a name");
	EXPECT_EQ(es_url_ipv4("http://[fd00::2]:9464", &a, &port), -EINVAL, "IPv6");
}

TEST_HARNESS_MAIN
