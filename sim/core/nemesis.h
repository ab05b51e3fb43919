/* The nemesis: a random fault schedule drawn from the seed's nemesis stream. */
#ifndef SIM_NEMESIS_H
#define SIM_NEMESIS_H

#include "simtypes.h"

enum nemesis_fault {
    NEMESIS_PARTITION = 1 << 0,   /* random split into two groups */
    NEMESIS_ISOLATE = 1 << 1,     /* cut one node off */
    NEMESIS_CRASH = 1 << 2,       /* crash a node, restart it later */
    NEMESIS_PAUSE = 1 << 3,       /* stop-the-world pause */
    NEMESIS_CLOCK = 1 << 4,       /* clock jump or drift on one node */
    NEMESIS_ALL = (1 << 5) - 1,
};

struct nemesis {
    unsigned faults;         /* mask of nemesis_fault */
    double intensity;        /* mean faults started per second of virtual time */
    sim_time start;          /* no fault before */
    sim_time stop;           /* no fault after; every fault is healed by then */
    sim_time min_duration;   /* how long one fault lasts: uniform in [min, max] */
    sim_time max_duration;
    sim_time max_clock_jump; /* clock faults: offset in [-max, max] */
    double max_drift;        /* clock faults: drift in [-max, max] (0.01 = 1%) */
};

void nemesis_defaults(struct nemesis *n);

#endif
