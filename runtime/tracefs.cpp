#include "tracefs.h"

#include "frontend/diagnostics.h"

#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace hvt::tracefs {

namespace {

bool is_dir(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool has_events(const std::string &dir) { return is_dir(dir + "/events"); }

std::string find_root() {
  for (const char *dir : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"})
    if (has_events(dir))
      return dir;
  // Not mounted: try to mount it ourselves (needs CAP_SYS_ADMIN).
  if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0 &&
      has_events("/sys/kernel/tracing"))
    return "/sys/kernel/tracing";
  return "";
}

std::vector<std::string> subdirectories(const std::string &path) {
  std::vector<std::string> names;
  if (DIR *dir = opendir(path.c_str())) {
    while (dirent *entry = readdir(dir))
      if (entry->d_name[0] != '.' && entry->d_type == DT_DIR)
        names.emplace_back(entry->d_name);
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace

const std::string &root() {
  static const std::string cached = find_root();
  return cached;
}

std::string format_path(const std::string &category, const std::string &name) {
  if (root().empty())
    return "";
  return root() + "/events/" + category + "/" + name + "/format";
}

std::vector<std::string> categories() {
  if (root().empty())
    return {};
  return subdirectories(root() + "/events");
}

std::vector<std::string> events(const std::string &category) {
  if (root().empty())
    return {};
  return subdirectories(root() + "/events/" + category);
}

Missing explain_missing(const std::string &category, const std::string &name) {
  Missing m;
  if (root().empty()) {
    m.reason = "the kernel's tracing filesystem (tracefs) is not available";
    m.hints.push_back("mount it: mount -t tracefs nodev /sys/kernel/tracing");
    return m;
  }
  std::string events_dir = root() + "/events";
  if (!is_dir(events_dir + "/" + category)) {
    m.reason =
        "tracepoint category '" + category + "' does not exist on this kernel";
    if (category == "xen") {
      m.hints.push_back("this kernel is not a Xen guest: tracepoint category "
                        "xen does not exist");
    } else if (category == "kvm" || category == "kvmmmu") {
      m.hints.push_back("KVM is not loaded: tracepoint category " + category +
                        " appears once the kvm module is loaded (modprobe "
                        "kvm)");
    } else {
      std::string guess = closest_match(category, categories());
      if (!guess.empty())
        m.hints.push_back("did you mean 'tracepoint:" + guess + ":" + name +
                          "'?");
    }
    return m;
  }
  if (!is_dir(events_dir + "/" + category + "/" + name)) {
    m.reason = "tracepoint '" + category + ":" + name +
               "' does not exist on this kernel";
    std::string guess = closest_match(name, events(category));
    if (!guess.empty())
      m.hints.push_back("did you mean 'tracepoint:" + category + ":" + guess +
                        "'?");
  }
  return m;
}

} // namespace hvt::tracefs
