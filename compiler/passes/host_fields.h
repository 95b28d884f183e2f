// Tracepoint record fields whose value is the same in every record this host
// can emit. symbolic() uses them to choose, at compile time, between the
// branches of a print format that depend only on such fields, so BPF reads
// neither the field nor the other branch's table (passes/print_fmt.h).
//
// The one case today: KVM's x86 events (kvm_exit, kvm_nested_*) carry an
// `isa` field, KVM_ISA_VMX (1) or KVM_ISA_SVM (2), which their print formats
// test to pick the VMX or the SVM table of exit reasons. Only the vendor
// module (kvm_intel or kvm_amd, of which a host loads at most one) emits
// them, each with its own constant, so the loaded module fixes `isa`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace hvt {

struct TracepointFormat;

// What decides kvm's `isa` on a host.
struct KvmHost {
  bool intel_loaded = false; // /sys/module/kvm_intel (module or built in)
  bool amd_loaded = false;   // /sys/module/kvm_amd
  // Modules can still be loaded (/proc/modules exists): a vendor module
  // that is not there now may come later.
  bool modules_loadable = true;

  static KvmHost probe(); // this host
};

constexpr uint64_t kKvmIsaVmx = 1; // arch/x86/kvm/trace.h
constexpr uint64_t kKvmIsaSvm = 2;

// The `isa` every kvm_exit on `host` has: VMX with kvm_intel, SVM with
// kvm_amd. With neither, when no module can be loaded, no such record is
// ever emitted and VMX is as good as any (it is what the print format tests
// first); when one still can, nullopt (the records decide).
std::optional<uint64_t> kvm_isa(const KvmHost &host);

// The fixed fields of `format` on this host, by name. $HVT_KVM_ISA (vmx,
// svm or record) replaces what this host says about `isa`: tests use it to
// compile for the other vendor, or as if a module could still be loaded.
std::map<std::string, uint64_t>
host_fixed_fields(const TracepointFormat &format);

} // namespace hvt
