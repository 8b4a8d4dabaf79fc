#include "lib/fw_console.h"

#include <stdint.h>

#include "hal/hal.h"

void fw_puts(const char *s)
{
    while (*s) hal_putc(*s++);
}

static int emit_padded(const char *buf, int len, int width, int left, char pad)
{
    int n = 0;
    if (!left)
        for (; len + n < width; n++) hal_putc(pad);
    for (int i = 0; i < len; i++) hal_putc(buf[i]);
    if (left)
        for (int k = len + n; k < width; k++, n++) hal_putc(' ');
    return len + n;
}

/* Digits of v in base into buf (reversed then fixed up); returns length. */
static int utoa_base(uint64_t v, unsigned base, int upper, char *buf)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    return n;
}

static int fmt_double(double v, int prec, char *buf)
{
    int n = 0;
    if (v != v) {
        buf[0] = 'n'; buf[1] = 'a'; buf[2] = 'n';
        return 3;
    }
    if (v < 0) {
        buf[n++] = '-';
        v = -v;
    }
    if (v > 1e18) { /* beyond uint64: print as inf-like marker rather than garbage */
        buf[n++] = 'i'; buf[n++] = 'n'; buf[n++] = 'f';
        return n;
    }
    if (prec > 9) prec = 9;
    uint64_t scale = 1;
    for (int i = 0; i < prec; i++) scale *= 10;
    /* Round half up at the requested precision. */
    double scaled = v * (double)scale + 0.5;
    uint64_t all = (uint64_t)scaled;
    uint64_t ip = all / scale, fp = all % scale;
    n += utoa_base(ip, 10, 0, buf + n);
    if (prec > 0) {
        buf[n++] = '.';
        char frac[12];
        int fl = utoa_base(fp, 10, 0, frac);
        for (int i = fl; i < prec; i++) buf[n++] = '0';
        for (int i = 0; i < fl; i++) buf[n++] = frac[i];
    }
    return n;
}

int fw_vprintf(const char *fmt, va_list ap)
{
    int total = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            hal_putc(*fmt);
            total++;
            continue;
        }
        fmt++;
        int left = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-') left = 1;
            else if (*fmt == '0') pad = '0';
            else break;
        }
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        int prec = -1;
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            while (*fmt >= '0' && *fmt <= '9') prec = prec * 10 + (*fmt++ - '0');
        }
        int lng = 0;
        while (*fmt == 'l') {
            lng++;
            fmt++;
        }
        char buf[40];
        int len = 0;
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = lng >= 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
            uint64_t mag = v < 0 ? (uint64_t)(-(v + 1)) + 1u : (uint64_t)v;
            if (v < 0) buf[len++] = '-';
            len += utoa_base(mag, 10, 0, buf + len);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = lng >= 2 ? va_arg(ap, unsigned long long)
                         : lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            len = utoa_base(v, *fmt == 'u' ? 10u : 16u, *fmt == 'X', buf);
            break;
        }
        case 'c': buf[len++] = (char)va_arg(ap, int); break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            int sl = 0;
            while (s[sl]) sl++;
            total += emit_padded(s, sl, width, left, ' ');
            continue;
        }
        case 'f': len = fmt_double(va_arg(ap, double), prec < 0 ? 6 : prec, buf); break;
        case '%': buf[len++] = '%'; break;
        case '\0': return total;
        default: buf[len++] = '%'; buf[len++] = *fmt; break;
        }
        total += emit_padded(buf, len, width, left, pad);
    }
    return total;
}

int fw_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fw_vprintf(fmt, ap);
    va_end(ap);
    return n;
}
