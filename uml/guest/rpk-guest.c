// SPDX-License-Identifier: BSD-3-Clause
/*
 * Init (PID 1) of the Linux guests in the wire tests: User-Mode Linux with our
 * vhost-user remote, and arm64 Linux in QEMU attached by remoteproc to our
 * remote in its RAM (qemu-arm64/, tests/linux-rproc/). It runs one scenario
 * against Linux's own RPMsg stack, writes a verdict, and powers off. The
 * kernel command line says what to do:
 *
 *   rpk.test=sample|chardev|tty|pty|destroy|first|compat|rproc|corrupt
 *   rpk.out=/host/path                          where the verdict goes (UML's
 *                                               hostfs); without it, the console
 *   rpk.ko=/path/rpmsg_client_sample.ko         for the sample scenarios
 *   rpk.prog=/host/path/rpmsg_char_compat       for the compat scenario
 *   rpk.mods=/a.ko,/b.ko                        modules loaded first, in order
 *   rpk.trace=no                                the remote keeps no trace
 *                                               buffer (rproc: skip its step)
 *
 * The verdict is "PASS <details>" or "FAIL <why>" on the first line, then
 * the kernel log lines that matter. On the console each line starts with
 * "rpk-verdict: "; the rproc scenario's steps print "rpk-step: " lines.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rpmsg.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 20000

static char out_path[256], test[32], ko_path[256], prog_path[256], mods[512], trace_mode[8];
static FILE *out;
static const char *verdict_prefix = "";

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void nap(void)
{
	struct timespec ts = {0, 10 * 1000000L};

	nanosleep(&ts, NULL);
}

static void power_off(void)
{
	if (out)
		fclose(out);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void verdict(const char *fmt, ...)
{
	va_list ap;

	fputs(verdict_prefix, out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}

static void cmdline_arg(const char *cmdline, const char *key, char *val, size_t len)
{
	const char *p = strstr(cmdline, key);

	val[0] = 0;
	if (!p)
		return;
	p += strlen(key);
	snprintf(val, len, "%.*s", (int)strcspn(p, " \n"), p);
}

/* Wait for a path to appear (or, with gone, to disappear). */
static int wait_path(const char *path, int gone)
{
	for (long end = now_ms() + WAIT_MS; now_ms() < end; nap())
		if ((access(path, F_OK) == 0) != gone)
			return 0;
	return -1;
}

/* The rpmsg device under /sys/bus/rpmsg/devices for a service name, and its
 * remote address (the last dot-separated field). */
static int find_service(const char *name, char *dev, size_t len, unsigned *addr)
{
	for (long end = now_ms() + WAIT_MS; now_ms() < end; nap()) {
		DIR *d = opendir("/sys/bus/rpmsg/devices");
		struct dirent *e;
		char want[64];

		if (len < 300)
			return -1;
		snprintf(want, sizeof(want), ".%s.", name);
		while (d && (e = readdir(d)))
			if (strstr(e->d_name, want)) {
				snprintf(dev, len, "/sys/bus/rpmsg/devices/%s", e->d_name);
				*addr = (unsigned)strtoul(strrchr(e->d_name, '.') + 1, NULL, 0);
				closedir(d);
				return 0;
			}
		if (d)
			closedir(d);
	}
	return -1;
}

/* Highest N with a /dev/rpmsgN, or -1. */
static int newest_rpmsg(void)
{
	char path[32];

	for (int i = 63; i >= 0; i--) {
		snprintf(path, sizeof(path), "/dev/rpmsg%d", i);
		if (access(path, F_OK) == 0)
			return i;
	}
	return -1;
}

/* Create an endpoint through /dev/rpmsg_ctrl0 and open its /dev/rpmsgN. */
static int open_endpoint(const char *name, unsigned dst)
{
	struct rpmsg_endpoint_info info = {.src = RPMSG_ADDR_ANY, .dst = dst};
	char path[32];
	int ctrl, before, n;

	snprintf(info.name, sizeof(info.name), "%s", name);
	if (wait_path("/dev/rpmsg_ctrl0", 0))
		return -1;
	ctrl = open("/dev/rpmsg_ctrl0", O_RDWR);
	before = newest_rpmsg();
	if (ctrl < 0 || ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info) < 0)
		return -1;
	close(ctrl);
	for (long end = now_ms() + WAIT_MS; now_ms() < end; nap()) {
		n = newest_rpmsg();
		if (n > before) {
			snprintf(path, sizeof(path), "/dev/rpmsg%d", n);
			return open(path, O_RDWR);
		}
	}
	return -1;
}

