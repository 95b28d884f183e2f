#include "kernel_functions.h"

#include "tracefs.h"

#include <linux/btf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
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

// vmlinux's BTF, parsed just enough to find functions and their parameters.
class Btf {
public:
  explicit Btf(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    data_.assign(std::istreambuf_iterator<char>(in),
                 std::istreambuf_iterator<char>());
    btf_header header;
    if (data_.size() < sizeof(header))
      return;
    memcpy(&header, data_.data(), sizeof(header));
    if (header.magic != BTF_MAGIC || header.hdr_len > data_.size())
      return;
    size_t types = header.hdr_len + header.type_off;
    size_t strings = header.hdr_len + header.str_off;
    if (types + header.type_len > data_.size() ||
        strings + header.str_len > data_.size())
      return;
    strings_ = {data_.data() + strings, header.str_len};
    offsets_.push_back(0); // type id 0 is void
    for (size_t at = types; at + sizeof(btf_type) <= types + header.type_len;) {
      offsets_.push_back(at);
      at += sizeof(btf_type) + extra_size(type(offsets_.size() - 1));
    }
  }

  size_t count() const { return offsets_.size(); }

  btf_type type(size_t id) const {
    btf_type t{};
    if (id > 0 && id < offsets_.size())
      memcpy(&t, data_.data() + offsets_[id], sizeof(t));
    return t;
  }

  std::string name(uint32_t offset) const {
    if (offset >= strings_.size())
      return "";
    return std::string(strings_.data() + offset);
  }

  // The i-th btf_param after a FUNC_PROTO.
  btf_param param(size_t id, size_t i) const {
    btf_param p{};
    memcpy(&p,
           data_.data() + offsets_[id] + sizeof(btf_type) +
               i * sizeof(btf_param),
           sizeof(p));
    return p;
  }

  // A C spelling of type `id`, good enough for listing parameters.
  std::string spell(uint32_t id, int depth = 0) const {
    if (id == 0)
      return "void";
    if (id >= offsets_.size() || depth > 8)
      return "?";
    btf_type t = type(id);
    std::string n = name(t.name_off);
    switch (BTF_INFO_KIND(t.info)) {
    case BTF_KIND_PTR:
      return spell(t.type, depth + 1) + " *";
    case BTF_KIND_CONST:
      return "const " + spell(t.type, depth + 1);
    case BTF_KIND_VOLATILE:
      return "volatile " + spell(t.type, depth + 1);
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
      return spell(t.type, depth + 1);
    case BTF_KIND_STRUCT:
      return "struct " + n;
    case BTF_KIND_UNION:
      return "union " + n;
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
      return "enum " + n;
    case BTF_KIND_FWD:
      return (BTF_INFO_KFLAG(t.info) ? "union " : "struct ") + n;
    case BTF_KIND_FUNC_PROTO:
      return "void (*)()";
    case BTF_KIND_ARRAY:
      return "void *";
    default:
      return n.empty() ? "?" : n;
    }
  }

private:
  static size_t extra_size(const btf_type &t) {
    size_t vlen = BTF_INFO_VLEN(t.info);
    switch (BTF_INFO_KIND(t.info)) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
      return 4;
    case BTF_KIND_ARRAY:
      return sizeof(btf_array);
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      return vlen * sizeof(btf_member);
    case BTF_KIND_ENUM:
      return vlen * sizeof(btf_enum);
    case BTF_KIND_FUNC_PROTO:
      return vlen * sizeof(btf_param);
    case BTF_KIND_DATASEC:
      return vlen * sizeof(btf_var_secinfo);
    case BTF_KIND_ENUM64:
      return vlen * 12; // struct btf_enum64
    default:
      return 0;
    }
  }

  std::vector<char> data_;
  std::string_view strings_;
  std::vector<size_t> offsets_;
};

const Btf &vmlinux_btf() {
  static const Btf btf("/sys/kernel/btf/vmlinux");
  return btf;
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
    for (size_t id = 1; id < btf.count(); ++id) {
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
size_t function_proto(const Btf &btf, const std::string &name) {
  for (size_t id = 1; id < btf.count(); ++id) {
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
  size_t proto_id = function_proto(btf, name);
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
  size_t proto_id = function_proto(btf, name);
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
