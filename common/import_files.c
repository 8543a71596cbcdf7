/* Reading the system's account files for an import: glibc's
 * fgetpwent_r, fgetspent_r, fgetgrent_r and fgetsgent_r parse them, so a
 * copy under --root is read exactly as the files module reads /etc.
 * Shadow rows and group members end up sorted, so the plan (import.c)
 * looks them up by binary search. Called by import.c through
 * import-files.h. */
#include <errno.h>
#include <grp.h>
#include <gshadow.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "import-files.h"

#define ENTRY_BUF 65536

bool
udb_import_grow(void *pv, size_t n, size_t size)
{
	void **p = pv;
	void *q;

	if (n & (n - 1) && n > 0)
		return true; /* room left until the next power of two */
	q = realloc(*p, (n ? 2 * n : 1) * size);
	if (!q)
		return false;
	*p = q;
	return true;
}

void
udb_import_files_free(struct udb_import_files *f)
{
	for (size_t i = 0; i < f->n_pw; i++) {
		free(f->pw[i].name);
		free(f->pw[i].passwd);
		free(f->pw[i].gecos);
		free(f->pw[i].dir);
		free(f->pw[i].shell);
	}
	for (size_t i = 0; i < f->n_sp; i++) {
		free(f->sp[i].name);
		udb_secret_free(f->sp[i].hash);
	}
	for (size_t i = 0; i < f->n_gr; i++) {
		free(f->gr[i].name);
		for (size_t j = 0; j < f->gr[i].n_mem; j++)
			free(f->gr[i].mem[j]);
		free(f->gr[i].mem);
	}
	free(f->pw);
	free(f->sp);
	free(f->gr);
}

static FILE *
open_file(const char *root, const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/etc/%s", root && strcmp(root, "/") != 0 ? root : "", name);
	return fopen(path, "re");
}

static enum udb_result
read_error(int err)
{
	if (err == EACCES || err == EPERM)
		return UDB_PERMISSION;
	return err == ENOMEM ? UDB_NO_MEMORY : UDB_IO;
}

/* Appends name to a group row's members; duplicates (gshadow repeats
 * group's list) go in members_settle(). */
