#include "trace/jread.h"

#include <cjson/cJSON.h>
#include <math.h>

bool jr_int(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || fabs(d) > JR_MAX_EXACT)
        return false;
    *out = (int64_t)d;
    return true;
}

int64_t jr_num(const cJSON *v, int64_t dflt)
{
    if (!cJSON_IsNumber(v))
        return dflt;
    double d = v->valuedouble;
    if (isnan(d))
        return 0;
    /* 2^63 is exactly representable; anything at or beyond it saturates */
    if (d >= 9223372036854775808.0)
        return INT64_MAX;
    if (d <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

int64_t jr_i64(const cJSON *o, const char *key, int64_t dflt)
{
    return jr_num(cJSON_GetObjectItemCaseSensitive(o, key), dflt);
}

const char *jr_str(const cJSON *o, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}
