/* nss_userdb_populate: loads a benchmark or test population into a userdb
 * database through the core (common/), in one transaction, so that a
 * million users take seconds, not the hours a million `userdb user add`
 * processes would. Called by bench/run-nss-bench.sh (as USERDB_POPULATE, see
 * bench/README.md) and usable by hand:
 *
 *   nss_userdb_populate [--dbdir DIR] SPEC
 *
 * DIR defaults to the configured dbdir (USERDB_CONF or /etc/userdb.conf);
 * the database is created there if needed. SPEC is the spec.tsv that
 * bench/gen_users.py writes: tab-separated lines, '#' lines are comments,
 *   user    NAME  UID  GID  GECOS  HOME  SHELL   (GID == UID: personal group,
 *                                                 else the role with that gid)
 *   role    NAME  GID
 *   member  ROLE  USER                            (a grant without expiry)
 * GECOS becomes first name (its first word) and last name (the rest), which
 * NSS shows joined by a space again. Names and ids already in the database
 * are an error: populate an empty database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "role.h"
#include "user.h"
#include "validate.h"

struct spec_user {
	char *name, *gecos, *home, *shell;
	uint32_t uid, gid;
};

struct spec_role {
	char *name;
	uint32_t gid;
};

struct spec_member {
	const char *role;
	const char *user;
};

struct spec {
	char *text;
	struct spec_user *users;
	size_t n_users, cap_users;
	struct spec_role *roles;
	size_t n_roles, cap_roles;
	struct spec_member *members;
	size_t n_members, cap_members;
};

static void
die(const char *what, enum udb_result r)
{
	fprintf(stderr, "nss_userdb_populate: %s: %s\n", what, udb_result_to_string(r));
	exit(1);
}

static void *
grow(void *v, size_t *cap, size_t elem)
{
	*cap = *cap ? *cap * 2 : 1024;
	v = realloc(v, *cap * elem);
	if (!v)
		die("reading the spec", UDB_NO_MEMORY);
	return v;
}

/* Splits the next tab-separated field off *cursor, in place. */
static char *
field(char **cursor)
{
	char *start = *cursor, *end = start + strcspn(start, "\t");

	*cursor = *end ? end + 1 : end;
	*end = '\0';
	return start;
}

static uint32_t
id_field(char **cursor, unsigned long line)
{
	uint32_t id;

	if (udb_parse_id(field(cursor), &id) != UDB_OK) {
		fprintf(stderr, "nss_userdb_populate: spec line %lu: bad id\n", line);
		exit(1);
	}
	return id;
}

static void
spec_load(const char *path, struct spec *s)
{
	FILE *f = fopen(path, "re");
	unsigned long lineno = 0;
	char *line, *next;
	long size;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "nss_userdb_populate: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	s->text = malloc((size_t)size + 1);
	if (!s->text || fread(s->text, 1, (size_t)size, f) != (size_t)size)
		die("reading the spec", UDB_IO);
	s->text[size] = '\0';
	fclose(f);

	for (line = s->text; *line; line = next) {
		char *eol = strchr(line, '\n'), *cur = line, *kind;

		lineno++;
		next = eol ? eol + 1 : line + strlen(line);
		if (eol)
			*eol = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		kind = field(&cur);
		if (strcmp(kind, "user") == 0) {
			struct spec_user *u;

			if (s->n_users == s->cap_users)
				s->users = grow(s->users, &s->cap_users, sizeof(*s->users));
			u = &s->users[s->n_users++];
			u->name = field(&cur);
			u->uid = id_field(&cur, lineno);
			u->gid = id_field(&cur, lineno);
			u->gecos = field(&cur);
			u->home = field(&cur);
			u->shell = field(&cur);
		} else if (strcmp(kind, "role") == 0) {
			struct spec_role *r;

			if (s->n_roles == s->cap_roles)
				s->roles = grow(s->roles, &s->cap_roles, sizeof(*s->roles));
			r = &s->roles[s->n_roles++];
			r->name = field(&cur);
			r->gid = id_field(&cur, lineno);
		} else if (strcmp(kind, "member") == 0) {
			struct spec_member *m;

			if (s->n_members == s->cap_members)
				s->members = grow(s->members, &s->cap_members, sizeof(*s->members));
			m = &s->members[s->n_members++];
			m->role = field(&cur);
			m->user = field(&cur);
		} else {
			fprintf(stderr, "nss_userdb_populate: spec line %lu: unknown kind '%s'\n",
				lineno, kind);
			exit(1);
		}
	}
}

