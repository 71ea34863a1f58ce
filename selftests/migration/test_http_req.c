// SPDX-License-Identifier: GPL-2.0-only
/*
 * The request head parser of es-counter --http
 * (tools/fixtures/es-counter/http_req.c), the drills' HTTP service: as
 * fixtures, request bytes in, what the server must do out (the head's
 * length, the status to answer, whether the connection stays, the path
 * and the body to skip). Then a request cut at every byte, and two
 * pipelined requests.
 */
#include <stdbool.h>
#include <string.h>
#include "harness.h"
#include "es-counter/http_req.h"

#define CAP	4096

struct fixture {
	const char	*name;
	const char	*in;
	int		status;		/* 0: well formed */
	bool		keep_alive;
	const char	*path;		/* NULL: not checked */
	size_t		body_len;
};

static const struct fixture fixtures[] = {
	{ "HTTP/1.1 is persistent by default",
	  "GET /incr/a HTTP/1.1\r\nHost: x\r\n\r\n", 0, true, "/incr/a", 0 },
	{ "ab -k: HTTP/1.0 with Connection: Keep-Alive",
	  "GET /incr/ab HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: 10.0.0.1:7000\r\n"
	  "User-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n", 0, true, "/incr/ab", 0 },
	{ "HTTP/1.0 without keep-alive closes",
	  "GET /get/a HTTP/1.0\r\n\r\n", 0, false, "/get/a", 0 },
	{ "HTTP/1.1 Connection: close closes",
	  "GET /get/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, false, NULL, 0 },
	{ "a close among the Connection options",
	  "GET /get/a HTTP/1.1\r\nHost: x\r\nConnection: upgrade ,  Close\r\n\r\n", 0, false, NULL, 0 },
	{ "a later 1.x minor version is 1.1",
	  "GET /get/a HTTP/1.2\r\nHost: x\r\n\r\n", 0, true, NULL, 0 },
	{ "bare LF line ends",
	  "GET /get/a HTTP/1.1\nHost: x\n\n", 0, true, "/get/a", 0 },
	{ "HEAD is answered",
	  "HEAD /get/a HTTP/1.1\r\nHost: x\r\n\r\n", 0, true, "/get/a", 0 },
	{ "HTTP/1.1 without Host: 400, connection kept",
	  "GET /get/a HTTP/1.1\r\n\r\n", 400, true, NULL, 0 },
	{ "POST: 405, its body skipped, connection kept",
	  "POST /incr/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", 405, true, NULL, 5 },
	{ "a target not starting with /: 400",
	  "GET incr/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, true, NULL, 0 },
	{ "HTTP/0.9 (no version): 400",
	  "GET /get/a\r\n\r\n", 400, false, NULL, 0 },
	{ "HTTP/2.0: 505",
	  "GET /get/a HTTP/2.0\r\n\r\n", 505, false, NULL, 0 },
	{ "white space before a header's colon: 400",
	  "GET /get/a HTTP/1.1\r\nHost : x\r\n\r\n", 400, true, NULL, 0 },
	{ "a malformed Content-Length loses the framing: 400, close",
	  "GET /get/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\n", 400, false, NULL, 0 },
	{ "two different Content-Lengths: 400, close",
	  "GET /get/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	  400, false, NULL, 0 },
	{ "a chunked body cannot be framed: 501, close",
	  "POST /incr/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501, false, NULL, 0 },
	{ }
};

TEST(fixtures_status_keep_alive_path_body)
{
	const struct fixture *f;
	struct http_req r;

	for (f = fixtures; f->name; f++) {
		TEST_LOG("%s", f->name);
		ASSERT_EQ(http_req_parse(f->in, strlen(f->in), CAP, &r), 1, "a whole head parses");
		EXPECT_EQ(r.head_len, strlen(f->in), "the head ends at the blank line");
		EXPECT_EQ(r.status, f->status, "the status to answer");
		EXPECT_EQ(r.keep_alive, f->keep_alive, "the connection stays");
		EXPECT_EQ(r.body_len, f->body_len, "the body to skip");
		if (f->path) {
			EXPECT_EQ(r.path_len, strlen(f->path), "the path's length");
			EXPECT_EQ(strncmp(r.path, f->path, r.path_len), 0, "the path");
		}
	}
}

/* A request arriving one byte at a time: no answer before its head is whole. */
TEST(every_prefix_waits_for_more)
{
	const char *in = "GET /incr/a HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_req r;
	size_t n;

	for (n = 0; n < strlen(in); n++)
		ASSERT_EQ(http_req_parse(in, n, CAP, &r), 0, "a partial head waits");
	ASSERT_EQ(http_req_parse(in, n, CAP, &r), 1, "the whole head parses");
	EXPECT_EQ(r.status, 0, "well formed");
}

/* Pipelined: the first head ends where the second request begins. */
TEST(pipelined_requests_one_after_another)
{
	const char *one = "GET /incr/a HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *two = "HEAD /get/b HTTP/1.1\r\nHost: x\r\n\r\n";
	char buf[256];
	struct http_req r;

	snprintf(buf, sizeof(buf), "%s%s", one, two);
	ASSERT_EQ(http_req_parse(buf, strlen(buf), CAP, &r), 1, "the first parses");
	ASSERT_EQ(r.head_len, strlen(one), "the first head's length");
	EXPECT_EQ(r.head, false, "the first is a GET");
	ASSERT_EQ(http_req_parse(buf + r.head_len, strlen(two), CAP, &r), 1, "the second parses");
	EXPECT_EQ(r.head, true, "the second is a HEAD");
	EXPECT_EQ(strncmp(r.path, "/get/b", r.path_len), 0, "the second's path");
}

/* A head that does not end within the buffer: 431, and the connection closes. */
TEST(head_too_large)
{
	char buf[CAP];
	struct http_req r;

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /get/a HTTP/1.1\r\nX: ", 24);
	ASSERT_EQ(http_req_parse(buf, sizeof(buf) - 1, CAP, &r), 0, "below the cap: wait");
	ASSERT_EQ(http_req_parse(buf, sizeof(buf), CAP, &r), 1, "at the cap: answered");
	EXPECT_EQ(r.status, 431, "header fields too large");
	EXPECT_EQ(r.keep_alive, false, "the connection closes");
}

TEST_HARNESS_MAIN
