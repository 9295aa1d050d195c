/* test_pt_reader.c — the checkpoint readers on real data.
 *
 * Every checkpoint of the reference set and the MNIST model is read and
 * each tensor compared, by name, dtype, shape and the sha256 of its bytes,
 * with what torch.load returns (tests/data/pt/<case>.sha256, extracted once
 * by tests/data/pt/make_pt_data.py).  Then protocol 4, ZIP64, safetensors
 * (read and written), content dispatch, and every class of bad input. */
#include "check.h"
#include "tensor.h"
#include "util.h"
#include "weights.h"
#include <stdint.h>
#include <unistd.h>
#include "fuzz/fuzz_wrap.h"

/* Compare a tensor set with a .sha256 list; returns the number of mismatches. */
static int compare_with_list(const adm_tensor_set *s, const char *list) {
    char p[512], line[1024];
    FILE *f = fopen(test_path(p, sizeof p, list), "r");
    if (!f) { printf("  cannot open %s\n", p); return 1; }
    int bad = 0, n = 0;
    while (fgets(line, sizeof line, f)) {
        char name[512], dtype[16], shape[256], sha[80];
        if (sscanf(line, "%511s %15s %255s %79s", name, dtype, shape, sha) != 4) { bad++; continue; }
        if (n >= s->n) { printf("  %s: missing tensor %s\n", list, name); bad++; n++; continue; }
        const adm_tensor *t = &s->t[n++];       /* same order as torch's dict */
        char got_shape[256] = "", hex[65];
        size_t o = 0;
        for (int d = 0; d < t->ndim; d++)
            o += (size_t)snprintf(got_shape + o, sizeof got_shape - o, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        if (t->ndim == 0) strcpy(got_shape, "-");
        adm_sha256_hex(t->data, t->nbytes, hex);
        if (strcmp(t->name, name) || strcmp(adm_dtype_name(t->dtype), dtype) || strcmp(got_shape, shape) || strcmp(hex, sha)) {
            if (bad < 5) printf("  %s: %s %s %s differs from torch's %s %s %s\n", list, t->name,
                                adm_dtype_name(t->dtype), got_shape, name, dtype, shape);
            bad++;
        }
    }
    fclose(f);
    if (n != s->n) { printf("  %s: %d tensors listed, %d read\n", list, n, s->n); bad++; }
    return bad;
}

static void check_case(const char *file, const char *list, int expect_n) {
    char p[512]; adm_tensor_set s;
    REQUIRE(adm_tensors_load(test_path(p, sizeof p, file), &s) == 0, "%s", adm_last_error());
    CHECK(compare_with_list(&s, list) == 0, "%s differs from torch", file);
    if (expect_n) CHECK(s.n == expect_n, "%s: %d tensors", file, s.n);
    adm_tensors_free(&s);
}

/* The four checkpoint styles, bitwise against torch.load. */
static void test_reference_param(void) { check_case("reference/unet_b/model.pt", "pt/unet_b.sha256", 0);
                                         check_case("reference/superres_a/model.pt", "pt/superres_a.sha256", 0);
                                         check_case("reference/classifier_a/model.pt", "pt/classifier_a.sha256", 0); }
static void test_reference_flat(void)  { check_case("reference/unet_a/model.pt", "pt/unet_a.sha256", 0); }
static void test_reference_plain(void) { check_case("reference/unet_c/model.pt", "pt/unet_c.sha256", 0); }
static void test_reference_half(void)  { check_case("reference/unet_a_f16/model.pt", "pt/unet_a_f16.sha256", 0); }

static void test_mnist_models(void) {
    char p[512];
    test_path(p, sizeof p, "mnist/unet.pt");
    if (access(p, R_OK) != 0) SKIP("models/mnist not present");
    check_case("mnist/unet.pt", "pt/mnist_unet.sha256", 0);
    check_case("mnist/classifier.pt", "pt/mnist_classifier.sha256", 0);
    /* The README's parameter counts. */
    adm_tensor_set s; int64_t n = 0;
    REQUIRE(adm_pt_load(test_path(p, sizeof p, "mnist/unet.pt"), &s) == 0, "%s", adm_last_error());
    for (int i = 0; i < s.n; i++) n += adm_tensor_numel(&s.t[i]);
    CHECK(n == 7993282, "unet parameters %lld", (long long)n);
    adm_tensors_free(&s);
}

/* Flat: the views share storages and land at their storage offsets. */
static void test_flat_shares_storage(void) {
    char p[512]; adm_tensor_set s;
    REQUIRE(adm_pt_load(test_path(p, sizeof p, "reference/unet_a/model.pt"), &s) == 0, "%s", adm_last_error());
    const adm_tensor *a = adm_tensors_find(&s, "time_embed.0.weight"), *b = adm_tensors_find(&s, "time_embed.2.weight");
    REQUIRE(a && b, "time_embed weights");
    CHECK((const uint8_t *)b->data == (const uint8_t *)a->data + a->nbytes, "flat views are adjacent in their storage");
    CHECK(s.blob != NULL && s.blob_len >= 7974016 + 60952, "one blob holds both storages");
    adm_tensors_free(&s);
}

static void test_protocol4_every_dtype(void) {
    check_case("pt/proto4.pt", "pt/proto4.sha256", 13);
    char p[512]; adm_tensor_set s;
    REQUIRE(adm_pt_load(test_path(p, sizeof p, "pt/proto4.pt"), &s) == 0, "%s", adm_last_error());
    const adm_tensor *t = adm_tensors_find(&s, "i64");
    REQUIRE(t && t->dtype == ADM_I64, "i64");
    CHECK(((const int64_t *)t->data)[0] == -3 && ((const int64_t *)t->data)[5] == 2, "i64 values");
    t = adm_tensors_find(&s, "scalar");
    REQUIRE(t && t->ndim == 0 && t->nbytes == 4, "0-d tensor");
    CHECK(*(const float *)t->data == 3.5f, "scalar value");
    t = adm_tensors_find(&s, "bf16");
    float f[3];
    REQUIRE(t && adm_tensor_to_f32(t, f) == 0, "bf16 convert");
    adm_tensors_free(&s);
}

static void test_zip64_prefix(void) { check_case("pt/zip64.pt", "pt/proto4.sha256", 13); }

static void test_mem_equals_file(void) {
    char p[512]; uint8_t *buf; size_t len; adm_tensor_set a, b;
    REQUIRE(adm_read_file(test_path(p, sizeof p, "reference/unet_c/model.pt"), &buf, &len) == 0, "%s", adm_last_error());
    REQUIRE(adm_pt_load_mem("mem", buf, len, &a) == 0, "%s", adm_last_error());
    REQUIRE(adm_pt_load(p, &b) == 0, "%s", adm_last_error());
    CHECK(a.n == b.n, "counts");
    for (int i = 0; i < a.n && i < b.n; i++)
        CHECK(a.t[i].nbytes == b.t[i].nbytes && memcmp(a.t[i].data, b.t[i].data, a.t[i].nbytes) == 0, "%s", a.t[i].name);
    adm_tensors_free(&a); adm_tensors_free(&b); free(buf);
}

static void test_safetensors_read_write(void) {
    check_case("pt/small.safetensors", "pt/proto4.sha256", 13);
    char p[512]; adm_tensor_set s, back;
    REQUIRE(adm_pt_load(test_path(p, sizeof p, "reference/unet_a_f16/model.pt"), &s) == 0, "%s", adm_last_error());
    char tmp[] = "/tmp/admd_test_st_XXXXXX";
    int fd = mkstemp(tmp); REQUIRE(fd >= 0, "mkstemp"); close(fd);
    REQUIRE(adm_safetensors_write(tmp, s.t, s.n) == 0, "%s", adm_last_error());
    REQUIRE(adm_tensors_load(tmp, &back) == 0, "%s", adm_last_error());   /* dispatch by content */
    CHECK(compare_with_list(&back, "pt/unet_a_f16.sha256") == 0, "round trip differs");
    adm_tensors_free(&back); adm_tensors_free(&s);
    remove(tmp);
}

/* One clear error naming the file and the problem, never a crash. */
static void expect_error(const char *rel, const char *needle) {
    char p[512]; adm_tensor_set s;
    test_path(p, sizeof p, rel);
    int rc = adm_tensors_load(p, &s);
    CHECK(rc != 0, "%s accepted", rel);
    if (rc == 0) { adm_tensors_free(&s); return; }
    const char *e = adm_last_error();
    CHECK(strstr(e, p) != NULL, "error does not name the file: %s", e);
    CHECK(strstr(e, needle) != NULL, "%s: error lacks \"%s\": %s", rel, needle, e);
    CHECK(strchr(e, '\n') == NULL, "multi-line error: %s", e);
    CHECK(s.n == 0 && s.t == NULL && s.blob == NULL, "set left half-filled");
}

static void test_bad_inputs(void) {
    expect_error("pt/bad/truncated.pt", "zip");
    expect_error("pt/bad/corrupt_zip.pt", "zip");
    expect_error("pt/bad/bad_opcode.pt", "unknown pickle opcode 0xff");
    expect_error("pt/bad/global_os_system.pt", "os.system");
    expect_error("pt/bad/short_storage.pt", "holds 20 bytes");
    expect_error("pt/bad/absurd_shape.pt", "absurd dimension");
    expect_error("pt/bad/size_overflow.pt", "overflow");
    expect_error("pt/bad/noncontiguous.pt", "non-contiguous");
    expect_error("pt/bad/empty.pt", "empty file");
    expect_error("pt/bad/no_pickle.pt", "no data.pkl");
    expect_error("pt/bad/pickle_no_stop.pt", "pickle");
    expect_error("pt", "directory");
    expect_error("pt/does-not-exist.pt", "No such file");
    expect_error("pt/unet_a.sha256", "not a weights file");
}

/* Every prefix of a good archive is refused cleanly (truncation anywhere). */
static void test_every_truncation(void) {
    char p[512]; uint8_t *buf; size_t len; adm_tensor_set s;
    REQUIRE(adm_read_file(test_path(p, sizeof p, "pt/tiny.pt"), &buf, &len) == 0, "%s", adm_last_error());
    REQUIRE(adm_pt_load_mem("tiny", buf, len, &s) == 0, "%s", adm_last_error());
    CHECK(compare_with_list(&s, "pt/tiny.sha256") == 0, "tiny");
    adm_tensors_free(&s);
    int accepted = 0;
    for (size_t n = 0; n < len; n++)
        if (adm_pt_load_mem("tiny", buf, n, &s) == 0) { accepted++; adm_tensors_free(&s); }
    CHECK(accepted == 0, "%d truncated copies accepted", accepted);
    /* Single-byte corruption anywhere: no crash (ASan run checks memory); result either way. */
    for (size_t i = 0; i < len; i++) {
        uint8_t keep = buf[i];
        buf[i] ^= 0x5a;
        if (adm_pt_load_mem("tiny", buf, len, &s) == 0) adm_tensors_free(&s);
        buf[i] = keep;
    }
    free(buf);
}

static void test_bad_safetensors(void) {
    adm_tensor_set s;
    const char *cases[] = {
        "\x10\0\0\0\0\0\0\0{\"a\":{\"dtype\":", /* header longer than the file */
        "\x40\0\0\0\0\0\0\0{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}      ",   /* data missing */
        "\x40\0\0\0\0\0\0\0{\"a\":{\"dtype\":\"Q99\",\"shape\":[2],\"data_offsets\":[0,8]}}      ",
        "\x40\0\0\0\0\0\0\0{\"a\":{\"dtype\":\"F32\",\"shape\":[9999999999999],\"data_offsets\":[0,8]}}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CHECK(adm_safetensors_load_mem("bad.safetensors", (const uint8_t *)cases[i], strlen(cases[i]) + (i == 1 ? 8 : 0), &s) != 0,
              "case %zu accepted", i);
        CHECK(strstr(adm_last_error(), "bad.safetensors") != NULL, "case %zu: %s", i, adm_last_error());
    }
}

