/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIGBUS guard: a file mapped MAP_SHARED that someone truncates raises SIGBUS
 * on the next access past its new end. For a fault inside one of our
 * mappings the handler maps anonymous zero pages over the rest of it (the
 * pattern Wayland compositors use for wl_shm pools) and records that the
 * mapping shrank; the node sees the record at its next watchdog period and
 * stops with a message. Faults elsewhere go to the handler installed before
 * ours, or kill the process as they would without us.
 *
 * The registry is a fixed array of slots claimed with compare-and-swap: the
 * handler may run on any thread at any time, so it takes no lock and only
 * reads slots that were published whole.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "posix/rpk_posix.h"

enum { SLOT_FREE, SLOT_FILLING, SLOT_LIVE };

static struct guard_slot {
	int state;
	int shrunk;
	int prot;
	uintptr_t start;
	size_t len;
} slots[RPK_GUARD_SLOTS];

static struct sigaction prev;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static uintptr_t page_mask;

/* Not ours: what would have happened without us. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction dfl;

	if (prev.sa_flags & SA_SIGINFO) {
		prev.sa_sigaction(sig, si, uc);
		return;
	}
	if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
		prev.sa_handler(sig);
		return;
	}
	if (prev.sa_handler == SIG_IGN && si->si_code <= 0)
		return; /* sent by someone, and ignored before we came */
	/* Die of it: the signal is blocked until we return, then acts. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGBUS, &dfl, NULL);
	raise(SIGBUS);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t addr = (uintptr_t)si->si_addr;
	int saved = errno, hit = 0;

	/* si_addr means something only for a fault (si_code > 0), not kill(). */
	for (int i = 0; si->si_code > 0 && i < RPK_GUARD_SLOTS; i++) {
		struct guard_slot *s = &slots[i];
		uintptr_t page, end;

		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_LIVE || addr < s->start ||
		    addr - s->start >= s->len)
			continue;
		page = addr & ~page_mask;
		end = (s->start + s->len + page_mask) & ~page_mask;
		if (mmap((void *)page, end - page, s->prot, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0) == MAP_FAILED)
			continue;
		__atomic_store_n(&s->shrunk, 1, __ATOMIC_RELEASE);
		hit = 1;
	}
	errno = saved;
	if (!hit)
		chain(sig, si, uc);
}

static void install(void)
{
	struct sigaction sa;

	page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
	/* Learn the previous handler before ours can run and need it. */
	sigaction(SIGBUS, NULL, &prev);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

int rpk_guard_add(void *va, size_t len, int prot)
{
	pthread_once(&once, install);
	for (int i = 0; i < RPK_GUARD_SLOTS; i++) {
		struct guard_slot *s = &slots[i];
		int expect = SLOT_FREE;

		if (!__atomic_compare_exchange_n(&s->state, &expect, SLOT_FILLING, 0,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		s->start = (uintptr_t)va;
		s->len = len;
		s->prot = prot;
		__atomic_store_n(&s->shrunk, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->state, SLOT_LIVE, __ATOMIC_RELEASE);
		return i + 1;
	}
	return 0; /* full: the mapping goes unguarded */
}

int rpk_guard_tripped(int id)
{
	if (id < 1 || id > RPK_GUARD_SLOTS)
		return 0;
	return __atomic_load_n(&slots[id - 1].shrunk, __ATOMIC_ACQUIRE);
}

void rpk_guard_remove(int id)
{
	if (id >= 1 && id <= RPK_GUARD_SLOTS)
		__atomic_store_n(&slots[id - 1].state, SLOT_FREE, __ATOMIC_RELEASE);
}
