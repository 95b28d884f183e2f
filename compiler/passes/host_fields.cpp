#include "passes/host_fields.h"

#include "passes/tracepoint_format.h"

#include <cstdlib>
#include <string_view>
#include <sys/stat.h>

namespace hvt {
namespace {

bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

} // namespace

KvmHost KvmHost::probe() {
  KvmHost host;
  host.intel_loaded = exists("/sys/module/kvm_intel");
  host.amd_loaded = exists("/sys/module/kvm_amd");
  host.modules_loadable = exists("/proc/modules");
  return host;
}

std::optional<uint64_t> kvm_isa(const KvmHost &host) {
  if (host.intel_loaded)
    return kKvmIsaVmx;
  if (host.amd_loaded)
    return kKvmIsaSvm;
  if (!host.modules_loadable)
    return kKvmIsaVmx;
  return std::nullopt;
}

std::map<std::string, uint64_t>
host_fixed_fields(const TracepointFormat &format) {
  std::map<std::string, uint64_t> fixed;
  const TracepointField *isa = format.find("isa");
  if (format.category != "kvm" || !isa || isa->data_loc || isa->char_array)
    return fixed;
  std::optional<uint64_t> value;
  const char *forced = getenv("HVT_KVM_ISA");
  std::string_view choice = forced ? forced : "";
  if (choice == "vmx")
    value = kKvmIsaVmx;
  else if (choice == "svm")
    value = kKvmIsaSvm;
  else if (choice != "record")
    value = kvm_isa(KvmHost::probe());
  if (value)
    fixed.emplace("isa", *value);
  return fixed;
}

} // namespace hvt
