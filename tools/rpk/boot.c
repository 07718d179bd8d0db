/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk run --firmware: the master boots its remote. On the host the remote's
 * "processor" is a child `rpk run --node REMOTE --booted`, which finds the
 * table the master installed in the loaded memory and runs with it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rpk/errno.h>

#include "rpk_tool.h"

#define STOP_WAIT_MS 2000

const struct rpk_layout_node *link_peer(const struct rpk_layout *lay,
					const struct rpk_layout_node *n, enum rpk_role role)
{
	for (int i = 0; i < lay->num_nodes; i++)
		if (lay->nodes[i].role == role &&
		    lay->nodes[i].region[RPK_REG_RSC] == n->region[RPK_REG_RSC])
			return &lay->nodes[i];
	return NULL;
}

int remote_proc_start(void *priv)
{
	struct remote_proc *p = priv;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -RPK_ENOMEM;
	if (pid == 0) {
		/* No PR_SET_PDEATHSIG: it fires when the forking thread ends (an
		 * event thread that recovered the remote); a booted remote watches
		 * its parent instead. */
		if (p->group)
			execl("/proc/self/exe", "rpk", "run", p->dt, "--node", p->node,
			      "--instance", p->instance, "--booted", "--group", p->group,
			      (char *)NULL);
		else
			execl("/proc/self/exe", "rpk", "run", p->dt, "--node", p->node,
			      "--instance", p->instance, "--booted", (char *)NULL);
		fprintf(stderr, "rpk: cannot run the remote: %s\n", strerror(errno));
		_exit(127);
	}
	p->pid = pid;
	p->starts++;
	return 0;
}

void remote_proc_stop(void *priv)
{
	struct remote_proc *p = priv;
	struct timespec ts = {0, 10000000};

	if (p->pid <= 0)
		return;
	kill(p->pid, SIGTERM);
	for (int waited = 0; waited < STOP_WAIT_MS; waited += 10) {
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			p->pid = 0;
			/* Gone: its own close removed its pages, unless it had
			 * died (a crash) before. */
			rpk_node_unlink_observers(p->instance, p->node);
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = 0;
	/* Killed, it could not remove its pages. */
	rpk_node_unlink_observers(p->instance, p->node);
}
