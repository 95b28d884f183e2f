#include "frontend/install_paths.h"

#include <unistd.h>

#include <climits>

namespace hvt {

std::string executable_directory() {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0)
    return "";
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

} // namespace hvt
