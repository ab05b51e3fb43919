/* jw: a small streaming JSON writer into a growable buffer.
 *
 * cJSON builds a tree and allocates per node; a trace writes millions of
 * small objects, so events are written straight into one reused buffer.
 * Commas are placed automatically; keys and strings are escaped. Numbers
 * are integers wherever the value is one (times are int64 nanoseconds). */
#ifndef SIM_JW_H
#define SIM_JW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JW_MAX_DEPTH 32

typedef struct jw {
    char *buf;
    size_t len;
    size_t cap;
    int depth;
    unsigned char need_comma[JW_MAX_DEPTH];
    unsigned char after_key;
} jw;

void jw_init(jw *w);
void jw_reset(jw *w);   /* empty the buffer, keep its memory */
void jw_restart(jw *w); /* start a new top-level value after what is there */
void jw_free(jw *w);

void jw_obj(jw *w);
void jw_obj_end(jw *w);
void jw_arr(jw *w);
void jw_arr_end(jw *w);
void jw_key(jw *w, const char *key);
/* A key given already quoted with its colon, e.g. "\"from\":" (hot paths). */
void jw_key_raw(jw *w, const char *quoted, size_t n);
#define JW_KEY(w, lit) jw_key_raw((w), "\"" lit "\":", sizeof("\"" lit "\":") - 1)

void jw_int(jw *w, int64_t v);
void jw_uint(jw *w, uint64_t v);
void jw_num(jw *w, double v);       /* shortest round-trip form; NaN/inf as null */
void jw_bool(jw *w, int v);
void jw_null(jw *w);
void jw_str(jw *w, const char *s);
void jw_strn(jw *w, const char *s, size_t n);
void jw_raw(jw *w, const char *json, size_t n); /* an already valid JSON value */

/* key + value in one call */
void jw_kint(jw *w, const char *key, int64_t v);
void jw_knum(jw *w, const char *key, double v);
void jw_kbool(jw *w, const char *key, int v);
void jw_kstr(jw *w, const char *key, const char *s);

/* Append raw bytes / a decimal integer, with no comma handling: for hot
 * paths that lay out a fixed shape by hand. jw_append is inline (the trace
 * calls it about ten times per line, and the call cost more than the
 * copy); jw.c holds its one external definition. */
void jw_grow_for(jw *w, size_t n);   /* make room for n more bytes and a NUL */
inline void jw_append(jw *w, const char *s, size_t n)
{
    if (w->len + n + 1 > w->cap)
        jw_grow_for(w, n);
    char *d = w->buf + w->len;
    /* up to 16 bytes: two fixed-size moves that may overlap, each one load
     * and one store; nothing outside [s, s+n) is read */
    if (n >= 8 && n <= 16) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else {
        memcpy(d, s, n);
    }
    w->len += n;
    w->buf[w->len] = 0;
}
void jw_append_int(jw *w, int64_t v);
#define JW_APPEND(w, lit) jw_append((w), lit, sizeof(lit) - 1)

#endif
