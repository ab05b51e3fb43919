#include "pcg.h"

#define PCG_MULT 6364136223846793005ULL

uint32_t pcg32_next(pcg32 *rng)
{
    uint64_t old = rng->state;
    rng->state = old * PCG_MULT + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

void pcg32_seed(pcg32 *rng, uint64_t initstate, uint64_t initseq)
{
    rng->state = 0;
    rng->inc = (initseq << 1u) | 1u;
    pcg32_next(rng);
    rng->state += initstate;
    pcg32_next(rng);
}

uint64_t pcg_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void pcg32_stream(pcg32 *rng, uint64_t run_seed, uint64_t stream_id)
{
    pcg32_seed(rng, pcg_mix64(run_seed ^ pcg_mix64(stream_id)), pcg_mix64(stream_id + run_seed));
}

uint64_t pcg32_next64(pcg32 *rng)
{
    uint64_t hi = pcg32_next(rng);
    return (hi << 32) | pcg32_next(rng);
}

uint32_t pcg32_below(pcg32 *rng, uint32_t bound)
{
    if (bound == 0)
        return 0;
    /* Reject the lowest (2^32 mod bound) values so every residue is equally
     * likely. */
    uint32_t threshold = -bound % bound;
    for (;;) {
        uint32_t r = pcg32_next(rng);
        if (r >= threshold)
            return r % bound;
    }
}

uint64_t pcg32_below64(pcg32 *rng, uint64_t bound)
{
    if (bound == 0)
        return 0;
    if (bound <= UINT32_MAX)
        return pcg32_below(rng, (uint32_t)bound);
    uint64_t threshold = -bound % bound;
    for (;;) {
        uint64_t r = pcg32_next64(rng);
        if (r >= threshold)
            return r % bound;
    }
}

int64_t pcg32_range(pcg32 *rng, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (span == UINT64_MAX)
        return (int64_t)pcg32_next64(rng);
    return (int64_t)((uint64_t)lo + pcg32_below64(rng, span + 1));
}

double pcg32_unit(pcg32 *rng)
{
    return (double)(pcg32_next64(rng) >> 11) * 0x1.0p-53;
}

int pcg32_chance(pcg32 *rng, double p)
{
    if (p <= 0.0)
        return 0;
    if (p >= 1.0)
        return 1;
    return pcg32_unit(rng) < p;
}
