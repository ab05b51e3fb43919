/* Fuzz the three history readers (a sim trace, a Jepsen log, a Porcupine
 * key-value log): the first byte picks the reader, the rest is the file.
 * Any input must give a history or one clean error, never a crash. */
#include "fuzz.h"
#include "check/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum hist_format formats[] = { HIST_FORMAT_TRACE, HIST_FORMAT_JEPSEN,
                                                HIST_FORMAT_PORCUPINE_KV };
    if (size < 1)
        return 0;
    enum hist_format f = formats[data[0] % 3];
    hist *h = NULL;
    char err[512];
    int rc = hist_parse(f, (const char *)data + 1, size - 1, "fuzz", &h, err, sizeof err);
    if (rc == 0) {
        /* walk it as a checker would */
        for (size_t i = 0; i < hist_count(h); i++) {
            const struct hist_op *op = hist_op(h, i);
            (void)hist_str(h, op->key);
            if (op->f == HIST_TXN)
                (void)hist_micro(h, op);
        }
        hist_free(h);
    }
    return 0;
}
