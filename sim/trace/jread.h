/* jread: reading numbers and strings out of parsed trace lines (cJSON).
 *
 * Traces, histories and exports come from files a user may have edited or
 * truncated, so a number can be anything JSON allows: 1e300, -0.5, NaN from
 * another tool. Converting such a double to int64_t is undefined behaviour in
 * C; every reader goes through these helpers instead of casting. */
#ifndef SIM_TRACE_JREAD_H
#define SIM_TRACE_JREAD_H

#include <stdbool.h>
#include <stdint.h>

struct cJSON;

/* Largest magnitude a trace integer may have: doubles are exact up to 2^53. */
#define JR_MAX_EXACT 9007199254740992.0

/* v is an integral JSON number within +-2^53: store it in *out, return true. */
bool jr_int(const struct cJSON *v, int64_t *out);

/* v as an int64, truncated toward zero and saturated to the int64 range
 * (NaN gives 0); dflt when v is not a number. Never undefined. */
int64_t jr_num(const struct cJSON *v, int64_t dflt);

/* Member key of o through jr_num. */
int64_t jr_i64(const struct cJSON *o, const char *key, int64_t dflt);

/* Member key of o when it is a string, dflt otherwise. */
const char *jr_str(const struct cJSON *o, const char *key, const char *dflt);

#endif
