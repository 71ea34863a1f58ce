// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-bench-attach: what hooking a pod's macvlan costs the kernel, measured
 * in one process (no tool start-up in the figures), in a network
 * namespace of its own, interleaved rounds, medians:
 *   - tcx: two bpf_link_create (ingress, egress), what edgeshift-cni does;
 *   - clsact: the qdisc and two cls_bpf filters (the older tc hook);
 *   - the delete of the macvlan (RTM_DELLINK until its ack) with nothing
 *     attached, with the tcx links held, with the cls_bpf filters;
 *   - moving a macvlan with its tcx links to another namespace and back
 *     (what parking a pod's link for the next pod would cost).
 * ES_BENCH_ATTACH_KEEP=1 keeps a tcx attachment on another device for
 * the whole run (the tc static keys stay on). Each attach of a tcx
 * program waits for an RCU grace period under the RTNL; the figures say how much of a pod's ADD+DEL that is and what the
 * alternative hook would cost (docs/benchmarks.md, section 9).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define ROUNDS	21

enum { T_TCX, T_CLSACT, T_DEL_PLAIN, T_DEL_TCX, T_DEL_CLSACT, T_MOVE_OUT, T_MOVE_IN, T_N };

static const char *const names[T_N] = {
	"tcx attach, ingress + egress",
	"clsact qdisc + cls_bpf ingress + egress",
	"delete, nothing attached",
	"delete, tcx links held",
	"delete, cls_bpf filters",
	"move to another netns, tcx links held",
	"move back, tcx links held",
};

static int parking = -1, home = -1;	/* namespaces for the move */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int prog_load(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "es_bench_nop", "GPL", insns, 2, NULL);
}

static int macvlan(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip link add link m0 name %s type macvlan mode bridge && "
		 "ip link set %s up", name, name);
	if (system(cmd))
		return -1;
	return if_nametoindex(name);
}

/*
 * RTM_DELLINK (or, with ns_fd >= 0, RTM_NEWLINK moving the link there) and
 * its ack: the time a plugin's request takes.
 */
static int link_req(struct mnl_socket *nl, int ifindex, int ns_fd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	int n;

	nlh->nlmsg_type = ns_fd >= 0 ? RTM_NEWLINK : RTM_DELLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = ifindex;
	if (ns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, ns_fd);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	return mnl_cb_run(buf, n, 1, 0, NULL, NULL) < 0 ? -errno : 0;
}

static int tcx(int prog, int ifindex, int link[2])
{
	link[0] = bpf_link_create(prog, ifindex, BPF_TCX_INGRESS, NULL);
	link[1] = bpf_link_create(prog, ifindex, BPF_TCX_EGRESS, NULL);
	return link[0] < 0 || link[1] < 0 ? -1 : 0;
}

static int clsact(int prog, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog);
	int ret = bpf_tc_hook_create(&hook);

	hook.attach_point = BPF_TC_INGRESS;
	ret = ret ?: bpf_tc_attach(&hook, &opts);
	opts.prog_id = 0;
	hook.attach_point = BPF_TC_EGRESS;
	return ret ?: bpf_tc_attach(&hook, &opts);
}

/* A macvlan with tcx links out to the parking namespace and back. */
static int round_move(int r, int prog, struct mnl_socket *nl, double t[T_N])
{
	struct mnl_socket *pk;
	int ifindex, link[2], ret;
	char name[16];
	double t0;

	snprintf(name, sizeof(name), "pm%d", r);
	ifindex = macvlan(name);
	if (ifindex <= 0 || tcx(prog, ifindex, link))
		return -1;
	t0 = now_ms();
	ret = link_req(nl, ifindex, parking);
	t[T_MOVE_OUT] = now_ms() - t0;
	/* the way back is asked for in the parking namespace */
	if (ret || setns(parking, CLONE_NEWNET))
		return -1;
	pk = mnl_socket_open(NETLINK_ROUTE);
	if (setns(home, CLONE_NEWNET) || !pk || mnl_socket_bind(pk, 0, MNL_SOCKET_AUTOPID))
		return -1;
	t0 = now_ms();
	ret = link_req(pk, ifindex, home);
	t[T_MOVE_IN] = now_ms() - t0;
	mnl_socket_close(pk);
	ret = ret ?: link_req(nl, ifindex, -1);
	close(link[0]);
	close(link[1]);
	return ret;
}

/* One round: three macvlans, one per kind of hook, each timed. */
static int round_once(int r, int prog, struct mnl_socket *nl, double t[T_N])
{
	char a[16], b[16], c[16];
	int ia, ib, ic, link[2];
	double t0;

	snprintf(a, sizeof(a), "pa%d", r);
	snprintf(b, sizeof(b), "pb%d", r);
	snprintf(c, sizeof(c), "pc%d", r);
	ia = macvlan(a), ib = macvlan(b), ic = macvlan(c);
	if (ia <= 0 || ib <= 0 || ic <= 0)
		return -1;
	t0 = now_ms();
	if (tcx(prog, ib, link))
		return -1;
	t[T_TCX] = now_ms() - t0;
	t0 = now_ms();
	if (clsact(prog, ic))
		return -1;
	t[T_CLSACT] = now_ms() - t0;
	t0 = now_ms();
	if (link_req(nl, ia, -1))
		return -1;
	t[T_DEL_PLAIN] = now_ms() - t0;
	t0 = now_ms();
	if (link_req(nl, ib, -1))
		return -1;
	t[T_DEL_TCX] = now_ms() - t0;
	close(link[0]);
	close(link[1]);
	t0 = now_ms();
	if (link_req(nl, ic, -1))
		return -1;
	t[T_DEL_CLSACT] = now_ms() - t0;
	return round_move(r, prog, nl, t);
}

int main(void)
{
	static double t[T_N][ROUNDS];
	double one[T_N];
	struct mnl_socket *nl;
	int keep[2];
	int prog, r, k;

	if (unshare(CLONE_NEWNET) || system("ip link set lo up && ip link add m0 type veth "
					     "peer name m0p && ip link set m0 up")) {
		perror("es-bench-attach: a network namespace of its own");
		return 1;
	}
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (unshare(CLONE_NEWNET)) {
		perror("es-bench-attach: the parking namespace");
		return 1;
	}
	parking = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0 || parking < 0 || setns(home, CLONE_NEWNET)) {
		perror("es-bench-attach: the parking namespace");
		return 1;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	prog = prog_load();
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) || prog < 0) {
		perror("es-bench-attach: netlink or program load");
		return 1;
	}
	if (getenv("ES_BENCH_ATTACH_KEEP") && tcx(prog, if_nametoindex("m0"), keep)) {
		perror("es-bench-attach: the kept tcx links on m0");
		return 1;
	}
	for (r = 0; r < ROUNDS; r++) {
		if (round_once(r, prog, nl, one)) {
			fprintf(stderr, "es-bench-attach: round %d failed: %s\n", r, strerror(errno));
			return 1;
		}
		for (k = 0; k < T_N; k++)
			t[k][r] = one[k];
	}
	printf("%-44s %10s %10s %10s\n", "kernel operation (ms)", "median", "min", "max");
	for (k = 0; k < T_N; k++) {
		qsort(t[k], ROUNDS, sizeof(double), cmp);
		printf("%-44s %10.2f %10.2f %10.2f\n", names[k], t[k][ROUNDS / 2], t[k][0],
		       t[k][ROUNDS - 1]);
	}
	mnl_socket_close(nl);
	close(prog);
	return 0;
}
