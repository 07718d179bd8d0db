/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Text from shared memory or from a file is untrusted: a name or a trace
 * line may hold terminal escape sequences. Everything rpk prints of it goes
 * through rpk_escape().
 */
#include <stdio.h>
#include <string.h>

#include "rpk_tool.h"

const char *rpk_escape(char *out, size_t cap, const void *in, size_t len, int lines)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t o = 0;

	if (!cap)
		return out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		int plain = (c >= 0x20 && c < 0x7f && c != '\\') || (lines && c == '\n');
		size_t need = plain ? 1 : c == '\\' ? 2 : 4;

		if (o + need >= cap)
			break; /* cut, never half an escape */
		if (plain) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		if (c == '\\') {
			out[o++] = '\\';
			continue;
		}
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	out[o] = 0;
	return out;
}

const char *rpk_esc_name(char *out, size_t cap, const char *name, size_t max)
{
	return rpk_escape(out, cap, name, strnlen(name, max), 0);
}

void rpk_print_escaped(FILE *f, const char *text)
{
	char buf[4 * 256 + 1];
	size_t len = strlen(text);

	for (size_t at = 0; at < len; at += 256) {
		size_t n = len - at < 256 ? len - at : 256;

		fputs(rpk_escape(buf, sizeof(buf), text + at, n, 1), f);
	}
}
