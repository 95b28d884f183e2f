// The code generator plugin as the hvt binary loads it
// (compiler/driver/codegen_plugin_loader.cpp): where its hot code is, and
// warm_code_generator() reading it, also while the plugin is unloaded.
#include "driver/codegen_backend.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace hvt {
namespace {

// The plugin this build made, whatever the loader would find first.
const CodegenBackend &plugin() {
  setenv("HVT_CODEGEN", HVT_CODEGEN_PLUGIN, 1);
  return codegen_backend();
}

// Pages of [begin, end) that are mapped in this process (/proc/self/pagemap).
std::size_t mapped_pages(const char *begin, const char *end) {
  const std::size_t page = getpagesize();
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  std::size_t mapped = 0;
  for (auto at = reinterpret_cast<std::uintptr_t>(begin) / page * page;
       at < reinterpret_cast<std::uintptr_t>(end); at += page) {
    std::uint64_t entry = 0;
    EXPECT_EQ(pread(fd, &entry, sizeof entry, at / page * sizeof entry),
              ssize_t(sizeof entry));
    mapped += entry >> 63;
  }
  close(fd);
  return mapped;
}

std::size_t pages_in(const char *begin, const char *end) {
  const std::size_t page = getpagesize();
  return (reinterpret_cast<std::uintptr_t>(end) + page - 1) / page -
         reinterpret_cast<std::uintptr_t>(begin) / page;
}

TEST(CodegenPlugin, HotCodeIsInThePlugin) {
  const CodegenBackend &backend = plugin();
  ASSERT_NE(backend.compile_to_bpf, nullptr) << backend.error;
#ifdef HVT_EXPECT_HOT_CODE
  ASSERT_NE(backend.hot_code_begin, nullptr);
  ASSERT_LT(backend.hot_code_begin, backend.hot_code_end);
  // About 7 MiB of LLVM's 21 MiB of code (docs/performance.md).
  const std::size_t size = backend.hot_code_end - backend.hot_code_begin;
  EXPECT_GT(size, std::size_t(1) << 20);
  EXPECT_LT(size, std::size_t(16) << 20);
  for (const char *at : {backend.hot_code_begin, backend.hot_code_end - 1}) {
    Dl_info info{};
    ASSERT_NE(dladdr(at, &info), 0);
    EXPECT_EQ(std::string(info.dli_fname), HVT_CODEGEN_PLUGIN);
  }
#else
  // Linked without its section order: no bounds, nothing to read.
  EXPECT_EQ(backend.hot_code_begin, nullptr);
  EXPECT_EQ(backend.hot_code_end, nullptr);
#endif
}

TEST(CodegenPlugin, WarmingMapsEveryPageOfTheHotCode) {
  const CodegenBackend &backend = plugin();
  ASSERT_NE(backend.compile_to_bpf, nullptr) << backend.error;
#ifdef HVT_EXPECT_HOT_CODE
  const std::size_t pages =
      pages_in(backend.hot_code_begin, backend.hot_code_end);
  // Unmapped first: how much loading maps depends on the page cache (from
  // a freshly written file, the kernel may map whole 2 MiB folios).
  // Nothing is lost: the code is read again from the page cache.
  const std::size_t page = getpagesize();
  auto *first = reinterpret_cast<char *>(
      reinterpret_cast<std::uintptr_t>(backend.hot_code_begin) / page * page);
  ASSERT_EQ(madvise(first, pages * page, MADV_DONTNEED), 0);
  EXPECT_LT(mapped_pages(backend.hot_code_begin, backend.hot_code_end),
            pages / 2);
  EXPECT_TRUE(warm_code_generator());
  EXPECT_EQ(mapped_pages(backend.hot_code_begin, backend.hot_code_end), pages);
#else
  EXPECT_FALSE(warm_code_generator());
#endif
}

// Unloading while another thread warms: no crash, and nothing left to
// read once unloaded. (In a child process: the loader loads and unloads
// once per process.)
TEST(CodegenPlugin, WarmingStopsOnceUnloaded) {
  EXPECT_EXIT(
      {
        if (!plugin().compile_to_bpf)
          _exit(2);
        std::atomic<int> rounds{0};
        // Warms until there is nothing left to read.
        std::thread warmer([&] {
          while (warm_code_generator())
            ++rounds;
          ++rounds;
        });
        while (rounds.load() == 0)
          std::this_thread::yield();
        const bool unloaded = unload_code_generator();
        warmer.join();
        if (!unloaded || warm_code_generator() ||
            codegen_backend().compile_to_bpf)
          _exit(3);
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

#ifdef HVT_EXPECT_HOT_CODE
// A copy of the plugin whose hot range was written wrong (past the end of
// its code) loads, but warming reads nothing: no crash.
TEST(CodegenPlugin, RangeOutsideThePluginIsNotRead) {
  std::ifstream in(HVT_CODEGEN_PLUGIN, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  const std::string magic(kHotCodeRangeMagic, sizeof kHotCodeRangeMagic);
  const std::size_t at = bytes.find(magic);
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes.find(magic, at + 1), std::string::npos);
  std::int64_t range[2];
  std::memcpy(range, bytes.data() + at + magic.size(), sizeof range);
  ASSERT_LT(range[0], range[1]); // written by layout_codegen.py
  range[1] = range[0] + (std::int64_t(1) << 40);
  std::memcpy(bytes.data() + at + magic.size(), range, sizeof range);
  const std::string copy = ::testing::TempDir() + "hvt_codegen_bad_range.so";
  std::ofstream(copy, std::ios::binary) << bytes;
  // A child started afresh: this process may have loaded the plugin.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("HVT_CODEGEN", copy.c_str(), 1);
        const CodegenBackend &backend = codegen_backend();
        if (!backend.compile_to_bpf)
          _exit(2);
        if (backend.hot_code_begin || warm_code_generator())
          _exit(3);
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  std::remove(copy.c_str());
}
#endif

} // namespace
} // namespace hvt
