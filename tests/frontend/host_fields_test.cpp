// Record fields a host fixes (passes/host_fields.h): which vendor module
// decides kvm's `isa`, and what a format gets from this host.
#include "passes/host_fields.h"
#include "passes/tracepoint_format.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace hvt {
namespace {

TEST(HostFields, TheLoadedVendorModuleFixesKvmIsa) {
  EXPECT_EQ(kvm_isa({.intel_loaded = true}), kKvmIsaVmx);
  EXPECT_EQ(kvm_isa({.amd_loaded = true}), kKvmIsaSvm);
  // Neither, but one may be loaded later: each record says.
  EXPECT_EQ(kvm_isa({.modules_loadable = true}), std::nullopt);
  // Neither, and none can come (no module support, e.g. a PVM host):
  // kvm_exit never fires, any table will do.
  EXPECT_EQ(kvm_isa({.modules_loadable = false}), kKvmIsaVmx);
}

TracepointFormat kvm_like(const std::string &category) {
  auto format = parse_tracepoint_format(
      "name: kvm_exit\nformat:\n"
      "\tfield:unsigned int exit_reason;\toffset:8;\tsize:4;\tsigned:0;\n"
      "\tfield:u32 isa;\toffset:24;\tsize:4;\tsigned:0;\n\n"
      "print fmt: \"%d\", REC->isa\n");
  EXPECT_TRUE(format);
  format->category = category;
  return *format;
}

class ForcedIsa {
public:
  explicit ForcedIsa(const char *value) { setenv("HVT_KVM_ISA", value, 1); }
  ~ForcedIsa() { unsetenv("HVT_KVM_ISA"); }
};

TEST(HostFields, HvtKvmIsaReplacesWhatTheHostSays) {
  auto format = kvm_like("kvm");
  {
    ForcedIsa isa("svm");
    EXPECT_EQ(host_fixed_fields(format),
              (std::map<std::string, uint64_t>{{"isa", kKvmIsaSvm}}));
  }
  {
    ForcedIsa isa("vmx");
    EXPECT_EQ(host_fixed_fields(format),
              (std::map<std::string, uint64_t>{{"isa", kKvmIsaVmx}}));
  }
  {
    ForcedIsa isa("record");
    EXPECT_TRUE(host_fixed_fields(format).empty());
  }
  // What this host says, as KvmHost::probe() reads it.
  std::optional<uint64_t> here = kvm_isa(KvmHost::probe());
  auto fixed = host_fixed_fields(format);
  EXPECT_EQ(fixed.count("isa") ? std::optional(fixed.at("isa")) : std::nullopt,
            here);
}

TEST(HostFields, OnlyKvmsIsaIsFixed) {
  ForcedIsa isa("vmx");
  EXPECT_TRUE(host_fixed_fields(kvm_like("other")).empty());
}

} // namespace
} // namespace hvt
