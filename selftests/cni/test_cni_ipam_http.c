// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP IPAM client (cni/ipam_http.c) against the real reference server
 * build/es-ipamd, each test in a network namespace of its own: allocate,
 * check, release, idempotence, 50 parallel allocations, persistence over
 * kill -9, failover, and the failure classes (down, slow, garbage, wrong
 * password, exhausted) with their CNI error codes and time bounds, and a
 * late answer after a failover released rather than leaked.
 */
#include "harness.h"
#include "cni_test_net.h"
#include <jansson.h>
#include "ipam_http.h"
#include "http/http_client.h"
#include "util/clock.h"

#define PORT		18480
#define PORT2		18481
#define PORT_DEAD	18482
#define PORT_STANDIN	18483
#define PARALLEL	50

static const char config_text[] =
	"{\"users\": [{\"user\": \"cni\", \"password\": \"pw-1\"}],\n"
	" \"basePath\": \"/ipam/\",\n"
	" \"networks\": [\n"
	"  {\"name\": \"net1\", \"subnet\": \"10.77.0.0/24\", \"gateway\": \"10.77.0.1\",\n"
	"   \"rangeStart\": \"10.77.0.10\", \"rangeEnd\": \"10.77.0.200\",\n"
	"   \"routes\": [{\"dst\": \"0.0.0.0/0\"}, {\"dst\": \"10.99.0.0/16\", \"gw\": \"10.77.0.254\"}],\n"
	"   \"dns\": {\"nameservers\": [\"10.77.0.2\"], \"search\": [\"edge.local\"]}},\n"
	"  {\"name\": \"tiny\", \"subnet\": \"10.78.0.0/29\", \"gateway\": \"10.78.0.1\",\n"
	"   \"rangeStart\": \"10.78.0.2\", \"rangeEnd\": \"10.78.0.3\"}%s\n"
	" ]}\n";

FIXTURE(ipamd) {
	char	dir[64];
	char	config[128], state[128], log[128], bin[PATH_MAX];
	pid_t	pid;
};

static void ipamd_write_config(FIXTURE_DATA(ipamd) *self, const char *extra_networks)
{
	char text[2048];

	snprintf(text, sizeof(text), config_text, extra_networks);
	cnt_write_file(self->config, text);
}

static void ipamd_start(FIXTURE_DATA(ipamd) *self, int port)
{
	char listen[32];
	char *argv[] = { self->bin, "--config", self->config, "--state", self->state,
			 "--listen", listen, NULL };

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	self->pid = cnt_spawn(argv, self->log);
	if (cnt_wait_port(port, 5000)) {
		cnt_print_file(self->log);
		ASSERT_TRUE(0, "es-ipamd listens");
	}
}

FIXTURE_SETUP(ipamd)
{
	cnt_private_netns();
	snprintf(self->dir, sizeof(self->dir), "/tmp/es-ipam-test.XXXXXX");
	ASSERT_OK_PTR(mkdtemp(self->dir), "mkdtemp");
	snprintf(self->config, sizeof(self->config), "%s/config.json", self->dir);
	snprintf(self->state, sizeof(self->state), "%s/state.json", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/ipamd.log", self->dir);
	cnt_build_path("es-ipamd", self->bin, sizeof(self->bin));
	ipamd_write_config(self, "");
	ipamd_start(self, PORT);
}

FIXTURE_TEARDOWN(ipamd)
{
	if (self->pid > 0)
		cnt_kill_wait(self->pid, SIGKILL);
	if (self->dir[0])
		cnt_rm_tree(self->dir);
}

/* The "ipam" object: servers as "port[:password]" entries. */
static json_t *ipam_obj(const char *extra, int nports, const int *ports, const char *password)
{
	char text[2048];
	size_t used;
	int i;

	used = snprintf(text, sizeof(text), "{\"type\": \"vdhcp\"%s, \"servers\": [", extra);
	for (i = 0; i < nports; i++)
		used += snprintf(text + used, sizeof(text) - used,
				 "%s{\"url\": \"http://127.0.0.1:%d/ipam/\", \"user\": \"cni\", \"password\": \"%s\"}",
				 i ? ", " : "", ports[i], password);
	snprintf(text + used, sizeof(text) - used, "]}");
	return json_loads(text, 0, NULL);
}

static json_t *ipam_one(void)
{
	int port = PORT;

	return ipam_obj("", 1, &port, "pw-1");
}

static const char *first_address(const json_t *result)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(result, "ips"), 0),
						 "address"));
}

