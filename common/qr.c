/* A QR code drawn as text for a terminal or a PAM conversation (see
 * udb_qr_text in totp.h): the enrolment URI for `userdb totp enroll` and
 * for self-enrolment at login. The symbol comes from libqrencode. */
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#include "totp.h"

/* Two modules of light border each side: scanners want a quiet zone, and
 * a terminal's own background may be dark. */
#define QUIET 2

/* Whether module (x, y) of the bordered symbol is dark. */
static bool
dark(const QRcode *qr, int x, int y)
{
	x -= QUIET;
	y -= QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return qr->data[y * qr->width + x] & 1;
}

char *
udb_qr_text(const char *text)
{
	/* Indexed by (top dark, bottom dark): light modules are drawn in
	 * the terminal's foreground (white on most), dark ones left as
	 * background, so the code reads as dark on light when the foreground
	 * is light; the full block gives an evenly light border. */
	static const char *const cell[4] = {"\u2588", "\u2580", "\u2584", " "};
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	char *out, *o;
	int side;

	if (!qr)
		return NULL;
	side = qr->width + 2 * QUIET;
	/* Each cell is at most 3 bytes; a newline per row of cells. */
	out = malloc((size_t)side * (size_t)((side + 1) / 2) * 3 + (size_t)side + 1);
	if (!out) {
		QRcode_free(qr);
		return NULL;
	}
	o = out;
	for (int y = 0; y < side; y += 2) {
		for (int x = 0; x < side; x++) {
			int top = dark(qr, x, y), bottom = y + 1 < side ? dark(qr, x, y + 1) : 1;
			const char *c = cell[top * 2 + bottom];
			size_t n = strlen(c);

			memcpy(o, c, n);
			o += n;
		}
		*o++ = '\n';
	}
	*o = '\0';
	QRcode_free(qr);
	return out;
}
