// BEGIN and END blocks that only send constant records get no BPF program:
// codegen stores the records, byte for byte what the program would have
// sent, and the runtime handles them (codegen.cpp, "constant records").
#include "driver/pipeline.h"

#include <gtest/gtest.h>

#include <cstring>

namespace hvt {
namespace {

CompiledProgram compiled(const std::string &text) {
  SourceFile source("constant.ht", text);
  Diagnostics diags;
  CompileOptions options;
  options.semantic.read_environment = false;
  auto program = compile(source, options, diags);
  EXPECT_TRUE(program) << diags.render(source);
  return program ? std::move(*program) : CompiledProgram{};
}

struct Record {
  EventKind kind;
  uint32_t id;
  std::vector<uint8_t> payload;
};

std::vector<Record> records_of(const ProbeDesc &probe) {
  std::vector<Record> out;
  const auto &bytes = probe.constant_records;
  size_t at = 0;
  while (at + 4 <= bytes.size()) {
    uint32_t size;
    memcpy(&size, bytes.data() + at, 4);
    at += 4;
    EXPECT_GE(size, sizeof(EventHeader));
    EXPECT_LE(at + size, bytes.size());
    EventHeader header;
    memcpy(&header, bytes.data() + at, sizeof(header));
    out.push_back({static_cast<EventKind>(header.kind), header.id,
                   std::vector<uint8_t>(bytes.begin() + at + sizeof(header),
                                        bytes.begin() + at + size)});
    at += size;
  }
  EXPECT_EQ(at, bytes.size());
  return out;
}

const ProbeDesc &probe_of(const CompiledProgram &program, ProbeKind kind) {
  for (const auto &probe : program.probes)
    if (probe.kind == kind)
      return probe;
  static const ProbeDesc none;
  ADD_FAILURE() << "no such probe";
  return none;
}

TEST(ConstantRecords, PrintfOfLiteralsAndExitNeedNoProgram) {
  auto program =
      compiled("BEGIN { printf(\"%d %s\\n\", 42, \"yo\"); exit(); }");
  const ProbeDesc &begin = probe_of(program, ProbeKind::Begin);
  EXPECT_EQ(begin.program_name, "");
  auto records = records_of(begin);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].kind, EventKind::Printf);
  ASSERT_EQ(records[0].id, 0u);
  ASSERT_EQ(program.printfs.size(), 1u);
  const Type &args = program.printfs[0].args;
  ASSERT_EQ(records[0].payload.size(), args.size);
  uint64_t number;
  memcpy(&number, records[0].payload.data() + args.offsets[0], 8);
  EXPECT_EQ(number, 42u);
  EXPECT_STREQ(reinterpret_cast<const char *>(records[0].payload.data() +
                                              args.offsets[1]),
               "yo");
  EXPECT_EQ(records[1].kind, EventKind::Exit);
  EXPECT_TRUE(records[1].payload.empty());
  // Nothing else sends a record: no ring buffer either.
  EXPECT_EQ(program.ringbuf_name, "");
}

TEST(ConstantRecords, MapEventsInEnd) {
  auto program = compiled("tracepoint:raw_syscalls:sys_enter { @a[tid] = 1; "
                          "@b = count(); }\n"
                          "END { clear(@a); print(@b); zero(@b); }");
  const ProbeDesc &end = probe_of(program, ProbeKind::End);
  EXPECT_EQ(end.program_name, "");
  auto records = records_of(end);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].kind, EventKind::ClearMap);
  EXPECT_EQ(program.maps.at(records[0].id).name, "@a");
  EXPECT_EQ(records[1].kind, EventKind::PrintMap);
  EXPECT_EQ(program.maps.at(records[1].id).name, "@b");
  EXPECT_EQ(records[1].payload, std::vector<uint8_t>(16, 0)); // top, div
  EXPECT_EQ(records[2].kind, EventKind::ZeroMap);
}

TEST(ConstantRecords, AnythingElseKeepsItsProgram) {
  for (const char *text : {
           "BEGIN { printf(\"%d\\n\", pid); }",        // a builtin
           "BEGIN { printf(\"x\\n\"); @x = count(); }", // an aggregation
           "BEGIN { $a = 1; printf(\"%d\\n\", $a); }",  // a variable
           "BEGIN { print(@x, 3); } END { @x[1] = 1; }", // print with top
           "BEGIN { printf(\"a\\n\"); } BEGIN { printf(\"b\\n\"); }", // two
       }) {
    auto program = compiled(text);
    EXPECT_NE(probe_of(program, ProbeKind::Begin).program_name, "") << text;
  }
}

} // namespace
} // namespace hvt
