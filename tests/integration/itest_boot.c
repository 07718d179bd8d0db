/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Auto-boot through the node API: a master loads examples/firmware/boot_fw.c
 * (built by the host compiler), starts the real `rpk run --booted` remote
 * through its start/stop operations, and goes through every transition of a
 * booted remote: offline -> running -> offline (stop) -> running (boot
 * again) -> crashed -> running (recovery: loaded and started again), or
 * crashed for good without recovery. A bad image never starts anything.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rpk/errno.h>

#include <rpk/layout.h>
#include <rpk/node.h>

#define WAIT_MS 20000u

struct proc {
	char dts[512], instance[64];
	pid_t pid;
	unsigned starts, stops;
};

static int start_remote(void *priv)
{
	struct proc *p = priv;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -RPK_ENOMEM;
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(RPK_BIN, "rpk", "run", p->dts, "--node", "remote", "--instance", p->instance,
		      "--booted", (char *)NULL);
		_exit(127);
	}
	p->pid = pid;
	p->starts++;
	return 0;
}

static void stop_remote(void *priv)
{
	struct proc *p = priv;

	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
	p->stops++;
}

struct fixture {
	struct rpk_layout lay;
	struct proc proc;
	struct rpk_node *master;
	uint8_t *img;
	size_t size;
};

