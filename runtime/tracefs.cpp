#include "tracefs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hvt::tracefs {

namespace {

bool has_events(const std::string &dir) {
  struct stat st;
  return stat((dir + "/events").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

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

} // namespace hvt::tracefs
