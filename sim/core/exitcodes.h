/* The exit codes of the sim command. Documented in `sim --help` and docs/sim.1.
 * 77 is avoided on purpose: meson reads it as "test skipped". */
#ifndef SIM_EXITCODES_H
#define SIM_EXITCODES_H

enum sim_exit {
    SIM_EXIT_OK = 0,          /* ran, and every expectation held */
    SIM_EXIT_FAILED = 1,      /* an expectation failed / replay diverged / violation */
    SIM_EXIT_USAGE = 2,       /* bad command line */
    SIM_EXIT_UNKNOWN = 3,     /* a checker could not decide within its budget */
    SIM_EXIT_SCENARIO = 4,    /* the scenario is wrong: Lua error, bad argument, budget */
    SIM_EXIT_IO = 5,          /* a file could not be read or written */
    SIM_EXIT_BAD_TRACE = 6,   /* an input trace or history is corrupt */
    SIM_EXIT_INTERNAL = 70,   /* a bug in sim, or out of memory */
    SIM_EXIT_INTERRUPTED = 130, /* SIGINT or SIGTERM: stopped cleanly, the trace ends there */
};

#endif
