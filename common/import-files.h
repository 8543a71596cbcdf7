/* Shared by common/import.c and common/import_files.c only: the system's
 * account files as read (only what an import plan needs), and a growing
 * array helper. Nothing else includes this. */
#ifndef UDB_IMPORT_FILES_H
#define UDB_IMPORT_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

struct udb_import_pw {
	char *name, *passwd, *gecos, *dir, *shell;
	uint32_t uid, gid;
};
struct udb_import_sp {
	char *name, *hash;
	long lstchg, min, max, warn, inact, expire;
};
struct udb_import_gr {
	char *name;
	uint32_t gid;
	char **mem;
	size_t n_mem;
};
struct udb_import_files {
	struct udb_import_pw *pw;
	size_t n_pw;
	struct udb_import_sp *sp;
	size_t n_sp;
	struct udb_import_gr *gr;
	size_t n_gr;
};

/* Makes room for element n of *pv (elements of size bytes), doubling at
 * each power of two; false when out of memory. */
bool udb_import_grow(void *pv, size_t n, size_t size);
/* Reads root's etc/passwd, shadow, group and (if present) gshadow into f
 * (shadow rows sorted by name, group members sorted without repeats). On
 * UDB_IO / UDB_PERMISSION / UDB_NO_MEMORY, *ret_path names the file
 * (static storage). f is filled so far either way: free it. */
enum udb_result udb_import_files_read(const char *root, struct udb_import_files *f,
				      const char **ret_path);
/* The shadow row of name, or NULL. */
const struct udb_import_sp *udb_import_find_shadow(const struct udb_import_files *f,
						   const char *name);
/* Frees what f holds (hashes wiped); f itself is the caller's. */
void udb_import_files_free(struct udb_import_files *f);

#endif