TEST(validate_rejects_bad_ipam_objects)
{
	static const struct {
		const char	*json;
		const char	*field;		/* must be named in the message */
	} cases[] = {
		{ "{\"type\": \"vdhcp\"}", "ipam.servers" },
		{ "{\"type\": \"vdhcp\", \"servers\": []}", "ipam.servers" },
		{ "{\"type\": \"vdhcp\", \"servers\": [{}]}", "ipam.servers[0].url" },
		{ "{\"type\": \"vdhcp\", \"servers\": [{\"url\": \"ftp://x/\"}]}", "ipam.servers[0].url" },
		{ "{\"type\": \"vdhcp\", \"servers\": [{\"url\": \"http://a/\", \"user\": \"u\"}]}",
		  "ipam.servers[0].password" },
		{ "{\"type\": \"vdhcp\", \"servers\": [{\"url\": \"http://a/\", \"pasword\": \"p\"}]}",
		  "ipam.servers[0].pasword" },
		{ "{\"type\": \"vdhcp\", \"servers\": [{\"url\": \"http://a/\", \"user\": 3, \"password\": \"p\"}]}",
		  "ipam.servers[0].user" },
		{ "{\"type\": \"vdhcp\", \"servers\": [\"http://a/\"]}", "ipam.servers[0]" },
		{ "{\"type\": \"vdhcp\", \"servers\": [{\"url\": \"http://a/\"}], \"timeoutMs\": 0}",
		  "ipam.timeoutMs" },
		{ "{\"type\": \"vdhcp\", \"servers\": [{\"url\": \"http://a/\"}], \"timeoutMs\": \"1\"}",
		  "ipam.timeoutMs" },
		{ "{\"type\": \"vdhcp\", \"servers\": [{\"url\": \"http://a/\"}], \"extra\": 1}",
		  "ipam.extra" },
		{ "{\"type\": \"host-local\", \"servers\": [{\"url\": \"http://a/\"}]}", "ipam.type" },
	};
	struct cni_error err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_loads(cases[i].json, 0, NULL);

		ASSERT_OK_PTR(j, cases[i].json);
		memset(&err, 0, sizeof(err));
		EXPECT_EQ(ipam_http_validate(j, &err), -1, cases[i].json);
		EXPECT_EQ(err.code, CNI_ERR_INVALID_CONFIG, cases[i].json);
		if (!strstr(err.msg, cases[i].field)) {
			TEST_LOG("%s: message '%s' does not name %s", cases[i].json, err.msg,
				 cases[i].field);
			EXPECT_TRUE(0, "message names the field");
		}
		json_decref(j);
	}
	memset(&err, 0, sizeof(err));
	{
		json_t *good = ipam_one();

		EXPECT_EQ(ipam_http_validate(good, &err), 0, "a good object validates");
		json_decref(good);
	}
}

