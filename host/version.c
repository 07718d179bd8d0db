/* SPDX-License-Identifier: BSD-3-Clause */
#include <rpk/version.h>

const char *rpk_version(void)
{
	return RPK_VERSION;
}
