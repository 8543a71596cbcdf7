/* `userdb export [--with-secrets]` and `userdb import FILE.json`: the whole
 * database as one JSON document (doc/export-format.md, format version 1)
 * and back into an empty store. common/export.c moves the rows; this file
 * turns them into JSON and back. Dispatched from main.c (export) and
 * import.c (import with a FILE). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "output.h"

#define FORMAT_NAME    "userdb-export"
#define FORMAT_VERSION 1

static struct json_object *
cell_json(const struct udb_cell *cell)
{
	static const char hex[] = "0123456789abcdef";
	struct json_object *o;
	char *s;

	switch (cell->type) {
	case UDB_CELL_INT:
		return json_object_new_int64(cell->i);
	case UDB_CELL_TEXT:
		return json_object_new_string(cell->p);
	case UDB_CELL_BLOB:
		s = malloc(cell->len * 2 + 1);
		if (!s)
			return NULL;
		for (size_t i = 0; i < cell->len; i++) {
			s[2 * i] = hex[((const unsigned char *)cell->p)[i] >> 4];
			s[2 * i + 1] = hex[((const unsigned char *)cell->p)[i] & 15];
		}
		s[cell->len * 2] = '\0';
		o = json_object_new_object();
		if (o && json_object_object_add(o, "hex", json_object_new_string(s)) != 0) {
			json_object_put(o);
			o = NULL;
		}
		explicit_bzero(s, cell->len * 2);
		free(s);
		return o;
	case UDB_CELL_NULL:
		break;
	}
	return json_object_new_null();
}

static bool
add_row(void *ctx, size_t n, const char *const *names, const struct udb_cell *cells)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return false;
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = cell_json(&cells[i]);

		if ((!v && cells[i].type != UDB_CELL_NULL) ||
		    json_object_object_add(o, names[i], v) != 0) {
			json_object_put(o);
			return false;
		}
	}
	return json_object_array_add(ctx, o) == 0;
}

enum udb_result
cmd_export(struct cli *c, int argc, char **argv)
{
	bool secrets = false;
	const struct cli_opt opts[] = {{"with-secrets", CLI_FLAG, &secrets}, {0}};
	struct cli_args a = {
		.help = "Prints the whole database as one JSON document (doc/export-format.md):\n"
			"users, emails, roles, permissions, inclusions, grants with their times,\n"
			"account state and ssh keys. --with-secrets adds the password hashes and\n"
			"second factors; keep that file as secret as /etc/shadow.\n",
		.opts = opts};
	struct json_object *doc, *t;
	enum cli_parse_result p;
	enum udb_result r;
	const char *name;
	bool ok;

	p = cli_parse(c, argc, argv, &a);
	if (p != CLI_PARSED)
		return cli_parse_status(p);
	r = cli_open(c, CLI_READ_SHADOW);
	if (r != UDB_OK)
		return r;
	doc = json_object_new_object();
	t = json_object_new_object();
	ok = doc && t;
	out_jset_str(doc, "format", FORMAT_NAME, &ok);
	out_jset_int(doc, "version", FORMAT_VERSION, &ok);
	out_jset_int(doc, "schema", udb_db_schema_version(), &ok);
	out_jset_time(doc, "exported_at", c->now, &ok);
	out_jset_bool(doc, "with_secrets", secrets, &ok);
	out_jset(doc, "tables", t, &ok);
	/* One read snapshot for every table. */
	r = ok ? udb_db_read_begin(c->db) : UDB_NO_MEMORY;
	for (size_t i = 0; r == UDB_OK && (name = udb_export_table(i)); i++) {
		struct json_object *rows;

		if (udb_export_table_is_secret(name) && !secrets)
			continue;
		rows = json_object_new_array();
		out_jset(t, name, rows, &ok);
		r = ok ? udb_export_each(c->db, name, secrets, add_row, rows) : UDB_NO_MEMORY;
	}
	udb_db_read_end(c->db);
	if (r != UDB_OK) {
		json_object_put(doc);
		return cli_fail(r, "export");
	}
	return out_jprint(doc, true, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
}

/* A JSON value as a cell; blobs are decoded into buf (freed by the
 * caller). */
static bool
json_cell(struct json_object *v, struct udb_cell *cell, unsigned char **buf)
{
	struct json_object *h;
	const char *s;
	size_t len;

	*cell = (struct udb_cell){.type = UDB_CELL_NULL};
	switch (json_object_get_type(v)) {
	case json_type_null:
		return true;
	case json_type_int:
		cell->type = UDB_CELL_INT;
		cell->i = json_object_get_int64(v);
		return true;
	case json_type_boolean:
		cell->type = UDB_CELL_INT;
		cell->i = json_object_get_boolean(v);
		return true;
	case json_type_string:
		cell->type = UDB_CELL_TEXT;
		cell->p = json_object_get_string(v);
		return strlen(cell->p) == (size_t)json_object_get_string_len(v);
	case json_type_object:
		if (!json_object_object_get_ex(v, "hex", &h) ||
		    !json_object_is_type(h, json_type_string))
			return false;
		s = json_object_get_string(h);
		len = strlen(s);
		if (len % 2 || !(*buf = malloc(len / 2 + 1)))
			return false;
		for (size_t i = 0; i < len / 2; i++) {
			unsigned x;

			if (sscanf(s + 2 * i, "%2x", &x) != 1)
				return false;
			(*buf)[i] = (unsigned char)x;
		}
		cell->type = UDB_CELL_BLOB;
		cell->p = *buf;
		cell->len = len / 2;
		return true;
	default:
		return false;
	}
}

