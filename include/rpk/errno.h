/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Error codes of rpmsg-kit. Every function that can fail returns 0 (or a
 * positive count) on success and a negative RPK_E* value on failure. The
 * numbers equal Linux's errno values so hosted callers can compare them with
 * errno and print them with strerror().
 */
#ifndef RPK_ERRNO_H
#define RPK_ERRNO_H

#ifdef __cplusplus
extern "C" {
#endif

#define RPK_OK	       0
#define RPK_ENOENT     2   /* no such endpoint, service or entry */
#define RPK_EIO	       5   /* the platform failed (mapping, doorbell) */
#define RPK_EACCES     13  /* refused: an object another user may write (docs/access.md) */
#define RPK_EAGAIN     11  /* nothing available now: retry */
#define RPK_ENOMEM     12  /* caller-provided storage is exhausted */
#define RPK_EFAULT     14  /* an address is outside every memory window */
#define RPK_EBUSY      16  /* the object is in use */
#define RPK_EEXIST     17  /* already created */
#define RPK_EINVAL     22  /* bad argument from the caller */
#define RPK_ENOSPC     28  /* the ring is full */
#define RPK_EPIPE      32  /* the link is broken: the peer misbehaved or went away */
#define RPK_ERANGE     34  /* an index read from shared memory is out of range */
#define RPK_ENOTSUP    95  /* feature not negotiated or not supported */
#define RPK_EADDRINUSE 98  /* endpoint address already bound */
#define RPK_EMSGSIZE   90  /* message larger than a buffer's payload */
#define RPK_EBADMSG    74  /* malformed data from the peer */
#define RPK_EPROTO     71  /* protocol violation by the peer */
#define RPK_ENOTCONN   107 /* link not up, or endpoint has no destination */
#define RPK_ECONNRESET 104 /* the link was reset (peer crashed, rebooted or detached) */
#define RPK_ETIMEDOUT  110 /* a blocking call ran out of time */
#define RPK_ENOEXEC    8   /* not a valid image or table */
#define RPK_EINTR      4   /* a blocking call was interrupted (the caller is shutting down) */

/* Short English description of an RPK_E* code (positive or negative). */
const char *rpk_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
