/* test_labels.c — class names (model/labels.c): the built-in ImageNet list
 * (1000 names, 263 "Pembroke, Pembroke Welsh corgi") and MNIST digits,
 * label files (comments, blanks, bad lines), finding a class by name
 * (exact, synonym, unique substring; ambiguous and unknown names with
 * their messages), the names in a real SQLite spool (models.labels and the
 * schema's check), and the adm:class-name chunk of a PNG written as admd
 * writes one and decoded again by libpng (tEXt, and iTXt for UTF-8), and
 * 3000 random texts through every function (no crash; ASan in make asan). */
#include "check.h"
#include "job_files.h"
#include "labels.h"
#include "png_file.h"
#include "spool.h"
#include "util.h"
#include <unistd.h>

static void test_imagenet_builtin(void) {
    char *text = adm_labels_builtin("imagenet");
    REQUIRE(text, "%s", adm_last_error());
    adm_labels l;
    REQUIRE(adm_labels_parse(text, &l) == 0, "%s", adm_last_error());
    CHECK(l.n == 1000, "%d names", l.n);
    CHECK(!strcmp(adm_labels_name(&l, 0), "tench, Tinca tinca"), "0: %s", adm_labels_name(&l, 0));
    CHECK(!strcmp(adm_labels_name(&l, 207), "golden retriever"), "207: %s", adm_labels_name(&l, 207));
    CHECK(!strcmp(adm_labels_name(&l, 263), "Pembroke, Pembroke Welsh corgi"), "263: %s", adm_labels_name(&l, 263));
    CHECK(!strcmp(adm_labels_name(&l, 999), "toilet tissue, toilet paper, bathroom tissue"), "999: %s",
          adm_labels_name(&l, 999));
    CHECK(adm_labels_name(&l, 1000) == NULL && adm_labels_name(&l, -1) == NULL, "outside the list");
    char sh[64];
    adm_labels_short(&l, 263, sh, sizeof sh);
    CHECK(!strcmp(sh, "Pembroke"), "short name '%s'", sh);
    char line[ADM_LABEL_MAX + 1];
    CHECK(adm_labels_line(text, 263, line, sizeof line) == 0 && !strcmp(line, "Pembroke, Pembroke Welsh corgi"),
          "line 263 '%s'", line);
    CHECK(adm_labels_line(text, 999, line, sizeof line) == 0 && adm_labels_line(text, 1000, line, sizeof line) == -1,
          "last line / past it");
    CHECK(!strcmp(adm_labels_default(1000), "imagenet") && adm_labels_default(10) == NULL, "defaults");
    adm_labels_free(&l);
    free(text);
    text = adm_labels_builtin("mnist");
    REQUIRE(text && !strcmp(text, "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine"), "mnist: %s",
            text ? text : adm_last_error());
    free(text);
    CHECK(adm_labels_builtin("cifar") == NULL && strstr(adm_last_error(), "imagenet and mnist"), "%s", adm_last_error());
}

static void test_find(void) {
    char *text = adm_labels_builtin("imagenet");
    REQUIRE(text, "%s", adm_last_error());
    adm_labels l;
    REQUIRE(adm_labels_parse(text, &l) == 0, "%s", adm_last_error());
    int k = -1;
    /* the paper's demonstration: its own spelling, found as a part of the name, case ignored */
    CHECK(adm_labels_find(&l, "Pembroke Welsh Corgi", "im", &k) == 0 && k == 263, "corgi: %d %s", k, adm_last_error());
    CHECK(adm_labels_find(&l, "Pembroke, Pembroke Welsh corgi", "im", &k) == 0 && k == 263, "exact: %d", k);
    CHECK(adm_labels_find(&l, "  golden retriever ", "im", &k) == 0 && k == 207, "blanks trimmed: %d", k);
    /* a synonym beats the names that merely contain it: tiger (292), not tiger shark, tiger cat, ... */
    CHECK(adm_labels_find(&l, "Tiger", "im", &k) == 0 && k == 292, "tiger: %d %s", k, adm_last_error());
    CHECK(adm_labels_find(&l, "tabby", "im", &k) == 0 && k == 281, "tabby: %d", k);
    /* ambiguous: both corgis listed with their numbers */
    int rc = adm_labels_find(&l, "corgi", "im", &k);
    CHECK(rc == -1 && strstr(adm_last_error(), "matches 2 classes of model im") &&
          strstr(adm_last_error(), "263 'Pembroke, Pembroke Welsh corgi'") &&
          strstr(adm_last_error(), "264 'Cardigan, Cardigan Welsh corgi'"), "rc %d: %s", rc, adm_last_error());
    /* two classes with the same whole name */
    rc = adm_labels_find(&l, "crane", "im", &k);
    CHECK(rc == -1 && strstr(adm_last_error(), "134 'crane', 517 'crane'"), "crane: %s", adm_last_error());
    /* many: the first ones and a count */
    rc = adm_labels_find(&l, "e", "im", &k);
    CHECK(rc == -1 && strstr(adm_last_error(), " more (give the number"), "e: %s", adm_last_error());
    CHECK(strlen(adm_last_error()) < 1000, "message of %zu bytes", strlen(adm_last_error()));
    rc = adm_labels_find(&l, "xyzzy", "im", &k);
    CHECK(rc == -2 && strstr(adm_last_error(), "no class of model im is called 'xyzzy'"), "rc %d: %s", rc,
          adm_last_error());
    CHECK(adm_labels_find(&l, "   ", "im", &k) == -1, "empty name accepted");
    adm_labels_free(&l);
    free(text);
    adm_labels none = {0};
    CHECK(adm_labels_find(&none, "seven", "m", &k) == -1 && strstr(adm_last_error(), "model m has no class names"),
          "%s", adm_last_error());
}

