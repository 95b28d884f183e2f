// Pass 1: attach point text -> ProbeDesc. One resolver per provider: it
// checks the target syntax, expands wildcards against what the running
// kernel (tracefs, available_filter_functions/kallsyms, BTF) or a binary's
// symbol table offers, and loads the format of every tracepoint.
//
// Missing-probe policy: an attach point that cannot be used at all (a
// missing tracepoint, whose fields cannot be typed; a wildcard that matches
// nothing) is skipped when its probe has other attach points, and reported
// by the runtime with -v. A probe left with nothing is an error here. Every
// other failure (a kernel function without kprobes, a missing uprobe
// symbol...) is found by trying, at attach time.
#include "passes/semantic.h"

#include "binaries.h"
#include "elf_reader.h"
#include "kernel_functions.h"
#include "tracefs.h"

#include <algorithm>
#include <charconv>
#include <fnmatch.h>
#include <unordered_set>

namespace hvt {

namespace {

struct Provider {
  const char *name;
  const char *alias;
  ProbeKind kind;
};

constexpr Provider kProviders[] = {
    {"BEGIN", nullptr, ProbeKind::Begin},
    {"END", nullptr, ProbeKind::End},
    {"tracepoint", "t", ProbeKind::Tracepoint},
    {"rawtracepoint", "rt", ProbeKind::RawTracepoint},
    {"kprobe", "k", ProbeKind::Kprobe},
    {"kretprobe", "kr", ProbeKind::Kretprobe},
    {"fentry", "f", ProbeKind::Fentry},
    {"kfunc", nullptr, ProbeKind::Fentry},
    {"fexit", "fr", ProbeKind::Fexit},
    {"kretfunc", nullptr, ProbeKind::Fexit},
    {"uprobe", "u", ProbeKind::Uprobe},
    {"uretprobe", "ur", ProbeKind::Uretprobe},
    {"profile", "p", ProbeKind::Profile},
    {"interval", "i", ProbeKind::Interval},
    {"software", "s", ProbeKind::Software},
    {"hardware", "h", ProbeKind::Hardware},
};

const Provider *find_provider(const std::string &name) {
  for (const auto &p : kProviders)
    if (name == p.name || (p.alias && name == p.alias))
      return &p;
  return nullptr;
}

// The canonical provider name of a kind ("kfunc" is written "fentry").
const char *provider_name(ProbeKind kind) {
  for (const auto &p : kProviders)
    if (p.kind == kind)
      return p.name;
  return "";
}

std::vector<std::string> provider_names() {
  std::vector<std::string> names;
  for (const auto &p : kProviders)
    names.push_back(p.name);
  return names;
}

bool parse_number(const std::string &text, uint64_t &value) {
  int base = 10;
  std::string_view digits = text;
  if (digits.size() > 2 && digits[0] == '0' &&
      (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                   value, base);
  return ec == std::errc() && end == digits.data() + digits.size() &&
         !digits.empty();
}

bool has_wildcard(const std::string &s) {
  return s.find_first_of("*?[") != std::string::npos;
}

bool matches(const std::string &pattern, const std::string &name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

// "provider:a:b" with the provider's canonical name.
std::string display_of(ProbeKind kind, const std::vector<std::string> &parts) {
  std::string out = provider_name(kind);
  for (size_t i = 1; i < parts.size(); ++i)
    out += ":" + parts[i];
  return out;
}

bool is_kernel_function_kind(ProbeKind kind) {
  return kind == ProbeKind::Kprobe || kind == ProbeKind::Kretprobe ||
         kind == ProbeKind::Fentry || kind == ProbeKind::Fexit;
}

class AttachResolver {
public:
  AttachResolver(Diagnostics &diags, SemanticResult &result)
      : diags_(diags), result_(result) {}

  void resolve(const ast::Probe &probe, size_t probe_index) {
    ProbeInfo info;
    std::vector<SkippedAttachPoint> skipped;
    size_t errors = diags_.error_count();
    for (const auto &ap : probe.attach_points)
      resolve_point(ap, probe_index, info, skipped);
    if (info.points.empty() && diags_.error_count() == errors) {
      // Nothing of this probe can run: each skipped point is an error.
      for (auto &s : skipped) {
        auto &d = diags_.error(s.range, s.reason);
        for (auto &h : s.hints)
          d.hint(std::move(h));
      }
    } else {
      for (auto &s : skipped)
        result_.skipped.push_back(std::move(s));
    }
    result_.probes.push_back(std::move(info));
  }

private:
  void resolve_point(const ast::AttachPoint &ap, size_t probe_index,
                     ProbeInfo &info,
                     std::vector<SkippedAttachPoint> &skipped) {
    const auto &parts = ap.parts;
    const Provider *provider =
        parts.empty() ? nullptr : find_provider(parts[0]);
    if (!provider) {
      auto &d =
          diags_.error(ap.range, "unknown probe type '" +
                                     (parts.empty() ? ap.raw : parts[0]) + "'");
      std::string guess =
          parts.empty() ? "" : closest_match(parts[0], provider_names());
      if (!guess.empty())
        d.hint("did you mean '" + guess + "'?");
      return;
    }
    ProbeDesc desc;
    desc.kind = provider->kind;
    desc.range = ap.range;
    desc.probe_index = probe_index;
    desc.display = display_of(provider->kind, parts);
    Expansion out{ap, desc, info, skipped};

    switch (provider->kind) {
    case ProbeKind::Begin:
    case ProbeKind::End:
      if (expect_parts(ap, 1, 1, provider->name))
        info.points.push_back({desc, nullptr});
      return;
    case ProbeKind::Tracepoint:
      resolve_tracepoint(out);
      return;
    case ProbeKind::RawTracepoint:
      if (!expect_parts(ap, 2, 2, "rawtracepoint:NAME"))
        return;
      desc.target = parts[1];
      break;
    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe:
    case ProbeKind::Fentry:
    case ProbeKind::Fexit:
      resolve_kernel_function(out);
      return;
    case ProbeKind::Uprobe:
    case ProbeKind::Uretprobe:
      resolve_uprobe(out);
      return;
    case ProbeKind::Interval:
    case ProbeKind::Profile:
      if (!resolve_timer(ap, desc))
        return;
      break;
    case ProbeKind::Software:
    case ProbeKind::Hardware:
      if (!expect_parts(ap, 2, 3, std::string(parts[0]) + ":EVENT[:COUNT]"))
        return;
      desc.target = parts[1];
      // 0: the event's own default period (see the runtime's event table).
      if (parts.size() == 3 && !parse_number(parts[2], desc.period)) {
        diags_.error(ap.range, "invalid count '" + parts[2] + "'");
        return;
      }
      break;
    }
    info.points.push_back({desc, nullptr});
  }

  // What one written attach point expands into.
  struct Expansion {
    const ast::AttachPoint &ap;
    ProbeDesc desc; // the common fields
    ProbeInfo &info;
    std::vector<SkippedAttachPoint> &skipped;

    void skip(std::string reason, std::vector<std::string> hints = {}) {
      skipped.push_back({desc.display, desc.range, desc.probe_index,
                         std::move(reason), std::move(hints)});
    }
  };

  bool expect_parts(const ast::AttachPoint &ap, size_t min, size_t max,
                    const std::string &form) {
    if (ap.parts.size() >= min && ap.parts.size() <= max)
      return true;
    diags_.error(ap.range, "invalid attach point '" + ap.raw + "'")
        .hint("expected " + form);
    return false;
  }

  bool split_offset(const ast::AttachPoint &ap, const std::string &text,
                    std::string &function, uint64_t &offset) {
    size_t plus = text.find('+');
    function = text.substr(0, plus);
    if (plus == std::string::npos)
      return true;
    if (!parse_number(text.substr(plus + 1), offset)) {
      diags_.error(ap.range, "invalid offset '" + text.substr(plus + 1) + "'")
          .hint("expected a byte offset such as +0x10 or +16");
      return false;
    }
    return true;
  }

  bool resolve_timer(const ast::AttachPoint &ap, ProbeDesc &desc) {
    const auto &parts = ap.parts;
    const std::string form = parts[0] + ":{s,ms,us,hz}:N";
    if (!expect_parts(ap, 3, 3, form))
      return false;
    uint64_t n = 0;
    if (!parse_number(parts[2], n) || n == 0) {
      diags_.error(ap.range, "invalid rate '" + parts[2] + "'")
          .hint("expected a positive whole number");
      return false;
    }
    const std::string &unit = parts[1];
    if (unit == "s")
      desc.period = n * 1000000000ULL;
    else if (unit == "ms")
      desc.period = n * 1000000ULL;
    else if (unit == "us")
      desc.period = n * 1000ULL;
    else if (unit == "hz")
      desc.period = 1000000000ULL / n;
    else {
      diags_.error(ap.range, "invalid time unit '" + unit + "'")
          .hint("expected " + form);
      return false;
    }
    if (unit == "hz" && desc.kind == ProbeKind::Profile) {
      desc.frequency = n;
      desc.period = 0;
    }
    return true;
  }

  // --- tracepoint -----------------------------------------------------------

  void resolve_tracepoint(Expansion &out) {
    const auto &ap = out.ap;
    if (!expect_parts(ap, 3, 3, "tracepoint:CATEGORY:NAME"))
      return;
    const std::string &category = ap.parts[1], &name = ap.parts[2];
    if (!has_wildcard(category) && !has_wildcard(name)) {
      add_tracepoint(out, category, name);
      return;
    }
    // The kernel's tracepoints, or hvt's shipped formats for a category the
    // kernel lacks (so `tracepoint:xen:*` compiles anywhere).
    size_t before = out.info.points.size();
    for (const auto &cat : tracepoint_categories()) {
      if (!matches(category, cat))
        continue;
      for (const auto &event : tracepoints_in(cat))
        if (matches(name, event))
          add_tracepoint(out, cat, event);
    }
    if (out.info.points.size() > before)
      return;
    std::vector<std::string> hints;
    if (!has_wildcard(category))
      hints = tracefs::explain_missing(category, name).hints;
    if (hints.empty())
      hints.push_back("list the tracepoints with hvt -l 'tracepoint:*'");
    out.skip("no tracepoint matches '" + category + ":" + name +
                 "' on this kernel",
             hints);
  }

  void add_tracepoint(Expansion &out, const std::string &category,
                      const std::string &name) {
    ProbeDesc desc = out.desc;
    desc.target = category + ":" + name;
    desc.display = "tracepoint:" + desc.target;
    std::string error;
    auto format = load_tracepoint_format(category, name, error);
    if (!format) {
      // Without its format the probe's args cannot be typed: skip it.
      tracefs::Missing why = tracefs::explain_missing(category, name);
      Expansion one{out.ap, desc, out.info, out.skipped};
      one.skip(why.reason.empty() ? error : why.reason, why.hints);
      return;
    }
    out.info.points.push_back({desc, format});
  }

  // --- kprobe, kretprobe, fentry, fexit
  // ---------------------------------------

  void resolve_kernel_function(Expansion &out) {
    const auto &ap = out.ap;
    const auto &parts = ap.parts;
    ProbeKind kind = out.desc.kind;
    if (!expect_parts(ap, 2, 3,
                      std::string(parts[0]) + ":[MODULE:]FUNCTION[+OFFSET]"))
      return;
    ProbeDesc &desc = out.desc;
    if (!split_offset(ap, parts.back(), desc.function, desc.offset))
      return;
    desc.target = parts.size() == 3 ? parts[1] : "";
    if (desc.offset && kind != ProbeKind::Kprobe) {
      diags_.error(ap.range, "an offset is only allowed on kprobe and uprobe")
          .hint("kretprobe, fentry and fexit attach to a whole function");
      return;
    }
    if (desc.function.empty()) {
      diags_.error(ap.range, "invalid attach point '" + ap.raw + "'")
          .hint("expected " + std::string(parts[0]) +
                ":[MODULE:]FUNCTION[+OFFSET]");
      return;
    }
    if (!has_wildcard(desc.function) && !has_wildcard(desc.target)) {
      out.info.points.push_back({desc, nullptr});
      return;
    }
    if (desc.offset) {
      diags_.error(ap.range, "an offset cannot be combined with a wildcard");
      return;
    }
    // fentry can trace only what BTF describes; kprobes what ftrace allows.
    std::vector<kernel::Function> candidates;
    bool use_btf = (kind == ProbeKind::Fentry || kind == ProbeKind::Fexit) &&
                   desc.target.empty() && !kernel::btf_functions().empty();
    if (use_btf)
      for (const auto &name : kernel::btf_functions())
        candidates.push_back({name, ""});
    const auto &functions =
        use_btf ? candidates : kernel::traceable_functions();
    size_t before = out.info.points.size();
    // Several modules may define the same static function name: one point
    // each. (A set: `kprobe:*` matches ~50,000 functions here, and checking
    // each against the points so far took 4 s.)
    std::unordered_set<std::string> displays;
    for (const auto &f : functions) {
      if (!matches(desc.function, f.name) ||
          (!desc.target.empty() && !matches(desc.target, f.module)))
        continue;
      ProbeDesc one = desc;
      one.function = f.name;
      one.target = desc.target.empty() ? "" : f.module;
      one.display = std::string(provider_name(kind)) + ":" +
                    (one.target.empty() ? "" : one.target + ":") + f.name;
      if (displays.insert(one.display).second)
        out.info.points.push_back({one, nullptr});
    }
    if (out.info.points.size() == before)
      out.skip("no kernel function matches '" +
                   (desc.target.empty() ? "" : desc.target + ":") +
                   desc.function + "'",
               {"list the functions with hvt -l '" +
                std::string(provider_name(kind)) + ":*'"});
  }

  // --- uprobe, uretprobe -----------------------------------------------------

  void resolve_uprobe(Expansion &out) {
    const auto &ap = out.ap;
    std::string form = std::string(ap.parts[0]) + ":BINARY:FUNCTION[+OFFSET]";
    if (!expect_parts(ap, 3, 3, form))
      return;
    ProbeDesc &desc = out.desc;
    if (!split_offset(ap, ap.parts[2], desc.function, desc.offset))
      return;
    if (desc.offset && desc.kind == ProbeKind::Uretprobe) {
      diags_.error(ap.range, "an offset is only allowed on kprobe and uprobe")
          .hint("uretprobe attaches to a whole function");
      return;
    }
    const std::string &written = ap.parts[1];
    desc.target = binaries::resolve(
        written, static_cast<int>(result_.options.target_pid));
    if (desc.target.empty()) {
      // Left to the runtime, which says the binary is missing.
      desc.target = written;
    }
    auto display = [&](const std::string &function) {
      return std::string(provider_name(desc.kind)) + ":" + desc.target + ":" +
             function +
             (desc.offset ? "+" + ap.parts[2].substr(ap.parts[2].find('+') + 1)
                          : "");
    };
    desc.display = display(desc.function);
    if (!has_wildcard(desc.function)) {
      out.info.points.push_back({desc, nullptr});
      return;
    }
    if (desc.offset) {
      diags_.error(ap.range, "an offset cannot be combined with a wildcard");
      return;
    }
    std::string error;
    auto elf = ElfReader::open(desc.target, error);
    if (!elf) {
      out.skip(written.find('/') == std::string::npos && desc.target == written
                   ? "no program or library named '" + written + "' was found"
                   : error);
      return;
    }
    size_t before = out.info.points.size();
    for (const auto &name : elf->function_names()) {
      if (!matches(desc.function, name))
        continue;
      ProbeDesc one = desc;
      one.function = name;
      one.display = display(name);
      out.info.points.push_back({one, nullptr});
    }
    if (out.info.points.size() == before)
      out.skip("no function of '" + desc.target + "' matches '" +
                   desc.function + "'",
               {"list them with hvt -l 'uprobe:" + desc.target + ":*'"});
  }

  Diagnostics &diags_;
  SemanticResult &result_;
};

} // namespace

void resolve_attach_points(const ast::Program &program, Diagnostics &diags,
                           SemanticResult &result) {
  AttachResolver resolver(diags, result);
  for (size_t i = 0; i < program.probes.size(); ++i)
    resolver.resolve(program.probes[i], i);
}

void add_fallback_points(SemanticResult &result) {
  for (auto &info : result.probes) {
    std::vector<ResolvedAttachPoint> points;
    for (auto &point : info.points) {
      points.push_back(point);
      const ProbeDesc &desc = point.desc;
      // fentry cannot attach at an offset into a function.
      if (!is_kernel_function_kind(desc.kind) || desc.offset)
        continue;
      ResolvedAttachPoint twin = point;
      switch (desc.kind) {
      case ProbeKind::Kprobe:
        twin.desc.kind = ProbeKind::Fentry;
        break;
      case ProbeKind::Kretprobe:
        twin.desc.kind = ProbeKind::Fexit;
        break;
      case ProbeKind::Fentry:
        twin.desc.kind = ProbeKind::Kprobe;
        break;
      default:
        twin.desc.kind = ProbeKind::Kretprobe;
        break;
      }
      twin.desc.fallback =
          true; // display stays: `probe` names what was written
      points.push_back(std::move(twin));
    }
    info.points = std::move(points);
  }
}

} // namespace hvt
