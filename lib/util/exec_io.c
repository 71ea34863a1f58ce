// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "clock.h"
#include "exec_io.h"

struct io {
	struct pollfd	pfd[2];		/* the child's stdin, its stdout */
	const char	*in;
	size_t		in_len, in_off;
	char		*out;
	size_t		out_len, out_cap;
};

static void close_in(struct io *io)
{
	close(io->pfd[0].fd);
	io->pfd[0].fd = -1;
}

static void feed(struct io *io)
{
	ssize_t r = write(io->pfd[0].fd, io->in + io->in_off, io->in_len - io->in_off);

	if (r > 0)
		io->in_off += r;
	/* a child that stops reading (EPIPE) answers with what it has */
	if (r < 0 || io->in_off == io->in_len)
		close_in(io);
}

static int drain(struct io *io)
{
	ssize_t r;

	if (io->out_len + 4096 > io->out_cap && io->out_cap < ES_EXEC_IO_OUT_MAX) {
		char *nb = realloc(io->out, io->out_cap * 2);

		if (!nb)
			return -ENOMEM;
		io->out = nb;
		io->out_cap *= 2;
	}
	r = read(io->pfd[1].fd, io->out + io->out_len, io->out_cap - io->out_len - 1);
	if (r <= 0 || io->out_len + r + 1 >= io->out_cap)
		io->pfd[1].fd = -1;	/* EOF, or the answer is too long: cut */
	if (r > 0)
		io->out_len += r;
	return 0;
}

/* Until the child closed its stdout or the deadline (0: none); 0, -ETIMEDOUT or -errno. */
static int pump(struct io *io, int64_t deadline)
{
	int ret = 0;

	if (!io->in_len)
		close_in(io);
	while (!ret && io->pfd[1].fd >= 0) {
		int64_t left = deadline ? deadline - es_now_ms() : -1;

		if (deadline && left <= 0)
			return -ETIMEDOUT;
		if (poll(io->pfd, 2, left) < 0) {
			if (errno != EINTR)
				return -errno;
			continue;
		}
		if (io->pfd[0].fd >= 0 && io->pfd[0].revents)
			feed(io);
		if (io->pfd[1].revents)
			ret = drain(io);
	}
	return ret;
}

int es_exec_find(const char *dirs, const char *name, char *buf, size_t len)
{
	const char *p, *end;

	for (p = dirs; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p)
			continue;
		snprintf(buf, len, "%.*s/%s", (int)(end - p), p, name);
		if (!access(buf, X_OK))
			return 0;
	}
	return -ENOENT;
}

static void child(char *const argv[], char *const envp[], int in, int out)
{
	sigset_t none;

	dup2(in, 0);
	dup2(out, 1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execve(argv[0], argv, envp);
	_exit(127);
}

int es_exec_io(char *const argv[], char *const envp[], const char *in, size_t in_len,
	       unsigned int timeout_ms, char **out)
{
	int64_t deadline = timeout_ms ? es_now_ms() + timeout_ms : 0;
	struct io io = { .in = in, .in_len = in_len, .out_cap = 4096 };
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, status = 0, ret;
	pid_t pid;

	*out = NULL;
	io.out = malloc(io.out_cap);
	if (!io.out || pipe2(inp, O_CLOEXEC) || pipe2(outp, O_CLOEXEC)) {
		ret = io.out ? -errno : -ENOMEM;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto fail;
	}
	if (!pid)
		child(argv, envp, inp[0], outp[1]);
	close(inp[0]);
	close(outp[1]);
	io.pfd[0] = (struct pollfd){ .fd = inp[1], .events = POLLOUT };
	io.pfd[1] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
	/* the agent ignores SIGPIPE: a child gone early is an EPIPE here */
	ret = pump(&io, deadline);
	if (io.pfd[0].fd >= 0)
		close(io.pfd[0].fd);
	close(outp[0]);
	if (ret == -ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	io.out[io.out_len] = '\0';
	*out = io.out;
	if (ret)
		return ret;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
fail:
	free(io.out);
	for (int i = 0; i < 2; i++) {
		if (inp[i] >= 0)
			close(inp[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	return ret;
}
