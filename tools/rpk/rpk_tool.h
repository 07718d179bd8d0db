/* SPDX-License-Identifier: BSD-3-Clause */
/* Pieces the rpk subcommands share. Protocol logic stays in the libraries. */
#ifndef RPK_TOOL_H
#define RPK_TOOL_H

#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include <rpk/layout.h>
#include <rpk/node.h>

#include "node/chaos.h"

#define RPK_DEFAULT_DT RPK_EXAMPLES_DIR "/seed-tcc807x.dts"

int cmd_run(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_vhost_user(int argc, char **argv);
int cmd_ivshmem_server(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_rsc(int argc, char **argv);
int cmd_rsc_check(int argc, char **argv); /* rpk rsc check (cmd_rsc_check.c) */
int cmd_dtb(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_up(int argc, char **argv);

/*
 * Untrusted text (from shared memory or a file) made printable: each byte
 * outside 0x20..0x7e as \xNN, a backslash as \\, a newline kept if lines.
 * len bytes of in go to out (cap bytes; 4 * len + 1 always fit, a shorter
 * out cuts the text between two escapes). Returns out.
 */
const char *rpk_escape(char *out, size_t cap, const void *in, size_t len, int lines);
/* A name of at most max bytes (stops at a NUL): cap of 4 * max + 1 fits. */
#define RPK_ESC_SIZE(max) (4 * (max) + 1)
const char *rpk_esc_name(char *out, size_t cap, const char *name, size_t max);
/* A message (lines kept) to f. */
void rpk_print_escaped(FILE *f, const char *text);

/* Set by SIGINT/SIGTERM once install_stop_signals() ran. */
extern volatile sig_atomic_t rpk_stop;
void install_stop_signals(void);
/* A stop signal also interrupts this node's blocking calls (rpk_node_interrupt);
 * forget it before closing it. */
void stop_interrupts(struct rpk_node *n);
void stop_interrupts_forget(struct rpk_node *n);
/* Also call fn(arg) at a stop signal (async-signal-safe fn), until
 * stop_also_forget(arg); a few at once (one per link of a processor). */
void stop_also(void (*fn)(void *), void *arg);
void stop_also_forget(void *arg);
/* What a stop signal does, from any thread (a link of a processor that
 * failed stops its siblings); whether it happened, from any thread. */
void request_stop(void);
int stop_requested(void);

/* Parse a number option in [min, max]; prints "rpk CMD: --OPT takes min..max"
 * and returns -1 when it is not one. */
int parse_number(const char *cmd, const char *opt, const char *arg, unsigned long min,
		 unsigned long max, unsigned long *out);

/* Load and check a layout; prints the problems and returns -1 on error. */
int load_layout(const char *path, struct rpk_layout *lay);

/*
 * After getopt: exactly one devicetree operand and --node given, then the
 * layout loaded. Returns 0, or the exit code (2 usage, 1 bad layout) after
 * printing why (and usage, for a usage error).
 */
int load_dt_operand(const char *cmd, int argc, char **argv, const char *node,
		    struct rpk_layout *lay, void (*usage)(FILE *));

/* The whole command line of a command that looks at one node of a running
 * link: FILE --node NAME [--instance ID] [--group NAME] [--help]. Returns -1
 * to go on with the layout loaded, else the exit code. group is NULL unless
 * given. */
/* " (name service, event index)": the rpmsg feature bits set, in words; "" if none. */
const char *rpk_features_text(char *buf, size_t len, uint32_t features);

/* rpk up's directory for a node, unless --dir says otherwise: /run/rpk/INSTANCE/NODE
 * as root, else under $XDG_RUNTIME_DIR (or /tmp/rpk-UID). */
void service_dir(char *buf, size_t len, const char *instance, const char *node);
/* The same with --node optional (*node NULL when not given) and no --dir. */
int parse_file_command(const char *cmd, int argc, char **argv, void (*usage)(FILE *),
		       struct rpk_layout *lay, const char **node, const char **instance,
		       const char **group);
/* dir: NULL if the command takes no --dir. */
int parse_node_command(const char *cmd, int argc, char **argv, void (*usage)(FILE *),
		       struct rpk_layout *lay, const char **node, const char **instance,
		       const char **group, const char **dir);

/* A whole file (up to 64 MiB) in an exact-size malloc'd copy, so nothing
 * past it can be read by mistake; NULL after "rpk CMD: PATH: why". */
void *read_whole_file(const char *cmd, const char *path, size_t *size);

/* Run fn(arg) in a child process; returns its pid or -1. */
pid_t spawn(int (*fn)(void *), void *arg);

/*
 * Wait for the children (at most RPK_LAYOUT_MAX_NODES); if a stop signal
 * arrives, or one child fails, kill the rest. Returns the exit status of children[0] (or
 * 128+signal). The layout's shm objects for instance are removed in every case.
 */
int supervise(pid_t *children, int count, const struct rpk_layout *lay, const char *instance);

/* Remote side: echo every message on each service back to its sender until
 * rpk_stop. Prints its counts on exit. */
struct echo_opts {
	const struct rpk_layout *lay;
	const char *node;
	const char *instance;
	int polling;
	int adaptive; /* spin a while before sleeping (rpk_node_opts.adaptive) */
	uint32_t start_timeout_ms;
	enum rpk_chaos chaos; /* chaos peer mode (see host/node/chaos.h) */
	uint32_t chaos_every_ms;
	int booted;		 /* the master loaded our firmware: take its installed table */
	const char *group;	 /* who may join besides us (docs/access.md), or NULL */
	const char *memory_file; /* rpk_node_opts.memory_file */
	uint64_t memory_base;
	const char *doorbell_socket;
	const char *ivshmem_socket;
};
int run_echo_remote(const struct echo_opts *o);

/* Master side: bind the first announced service and check count echoes. */
struct check_opts {
	const struct rpk_layout *lay;
	const char *node;
	const char *instance;
	uint32_t count; /* 0: just run until stopped */
	int polling;
	int adaptive;
	uint32_t start_timeout_ms;
	enum rpk_chaos chaos;
	uint32_t chaos_every_ms;
	const char *firmware; /* boot the remote with this ELF (its node comes from the layout) */
	const char *dt;	      /* the layout's file, for the booted remote's command line */
	const char *group;    /* who may join besides us (docs/access.md), or NULL */
	const char *memory_file; /* rpk_node_opts.memory_file */
	uint64_t memory_base;
	const char *doorbell_socket;
	const char *ivshmem_socket;
};
int run_echo_master(const struct check_opts *o);

/* ---- auto-boot (boot.c) ---- */

/* The node of that role on n's link (the one sharing its resource table). */
const struct rpk_layout_node *link_peer(const struct rpk_layout *lay,
					const struct rpk_layout_node *n, enum rpk_role role);

/* The remote's processor on the host: a child `rpk run --node NODE --booted`. */
struct remote_proc {
	const char *dt, *node, *instance, *group;
	pid_t pid;
	unsigned starts;
};
int remote_proc_start(void *priv); /* rpk_node_opts.start_remote */
void remote_proc_stop(void *priv); /* rpk_node_opts.stop_remote: SIGTERM, then SIGKILL */

#endif
