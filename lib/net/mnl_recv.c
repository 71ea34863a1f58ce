// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include "mnl_recv.h"

int es_mnl_recv(struct mnl_socket *nl, char *buf, unsigned int seq, mnl_cb_t cb, void *data)
{
	unsigned int portid = mnl_socket_get_portid(nl);
	int ret;

	do {
		ret = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (ret <= 0)
			break;
		ret = mnl_cb_run(buf, ret, seq, portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}
