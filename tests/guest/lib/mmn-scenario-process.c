// SPDX-License-Identifier: GPL-2.0
/*
 * The mmn-smmu guest scenario library, processes: a forked child that
 * keeps its copy of the mm until released, and a fork whose child exits
 * at once.
 *
 * The API is documented in mmn-scenario.h.
 */
#define MMN_SCENARIO_NO_HARNESS
#include "mmn-scenario.h"

#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int mmn_child_start(struct mmn_child *c, void (*fn)(void *), void *arg)
{
	int fds[2];
	char x;

	if (pipe(fds))
		return -errno;
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (c->pid == 0) {
		close(fds[1]);
		if (fn)
			fn(arg);
		/* stay alive (and keep the mm) until released */
		while (read(fds[0], &x, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	c->go = fds[1];
	return 0;
}

int mmn_child_finish(struct mmn_child *c)
{
	int status;

	close(c->go);
	if (waitpid(c->pid, &status, 0) != c->pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int mmn_fork_exit(void)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return 0;
}
