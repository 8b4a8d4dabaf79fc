// Entry point for test executables that link the platform library but elaborate no
// SystemC module: Catch2 supplies main(); libsystemc still needs an sc_main symbol.
#pragma once

#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

extern "C" int sc_main(int, char*[]) { return 0; }
