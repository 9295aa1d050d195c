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

int adm_tensors_load(const char *path, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    size_t size;
    if (adm_check_input_file(path, "a weights file", &size) != 0) return -1;

    uint8_t head[9] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return adm_error("%s: %s", path, strerror(errno));
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);

    if (got >= 4 && head[0] == 'P' && head[1] == 'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
        return adm_pt_load(path, out);
    if (got >= 2 && head[0] == 0x80 && head[1] <= 5) return adm_pt_load(path, out);
    if (got == 9 && head[8] == '{') {
        uint64_t hlen = 0;
        for (int k = 7; k >= 0; k--) hlen = hlen << 8 | head[k];
        if (hlen <= (uint64_t)size) return adm_safetensors_load(path, out);
    }
    return adm_error("%s: not a weights file (neither a torch .pt zip archive nor .safetensors)", path);
}
