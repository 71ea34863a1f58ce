// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "util/clock.h"
#include "proc_exec.h"

static void child(char *const argv[], int out_fd, int flags)
{
	int null = open("/dev/null", O_RDWR);
	int fd;

	if (flags & ES_EXEC_NULL_STDIO)
		out_fd = null;
	dup2(null, 0);
	dup2(flags & ES_EXEC_CAPTURE_STDOUT ? out_fd : null, 1);
	dup2(out_fd, 2);
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Keep the tail of what arrives: the last error lines matter most. */
static void keep_tail(char *out, size_t out_len, size_t *used, const char *p, size_t n)
{
	if (!out || out_len < 2)
		return;
	if (n >= out_len - 1) {
		p += n - (out_len - 1);
		n = out_len - 1;
	}
	if (*used + n > out_len - 1) {
		size_t drop = *used + n - (out_len - 1);

		memmove(out, out + drop, *used - drop);
		*used -= drop;
	}
	memcpy(out + *used, p, n);
	*used += n;
	out[*used] = '\0';
}

int es_exec(char *const argv[], unsigned int timeout_ms, int flags, char *out,
	    size_t out_len)
{
	int64_t deadline = es_now_ms() + timeout_ms;
	int pipefd[2], status = 0, timed_out = 0;
	size_t used = 0;
	char buf[4096];
	pid_t pid;

	if (out && out_len)
		out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (!pid)
		child(argv, pipefd[1], flags);
	close(pipefd[1]);
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		int64_t left = deadline - es_now_ms();
		ssize_t n;

		if (left <= 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, left) <= 0)
			continue;
		n = read(pipefd[0], buf, sizeof(buf));
		if (n <= 0)
			break;	/* EOF: the helper (and its children) closed stderr */
		keep_tail(out, out_len, &used, buf, n);
	}
	close(pipefd[0]);
	/* A detached child (runc run -d) may hold the pipe; the helper itself has exited or is killed. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		return -ETIMEDOUT;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