TEST_F(ipamd, allocate_check_release)
{
	json_t *ipam = ipam_one(), *res = NULL, *other;
	struct cni_error err = { 0 };
	const char *addr;

	ASSERT_OK(ipam_http_add(ipam, "net1", "c-1", "eth0", &res, &err), err.msg);
	addr = first_address(res);
	ASSERT_OK_PTR(addr, "result has ips[0].address");
	EXPECT_EQ(strncmp(addr, "10.77.0.", 8), 0, "address in the subnet");
	EXPECT_TRUE(!strcmp(strchr(addr, '/'), "/24"), "prefix /24");
	EXPECT_TRUE(!strcmp(json_string_value(json_object_get(json_array_get(
		json_object_get(res, "ips"), 0), "gateway")), "10.77.0.1"), "gateway");
	EXPECT_EQ(json_array_size(json_object_get(res, "routes")), 2, "two routes");
	EXPECT_TRUE(!strcmp(json_string_value(json_object_get(json_array_get(
		json_object_get(res, "routes"), 0), "gw")), "10.77.0.1"), "default route via gateway");
	EXPECT_TRUE(!strcmp(json_string_value(json_array_get(json_object_get(json_object_get(res, "dns"),
		"nameservers"), 0)), "10.77.0.2"), "dns nameserver");
	EXPECT_TRUE(!json_object_get(json_array_get(json_object_get(res, "ips"), 0), "interface"),
		    "no interface index");

	EXPECT_OK(ipam_http_check(ipam, "net1", "c-1", "eth0", json_object_get(res, "ips"), &err),
		  err.msg);
	other = json_loads("[{\"address\": \"10.77.0.199/24\"}]", 0, NULL);
	EXPECT_EQ(ipam_http_check(ipam, "net1", "c-1", "eth0", other, &err), -1,
		  "check with other addresses fails");
	EXPECT_EQ(err.code, CNI_ERR_UNKNOWN_CONTAINER, "check mismatch code");

	EXPECT_OK(ipam_http_del(ipam, "net1", "c-1", "eth0", &err), err.msg);
	EXPECT_EQ(ipam_http_check(ipam, "net1", "c-1", "eth0", json_object_get(res, "ips"), &err),
		  -1, "check after release fails");
	EXPECT_EQ(err.code, CNI_ERR_UNKNOWN_CONTAINER, "check after release code");
	EXPECT_OK(ipam_http_del(ipam, "net1", "c-1", "eth0", &err), "second release succeeds");
	EXPECT_OK(ipam_http_del(ipam, "net1", "never", "eth0", &err), "release of unknown succeeds");
	EXPECT_OK(ipam_http_del(ipam, "no-such-net", "c-1", "eth0", &err),
		  "release on unknown network succeeds");
	json_decref(other);
	json_decref(res);
	json_decref(ipam);
}

TEST_F(ipamd, allocate_is_idempotent)
{
	json_t *ipam = ipam_one(), *a = NULL, *b = NULL, *c = NULL;
	struct cni_error err = { 0 };

	ASSERT_OK(ipam_http_add(ipam, "net1", "c-2", "eth0", &a, &err), err.msg);
	ASSERT_OK(ipam_http_add(ipam, "net1", "c-2", "eth0", &b, &err), err.msg);
	ASSERT_OK(ipam_http_add(ipam, "net1", "c-2", "net1", &c, &err), err.msg);
	EXPECT_TRUE(!strcmp(first_address(a), first_address(b)), "same container+ifname, same address");
	EXPECT_TRUE(strcmp(first_address(a), first_address(c)) != 0, "other ifname, other address");
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(ipam);
}

TEST_F(ipamd, unknown_network_is_a_config_error)
{
	json_t *ipam = ipam_one(), *res = NULL;
	struct cni_error err = { 0 };

	EXPECT_EQ(ipam_http_add(ipam, "nope", "c-3", "eth0", &res, &err), -1, "add fails");
	EXPECT_EQ(err.code, CNI_ERR_INVALID_CONFIG, "code 7");
	EXPECT_TRUE(strstr(err.msg, "nope") != NULL, "message names the network");
	json_decref(ipam);
}

struct par_arg {
	json_t		*ipam;
	int		i;
	int		ret;
	char		addr[64];
	char		msg[256];
};

static void *par_add(void *p)
{
	struct par_arg *a = p;
	struct cni_error err = { 0 };
	char cid[32];
	json_t *res = NULL;

	snprintf(cid, sizeof(cid), "par-%d", a->i);
	a->ret = ipam_http_add(a->ipam, "net1", cid, "eth0", &res, &err);
	if (!a->ret)
		snprintf(a->addr, sizeof(a->addr), "%s", first_address(res));
	snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
	json_decref(res);
	return NULL;
}

