/*
 * sdnotify.h - telling a supervising systemd about pgrelay's state over the
 * sd_notify datagram protocol (READY, RELOADING, STOPPING, STATUS, WATCHDOG),
 * without libsystemd. Everything here is a no-op when NOTIFY_SOCKET is unset.
 */
#ifndef PROXY_SDNOTIFY_H
#define PROXY_SDNOTIFY_H

#include "common.h"

struct ev_loop;

/*
 * Reads NOTIFY_SOCKET (an absolute path, or "@name" for the abstract
 * namespace), WATCHDOG_USEC and WATCHDOG_PID once. When a watchdog is asked
 * for (and WATCHDOG_PID is unset or names this process) starts a timer on loop
 * that sends WATCHDOG=1 every WATCHDOG_USEC / 2. Unsets nothing. Returns true
 * when notification is active.
 */
bool sdnotify_init(struct ev_loop *loop);
/* "READY=1" plus "STATUS=status" when status is non-NULL and not empty. */
void sdnotify_ready(const char *status);
/* "RELOADING=1" with MONOTONIC_USEC (what Type=notify-reload expects). */
void sdnotify_reloading(void);
/* "STOPPING=1". */
void sdnotify_stopping(void);
/* "STATUS=<formatted text>". */
void sdnotify_status(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Stops the watchdog timer and closes the socket; sdnotify_init may run again. */
void sdnotify_stop(void);

/*
 * Sends msg as one datagram to the socket named like NOTIFY_SOCKET, without
 * blocking (a full socket buffer is an error). Returns false with errno set on
 * failure: EINVAL for a relative or empty name, ENAMETOOLONG when the name
 * does not fit in sun_path, or whatever socket()/sendto() said.
 */
bool sdnotify_send_to(const char *notify_socket, const char *msg) MUST_CHECK;

#endif
