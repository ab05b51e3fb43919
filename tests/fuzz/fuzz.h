/* Shared by the fuzz targets: the entry point libFuzzer calls, and a file
 * the targets that need a path (a trace, a scenario) write each input to. */
#ifndef SIM_FUZZ_H
#define SIM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write the input to this process's scratch file (same path every call,
 * suffix like ".lua" or ".jsonl") and return the path. */
const char *fuzz_scratch(const uint8_t *data, size_t size, const char *suffix);

#endif
