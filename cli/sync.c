/* `userdb sync`: a host's (or the admin mirror's) pull from the central
 * database (common/sync.h): one pass, --follow (the service loop of
 * dist/userdb-sync.service), --status and --verify. Dispatched by main.c.
 *
 * The follow loop keeps one session. It polls central's revision every
 * poll interval (2 s, each wait drawn from 50% to 150% of it so that a
 * thousand hosts do not ask in step) and wakes at once on a NOTIFY where
 * the session is direct. When central cannot be reached it waits before
 * each new attempt, doubling from the poll interval up to 60 s, every wait
 * drawn at random from half to all of it; the first attempt after a lost
 * session also waits a random part of the poll interval, so that the hosts
 * cut off by a restart come back spread out rather than all at once. Every
 * VERIFY_EVERY seconds a drift check compares the copy with central; a
 * mismatch is logged and repaired by a full pass. Logs go to stderr (the
 * journal, under systemd); SIGTERM and SIGINT end the loop after the
 * current step. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cli.h"
#include "clock.h"
#include "outbox.h"
#include "output.h"
#include "replica.h"
#include "sync.h"

#define POLL_MS      2000
#define BACKOFF_MAX  60000
#define VERIFY_EVERY 600

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* A uniformly drawn number of milliseconds in [lo, hi]. */
static long
jitter(long lo, long hi)
{
	uint32_t x = 0;

	if (hi <= lo)
		return lo;
	if (getrandom(&x, sizeof(x), 0) != sizeof(x))
		x = (uint32_t)rand();
	return lo + (long)(x % (uint32_t)(hi - lo + 1));
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to ms, returning early on SIGTERM or on input on fd (-1: none). */
static void
wait_ms(long ms, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int64_t end = mono_ms() + ms;

	while (!stopping) {
		int64_t left = end - mono_ms();

		if (left <= 0)
			return;
		if (poll(&p, fd >= 0 ? 1 : 0, (int)left) > 0)
			return;
	}
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logf_(const char *fmt, ...)
{
	va_list ap;

	fputs("userdb sync: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* The one message of a failed connect or pass. */
static enum udb_result
sync_error(enum udb_result r, const char *detail)
{
	switch (r) {
	case UDB_UNAVAILABLE:
		return cli_error(r, "central database unreachable: %s", detail);
	case UDB_AUTH_FAILED:
		return cli_error(r, "central database refused this host's login: %s", detail);
	case UDB_PERMISSION:
		return cli_error(r, "central database: permission denied: %s", detail);
	case UDB_SCHEMA:
		return cli_error(r,
				 "central database has no userdb schema of this version "
				 "(run `userdb central init` there): %s",
				 detail);
	default:
		return cli_error(r, "sync: %s%s%s", udb_result_to_string(r), *detail ? ": " : "",
				 detail);
	}
}

static enum udb_result
print_pass(struct cli *c, const struct udb_sync_report *rep)
{
	struct json_object *o;
	bool ok = true;

	if (!c->json) {
		if (rep->pushed > 0)
			printf("pushed %zu queued login events to central%s\n", rep->pushed,
			       rep->fleet_locked > 0 ? " (an account is now locked fleet-wide)"
						     : "");
		if (!rep->applied)
			printf("already at revision %" PRId64 "\n", rep->central_rev);
		else
			printf("synced to revision %" PRId64 " from %" PRId64
			       "%s: %zu rows, %zu deletions\n",
			       rep->central_rev, rep->local_rev, rep->full ? " (full)" : "",
			       rep->rows, rep->tombstones);
		return UDB_OK;
	}
	o = json_object_new_object();
	ok = o != NULL;
	out_jset_int(o, "local_rev", rep->applied ? rep->central_rev : rep->local_rev, &ok);
	out_jset_int(o, "previous_rev", rep->local_rev, &ok);
	out_jset_int(o, "central_rev", rep->central_rev, &ok);
	out_jset_bool(o, "applied", rep->applied, &ok);
	out_jset_bool(o, "full", rep->full, &ok);
	out_jset_int(o, "rows", (int64_t)rep->rows, &ok);
	out_jset_int(o, "deletions", (int64_t)rep->tombstones, &ok);
	out_jset_int(o, "pushed", (int64_t)rep->pushed, &ok);
	out_jset_int(o, "fleet_locked", rep->fleet_locked, &ok);
	return out_jprint(o, ok, 0);
}

/* One pass, and with verify the drift check after it (a drift is repaired
 * by a full pass and reported). */
static enum udb_result
sync_once(struct cli *c, bool full, bool verify)
{
	struct udb_sync_report rep;
	struct udb_sync *s = NULL;
	char detail[256] = "";
	enum udb_result r;

	r = udb_sync_connect(c->cfg->central, &s, detail, sizeof(detail));
	if (r != UDB_OK)
		return sync_error(r, detail);
	r = udb_sync_pass(s, c->db, full, c->now, &rep);
	if (r == UDB_OK && verify) {
		r = udb_sync_verify(s, c->db, detail, sizeof(detail));
		if (r == UDB_CORRUPT) {
			logf_("drift from central (%s): full resync", detail);
			r = udb_sync_pass(s, c->db, true, c->now, &rep);
		}
	} else if (r != UDB_OK) {
		snprintf(detail, sizeof(detail), "%s", rep.detail);
	}
	udb_sync_close(s);
	if (r != UDB_OK)
		return sync_error(r, detail);
	return print_pass(c, &rep);
}

/* One round of --follow on an open connection: a pass when central moved,
 * the outbox holds something or the drift check is due (else the local
 * copy records that it was checked), and the drift check when due. */
static enum udb_result
follow_round(struct cli *c, struct udb_sync *s, int64_t *next_verify, char *detail, size_t size)
{
	int64_t rev = 0, min_rev = 0, local = 0, at = 0, queued = 0;
	struct udb_sync_report rep;
	enum udb_result r;

	r = udb_sync_central_rev(s, &rev, &min_rev, detail, size);
	if (r == UDB_OK)
		r = udb_replica_state(c->db, &local, &at);
	/* Failures and logins this host queued go with a pass too. */
	if (r == UDB_OK)
		r = udb_outbox_count(c->db, &queued);
	if (r == UDB_OK && (rev != local || queued > 0 || mono_ms() >= *next_verify)) {
		c->now = udb_now();
		r = udb_sync_pass(s, c->db, false, c->now, &rep);
		if (r == UDB_OK && rep.pushed > 0)
			logf_("pushed %zu queued login events to central", rep.pushed);
		if (r == UDB_OK && rep.applied)
			logf_("synced to revision %" PRId64 " from %" PRId64 "%s: %zu rows, "
			      "%zu deletions",
			      rep.central_rev, rep.local_rev, rep.full ? " (full)" : "", rep.rows,
			      rep.tombstones);
		if (r != UDB_OK)
			snprintf(detail, size, "%s", rep.detail);
	} else if (r == UDB_OK) {
		r = udb_replica_mark_checked(c->db, udb_now());
	}
	if (r == UDB_OK && mono_ms() >= *next_verify) {
		r = udb_sync_verify(s, c->db, detail, size);
		if (r == UDB_CORRUPT) {
			logf_("drift from central (%s): full resync", detail);
			r = udb_sync_pass(s, c->db, true, udb_now(), &rep);
		}
		if (r == UDB_BUSY) /* central moved on meanwhile */
			r = UDB_OK;
		*next_verify = mono_ms() + VERIFY_EVERY * 1000;
	}
	return r;
}

/* The service loop (see the top of the file). */
static enum udb_result
follow(struct cli *c)
{
	struct udb_sync *s = NULL;
	int64_t next_verify = 0;
	long backoff = POLL_MS;
	bool was_down = false;
	char detail[256];
	enum udb_result r;

	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGPIPE, SIG_IGN);
	while (!stopping) {
		if (!s) {
			r = udb_sync_connect(c->cfg->central, &s, detail, sizeof(detail));
			if (r != UDB_OK) {
				if (!was_down)
					logf_("central database unreachable: %s", detail);
				was_down = true;
				wait_ms(jitter(backoff / 2, backoff), -1);
				backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
				continue;
			}
			if (was_down)
				logf_("central database reachable again");
			was_down = false;
			backoff = POLL_MS;
			/* A pooler in transaction mode cannot LISTEN: polling
			 * alone then carries the changes. */
			(void)udb_sync_listen(s);
		}
		(void)udb_sync_notified(s);
		r = follow_round(c, s, &next_verify, detail, sizeof(detail));
		if (r != UDB_OK) {
			if (r == UDB_UNAVAILABLE)
				logf_("central database unreachable: %s", detail);
			else
				logf_("%s: %s", udb_result_to_string(r), detail);
			udb_sync_close(s);
			s = NULL;
			was_down = true;
			/* Spread the first reconnect of every host cut off at once. */
			wait_ms(jitter(0, POLL_MS), -1);
			continue;
		}
		/* A NOTIFY that came in with a query's answer is already in
		 * libpq's queue, not on the socket: look there before waiting. */
		if (udb_sync_notified(s))
			continue;
		wait_ms(jitter(POLL_MS / 2, POLL_MS * 3 / 2), udb_sync_socket(s));
	}
	udb_sync_close(s);
	logf_("stopped");
	return UDB_OK;
}

/* --status: what the local copy holds, and central's revision when it
 * answers within a few seconds. Exit 0 when the copy is current, 1 when it
 * is behind or central cannot be asked (stale). */
static enum udb_result
status(struct cli *c)
{
	int64_t local = 0, synced_at = 0, checked_at = 0, rev = 0, min_rev = 0;
	struct udb_sync *s = NULL;
	struct json_object *o;
	char detail[256] = "", when[64], conninfo[1200];
	enum udb_result r;
	bool reached, ok;

	r = udb_replica_state(c->db, &local, &synced_at);
	if (r == UDB_OK)
		r = udb_replica_checked_at(c->db, &checked_at);
	if (r != UDB_OK)
		return cli_fail(r, "sync --status");
	snprintf(conninfo, sizeof(conninfo), "connect_timeout=3 %s", c->cfg->central);
	reached = udb_sync_connect(conninfo, &s, detail, sizeof(detail)) == UDB_OK &&
		  udb_sync_central_rev(s, &rev, &min_rev, detail, sizeof(detail)) == UDB_OK;
	udb_sync_close(s);
	c->refused = !reached || rev != local;
	if (!c->json) {
		printf("local revision: %" PRId64 "\n", local);
		if (reached)
			printf("central revision: %" PRId64 " (lag %" PRId64 ")\n", rev,
			       rev - local);
		else
			printf("central revision: unknown (%s)\n", detail);
		printf("last change applied: %s\n",
		       out_when(synced_at, when, sizeof(when), "never"));
		printf("last success: %s (%" PRId64 " s ago)\n",
		       out_when(checked_at, when, sizeof(when), "never"),
		       checked_at ? c->now - checked_at : 0);
		printf("state: %s\n", !reached       ? "stale (central unreachable)"
				      : rev != local ? "behind"
						     : "current");
		return UDB_OK;
	}
	o = json_object_new_object();
	ok = o != NULL;
	out_jset_int(o, "local_rev", local, &ok);
	if (reached) {
		out_jset_int(o, "central_rev", rev, &ok);
		out_jset_int(o, "lag", rev - local, &ok);
	} else {
		out_jset_null(o, "central_rev", &ok);
		out_jset_null(o, "lag", &ok);
		out_jset_str(o, "central_error", detail, &ok);
	}
	out_jset_time(o, "synced_at", synced_at, &ok);
	out_jset_time(o, "last_success", checked_at, &ok);
	out_jset_int(o, "age", checked_at ? c->now - checked_at : -1, &ok);
	out_jset_str(o, "state", !reached ? "stale" : rev != local ? "behind" : "current", &ok);
	return out_jprint(o, ok, 0);
}

enum udb_result
cmd_sync(struct cli *c, int argc, char **argv)
{
	bool follow_opt = false, status_opt = false, full = false, verify = false;
	const struct cli_opt opts[] = {
		{"follow", CLI_FLAG, &follow_opt},
		{"status", CLI_FLAG, &status_opt},
		{"full", CLI_FLAG, &full},
		{"verify", CLI_FLAG, &verify},
		{0},
	};
	struct cli_args a = {
		.help = "  --follow  keep the copy current until stopped (the service)\n"
			"  --status  local and central revision, lag, last success\n"
			"  --full    read everything from central, not only the changes\n"
			"  --verify  compare the copy with central after the pass; repair drift\n",
		.opts = opts,
	};
	enum cli_parse_result p;
	enum udb_result r;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	if ((int)follow_opt + (int)status_opt > 1 || (status_opt && (full || verify)))
		return cli_error(UDB_INVALID, "sync: --status and --follow go alone");
	r = cli_load_config(c);
	if (r != UDB_OK)
		return r;
	if (!c->cfg->central) {
		c->config_failed = true;
		return cli_error(UDB_INVALID, "sync: no `central =` in %s",
				 cli_quote(c->cfg->path ? c->cfg->path : UDB_CONFIG_PATH));
	}
	r = cli_open(c, status_opt ? CLI_READ_SHADOW : CLI_WRITE_LOCAL);
	if (r != UDB_OK)
		return r;
	if (status_opt)
		return status(c);
	if (follow_opt)
		return follow(c);
	return sync_once(c, full, verify);
}
