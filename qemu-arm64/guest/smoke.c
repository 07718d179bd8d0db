/* The smallest useful guest for the arm64 test kernel: run as /init from the
 * initramfs (qemu-arm64/boot), it mounts what a test needs, says what the
 * kernel shows, and powers the machine off, which ends QEMU.
 *
 *   rpk-guest: up, kernel RELEASE
 *   rpk-guest: remoteproc N                    entries in /sys/class/remoteproc
 *   rpk-guest: reserved-memory NAME [no-map]   one line per devicetree child
 *   rpk-guest: iomem LINE                      /proc/iomem's top-level lines
 *   rpk-guest: power off
 *
 * Built static: aarch64-linux-gnu-gcc -static -O2 (the initramfs has no libc).
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static void mount_fs(const char *type, const char *dir)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		printf("rpk-guest: mkdir %s: %s\n", dir, strerror(errno));
	/* EBUSY: already mounted (devtmpfs, when the kernel mounted it). */
	if (mount(type, dir, type, 0, NULL) != 0 && errno != EBUSY)
		printf("rpk-guest: mount %s on %s: %s\n", type, dir, strerror(errno));
}

/* Entries of DIR other than . and .., or -1 if it cannot be read. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* The devicetree's /reserved-memory children, as the kernel read them. */
static void list_reserved_memory(void)
{
	const char *base = "/sys/firmware/devicetree/base/reserved-memory";
	DIR *d = opendir(base);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		char path[512];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s/no-map", base, e->d_name);
		printf("rpk-guest: reserved-memory %s%s\n", e->d_name,
		       stat(path, &st) == 0 ? " no-map" : "");
	}
	closedir(d);
}

/* The physical address map's top level: RAM, and what no-map kept out of it. */
static void list_iomem(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (line[0] != ' ')
			printf("rpk-guest: iomem %s", line);
	fclose(f);
}

int main(void)
{
	mount_fs("proc", "/proc");
	mount_fs("sysfs", "/sys");
	mount_fs("devtmpfs", "/dev");
	mount_fs("debugfs", "/sys/kernel/debug");

	struct utsname u;
	printf("rpk-guest: up, kernel %s\n", uname(&u) == 0 ? u.release : "?");
	printf("rpk-guest: remoteproc %d\n", count_entries("/sys/class/remoteproc"));
	list_reserved_memory();
	list_iomem();

	printf("rpk-guest: power off\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	/* Still here: init exiting panics the kernel, and qemu-arm64/boot sees no
	 * power-off. */
	printf("rpk-guest: reboot: %s\n", strerror(errno));
	return 1;
}
