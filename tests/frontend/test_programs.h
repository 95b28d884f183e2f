// Every program text the repository holds, for tests that compare two
// implementations of one front-end step on all of them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

namespace hvt {

// Calls `check(path, text)` for each file of the standard scripts, the
// benchmark programs, the test data, the bad-input corpus and the fuzz
// corpus; returns how many there were.
inline size_t
for_each_test_program(const std::function<void(const std::string &path,
                                               const std::string &text)> &check) {
  namespace fs = std::filesystem;
  std::string root = HVT_SOURCE_DIR;
  size_t files = 0;
  for (const char *dir : {"scripts", "bench/programs", "tests/data",
                          "tests/bad_input", "tests/fuzz/corpus"}) {
    for (const auto &entry :
         fs::recursive_directory_iterator(root + "/" + dir)) {
      if (!entry.is_regular_file() || entry.file_size() > 1 << 20)
        continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      check(entry.path().string(), text.str());
      ++files;
    }
  }
  return files;
}

} // namespace hvt
