// Text of the language's symbolized values (stacks, ksym/usym, username,
// strftime), cat(), per-CPU variables and array maps, built from bytes by
// hand the way codegen lays them out (runtime/types.h). The expected text is
// bpftrace 0.17's.
#include "language_support.h"
#include "output.h"
#include "symbolizer.h"

#include <gtest/gtest.h>

#include <climits>

#include <pwd.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <fstream>

// A function of this binary for usym() to name.
extern "C" __attribute__((noinline)) int hvt_test_symbol_target(int x) {
  asm volatile("");
  return x + 1;
}

namespace hvt {
namespace {

using Bytes = std::vector<uint8_t>;

template <typename T> void put(Bytes &b, size_t at, T v) {
  if (b.size() < at + sizeof(T))
    b.resize(at + sizeof(T));
  memcpy(b.data() + at, &v, sizeof(T));
}

Bytes stack_value(int64_t id, uint32_t limit, StackMode mode, uint64_t pid = 0,
                  bool user = false) {
  Bytes b(user ? kUStackSize : kKStackSize, 0);
  put(b, 0, id);
  put(b, 8, limit);
  b[12] = static_cast<uint8_t>(mode);
  if (user)
    put(b, 16, pid);
  return b;
}

uint64_t kernel_symbol(const char *name) {
  auto address = symbolizer::kernel_address(name);
  EXPECT_TRUE(address) << name << " is not in /proc/kallsyms";
  return address.value_or(0);
}

// Stack map contents for the tests: id 7 holds vfs_read+4, vfs_write.
class Stacks : public ::testing::Test {
protected:
  void SetUp() override {
    uint64_t read = kernel_symbol("vfs_read") + 4;
    uint64_t write = kernel_symbol("vfs_write");
    set_stack_reader(
        [=](uint32_t limit, int64_t id, std::vector<uint64_t> &frames) {
          if (id != 7)
            return false;
          frames.assign(limit, 0);
          frames[0] = read;
          if (limit > 1)
            frames[1] = write;
          return true;
        });
  }
  void TearDown() override { set_stack_reader({}); }

