/* Unit tests of common/nscd.c against a stand-in for nscd on a temporary
 * socket: the two INVALIDATE requests nscd's protocol defines (what `nscd
 * -i passwd` and `nscd -i group` send), silence when no daemon runs, and a
 * daemon's error answer reported. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fixture.h"
#include "nscd.h"

struct fake_nscd {
	int listen_fd;
	int32_t answer;
	int requests;
	char keys[2][32];
	int32_t version[2], type[2];
};

static void *
serve(void *arg)
{
	struct fake_nscd *f = arg;

	for (int i = 0; i < 2; i++) {
		int32_t hdr[3];
		int fd = accept(f->listen_fd, NULL, NULL);

		if (fd < 0)
			break;
		if (recv(fd, hdr, sizeof(hdr), MSG_WAITALL) == sizeof(hdr) && hdr[2] > 0 &&
		    hdr[2] < 32 && recv(fd, f->keys[i], (size_t)hdr[2], MSG_WAITALL) == hdr[2]) {
			f->version[i] = hdr[0];
			f->type[i] = hdr[1];
			f->requests++;
			if (write(fd, &f->answer, sizeof(f->answer)) != sizeof(f->answer))
				f->requests = -100;
		}
		close(fd);
		if (f->answer != 0)
			break;
	}
	return NULL;
}

static const char *
socket_path(void)
{
	return fx_file("socket");
}

static int
listen_on(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(path), sizeof(a.sun_path));
	strcpy(a.sun_path, path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

START_TEST(test_udb_nscd_invalidate_sends_passwd_and_group)
{
	struct fake_nscd f = {.answer = 0};
	pthread_t t;

	f.listen_fd = listen_on(socket_path());
	ck_assert_int_eq(pthread_create(&t, NULL, serve, &f), 0);
	ck_assert_int_eq(udb_nscd_invalidate(socket_path()), UDB_OK);
	pthread_join(t, NULL);
	close(f.listen_fd);
	ck_assert_int_eq(f.requests, 2);
	ck_assert_str_eq(f.keys[0], "passwd");
	ck_assert_str_eq(f.keys[1], "group");
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(f.version[i], 2);
		ck_assert_int_eq(f.type[i], 10);
	}
}
END_TEST

START_TEST(test_udb_nscd_invalidate_error_answer)
{
	struct fake_nscd f = {.answer = 22};
	pthread_t t;

	f.listen_fd = listen_on(socket_path());
	ck_assert_int_eq(pthread_create(&t, NULL, serve, &f), 0);
	ck_assert_int_eq(udb_nscd_invalidate(socket_path()), UDB_IO);
	pthread_join(t, NULL);
	close(f.listen_fd);
}
END_TEST

START_TEST(test_udb_nscd_invalidate_no_daemon_is_fine)
{
	int fd;

	ck_assert_int_eq(udb_nscd_invalidate(socket_path()), UDB_OK);
	/* A socket left behind by a daemon that is gone. */
	fd = listen_on(socket_path());
	close(fd);
	ck_assert_int_eq(udb_nscd_invalidate(socket_path()), UDB_OK);
	ck_assert_int_eq(udb_nscd_invalidate(fx_file("no/such/dir/socket")), UDB_OK);
}
END_TEST

static Suite *
nscd_suite(void)
{
	Suite *s = suite_create("nscd");
	TCase *tc;

	tc = fx_tcase(s, "udb_nscd_invalidate", false);
	tcase_add_test(tc, test_udb_nscd_invalidate_sends_passwd_and_group);
	tcase_add_test(tc, test_udb_nscd_invalidate_error_answer);
	tcase_add_test(tc, test_udb_nscd_invalidate_no_daemon_is_fine);
	return s;
}

int
main(void)
{
	return fx_main(nscd_suite());
}
