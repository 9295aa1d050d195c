/* png_file.h — the PNG files admd writes for every generated image, and a
 * reader for tests and tools.
 *
 *   adm_png_encode       8-bit gray/RGB pixels + tEXt chunks (iTXt for a value
 *                        with non-ASCII bytes: UTF-8) -> PNG bytes in memory
 *   adm_png_save         encode + adm_file_write_atomic (util.h: temp file,
 *                        fsync, rename, fsync the folder), plus the file's
 *                        sha256 and size
 *   adm_png_decode / adm_png_read   PNG bytes or file -> 8-bit pixels + text chunks
 *
 * Pixels are row-major with interleaved channels (c = 1 gray, 3 RGB), as
 * adm_generate hands them out.  Encoding is deterministic: the same pixels
 * and text give the same bytes (no time chunk, fixed zlib settings).
 */
#ifndef ADM_PNG_FILE_H
#define ADM_PNG_FILE_H
#include <stddef.h>
#include <stdint.h>

#define ADM_PNG_MAX_SIDE 16384   /* larger images are refused (reader and writer) */
#define ADM_PNG_MAX_TEXTS 64

typedef struct { const char *key, *value; } adm_png_text;   /* key: 1-79 Latin-1 chars */

/* Encode to a malloc'd buffer (*out, *len); the caller frees *out. */
int adm_png_encode(const uint8_t *pixels, int w, int h, int c, const adm_png_text *texts,
                   int n_texts, uint8_t **out, size_t *len);

/* Encode + write atomically; sha256_hex (65 bytes) and bytes may be NULL. */
int adm_png_save(const char *path, const char *tmp_path, const uint8_t *pixels, int w, int h,
                 int c, const adm_png_text *texts, int n_texts, char *sha256_hex, size_t *bytes);

/* A decoded PNG: 8-bit, c = 1 (gray, gray+alpha drops alpha), 3 (RGB) or
 * 4 (RGBA); 16-bit samples are reduced, palettes expanded.  Text chunks
 * (tEXt, zTXt, iTXt) are kept in file order. */
typedef struct {
    int w, h, c;
    uint8_t *pixels;              /* h*w*c bytes */
    int n_texts;
    char *keys[ADM_PNG_MAX_TEXTS], *values[ADM_PNG_MAX_TEXTS];
} adm_png_image;

int adm_png_decode(const uint8_t *data, size_t len, adm_png_image *img);
int adm_png_read(const char *path, adm_png_image *img);
void adm_png_free(adm_png_image *img);
/* The value of text chunk key, or NULL. */
const char *adm_png_text_get(const adm_png_image *img, const char *key);

#endif
