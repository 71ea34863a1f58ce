/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP client of one agent towards a peer (lib/http's client): JSON control requests
 * and streamed object uploads, every one carrying the shared token
 * ("Authorization: Bearer ...") and bounded by the configured timeouts (a
 * connect timeout, a whole-request timeout, and a stall timeout: an upload
 * moving under 1 KiB/s for stall_timeout_ms fails, so a cut link ends the
 * transfer instead of hanging it). Each takes the migrator's pool of
 * connections (es_http_pool_new; NULL: a connection per request): the
 * requests of a migration reuse the connection its prepare opened, so
 * only the first pays the handshake (TCP and TLS), and the congestion
 * window one object opened carries the next one and the restore. Over a
 * 200 ms RTT each new connection costs a round trip plus a slow start
 * from ten segments.
 */
#ifndef EDGESHIFT_TRANSFER_H
#define EDGESHIFT_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "http/http_client.h"
#include "mig_config.h"

struct es_http_pool;

/*
 * method + base + path with body (may be NULL). Returns the HTTP status
 * (0 when no answer came) and the decoded answer in *resp (may be NULL).
 */
int es_peer_json(struct es_http_pool *pool, const struct es_mig_config *cfg, const char *base,
		 const char *method, const char *path, json_t *body, unsigned int timeout_ms,
		 json_t **resp, char *err, size_t err_len);

/*
 * What a peer's answer status means to its callers, so that the engine and
 * the state machine above it test meanings, not the wire's numbers: done
 * (the request was carried out) or accepted (it runs on at the peer).
 */
bool es_peer_done(int status);
bool es_peer_accepted(int status);

/* Called with the bytes of the current upload sent so far. */
typedef void (*es_progress_fn)(void *arg, uint64_t sent);

/* PUT a file; returns the HTTP status (200 success) or 0 with err set. */
int es_peer_put_file(struct es_http_pool *pool, const struct es_mig_config *cfg,
		     const char *base, const char *path, const char *file,
		     es_progress_fn progress, void *arg, char *err, size_t err_len);

/*
 * PUT what is read from fd until its end (a pipe the packer writes into
 * while the bytes go out), chunked; the sha256 and size of what was sent
 * come back for the restore request, which the target checks them against.
 */
int es_peer_put_stream(struct es_http_pool *pool, const struct es_mig_config *cfg,
		       const char *base, const char *path, int fd, es_progress_fn progress,
		       void *arg, char sha256[65], uint64_t *bytes, char *err, size_t err_len);

/*
 * PUT what read (es_http_upload's read function) gives until it returns 0,
 * chunked: a bundle (bundle.h). Returns the HTTP status (0 when no answer
 * came) and the decoded answer in *resp.
 */
int es_peer_put_read(struct es_http_pool *pool, const struct es_mig_config *cfg,
		     const char *base, const char *path, es_http_read_fn read, void *read_arg,
		     es_progress_fn progress, void *arg, json_t **resp, char *err, size_t err_len);

#endif
