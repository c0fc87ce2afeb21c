#pragma once
// A property check for the fuzz targets. On failure it names the property and the line, then
// aborts, so libFuzzer keeps the input as a crash. Unlike assert it does not depend on NDEBUG.

#include <cstdio>
#include <cstdlib>

#define CP2_FUZZ_CHECK(condition)                                                     \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__,        \
                   #condition);                                                       \
      std::abort();                                                                   \
    }                                                                                 \
  } while (false)
