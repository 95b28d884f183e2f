// What the running kernel offers to kprobe and fentry: its traceable
// functions (tracefs available_filter_functions, else /proc/kallsyms) and
// the functions its BTF describes (/sys/kernel/btf/vmlinux). Used to expand
// wildcards, list probes (-l) and explain why an attach failed.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hvt::kernel {

struct Function {
  std::string name;
  std::string module; // "" for vmlinux
};

// Functions kprobes may attach to, sorted by name. Read from
// available_filter_functions when it is readable, otherwise from the text
// symbols of /proc/kallsyms (which include some non-traceable functions).
// `source` names the file used.
const std::vector<Function> &traceable_functions(std::string *source = nullptr);

// True when /proc/kallsyms has a text symbol `name` (in `module` when it is
// not empty): the function exists in this kernel, traceable or not.
bool function_exists(const std::string &name, const std::string &module = "");

// Names of the FUNC entries of vmlinux's BTF, sorted; empty when the kernel
// has no BTF. Only these functions can be traced with fentry/fexit.
const std::vector<std::string> &btf_functions();

// Parameters of a BTF function as "TYPE NAME" (for -lv), or nullopt when BTF
// does not describe `name`.
std::optional<std::vector<std::string>>
btf_function_params(const std::string &name);

// The number of parameters of a BTF function (an fexit program finds the
// return value after them in its context: ctx[N]), or -1 when BTF does not
// describe `name`.
int btf_function_arg_count(const std::string &name);

// True when the kernel was built with kprobe support (the kprobe PMU or
// tracefs kprobe_events exists).
bool has_kprobes();

} // namespace hvt::kernel
