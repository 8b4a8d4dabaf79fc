/* Console output for firmware: a freestanding printf subset over hal_putc. */
#ifndef CIMVP_FW_CONSOLE_H
#define CIMVP_FW_CONSOLE_H

#include <stdarg.h>

/* Supported: %d %i %u %x %X %c %s %% with flags '-', '0', width, and l/ll length;
 * %f with optional .precision (default 6) for doubles, no exponent form. */
void fw_puts(const char *s);
int fw_printf(const char *fmt, ...);
int fw_vprintf(const char *fmt, va_list ap);

#endif