static int read_timeout(int fd, void *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, WAIT_MS) != 1)
		return -1;
	return (int)read(fd, buf, len);
}

/* Count kernel log lines containing each needle; copy them to copy if given. */
static void kernel_log(const char *const *needles, int *counts, FILE *copy)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	char line[1024];
	ssize_t n;

	for (int i = 0; needles[i]; i++)
		counts[i] = 0;
	while (fd >= 0 && (n = read(fd, line, sizeof(line) - 1)) > 0) {
		line[n] = 0;
		for (int i = 0; needles[i]; i++)
			if (strstr(line, needles[i])) {
				counts[i]++;
				if (copy)
					fputs(strchr(line, ';') ? strchr(line, ';') + 1 : line,
					      copy);
			}
	}
	if (fd >= 0)
		close(fd);
}

/* (a) The kernel's rpmsg_client_sample against our echo: 100 messages, goodbye. */
static void test_sample(void)
{
	static const char *const needles[] = {"incoming msg", "goodbye!", "BUG", "WARNING", NULL};
	int fd = open(ko_path, O_RDONLY | O_CLOEXEC);
	int counts[4];

	if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) < 0) {
		verdict("FAIL cannot load %s: %s", ko_path, strerror(errno));
		return;
	}
	for (long end = now_ms() + WAIT_MS; now_ms() < end; nap()) {
		kernel_log(needles, counts, NULL);
		if (counts[1])
			break;
	}
	verdict("%s incoming=%d goodbye=%d bugs=%d",
		counts[0] == 100 && counts[1] == 1 && !counts[2] && !counts[3] ? "PASS" : "FAIL",
		counts[0], counts[1], counts[2] + counts[3]);
	kernel_log(needles, counts, out);
}

/* (b) /dev/rpmsg_ctrl0 -> endpoint -> 1000 messages of 1..496 bytes, echoed. */
static void test_chardev(void)
{
	unsigned char msg[512], back[512];
	char dev[320];
	unsigned dst;
	int fd, ok = 0;

	if (find_service("rpk-echo", dev, sizeof(dev), &dst) ||
	    (fd = open_endpoint("rpk-chardev", dst)) < 0) {
		verdict("FAIL no endpoint to rpk-echo: %s", strerror(errno));
		return;
	}
	for (int i = 0; i < 1000; i++) {
		size_t len = 1 + (size_t)(i * 37) % 496;

		if (i == 999)
			len = 496;
		for (size_t k = 0; k < len; k++)
			msg[k] = (unsigned char)(i + k * 7);
		if (write(fd, msg, len) != (ssize_t)len) {
			verdict("FAIL write %d (%zu bytes): %s", i, len, strerror(errno));
			return;
		}
		if (read_timeout(fd, back, sizeof(back)) != (int)len || memcmp(msg, back, len)) {
			verdict("FAIL echo %d (%zu bytes) wrong or missing", i, len);
			return;
		}
		ok++;
	}
	errno = 0;
	if (write(fd, msg, 497) >= 0 || errno != EMSGSIZE) {
		verdict("FAIL 497 bytes: %s", errno ? strerror(errno) : "accepted");
		return;
	}
	verdict("PASS echoed=%d emsgsize=1 dst=0x%x", ok, dst);
}

