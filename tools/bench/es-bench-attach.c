// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-bench-attach: what hooking a pod's macvlan costs the kernel, measured
 * in one process (no tool start-up in the figures), in a network
 * namespace of its own, interleaved rounds, medians:
 *   - tcx: two bpf_link_create (ingress, egress), what edgeshift-cni does;
 *   - clsact: the qdisc and two cls_bpf filters (the older tc hook);
 *   - the delete of the macvlan (RTM_DELLINK until its ack) with nothing
 *     attached, with the tcx links held, with the cls_bpf filters.
 * Each attach of a tcx program waits for an RCU grace period under the
 * RTNL; the figures say how much of a pod's ADD+DEL that is and what the
 * alternative hook would cost (docs/benchmarks.md, section 9).
 */
#include <errno.h>
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

enum { T_TCX, T_CLSACT, T_DEL_PLAIN, T_DEL_TCX, T_DEL_CLSACT, T_N };

static const char *const names[T_N] = {
	"tcx attach, ingress + egress",
	"clsact qdisc + cls_bpf ingress + egress",
	"delete, nothing attached",
	"delete, tcx links held",
	"delete, cls_bpf filters",
};

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

/* RTM_DELLINK and its ack: the time a plugin's delete takes. */
static int del_link(struct mnl_socket *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	int n;

	nlh->nlmsg_type = RTM_DELLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = ifindex;
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
	if (del_link(nl, ia))
		return -1;
	t[T_DEL_PLAIN] = now_ms() - t0;
	t0 = now_ms();
	if (del_link(nl, ib))
		return -1;
	t[T_DEL_TCX] = now_ms() - t0;
	close(link[0]);
	close(link[1]);
	t0 = now_ms();
	if (del_link(nl, ic))
		return -1;
	t[T_DEL_CLSACT] = now_ms() - t0;
	return 0;
}

int main(void)
{
	static double t[T_N][ROUNDS];
	double one[T_N];
	struct mnl_socket *nl;
	int prog, r, k;

	if (unshare(CLONE_NEWNET) || system("ip link set lo up && ip link add m0 type veth "
					     "peer name m0p && ip link set m0 up")) {
		perror("es-bench-attach: a network namespace of its own");
		return 1;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	prog = prog_load();
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) || prog < 0) {
		perror("es-bench-attach: netlink or program load");
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