TEST_F_TIMEOUT(ipamd, fifty_parallel_allocations_are_distinct, 90)
{
	static struct par_arg args[PARALLEL];
	pthread_t th[PARALLEL];
	json_t *ipam = ipam_one();
	int i, j, dup = 0, failed = 0;

	for (i = 0; i < PARALLEL; i++) {
		args[i] = (struct par_arg){ .ipam = ipam, .i = i };
		ASSERT_OK(pthread_create(&th[i], NULL, par_add, &args[i]), "pthread_create");
	}
	for (i = 0; i < PARALLEL; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < PARALLEL; i++) {
		if (args[i].ret) {
			TEST_LOG("allocation %d: %s", i, args[i].msg);
			failed++;
		}
		for (j = 0; j < i; j++)
			dup += !args[i].ret && !strcmp(args[i].addr, args[j].addr);
	}
	EXPECT_EQ(failed, 0, "failed allocations");
	EXPECT_EQ(dup, 0, "duplicate addresses");
	json_decref(ipam);
}

TEST_F(ipamd, allocations_survive_kill_9)
{
	json_t *ipam = ipam_one(), *before[5], *after = NULL, *fresh = NULL;
	struct cni_error err = { 0 };
	char cid[16];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(cid, sizeof(cid), "keep-%d", i);
		ASSERT_OK(ipam_http_add(ipam, "net1", cid, "eth0", &before[i], &err), err.msg);
	}
	cnt_kill_wait(self->pid, SIGKILL);
	self->pid = 0;
	json_t *state = json_load_file(self->state, 0, NULL);
	EXPECT_OK_PTR(state, "the state file is valid JSON after kill -9");
	json_decref(state);
	ipamd_start(self, PORT);
	for (i = 0; i < 5; i++) {
		snprintf(cid, sizeof(cid), "keep-%d", i);
		ASSERT_OK(ipam_http_add(ipam, "net1", cid, "eth0", &after, &err), err.msg);
		EXPECT_TRUE(!strcmp(first_address(before[i]), first_address(after)),
			    "same address after restart");
		EXPECT_OK(ipam_http_check(ipam, "net1", cid, "eth0", json_object_get(before[i], "ips"),
					  &err), "check after restart");
		json_decref(after);
	}
	ASSERT_OK(ipam_http_add(ipam, "net1", "new-one", "eth0", &fresh, &err), err.msg);
	for (i = 0; i < 5; i++) {
		EXPECT_TRUE(strcmp(first_address(before[i]), first_address(fresh)) != 0,
			    "a new allocation does not reuse a kept address");
		json_decref(before[i]);
	}
	json_decref(fresh);
	json_decref(ipam);
}

TEST_F(ipamd, removed_network_drains_then_is_deleted)
{
	json_t *ipam = ipam_one(), *res = NULL, *res2 = NULL, *state;
	struct cni_error err = { 0 };

	ASSERT_OK(ipam_http_add(ipam, "tiny", "d-1", "eth0", &res, &err), err.msg);
	cnt_kill_wait(self->pid, SIGTERM);
	/* The configuration no longer has "tiny": it drains. */
	cnt_write_file(self->config,
		       "{\"users\": [{\"user\": \"cni\", \"password\": \"pw-1\"}], \"basePath\": \"/ipam/\","
		       " \"networks\": [{\"name\": \"net1\", \"subnet\": \"10.77.0.0/24\", \"gateway\": \"10.77.0.1\"}]}");
	ipamd_start(self, PORT);
	EXPECT_OK(ipam_http_check(ipam, "tiny", "d-1", "eth0", json_object_get(res, "ips"), &err),
		  "a draining network keeps its allocation");
	EXPECT_EQ(ipam_http_add(ipam, "tiny", "d-2", "eth0", &res2, &err), -1,
		  "no new allocation in a draining network");
	EXPECT_EQ(err.code, CNI_ERR_INVALID_CONFIG, "draining network code");
	EXPECT_OK(ipam_http_del(ipam, "tiny", "d-1", "eth0", &err), err.msg);
	state = json_load_file(self->state, 0, NULL);
	ASSERT_OK_PTR(state, "state file");
	EXPECT_EQ(json_array_size(json_object_get(state, "networks")), 0,
		  "the network is gone from the state after its last release");
	json_decref(state);
	json_decref(res);
	json_decref(ipam);
}

