/* Firmware applications. Each returns its exit code; the platform's boot code (or a
 * bare-metal crt0) calls hal_exit() with it. */
#ifndef CIMVP_APPS_H
#define CIMVP_APPS_H

int fw_app_selftest(void);
int fw_app_bus_fault(void);
int fw_app_infer(void);

#endif
