// mlagen harness: the device. The harness runs only on compute capability 9.0 (Hopper, sm_90a code);
// anything else exits with code 3 before any input is drawn.
#ifndef MLAGEN_HARNESS_DEVICE_CUH
#define MLAGEN_HARNESS_DEVICE_CUH

#include <cuda_runtime.h>

#include <string>

#include "mlagen/harness/common.h"

namespace mlagen_harness {

struct DeviceInfo {
  std::string name;
  int ordinal = 0, sms = 0, cc_major = 0, cc_minor = 0;
  size_t l2_bytes = 0, memory_bytes = 0, smem_per_block_optin = 0;
  int clock_mhz = 0, memory_clock_mhz = 0, memory_bus_bits = 0;
  int driver_version = 0, runtime_version = 0;

  JsonObject json() const {
    JsonObject o;
    o.str("name", name).integer("ordinal", ordinal).integer("sms", sms);
    o.str("cc", std::to_string(cc_major) + "." + std::to_string(cc_minor));
    o.integer("l2_bytes", static_cast<long long>(l2_bytes)).integer("memory_bytes", static_cast<long long>(memory_bytes));
    o.integer("smem_per_block_optin", static_cast<long long>(smem_per_block_optin));
    o.integer("clock_mhz", clock_mhz).integer("memory_clock_mhz", memory_clock_mhz).integer("memory_bus_bits", memory_bus_bits);
    o.integer("driver_version", driver_version).integer("runtime_version", runtime_version);
    return o;
  }
};

/** Device 0 if it is a Hopper GPU; otherwise prints the JSON and exits with code 3. */
inline DeviceInfo require_hopper() {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    fatal(kExitNoGpu, "no_gpu", std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e));
  }
  if (count < 1) fatal(kExitNoGpu, "no_gpu", "no CUDA device");
  DeviceInfo d;
  MLAGEN_CUDA_CHECK(cudaGetDevice(&d.ordinal));
  cudaDeviceProp prop{};
  MLAGEN_CUDA_CHECK(cudaGetDeviceProperties(&prop, d.ordinal));
  d.name = prop.name;
  d.sms = prop.multiProcessorCount;
  d.cc_major = prop.major;
  d.cc_minor = prop.minor;
  d.l2_bytes = static_cast<size_t>(prop.l2CacheSize);
  d.memory_bytes = prop.totalGlobalMem;
  d.smem_per_block_optin = prop.sharedMemPerBlockOptin;
  d.memory_bus_bits = prop.memoryBusWidth;
  int khz = 0;
  if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, d.ordinal) == cudaSuccess) d.clock_mhz = khz / 1000;
  if (cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, d.ordinal) == cudaSuccess) d.memory_clock_mhz = khz / 1000;
  (void)cudaGetLastError();
  cudaDriverGetVersion(&d.driver_version);
  cudaRuntimeGetVersion(&d.runtime_version);
  context().device = d.json();
  if (d.cc_major != 9 || d.cc_minor != 0)
    fatal(kExitNoGpu, "no_gpu",
          "device 0 (" + d.name + ") is compute capability " + std::to_string(d.cc_major) + "." +
              std::to_string(d.cc_minor) + "; this harness needs 9.0 (Hopper)");
  return d;
}

}  // namespace mlagen_harness

#endif  // MLAGEN_HARNESS_DEVICE_CUH
