/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rpk_tool.h"

volatile sig_atomic_t rpk_stop;

/* Nodes whose blocking calls a stop signal interrupts: every link of a
 * processor (rpk up --processor) runs in one process. */
#define MAX_STOP_NODES RPK_LAYOUT_MAX_NODES
static struct rpk_node *stop_nodes[MAX_STOP_NODES];

/* Other things a stop signal ends (rpk up's FUSE loops, one per link): a
 * slot is taken by its arg, and its fn is set once the arg is in place. */
static struct {
	void (*fn)(void *);
	void *arg;
} stop_hooks[MAX_STOP_NODES];

void stop_also(void (*fn)(void *), void *arg)
{
	for (int i = 0; i < MAX_STOP_NODES; i++) {
		void *none = NULL;

		if (__atomic_compare_exchange_n(&stop_hooks[i].arg, &none, arg, 0, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED)) {
			__atomic_store_n(&stop_hooks[i].fn, fn, __ATOMIC_RELEASE);
			break;
		}
	}
	if (stop_requested()) /* the signal came before we were listed */
		fn(arg);
}

void stop_also_forget(void *arg)
{
	for (int i = 0; i < MAX_STOP_NODES; i++)
		if (__atomic_load_n(&stop_hooks[i].arg, __ATOMIC_ACQUIRE) == arg) {
			__atomic_store_n(&stop_hooks[i].fn, NULL, __ATOMIC_RELEASE);
			__atomic_store_n(&stop_hooks[i].arg, NULL, __ATOMIC_RELEASE);
		}
}

int stop_requested(void)
{
	return __atomic_load_n(&rpk_stop, __ATOMIC_ACQUIRE);
}

void request_stop(void)
{
	/* Atomic: a link's thread of rpk up may call this (and a lock-free
	 * store is fine in a signal handler). */
	__atomic_store_n(&rpk_stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < MAX_STOP_NODES; i++) {
		void (*fn)(void *) = __atomic_load_n(&stop_hooks[i].fn, __ATOMIC_ACQUIRE);
		void *arg = __atomic_load_n(&stop_hooks[i].arg, __ATOMIC_ACQUIRE);

		if (fn && arg)
			fn(arg);
	}
	for (int i = 0; i < MAX_STOP_NODES; i++) {
		struct rpk_node *n = __atomic_load_n(&stop_nodes[i], __ATOMIC_ACQUIRE);

		if (n)
			rpk_node_interrupt(n);
	}
}

static void on_stop(int sig)
{
	(void)sig;
	request_stop();
}

