/* PCG32 (O'Neill's permuted congruential generator, XSH-RR variant).
 *
 * The only source of randomness in a run. Each purpose (network link, node,
 * client, nemesis, script) draws from its own stream, derived from the run
 * seed and a stable stream id, so adding a client does not change what any
 * other stream draws. */
#ifndef SIM_PCG_H
#define SIM_PCG_H

#include <stdint.h>

typedef struct pcg32 {
    uint64_t state;
    uint64_t inc;
} pcg32;

/* Stable stream ids. Per-entity streams add the entity index to a base. */
#define PCG_STREAM_SCRIPT UINT64_C(1)          /* Lua math.random */
#define PCG_STREAM_NEMESIS UINT64_C(2)
#define PCG_STREAM_WORKLOAD UINT64_C(3)        /* workload-wide draws */
#define PCG_STREAM_SWARM UINT64_C(4)           /* sim run --swarm: the drawn configuration */
#define PCG_STREAM_NODE UINT64_C(0x10000)      /* + node index */
#define PCG_STREAM_CLIENT UINT64_C(0x20000)    /* + client index */
#define PCG_STREAM_LINK UINT64_C(0x100000000)  /* + from * 2^20 + to */

/* Seed as in the reference implementation (pcg32_srandom_r). */
void pcg32_seed(pcg32 *rng, uint64_t initstate, uint64_t initseq);

/* Seed the stream with id stream_id of the run seeded with run_seed. */
void pcg32_stream(pcg32 *rng, uint64_t run_seed, uint64_t stream_id);

uint32_t pcg32_next(pcg32 *rng);
uint64_t pcg32_next64(pcg32 *rng);

/* A uniform draw in [0, bound) without modulo bias; bound 0 returns 0. */
uint32_t pcg32_below(pcg32 *rng, uint32_t bound);
uint64_t pcg32_below64(pcg32 *rng, uint64_t bound);

/* A uniform integer in [lo, hi], both inclusive; requires lo <= hi. */
int64_t pcg32_range(pcg32 *rng, int64_t lo, int64_t hi);

/* A uniform double in [0, 1) with 53 random bits. */
double pcg32_unit(pcg32 *rng);

/* True with probability p (p <= 0 never draws, p >= 1 never draws). */
int pcg32_chance(pcg32 *rng, double p);

/* splitmix64 finaliser: a good 64-bit mixing function. */
uint64_t pcg_mix64(uint64_t x);

#endif
