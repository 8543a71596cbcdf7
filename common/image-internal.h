/* Shared by image_build.c and image_write.c only: the sections of an image
 * being built, each a growing buffer. Nothing else includes this. */
#ifndef UDB_IMAGE_INTERNAL_H
#define UDB_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "image.h"

struct udb_image_buf {
	unsigned char *p;
	size_t len, cap;
	bool failed; /* an allocation failed: the image must not be written */
};

struct udb_image_sections {
	struct udb_image_buf sect[UDB_IMG_S_COUNT];
};

/* The sections of the public or the shadow image, from the open
 * transaction's snapshot. The shadow image's string pool holds hashes:
 * udb_image_sections_free() wipes every buffer before freeing it. */
enum udb_result udb_image_build_public(struct udb_db *db, struct udb_image_sections *ret_im);
enum udb_result udb_image_build_shadow(struct udb_db *db, struct udb_image_sections *ret_im);
void udb_image_sections_free(struct udb_image_sections *im);

#endif