void stop_interrupts(struct rpk_node *n)
{
	for (int i = 0; i < MAX_STOP_NODES; i++) {
		struct rpk_node *none = NULL;

		if (__atomic_compare_exchange_n(&stop_nodes[i], &none, n, 0, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			break;
	}
	if (stop_requested()) /* the signal came before we were listed */
		rpk_node_interrupt(n);
}

void stop_interrupts_forget(struct rpk_node *n)
{
	for (int i = 0; i < MAX_STOP_NODES; i++) {
		struct rpk_node *mine = n;

		__atomic_compare_exchange_n(&stop_nodes[i], &mine, NULL, 0, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED);
	}
}

void install_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked wait returns so the loop sees rpk_stop. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int parse_number(const char *cmd, const char *opt, const char *arg, unsigned long min,
		 unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "rpk %s: --%s takes %lu..%lu\n", cmd, opt, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int load_layout(const char *path, struct rpk_layout *lay)
{
	char err[4096];

	if (rpk_layout_load(path, lay, err, sizeof(err)) == 0)
		return 0;
	rpk_print_escaped(stderr, err);
	fprintf(stderr, "rpk: %s: devicetree rejected, nothing was started\n", path);
	return -1;
}

int load_dt_operand(const char *cmd, int argc, char **argv, const char *node,
		    struct rpk_layout *lay, void (*usage)(FILE *))
{
	if (optind != argc - 1 || !node) {
		fprintf(stderr, "rpk %s: need one devicetree file and --node NAME\n", cmd);
		usage(stderr);
		return 2;
	}
	return load_layout(argv[optind], lay) ? 1 : 0;
}

/* FILE [--node NAME] [--instance ID] [--group NAME] [--dir DIR] [--help]:
 * 0 to go on, else the exit code. */
static int parse_link_options(int argc, char **argv, void (*usage)(FILE *), const char **node,
			      const char **instance, const char **group, const char **dir)
{
	static const struct option opts[] = {
	    {"node", required_argument, 0, 'n'},  {"instance", required_argument, 0, 'i'},
	    {"group", required_argument, 0, 'g'}, {"dir", required_argument, 0, 'd'},
	    {"help", no_argument, 0, 'h'},	  {0, 0, 0, 0}};
	int c;

	*node = NULL;
	*instance = "default";
	*group = NULL;
	if (dir)
		*dir = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd' && !dir)
			c = '?';
		switch (c) {
		case 'd':
			*dir = optarg;
			break;
		case 'n':
			*node = optarg;
			break;
		case 'i':
			*instance = optarg;
			break;
		case 'g':
			*group = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	return -1;
}

int parse_node_command(const char *cmd, int argc, char **argv, void (*usage)(FILE *),
		       struct rpk_layout *lay, const char **node, const char **instance,
		       const char **group, const char **dir)
{
	int c = parse_link_options(argc, argv, usage, node, instance, group, dir);

	if (c >= 0)
		return c;
	c = load_dt_operand(cmd, argc, argv, *node, lay, usage);
	return c ? c : -1;
}

int parse_file_command(const char *cmd, int argc, char **argv, void (*usage)(FILE *),
		       struct rpk_layout *lay, const char **node, const char **instance,
		       const char **group)
{
	int c = parse_link_options(argc, argv, usage, node, instance, group, NULL);

	if (c >= 0)
		return c;
	if (optind != argc - 1) {
		fprintf(stderr, "rpk %s: need one devicetree file\n", cmd);
		usage(stderr);
		return 2;
	}
	if (load_layout(argv[optind], lay))
		return 1;
	return -1;
}

void service_dir(char *buf, size_t len, const char *instance, const char *node)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		snprintf(buf, len, "/run/rpk/%s/%s", instance, node);
	else if (xdg && xdg[0])
		snprintf(buf, len, "%s/rpk/%s/%s", xdg, instance, node);
	else
		snprintf(buf, len, "/tmp/rpk-%u/%s/%s", (unsigned)getuid(), instance, node);
}

#define MAX_FILE (64u << 20)

void *read_whole_file(const char *cmd, const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f) {
		fprintf(stderr, "rpk %s: %s: %s\n", cmd, path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || (unsigned long)len > MAX_FILE ||
	    fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "rpk %s: %s: unreadable or larger than %u MiB\n", cmd, path,
			MAX_FILE >> 20);
		fclose(f);
		return NULL;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
		fprintf(stderr, "rpk %s: %s: read error\n", cmd, path);
	}
	fclose(f);
	*size = (size_t)len;
	return buf;
}

pid_t spawn(int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the supervisor */
		int rc = fn(arg);

		fflush(NULL); /* _exit skips stdio */
		_exit(rc);
	}
	return pid;
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

static void kill_all(pid_t *children, const int *alive, int count, int sig)
{
	for (int i = 0; i < count; i++)
		if (alive[i])
			kill(children[i], sig);
}

int supervise(pid_t *children, int count, const struct rpk_layout *lay, const char *instance)
{
	int alive[RPK_LAYOUT_MAX_NODES] = {0}, codes[RPK_LAYOUT_MAX_NODES] = {0};
	int left = count, stopping = 0, rc = 0;
	struct timespec term_at = {0};

	for (int i = 0; i < count && i < RPK_LAYOUT_MAX_NODES; i++)
		alive[i] = children[i] > 0;
	while (left > 0) {
		int st;
		pid_t pid = waitpid(-1, &st, stopping ? WNOHANG : 0);

		if (pid > 0) {
			for (int i = 0; i < count; i++)
				if (children[i] == pid && alive[i]) {
					alive[i] = 0;
					codes[i] = status_code(st);
					left--;
					/* The first child is the one whose result counts;
					 * once it is done, or anyone failed, stop the rest. */
					if (!stopping && (i == 0 || codes[i])) {
						stopping = 1;
						clock_gettime(CLOCK_MONOTONIC, &term_at);
						kill_all(children, alive, count, SIGTERM);
					}
				}
			continue;
		}
		if (pid < 0 && errno == ECHILD)
			break;
		if (rpk_stop && !stopping) {
			stopping = 1;
			clock_gettime(CLOCK_MONOTONIC, &term_at);
			kill_all(children, alive, count, SIGTERM);
		}
		if (stopping) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - term_at.tv_sec >= 3)
				kill_all(children, alive, count, SIGKILL);
			usleep(10000);
		}
	}
	rpk_node_unlink_all(lay, instance);
	if (rpk_stop)
		return 130;
	rc = codes[0];
	for (int i = 1; i < count && !rc; i++)
		if (codes[i])
			rc = codes[i];
	return rc;
}
