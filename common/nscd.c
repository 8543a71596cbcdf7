/* The nscd cache flush, by nscd's own socket protocol (what `nscd -i
 * passwd` sends), so that no program is started and a missing nscd costs
 * one failed connect. Called by the CLI (cli/main.c).
 *
 * The request is glibc's request_header (nscd/nscd-client.h): protocol
 * version 2, request type INVALIDATE (10), the key's length with its NUL,
 * then the key, the name of the cache ("passwd", "group"). The daemon
 * answers with one int32: 0, or an errno value (it takes the request
 * from root only). */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "nscd.h"

#define NSCD_VERSION    2
#define NSCD_INVALIDATE 10
#define ANSWER_WAIT_MS  5000

struct nscd_request {
	int32_t version;
	int32_t type;
	int32_t key_len;
};

/* One INVALIDATE request for cache. *ret_running is false when nobody
 * listens on the socket. */
static enum udb_result
invalidate_one(const char *path, const char *cache, bool *ret_running)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct nscd_request req = {NSCD_VERSION, NSCD_INVALIDATE, (int32_t)strlen(cache) + 1};
	struct iovec iov[2] = {{&req, sizeof(req)}, {(void *)(uintptr_t)cache, strlen(cache) + 1}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	struct pollfd p = {.events = POLLIN};
	enum udb_result r = UDB_OK;
	int32_t answer = 0;
	ssize_t n;

	*ret_running = true;
	if (strlen(path) >= sizeof(addr.sun_path))
		return UDB_INVALID;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	p.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p.fd < 0)
		return UDB_IO;
	if (connect(p.fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		*ret_running = false;
		r = errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR ? UDB_OK : UDB_IO;
	} else if (sendmsg(p.fd, &msg, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) + req.key_len)) {
		r = UDB_IO;
	} else if (poll(&p, 1, ANSWER_WAIT_MS) != 1) {
		r = UDB_IO;
	} else {
		/* Older daemons close the connection once done, without an
		 * answer; `nscd -i` accepts that too. */
		n = recv(p.fd, &answer, sizeof(answer), MSG_WAITALL);
		if (n != 0 && (n != (ssize_t)sizeof(answer) || answer != 0))
			r = UDB_IO;
	}
	close(p.fd);
	return r;
}

enum udb_result
udb_nscd_invalidate(const char *socket_path)
{
	static const char *const caches[] = {"passwd", "group"};
	bool running = true;
	enum udb_result r = UDB_OK;

	if (!socket_path)
		socket_path = UDB_NSCD_SOCKET;
	for (size_t i = 0; i < 2 && r == UDB_OK && running; i++)
		r = invalidate_one(socket_path, caches[i], &running);
	return r;
}
