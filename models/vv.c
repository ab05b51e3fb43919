/* Version vectors; see vv.h. */
#include "vv.h"

#include <stdio.h>
#include <string.h>

void vv_init(struct vv *v, int n)
{
    memset(v, 0, sizeof *v);
    v->n = n < 0 ? 0 : n > VV_MAX ? VV_MAX : (uint32_t)n;
}

void vv_tick(struct vv *v, int node)
{
    if (node >= 0 && (uint32_t)node < v->n)
        v->c[node]++;
}

void vv_merge(struct vv *into, const struct vv *other)
{
    if (other->n > into->n)
        into->n = other->n;
    for (uint32_t i = 0; i < other->n; i++)
        if (other->c[i] > into->c[i])
            into->c[i] = other->c[i];
}

enum vv_order vv_compare(const struct vv *a, const struct vv *b)
{
    bool a_more = false, b_more = false;
    uint32_t n = a->n > b->n ? a->n : b->n;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x = i < a->n ? a->c[i] : 0;
        uint64_t y = i < b->n ? b->c[i] : 0;
        a_more |= x > y;
        b_more |= y > x;
    }
    if (a_more && b_more)
        return VV_CONCURRENT;
    return a_more ? VV_AFTER : b_more ? VV_BEFORE : VV_EQUAL;
}

bool vv_descends(const struct vv *a, const struct vv *b)
{
    enum vv_order o = vv_compare(a, b);
    return o == VV_EQUAL || o == VV_AFTER;
}

bool vv_valid(const void *bytes, size_t len)
{
    struct vv v;
    if (len != sizeof v)
        return false;
    memcpy(&v, bytes, sizeof v);
    if (v.n > VV_MAX)
        return false;
    for (uint32_t i = v.n; i < VV_MAX; i++)
        if (v.c[i] != 0)
            return false;
    return true;
}

void vv_write(const struct vv *v, jw *w)
{
    jw_arr(w);
    for (uint32_t i = 0; i < v->n; i++)
        jw_int(w, (int64_t)v->c[i]);
    jw_arr_end(w);
}

const char *vv_format(const struct vv *v, char *buf, size_t n)
{
    size_t used = 0;
    if (n == 0)
        return buf;
    buf[0] = '\0';
    for (uint32_t i = 0; i <= v->n && used < n; i++) {
        int k = i == v->n ? snprintf(buf + used, n - used, "]")
                          : snprintf(buf + used, n - used, "%s%llu", i ? "," : "[",
                                     (unsigned long long)v->c[i]);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    if (v->n == 0)
        snprintf(buf, n, "[]");
    return buf;
}
