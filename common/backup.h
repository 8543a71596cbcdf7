/* Backup, restore and check of a database: the two files as one pair.
 * Called by cli/backup.c (`userdb backup`, `restore`, `check`).
 *
 * A backup is a new directory (0700) holding public.db and shadow.db
 * (0600), copied with SQLite's online backup inside a write transaction
 * (the writers' lock of transaction.c), so the pair is of one moment:
 * readers go on, writers wait for the copy. A restore
 * copies every row of a backup of the same schema version into the live
 * store in one write transaction (the two-file commit of transaction.c),
 * which republishes the images; the store's own pair id, generations and
 * audit trail stay, and the id high-water marks never go down. */
#ifndef UDB_BACKUP_H
#define UDB_BACKUP_H

#include <stddef.h>

#include "db.h"
#include "result.h"

/* db must be a write handle. dir must not exist. */
enum udb_result udb_db_backup(struct udb_db *db, const char *dir);

/* db must be a write handle; dir a backup that udb_check() finds clean. */
enum udb_result udb_db_restore(struct udb_db *db, const char *dir);

/* What udb_check() can find wrong. */
enum udb_check_kind {
	UDB_CHECK_MISSING,     /* a file is missing or cannot be opened */
	UDB_CHECK_DAMAGED,     /* integrity_check is not ok */
	UDB_CHECK_NOT_USERDB,  /* no userdb meta table */
	UDB_CHECK_SCHEMA,      /* the two files' schema versions differ from this build's */
	UDB_CHECK_NOT_PAIR,    /* the pair ids differ: files of two databases */
	UDB_CHECK_INTERRUPTED, /* shadow one generation ahead: a writer was killed */
	UDB_CHECK_APART,       /* generations apart otherwise: one file restored alone */
	UDB_CHECK_IMAGE,       /* an image is missing or of another generation */
};

struct udb_check_problem {
	enum udb_check_kind kind;
	char detail[256]; /* which file, which values */
};

/* Checks the pair in dir (a dbdir, or a backup when images is false):
 * each file's integrity, that both are userdb files of this schema
 * version, of one pair and one generation, and with images, that the
 * installed images are of the generations the store records. Fills up to
 * max problems; *ret_n is how many were found (0: clean). Returns UDB_OK
 * whether or not problems were found; *ret_generation is the shadow
 * file's generation when readable. */
enum udb_result udb_check(const char *dir, bool images, struct udb_check_problem *problems,
			  size_t max, size_t *ret_n, long long *ret_generation);

#endif
