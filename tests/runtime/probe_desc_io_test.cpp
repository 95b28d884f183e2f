// Round trips of the stored metadata of a compiled program (program_io.h):
// a cached program must give each link the attach cookie its program reads
// `probe` by (codegen's probe_by_cookie()), and print values as compiled.
#include "program_io.h"

#include <gtest/gtest.h>

#include <string>

namespace hvt {
namespace {

// `program`'s metadata written to JSON and read back.
CompiledProgram round_trip(const CompiledProgram &program) {
  std::string json = program_metadata_to_json(program);
  CompiledProgram back;
  std::string error;
  EXPECT_TRUE(program_metadata_from_json(json, back, error)) << error;
  EXPECT_EQ(program_metadata_to_json(back), json);
  return back;
}

TEST(ProbeDescIo, RoundTripKeepsEachPointsAttachCookie) {
  CompiledProgram program;
  for (uint64_t cookie : {0u, 1u, 359u}) {
    ProbeDesc probe;
    probe.kind = ProbeKind::Tracepoint;
    probe.program_name = "tracepoint_syscalls_sys_enter_read_0_0";
    probe.display = "tracepoint:syscalls:sys_enter_" + std::to_string(cookie);
    probe.target = "syscalls:sys_enter_" + std::to_string(cookie);
    probe.attach_cookie = cookie;
    program.probes.push_back(probe);
  }
  CompiledProgram back = round_trip(program);
  ASSERT_EQ(back.probes.size(), 3u);
  EXPECT_EQ(back.probes[0].attach_cookie, 0u);
  EXPECT_EQ(back.probes[1].attach_cookie, 1u);
  EXPECT_EQ(back.probes[2].attach_cookie, 359u);
  EXPECT_EQ(back.probes[2].program_name, program.probes[0].program_name);
}

// An address keeps its mark through the cache, so a cached run prints its
// keys in hex too (output.cpp).
TEST(ProbeDescIo, RoundTripKeepsWhichValuesAreAddresses) {
  CompiledProgram program;
  Type address = Type::uint64();
  address.is_pointer = true;
  MapDesc map;
  map.name = "@m";
  map.elf_name = "m";
  map.key = Type::tuple({address, Type::uint64()});
  map.value = address;
  program.maps.push_back(map);
  CompiledProgram back = round_trip(program);
  ASSERT_EQ(back.maps.size(), 1u);
  EXPECT_EQ(back.maps[0].key, map.key);
  EXPECT_TRUE(back.maps[0].key.fields[0].is_pointer);
  EXPECT_FALSE(back.maps[0].key.fields[1].is_pointer);
  EXPECT_TRUE(back.maps[0].value.is_pointer);
}

} // namespace
} // namespace hvt
