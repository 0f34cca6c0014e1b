/*
 * msg.h - taking whole protocol messages off a Conn's inbound buffer, for
 * the paths that must see a message entire (login, authentication, reset).
 * The forwarding hot path does its own framing and streams large messages.
 */
#ifndef PROXY_MSG_H
#define PROXY_MSG_H

#include "conn.h"
#include "pgproto.h"

/*
 * FRAME_OK: *type and body/blen describe the next message, already consumed
 * (the body stays valid until the buffer is compacted or read into).
 * FRAME_NEED_MORE: wait for more bytes (room has been made).
 * FRAME_BAD: malformed, larger than max_total, or no memory for it.
 */
static inline FrameResult msg_next(Conn *c, size_t max_total, uint8_t *type, const uint8_t **body,
				   size_t *blen)
{
	size_t avail = c->in_len - c->in_pos, total;
	FrameResult fr = pgproto_msg_header(c->in + c->in_pos, avail, max_total, type, &total);

	if (fr != FRAME_OK)
		return fr;
	if (avail < total)
		return conn_in_reserve(c, total) ? FRAME_NEED_MORE : FRAME_BAD;
	*body = c->in + c->in_pos + PG_HDR_LEN;
	*blen = total - PG_HDR_LEN;
	c->in_pos += total;
	return FRAME_OK;
}

#endif
