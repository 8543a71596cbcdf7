/* Shared by image_read_part.c, image_read.c and image_read_groups.c only:
 * the section access and the lookup over a base and its delta that every
 * part of the reader uses. Nothing else includes this. */
#ifndef UDB_IMAGE_READ_INTERNAL_H
#define UDB_IMAGE_READ_INTERNAL_H

#include "image.h"

const void *udb_img_sect(const struct udb_img_part *p, enum udb_img_section s);
/* Records in section s (slots, for a table; 8-byte units for the public
 * image's USERS). */
uint32_t udb_img_sect_count(const struct udb_img_part *p, enum udb_img_section s);
/* A string of the pool: [off, off + len) inside it and a NUL right after. */
const char *udb_img_pool_str(const struct udb_img_part *p, uint32_t off, uint32_t len);
/* A block of the pool that ends with a NUL: [off, off + len), len > 0. */
const char *udb_img_pool_block(const struct udb_img_part *p, uint32_t off, uint32_t len);
/* Record index of section s over base and delta: *ret_part and *ret_i are
 * its file and its index there; false past the end. */
bool udb_img_locate(const struct udb_img *img, enum udb_img_section s, uint32_t index,
		    const struct udb_img_part **ret_part, uint32_t *ret_i);
uint32_t udb_img_total(const struct udb_img *img, enum udb_img_section s);

/* match says whether the record a slot leads to (its idx - 1) is the one
 * wanted; *ret_bad when that record is damaged. */
typedef bool udb_img_match_fn(const struct udb_img_part *p, uint32_t ref, const void *want,
			      bool *ret_bad);
/* Table s of part p for key: UDB_OK with *ret_ref the match's record
 * (its slot's idx - 1), UDB_NOT_FOUND, or UDB_CORRUPT when match found the
 * record it was led to damaged. */
enum udb_result udb_img_probe(const struct udb_img_part *p, enum udb_img_section s, uint32_t key,
			      udb_img_match_fn *match, const void *want, uint32_t *ret_ref);
/* Table for key in the delta, then in the base. *ret_part and *ret_ref:
 * where the match is. The caller checks that a base record is not
 * covered. */
enum udb_result udb_img_lookup(const struct udb_img *img, enum udb_img_section table, uint32_t key,
			       udb_img_match_fn *match, const void *want,
			       const struct udb_img_part **ret_part, uint32_t *ret_ref);

#endif