TEST_F(ipamd, exhausted_range_is_102)
{
	json_t *ipam = ipam_one(), *a = NULL, *b = NULL, *c = NULL;
	struct cni_error err = { 0 };

	ASSERT_OK(ipam_http_add(ipam, "tiny", "x-1", "eth0", &a, &err), err.msg);
	ASSERT_OK(ipam_http_add(ipam, "tiny", "x-2", "eth0", &b, &err), err.msg);
	EXPECT_EQ(ipam_http_add(ipam, "tiny", "x-3", "eth0", &c, &err), -1, "third add fails");
	EXPECT_EQ(err.code, CNI_ERR_IPAM_EXHAUSTED, "code 102");
	TEST_LOG("%s", err.msg);
	ASSERT_OK(ipam_http_del(ipam, "tiny", "x-1", "eth0", &err), err.msg);
	EXPECT_OK(ipam_http_add(ipam, "tiny", "x-3", "eth0", &c, &err), "a freed address is given again");
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(ipam);
}

TEST_F(ipamd, wrong_password_is_101)
{
	int port = PORT;
	json_t *ipam = ipam_obj("", 1, &port, "wrong"), *res = NULL;
	struct cni_error err = { 0 };

	EXPECT_EQ(ipam_http_add(ipam, "net1", "w-1", "eth0", &res, &err), -1, "add fails");
	EXPECT_EQ(err.code, CNI_ERR_IPAM_AUTH, "code 101");
	EXPECT_TRUE(strstr(err.msg, "refused the credentials") && strstr(err.msg, "18480"),
		    "message says the server refused the credentials");
	TEST_LOG("%s", err.msg);
	EXPECT_EQ(ipam_http_del(ipam, "net1", "w-1", "eth0", &err), -1, "release fails too");
	EXPECT_EQ(err.code, CNI_ERR_IPAM_AUTH, "release code 101");
	json_decref(ipam);
}

TEST_F(ipamd, failover_to_the_second_server)
{
	int ports[] = { PORT_DEAD, PORT };
	json_t *ipam = ipam_obj("", 2, ports, "pw-1"), *res = NULL;
	struct cni_error err = { 0 };

	ASSERT_OK(ipam_http_add(ipam, "net1", "f-1", "eth0", &res, &err), err.msg);
	EXPECT_OK(ipam_http_check(ipam, "net1", "f-1", "eth0", json_object_get(res, "ips"), &err),
		  err.msg);
	/* The first server could not be asked, the second released it. */
	EXPECT_OK(ipam_http_del(ipam, "net1", "f-1", "eth0", &err), err.msg);
	json_decref(res);
	json_decref(ipam);
}

/* How many allocations the server on port holds in net1, or -1. */
static int allocations_on(int port)
{
	char url[96];
	struct es_http_request req = { .url = url, .user = "cni", .password = "pw-1",
				       .total_ms = 2000 };
	struct es_http_response r;
	char why[128];
	json_t *j;
	int n = -1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ipam/v1/networks/net1/allocations", port);
	if (es_http_perform(&req, &r, why, sizeof(why)) || r.status != 200)
		goto out;
	j = json_loads(r.body, 0, NULL);
	if (json_is_array(json_object_get(j, "allocations")))
		n = json_array_size(json_object_get(j, "allocations"));
	json_decref(j);
out:
	es_http_response_free(&r);
	return n;
}

/*
 * Server A is stopped (SIGSTOP): the kernel accepts the connection and
 * queues the request, the client gives up after serverTimeoutMs and
 * allocates on B. Once A runs again it serves the queued request: an
 * allocation nobody waits for. A then restarts (kill -9, its state kept)
 * just as DEL comes: DEL must not succeed on B's word alone, or A's
 * address is lost for good (the runtime never retries a successful DEL).
 */
static pid_t start_a(FIXTURE_DATA(ipamd) *self, char *state, char *log)
{
	char listen[32];
	char *argv[] = { self->bin, "--config", self->config, "--state", state,
			 "--listen", listen, NULL };
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", PORT2);
	pid = cnt_spawn(argv, log);
	return cnt_wait_port(PORT2, 5000) ? -1 : pid;
}