static void test_label_files(void) {
    char *out = NULL;
    int n = 0;
    CHECK(adm_labels_normalize("# digits\r\n zero \r\none\n\n# end\n\n", "f", &out, &n) == 0 && n == 2 &&
          !strcmp(out, "zero\none"), "normalised '%s' (%d): %s", out ? out : "", n, adm_last_error());
    free(out);
    CHECK(adm_labels_normalize("a\n\nb\n", "f.txt", &out, &n) != 0 &&
          strstr(adm_last_error(), "f.txt line 2: empty line between class names"), "%s", adm_last_error());
    CHECK(adm_labels_normalize("a\tb\n", "f", &out, &n) != 0 && strstr(adm_last_error(), "control character 0x09"),
          "a tab inside: %s", adm_last_error());
    CHECK(adm_labels_normalize("a\x01 b\n", "f", &out, &n) != 0 && strstr(adm_last_error(), "control character"),
          "%s", adm_last_error());
    CHECK(adm_labels_normalize("# only comments\n\n", "f", &out, &n) != 0 && strstr(adm_last_error(), "no class names"),
          "%s", adm_last_error());
    char big[ADM_LABEL_MAX + 10];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK(adm_labels_normalize(big, "f", &out, &n) != 0 && strstr(adm_last_error(), "at most"), "%s", adm_last_error());
    /* a real file, and a folder where a file was expected */
    char path[] = "/tmp/adm_labels_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp");
    const char body[] = "# mine\nchat\nchien\n";
    CHECK(write(fd, body, sizeof body - 1) == (ssize_t)(sizeof body - 1), "write");
    close(fd);
    CHECK(adm_labels_read_file(path, &out, &n) == 0 && n == 2 && !strcmp(out, "chat\nchien"), "file: %s",
          adm_last_error());
    free(out);
    unlink(path);
    CHECK(adm_labels_read_file("/tmp", &out, &n) != 0, "a folder read as labels");
}

