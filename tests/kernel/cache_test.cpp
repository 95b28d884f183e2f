// The compile cache (compiler/driver/cache.h): the real hvt binary, pointed
// at a private cache directory, must hit on a repeated run, miss when the
// program, its arguments or the kernel change, and detect and rebuild a
// corrupt, foreign or stale entry instead of loading it. Plus the entry
// format's own checks, and that the code generator plugin (LLVM) is not mapped
// while a program is attached.
#include "driver/cache.h"
#include "driver/compiler_host.h"
#include "hvt_process.h"
#include "program_io.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;

namespace hvt::test {
namespace {

const char *kProgram = "BEGIN { printf(\"cached %d\\n\", $1); exit(); }";

// The identity hvt writes its entries with: its own build and its code
// generator's.
std::string hvt_identity() {
  return compiler_identity_of(HVT_BINARY, HVT_CODEGEN_PLUGIN);
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class CompileCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!bpf_available(why))
      GTEST_SKIP() << "BPF unavailable: " << why;
    ASSERT_TRUE(cache_.create());
    root_ = cache_.root();
    dir_ = cache_.dir();
    unsetenv("HVT_CACHE_KERNEL_ID");
  }
  void TearDown() override { unsetenv("HVT_CACHE_KERNEL_ID"); }

  // Runs the test program with $1 = `arg`, verbose, and checks its output.
  Finished run(const std::string &arg = "7",
               std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-v"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"-e", kProgram, arg});
    Finished done = run_hvt(args, 60s);
    EXPECT_EQ(done.exit_code, 0) << done.err;
    EXPECT_NE(done.out.find("cached " + arg + "\n"), std::string::npos)
        << done.out;
    return done;
  }

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR *d = opendir(dir_.c_str())) {
      while (dirent *e = readdir(d)) {
        std::string name = e->d_name;
        if (name.size() > 5 && name.substr(name.size() - 5) == ".hvtc")
          names.push_back(dir_ + "/" + name);
      }
      closedir(d);
    }
    return names;
  }

  // The key of the only entry (its file name).
  static std::string key_of(const std::string &path) {
    std::string name = path.substr(path.rfind('/') + 1);
    return name.substr(0, name.size() - 5);
  }

  PrivateCacheDir cache_;
  std::string root_, dir_;
};

bool has(const std::string &text, const std::string &what) {
  return text.find(what) != std::string::npos;
}