static const char *
role_by_gid(const struct spec *s, uint32_t gid)
{
	for (size_t i = 0; i < s->n_roles; i++)
		if (s->roles[i].gid == gid)
			return s->roles[i].name;
	return NULL;
}

/* Grants sorted by user, then role: users get ids in file order, so this
 * appends to the grants' primary key instead of scattering writes over it. */
static int
member_cmp(const void *a, const void *b)
{
	const struct spec_member *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c ? c : strcmp(x->role, y->role);
}

static void
add_user(struct udb_db *db, const struct udb_config *cfg, const struct spec *s,
	 const struct spec_user *u, int64_t now)
{
	struct udb_user_spec us = {
		.username = u->name,
		.has_uid = true,
		.uid = u->uid,
		.home = u->home[0] ? u->home : NULL,
		.shell = u->shell[0] ? u->shell : NULL,
	};
	char *space = strchr(u->gecos, ' ');
	enum udb_result r;

	if (u->gid != u->uid) {
		us.primary_role = role_by_gid(s, u->gid);
		if (!us.primary_role) {
			fprintf(stderr, "nss_userdb_populate: user %s: no role has gid %u\n",
				u->name, u->gid);
			exit(1);
		}
	}
	if (space) {
		*space = '\0';
		us.last_name = space + 1;
	}
	us.first_name = u->gecos;
	r = udb_user_add(db, cfg, &us, false, now, NULL);
	if (space)
		*space = ' ';
	if (r != UDB_OK) {
		fprintf(stderr, "nss_userdb_populate: user %s: %s\n", u->name,
			udb_result_to_string(r));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct udb_config *cfg = NULL;
	struct udb_db *db = NULL;
	struct spec s = {0};
	const char *dbdir = NULL, *path;
	enum udb_result r;
	unsigned line = 0;
	int64_t now = udb_now();

	if (argc == 4 && strcmp(argv[1], "--dbdir") == 0) {
		dbdir = argv[2];
		path = argv[3];
	} else if (argc == 2 && argv[1][0] != '-') {
		path = argv[1];
	} else {
		fprintf(stderr, "usage: nss_userdb_populate [--dbdir DIR] SPEC\n");
		return 2;
	}
	r = udb_config_load(NULL, &cfg, &line);
	if (r != UDB_OK)
		die("loading the configuration", r);
	if (!dbdir)
		dbdir = cfg->dbdir;
	spec_load(path, &s);
	qsort(s.members, s.n_members, sizeof(*s.members), member_cmp);

	r = udb_db_init(dbdir, NULL);
	if (r == UDB_OK)
		r = udb_db_open(dbdir, UDB_OPEN_WRITE, &db);
	if (r == UDB_OK)
		r = udb_db_begin(db);
	if (r != UDB_OK)
		die(dbdir, r);
	for (size_t i = 0; i < s.n_roles; i++) {
		struct udb_role_spec rs = {
			.name = s.roles[i].name, .has_gid = true, .gid = s.roles[i].gid};

		r = udb_role_add(db, cfg, &rs, false, now);
		if (r != UDB_OK)
			die(s.roles[i].name, r);
	}
	for (size_t i = 0; i < s.n_users; i++)
		add_user(db, cfg, &s, &s.users[i], now);
	for (size_t i = 0; i < s.n_members; i++) {
		r = udb_grant(db, s.members[i].user, s.members[i].role, 0, 0, now, NULL);
		if (r != UDB_OK) {
			fprintf(stderr, "nss_userdb_populate: grant %s to %s: %s\n",
				s.members[i].role, s.members[i].user, udb_result_to_string(r));
			return 1;
		}
	}
	r = udb_db_commit(db);
	if (r != UDB_OK)
		die("commit", r);
	udb_db_close(db);
	fprintf(stderr, "nss_userdb_populate: %zu users, %zu roles, %zu grants in %s\n", s.n_users,
		s.n_roles, s.n_members, dbdir);
	udb_config_free(cfg);
	free(s.users);
	free(s.roles);
	free(s.members);
	free(s.text);
	return 0;
}
