/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the CNI client tests share: a private network namespace per test
 * (so fixed ports never clash with concurrent runs and nothing outlives
 * the test), child processes started from build/, a scratch directory,
 * and a stand-in TCP server that answers a canned reply or never answers.
 * Include after harness.h.
 */
#ifndef EDGESHIFT_SELFTEST_CNI_TEST_NET_H
#define EDGESHIFT_SELFTEST_CNI_TEST_NET_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include "util/clock.h"

/* A network namespace of this test's own with lo up: gone when it ends. */
static inline void cnt_private_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	es_harness_require_root();
	ASSERT_OK(unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_GE(fd, 0, "socket");
	ASSERT_OK(ioctl(fd, SIOCGIFFLAGS, &ifr), "SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	ASSERT_OK(ioctl(fd, SIOCSIFFLAGS, &ifr), "SIOCSIFFLAGS lo up");
	close(fd);
}

/* build/NAME next to build/selftests/this-test. */
static inline void cnt_build_path(const char *name, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	ASSERT_GT(n, 0, "readlink /proc/self/exe");
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	ASSERT_LT(strlen(self) + strlen(name) + 2, len, "build path length");
	strcpy(out, self);
	strcat(out, "/");
	strcat(out, name);
}

static inline void cnt_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ASSERT_OK_PTR(f, path);
	fputs(text, f);
	ASSERT_OK(fclose(f), path);
}

/* argv[0] is a path; stdout and stderr go to log. Returns the pid. */
static inline pid_t cnt_spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	ASSERT_GE(pid, 0, "fork");
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Waits until 127.0.0.1:port accepts a connection. */
static inline int cnt_wait_port(int port, int ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	long long end = es_now_ms() + ms;

	while (es_now_ms() < end) {
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

		ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			return 0;
		usleep(20000);
	}
	return -1;
}

static inline int cnt_kill_wait(pid_t pid, int sig)
{
	int status = -1;

	if (pid <= 0)
		return -1;
	kill(pid, sig);
	waitpid(pid, &status, 0);
	return status;
}

static inline void cnt_print_file(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		TEST_LOG("%s", line);
	}
	if (f)
		fclose(f);
}

static inline int _cnt_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static inline void cnt_rm_tree(const char *dir)
{
	if (dir && *dir)
		nftw(dir, _cnt_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------ */
/* Stand-in server: a canned answer to every request, or none at all. */

struct cnt_standin {
	int		fd;
	const char	*reply;		/* NULL: accept and never answer */
	pthread_t	thread;
};

static inline void *_cnt_standin_run(void *arg)
{
	struct cnt_standin *s = arg;
	char buf[4096];

	for (;;) {
		int c = accept(s->fd, NULL, NULL);

		if (c < 0)
			return NULL;
		if (!s->reply)
			continue;	/* keep it open, silent */
		/* One read takes a small request whole on loopback. */
		if (read(c, buf, sizeof(buf)) > 0)
			(void)!write(c, s->reply, strlen(s->reply));
		close(c);
	}
}

/* Serves 127.0.0.1:port from a thread until the test ends. */
static inline void cnt_standin_start(struct cnt_standin *s, int port, const char *reply)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;

	s->reply = reply;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(s->fd, 0, "socket");
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ASSERT_OK(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), "bind stand-in");
	ASSERT_OK(listen(s->fd, 64), "listen stand-in");
	ASSERT_OK(pthread_create(&s->thread, NULL, _cnt_standin_run, s), "stand-in thread");
}

#endif
