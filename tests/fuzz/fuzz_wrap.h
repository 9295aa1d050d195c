/* fuzz_wrap.h — put fuzz bytes into a torch-style archive, so that the
 * pickle interpreter sees mutated pickles (a mutated archive would mostly
 * fail its CRC check before the pickle is read).
 *
 * The archive: archive/data.pkl = the input, archive/data/0 .. data/7 =
 * 1 KiB storages (so tensors can be built), stored, with correct CRCs.
 * fuzz_wrap_legacy does the same for the legacy (non-zip) format. */
#ifndef ADM_FUZZ_WRAP_H
#define ADM_FUZZ_WRAP_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* CRC-32 (the zip polynomial, reflected 0xEDB88320). */
static uint32_t fw_crc32(const uint8_t *d, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= d[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void fw_put(uint8_t **p, uint32_t v, int n) { for (int i = 0; i < n; i++) *(*p)++ = (uint8_t)(v >> (8 * i)); }

/* Returns a malloc'd archive of *out_len bytes (NULL if the input is too large). */
static uint8_t *fuzz_wrap_pickle(const uint8_t *pkl, size_t len, size_t *out_len) {
    enum { NSTOR = 8, STOR = 1024 };
    if (len > (1u << 24)) return NULL;
    static uint8_t storage[STOR];
    for (int i = 0; i < STOR; i++) storage[i] = (uint8_t)(i * 37 + 11);
    const char *names[NSTOR + 1] = {"archive/data.pkl", "archive/data/0", "archive/data/1", "archive/data/2",
                                    "archive/data/3", "archive/data/4", "archive/data/5", "archive/data/6", "archive/data/7"};
    size_t cap = len + (NSTOR + 1) * (STOR + 200) + 64;
    uint8_t *buf = malloc(cap), *p = buf;
    uint32_t offs[NSTOR + 1], crcs[NSTOR + 1], sizes[NSTOR + 1];
    if (!buf) return NULL;
    for (int e = 0; e <= NSTOR; e++) {
        const uint8_t *d = e ? storage : pkl;
        uint32_t n = e ? STOR : (uint32_t)len, nl = (uint32_t)strlen(names[e]);
        offs[e] = (uint32_t)(p - buf); sizes[e] = n;
        crcs[e] = fw_crc32(d, n);
        fw_put(&p, 0x04034b50, 4); fw_put(&p, 20, 2); fw_put(&p, 0, 2); fw_put(&p, 0, 2);   /* sig, version, flags, stored */
        fw_put(&p, 0, 2); fw_put(&p, 0x21, 2);                                             /* time, date */
        fw_put(&p, crcs[e], 4); fw_put(&p, n, 4); fw_put(&p, n, 4); fw_put(&p, nl, 2); fw_put(&p, 0, 2);
        memcpy(p, names[e], nl); p += nl;
        if (n) memcpy(p, d, n);
        p += n;
    }
    uint32_t cd = (uint32_t)(p - buf);
    for (int e = 0; e <= NSTOR; e++) {
        uint32_t nl = (uint32_t)strlen(names[e]);
        fw_put(&p, 0x02014b50, 4); fw_put(&p, 20, 2); fw_put(&p, 20, 2); fw_put(&p, 0, 2); fw_put(&p, 0, 2);
        fw_put(&p, 0, 2); fw_put(&p, 0x21, 2); fw_put(&p, crcs[e], 4); fw_put(&p, sizes[e], 4); fw_put(&p, sizes[e], 4);
        fw_put(&p, nl, 2); fw_put(&p, 0, 2); fw_put(&p, 0, 2); fw_put(&p, 0, 2); fw_put(&p, 0, 2); fw_put(&p, 0, 4);
        fw_put(&p, offs[e], 4);
        memcpy(p, names[e], nl); p += nl;
    }
    uint32_t cdlen = (uint32_t)(p - buf) - cd;
    fw_put(&p, 0x06054b50, 4); fw_put(&p, 0, 2); fw_put(&p, 0, 2); fw_put(&p, NSTOR + 1, 2); fw_put(&p, NSTOR + 1, 2);
    fw_put(&p, cdlen, 4); fw_put(&p, cd, 4); fw_put(&p, 0, 2);
    *out_len = (size_t)(p - buf);
    return buf;
}

/* A legacy (non-zip) torch file: the header pickles torch writes first
 * (magic number, protocol 1001, sys_info) followed by the input, which is
 * the rest of such a file (state-dict pickle, key-list pickle, storages). */
__attribute__((unused)) static uint8_t *fuzz_wrap_legacy(const uint8_t *tail, size_t len, size_t *out_len) {
    static const uint8_t head[] =
        "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19." "\x80\x02M\xe9\x03."
        "\x80\x02}q\x00(X\x10\x00\x00\x00protocol_versionq\x01M\xe9\x03X\x0d\x00\x00\x00little_endianq\x02\x88"
        "X\x0a\x00\x00\x00type_sizesq\x03}q\x04(X\x05\x00\x00\x00shortq\x05K\x02X\x03\x00\x00\x00intq\x06K\x04"
        "X\x04\x00\x00\x00longq\x07K\x04uu.";
    if (len > (1u << 24)) return NULL;
    uint8_t *buf = malloc(sizeof head - 1 + len + 1);
    if (!buf) return NULL;
    memcpy(buf, head, sizeof head - 1);
    if (len) memcpy(buf + sizeof head - 1, tail, len);
    *out_len = sizeof head - 1 + len;
    return buf;
}
#endif
