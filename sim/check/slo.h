/* slo: service-level objectives declared by expect{slo = {...}} and judged
 * on the client operations of a trace.
 *
 * A scenario's expect{slo = {availability = 0.999, p99 = ms(50)}} writes one
 * "slo" line into the trace (docs/trace-format.md); the trace facts keep
 * those lines (trace_facts.slo) and slo_judge decides each one on the
 * history, so sim run, sim check and sim report give the same verdict. */
#ifndef SIM_SLO_H
#define SIM_SLO_H

#include "checker.h"

/* The latency percentiles an objective can bound, in this order. */
enum { SLO_P50, SLO_P90, SLO_P95, SLO_P99, SLO_P999, SLO_NPCT };
extern const char *const slo_pct_names[SLO_NPCT];   /* "p50", ... "p999" */
extern const double slo_pct_fraction[SLO_NPCT];     /* 0.5, ... 0.999 */

struct slo_spec {
    bool has_availability;
    double availability;          /* ok / (ok + fail + info), in (0, 1] */
    int64_t pct[SLO_NPCT];        /* ns bound per percentile; -1 = none */
    int64_t window;               /* ns; 0 = chosen from the run's length */
    bool met;                     /* what the scenario expects (default true) */
    char where[160];              /* "scenario.lua:12" or "" */
};

/* Read an "slo" trace line. 0, or -1 with one sentence in err (a forged or
 * damaged line). */
int slo_spec_read(const struct cJSON *line, struct slo_spec *out, char *err, size_t errlen);

/* The window the judge uses for a run that ended at end_time (ns) when the
 * objective names none: the largest of 1, 2, 5 x 10^k ns at most end/20,
 * and at least 1 ms. */
int64_t slo_default_window(int64_t end_time);

/* Judge spec on the client operations of h (facts may be NULL; with them
 * the worst window names the faults it overlaps). out->verdict is
 * CHECK_HOLDS or CHECK_VIOLATED (CHECK_UNKNOWN when no operation
 * completed), out->reason the measured figures against the targets and,
 * for a broken one, the worst window. 0, or HIST_ENOMEM. */
int slo_judge(const struct slo_spec *spec, const hist *h, const struct trace_facts *facts,
              struct check_result *out);

/* A checker over every slo line of the facts (skipped when there is none):
 * sim check and sim report add it when a trace declares objectives. */
extern const struct checker slo_checker;

#endif
