// Providers: kprobe/kretprobe (perf kprobe PMU) and fentry/fexit (BPF
// trampolines). The two are interchangeable; the runtime tries the other
// kind when one fails (see ProbeDesc::fallback).
#include "attach.h"

#include "kernel_functions.h"

#include <bpf/libbpf.h>

#include <cerrno>

#include <fmt/format.h>

namespace hvt {

namespace {

// Names close to `name` in length: the only ones a did-you-mean can pick,
// and far fewer than the 100k+ kernel functions.
std::vector<std::string> names_near(const std::string &name,
                                    const std::string &module) {
  std::vector<std::string> near;
  for (const auto &f : kernel::traceable_functions())
    if ((module.empty() || f.module == module) &&
        f.name.size() + 3 >= name.size() && f.name.size() <= name.size() + 3)
      near.push_back(f.name);
  return near;
}

} // namespace

void explain_missing_kernel_function(const std::string &module,
                                     const std::string &function,
                                     AttachError &out) {
  if (kernel::function_exists(function, module))
    return;
  out.not_found = true;
  out.reason =
      module.empty()
          ? fmt::format("kernel function '{}' does not exist", function)
          : fmt::format("kernel function '{}' does not exist in module '{}'",
                        function, module);
  if (!module.empty() && kernel::function_exists(function)) {
    out.hints.push_back(fmt::format("'{}' exists, but not in module '{}': "
                                    "leave the module out",
                                    function, module));
    return;
  }
  if (function.rfind("xen_", 0) == 0) {
    out.hints.push_back("this kernel is not a Xen guest: it has no Xen "
                        "functions");
    return;
  }
  std::string guess = closest_match(function, names_near(function, module));
  if (!guess.empty())
    out.hints.push_back(fmt::format("did you mean '{}'?", guess));
}

bool attach_kprobe(const ProbeDesc &probe, const bpf_program *prog,
                   const AttachOptions &, Attachments &out, AttachError &err) {
  bpf_kprobe_opts opts{};
  opts.sz = sizeof(opts);
  opts.offset = probe.offset;
  opts.retprobe = probe.kind == ProbeKind::Kretprobe;
  // The kernel accepts "MODULE:FUNCTION" for a module's function.
  std::string symbol = probe.target.empty()
                           ? probe.function
                           : probe.target + ":" + probe.function;
  bpf_link *link = bpf_program__attach_kprobe_opts(prog, symbol.c_str(), &opts);
  if (link) {
    out.add(link);
    return true;
  }
  int e = errno;
  explain_missing_kernel_function(probe.target, probe.function, err);
  if (err.not_found)
    return false;
  if (!kernel::has_kprobes()) {
    err.reason = "this kernel has no kprobe support (built without "
                 "CONFIG_KPROBES)";
    err.hints.push_back("trace a tracepoint instead (hvt -l "
                        "'tracepoint:*'), or use a kernel built with "
                        "CONFIG_KPROBES=y");
  } else if (e == ENOENT || e == EINVAL || e == EOPNOTSUPP) {
    err.reason = fmt::format(
        "kernel function '{}' cannot be traced with kprobes", probe.function);
    err.hints.push_back("the function may be inlined, marked notrace or on "
                        "the kprobe blacklist; traceable functions are "
                        "listed by hvt -l 'kprobe:*'");
  } else if (e == EEXIST) {
    err.reason = fmt::format("offset +{} is not an instruction boundary of "
                             "'{}'",
                             probe.offset, probe.function);
  } else {
    explain_errno(e, fmt::format("kprobe on '{}'", symbol), err);
  }
  return false;
}

// The target function was resolved (through BTF) when the program was
// loaded from its "fentry/FUNC" section; load failures are explained by the
// runtime, which loads these programs on demand.
bool attach_fentry(const ProbeDesc &probe, const bpf_program *prog,
                   const AttachOptions &, Attachments &out, AttachError &err) {
  bpf_link *link = bpf_program__attach_trace(prog);
  if (link) {
    out.add(link);
    return true;
  }
  int e = errno;
  const char *kind = probe.kind == ProbeKind::Fentry ? "fentry" : "fexit";
  if (e == EPERM || e == EACCES || e == EOPNOTSUPP || e == 524 /* ENOTSUPP */) {
    err.reason = fmt::format("the kernel refused to attach the {} program "
                             "({})",
                             kind, std::strerror(e));
    err.hints.push_back("BPF trampolines (fentry/fexit) are disabled here, "
                        "e.g. by a lockdown or LSM policy, or unsupported on "
                        "this architecture");
  } else {
    explain_errno(e, fmt::format("{} on '{}'", kind, probe.function), err);
  }
  return false;
}

} // namespace hvt
