// Runs the fuzz target once over every input named on the command line
// (files, or directories of files): the seed corpus and every crash ever
// found, as a regression test in every build. A failing input aborts, and
// the last "replaying" line names it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> inputs_in(const fs::path &path) {
  std::vector<fs::path> inputs;
  if (fs::is_directory(path)) {
    for (const auto &entry : fs::directory_iterator(path))
      if (entry.is_regular_file() && entry.path().filename().string()[0] != '.')
        inputs.push_back(entry.path());
    std::sort(inputs.begin(), inputs.end());
  } else {
    inputs.push_back(path);
  }
  return inputs;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    if (!fs::exists(argv[i])) {
      fprintf(stderr, "fuzz_replay: %s does not exist\n", argv[i]);
      return 2;
    }
    for (const auto &input : inputs_in(argv[i])) {
      std::ifstream file(input, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(file)),
                        std::istreambuf_iterator<char>());
      if (!file.good() && !file.eof()) {
        fprintf(stderr, "fuzz_replay: cannot read %s\n", input.c_str());
        return 2;
      }
      fprintf(stderr, "replaying %s\n", input.c_str());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                             bytes.size());
      ++replayed;
    }
  }
  if (replayed == 0) {
    fprintf(stderr, "fuzz_replay: no inputs found\n");
    return 2;
  }
  fprintf(stderr, "fuzz_replay: %zu inputs, no failures\n", replayed);
  return 0;
}