static void load_image(struct fixture *f)
{
	FILE *fp = fopen(RPK_BOOT_FW, "rb");
	long len;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len > 0);
	rewind(fp);
	f->img = malloc((size_t)len);
	assert_non_null(f->img);
	assert_int_equal(fread(f->img, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	f->size = (size_t)len;
}

static void open_master(struct fixture *f, int no_recovery)
{
	static unsigned seq;
	struct rpk_node_opts o = {.threaded = 1,
				  .no_recovery = no_recovery,
				  .start_remote = start_remote,
				  .stop_remote = stop_remote,
				  .rproc_priv = &f->proc};
	char err[4096];

	memset(f, 0, sizeof(*f));
	snprintf(f->proc.dts, sizeof(f->proc.dts), "%s/integration/boot16.dts", RPK_TEST_DATA);
	if (rpk_layout_load(f->proc.dts, &f->lay, err, sizeof(err)))
		fail_msg("%s", err);
	snprintf(f->proc.instance, sizeof(f->proc.instance), "boot-%d-%u", (int)getpid(), seq++);
	o.instance = f->proc.instance;
	if (rpk_node_open(&f->master, &f->lay, "master", &o, err, sizeof(err)))
		fail_msg("%s", err);
	load_image(f);
}

static void boot(struct fixture *f)
{
	char err[1024];

	if (rpk_node_boot(f->master, f->img, f->size, WAIT_MS, err, sizeof(err)))
		fail_msg("boot: %s", err);
	assert_int_equal(rpk_node_state(f->master), RPK_NODE_RUNNING);
}

static void close_all(struct fixture *f)
{
	rpk_node_close(f->master);
	free(f->img);
	rpk_node_unlink_all(&f->lay, f->proc.instance);
}

/* Poll (bounded) until the master is in state s. */
static void wait_state(struct fixture *f, enum rpk_node_state s)
{
	struct timespec ts = {0, 2000000};

	for (unsigned waited = 0; waited < WAIT_MS; waited += 2) {
		if (rpk_node_state(f->master) == s)
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("master %s, want %s", rpk_node_state_name(rpk_node_state(f->master)),
		 rpk_node_state_name(s));
}

/* The booted remote echoes on its announced service. */
static void echoes(struct fixture *f, int count)
{
	struct rpk_inbox *h;
	struct timespec ts = {0, 1000000};
	char in[64], out[64];

	assert_int_equal(rpk_inbox_open(f->master, &h, "rpk-echo", RPK_ADDR_ANY, RPK_ADDR_ANY), 0);
	for (unsigned ms = 0; ms < WAIT_MS && rpk_ept_get_dst(rpk_inbox_ept(h)) == RPK_ADDR_ANY;
	     ms++)
		nanosleep(&ts, NULL);
	for (int i = 0; i < count; i++) {
		int n = snprintf(out, sizeof(out), "boot %d", i);

		assert_int_equal(rpk_send(rpk_inbox_ept(h), out, (size_t)n, WAIT_MS), 0);
		assert_int_equal(rpk_inbox_recv(h, in, sizeof(in), NULL, WAIT_MS), n);
		assert_memory_equal(in, out, (size_t)n);
	}
	rpk_inbox_close(h);
}

static void test_boot_stop_boot(void **state)
{
	struct fixture f;
	char err[1024];

	(void)state;
	open_master(&f, 0);
	assert_int_equal(rpk_node_state(f.master), RPK_NODE_OFFLINE);
	assert_int_equal(rpk_node_stop(f.master), -RPK_EINVAL); /* nothing to stop */
	boot(&f);
	assert_int_equal(f.proc.starts, 1);
	echoes(&f, 50);
	/* Booting a running remote is refused. */
	assert_int_equal(rpk_node_boot(f.master, f.img, f.size, WAIT_MS, err, sizeof(err)),
			 -RPK_EINVAL);
	assert_non_null(strstr(err, "can only boot an offline remote (it is running)"));
	assert_int_equal(rpk_node_stop(f.master), 0);
	assert_int_equal(rpk_node_state(f.master), RPK_NODE_OFFLINE);
	assert_int_equal(f.proc.pid, 0); /* stopped and reaped */
	boot(&f);			 /* from offline again: a fresh load */
	assert_int_equal(f.proc.starts, 2);
	echoes(&f, 50);
	close_all(&f); /* stops the remote */
	assert_int_equal(f.proc.pid, 0);
}

static void test_crash_recovers(void **state)
{
	struct fixture f;
	struct rpk_node_counts c;

	(void)state;
	open_master(&f, 0);
	boot(&f);
	echoes(&f, 20);
	for (int round = 1; round <= 3; round++) {
		pid_t dead = f.proc.pid;

		kill(dead, SIGKILL);
		/* Reloaded and started again by the event thread, no call of ours. */
		for (unsigned ms = 0; ms < WAIT_MS && f.proc.starts < (unsigned)round + 1; ms++)
			usleep(1000);
		assert_int_equal(f.proc.starts, round + 1);
		wait_state(&f, RPK_NODE_RUNNING);
		assert_true(f.proc.pid != dead);
		echoes(&f, 20);
	}
	rpk_node_counts(f.master, &c);
	assert_int_equal(c.crashes, 3);
	assert_int_equal(c.attaches, 4);
	close_all(&f);
}

static void test_crash_without_recovery(void **state)
{
	struct fixture f;

	(void)state;
	open_master(&f, 1);
	boot(&f);
	kill(f.proc.pid, SIGKILL);
	wait_state(&f, RPK_NODE_CRASHED);
	assert_int_equal(f.proc.starts, 1);
	assert_int_equal(rpk_node_stop(f.master), 0); /* reaps what is left */
	assert_int_equal(rpk_node_state(f.master), RPK_NODE_OFFLINE);
	assert_int_equal(f.proc.pid, 0);
	close_all(&f);
}

static void test_bad_image_starts_nothing(void **state)
{
	struct fixture f;
	char err[1024];

	(void)state;
	open_master(&f, 0);
	f.img[f.size / 2] ^= 0xff;     /* somewhere in the middle: maybe harmless */
	memset(f.img + 16, 0xff, 4);   /* e_type, e_machine: certainly not ours */
	memset(f.img + 0x20, 0xff, 8); /* the program header offset points nowhere */
	assert_int_equal(rpk_node_boot(f.master, f.img, f.size, WAIT_MS, err, sizeof(err)),
			 -RPK_ENOEXEC);
	assert_non_null(strstr(err, "firmware: bad ELF image"));
	assert_int_equal(f.proc.starts, 0);
	assert_int_equal(rpk_node_state(f.master), RPK_NODE_OFFLINE);
	close_all(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_boot_stop_boot),
	    cmocka_unit_test(test_crash_recovers),
	    cmocka_unit_test(test_crash_without_recovery),
	    cmocka_unit_test(test_bad_image_starts_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