static enum udb_result
add_member(struct udb_import_gr *g, const char *name)
{
	if (!udb_import_grow(&g->mem, g->n_mem, sizeof(*g->mem)))
		return UDB_NO_MEMORY;
	g->mem[g->n_mem] = strdup(name);
	return g->mem[g->n_mem++] ? UDB_OK : UDB_NO_MEMORY;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts each group's members and drops repeats: a sort, not a search per
 * member, because a group may have 100k of them. */
static void
members_settle(struct udb_import_files *f)
{
	for (size_t i = 0; i < f->n_gr; i++) {
		struct udb_import_gr *g = &f->gr[i];
		size_t n = 0;

		if (g->n_mem < 2)
			continue;
		qsort(g->mem, g->n_mem, sizeof(*g->mem), cmp_str);
		for (size_t j = 0; j < g->n_mem; j++) {
			if (n > 0 && strcmp(g->mem[n - 1], g->mem[j]) == 0)
				free(g->mem[j]);
			else
				g->mem[n++] = g->mem[j];
		}
		g->n_mem = n;
	}
}

static int
cmp_sp(const void *a, const void *b)
{
	return strcmp(((const struct udb_import_sp *)a)->name,
		      ((const struct udb_import_sp *)b)->name);
}

static int
cmp_gr_ptr(const void *a, const void *b)
{
	return strcmp((*(struct udb_import_gr *const *)a)->name,
		      (*(struct udb_import_gr *const *)b)->name);
}

static enum udb_result
read_passwd(FILE *fp, struct udb_import_files *f, char *buf)
{
	struct passwd pw, *res;
	int err;

	while ((err = fgetpwent_r(fp, &pw, buf, ENTRY_BUF, &res)) == 0) {
		struct udb_import_pw *row;

		if (!udb_import_grow(&f->pw, f->n_pw, sizeof(*f->pw)))
			return UDB_NO_MEMORY;
		row = &f->pw[f->n_pw++];
		*row = (struct udb_import_pw){
			strdup(pw.pw_name), strdup(pw.pw_passwd), strdup(pw.pw_gecos),
			strdup(pw.pw_dir),  strdup(pw.pw_shell),  pw.pw_uid,
			pw.pw_gid};
		if (!row->name || !row->passwd || !row->gecos || !row->dir || !row->shell)
			return UDB_NO_MEMORY;
	}
	return err == ENOENT ? UDB_OK : read_error(err);
}

static enum udb_result
read_shadow(FILE *fp, struct udb_import_files *f, char *buf)
{
	struct spwd sp, *res;
	int err;

	while ((err = fgetspent_r(fp, &sp, buf, ENTRY_BUF, &res)) == 0) {
		struct udb_import_sp *row;

		if (!udb_import_grow(&f->sp, f->n_sp, sizeof(*f->sp)))
			return UDB_NO_MEMORY;
		row = &f->sp[f->n_sp++];
		*row = (struct udb_import_sp){strdup(sp.sp_namp), strdup(sp.sp_pwdp), sp.sp_lstchg,
					      sp.sp_min,          sp.sp_max,          sp.sp_warn,
					      sp.sp_inact,        sp.sp_expire};
		if (!row->name || !row->hash)
			return UDB_NO_MEMORY;
	}
	/* By name, for find_shadow(); the file's order does not matter. */
	if (f->n_sp > 1)
		qsort(f->sp, f->n_sp, sizeof(*f->sp), cmp_sp);
	return err == ENOENT ? UDB_OK : read_error(err);
}

static enum udb_result
read_group(FILE *fp, struct udb_import_files *f, char *buf)
{
	struct group gr, *res;
	enum udb_result r = UDB_OK;
	int err;

	while ((err = fgetgrent_r(fp, &gr, buf, ENTRY_BUF, &res)) == 0) {
		struct udb_import_gr *row;

		if (!udb_import_grow(&f->gr, f->n_gr, sizeof(*f->gr)))
			return UDB_NO_MEMORY;
		row = &f->gr[f->n_gr++];
		*row = (struct udb_import_gr){.name = strdup(gr.gr_name), .gid = gr.gr_gid};
		if (!row->name)
			return UDB_NO_MEMORY;
		for (char **m = gr.gr_mem; r == UDB_OK && *m; m++)
			r = add_member(row, *m);
		if (r != UDB_OK)
			return r;
	}
	return err == ENOENT ? UDB_OK : read_error(err);
}

/* gshadow's member lists join group's (they should be the same). */
static enum udb_result
read_gshadow(FILE *fp, struct udb_import_files *f, char *buf)
{
	struct udb_import_gr **by_name = malloc((f->n_gr ? f->n_gr : 1) * sizeof(*by_name));
	struct sgrp sg, *res;
	enum udb_result r = UDB_OK;
	int err = 0;

	if (!by_name)
		return UDB_NO_MEMORY;
	for (size_t i = 0; i < f->n_gr; i++)
		by_name[i] = &f->gr[i];
	qsort(by_name, f->n_gr, sizeof(*by_name), cmp_gr_ptr);
	while (r == UDB_OK && (err = fgetsgent_r(fp, &sg, buf, ENTRY_BUF, &res)) == 0) {
		struct udb_import_gr key = {.name = sg.sg_namp}, *kp = &key, **hit;

		hit = bsearch(&kp, by_name, f->n_gr, sizeof(kp), cmp_gr_ptr);
		for (char **m = sg.sg_mem; hit && r == UDB_OK && *m; m++)
			r = add_member(*hit, *m);
	}
	free(by_name);
	if (r != UDB_OK)
		return r;
	return err == ENOENT ? UDB_OK : read_error(err);
}

enum udb_result
udb_import_files_read(const char *root, struct udb_import_files *f, const char **ret_path)
{
	static char path[4096];
	static const char *const names[] = {"passwd", "shadow", "group", "gshadow"};
	enum udb_result (*const readers[])(FILE *, struct udb_import_files *, char *) = {
		read_passwd, read_shadow, read_group, read_gshadow};
	enum udb_result r = UDB_OK;
	char *buf = malloc(ENTRY_BUF);

	if (!buf)
		return UDB_NO_MEMORY;
	for (size_t i = 0; r == UDB_OK && i < 4; i++) {
		FILE *fp = open_file(root, names[i], path, sizeof(path));

		if (!fp && errno == ENOENT && i == 3)
			break; /* gshadow is optional */
		if (!fp) {
			r = read_error(errno);
			break;
		}
		r = readers[i](fp, f, buf);
		fclose(fp);
	}
	explicit_bzero(buf, ENTRY_BUF);
	free(buf);
	if (r != UDB_OK)
		*ret_path = path;
	else
		members_settle(f);
	return r;
}

const struct udb_import_sp *
udb_import_find_shadow(const struct udb_import_files *f, const char *name)
{
	struct udb_import_sp key = {.name = (char *)(uintptr_t)name};

	return f->n_sp ? bsearch(&key, f->sp, f->n_sp, sizeof(key), cmp_sp) : NULL;
}
