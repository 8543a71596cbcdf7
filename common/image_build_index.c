/* The lookup structures of a public image being built (format in
 * image.h): the 8-byte-slot hash tables, the dense uid index and the
 * 4-byte-slot name index, each chosen by what it will hold. Called by
 * image_build.c for bases (and, for the tables, the shadow image's
 * accounts in image_build_shadow.c) and by image_delta.c for deltas; pure
 * functions over the sections in memory. */
#include "image-internal.h"

enum udb_result
udb_image_table_build(struct udb_image_buf *t, const uint32_t *keys, const uint32_t *refs,
		      uint32_t n)
{
	struct udb_img_slot *slots;
	size_t size = 8;

	while (size < 2 * (size_t)n)
		size *= 2;
	slots = udb_image_buf_add(t, NULL, size * sizeof(*slots));
	if (!slots)
		return UDB_NO_MEMORY;
	for (uint32_t i = 0; i < n; i++) {
		size_t at = udb_img_hash_id(keys[i]);

		while (slots[at & (size - 1)].idx != 0)
			at++;
		slots[at & (size - 1)] = (struct udb_img_slot){keys[i], (refs ? refs[i] : i) + 1};
	}
	return UDB_OK;
}

enum udb_result
udb_image_uid_index_build(struct udb_image_sections *im, const uint32_t *uids,
			  const uint32_t *units, uint32_t n)
{
	uint32_t lo = UINT32_MAX, hi = 0, *v;
	size_t slots = 8, span;

	for (uint32_t i = 0; i < n; i++) {
		lo = uids[i] < lo ? uids[i] : lo;
		hi = uids[i] > hi ? uids[i] : hi;
	}
	while (slots < 2 * (size_t)n)
		slots *= 2;
	/* The index when it is at most half the table's bytes: a table has
	 * 8-byte slots, the index a 4-byte entry per uid and the lowest. */
	span = n ? (size_t)hi - lo + 1 : 0;
	if (n == 0 || span + 1 > slots)
		return udb_image_table_build(&im->sect[UDB_IMG_S_USER_BY_UID], uids, units, n);
	v = udb_image_buf_add(&im->sect[UDB_IMG_S_UID_INDEX], NULL, (span + 1) * sizeof(*v));
	if (!v)
		return UDB_NO_MEMORY;
	v[0] = lo;
	/* A uid twice (rows planted in the store) leads to the first of
	 * them, as the table's probe would find it. */
	for (uint32_t i = 0; i < n; i++)
		if (v[1 + uids[i] - lo] == 0)
			v[1 + uids[i] - lo] = units[i] + 1;
	return UDB_OK;
}

enum udb_result
udb_image_name_index_build(struct udb_image_sections *im, const uint32_t *hashes,
			   const uint32_t *units, uint32_t n)
{
	uint64_t top = 0;
	uint32_t bits = 1, *v;
	size_t m;

	for (uint32_t i = 0; i < n; i++)
		top = (uint64_t)units[i] + 1 > top ? (uint64_t)units[i] + 1 : top;
	while (bits < 64 && (top >> bits) != 0)
		bits++;
	if (n == 0 || bits > 32 - UDB_IMG_NAME_TAG_MIN_BITS)
		return udb_image_table_build(&im->sect[UDB_IMG_S_USER_BY_NAME], hashes, units, n);
	/* Filled to 3/4: a hit reads 2.5 slots on average, a miss 8.5, mostly
	 * in the cache line of the first. */
	m = (size_t)n + n / 3 + 8;
	v = udb_image_buf_add(&im->sect[UDB_IMG_S_NAME_INDEX], NULL, (m + 1) * sizeof(*v));
	if (!v)
		return UDB_NO_MEMORY;
	v[0] = bits;
	for (uint32_t i = 0; i < n; i++) {
		size_t at = (size_t)(((uint64_t)hashes[i] * m) >> 32);

		while (v[1 + at] != 0)
			at = at + 1 < m ? at + 1 : 0;
		v[1 + at] = udb_img_name_tag(hashes[i], bits) | (units[i] + 1);
	}
	return UDB_OK;
}