static enum udb_result
import_row(struct cli *c, const char *table, struct json_object *row)
{
	const char *names[32];
	struct udb_cell cells[32];
	unsigned char *bufs[32] = {0};
	enum udb_result r = UDB_OK;
	size_t n = 0;

	if (!json_object_is_type(row, json_type_object))
		return UDB_INVALID;
	json_object_object_foreach(row, key, val)
	{
		if (n == 32 || !json_cell(val, &cells[n], &bufs[n])) {
			r = UDB_INVALID;
			n += n < 32;
			break;
		}
		names[n++] = key;
	}
	if (r == UDB_OK)
		r = udb_import_row(c->db, table, n, names, cells);
	for (size_t i = 0; i < n && i < 32; i++)
		free(bufs[i]);
	if (r != UDB_OK)
		return cli_error(r, "import: table %s: a row could not be imported (%s)",
				 cli_quote(table), udb_result_to_string(r));
	return UDB_OK;
}

/* The document's header: this format and this schema version. */
static enum udb_result
check_header(struct json_object *doc, struct json_object **ret_tables)
{
	struct json_object *f, *v, *s;

	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "format", &f) ||
	    strcmp(json_object_get_string(f), FORMAT_NAME) != 0 ||
	    !json_object_object_get_ex(doc, "version", &v) ||
	    !json_object_object_get_ex(doc, "schema", &s) ||
	    !json_object_object_get_ex(doc, "tables", ret_tables) ||
	    !json_object_is_type(*ret_tables, json_type_object))
		return cli_error(UDB_INVALID, "import: not a userdb export (format %s)",
				 FORMAT_NAME);
	if (json_object_get_int(v) != FORMAT_VERSION)
		return cli_error(UDB_INVALID, "import: format version %d; this userdb reads %d",
				 json_object_get_int(v), FORMAT_VERSION);
	if (json_object_get_int(s) != (int)udb_db_schema_version())
		return cli_error(
			UDB_INVALID,
			"import: exported at schema version %d; this userdb has %u (export "
			"it again with the same version)",
			json_object_get_int(s), udb_db_schema_version());
	return UDB_OK;
}

static enum udb_result
import_tables(struct cli *c, struct json_object *tables)
{
	enum udb_result r = UDB_OK;
	const char *name;

	json_object_object_foreach(tables, key, val)
	{
		bool known = false;

		(void)val;
		for (size_t i = 0; (name = udb_export_table(i)); i++)
			known = known || strcmp(name, key) == 0;
		if (!known)
			return cli_error(UDB_INVALID, "import: unknown table %s", cli_quote(key));
	}
	for (size_t i = 0; r == UDB_OK && (name = udb_export_table(i)); i++) {
		struct json_object *rows;

		if (!json_object_object_get_ex(tables, name, &rows))
			continue;
		if (!json_object_is_type(rows, json_type_array))
			return cli_error(UDB_INVALID, "import: table %s is not an array",
					 cli_quote(name));
		for (size_t j = 0; r == UDB_OK && j < json_object_array_length(rows); j++)
			r = import_row(c, name, json_object_array_get_idx(rows, j));
	}
	return r;
}

enum udb_result
cli_import_json(struct cli *c, const char *path)
{
	struct json_object *doc, *tables = NULL;
	enum udb_result r;

	doc = json_object_from_file(path);
	if (!doc)
		return cli_error(UDB_INVALID, "import: %s: not readable JSON (%s)", cli_quote(path),
				 json_util_get_last_err() ? json_util_get_last_err() : "?");
	r = check_header(doc, &tables);
	if (r == UDB_OK)
		r = cli_open(c, CLI_WRITE);
	if (r == UDB_OK) {
		r = udb_import_rows_begin(c->db);
		if (r == UDB_EXISTS)
			r = cli_error(r, "import: the database already has users or roles; "
					 "import into an empty one (nothing was changed)");
		else if (r != UDB_OK)
			r = cli_fail(r, "import");
		else
			r = udb_import_rows_finish(c->db, import_tables(c, tables));
	}
	json_object_put(doc);
	if (r != UDB_OK)
		return cli_error_reported() ? r : cli_fail(r, "import");
	out_done(c, true, "imported the export %s", path);
	return UDB_OK;
}
