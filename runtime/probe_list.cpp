#include "probe_list.h"

#include "attach.h"
#include "binaries.h"
#include "elf_reader.h"
#include "kernel_functions.h"
#include "tracefs.h"

#include <fnmatch.h>

#include <fstream>
#include <map>
#include <vector>

namespace hvt {

namespace {

// The providers -l knows, with the aliases a pattern may use. Providers
// with nothing to enumerate (BEGIN, END, interval, profile) are not listed.
const std::map<std::string, std::string> &listed_providers() {
  // Built on first use: only -l needs it.
  static const std::map<std::string, std::string> listed = {
      {"tracepoint", "tracepoint"},
      {"t", "tracepoint"},
      {"rawtracepoint", "rawtracepoint"},
      {"rt", "rawtracepoint"},
      {"kprobe", "kprobe"},
      {"k", "kprobe"},
      {"kretprobe", "kretprobe"},
      {"kr", "kretprobe"},
      {"fentry", "fentry"},
      {"f", "fentry"},
      {"kfunc", "fentry"},
      {"fexit", "fexit"},
      {"fr", "fexit"},
      {"kretfunc", "fexit"},
      {"uprobe", "uprobe"},
      {"u", "uprobe"},
      {"uretprobe", "uretprobe"},
      {"ur", "uretprobe"},
      {"software", "software"},
      {"s", "software"},
      {"hardware", "hardware"},
      {"h", "hardware"},
  };
  return listed;
}

// "\tfield:char prev_comm[16];\toffset:8;..." -> "char prev_comm[16]".
std::vector<std::string> tracepoint_fields(const std::string &category,
                                           const std::string &name) {
  std::vector<std::string> fields;
  std::ifstream in(tracefs::format_path(category, name));
  std::string line;
  while (std::getline(in, line)) {
    size_t at = line.find("field:");
    if (at == std::string::npos)
      continue;
    at += 6;
    size_t end = line.find(';', at);
    std::string field = line.substr(
        at, end == std::string::npos ? std::string::npos : end - at);
    if (field.find("common_") == std::string::npos)
      fields.push_back(field);
  }
  return fields;
}

class Lister {
public:
  Lister(const std::string &pattern, bool verbose, std::ostream &out)
      : pattern_(pattern.empty() ? "*" : pattern), verbose_(verbose),
        out_(out) {}

  size_t run() {
    // A literal provider restricts the listing (and its alias is resolved).
    std::string provider;
    size_t colon = pattern_.find(':');
    if (colon != std::string::npos) {
      const auto &listed = listed_providers();
      auto it = listed.find(pattern_.substr(0, colon));
      if (it != listed.end()) {
        provider = it->second;
        pattern_ = provider + pattern_.substr(colon);
      }
    }
    auto wants = [&](const char *name, bool by_default) {
      return provider.empty() ? by_default : provider == name;
    };
    if (wants("software", true))
      perf_events("software", software_event_names());
    if (wants("hardware", true))
      perf_events("hardware", hardware_event_names());
    if (wants("tracepoint", true))
      tracepoints();
    if (wants("rawtracepoint", false))
      raw_tracepoints();
    if (wants("kprobe", true))
      kernel_functions("kprobe");
    if (wants("kretprobe", false))
      kernel_functions("kretprobe");
    if (wants("fentry", true))
      btf_functions("fentry");
    if (wants("fexit", false))
      btf_functions("fexit");
    if (provider == "uprobe" || provider == "uretprobe")
      user_functions(provider);
    return count_;
  }

private:
  bool matches(const std::string &name) const {
    return fnmatch(pattern_.c_str(), name.c_str(), 0) == 0;
  }

  bool emit(const std::string &name) {
    if (!matches(name))
      return false;
    out_ << name << '\n';
    ++count_;
    return true;
  }

  void details(const std::vector<std::string> &lines) {
    for (const auto &line : lines)
      out_ << "    " << line << '\n';
  }

  void perf_events(const char *kind, const std::vector<std::string> &names) {
    for (const auto &name : names)
      emit(std::string(kind) + ":" + name + ":");
  }

  void tracepoints() {
    for (const auto &category : tracefs::categories())
      for (const auto &event : tracefs::events(category))
        if (emit("tracepoint:" + category + ":" + event) && verbose_)
          details(tracepoint_fields(category, event));
  }

  // Raw tracepoints are named like tracepoints without their category;
  // syscalls:* are not tracepoints of their own (they share sys_enter/exit).
  void raw_tracepoints() {
    for (const auto &category : tracefs::categories())
      if (category != "syscalls" && category != "ftrace")
        for (const auto &event : tracefs::events(category))
          emit("rawtracepoint:" + event);
  }

  void kernel_functions(const char *kind) {
    for (const auto &f : kernel::traceable_functions())
      emit(std::string(kind) + ":" + (f.module.empty() ? "" : f.module + ":") +
           f.name);
  }

  void btf_functions(const char *kind) {
    for (const auto &name : kernel::btf_functions())
      if (emit(std::string(kind) + ":" + name) && verbose_)
        if (auto params = kernel::btf_function_params(name))
          details(*params);
  }

  // "uprobe:BINARY:PATTERN": the binary's functions.
  void user_functions(const std::string &kind) {
    size_t first = pattern_.find(':');
    size_t second = pattern_.find(':', first + 1);
    if (second == std::string::npos)
      return;
    std::string written = pattern_.substr(first + 1, second - first - 1);
    std::string path = binaries::resolve(written);
    if (path.empty())
      return;
    std::string error;
    auto elf = ElfReader::open(path, error);
    if (!elf)
      return;
    pattern_ = kind + ":" + path + pattern_.substr(second);
    for (const auto &name : elf->function_names())
      emit(kind + ":" + path + ":" + name);
  }

  std::string pattern_;
  bool verbose_;
  std::ostream &out_;
  size_t count_ = 0;
};

} // namespace

size_t list_probes(const std::string &pattern, bool verbose,
                   std::ostream &out) {
  return Lister(pattern, verbose, out).run();
}

} // namespace hvt
