#include "kernel_functions.h"

#include "btf_types.h"
#include "tracefs.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <tuple>

namespace hvt::kernel {

namespace {

bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// "name [module]" (available_filter_functions) or kallsyms' "addr t name
// [module]" without the first two columns.
Function parse_function(const std::string &name_and_module) {
  Function f;
  std::istringstream in(name_and_module);
  in >> f.name;
  std::string module;
  if (in >> module && module.size() > 2 && module.front() == '[')
    f.module = module.substr(1, module.size() - 2);
  return f;
}

// Compiler-generated padding and CFI stubs, JITed BPF programs ([bpf])
// and ftrace/kprobe trampolines ([__builtin__ftrace]) are symbols, not
// functions anyone means to trace.
bool is_stub(const Function &f) {
  return f.name.rfind("__pfx_", 0) == 0 || f.name.rfind("__cfi_", 0) == 0 ||
         f.module == "bpf" || f.module.rfind("__builtin", 0) == 0;
}

std::vector<Function> read_kallsyms_text() {
  std::vector<Function> functions;
  std::ifstream in("/proc/kallsyms");
  std::string line;
  while (std::getline(in, line)) {
    // "ffffffff816bab70 T vfs_read" or "... t foo\t[kvm]"
    size_t type_at = line.find(' ');
    if (type_at == std::string::npos || type_at + 3 > line.size())
      continue;
    char type = line[type_at + 1];
    if (type != 't' && type != 'T')
      continue;
    Function f = parse_function(line.substr(type_at + 3));
    if (!f.name.empty() && !is_stub(f))
      functions.push_back(std::move(f));
  }
  return functions;
}

std::vector<Function> read_filter_functions(const std::string &path) {
  std::vector<Function> functions;
  std::ifstream in(path);
  std::string line;
  while (in && std::getline(in, line)) {
    Function f = parse_function(line);
    if (!f.name.empty() && !is_stub(f))
      functions.push_back(std::move(f));
  }
  return functions;
}

void sort_unique(std::vector<Function> &functions) {
  auto key = [](const Function &f) { return std::tie(f.name, f.module); };
  std::sort(
      functions.begin(), functions.end(),
      [&](const Function &a, const Function &b) { return key(a) < key(b); });
  functions.erase(std::unique(functions.begin(), functions.end(),
                              [&](const Function &a, const Function &b) {
                                return key(a) == key(b);
                              }),
                  functions.end());
}

// --- BTF ----------------------------------------------------------------

using btf::Btf;

// The kernel's BTF, or an empty one when it has none.
const Btf &vmlinux_btf() {
  static const Btf none("");
  const Btf *btf = Btf::vmlinux();
  return btf ? *btf : none;
}

} // namespace

const std::vector<Function> &traceable_functions(std::string *source) {
  static std::once_flag once;
  static std::vector<Function> functions;
  static std::string from;
  std::call_once(once, [] {
    const std::string &root = tracefs::root();
    if (!root.empty()) {
      from = root + "/available_filter_functions";
      functions = read_filter_functions(from);
    }
    // Unreadable when the kernel has no dynamic ftrace (or forbids it).
    if (functions.empty()) {
      from = "/proc/kallsyms";
      functions = read_kallsyms_text();
    }
    sort_unique(functions);
  });
  if (source)
    *source = from;
  return functions;
}

bool function_exists(const std::string &name, const std::string &module) {
  static std::once_flag once;
  static std::vector<Function> all;
  std::call_once(once, [] {
    all = read_kallsyms_text();
    sort_unique(all);
  });
  auto it = std::lower_bound(
      all.begin(), all.end(), name,
      [](const Function &f, const std::string &n) { return f.name < n; });
  for (; it != all.end() && it->name == name; ++it)
    if (module.empty() || it->module == module)
      return true;
  return false;
}

const std::vector<std::string> &btf_functions() {
  static std::once_flag once;
  static std::vector<std::string> names;
  std::call_once(once, [] {
    const Btf &btf = vmlinux_btf();
    for (uint32_t id = 1; id < btf.count(); ++id) {
      btf_type t = btf.type(id);
      if (BTF_INFO_KIND(t.info) == BTF_KIND_FUNC)
        names.push_back(btf.name(t.name_off));
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
  });
  return names;
}

namespace {

// The FUNC_PROTO type id of BTF function `name`, or 0.
uint32_t function_proto(const Btf &btf, const std::string &name) {
  for (uint32_t id = 1; id < btf.count(); ++id) {
    btf_type func = btf.type(id);
    if (BTF_INFO_KIND(func.info) != BTF_KIND_FUNC ||
        btf.name(func.name_off) != name)
      continue;
    btf_type proto = btf.type(func.type);
    return BTF_INFO_KIND(proto.info) == BTF_KIND_FUNC_PROTO ? func.type : 0;
  }
  return 0;
}

} // namespace

std::optional<std::vector<std::string>>
btf_function_params(const std::string &name) {
  const Btf &btf = vmlinux_btf();
  uint32_t proto_id = function_proto(btf, name);
  if (!proto_id)
    return std::nullopt;
  btf_type proto = btf.type(proto_id);
  std::vector<std::string> params;
  for (size_t i = 0; i < BTF_INFO_VLEN(proto.info); ++i) {
    btf_param p = btf.param(proto_id, i);
    params.push_back(btf.spell(p.type) + " " + btf.name(p.name_off));
  }
  if (proto.type != 0)
    params.push_back(btf.spell(proto.type) + " retval");
  return params;
}

int btf_function_arg_count(const std::string &name) {
  const Btf &btf = vmlinux_btf();
  uint32_t proto_id = function_proto(btf, name);
  return proto_id ? static_cast<int>(BTF_INFO_VLEN(btf.type(proto_id).info))
                  : -1;
}

bool has_kprobes() {
  if (exists("/sys/bus/event_source/devices/kprobe"))
    return true;
  const std::string &root = tracefs::root();
  return !root.empty() && exists(root + "/kprobe_events");
}

} // namespace hvt::kernel
