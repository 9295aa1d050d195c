/* test_npy.c — .npy read/write round trips on the reference data, and the
 * exact half <-> float conversions. */
#include "check.h"
#include "npy.h"
#include "util.h"
#include <stdint.h>

static void test_read_reference_x(void) {
    char p[512]; adm_tensor t;
    REQUIRE(adm_npy_read(test_path(p, sizeof p, "reference/unet_a/x.npy"), &t) == 0, "%s", adm_last_error());
    CHECK(t.dtype == ADM_F32 && t.ndim == 4, "dtype %d ndim %d", t.dtype, t.ndim);
    CHECK(t.shape[0] == 2 && t.shape[1] == 3 && t.shape[2] == 32 && t.shape[3] == 32, "shape");
    adm_tensor t2;
    REQUIRE(adm_npy_read(test_path(p, sizeof p, "reference/unet_a/t.npy"), &t2) == 0, "%s", adm_last_error());
    CHECK(t2.dtype == ADM_I64 && t2.ndim == 1 && t2.shape[0] == 2, "t.npy");
    adm_tensor_free(&t); adm_tensor_free(&t2);
}

static void test_write_roundtrip(void) {
    char p[512]; adm_tensor t, back;
    REQUIRE(adm_npy_read(test_path(p, sizeof p, "reference/unet_a/out.npy"), &t) == 0, "%s", adm_last_error());
    const char *tmp = "/tmp/admd_test_npy.npy";
    REQUIRE(adm_npy_write(tmp, t.dtype, t.ndim, t.shape, t.data) == 0, "%s", adm_last_error());
    REQUIRE(adm_npy_read(tmp, &back) == 0, "%s", adm_last_error());
    CHECK(back.nbytes == t.nbytes && memcmp(back.data, t.data, t.nbytes) == 0, "bytes differ");
    CHECK(back.ndim == t.ndim, "ndim");
    int64_t shape1[1] = {5}; double d[5] = {1, 2, 3, 4, 5};
    REQUIRE(adm_npy_write(tmp, ADM_F64, 1, shape1, d) == 0, "%s", adm_last_error());
    adm_tensor_free(&back);
    REQUIRE(adm_npy_read(tmp, &back) == 0, "%s", adm_last_error());
    CHECK(back.ndim == 1 && back.shape[0] == 5 && ((double *)back.data)[4] == 5.0, "1-d f64");
    adm_tensor_free(&t); adm_tensor_free(&back);
    remove(tmp);
}

static void test_bad_npy(void) {
    adm_tensor t;
    const uint8_t junk[] = "\x93NUMPY\x01\x00\x30\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }";
    CHECK(adm_npy_read_mem("junk", junk, sizeof junk - 1, &t) != 0, "truncated data accepted");
    CHECK(strstr(adm_last_error(), "junk") != NULL, "error names the file: %s", adm_last_error());
    CHECK(adm_npy_read_mem("short", junk, 5, &t) != 0, "short accepted");
    CHECK(adm_npy_read("/tmp", &t) != 0, "directory accepted");
}

static void test_half_roundtrip_all(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        uint16_t hh = (uint16_t)h;
        if ((hh & 0x7c00) == 0x7c00 && (hh & 0x3ff)) continue;     /* NaNs: payload may change */
        if (adm_float_to_half(adm_half_to_float(hh)) != hh) bad++;
    }
    CHECK(bad == 0, "%d half values do not round-trip", bad);
    CHECK(adm_float_to_half(65520.0f) == 0x7c00, "overflow to inf");
    CHECK(adm_float_to_half(1.0f + 1.0f / 2048) == 0x3c00, "tie rounds to even");
    CHECK(adm_float_to_half(5.960464477539063e-08f) == 1, "smallest subnormal");
    CHECK(adm_float_to_half(2.98023223876953125e-08f) == 0, "half of smallest ties to even 0");
}

int main(void) {
    RUN(test_read_reference_x);
    RUN(test_write_roundtrip);
    RUN(test_bad_npy);
    RUN(test_half_roundtrip_all);
    CHECK_EXIT();
}