/* Hand-made pickles inside a well-formed archive (tests/fuzz/fuzz_wrap.h). */
static int load_pickle(const uint8_t *pkl, size_t len) {
    size_t zl; adm_tensor_set s;
    uint8_t *zip = fuzz_wrap_pickle(pkl, len, &zl);
    if (!zip) return -2;
    int rc = adm_pt_load_mem("hand.pkl", zip, zl, &s);
    if (rc == 0) adm_tensors_free(&s);
    free(zip);
    return rc;
}

static void test_hand_made_pickles(void) {
    /* Four levels of 200 entries all naming the same sub-dict: 1.6e9 names
     * if walked; refused at once. */
    static uint8_t p[16384]; size_t n = 0;
    p[n++] = 0x80; p[n++] = 2; p[n++] = '}'; p[n++] = 'q'; p[n++] = 0;
    for (int level = 1; level <= 4; level++) {
        p[n++] = '}'; p[n++] = 'q'; p[n++] = (uint8_t)level; p[n++] = '(';
        for (int k = 0; k < 200; k++) {
            p[n++] = 'X'; p[n++] = 2; p[n++] = 0; p[n++] = 0; p[n++] = 0;
            p[n++] = (uint8_t)('a' + k / 26); p[n++] = (uint8_t)('a' + k % 26);
            p[n++] = 'h'; p[n++] = (uint8_t)(level - 1);
        }
        p[n++] = 'u';
    }
    p[n++] = '.';
    double t0 = adm_now();
    CHECK(load_pickle(p, n) != 0 && strstr(adm_last_error(), "over and over"), "shared sub-dicts: %s", adm_last_error());
    CHECK(adm_now() - t0 < 1.0, "took %.1f s", adm_now() - t0);

    static const struct { const char *pkl; size_t len; const char *err; } cases[] = {
        {"\x80\x02.", 3, "underflow"},                                /* STOP on an empty stack */
        {"\x80\x02h\x05.", 5, "memo index 5 not defined"},
        {"\x80\x02]q\x00.", 6, "not a state dict"},                  /* a list */
        {"\x80\x02}q\x00.", 6, "no tensors"},                       /* an empty dict */
        {"\x80\x02}X\x01\x00\x00\x00" "aK\x05s.", 13, "not a tensor"},    /* {'a': 5} */
        {"\x80\x02" "cbuiltins\neval\n.", 18, "builtins.eval"},
        {"\x80\x02" "ctorch\nShortStorage\n.", 22, "torch.ShortStorage is not supported"},
        {"\x80\x02X\xff\xff\xff\x7f.", 8, "past the end"},
        {"\x80\x02\x8a\x09\x01\x01\x01\x01\x01\x01\x01\x01\x01.", 14, "too large"},
        {"\x80\x02(((((t", 8, "without STOP"},
        {"\x80\x09}.", 4, "protocol 9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CHECK(load_pickle((const uint8_t *)cases[i].pkl, cases[i].len) != 0, "case %zu accepted", i);
        CHECK(strstr(adm_last_error(), cases[i].err) && strstr(adm_last_error(), "hand.pkl"),
              "case %zu: wanted '%s', got: %s", i, cases[i].err, adm_last_error());
    }
}

/* A one-tensor state dict {'w': _rebuild_tensor_v2(storage '0' of 16 floats,
 * offset, shape, stride, False, OrderedDict())} as torch writes it. */
static size_t tensor_pickle(uint8_t *p, int64_t offset, int nd, const int64_t *shape, const int64_t *stride) {
    size_t n = 0;
#define PUT(str) do { memcpy(p + n, str, sizeof(str) - 1); n += sizeof(str) - 1; } while (0)
#define INT64(v) do { int64_t v_ = (v); p[n++] = 0x8a; p[n++] = 8; memcpy(p + n, &v_, 8); n += 8; } while (0)
    PUT("\x80\x02" "ccollections\nOrderedDict\n)R" "X\x01\x00\x00\x00" "w");
    PUT("ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00" "storage" "ctorch\nFloatStorage\n");
    PUT("X\x01\x00\x00\x00" "0" "X\x03\x00\x00\x00" "cpu" "K\x10tQ");
    INT64(offset);
    p[n++] = '(';
    for (int d = 0; d < nd; d++) INT64(shape[d]);
    p[n++] = 't'; p[n++] = '(';
    for (int d = 0; d < nd; d++) INT64(stride[d]);
    PUT("t\x89" "ccollections\nOrderedDict\n)RtRs.");
#undef PUT
#undef INT64
    return n;
}

static void test_views_and_strides(void) {
    uint8_t p[1024]; size_t n, zl; adm_tensor_set s;
    int64_t sh[3] = {4, 4, 0}, st[3] = {4, 1, 0};
    uint8_t *zip = fuzz_wrap_pickle(p, n = tensor_pickle(p, 0, 2, sh, st), &zl);
    REQUIRE(adm_pt_load_mem("view", zip, zl, &s) == 0, "%s", adm_last_error());
    CHECK(s.n == 1 && s.t[0].nbytes == 64 && ((uint8_t *)s.t[0].data)[1] == 37 + 11, "4x4 view of storage 0");
    adm_tensors_free(&s); free(zip);
    int64_t sh2[3] = {0, (int64_t)1 << 40, (int64_t)1 << 40}, st2[3] = {1, 1, 1};
    zip = fuzz_wrap_pickle(p, n = tensor_pickle(p, 0, 3, sh2, st2), &zl);
    REQUIRE(adm_pt_load_mem("empty", zip, zl, &s) == 0, "%s", adm_last_error());   /* empty: any strides */
    CHECK(s.t[0].nbytes == 0, "empty tensor");
    adm_tensors_free(&s); free(zip);
    static const struct { int64_t off, sh0, sh1, st0, st1; const char *err; } bad[] = {
        {10, 8, 1, 1, 1, "needs elements 10..18 of storage 0, which holds 16"},
        {-1, 4, 1, 1, 1, "needs elements"},
        {0, 4, 4, 1, 4, "non-contiguous"},
        {0, 4, -4, 1, 1, "absurd dimension"},
        {0, (int64_t)1 << 39, (int64_t)1 << 39, 1, 1, "overflow"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t b_sh[2] = {bad[i].sh0, bad[i].sh1}, b_st[2] = {bad[i].st0, bad[i].st1};
        zip = fuzz_wrap_pickle(p, n = tensor_pickle(p, bad[i].off, 2, b_sh, b_st), &zl);
        CHECK(adm_pt_load_mem("bad", zip, zl, &s) != 0 && strstr(adm_last_error(), bad[i].err),
              "case %zu: wanted '%s', got %s", i, bad[i].err, adm_last_error());
        free(zip);
    }
}

/* A legacy (non-zip) torch file as torch.save(..., _use_new_zipfile_serialization=False)
 * writes it: magic, protocol 1001, sys_info, the state dict {'w': storage 'a'
 * (4 floats, viewed 2x2), 'v': storage 'b' (3 floats)}, the key list, then
 * each storage as int64 numel + raw bytes.  The knobs make one bad variant each. */
typedef struct {
    int proto;              /* 1001 */
    int little;             /* 1 */
    const char *viewmeta; size_t nview;   /* pickle bytes for view_metadata: "N" */
    const char *keys; size_t nkeys;       /* pickle of the key list: ['a', 'b'] */
    int64_t numel_a;        /* the count written before storage a: 4 */
    int shape0;             /* first dim of w: 2 */
} legacy_opts;

static size_t legacy_file(uint8_t *p, legacy_opts o) {
    size_t n = 0;
#define PUT(str) do { memcpy(p + n, str, sizeof(str) - 1); n += sizeof(str) - 1; } while (0)
#define PUTN(s, len) do { memcpy(p + n, s, len); n += len; } while (0)
    PUT("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.");
    PUT("\x80\x02M"); p[n++] = (uint8_t)o.proto; p[n++] = (uint8_t)(o.proto >> 8); p[n++] = '.';
    PUT("\x80\x02}(X\x10\x00\x00\x00protocol_versionM\xe9\x03X\x0d\x00\x00\x00little_endian");
    p[n++] = o.little ? 0x88 : 0x89;
    PUT("X\x0a\x00\x00\x00type_sizes}(X\x05\x00\x00\x00shortK\x02X\x03\x00\x00\x00intK\x04X\x04\x00\x00\x00longK\x04uu.");
    PUT("\x80\x02" "ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00w");
    PUT("ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "aX\x03\x00\x00\x00" "cpuK\x04");
    PUTN(o.viewmeta, o.nview);
    PUT("tQK\x00(K"); p[n++] = (uint8_t)o.shape0; PUT("K\x02tK\x02K\x01\x86\x89)tR");
    PUT("X\x01\x00\x00\x00v" "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n");
    PUT("X\x01\x00\x00\x00" "bX\x03\x00\x00\x00" "cpuK\x03NtQK\x00K\x03\x85K\x01\x85\x89)tRu.");
    PUTN(o.keys, o.nkeys);
    int64_t na = o.numel_a, nb = 3;
    float a[4] = {1.5f, -2, 3, 4.25f}, b[3] = {7, 8, 9};
    memcpy(p + n, &na, 8); n += 8; memcpy(p + n, a, 16); n += 16;
    memcpy(p + n, &nb, 8); n += 8; memcpy(p + n, b, 12); n += 12;
#undef PUT
#undef PUTN
    return n;
}

#define L_(lit) lit, sizeof(lit) - 1
static const legacy_opts legacy_good = {1001, 1, L_("N"), L_("(X\x01\x00\x00\x00" "aX\x01\x00\x00\x00" "bl."), 4, 2};

static void test_legacy_small(void) {
    uint8_t p[2048]; adm_tensor_set s;
    size_t n = legacy_file(p, legacy_good);
    REQUIRE(adm_pt_load_mem("legacy", p, n, &s) == 0, "%s", adm_last_error());
    REQUIRE(s.n == 2, "two tensors, got %d", s.n);
    const adm_tensor *w = adm_tensors_find(&s, "w"), *v = adm_tensors_find(&s, "v");
    REQUIRE(w && v, "w and v");
    CHECK(w->dtype == ADM_F32 && w->ndim == 2 && w->shape[0] == 2 && w->shape[1] == 2 && w->nbytes == 16, "w 2x2 f32");
    const float *wf = w->data, *vf = v->data;
    CHECK(wf[0] == 1.5f && wf[1] == -2 && wf[3] == 4.25f, "w values %g %g %g", wf[0], wf[1], wf[3]);
    CHECK(v->ndim == 1 && v->shape[0] == 3 && vf[0] == 7 && vf[2] == 9, "v values");
    adm_tensors_free(&s);
    /* The same bytes through a file (content dispatch) give the same tensors. */
    char tmp[] = "/tmp/admd_test_legacy_XXXXXX";
    int fd = mkstemp(tmp); REQUIRE(fd >= 0, "mkstemp");
    REQUIRE(write(fd, p, n) == (ssize_t)n, "write"); close(fd);
    REQUIRE(adm_tensors_load(tmp, &s) == 0, "%s", adm_last_error());
    CHECK(s.n == 2 && ((const float *)adm_tensors_find(&s, "w")->data)[3] == 4.25f, "from the file");
    adm_tensors_free(&s);
    remove(tmp);
    /* Every truncation fails with an error (and no crash). */
    int ok = 1;
    for (size_t k = 0; k < n; k++)
        if (adm_pt_load_mem("cut", p, k, &s) == 0) { ok = 0; adm_tensors_free(&s); printf("  prefix of %zu bytes loads\n", k); break; }
    CHECK(ok, "every truncation refused");
}

/* One bad file per failure class, each with its own message. */
static void test_legacy_bad(void) {
    static const struct { legacy_opts o; const char *err; } bad[] = {
        {{1000, 1, L_("N"), L_("(X\x01\x00\x00\x00" "aX\x01\x00\x00\x00" "bl."), 4, 2}, "unknown protocol version"},
        {{1001, 0, L_("N"), L_("(X\x01\x00\x00\x00" "aX\x01\x00\x00\x00" "bl."), 4, 2}, "little-endian"},
        {{1001, 1, L_("(X\x01\x00\x00\x00" "cK\x00K\x04t"), L_("(X\x01\x00\x00\x00" "aX\x01\x00\x00\x00" "bl."), 4, 2}, "storage views"},
        {{1001, 1, L_("N"), L_("}."), 4, 2}, "storage keys are not a list"},
        {{1001, 1, L_("N"), L_("(K\x01l."), 4, 2}, "storage key is not a string"},
        {{1001, 1, L_("N"), L_("(X\x01\x00\x00\x00" "aX\x01\x00\x00\x00" "zl."), 4, 2}, "listed but no tensor uses it"},
        {{1001, 1, L_("N"), L_("(X\x01\x00\x00\x00" "aX\x01\x00\x00\x00" "al."), 4, 2}, "listed twice"},
        {{1001, 1, L_("N"), L_("(X\x01\x00\x00\x00" "al."), 4, 2}, "storage b is not in the file's list"},
        {{1001, 1, L_("N"), L_("(X\x01\x00\x00\x00" "aX\x01\x00\x00\x00" "bl."), 5, 2}, "holds 5 elements, the pickle claims 4"},
        {{1001, 1, L_("N"), L_("(X\x01\x00\x00\x00" "aX\x01\x00\x00\x00" "bl."), 4, 3}, "needs elements 0..6 of storage a"},
        {{1001, 1, L_("N"), L_("(X\x01\x00\x00\x00" "aX\x01\x00\x00\x00" "bl"), 4, 2}, "storage keys"},
    };
    uint8_t p[2048]; adm_tensor_set s;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t n = legacy_file(p, bad[i].o);
        CHECK(adm_pt_load_mem("bad", p, n, &s) != 0 && strstr(adm_last_error(), bad[i].err),
              "case %zu: wanted '%s', got %s", i, bad[i].err, adm_last_error());
    }
    /* Cut inside the storages: named as a truncation. */
    size_t n = legacy_file(p, legacy_good);
    CHECK(adm_pt_load_mem("cut", p, n - 5, &s) != 0 && strstr(adm_last_error(), "truncated in storage b"), "%s", adm_last_error());
    CHECK(adm_pt_load_mem("cut", p, n - 20, &s) != 0 && strstr(adm_last_error(), "truncated before storage b"), "%s", adm_last_error());
    /* A pickle that is not a torch file, through a file. */
    char tmp[] = "/tmp/admd_test_legacy_XXXXXX";
    int fd = mkstemp(tmp); REQUIRE(fd >= 0, "mkstemp");
    static const uint8_t bare[] = {0x80, 0x02, 'K', 0x01, '.'};
    REQUIRE(write(fd, bare, sizeof bare) == (ssize_t)sizeof bare, "write"); close(fd);
    CHECK(adm_tensors_load(tmp, &s) != 0 && strstr(adm_last_error(), "bare pickle") && strstr(adm_last_error(), tmp), "%s", adm_last_error());
    remove(tmp);
}

/* pytorch-fid's Inception weights in the legacy format (the reference
 * inception_a, xz-compressed in tests/data: unpacked to a temporary folder). */
static void test_legacy_inception(void) {
    char p[512], dir[] = "/tmp/admd_test_incep_XXXXXX", cmd[1200], out[600];
    test_path(p, sizeof p, "reference/inception_a/inception.pth.xz");
    if (access(p, R_OK) != 0) SKIP("%s not present", p);
    REQUIRE(mkdtemp(dir), "mkdtemp");
    snprintf(out, sizeof out, "%s/inception.pth", dir);
    snprintf(cmd, sizeof cmd, "xz -dc '%s' > '%s'", p, out);
    REQUIRE(system(cmd) == 0, "%s failed (xz-utils installed?)", cmd);
    adm_tensor_set s;
    int rc = adm_tensors_load(out, &s);
    remove(out); rmdir(dir);
    REQUIRE(rc == 0, "%s", adm_last_error());
    CHECK(s.n == 566, "566 tensors (94 conv+BN x 6, fc x 2), got %d", s.n);
    const adm_tensor *t = adm_tensors_find(&s, "Conv2d_1a_3x3.conv.weight");
    CHECK(t && t->dtype == ADM_F32 && t->ndim == 4 && t->shape[0] == 32 && t->shape[1] == 3 && t->shape[3] == 3, "first conv");
    t = adm_tensors_find(&s, "Mixed_7c.branch3x3dbl_3b.conv.weight");
    CHECK(t && t->ndim == 4 && t->shape[0] == 384 && t->shape[1] == 384 && t->shape[2] == 3 && t->shape[3] == 1, "3x1 conv");
    t = adm_tensors_find(&s, "fc.weight");
    CHECK(t && t->ndim == 2 && t->shape[0] == 1008 && t->shape[1] == 2048, "fc 1008x2048");
    t = adm_tensors_find(&s, "Conv2d_1a_3x3.bn.num_batches_tracked");
    CHECK(t && t->dtype == ADM_I64 && t->ndim == 0 && t->nbytes == 8, "num_batches_tracked: int64 scalar");
    /* Data landed where it belongs: every running_var is positive and finite,
     * every conv weight is a multiple of 2^-12 (how the reference drew them). */
    int bad = 0;
    for (int i = 0; i < s.n; i++) {
        const float *f = s.t[i].data;
        size_t cnt = s.t[i].nbytes / 4;
        if (strstr(s.t[i].name, "running_var"))
            for (size_t k = 0; k < cnt; k++) bad += !(f[k] > 0 && f[k] < 1e30f);
        if (strstr(s.t[i].name, "conv.weight"))
            for (size_t k = 0; k < cnt; k++) bad += f[k] * 4096.0f != floorf(f[k] * 4096.0f);
    }
    CHECK(bad == 0, "%d implausible values", bad);
    adm_tensors_free(&s);
}

/* The index (header / pickle only) names the same tensors as a full load,
 * with no data; the device bytes of the fp16 MNIST UNet are computed from
 * those tensors (fp32 on the device), not from its file size: they equal
 * the fp32 original's and are about twice the fp16 file. */
static void index_matches_load(const char *path) {
    adm_tensor_set full, idx;
    REQUIRE(adm_tensors_load(path, &full) == 0, "%s: %s", path, adm_last_error());
    if (adm_tensors_index(path, &idx) != 0) { adm_tensors_free(&full); CHECK(0, "%s: %s", path, adm_last_error()); return; }
    CHECK(idx.n == full.n && idx.blob == NULL, "%s: %d vs %d tensors", path, idx.n, full.n);
    size_t want = 0;
    for (int i = 0; i < full.n && i < idx.n; i++) {
        const adm_tensor *a = &full.t[i], *b = &idx.t[i];
        CHECK(!strcmp(a->name, b->name) && a->dtype == b->dtype && a->ndim == b->ndim && a->nbytes == b->nbytes &&
              !memcmp(a->shape, b->shape, sizeof a->shape) && b->data == NULL, "%s: tensor %d (%s)", path, i, a->name);
        want += ((size_t)adm_tensor_numel(a) * 4 + 255) & ~(size_t)255;
    }
    size_t got = 0;
    CHECK(adm_weights_file_bytes(path, &got) == 0 && got == want, "%s: %zu device bytes, wanted %zu", path, got, want);
    adm_tensors_free(&full);
    adm_tensors_free(&idx);
}

static void test_index_and_device_bytes(void) {
    char p16[512], p32[512];
    snprintf(p16, sizeof p16, "models/mnist/unet.safetensors");
    test_path(p32, sizeof p32, "mnist/unet.pt");
    index_matches_load(p16);
    index_matches_load(p32);
    size_t b16 = 0, b32 = 0, file16 = 0;
    REQUIRE(adm_weights_file_bytes(p16, &b16) == 0 && adm_weights_file_bytes(p32, &b32) == 0, "%s", adm_last_error());
    REQUIRE(adm_check_input_file(p16, "a weights file", &file16) == 0, "%s", adm_last_error());
    CHECK(b16 == b32, "fp16 file %zu device bytes, fp32 original %zu", b16, b32);
    CHECK(b16 > file16 * 19 / 10, "fp16: %zu device bytes for a %zu-byte file", b16, file16);
    printf("  mnist unet: %zu-byte fp16 file, %zu device bytes\n", file16, b16);
    adm_tensor_set bad;
    CHECK(adm_tensors_index("tests/data/pt/truncated_nonexistent.pt", &bad) != 0, "a missing file indexed");
}

int main(void) {
    RUN(test_reference_param);
    RUN(test_reference_flat);
    RUN(test_reference_plain);
    RUN(test_reference_half);
    RUN(test_mnist_models);
    RUN(test_flat_shares_storage);
    RUN(test_protocol4_every_dtype);
    RUN(test_zip64_prefix);
    RUN(test_mem_equals_file);
    RUN(test_safetensors_read_write);
    RUN(test_bad_inputs);
    RUN(test_every_truncation);
    RUN(test_bad_safetensors);
    RUN(test_hand_made_pickles);
    RUN(test_views_and_strides);
    RUN(test_legacy_small);
    RUN(test_legacy_bad);
    RUN(test_legacy_inception);
    RUN(test_index_and_device_bytes);
    CHECK_EXIT();
}