static void test_spool_labels(void) {
    char dir[] = "/tmp/adm_labels_spool_XXXXXX", path[300];
    REQUIRE(mkdtemp(dir), "mkdtemp");
    snprintf(path, sizeof path, "%s/s.db", dir);
    adm_spool *s = NULL;
    REQUIRE(adm_spool_open(path, ADM_SPOOL_CREATE | ADM_SPOOL_MIGRATE, &s) == 0, "%s", adm_last_error());
    adm_spool_model m;
    adm_spool_model_init(&m);
    snprintf(m.name, sizeof m.name, "im");
    snprintf(m.unet_path, sizeof m.unet_path, "/x/unet.pt");
    snprintf(m.unet_config, sizeof m.unet_config, "64x64");
    REQUIRE(adm_spool_model_add(s, &m, 0) == 0, "%s", adm_last_error());
    char *got = (char *)1;
    CHECK(adm_spool_model_labels(s, "im", &got) == 0 && got == NULL, "a new model has names");
    char *text = adm_labels_builtin("imagenet");
    REQUIRE(text, "%s", adm_last_error());
    CHECK(adm_spool_model_set_labels(s, "im", text) == 0, "%s", adm_last_error());
    CHECK(adm_spool_model_labels(s, "im", &got) == 0 && got && !strcmp(got, text), "read back");
    free(got);
    /* replacing the model keeps its names */
    CHECK(adm_spool_model_add(s, &m, 1) == 0 && adm_spool_model_labels(s, "im", &got) == 0 && got &&
          !strcmp(got, text), "names lost on replace");
    free(got);
    /* the schema's check: no CR */
    CHECK(adm_spool_model_set_labels(s, "im", "a\r\nb") != 0 && strstr(adm_last_error(), "models.labels"), "CR: %s",
          adm_last_error());
    CHECK(adm_spool_model_set_labels(s, "im", NULL) == 0 && adm_spool_model_labels(s, "im", &got) == 0 && !got,
          "cleared");
    CHECK(adm_spool_model_labels(s, "nope", &got) != 0 && strstr(adm_last_error(), "unknown model 'nope'"), "%s",
          adm_last_error());
    CHECK(adm_spool_model_set_labels(s, "nope", "a") != 0 && strstr(adm_last_error(), "unknown model"), "%s",
          adm_last_error());
    free(text);
    adm_spool_close(s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

/* One image's chunks as admd writes them, through a real PNG file and back. */
static void png_names(const char *labels, int klass, const char *want) {
    adm_spool_provenance p;
    memset(&p, 0, sizeof p);
    snprintf(p.model, sizeof p.model, "im");
    snprintf(p.sampler, sizeof p.sampler, "ddpm");
    snprintf(p.respacing, sizeof p.respacing, "50");
    p.labels = labels;
    adm_job_texts tx;
    adm_job_png_texts(&tx, &p, 5, 0, klass);
    uint8_t px[4 * 4 * 3];
    memset(px, 128, sizeof px);
    char path[] = "/tmp/adm_labels_png_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp");
    close(fd);
    REQUIRE(adm_png_save(path, NULL, px, 4, 4, 3, tx.t, tx.n, NULL, NULL) == 0, "%s", adm_last_error());
    adm_png_image img;
    REQUIRE(adm_png_read(path, &img) == 0, "%s", adm_last_error());
    const char *name = adm_png_text_get(&img, "adm:class-name");
    char num[16];
    snprintf(num, sizeof num, "%d", klass);
    CHECK(adm_png_text_get(&img, "adm:class") && !strcmp(adm_png_text_get(&img, "adm:class"), num), "adm:class");
    if (want) CHECK(name && !strcmp(name, want), "class %d: adm:class-name '%s', want '%s'", klass, name ? name : "(none)", want);
    else CHECK(!name, "class %d: a name '%s' where none was due", klass, name);
    /* the name sits right after the number */
    for (int i = 0; want && i + 1 < img.n_texts; i++)
        if (!strcmp(img.keys[i], "adm:class")) CHECK(!strcmp(img.keys[i + 1], "adm:class-name"), "order");
    adm_png_free(&img);
    unlink(path);
}

static void test_png_chunk(void) {
    char *text = adm_labels_builtin("imagenet");
    REQUIRE(text, "%s", adm_last_error());
    png_names(text, 263, "Pembroke, Pembroke Welsh corgi");
    png_names(text, 0, "tench, Tinca tinca");
    png_names(NULL, 263, NULL);                      /* a model without names: no chunk */
    png_names("zero\none", 5, NULL);                 /* a class past the list */
    png_names("caf\xc3\xa9\nna\xc3\xafve", 1, "na\xc3\xafve");   /* UTF-8: iTXt, read back the same */
    free(text);
}

/* Random bytes through every function (ASan watches in `make asan`): no
 * crash, and what normalize accepts parses back to as many names. */
static void test_random_text(void) {
    uint64_t st = 0x9e3779b97f4a7c15ull;
    const char alphabet[] = "ab, #\n\n\raabbZz\t\x01\xc3\xa9";
    int accepted = 0;
    for (int round = 0; round < 3000; round++) {
        char text[200];
        int len = (int)(st % 60);
        for (int i = 0; i < len; i++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            text[i] = alphabet[(st >> 33) % (sizeof alphabet - 1)];
        }
        text[len] = 0;
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        char *out = NULL;
        int n = 0;
        if (adm_labels_normalize(text, "r", &out, &n) != 0) continue;
        accepted++;
        adm_labels l;
        if (adm_labels_parse(out, &l) == 0) {
            CHECK(l.n == n, "round %d: %d names parsed, %d normalised", round, l.n, n);
            int k;
            char line[ADM_LABEL_MAX + 1], sh[16];
            for (int c = -1; c <= l.n; c++) {
                adm_labels_short(&l, c, sh, sizeof sh);
                CHECK((adm_labels_line(out, c, line, sizeof line) == 0) == (adm_labels_name(&l, c) != NULL),
                      "round %d: line %d", round, c);
            }
            if (adm_labels_find(&l, "a", "r", &k) == 0) CHECK(k >= 0 && k < l.n, "round %d: class %d", round, k);
            adm_labels_find(&l, text, "r", &k);
            adm_labels_free(&l);
        }
        free(out);
    }
    CHECK(accepted > 200, "only %d of 3000 texts were label lists", accepted);
    printf("  %d of 3000 random texts were label lists\n", accepted);
}

int main(void) {
    RUN(test_imagenet_builtin);
    RUN(test_find);
    RUN(test_label_files);
    RUN(test_spool_labels);
    RUN(test_png_chunk);
    RUN(test_random_text);
    CHECK_EXIT();
}