/* (c) rpmsg_tty: /dev/ttyRPMSG0 appears; what we write comes back. */
static void test_tty(void)
{
	const char msg[] = "hello through rpmsg-tty";
	char back[64] = "";
	struct termios t;
	size_t got = 0;
	int fd;

	if (wait_path("/dev/ttyRPMSG0", 0) ||
	    (fd = open("/dev/ttyRPMSG0", O_RDWR | O_NOCTTY)) < 0) {
		verdict("FAIL no /dev/ttyRPMSG0");
		return;
	}
	tcgetattr(fd, &t);
	cfmakeraw(&t);
	tcsetattr(fd, TCSANOW, &t);
	if (write(fd, msg, sizeof(msg) - 1) != (ssize_t)sizeof(msg) - 1) {
		verdict("FAIL tty write: %s", strerror(errno));
		return;
	}
	while (got < sizeof(msg) - 1) {
		int n = read_timeout(fd, back + got, sizeof(back) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	back[got] = 0;
	verdict("%s tty=\"%s\"", strcmp(back, msg) ? "FAIL" : "PASS", back);
}

/*
 * (c') rpmsg_tty against a pty on our side (rpk vhost-user --dir, with
 * tests/uml/pty_responder.py answering on it): a line and its answer, every
 * byte value through raw mode, and bursts the guest does not read at once,
 * of which those up to PTY_SAFE_BURST must arrive whole and larger ones are
 * reported. Linux 6.1's rpmsg_tty has no flow control: unread input beyond
 * its tty buffers (a 640 KiB flip-buffer limit, TTYB_DEFAULT_MEM_LIMIT,
 * then 4 KiB in n_tty) is dropped on its side ("Trunc buffer" in the log).
 */
#define PTY_SAFE_BURST (512 << 10) /* below Linux's 640 KiB + 4 KiB: arrives whole */
#define PTY_SINK       (512 << 10) /* to a host reader that sleeps 1 s first */

static int read_exact(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		int n = read_timeout(fd, buf + got, len - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return (int)got;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == ENOMEM) { /* rpmsg_tty: no buffer free yet */
			nap();
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A burst of size bytes the guest leaves unread for a second: how many of
 * them arrive, and in order. */
static size_t pty_burst(int fd, size_t size, uint8_t *buf)
{
	struct timespec pause_1s = {1, 0};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char cmd[32];
	size_t got = 0;

	snprintf(cmd, sizeof(cmd), "BURST %zu\n", size);
	if (write_all(fd, cmd, strlen(cmd)))
		return 0;
	nanosleep(&pause_1s, NULL);
	while (got < size && poll(&p, 1, 1000) == 1) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	for (size_t i = 0; i < got; i++)
		if (buf[i] != (uint8_t)(i * 7 + 3))
			return i; /* a hole: what came before it is what survived */
	return got;
}

static void test_pty(void)
{
	static const size_t bursts[] = {1024, 16384, 262144, PTY_SAFE_BURST, 1 << 20, 4 << 20};
	static uint8_t buf[4 << 20];
	const char line[] = "LINE hello through a pty\n", ack[] = "ACK hello through a pty\n";
	char report[512] = "";
	uint8_t bytes[256];
	struct termios t;
	int fd, whole = 1;

	if (wait_path("/dev/ttyRPMSG0", 0) ||
	    (fd = open("/dev/ttyRPMSG0", O_RDWR | O_NOCTTY)) < 0) {
		verdict("FAIL no /dev/ttyRPMSG0");
		return;
	}
	tcgetattr(fd, &t);
	cfmakeraw(&t);
	tcsetattr(fd, TCSANOW, &t);
	if (write_all(fd, line, sizeof(line) - 1) ||
	    read_exact(fd, buf, sizeof(ack) - 1) != (int)sizeof(ack) - 1 ||
	    memcmp(buf, ack, sizeof(ack) - 1)) {
		verdict("FAIL no answer to a line");
		return;
	}
	for (int i = 0; i < 256; i++)
		bytes[i] = (uint8_t)i;
	if (write_all(fd, "ECHO 256\n", 9) || write_all(fd, bytes, sizeof(bytes)) ||
	    read_exact(fd, buf, sizeof(bytes)) != (int)sizeof(bytes) ||
	    memcmp(buf, bytes, sizeof(bytes))) {
		verdict("FAIL the 256 byte values did not come back unchanged");
		return;
	}
	/* Toward a reader that sleeps first: our side keeps it all. */
	for (size_t i = 0; i < PTY_SINK; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	snprintf(report, sizeof(report), "SINK %d\n", PTY_SINK);
	if (write_all(fd, report, strlen(report)) || write_all(fd, buf, PTY_SINK) ||
	    read_exact(fd, buf, 3) != 3 || memcmp(buf, "OK\n", 3)) {
		verdict("FAIL %d bytes toward a sleeping reader did not arrive whole", PTY_SINK);
		return;
	}
	report[0] = 0;
	for (size_t i = 0; i < sizeof(bursts) / sizeof(bursts[0]); i++) {
		size_t got = pty_burst(fd, bursts[i], buf);
		size_t len = strlen(report);

		snprintf(report + len, sizeof(report) - len, " burst%zu=%zu", bursts[i], got);
		if (bursts[i] <= PTY_SAFE_BURST && got != bursts[i])
			whole = 0;
		if (got != bursts[i]) { /* Linux dropped: let its buffers empty */
			while (read_timeout(fd, buf, sizeof(buf)) > 0)
				;
		}
	}
	verdict("%s line=1 bytes=256 sink=%d%s", whole ? "PASS" : "FAIL", PTY_SINK, report);
}

/* (d) The remote destroys a service: its Linux channel device goes away. */
static void test_destroy(void)
{
	char doomed[320], dev[320], reply[64];
	unsigned addr, ctl_addr;
	int fd, n;

	if (find_service("rpk-doomed", doomed, sizeof(doomed), &addr) ||
	    find_service("rpk-control", dev, sizeof(dev), &ctl_addr) ||
	    (fd = open_endpoint("rpk-ctl", ctl_addr)) < 0) {
		verdict("FAIL services rpk-doomed/rpk-control not found");
		return;
	}
	if (write(fd, "destroy rpk-doomed", 18) != 18 ||
	    (n = read_timeout(fd, reply, sizeof(reply) - 1)) <= 0) {
		verdict("FAIL control request unanswered");
		return;
	}
	reply[n] = 0;
	if (wait_path(doomed, 1)) {
		verdict("FAIL %s still there after the remote destroyed it (%s)", doomed, reply);
		return;
	}
	verdict("PASS gone=%s reply=%s", strrchr(doomed, '/') + 1, reply);
}

/* (e) Linux speaks first to an endpoint that announced nothing; the remote
 * learns our address from the message and answers. */
static void test_first(void)
{
	char back[64];
	int fd = open_endpoint("rpk-first", 0x500), n;

	if (fd < 0 || write(fd, "linux first", 11) != 11) {
		verdict("FAIL cannot send to 0x500: %s", strerror(errno));
		return;
	}
	n = read_timeout(fd, back, sizeof(back));
	verdict("%s reply=%.*s", n == 11 && !memcmp(back, "linux first", 11) ? "PASS" : "FAIL",
		n > 0 ? n : 0, back);
}

/* (f) The rpmsg_char compatibility program (tests/chardev), unchanged, on
 * the kernel's /dev/rpmsg_ctrl0, against our echo: its verdict is ours. */
static void test_compat(void)
{
	char dev[320], dst[16], outbuf[512] = "";
	unsigned addr;
	int pipefd[2], st = 0;
	ssize_t n, got = 0;
	pid_t pid;

	if (find_service("rpk-echo", dev, sizeof(dev), &addr) || wait_path("/dev/rpmsg_ctrl0", 0)) {
		verdict("FAIL no rpk-echo service or no /dev/rpmsg_ctrl0");
		return;
	}
	snprintf(dst, sizeof(dst), "0x%x", addr);
	if (pipe(pipefd) || (pid = fork()) < 0) {
		verdict("FAIL cannot start %s: %s", prog_path, strerror(errno));
		return;
	}
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(prog_path, prog_path, "echo", "/dev", dst, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (got < (ssize_t)sizeof(outbuf) - 1 &&
	       (n = read(pipefd[0], outbuf + got, sizeof(outbuf) - 1 - (size_t)got)) > 0)
		got += n;
	outbuf[got] = 0;
	waitpid(pid, &st, 0);
	outbuf[strcspn(outbuf, "\n")] = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && !strncmp(outbuf, "PASS", 4))
		verdict("%s", outbuf);
	else
		verdict("FAIL %s exited %d: %s", prog_path, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			outbuf);
}

/* ---- remoteproc (qemu-arm64): Linux attaches to a remote that booted ---- */

#define RPROC "/sys/class/remoteproc/remoteproc0"

static int load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = (int)syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return rc;
}

/* rpk.mods, comma-separated, in order. */
static int load_modules(void)
{
	char list[512], *save = NULL;

	snprintf(list, sizeof(list), "%s", mods);
	for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
		if (load_module(m)) {
			verdict("FAIL cannot load %s: %s", m, strerror(errno));
			return -1;
		}
	return 0;
}

static int read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int write_word(const char *path, const char *word)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = fd < 0 ? -1 : write(fd, word, strlen(word));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(word) ? 0 : -1;
}

/* Wait for remoteproc0's state to read want; the last state seen in got. */
static int wait_state(const char *want, char *got, size_t len)
{
	for (long end = now_ms() + WAIT_MS; now_ms() < end; nap())
		if (!read_line(RPROC "/state", got, len) && !strcmp(got, want))
			return 0;
	return -1;
}

static const char *const sample_needles[] = {
    "incoming msg", "goodbye!", "BUG", "WARNING", "Oops", "crash detected", "rpk-rproc", NULL};
enum { N_INCOMING, N_GOODBYE, N_BUG, N_WARNING, N_OOPS, N_CRASH, N_DRIVER, N_COUNT };

/* Wait until the sample said goodbye `runs` times in all; each run is 100
 * messages. */
static int sample_runs(int runs, int *counts)
{
	for (long end = now_ms() + WAIT_MS; now_ms() < end; nap()) {
		kernel_log(sample_needles, counts, NULL);
		if (counts[N_GOODBYE] >= runs)
			break;
	}
	return counts[N_GOODBYE] == runs && counts[N_INCOMING] == 100 * runs && !counts[N_BUG] &&
		       !counts[N_WARNING] && !counts[N_OOPS]
		   ? 0
		   : -1;
}

static int step(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "rpk-step: %s %s ", name, ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
	return ok ? 0 : -1;
}

/* The remote's trace buffer, through debugfs: its log names its table. */
static int trace_has(const char *needle)
{
	char buf[4096];
	int fd = open("/sys/kernel/debug/remoteproc/remoteproc0/trace0", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

/* The lines of /proc/interrupts that name a driver of ours (their counts: the
 * doorbells taken as interrupts), as "rpk-irq: ..." lines. */
static void print_irqs(const char *needle)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[512];

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			fprintf(out, "rpk-irq: %s", line);
	if (f)
		fclose(f);
	fflush(out);
}

/*
 * The seeds' scenario with the kernel's own remoteproc: attach, the sample's
 * 100 messages, rpmsg_char's 1000 echoes, detach and attach again, a crash
 * of the remote (the host kills and restarts it when it reads "crash me"),
 * and the remote's trace buffer.
 */
static void test_rproc(void)
{
	int counts[N_COUNT] = {0}, failed = 0;
	char state[64];
	long t0 = now_ms();

	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (load_modules())
		return;
	failed |= step(!wait_state("attached", state, sizeof(state)), "attach",
		       "state=%s after %ld ms", state, now_ms() - t0);
	if (failed) {
		verdict("FAIL remoteproc0 is %s, not attached", state);
		kernel_log(sample_needles, counts, out);
		return;
	}
	if (strcmp(trace_mode, "no"))
		failed |= step(trace_has("resource table published"), "trace",
			       "trace0 has the remote's log");
	if (load_module(ko_path)) {
		verdict("FAIL cannot load %s: %s", ko_path, strerror(errno));
		return;
	}
	failed |= step(!sample_runs(1, counts), "sample", "incoming=%d goodbye=%d bugs=%d",
		       counts[N_INCOMING], counts[N_GOODBYE],
		       counts[N_BUG] + counts[N_WARNING] + counts[N_OOPS]);
	test_chardev();
	/* Linux did not start the remote and cannot stop it: detach lets go. */
	failed |=
	    step(write_word(RPROC "/state", "stop") &&
		     !read_line(RPROC "/state", state, sizeof(state)) && !strcmp(state, "attached"),
		 "stop-refused", "state=%s", state);
	/* Detach: the remote runs on; start: attach again, the sample runs again. */
	failed |= step(!write_word(RPROC "/state", "detach") &&
			   !wait_state("detached", state, sizeof(state)),
		       "detach", "state=%s", state);
	/* Detached for a while, as a user would be: the remote looks at the
	 * status every 50 ms, and shows the detach before the next attach. */
	for (long end = now_ms() + 300; now_ms() < end; nap())
		;
	t0 = now_ms();
	failed |= step(!write_word(RPROC "/state", "start") &&
			   !wait_state("attached", state, sizeof(state)),
		       "reattach", "state=%s after %ld ms", state, now_ms() - t0);
	failed |= step(!sample_runs(2, counts), "sample-again", "incoming=%d goodbye=%d",
		       counts[N_INCOMING], counts[N_GOODBYE]);
	/* A crash: the host kills the remote and starts it again. */
	fprintf(out, "rpk-guest: crash me\n");
	fflush(out);
	t0 = now_ms();
	for (long end = now_ms() + WAIT_MS; now_ms() < end; nap()) {
		kernel_log(sample_needles, counts, NULL);
		if (counts[N_GOODBYE] >= 3)
			break;
	}
	read_line(RPROC "/state", state, sizeof(state));
	failed |=
	    step(counts[N_CRASH] == 1 && !strcmp(state, "attached"), "crash",
		 "crashes=%d state=%s, recovered in %ld ms", counts[N_CRASH], state, now_ms() - t0);
	failed |= step(!sample_runs(3, counts), "sample-after-crash", "incoming=%d goodbye=%d",
		       counts[N_INCOMING], counts[N_GOODBYE]);
	verdict("%s rproc", failed ? "FAIL" : "PASS");
	kernel_log(sample_needles, counts, out);
	print_irqs("rpk");
}

/* A remote's table that makes no sense: the attach fails with a clear line,
 * nothing oopses, and the state stays detached. */
static void test_corrupt(void)
{
	int counts[N_COUNT] = {0};
	char state[64];

	if (load_modules())
		return;
	/* The attach runs once, at probe: give it the time an attach takes. */
	for (long end = now_ms() + 2000; now_ms() < end; nap())
		;
	read_line(RPROC "/state", state, sizeof(state));
	kernel_log(sample_needles, counts, NULL);
	verdict("%s state=%s oops=%d",
		strcmp(state, "attached") && !counts[N_OOPS] && !counts[N_BUG] ? "PASS" : "FAIL",
		state, counts[N_OOPS] + counts[N_BUG]);
	kernel_log(sample_needles, counts, out);
}

int main(void)
{
	char cmdline[2048] = "";
	int fd;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/proc/cmdline", O_RDONLY);
	if (fd < 0 || read(fd, cmdline, sizeof(cmdline) - 1) < 0)
		power_off();
	close(fd);
	cmdline_arg(cmdline, "rpk.out=", out_path, sizeof(out_path));
	cmdline_arg(cmdline, "rpk.test=", test, sizeof(test));
	cmdline_arg(cmdline, "rpk.ko=", ko_path, sizeof(ko_path));
	cmdline_arg(cmdline, "rpk.prog=", prog_path, sizeof(prog_path));
	cmdline_arg(cmdline, "rpk.mods=", mods, sizeof(mods));
	cmdline_arg(cmdline, "rpk.trace=", trace_mode, sizeof(trace_mode));
	if (out_path[0]) {
		out = fopen(out_path, "w+");
	} else {
		out = stdout; /* the console the kernel opened for us */
		verdict_prefix = "rpk-verdict: ";
	}
	if (!out)
		power_off();
	if (!strcmp(test, "sample"))
		test_sample();
	else if (!strcmp(test, "chardev"))
		test_chardev();
	else if (!strcmp(test, "tty"))
		test_tty();
	else if (!strcmp(test, "pty"))
		test_pty();
	else if (!strcmp(test, "destroy"))
		test_destroy();
	else if (!strcmp(test, "first"))
		test_first();
	else if (!strcmp(test, "compat"))
		test_compat();
	else if (!strcmp(test, "rproc"))
		test_rproc();
	else if (!strcmp(test, "corrupt"))
		test_corrupt();
	else
		verdict("FAIL unknown rpk.test '%s'", test);
	power_off();
}
