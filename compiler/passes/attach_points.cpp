// Pass 1: attach point text -> ProbeDesc. Resolves provider aliases, checks
// each provider's target syntax, expands tracepoint wildcards against tracefs
// and loads the format of every tracepoint a probe uses.
#include "passes/semantic.h"
#include "tracefs.h"

#include <algorithm>
#include <charconv>
#include <dirent.h>
#include <fnmatch.h>

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

std::vector<std::string> provider_names() {
  std::vector<std::string> names;
  for (const auto &p : kProviders)
    names.push_back(p.name);
  return names;
}

bool parse_number(const std::string &text, uint64_t &value) {
  int base = 10;
  std::string_view digits = text;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  return ec == std::errc() && end == digits.data() + digits.size() && !digits.empty();
}

std::vector<std::string> list_dir(const std::string &path) {
  std::vector<std::string> names;
  if (DIR *dir = opendir(path.c_str())) {
    while (auto *entry = readdir(dir))
      if (entry->d_name[0] != '.')
        names.emplace_back(entry->d_name);
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool has_wildcard(const std::string &s) {
  return s.find_first_of("*?[") != std::string::npos;
}

class AttachResolver {
public:
  AttachResolver(Diagnostics &diags, SemanticResult &result)
      : diags_(diags), result_(result) {}

  void resolve(const ast::Probe &probe, size_t probe_index) {
    ProbeInfo info;
    for (const auto &ap : probe.attach_points)
      resolve_point(ap, probe_index, info);
    result_.probes.push_back(std::move(info));
  }

private:
  void resolve_point(const ast::AttachPoint &ap, size_t probe_index,
                     ProbeInfo &info) {
    const auto &parts = ap.parts;
    const Provider *provider = parts.empty() ? nullptr : find_provider(parts[0]);
    if (!provider) {
      auto &d = diags_.error(ap.range, "unknown probe type '" +
                                           (parts.empty() ? ap.raw : parts[0]) + "'");
      std::string guess = parts.empty() ? "" : closest_match(parts[0], provider_names());
      if (!guess.empty())
        d.hint("did you mean '" + guess + "'?");
      return;
    }
    ProbeDesc desc;
    desc.kind = provider->kind;
    desc.range = ap.range;
    desc.probe_index = probe_index;
    desc.display = ap.raw;

    switch (provider->kind) {
    case ProbeKind::Begin:
    case ProbeKind::End:
      if (!expect_parts(ap, 1, 1, provider->name))
        return;
      desc.display = provider->name;
      info.points.push_back({desc, nullptr});
      return;
    case ProbeKind::Tracepoint:
      resolve_tracepoint(ap, desc, info);
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
      if (!expect_parts(ap, 2, 3, std::string(parts[0]) + ":[MODULE:]FUNCTION"))
        return;
      if (!split_offset(ap, parts.back(), desc.function, desc.offset))
        return;
      desc.target = parts.size() == 3 ? parts[1] : "";
      if (desc.offset && provider->kind != ProbeKind::Kprobe) {
        diags_.error(ap.range, "an offset is only allowed on kprobe and uprobe");
        return;
      }
      break;
    case ProbeKind::Uprobe:
    case ProbeKind::Uretprobe:
      if (!expect_parts(ap, 3, 3, std::string(parts[0]) + ":PATH:FUNCTION"))
        return;
      desc.target = parts[1];
      if (!split_offset(ap, parts[2], desc.function, desc.offset))
        return;
      break;
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
      desc.period = provider->kind == ProbeKind::Software ? 1000 : 1000000;
      if (parts.size() == 3 && !parse_number(parts[2], desc.period)) {
        diags_.error(ap.range, "invalid count '" + parts[2] + "'");
        return;
      }
      break;
    }
    info.points.push_back({desc, nullptr});
  }

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
      diags_.error(ap.range, "invalid offset '" + text.substr(plus + 1) + "'");
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
      diags_.error(ap.range, "invalid time unit '" + unit + "'").hint("expected " + form);
      return false;
    }
    if (unit == "hz" && desc.kind == ProbeKind::Profile) {
      desc.frequency = n;
      desc.period = 0;
    }
    return true;
  }

  void resolve_tracepoint(const ast::AttachPoint &ap, ProbeDesc desc,
                          ProbeInfo &info) {
    if (!expect_parts(ap, 3, 3, "tracepoint:CATEGORY:NAME"))
      return;
    const std::string &category = ap.parts[1], &name = ap.parts[2];
    if (!has_wildcard(category) && !has_wildcard(name)) {
      add_tracepoint(ap, desc, category, name, info);
      return;
    }
    // Expand against the running kernel's tracefs.
    size_t before = info.points.size();
    std::string events = tracefs::root() + "/events";
    for (const auto &cat : list_dir(events)) {
      if (fnmatch(category.c_str(), cat.c_str(), 0) != 0)
        continue;
      for (const auto &event : list_dir(events + "/" + cat))
        if (fnmatch(name.c_str(), event.c_str(), 0) == 0 &&
            event != "enable" && event != "filter")
          add_tracepoint(ap, desc, cat, event, info);
    }
    if (info.points.size() == before)
      diags_.error(ap.range, "no tracepoint matches '" + ap.raw + "'");
  }

  void add_tracepoint(const ast::AttachPoint &ap, ProbeDesc desc,
                      const std::string &category, const std::string &name,
                      ProbeInfo &info) {
    std::string error;
    auto format = load_tracepoint_format(category, name, error);
    if (!format) {
      auto &d = diags_.error(ap.range, error);
      if (category == "xen")
        d.hint("this kernel is not a Xen guest: tracepoint category xen does not exist");
      else if (error.find("category") == std::string::npos) {
        auto guess = closest_match(name, list_dir(tracefs::root() + "/events/" + category));
        if (!guess.empty())
          d.hint("did you mean '" + category + ":" + guess + "'?");
      }
      return;
    }
    desc.target = category + ":" + name;
    desc.display = "tracepoint:" + desc.target;
    info.points.push_back({desc, format});
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

} // namespace hvt
