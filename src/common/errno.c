/* SPDX-License-Identifier: BSD-3-Clause */
#include <rpk/errno.h>

const char *rpk_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case RPK_OK:
		return "success";
	case RPK_ENOENT:
		return "no such endpoint, service or entry";
	case RPK_EIO:
		return "platform I/O error";
	case RPK_EACCES:
		return "access refused";
	case RPK_EAGAIN:
		return "no buffer available now";
	case RPK_ENOMEM:
		return "out of caller-provided storage";
	case RPK_EFAULT:
		return "address outside every memory window";
	case RPK_EBUSY:
		return "busy";
	case RPK_EEXIST:
		return "already exists";
	case RPK_EINVAL:
		return "invalid argument";
	case RPK_ENOSPC:
		return "ring full";
	case RPK_EPIPE:
		return "link broken";
	case RPK_ERANGE:
		return "index out of range";
	case RPK_ENOTSUP:
		return "not supported";
	case RPK_EADDRINUSE:
		return "address in use";
	case RPK_EMSGSIZE:
		return "message too long";
	case RPK_EBADMSG:
		return "malformed message from peer";
	case RPK_EPROTO:
		return "protocol violation by peer";
	case RPK_ENOTCONN:
		return "not connected";
	case RPK_ECONNRESET:
		return "link reset by peer";
	case RPK_ETIMEDOUT:
		return "timed out";
	case RPK_ENOEXEC:
		return "invalid image or table";
	case RPK_EINTR:
		return "interrupted";
	default:
		return "unknown error";
	}
}