  Type kstack = Type::of_kind(TypeKind::KStack, kKStackSize);
};

TEST_F(Stacks, BpftraceModeIndentsFramesByEight) {
  Bytes v = stack_value(7, 127, StackMode::Bpftrace);
  EXPECT_EQ(format_value(kstack, v.data(), v.size()),
            "\n        vfs_read+4\n        vfs_write+0\n");
}

TEST_F(Stacks, FramesStopAtTheLimit) {
  Bytes v = stack_value(7, 1, StackMode::Bpftrace);
  EXPECT_EQ(format_value(kstack, v.data(), v.size()), "\n        vfs_read+4\n");
}

TEST_F(Stacks, PerfModeShowsAddresses) {
  Bytes v = stack_value(7, 2, StackMode::Perf);
  char expected[256];
  snprintf(expected, sizeof(expected),
           "\n\t%llx vfs_read+4\n\t%llx vfs_write+0\n",
           static_cast<unsigned long long>(kernel_symbol("vfs_read") + 4),
           static_cast<unsigned long long>(kernel_symbol("vfs_write")));
  EXPECT_EQ(format_value(kstack, v.data(), v.size()), expected);
}

TEST_F(Stacks, RawModeShowsOnlyAddresses) {
  Bytes v = stack_value(7, 1, StackMode::Raw);
  char expected[64];
  snprintf(expected, sizeof(expected), "\n%llx\n",
           static_cast<unsigned long long>(kernel_symbol("vfs_read") + 4));
  EXPECT_EQ(format_value(kstack, v.data(), v.size()), expected);
}

TEST_F(Stacks, StackThatWasNotStoredPrintsNoFrames) {
  Bytes missing = stack_value(-17, 127, StackMode::Bpftrace); // -EEXIST
  EXPECT_EQ(format_value(kstack, missing.data(), missing.size()), "\n");
  Bytes unknown = stack_value(8, 127, StackMode::Bpftrace);
  EXPECT_EQ(format_value(kstack, unknown.data(), unknown.size()), "\n");
}

TEST_F(Stacks, MapKeysIndentByFourAndValuesAreNotSeparated) {
  MapDesc map;
  map.name = "@";
  map.key = kstack;
  map.agg = AggKind::Count;
  MapEntry entry;
  entry.key = stack_value(7, 2, StackMode::Bpftrace);
  entry.value = Bytes(8, 0);
  put(entry.value, 0, uint64_t{3});
  EXPECT_EQ(format_map(map, {entry}),
            "@[\n    vfs_read+4\n    vfs_write+0\n]: 3\n");

  MapDesc values;
  values.name = "@s";
  values.value = kstack;
  MapEntry scalar;
  scalar.key = Bytes(8, 0);
  scalar.value = stack_value(7, 1, StackMode::Bpftrace);
  EXPECT_EQ(format_map(values, {scalar}), "@s: \n        vfs_read+4\n\n");
}

TEST(Symbols, KsymNamesTheFunctionOrPrintsTheAddress) {
  Type ksym = Type::of_kind(TypeKind::Ksym, 8);
  Bytes v(8, 0);
  put(v, 0, kernel_symbol("vfs_read") + 10);
  EXPECT_EQ(format_value(ksym, v.data(), v.size()), "vfs_read");
  put(v, 0, uint64_t{1234});
  EXPECT_EQ(format_value(ksym, v.data(), v.size()), "0x4d2");
  put(v, 0, uint64_t{0});
  EXPECT_EQ(format_value(ksym, v.data(), v.size()), "0"); // as bpftrace
}

TEST(Symbols, UsymNamesAFunctionOfTheProcess) {
  Type usym = Type::of_kind(TypeKind::Usym, kUsymSize);
  Bytes v(kUsymSize, 0);
  put(v, 0, reinterpret_cast<uint64_t>(&hvt_test_symbol_target) + 2);
  put(v, 8, static_cast<uint64_t>(getpid()));
  EXPECT_EQ(format_value(usym, v.data(), v.size()), "hvt_test_symbol_target");
  // Not mapped in this process: the address.
  put(v, 0, uint64_t{0x10});
  EXPECT_EQ(format_value(usym, v.data(), v.size()), "0x10");
}

TEST(Symbols, UserStackFramesNameFunctionsAndFiles) {
  set_stack_reader(
      [](uint32_t limit, int64_t id, std::vector<uint64_t> &frames) {
        frames.assign(limit, 0);
        frames[0] = reinterpret_cast<uint64_t>(&hvt_test_symbol_target);
        return true;
      });
  Type ustack = Type::of_kind(TypeKind::UStack, kUStackSize);
  Bytes v = stack_value(1, 4, StackMode::Bpftrace, getpid(), true);
  EXPECT_EQ(format_value(ustack, v.data(), v.size()),
            "\n        hvt_test_symbol_target+0\n");
  Bytes perf = stack_value(1, 4, StackMode::Perf, getpid(), true);
  char self_path[PATH_MAX] = {};
  std::string self = realpath("/proc/self/exe", self_path) ? self_path : "";
  char expected[4096];
  snprintf(expected, sizeof(expected),
           "\n\t%llx hvt_test_symbol_target+0 (%s)\n",
           static_cast<unsigned long long>(
               reinterpret_cast<uint64_t>(&hvt_test_symbol_target)),
           self.c_str());
  EXPECT_EQ(format_value(ustack, perf.data(), perf.size()), expected);
  set_stack_reader({});
}

TEST(Values, UsernameIsTheUsersName) {
  Type username = Type::of_kind(TypeKind::Username, 8);
  Bytes v(8, 0);
  EXPECT_EQ(format_value(username, v.data(), v.size()), "root");
  put(v, 0, uint64_t{4000000}); // no such user
  EXPECT_EQ(format_value(username, v.data(), v.size()), "4000000");
}

TEST(Values, StrftimeFormatsTheBootTimeAsLocalTime) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  Bytes v(8 + 16, 0);
  put(v, 0, static_cast<uint64_t>(now.tv_sec) * 1000000000 + now.tv_nsec);
  memcpy(v.data() + 8, "%Y|%%|static", 12);
  Type timestamp = Type::of_kind(TypeKind::Timestamp, 24);
  time_t wall = time(nullptr);
  struct tm tm;
  localtime_r(&wall, &tm);
  EXPECT_EQ(format_value(timestamp, v.data(), v.size()),
            std::to_string(tm.tm_year + 1900) + "|%|static");
}

TEST(Cat, PrintsTheNamedFile) {
  char path[] = "/tmp/hvt_cat_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "line one\nno newline", 19), 19);
  close(fd);
  PrintfDesc desc;
  desc.format = "%s";
  desc.args = Type::tuple({Type::string(24)});
  desc.action = PrintfAction::Cat;
  Bytes payload(24, 0);
  memcpy(payload.data(), path, strlen(path));
  EXPECT_EQ(format_printf(desc, payload.data(), payload.size()),
            "line one\nno newline");
  unlink(path);
  EXPECT_EQ(format_printf(desc, payload.data(), payload.size()), "");
}

TEST(PerCpuVariables, PlainValuesShowTheCpuThatWroteThem) {
  MapDesc map;
  map.name = "@last";
  map.key = Type::integer(4, false);
  map.value = Type::uint64();
  map.storage = MapStorage::PercpuArray;
  Bytes copies(8 * 3, 0); // CPU 0 and 2 never wrote this slot
  put(copies, 8, uint64_t{42});
  EXPECT_EQ(merge_percpu(map, copies.data(), 3),
            Bytes({42, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(PerCpuVariables, ArrayMapsPrintOnlyWrittenSlots) {
  MapDesc map;
  map.name = "@a";
  map.key = Type::integer(4, false);
  map.value = Type::uint64();
  map.storage = MapStorage::PercpuArray;
  std::vector<MapEntry> entries;
  for (uint32_t i = 0; i < 4; ++i) {
    MapEntry e;
    put(e.key, 0, i);
    put(e.value, 0, uint64_t{i == 2 ? 9u : 0u});
    entries.push_back(e);
  }
  EXPECT_EQ(format_map(map, entries), "@a[2]: 9\n");
}

TEST(PerCpuVariables, ArrayHistogramPrintsAsTheHashOneWould) {
  // A key-less lhist() in a per-CPU array (u32 bucket keys, every bucket
  // present) prints as the per-CPU hash of its non-empty buckets does.
  MapDesc array;
  array.name = "@l";
  array.agg = AggKind::LHist;
  array.lhist_min = 0, array.lhist_max = 100, array.lhist_step = 10;
  array.storage = MapStorage::PercpuArray;
  MapDesc hash = array;
  hash.storage = MapStorage::PercpuHash;
  std::vector<MapEntry> in_array, in_hash;
  for (uint32_t bucket = 0; bucket < 12; ++bucket) {
    uint64_t count = bucket == 3 ? 5 : bucket == 6 ? 2 : 0;
    MapEntry e;
    put(e.key, 0, bucket);
    put(e.value, 0, count);
    in_array.push_back(e);
    if (count) {
      MapEntry h;
      put(h.key, 0, uint64_t{bucket});
      put(h.value, 0, count);
      in_hash.push_back(h);
    }
  }
  std::string text = format_map(hash, in_hash);
  EXPECT_NE(text.find("[20, 30)"), std::string::npos) << text;
  EXPECT_EQ(format_map(array, in_array), text);
  // Nothing counted yet: printed as an empty hash map.
  for (auto &e : in_array)
    put(e.value, 0, uint64_t{0});
  EXPECT_EQ(format_map(array, in_array), format_map(hash, {}));
  // zero() marks the slot after the buckets: printed as a zeroed hash.
  MapEntry marker;
  put(marker.key, 0, uint32_t{12});
  put(marker.value, 0, uint64_t{1});
  in_array.push_back(marker);
  for (auto &h : in_hash)
    put(h.value, 0, uint64_t{0});
  EXPECT_EQ(format_map(array, in_array), format_map(hash, in_hash));
  EXPECT_EQ(format_map(array, in_array), "@l: \n\n");
}

TEST(FullMaps, WarningNamesTheMapAndHowToRaiseItsLimit) {
  MapDesc map;
  map.name = "@pids";
  map.max_entries = 4096;
  EXPECT_EQ(full_map_warning(map),
            "WARNING: @pids is full (4096 entries): updates of new keys may "
            "have been dropped\nhint: raise the limit with let @pids = "
            "hash(N), config = { max_map_keys = N } or "
            "BPFTRACE_MAP_KEYS_MAX=N");
  MapDesc counts = map;
  counts.storage = MapStorage::PercpuHash; // aggregations stay per-CPU
  std::string text = full_map_warning(counts);
  EXPECT_NE(text.find("let @pids = percpuhash(N)"), std::string::npos) << text;
}

} // namespace
} // namespace hvt
