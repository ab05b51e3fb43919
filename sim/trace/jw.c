#include "jw.h"
#include "alloc.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(jw *w)
{
    memset(w, 0, sizeof *w);
}

void jw_reset(jw *w)
{
    w->len = 0;
    if (w->buf)
        w->buf[0] = 0;   /* an emptied buffer reads as "", not the old text */
    w->depth = 0;
    w->need_comma[0] = 0;
    w->after_key = 0;
}

void jw_restart(jw *w)
{
    w->depth = 0;
    w->need_comma[0] = 0;
    w->after_key = 0;
}

void jw_free(jw *w)
{
    sim_free(w->buf);
    jw_init(w);
}

static inline void reserve(jw *w, size_t n)
{
    if (w->len + n + 1 > w->cap)
        SIM_GROW(w->buf, w->cap, w->len + n + 1);
}

/* Copy n bytes, as jw_append does (jw.h): two overlapping fixed-size moves
 * up to 16 bytes. */
static inline void copy_bytes(char *d, const char *s, size_t n)
{
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
}

void jw_grow_for(jw *w, size_t n)
{
    SIM_GROW(w->buf, w->cap, w->len + n + 1);
}

/* The external definition of the inline jw_append in jw.h. */
extern inline void jw_append(jw *w, const char *s, size_t n);

static inline void putch(jw *w, char c)
{
    reserve(w, 1);
    w->buf[w->len++] = c;
    w->buf[w->len] = 0;
}

/* Called before every value and key: writes the separating comma. */
static inline __attribute__((always_inline)) void begin_value(jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->need_comma[w->depth])
        putch(w, ',');
    w->need_comma[w->depth] = 1;
}

static void open(jw *w, char c)
{
    begin_value(w);
    putch(w, c);
    assert(w->depth + 1 < JW_MAX_DEPTH);
    w->depth++;
    w->need_comma[w->depth] = 0;
}

static void close(jw *w, char c)
{
    assert(w->depth > 0);
    w->depth--;
    putch(w, c);
}

void jw_obj(jw *w) { open(w, '{'); }
void jw_obj_end(jw *w) { close(w, '}'); }
void jw_arr(jw *w) { open(w, '['); }
void jw_arr_end(jw *w) { close(w, ']'); }

