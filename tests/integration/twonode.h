/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two-process integration harness: the test (master) runs in the cmocka
 * process, the remote in a forked child over the host port, as two real
 * processes sharing only the link's shm objects.
 *
 * The child serves a control endpoint at CTL_ADDR: each message is a command
 * line; the handler returns a reply (sent back to the sender) or "quit".
 */
#ifndef TWONODE_H
#define TWONODE_H

#include <stdint.h>
#include <sys/types.h>

#include <rpk/layout.h>
#include <rpk/node.h>

#define CTL_ADDR 100u

struct twonode {
	struct rpk_layout lay;
	char instance[64];
	pid_t child;
	int note_fd; /* parent: read end of the child's note pipe */
	struct rpk_node *master;
	struct rpk_inbox *ctl; /* master's end of the control channel */
};

/* Remote side: called after the remote node is open (create endpoints
 * here), and for each control command. */
struct remote_ops {
	void (*setup)(struct rpk_node *n, void *arg);
	/* Writes a reply into out (NUL-terminated); returns 1 to quit. */
	int (*command)(struct rpk_node *n, const char *cmd, char *out, size_t outlen, void *arg);
	rpk_ns_bind_cb ns_bind; /* the remote's callback for unbound announcements */
	/* Out-of-band poke (twonode_signal), for when the link itself is full. */
	void (*on_signal)(struct rpk_node *n, void *arg);
	void *arg;
};

/* Load tests/integration/<dts>, fork the remote, start the master (threaded).
 * ns_bind is the master's callback for unbound announcements. */
void twonode_up(struct twonode *t, const char *dts, const struct remote_ops *ops,
		rpk_ns_bind_cb ns_bind, void *ns_priv);

/* Send a command to the remote and return its reply (static buffer). */
const char *twonode_cmd(struct twonode *t, const char *fmt, ...);

/* Remote: report a line out of band, for results the full link cannot carry. */
void twonode_note(const char *fmt, ...);
/* Master: read the next note (static buffer); fails the test after timeout. */
const char *twonode_read_note(struct twonode *t, unsigned timeout_ms);

/* Poke the remote out of band (SIGUSR1): runs ops->on_signal in its loop. */
void twonode_signal(struct twonode *t);

typedef int (*twonode_stats_pred)(const struct rpk_node_stats_page *p);

/* Wait (20 s at most) until a node's counter page, what `rpk stat` prints,
 * satisfies pred; out holds the page that did. */
void twonode_wait_stats(struct twonode *t, const char *node, twonode_stats_pred pred,
			const char *what, struct rpk_node_stats_page *out);

/* The test's own read-write mapping of a region of the link (index into
 * t->lay.regions), as a third party writing shared memory would have;
 * *size (if not NULL) gets its size. munmap() it. */
void *twonode_map(const struct twonode *t, int region, size_t *size);

/* Tell the remote to quit, wait for it; asserts it exited 0. Closes the master. */
void twonode_down(struct twonode *t);

/* Fail-safe cleanup for teardown: kill the child, unlink the shm objects. */
void twonode_kill(struct twonode *t);

#endif
