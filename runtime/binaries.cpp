#include "binaries.h"
#include <fcntl.h>

#include <dirent.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hvt::binaries {

namespace {

bool is_regular_file(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string base_name(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The file names `name` may stand for, most specific first.
std::vector<std::string> library_names(const std::string &name) {
  std::vector<std::string> names = {name};
  if (name.rfind("lib", 0) != 0)
    names.push_back("lib" + name);
  return names;
}

// "libc.so.6" matches "libc", "libc.so" and "libc.so.6"; "libcrypt.so.1"
// does not match "libc".
bool names_library(const std::string &file, const std::string &wanted) {
  if (file == wanted)
    return true;
  if (wanted.find(".so") == std::string::npos)
    return file.rfind(wanted + ".so", 0) == 0;
  return file.rfind(wanted + ".", 0) == 0;
}

void read_ld_conf(const std::string &path, std::vector<std::string> &dirs,
                  int depth) {
  std::ifstream in(path);
  std::string line;
  while (depth < 8 && std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string word;
    if (!(words >> word))
      continue;
    if (word != "include") {
      dirs.push_back(word);
      continue;
    }
    std::string pattern;
    while (words >> pattern) {
      if (pattern.front() != '/')
        pattern = "/etc/" + pattern;
      glob_t matches{};
      if (glob(pattern.c_str(), 0, nullptr, &matches) == 0)
        for (size_t i = 0; i < matches.gl_pathc; ++i)
          read_ld_conf(matches.gl_pathv[i], dirs, depth + 1);
      globfree(&matches);
    }
  }
}

std::string find_library(const std::string &name) {
  for (const auto &dir : library_directories()) {
    DIR *d = opendir(dir.c_str());
    if (!d)
      continue;
    std::vector<std::string> found;
    while (dirent *entry = readdir(d))
      for (const auto &wanted : library_names(name))
        if (names_library(entry->d_name, wanted))
          found.push_back(dir + "/" + entry->d_name);
    closedir(d);
    // "libc.so" is often a linker script: only ELF files count. Prefer the
    // shortest name ("libc.so.6" over "libc.so.6.debug").
    std::sort(found.begin(), found.end(),
              [](const std::string &a, const std::string &b) {
                return a.size() != b.size() ? a.size() < b.size() : a < b;
              });
    for (const auto &path : found)
      if (is_elf(path))
        return path;
  }
  return "";
}

std::string find_in_process(const std::string &name, int pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    size_t slash = line.find('/');
    if (slash == std::string::npos)
      continue;
    std::string path = line.substr(slash);
    for (const auto &wanted : library_names(name))
      if (names_library(base_name(path), wanted))
        return path;
  }
  return "";
}

std::string find_on_path(const std::string &name) {
  const char *path = getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (is_regular_file(candidate) && access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "";
}

} // namespace

bool is_elf(const std::string &path) {
  // Only regular files: opening a FIFO or device named by a script must
  // never block or stream forever.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return false;
  struct stat st;
  char magic[4] = {};
  bool elf = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
             pread(fd, magic, sizeof magic, 0) == sizeof magic &&
             memcmp(magic, "\x7f" "ELF", 4) == 0;
  ::close(fd);
  return elf;
}

std::vector<std::string> library_directories() {
  std::vector<std::string> dirs;
  read_ld_conf("/etc/ld.so.conf", dirs, 0);
  for (const char *dir : {"/lib64", "/usr/lib64", "/lib", "/usr/lib"})
    dirs.push_back(dir);
  std::vector<std::string> unique;
  for (const auto &dir : dirs)
    if (std::find(unique.begin(), unique.end(), dir) == unique.end())
      unique.push_back(dir);
  return unique;
}

std::string resolve(const std::string &name, int pid) {
  if (name.empty() || name.find('/') != std::string::npos)
    return name;
  if (pid > 0)
    if (std::string mapped = find_in_process(name, pid); !mapped.empty())
      return mapped;
  if (std::string program = find_on_path(name); !program.empty())
    return program;
  return find_library(name);
}

} // namespace hvt::binaries
