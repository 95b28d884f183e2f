// BEGIN tables (passes/initial_entries): which constant assignments of BEGIN
// become initial map entries, and the exact key and value bytes they store.
#include "frontend/parser.h"
#include "passes/initial_entries.h"
#include "passes/semantic.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace hvt {
namespace {

struct Checked {
  std::unique_ptr<SourceFile> source;
  std::unique_ptr<ast::Program> program;
  SemanticResult semantic;

  const MapDesc &map(const std::string &name) const {
    const MapDesc *desc = semantic.find_map(name);
    EXPECT_TRUE(desc) << name;
    return *desc;
  }
  // Top-level statement `index` of probe `probe` went to the runtime.
  bool hoisted(size_t probe, size_t index) const {
    return semantic.initial_entry_statements.count(
               program->probes[probe].body[index].get()) > 0;
  }
  // Which of probe 0's top-level statements went to the runtime: "yn-y".
  std::string pattern() const {
    std::string text;
    for (size_t i = 0; i < program->probes[0].body.size(); ++i)
      text += hoisted(0, i) ? 'y' : 'n';
    return text;
  }
};

Checked check(const std::string &text) {
  Checked c;
  c.source = std::make_unique<SourceFile>("test.ht", text);
  Diagnostics diags;
  auto program = parse_program(*c.source, diags);
  EXPECT_TRUE(program && !diags.has_errors()) << diags.render(*c.source);
  c.semantic.options.read_environment = false;
  resolve_attach_points(*program, diags, c.semantic);
  check_types(*program, diags, c.semantic);
  EXPECT_FALSE(diags.has_errors()) << diags.render(*c.source);
  add_fallback_points(c.semantic);
  collect_initial_entries(*program, c.semantic);
  c.program = std::unique_ptr<ast::Program>(program.release());
  return c;
}

// `v` little-endian in `size` bytes.
std::vector<uint8_t> le(uint64_t v, size_t size) {
  std::vector<uint8_t> out(size);
  for (size_t i = 0; i < size; ++i)
    out[i] = static_cast<uint8_t>(v >> (8 * i));
  return out;
}

std::vector<uint8_t> u64(uint64_t v) { return le(v, 8); }

// `text` NUL-padded to `size` bytes.
std::vector<uint8_t> str(const std::string &text, size_t size) {
  std::vector<uint8_t> out(size, 0);
  std::copy(text.begin(), text.end(), out.begin());
  return out;
}

std::vector<uint8_t> concat(std::vector<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto &p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(InitialEntries, IntegerKeysAndStringValuesInStatementOrder) {
  Checked c = check("BEGIN {\n"
                    "  @name[0] = \"zero\";\n"
                    "  @name[7] = \"seven\";\n"
                    "  @name[0] = \"again\";\n"
                    "}\n"
                    "tracepoint:syscalls:sys_enter_kill { @k[@name[args->sig]] "
                    "= count(); }\n");
  EXPECT_EQ(c.pattern(), "yyy");
  const MapDesc &m = c.map("@name");
  ASSERT_EQ(m.bpf_key_size(), 8u);
  uint32_t v = m.bpf_value_size();
  EXPECT_EQ(m.initial_keys, concat({u64(0), u64(7), u64(0)}));
  EXPECT_EQ(m.initial_values,
            concat({str("zero", v), str("seven", v), str("again", v)}))
      << "a key assigned twice is written twice, the last value winning";
}

TEST(InitialEntries, StringKeysTupleKeysNegativeNumbersAndScalars) {
  Checked c = check("BEGIN {\n"
                    "  @s[\"key\"] = \"value\";\n"
                    "  @t[-1, \"a\"] = -5;\n"
                    "  @x = 42;\n"
                    "}\n");
  EXPECT_EQ(c.pattern(), "yyy");
  const MapDesc &s = c.map("@s");
  EXPECT_EQ(s.initial_keys, str("key", s.bpf_key_size()));
  EXPECT_EQ(s.initial_values, str("value", s.bpf_value_size()));

  const MapDesc &t = c.map("@t");
  ASSERT_TRUE(t.key.is_tuple());
  std::vector<uint8_t> key(t.bpf_key_size(), 0);
  std::vector<uint8_t> minus_one = u64(UINT64_MAX);
  std::copy(minus_one.begin(), minus_one.begin() + t.key.fields[0].size,
            key.begin() + t.key.offsets[0]);
  key[t.key.offsets[1]] = 'a';
  EXPECT_EQ(t.initial_keys, key);
  EXPECT_EQ(t.initial_values, u64(static_cast<uint64_t>(-5)));

  const MapDesc &x = c.map("@x");
  EXPECT_EQ(x.initial_keys, u64(0)) << "a scalar map's one key is 0";
  EXPECT_EQ(x.initial_values, u64(42));
}

TEST(InitialEntries, MapMentionedByAStatementThatStaysIsNotHoistedAfterIt) {
  Checked c = check("BEGIN {\n"
                    "  printf(\"start\\n\");\n" // mentions no map
                    "  @a[1] = 1;\n"
                    "  printf(\"%d\\n\", @a[1]);\n"
                    "  @a[2] = 2;\n"     // @a was read: stays in BEGIN
                    "  @b[1] = 1;\n"     // another map: still hoisted
                    "  @b[2] = 1 + 1;\n" // not a literal: stays ...
                    "  @b[3] = 3;\n"     // ... and so does what follows
                    "}\n");
  EXPECT_EQ(c.pattern(), "nynnynn");
  const MapDesc &a = c.map("@a"), &b = c.map("@b");
  EXPECT_EQ(a.initial_keys, le(1, a.bpf_key_size()));
  EXPECT_EQ(b.initial_keys, le(1, b.bpf_key_size()));
}

TEST(InitialEntries, NothingAfterAPossibleReturn) {
  Checked c = check("BEGIN {\n"
                    "  @a[1] = 1;\n"
                    "  if (pid > 0) { return; }\n"
                    "  @b[1] = 1;\n"
                    "}\n");
  // The if mentions no map, but @b's assignment may never run.
  EXPECT_EQ(c.pattern(), "ynn");
  EXPECT_TRUE(c.map("@b").initial_keys.empty());
}

TEST(InitialEntries, OnlyPlainAssignmentsOfHashMaps) {
  Checked c = check("BEGIN {\n"
                    "  @c = count();\n"
                    "  @s[1] = sum(5);\n"
                    "  @p[1] = 1;\n"
                    "  @p[1] += 2;\n"
                    "  @q[1] = 1;\n"
                    "}\n");
  EXPECT_EQ(c.pattern(), "nnyny")
      << "aggregations and compound assignments stay in BEGIN (@p[1] = 1 "
         "is still written first)";
}

TEST(InitialEntries, StatementsTooLargeForTheStackStayInBegin) {
  // 300-byte strings: the key, the value and the constants copied into them
  // would not fit in 512 bytes, so codegen's stack check must see them.
  std::string big(300, 'x');
  Checked c = check("BEGIN {\n"
                    "  @small[1] = \"" +
                    std::string(200, 'y') +
                    "\";\n"
                    "  @big[1] = \"" +
                    big +
                    "\";\n"
                    "}\n");
  EXPECT_EQ(c.pattern(), "yn");
}

TEST(InitialEntries, DeclaredPerCpuMapsStayInBegin) {
  Checked c = check("let @p = percpuhash(16);\n"
                    "let @l = lruhash(16);\n"
                    "BEGIN { @p[1] = 1; @l[1] = 1; }\n");
  EXPECT_EQ(c.pattern(), "ny");
}

TEST(InitialEntries, OnlyABeginOfItsOwn) {
  EXPECT_EQ(check("BEGIN /pid > 0/ { @a[1] = 1; }\n").pattern(), "n")
      << "a predicate decides whether the assignments run";
  EXPECT_EQ(check("BEGIN, tracepoint:syscalls:sys_enter_kill { @a[1] = 1; }\n")
                .pattern(),
            "n")
      << "the body runs for the tracepoint too";
  Checked two = check("BEGIN { @a[1] = 1; }\nBEGIN { @b[1] = 1; }\n");
  EXPECT_FALSE(two.hoisted(0, 0));
  EXPECT_FALSE(two.hoisted(1, 0));
}

TEST(InitialEntries, LiteralBytesAreWhatCodegenStores) {
  Checked c = check("BEGIN { @s[\"abcdefghij\"] = 300; }\n");
  const auto &assign = *c.program->probes[0].body[0]->as<ast::AssignMap>();
  // A string copied into a shorter slot (8 bytes) is truncated, without a
  // NUL, as store_value() copies min(slot, literal) bytes; the rest of a
  // larger buffer stays zero.
  auto bytes = literal_bytes(*assign.map->keys[0], Type::string(8), 16);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, (std::vector<uint8_t>{'a', 'b', 'c', 'd', 'e', 'f', 'g',
                                          'h', 0, 0, 0, 0, 0, 0, 0, 0}));
  // An integer keeps its low bytes.
  bytes = literal_bytes(*assign.value, Type::integer(1, false), 8);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, (std::vector<uint8_t>{44, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_FALSE(literal_bytes(*assign.value, Type::string(8), 8))
      << "an integer is not a string";
}

} // namespace
} // namespace hvt
