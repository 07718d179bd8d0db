/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpk trace --messages: every message a running node moves, printed as
 * seed 004's kernel logs show them (the header, then the bytes), or written
 * to a pcap capture for tshark (--pcap, with tools/wireshark/rpmsg.lua).
 * The node never waits for us: what we miss is counted and said.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rpk/errno.h>
#include <rpk/msgtrace.h>

#include "rpk_tool.h"
#include "trace_messages.h"

#define IDLE_SLEEP_NS  1000000L /* nothing waiting: look again in 1 ms */
#define TAP_WAIT_MS    3000u	/* the node looks for readers every 50 ms */
#define NS_MSG_SIZE    40u	/* name[32], addr, flags */
#define LINKTYPE_USER0 147u	/* pcap link type for private use: ours, see rpmsg.lua */
#define PSEUDO_VERSION 1u

static void sleep_ns(long ns)
{
	struct timespec ts = {0, ns};

	nanosleep(&ts, NULL);
}

static void print_time(uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;

	localtime_r(&s, &tm);
	printf("%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
	       (unsigned)(ns % 1000000000u / 1000u));
}

/* 16 bytes a line: offset, hex, printable bytes. */
static void print_hex(const uint8_t *p, uint32_t n)
{
	for (uint32_t off = 0; off < n; off += 16) {
		uint32_t k = n - off < 16 ? n - off : 16;

		printf("    %04x ", off);
		for (uint32_t i = 0; i < 16; i++)
			i < k ? printf(" %02x", p[off + i]) : printf("   ");
		printf("  |");
		for (uint32_t i = 0; i < k; i++)
			putchar(p[off + i] >= 0x20 && p[off + i] < 0x7f ? p[off + i] : '.');
		printf("|\n");
	}
}

/* A name-service message, decoded as the peer will read it. */
static void print_ns(const struct rpk_traced_msg *m, const uint8_t *p)
{
	char name[RPK_ESC_SIZE(RPK_NAME_SIZE)];
	uint32_t addr, flags;

	if (m->dst != RPK_NS_ADDR || m->captured < NS_MSG_SIZE)
		return;
	memcpy(&addr, p + RPK_NAME_SIZE, 4);
	memcpy(&flags, p + RPK_NAME_SIZE + 4, 4);
	printf("    name service: %s \"%s\" at 0x%x\n",
	       flags == RPK_NS_CREATE	 ? "create"
	       : flags == RPK_NS_DESTROY ? "destroy"
					 : "(unknown flags)",
	       rpk_esc_name(name, sizeof(name), (const char *)p, RPK_NAME_SIZE), addr);
}

