// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include "netns.h"

struct ns_socket {
	int	netns, domain, type, protocol;
	int	ret;
};

/*
 * setns() changes the calling thread's namespace only: done in a thread of
 * its own, which ends there, nothing else of the process ever runs in the
 * pod's namespace by mistake.
 */
static void *make_there(void *arg)
{
	struct ns_socket *a = arg;

	if (setns(a->netns, CLONE_NEWNET)) {
		a->ret = -errno;
		return NULL;
	}
	a->ret = socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);
	if (a->ret < 0)
		a->ret = -errno;
	return NULL;
}

int es_netns_socket(int netns, int domain, int type, int protocol)
{
	struct ns_socket a = { netns, domain, type, protocol, -EINVAL };
	pthread_t t;
	int ret;

	if (netns == ES_NETNS_OWN) {
		ret = socket(domain, type | SOCK_CLOEXEC, protocol);
		return ret < 0 ? -errno : ret;
	}
	ret = pthread_create(&t, NULL, make_there, &a);
	if (ret)
		return -ret;
	pthread_join(t, NULL);
	return a.ret;
}
