/* Fuzz the scenario loader: arbitrary Lua text through the sandbox and the
 * whole scenario API, with a small instruction budget, memory limit and
 * event limit so every input ends quickly. Any input must end in a run or
 * one clean error; none may crash or escape the sandbox. */
#include "fuzz.h"
#include "lua/lsim.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lsim_result res;
    const char *path = fuzz_scratch(data, size, ".lua");
    struct lsim_options opt;
    memset(&opt, 0, sizeof opt);
    opt.scenario = path;
    opt.seed = 1;
    opt.quiet = true;
    opt.limits.instructions = 2000000;
    opt.limits.memory = (size_t)32 << 20;
    opt.max_events = 200000;
    lsim_run(&opt, &res);
    return 0;
}
