/* What the admin tool prints on stdout for `role show` and `role list`: a
 * role's gid, description, permissions, inclusions and members, as aligned
 * `key: value` lines, a table, or JSON. Called by role.c; the printing
 * primitives come from output.c. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "validate.h"

static struct json_object *
json_role_base(const struct cli_role_view *v, bool *ok)
{
	struct json_object *o = json_object_new_object();
	char buf[32];

	if (!o) {
		*ok = false;
		return NULL;
	}
	out_jset_str(o, "name", v->role->name, ok);
	out_jset_int(o, "gid", v->role->gid, ok);
	out_jset_str(o, "description", v->role->description, ok);
	udb_format_time(v->role->created_at, buf, sizeof(buf));
	out_jset_str(o, "created_at", buf, ok);
	out_jset(o, "permissions", out_jstrv(v->permissions, v->n_permissions, ok), ok);
	out_jset(o, "includes", out_jstrv(v->includes, v->n_includes, ok), ok);
	return o;
}

enum udb_result
out_role(struct cli *c, const struct cli_role_view *v)
{
	char buf[32];

	if (c->json) {
		bool ok = true;
		struct json_object *o = json_role_base(v, &ok);

		if (o) {
			out_jset(o, "all_permissions",
				 out_jstrv(v->all_permissions, v->n_all_permissions, &ok), &ok);
			out_jset(o, "members", out_jstrv(v->members, v->n_members, &ok), &ok);
		}
		return out_jprint(o, ok, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	}
	out_kv_text("role", v->role->name);
	out_kv_fmt("gid", "%" PRIu32, v->role->gid);
	out_kv_text("description", v->role->description);
	out_kv_fmt("created", "%s", out_when(v->role->created_at, buf, sizeof(buf), "-"));
	out_kv_list("includes", v->includes, v->n_includes);
	out_kv_list("permissions", v->permissions, v->n_permissions);
	out_kv_list("all permissions", v->all_permissions, v->n_all_permissions);
	out_kv_list("members", v->members, v->n_members);
	return UDB_OK;
}

/* Columns of the INCLUDES cell: the names joined by ",", or "-". */
static int
includes_width(const struct cli_role_view *v)
{
	int width = v->n_includes ? (int)v->n_includes - 1 : 1;

	for (size_t j = 0; j < v->n_includes; j++)
		width += out_width(v->includes[j]);
	return width;
}

/* Every column is as wide as its widest entry. */
static void
print_role_table(const struct cli_role_view *views, size_t n)
{
	int w_role = 4, w_gid = 3, w_includes = 8;
	char num[16];

	for (size_t i = 0; i < n; i++) {
		w_role = out_max(w_role, out_width(views[i].role->name));
		w_gid = out_max(w_gid, snprintf(num, sizeof(num), "%" PRIu32, views[i].role->gid));
		w_includes = out_max(w_includes, includes_width(&views[i]));
	}
	printf("%-*s  %*s  %-*s  DESCRIPTION\n", w_role, "ROLE", w_gid, "GID", w_includes,
	       "INCLUDES");
	for (size_t i = 0; i < n; i++) {
		const struct cli_role_view *v = &views[i];

		out_padded(v->role->name, w_role);
		printf("  %*" PRIu32 "  ", w_gid, v->role->gid);
		for (size_t j = 0; j < v->n_includes; j++) {
			printf("%s", j ? "," : "");
			out_text(v->includes[j]);
		}
		if (v->n_includes == 0)
			printf("-");
		printf("%*s  ", w_includes - includes_width(v), "");
		out_text(v->role->description);
		putchar('\n');
	}
}

enum udb_result
out_role_list(struct cli *c, const struct cli_role_view *views, size_t n)
{
	if (c->json) {
		struct json_object *a = json_object_new_array();
		bool ok = a != NULL;

		for (size_t i = 0; a && i < n; i++)
			out_jpush(a, json_role_base(&views[i], &ok), &ok);
		return out_jprint(a, ok, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	}
	print_role_table(views, n);
	return UDB_OK;
}
