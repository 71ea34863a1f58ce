/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A container's optional service IP (spec field "service_ip"): an IPv4
 * address the node holds (as a /32 on its loopback) while the container
 * runs there, so the address moves with the container: the target adds it
 * before CRIU restores sockets bound to it (an established TCP connection
 * needs its local address back), the source drops it before its copy is
 * killed (so the dying copy cannot reset the moved connection).
 */
#ifndef EDGESHIFT_SERVICE_IP_H
#define EDGESHIFT_SERVICE_IP_H

#include <stdbool.h>
#include <stddef.h>

/* Add (idempotent) or remove (absent is fine) ip/32 on lo; 0 or -errno with err. */
int es_service_ip_set(const char *ip, bool add, char *err, size_t err_len);

#endif