TEST_F(CompileCacheTest, SecondRunHitsAndDirectoryIsPrivate) {
  Finished first = run();
  EXPECT_TRUE(has(first.err, "compile cache: miss; stored")) << first.err;
  ASSERT_EQ(entries().size(), 1u);
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(st.st_uid, geteuid());
  ASSERT_EQ(stat(entries()[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Finished second = run();
  EXPECT_TRUE(has(second.err, "compile cache: hit")) << second.err;
  EXPECT_EQ(first.out, second.out);
  EXPECT_EQ(entries().size(), 1u);
}

TEST_F(CompileCacheTest, ArgumentsAndTextAreInTheKey) {
  run("7");
  Finished other_arg = run("8");
  EXPECT_TRUE(has(other_arg.err, "compile cache: miss")) << other_arg.err;
  EXPECT_EQ(entries().size(), 2u);
  Finished again = run("7");
  EXPECT_TRUE(has(again.err, "compile cache: hit")) << again.err;
}

TEST_F(CompileCacheTest, NoCacheCompilesAndStoresNothing) {
  Finished done = run("7", {"--no-cache"});
  EXPECT_FALSE(has(done.err, "compile cache")) << done.err;
  EXPECT_TRUE(entries().empty());
}

TEST_F(CompileCacheTest, KernelChangeMisses) {
  setenv("HVT_CACHE_KERNEL_ID", "kernel-a", 1);
  run();
  Finished same = run();
  EXPECT_TRUE(has(same.err, "compile cache: hit")) << same.err;
  setenv("HVT_CACHE_KERNEL_ID", "kernel-b", 1);
  Finished other = run();
  EXPECT_TRUE(has(other.err, "compile cache: miss")) << other.err;
  EXPECT_EQ(entries().size(), 2u);
}

TEST_F(CompileCacheTest, CorruptEntryIsRebuiltNotLoaded) {
  run();
  ASSERT_EQ(entries().size(), 1u);
  std::string path = entries()[0];
  std::string bytes = read_file(path);
  // A flipped byte in the middle of the object.
  bytes[bytes.size() / 2] ^= 0x40;
  write_file(path, bytes);
  Finished corrupt = run();
  EXPECT_TRUE(has(corrupt.err, "rejected")) << corrupt.err;
  EXPECT_TRUE(has(corrupt.err, "checksum mismatch")) << corrupt.err;
  EXPECT_TRUE(has(corrupt.err, "stored")) << corrupt.err;
  Finished repaired = run();
  EXPECT_TRUE(has(repaired.err, "compile cache: hit")) << repaired.err;

  // Truncated, then empty.
  bytes = read_file(path);
  write_file(path, bytes.substr(0, bytes.size() - 100));
  Finished truncated = run();
  EXPECT_TRUE(has(truncated.err, "rejected")) << truncated.err;
  write_file(path, "");
  Finished empty = run();
  EXPECT_TRUE(has(empty.err, "rejected")) << empty.err;
  Finished again = run();
  EXPECT_TRUE(has(again.err, "compile cache: hit")) << again.err;
}

TEST_F(CompileCacheTest, EntryOfAnotherKeyIsRejected) {
  run("7");
  run("8");
  auto names = entries();
  ASSERT_EQ(names.size(), 2u);
  // Whatever program is stored under the other key, it is not this one.
  write_file(names[0], read_file(names[1]));
  Finished a = run("7");
  Finished b = run("8");
  EXPECT_TRUE(has(a.err + b.err, "entry of another key")) << a.err << "\n"
                                                          << b.err;
}

TEST_F(CompileCacheTest, StaleDependencyIsRebuilt) {
  // A tracepoint program depends on the tracepoint's format file.
  const std::string program =
      "tracepoint:syscalls:sys_enter_getppid { @ = count(); } "
      "BEGIN { exit(); }";
  Finished first = run_hvt({"-v", "-e", program}, 60s);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(entries().size(), 1u);
  std::string path = entries()[0];
  std::string key = key_of(path);

  // The entry, as if the format had been different at compile time:
  // re-sealed, so only the dependency check can tell.
  CompiledProgram program_read;
  std::vector<CacheDependency> deps;
  std::string error;
  ASSERT_TRUE(decode_cache_entry(read_file(path), key, hvt_identity(),
                                 program_read, deps, error))
      << error;
  ASSERT_FALSE(deps.empty());
  bool found = false;
  for (auto &dep : deps) {
    if (dep.path.find("sys_enter_getppid/format") != std::string::npos) {
      EXPECT_TRUE(dependency_current(dep));
      dep.digest = "sha256:" + sha256_hex("another format");
      found = true;
    }
  }
  ASSERT_TRUE(found);
  write_file(path, encode_cache_entry(key, hvt_identity(), program_read, deps));
  Finished stale = run_hvt({"-v", "-e", program}, 60s);
  EXPECT_EQ(stale.exit_code, 0) << stale.err;
  EXPECT_TRUE(has(stale.err, "stale")) << stale.err;
  Finished again = run_hvt({"-v", "-e", program}, 60s);
  EXPECT_TRUE(has(again.err, "compile cache: hit")) << again.err;
}

TEST_F(CompileCacheTest, SharedDirectoryIsNotUsed) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  Finished done = run();
  EXPECT_TRUE(has(done.err, "compile cache: off")) << done.err;
  EXPECT_TRUE(has(done.err, "not private")) << done.err;
  EXPECT_TRUE(entries().empty());
}

// Neither a cached nor a compiling run keeps the compiler (and LLVM) mapped
// while its probes are attached. A compiling run unloads it right after the
// "Attaching" line (off the startup path), so this waits a little for that.
TEST_F(CompileCacheTest, CompilerIsNotMappedWhileAttached) {
  const std::vector<std::string> args = {
      "-e", "tracepoint:syscalls:sys_enter_getppid { @ = count(); }"};
  auto compiler_mapped = [](const std::string &maps) {
    return has(maps, "libhvt_codegen") || has(maps, "libLLVM");
  };
  for (int run_index = 0; run_index < 2; ++run_index) {
    HvtProcess hvt(args);
    ASSERT_TRUE(hvt.wait_for_stdout("Attaching 1 probe...\n", 60s));
    const std::string maps_path =
        "/proc/" + std::to_string(hvt.pid()) + "/maps";
    std::string maps = read_file(maps_path);
    if (run_index == 1) { // cached: the compiler was never loaded
      EXPECT_FALSE(compiler_mapped(maps)) << maps;
    }
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (compiler_mapped(maps) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
      maps = read_file(maps_path);
    }
    EXPECT_FALSE(compiler_mapped(maps)) << "run " << run_index << "\n" << maps;
    hvt.signal(SIGINT);
    Finished done = hvt.finish(30s);
    EXPECT_EQ(done.exit_code, 0) << done.err;
  }
  EXPECT_EQ(entries().size(), 1u);
}

// The entry format alone (no kernel needed, but kept with its users).
TEST(CompileCacheEntry, RoundTripAndEveryCheck) {
  CompiledProgram program;
  program.elf = {0x7f, 'E', 'L', 'F', 1, 2, 3};
  ProbeDesc probe;
  probe.kind = ProbeKind::Tracepoint;
  probe.program_name = "p";
  probe.display = "tracepoint:a:b";
  probe.target = "a:b";
  probe.range = {{1, 2}, {3, 4}};
  program.probes.push_back(probe);
  MapDesc map;
  map.name = "@x";
  map.elf_name = "m_x";
  map.key = Type::tuple({Type::int64(), Type::string(16)});
  map.value = Type::uint64();
  map.agg = AggKind::Hist;
  map.storage = MapStorage::PercpuHash;
  program.maps.push_back(map);
  PrintfDesc printf_desc;
  printf_desc.format = "%d %s\n";
  printf_desc.args = map.key;
  program.printfs.push_back(printf_desc);
  auto tables = std::make_shared<SymbolTables>();
  SymbolTable table;
  table.entries = {{1, "one"}, {2, "two"}};
  tables->tables.push_back(table);
  program.symbol_tables = tables;
  program.print_values.push_back(Type::symbolic(tables));
  // Stored as the record holds it, named by table 1 after a mask.
  program.print_values.push_back(Type::symbolic(tables, 1, 0xffff));
  std::vector<CacheDependency> deps = {{"/nonexistent/format", "absent"}};

  std::string bytes = encode_cache_entry("k1", "c1", program, deps);
  CompiledProgram back;
  std::vector<CacheDependency> back_deps;
  std::string error;
  ASSERT_TRUE(decode_cache_entry(bytes, "k1", "c1", back, back_deps, error))
      << error;
  EXPECT_EQ(back.elf, program.elf);
  EXPECT_EQ(back_deps, deps);
  EXPECT_EQ(program_metadata_to_json(back), program_metadata_to_json(program));
  ASSERT_TRUE(back.symbol_tables);
  EXPECT_EQ(back.print_values[0].symbols, back.symbol_tables);
  EXPECT_EQ(back.print_values[1], program.print_values[1]);
  EXPECT_EQ(back.print_values[1].symbol_mask, 0xffffu);
  EXPECT_TRUE(dependency_current(deps[0]));

  EXPECT_FALSE(decode_cache_entry(bytes, "k2", "c1", back, back_deps, error));
  EXPECT_EQ(error, "entry of another key");
  EXPECT_FALSE(decode_cache_entry(bytes, "k1", "c2", back, back_deps, error));
  EXPECT_EQ(error, "entry of another compiler build");
  for (size_t at : {size_t{0}, size_t{9}, bytes.size() / 2, bytes.size() - 1}) {
    std::string damaged = bytes;
    damaged[at] ^= 1;
    EXPECT_FALSE(
        decode_cache_entry(damaged, "k1", "c1", back, back_deps, error))
        << "byte " << at;
  }
  EXPECT_FALSE(decode_cache_entry(bytes.substr(0, bytes.size() - 1), "k1", "c1",
                                  back, back_deps, error));
  EXPECT_FALSE(decode_cache_entry("", "k1", "c1", back, back_deps, error));
  EXPECT_EQ(sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // FIPS 180-2's long message: many blocks, in one update.
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

} // namespace
} // namespace hvt::test