TEST_F(ipamd, late_answer_after_failover_is_released)
{
	int ports[] = { PORT2, PORT };
	json_t *ipam, *res = NULL, *held = NULL;
	struct cni_error err = { 0 };
	char state[160], log[160];
	pid_t a;
	int i;

	snprintf(state, sizeof(state), "%s/state-a.json", self->dir);
	snprintf(log, sizeof(log), "%s/ipamd-a.log", self->dir);
	a = start_a(self, state, log);
	ASSERT_TRUE(a > 0, "server A listens");
	kill(a, SIGSTOP);
	/*
	 * The server timeout bounds the wait for the stopped A, and also B's
	 * answer: 300 ms was too short for B on a loaded CI machine.
	 */
	ipam = ipam_obj(", \"timeoutMs\": 6000, \"serverTimeoutMs\": 1000", 2, ports, "pw-1");
	ASSERT_OK(ipam_http_add_held(ipam, "net1", "late-1", "eth0", &res, &held, &err),
		  err.details);
	EXPECT_EQ(json_array_size(held), 2, "A (asked, silent) and B (allocated) may hold it");
	kill(a, SIGCONT);
	for (i = 0; i < 100 && allocations_on(PORT2) != 1; i++)
		usleep(20000);
	EXPECT_EQ(allocations_on(PORT2), 1, "A served the late request: a second allocation");
	cnt_kill_wait(a, SIGKILL);
	EXPECT_EQ(ipam_http_del_held(ipam, "net1", "late-1", "eth0", held, &err), -1,
		  "A down at DEL: the release fails, so the runtime retries DEL");
	EXPECT_EQ(err.code, CNI_ERR_IPAM_UNREACHABLE, "code 100");
	EXPECT_EQ(allocations_on(PORT), 0, "B released its allocation meanwhile");
	a = start_a(self, state, log);
	ASSERT_TRUE(a > 0, "server A is back");
	EXPECT_EQ(allocations_on(PORT2), 1, "A kept the late allocation over the restart");
	EXPECT_OK(ipam_http_del_held(ipam, "net1", "late-1", "eth0", held, &err), err.msg);
	EXPECT_EQ(allocations_on(PORT2), 0, "the retried DEL released it on A");
	cnt_kill_wait(a, SIGKILL);
	json_decref(held);
	json_decref(res);
	json_decref(ipam);
}

TEST_F(ipamd, release_with_a_server_down_is_retried_unless_released)
{
	int ports[] = { PORT, PORT_DEAD };
	json_t *ipam = ipam_obj("", 2, ports, "pw-1");
	struct cni_error err = { 0 };

	EXPECT_EQ(ipam_http_del(ipam, "net1", "never", "eth0", &err), -1,
		  "unknown here, second down: DEL fails so it is retried");
	EXPECT_EQ(err.code, CNI_ERR_IPAM_UNREACHABLE, "code 100");
	json_decref(ipam);
}

TEST(all_servers_down_is_100_within_the_timeout)
{
	int ports[] = { PORT_DEAD, PORT_DEAD + 10 };
	json_t *ipam, *res = NULL;
	struct cni_error err = { 0 };
	long long t0;

	cnt_private_netns();
	ipam = ipam_obj("", 2, ports, "pw-1");
	t0 = es_now_ms();
	EXPECT_EQ(ipam_http_add(ipam, "net1", "d-1", "eth0", &res, &err), -1, "add fails");
	EXPECT_LT(es_now_ms() - t0, 2000, "refused connections fail fast (ms)");
	EXPECT_EQ(err.code, CNI_ERR_IPAM_UNREACHABLE, "code 100");
	EXPECT_TRUE(strstr(err.details, "18482") && strstr(err.details, "18492"),
		    "details name both servers");
	TEST_LOG("%s | %s", err.msg, err.details);
	json_decref(ipam);
}

