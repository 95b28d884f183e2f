// The output ring buffer's size (codegen/ring_buffer_size.h): small when
// only BEGIN and END print a bounded number of records, the default
// otherwise.
#include "driver/pipeline.h"

#include <gtest/gtest.h>

#include <unistd.h>

namespace hvt {
namespace {

std::optional<CompiledProgram> compiled(const std::string &text) {
  SourceFile source("ringbuf.ht", text);
  Diagnostics diags;
  CompileOptions options;
  options.semantic.read_environment = false;
  auto program = compile(source, options, diags);
  EXPECT_TRUE(program) << diags.render(source);
  return program;
}

// 0: the program has no ring buffer.
uint32_t ring_buffer_size_of(const std::string &text) {
  auto program = compiled(text);
  if (!program)
    return 1;
  return program->ringbuf_name.empty() ? 0 : program->ringbuf_size;
}

const uint32_t kPage = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
const uint32_t kDefault = CompiledProgram{}.ringbuf_size;

TEST(RingBufferSize, OnePageWhenOnlyBeginAndEndPrintALittle) {
  EXPECT_EQ(ring_buffer_size_of("BEGIN { printf(\"%d\\n\", pid); exit(); }"),
            kPage);
  EXPECT_EQ(ring_buffer_size_of(
                "BEGIN { printf(\"a %d\\n\", pid); }\n"
                "tracepoint:raw_syscalls:sys_enter { @[tid] = count(); }\n"
                "END { printf(\"b %s\\n\", comm); clear(@); }"),
            kPage);
}

TEST(RingBufferSize, NoneWhenNoProgramSendsARecord) {
  EXPECT_EQ(ring_buffer_size_of(
                "tracepoint:raw_syscalls:sys_enter { @[tid] = count(); }"),
            0u);
  // BEGIN and END without programs (constant records, below).
  EXPECT_EQ(ring_buffer_size_of(
                "BEGIN { printf(\"hello\\n\"); }\n"
                "tracepoint:raw_syscalls:sys_enter { @[tid] = count(); }\n"
                "END { clear(@); }"),
            0u);
}

TEST(RingBufferSize, GrowsWithWhatBeginPrints) {
  // 300 records of at least 8 (ring buffer header) + 8 (hvt's header) + 16
  // (comm) bytes: more than two pages.
  std::string text = "BEGIN {";
  for (int i = 0; i < 300; ++i)
    text += " printf(\"%s\\n\", comm);";
  text += " }";
  uint32_t size = ring_buffer_size_of(text);
  EXPECT_GE(size, 300u * 32);
  EXPECT_EQ(size & (size - 1), 0u) << size; // a power of two
  EXPECT_LT(size, kDefault);
}

TEST(RingBufferSize, DefaultWhenProbesPrintOrBeginLoops) {
  EXPECT_EQ(ring_buffer_size_of(
                "tracepoint:raw_syscalls:sys_enter { printf(\"%d\\n\", tid); }"),
            kDefault);
  EXPECT_EQ(ring_buffer_size_of("tracepoint:raw_syscalls:sys_enter "
                                "/pid == 1/ { exit(); }"),
            kDefault);
  EXPECT_EQ(ring_buffer_size_of("BEGIN { $i = 0; while ($i < 3) { "
                                "printf(\"%d\\n\", $i); $i++; } }"),
            kDefault);
}

} // namespace
} // namespace hvt
