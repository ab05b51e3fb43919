/* Basic types shared by every module: virtual time and its units. */
#ifndef SIM_SIMTYPES_H
#define SIM_SIMTYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Virtual time in integer nanoseconds. int64 covers 292 years; traces stay
 * exact in JSON doubles up to 2^53 ns (104 days) of simulated time. */
typedef int64_t sim_time;

#define SIM_NS ((sim_time)1)
#define SIM_US ((sim_time)1000)
#define SIM_MS ((sim_time)1000000)
#define SIM_S ((sim_time)1000000000)
#define SIM_TIME_MAX INT64_MAX

/* The most simulated time a run may cover: beyond 2^53 ns a trace reader
 * using doubles would lose nanoseconds. */
#define SIM_TIME_LIMIT ((sim_time)1 << 53)

#endif