TEST(slow_server_fails_within_the_timeout)
{
	int ports[] = { PORT_STANDIN, PORT_STANDIN, PORT_STANDIN };
	struct cnt_standin s;
	json_t *ipam, *res = NULL;
	struct cni_error err = { 0 };
	long long t0, took;

	cnt_private_netns();
	cnt_standin_start(&s, PORT_STANDIN, NULL);
	/* 600 ms for the first, the 400 left for the second, none for the third. */
	ipam = ipam_obj(", \"timeoutMs\": 1000, \"serverTimeoutMs\": 600", 3, ports, "pw-1");
	t0 = es_now_ms();
	EXPECT_EQ(ipam_http_add(ipam, "net1", "s-1", "eth0", &res, &err), -1, "add fails");
	took = es_now_ms() - t0;
	EXPECT_GE(took, 950, "waited for the whole budget (ms)");
	EXPECT_LT(took, 1000 + 500, "gave up within timeoutMs (ms)");
	EXPECT_EQ(err.code, CNI_ERR_IPAM_UNREACHABLE, "code 100");
	EXPECT_TRUE(strstr(err.details, "not asked") != NULL, "the third server was not asked");
	TEST_LOG("%lld ms: %s | %s", took, err.msg, err.details);
	json_decref(ipam);
}

TEST_F(ipamd, slow_first_server_then_the_good_one)
{
	int ports[] = { PORT_STANDIN, PORT };
	struct cnt_standin s;
	json_t *ipam, *res = NULL;
	struct cni_error err = { 0 };
	long long t0, took;

	cnt_standin_start(&s, PORT_STANDIN, NULL);
	ipam = ipam_obj(", \"timeoutMs\": 4000, \"serverTimeoutMs\": 1000", 2, ports, "pw-1");
	t0 = es_now_ms();
	EXPECT_OK(ipam_http_add(ipam, "net1", "s-2", "eth0", &res, &err), err.details);
	took = es_now_ms() - t0;
	EXPECT_LT(took, 1000 + 1500, "the slow server cost its server timeout only (ms)");
	json_decref(res);
	json_decref(ipam);
}

TEST(garbage_answer_is_103)
{
	static const char *const replies[] = {
		"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n"
		"Connection: close\r\n\r\n<html>hi</htm",
		"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 41\r\n"
		"Connection: close\r\n\r\n{\"ips\": [{\"address\": \"999.1.1.1/24\"}]}   ",
		"HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	};
	int port;
	size_t i;

	cnt_private_netns();
	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct cnt_standin s;
		struct cni_error err = { 0 };
		json_t *ipam, *res = NULL;

		port = PORT_STANDIN + i;
		cnt_standin_start(&s, port, replies[i]);
		ipam = ipam_obj("", 1, &port, "pw-1");
		EXPECT_EQ(ipam_http_add(ipam, "net1", "g-1", "eth0", &res, &err), -1, "add fails");
		EXPECT_EQ(err.code, CNI_ERR_IPAM_BAD_ANSWER, "code 103");
		TEST_LOG("%s", err.msg);
		json_decref(ipam);
	}
}

TEST_F(ipamd, sigterm_exits_cleanly)
{
	int status = cnt_kill_wait(self->pid, SIGTERM);

	self->pid = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status 0 on SIGTERM");
}

TEST_F(ipamd, bad_config_names_the_field)
{
	char *argv[] = { self->bin, "--config", self->config, "--state", self->state,
			 "--listen", "127.0.0.1:18490", NULL };
	char line[512] = "";
	int status;
	FILE *f;

	cnt_write_file(self->config, "{\"users\": [{\"user\": \"u\", \"password\": \"p\"}],"
		       " \"networks\": [{\"name\": \"n\", \"subnet\": \"10.1.0.0/24\", \"gateway\": \"10.2.0.1\"}]}");
	(void)!truncate(self->log, 0);
	waitpid(cnt_spawn(argv, self->log), &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0, "refuses to start");
	f = fopen(self->log, "r");
	ASSERT_OK_PTR(f, "log");
	(void)!fgets(line, sizeof(line), f);
	fclose(f);
	EXPECT_TRUE(strstr(line, "gateway") != NULL, "the error names the gateway field");
	TEST_LOG("%s", line);
}

TEST_HARNESS_MAIN
