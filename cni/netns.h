/* SPDX-License-Identifier: GPL-2.0-only */
/* Entering and leaving network namespaces (the plugin is single-threaded). */
#ifndef EDGESHIFT_CNI_NETNS_H
#define EDGESHIFT_CNI_NETNS_H

/* fd of the namespace at path, or -errno (-ENOENT when it is gone). */
int netns_open(const char *path);
/* fd of the calling thread's current network namespace. */
int netns_current(void);
/* setns(fd, CLONE_NEWNET); 0 or -errno. */
int netns_enter(int fd);
/* Whether two namespace fds name the same namespace. */
int netns_same(int a, int b);

#endif
