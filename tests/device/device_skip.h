// The device tests' guard, GS_TEST_DEVICE's device (cpu, cuda or emulated, set by CMake per test
// binary): a test skips where the device is absent (no GPU, a build without CUDA) and fails where
// it is present but unusable (a GPU whose cuBLAS cannot be opened), so that a broken GPU setup
// does not pass as skipped.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "gradscope/cuda/device.h"

#define SKIP_WITHOUT_DEVICE()                                                                    \
  do {                                                                                           \
    const gradscope::Device device = gradscope::device_from_name(GS_TEST_DEVICE);                \
    const std::string why = gradscope::device_unavailable(device);                               \
    if (!why.empty() && gradscope::device_missing(device))                                       \
      GTEST_SKIP() << "device " << GS_TEST_DEVICE << " unavailable: " << why;                    \
    if (!why.empty()) FAIL() << "device " << GS_TEST_DEVICE << " is here but unusable: " << why; \
  } while (0)
