/* zip_entry.h — reading whole members of a zip archive (libzip) with the
 * sizes checked against what the archive can hold: shared by the torch
 * checkpoint reader (pt_reader.c) and the .npz reader (npz.c). */
#ifndef ADM_ZIP_ENTRY_H
#define ADM_ZIP_ENTRY_H
#include <stddef.h>
#include <zip.h>

/* Open an archive in memory (buf must outlive it) or on disk (what: "a
 * checkpoint", ...; its size in *file_len); NULL + "LABEL: not a readable
 * zip archive ..." (or why the path is no file) on failure.  Close with
 * zip_discard. */
zip_t *adm_zip_open_mem(const char *label, const void *buf, size_t len);
zip_t *adm_zip_open_path(const char *path, const char *what, size_t *file_len);

/* Uncompressed size of entry idx, refused when larger than its compressed
 * size allows (stored: equal; deflated: at most ~1100x) or when the
 * compressed size exceeds the file. */
int adm_zip_entry_size(const char *label, zip_t *z, zip_int64_t idx, size_t file_len, size_t *size);

/* Read exactly n bytes of entry idx into dst (CRC checked by libzip). */
int adm_zip_read_entry(const char *label, zip_t *z, zip_int64_t idx, void *dst, size_t n);

#endif
