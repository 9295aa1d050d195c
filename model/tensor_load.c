/* tensor_load.c — open any supported weights file by its content:
 * a zip archive ("PK\3\4" or an empty archive's "PK\5\6") or a pickle
 * (torch's legacy pre-1.6 format starts with one) is a torch .pt
 * checkpoint, a file starting with a plausible safetensors header length
 * and '{' is .safetensors, anything else is refused with the file named. */
#include "tensor.h"
#include "util.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The format of a file from its first bytes (got of them) and its size:
 * 1 torch .pt (zip or legacy), 2 safetensors, -1 + adm_error naming label. */
static int sniff(const char *label, const uint8_t *head, size_t got, uint64_t size) {
    if (got >= 4 && head[0] == 'P' && head[1] == 'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
        return 1;
    if (got >= 2 && head[0] == 0x80 && head[1] <= 5) return 1;    /* a pickle: torch's legacy format */
    if (got >= 9 && head[8] == '{') {
        uint64_t hlen = 0;
        for (int k = 7; k >= 0; k--) hlen = hlen << 8 | head[k];
        if (hlen <= size) return 2;
    }
    return adm_error("%s: not a weights file (neither a torch .pt zip archive nor .safetensors)", label);
}

/* Load (index_only 0) or index (1) the file at path, by its content. */
static int tensors_open(const char *path, int index_only, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    size_t size;
    if (adm_check_input_file(path, "a weights file", &size) != 0) return -1;

    uint8_t head[9] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return adm_error("%s: %s", path, strerror(errno));
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);

    int kind = sniff(path, head, got, size);
    if (kind == 1) return index_only ? adm_pt_index(path, out) : adm_pt_load(path, out);
    if (kind == 2) return index_only ? adm_safetensors_index(path, out) : adm_safetensors_load(path, out);
    return -1;
}

int adm_tensors_load(const char *path, adm_tensor_set *out) { return tensors_open(path, 0, out); }
int adm_tensors_index(const char *path, adm_tensor_set *out) { return tensors_open(path, 1, out); }

int adm_tensors_load_mem(const char *label, const uint8_t *buf, size_t len, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    if (len == 0) return adm_error("%s: empty file", label);
    int kind = sniff(label, buf, len < 9 ? len : 9, len);
    return kind == 1 ? adm_pt_load_mem(label, buf, len, out)
         : kind == 2 ? adm_safetensors_load_mem(label, buf, len, out) : -1;
}