/* Length of the valid UTF-8 sequence starting at s, or 0 if it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are refused). */
static size_t utf8_sequence(const char *p, size_t avail)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t len;
    uint32_t cp;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (avail < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* 1 for the bytes a JSON string holds as they are: printable ASCII but the
 * quote and the backslash. A table lookup is one load where the four
 * comparisons were four branches, on every byte of every key and name. */
#define PLAIN_ROW(b) (b) >= 0x20 && (b) < 0x7f && (b) != '"' && (b) != '\\'
#define PLAIN_8(b) PLAIN_ROW(b), PLAIN_ROW(b + 1), PLAIN_ROW(b + 2), PLAIN_ROW(b + 3), \
    PLAIN_ROW(b + 4), PLAIN_ROW(b + 5), PLAIN_ROW(b + 6), PLAIN_ROW(b + 7)
#define PLAIN_32(b) PLAIN_8(b), PLAIN_8(b + 8), PLAIN_8(b + 16), PLAIN_8(b + 24)
static const unsigned char plain_table[256] = {
    PLAIN_32(0), PLAIN_32(32), PLAIN_32(64), PLAIN_32(96),
    PLAIN_32(128), PLAIN_32(160), PLAIN_32(192), PLAIN_32(224),
};

static inline int plain_byte(unsigned char c)
{
    return plain_table[c];
}

static void escaped(jw *w, const char *s, size_t n)
{
    /* fast path, one pass: most strings (names, keys) need no escaping */
    reserve(w, n + 2);
    char *d = w->buf + w->len;
    size_t run = 0;
    d[0] = '"';
    while (run < n && plain_byte((unsigned char)s[run])) {
        d[run + 1] = s[run];
        run++;
    }
    if (run == n) {
        d[n + 1] = '"';
        w->len += n + 2;
        w->buf[w->len] = 0;
        return;
    }
    static const char hex[] = "0123456789abcdef";
    reserve(w, n + 2);
    putch(w, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            jw_append(w, e, 2);
        } else if (c == '\n') {
            jw_append(w, "\\n", 2);
        } else if (c == '\t') {
            jw_append(w, "\\t", 2);
        } else if (c == '\r') {
            jw_append(w, "\\r", 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            jw_append(w, e, 6);
        } else if (c < 0x80) {
            putch(w, (char)c);
        } else {
            size_t len = utf8_sequence(s + i, n - i);
            if (len == 0) {
                jw_append(w, "\\ufffd", 6);  /* not UTF-8: keep the JSON valid */
            } else {
                jw_append(w, s + i, len);
                i += len - 1;
            }
        }
    }
    putch(w, '"');
}

void jw_key(jw *w, const char *key)
{
    begin_value(w);
    size_t n = strlen(key);
    /* fast path: a plain key, quoted with its colon in one reserve */
    reserve(w, n + 3);
    char *d = w->buf + w->len;
    size_t run = 0;
    d[0] = '"';
    while (run < n && plain_byte((unsigned char)key[run])) {
        d[run + 1] = key[run];
        run++;
    }
    if (run == n) {
        d[n + 1] = '"';
        d[n + 2] = ':';
        w->len += n + 3;
        w->buf[w->len] = 0;
    } else {
        escaped(w, key, n);
        putch(w, ':');
    }
    w->after_key = 1;
}

void jw_key_raw(jw *w, const char *quoted, size_t n)
{
    begin_value(w);
    jw_append(w, quoted, n);
    w->after_key = 1;
}

/* Decimal digits of v, written backwards from end; returns the start.
 * (snprintf is a large share of the tracing cost.) */
static char *digits(char *end, uint64_t v)
{
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    while (v > UINT32_MAX) {
        unsigned d = (unsigned)(v % 100);
        v /= 100;
        *--end = pairs[2 * d + 1];
        *--end = pairs[2 * d];
    }
    uint32_t u = (uint32_t)v;   /* 32-bit division is much cheaper */
    while (u >= 100) {
        unsigned d = u % 100;
        u /= 100;
        *--end = pairs[2 * d + 1];
        *--end = pairs[2 * d];
    }
    v = u;
    if (v >= 10) {
        *--end = pairs[2 * v + 1];
        *--end = pairs[2 * v];
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

void jw_append_int(jw *w, int64_t v)
{
    char tmp[24];
    char *end = tmp + sizeof tmp;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = digits(end, mag);
    if (v < 0)
        *--p = '-';
    size_t n = (size_t)(end - p);
    reserve(w, n);
    copy_bytes(w->buf + w->len, p, n);
    w->len += n;
    w->buf[w->len] = 0;
}

void jw_int(jw *w, int64_t v)
{
    begin_value(w);
    jw_append_int(w, v);
}

void jw_uint(jw *w, uint64_t v)
{
    char tmp[24];
    char *end = tmp + sizeof tmp;
    begin_value(w);
    char *p = digits(end, v);
    jw_append(w, p, (size_t)(end - p));
}

void jw_num(jw *w, double v)
{
    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    /* -0.0 takes the %g path below ("-0"), so its sign survives */
    if (v == floor(v) && fabs(v) < 9007199254740992.0 && !(v == 0 && signbit(v))) {
        jw_int(w, (int64_t)v);
        return;
    }
    char tmp[32];
    begin_value(w);
    /* the shortest of %.15g..%.17g that reads back exactly */
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    jw_append(w, tmp, (size_t)n);
}

void jw_bool(jw *w, int v)
{
    begin_value(w);
    if (v)
        jw_append(w, "true", 4);
    else
        jw_append(w, "false", 5);
}

void jw_null(jw *w)
{
    begin_value(w);
    jw_append(w, "null", 4);
}

void jw_str(jw *w, const char *s)
{
    if (!s) {
        jw_null(w);
        return;
    }
    jw_strn(w, s, strlen(s));
}

void jw_strn(jw *w, const char *s, size_t n)
{
    begin_value(w);
    escaped(w, s, n);
}

void jw_raw(jw *w, const char *json, size_t n)
{
    begin_value(w);
    jw_append(w, json, n);
}

void jw_kint(jw *w, const char *key, int64_t v) { jw_key(w, key); jw_int(w, v); }
void jw_knum(jw *w, const char *key, double v) { jw_key(w, key); jw_num(w, v); }
void jw_kbool(jw *w, const char *key, int v) { jw_key(w, key); jw_bool(w, v); }
void jw_kstr(jw *w, const char *key, const char *s) { jw_key(w, key); jw_str(w, s); }
