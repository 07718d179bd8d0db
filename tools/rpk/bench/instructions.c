/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Instructions per message of the core alone: bench/core_instr (a master and
 * a remote in one thread over a null port) under valgrind's callgrind, run
 * at two message counts; the difference in instructions over the
 * difference in messages leaves the set-up out.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"

#define FEW_MESSAGES  800u
#define MANY_MESSAGES 4000u /* both multiples of the largest burst */

const char *instructions_default_path(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	snprintf(buf, len, "%s/core_instr", exe);
	return buf;
}

static int in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX];

	while (path && *path) {
		size_t len = strcspn(path, ":");

		snprintf(dir, sizeof(dir), "%.*s/%s", (int)len, len ? path : ".", prog);
		if (access(dir, X_OK) == 0)
			return 1;
		path += len + (path[len] == ':');
	}
	return 0;
}

/* The Ir total callgrind prints at exit ("==PID== Collected : N"). */
static int parse_collected(const char *out, uint64_t *ir)
{
	const char *p = strstr(out, "Collected :");

	if (!p)
		return -1;
	*ir = strtoull(p + strlen("Collected :"), NULL, 10);
	return *ir ? 0 : -1;
}

/* Instructions core_instr ran for count messages, from callgrind's stderr. */
static int count_instructions(const char *core_instr, const struct instr_figure *f, uint32_t count,
			      uint64_t *ir)
{
	char size[16], burst[16], messages[16], out[8192], scratch[512];
	size_t got = 0;
	int pipefd[2], st;
	ssize_t n;
	pid_t pid;

	snprintf(size, sizeof(size), "%u", f->bytes);
	snprintf(burst, sizeof(burst), "%u", f->burst);
	snprintf(messages, sizeof(messages), "%u", count);
	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(pipefd[1], 2);
		dup2(null, 1);
		close(pipefd[0]);
		execlp("valgrind", "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
		       core_instr, f->direction, size, burst, messages, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	/* Read it all (keeping what fits): a full pipe would stall valgrind. */
	while (pid > 0 &&
	       (n = read(pipefd[0], got < sizeof(out) - 1 ? out + got : scratch,
			 got < sizeof(out) - 1 ? sizeof(out) - 1 - got : sizeof(scratch))) > 0)
		got += got < sizeof(out) - 1 ? (size_t)n : 0;
	out[got] = 0;
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "rpk bench: core_instr %s %s %s %s under callgrind failed:\n%s",
			f->direction, size, burst, messages, out);
		return -1;
	}
	return parse_collected(out, ir);
}

int instructions_run(const char *core_instr, struct instr_figure figs[INSTR_FIGURES])
{
	static const char *const directions[] = {"m2r", "r2m"};
	static const uint32_t sizes[] = {16, 496}, bursts[] = {1, 8};
	int k = 0;

	if (!in_path("valgrind")) {
		fprintf(stderr, "rpk bench: --instructions needs valgrind (Debian: apt-get install "
				"valgrind), not found in PATH\n");
		return -1;
	}
	if (!core_instr || access(core_instr, X_OK)) {
		fprintf(stderr,
			"rpk bench: --instructions needs bench/core_instr (build target "
			"core_instr or bench), not found at %s: %s; say where with --core-instr\n",
			core_instr ? core_instr : "(no path)", strerror(errno));
		return -1;
	}
	for (int d = 0; d < 2; d++)
		for (int s = 0; s < 2; s++)
			for (int b = 0; b < 2; b++, k++) {
				struct instr_figure *f = &figs[k];
				uint64_t few, many;

				*f = (struct instr_figure){directions[d], sizes[s], bursts[b], 0};
				if (count_instructions(core_instr, f, FEW_MESSAGES, &few) ||
				    count_instructions(core_instr, f, MANY_MESSAGES, &many))
					return -1;
				f->per_message =
				    ((double)many - (double)few) / (MANY_MESSAGES - FEW_MESSAGES);
			}
	return 0;
}