static void print_msg(const struct rpk_traced_msg *m, const uint8_t *p)
{
	print_time(m->time_ns);
	printf(" #%llu %s From 0x%x, To 0x%x, Len %u, Flags %u, Reserved %u\n",
	       (unsigned long long)m->seq, m->dir == RPK_TAP_TX ? "TX" : "RX", m->src, m->dst,
	       m->len, m->flags, m->reserved);
	print_hex(p, m->captured);
	if (m->captured < m->len)
		printf("    ... %u more bytes not kept\n", m->len - m->captured);
	print_ns(m, p);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* pcap's file header: nanosecond timestamps, our link type. Little-endian,
 * as every reader of pcap accepts. */
static int pcap_start(FILE *f)
{
	uint8_t h[24];

	put32(h, 0xa1b23c4du);
	put16(h + 4, 2);
	put16(h + 6, 4);
	put32(h + 8, 0);
	put32(h + 12, 0);
	put32(h + 16, 4 + RPK_RPMSG_HDR_SIZE + 0xffffu);
	put32(h + 20, LINKTYPE_USER0);
	return fwrite(h, sizeof(h), 1, f) == 1 ? 0 : -1;
}

/* One record: pcap's record header, then our 4-byte pseudo-header
 * (version, direction), the rpmsg header as Linux lays it out
 * (little-endian) and the payload kept. */
static int pcap_write(FILE *f, const struct rpk_traced_msg *m, const uint8_t *p)
{
	uint8_t h[16 + 4 + RPK_RPMSG_HDR_SIZE] = {0};
	uint8_t *pseudo = h + 16, *hdr = pseudo + 4;

	put32(h, (uint32_t)(m->time_ns / 1000000000u));
	put32(h + 4, (uint32_t)(m->time_ns % 1000000000u));
	put32(h + 8, 4 + RPK_RPMSG_HDR_SIZE + m->captured);
	put32(h + 12, 4 + RPK_RPMSG_HDR_SIZE + m->len);
	pseudo[0] = PSEUDO_VERSION;
	pseudo[1] = m->dir == RPK_TAP_TX ? 0 : 1;
	put32(hdr, m->src);
	put32(hdr + 4, m->dst);
	put32(hdr + 8, m->reserved);
	put16(hdr + 12, m->len);
	put16(hdr + 14, m->flags);
	if (fwrite(h, sizeof(h), 1, f) != 1)
		return -1;
	return m->captured && fwrite(p, m->captured, 1, f) != 1 ? -1 : 0;
}

/* The node sees our pid within a watchdog period and starts copying. Only
 * the flag is looked at: a message read here would be lost to the caller. */
static int wait_for_tap(struct rpk_msgtrace *t, const char *node)
{
	for (uint32_t waited = 0; !rpk_msgtrace_tapping(t); waited++) {
		if (waited * 10 >= TAP_WAIT_MS) {
			fprintf(stderr,
				"rpk trace: node '%s' does not answer the trace (stopped, or "
				"not watching its link)\n",
				node);
			return -1;
		}
		if (rpk_stop)
			return -1;
		sleep_ns(10 * 1000000L);
	}
	return 0;
}

int trace_messages(const struct trace_messages_opts *o)
{
	static uint8_t data[RPK_MSGTRACE_CAPTURE];
	struct rpk_msgtrace *t;
	struct rpk_traced_msg m;
	unsigned long long shown = 0, missed = 0;
	uint64_t lost;
	FILE *pcap = NULL;
	char err[1024];
	int rc, status = 0;

	rc = rpk_msgtrace_open(&t, o->instance, o->node, o->group, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "rpk trace: ");
		rpk_print_escaped(stderr, err);
		fprintf(stderr, "\n");
		return 1;
	}
	if (o->pcap) {
		pcap = fopen(o->pcap, "wb");
		if (!pcap || pcap_start(pcap)) {
			fprintf(stderr, "rpk trace: cannot write %s: %s\n", o->pcap,
				strerror(errno));
			if (pcap)
				fclose(pcap);
			rpk_msgtrace_close(t);
			return 1;
		}
	}
	if (wait_for_tap(t, o->node)) {
		status = 1;
		goto out;
	}
	fprintf(stderr, "rpk trace: tracing the messages of node '%s'%s%s\n", o->node,
		pcap ? " into " : "", pcap ? o->pcap : "");
	while (!rpk_stop && (!o->count || shown < o->count)) {
		rc = rpk_msgtrace_next(t, &m, data, sizeof(data), &lost);
		if (lost) {
			missed += lost;
			if (!pcap)
				printf("[rpk trace: %llu messages lost: this reader fell behind]\n",
				       (unsigned long long)lost);
		}
		if (rc < 0) {
			fprintf(stderr, "rpk trace: node '%s' stopped\n", o->node);
			break;
		}
		if (rc == 0) {
			fflush(stdout);
			sleep_ns(IDLE_SLEEP_NS);
			continue;
		}
		shown++;
		if (!pcap)
			print_msg(&m, data);
		else if (pcap_write(pcap, &m, data)) {
			fprintf(stderr, "rpk trace: cannot write %s: %s\n", o->pcap,
				strerror(errno));
			status = 1;
			break;
		}
	}
out:
	fflush(stdout);
	if (pcap && fclose(pcap) && !status) {
		fprintf(stderr, "rpk trace: cannot write %s: %s\n", o->pcap, strerror(errno));
		status = 1;
	}
	if (pcap && !status)
		fprintf(stderr, "rpk trace: %llu messages written to %s, %llu lost\n", shown,
			o->pcap, missed);
	rpk_msgtrace_close(t);
	return status;
}
