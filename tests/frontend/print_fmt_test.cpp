// Kernel symbolic names from print formats (passes/print_fmt.h), on real
// format files: copies in tests/data/formats/ of this machine's (Linux 6.18)
// irq:softirq_entry, kvm:kvm_exit, kvm:kvm_userspace_exit and a few others,
// and the Xen formats hvt ships. Each test builds a raw record the way the
// kernel lays it out and checks the name symbolic() prints for it.
#include "passes/print_fmt.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace hvt::printfmt {
namespace {

std::string read(const std::string &path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "irq_softirq_entry" -> the format of irq:softirq_entry.
TracepointFormat test_format(const std::string &category,
                             const std::string &name) {
  std::string text = read(std::string(HVT_TEST_DATA) + "/formats/" + category +
                          "_" + name + ".format");
  auto format = parse_tracepoint_format(text);
  EXPECT_TRUE(format) << category << ":" << name;
  format->category = category;
  return *format;
}

TracepointFormat shipped_format(const std::string &category,
                                const std::string &name) {
  std::string text = read(std::string(HVT_SOURCE_DIR) + "/scripts/formats/" +
                          category + "/" + name + "/format");
  auto format = parse_tracepoint_format(text);
  EXPECT_TRUE(format) << category << ":" << name;
  format->category = category;
  return *format;
}

PrintFunctions shipped_functions() {
  std::string error;
  auto functions = parse_print_functions(
      read(std::string(HVT_SOURCE_DIR) + "/scripts/formats/print_functions"),
      error);
  EXPECT_TRUE(functions) << error;
  return functions ? *functions : PrintFunctions{};
}

// A tracepoint record: fields written at their format offsets.
class Record {
public:
  explicit Record(const TracepointFormat &format) : format_(format) {
    size_t size = 8;
    for (const auto &f : format.fields)
      size = std::max<size_t>(size, f.offset + f.size);
    bytes_.assign(size, 0);
  }
  Record &set(const std::string &field, uint64_t value) {
    const TracepointField *f = format_.find(field);
    EXPECT_NE(f, nullptr) << field;
    if (f)
      memcpy(bytes_.data() + f->offset, &value, f->size); // little-endian
    return *this;
  }
  const uint8_t *data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }

private:
  const TracepointFormat &format_;
  std::vector<uint8_t> bytes_;
};

// Resolves FIELD the way symbolic() does and names records with it.
class Namer {
public:
  Namer(const TracepointFormat &format, const std::string &field,
        PrintFunctions functions = {})
      : fields_(std::move(functions)) {
    std::string error;
    spec_ = fields_.resolve(format, field, error);
    EXPECT_NE(spec_, nullptr) << error;
  }
  uint64_t encoded(const Record &r) const {
    return encode(*spec_->root, r.data(), r.size());
  }
  std::string name(const Record &r) const {
    return fields_.tables()->render(encoded(r));
  }
  uint64_t number(const Record &r) const {
    return fields_.tables()->number(encoded(r));
  }
  const SymbolicSpec &spec() const { return *spec_; }
  const SymbolTables &tables() const { return *fields_.tables(); }

private:
  SymbolicFields fields_;
  const SymbolicSpec *spec_ = nullptr;
};

std::string resolve_error(const TracepointFormat &format,
                          const std::string &field) {
  std::string error;
  EXPECT_FALSE(find_symbolic(format, field, {}, error));
  return error;
}

// ----------------------------------------------------------------- parsing

TEST(PrintFmt, ParsesSoftirqEntry) {
  auto format = test_format("irq", "softirq_entry");
  std::string error;
  auto fmt = parse_print_fmt(format.print_fmt, error);
  ASSERT_TRUE(fmt) << error;
  EXPECT_EQ(fmt->format, "vec=%u [action=%s]");
  ASSERT_EQ(fmt->args.size(), 2u);
  ASSERT_NE(fmt->args[0], nullptr);
  EXPECT_EQ(fmt->args[0]->kind, NodeKind::Field);
  EXPECT_EQ(fmt->args[0]->text, "vec");
  ASSERT_NE(fmt->args[1], nullptr);
  EXPECT_EQ(fmt->args[1]->kind, NodeKind::Call);
  EXPECT_EQ(fmt->args[1]->text, "__print_symbolic");
  EXPECT_EQ(fmt->args[1]->children.size(), 11u); // the value and 10 entries
  EXPECT_EQ(fmt->arg_texts[0], "REC->vec");
}

TEST(PrintFmt, ParsesEveryKvmExitArgument) {
  auto format = test_format("kvm", "kvm_exit");
  std::string error;
  auto fmt = parse_print_fmt(format.print_fmt, error);
  ASSERT_TRUE(fmt) << error;
  ASSERT_EQ(fmt->args.size(), 10u);
  for (size_t i = 0; i < fmt->args.size(); ++i)
    EXPECT_NE(fmt->args[i], nullptr) << fmt->arg_texts[i];
  EXPECT_EQ(fmt->args[1]->kind, NodeKind::Ternary);
  EXPECT_EQ(fmt->arg_texts[1].rfind("(REC->isa == 1) ? __print_symbolic(", 0),
            0u);
}

TEST(PrintFmt, KeepsArgumentsItCannotParseAsText) {
  std::string error;
  auto fmt = parse_print_fmt(
      R"("a=%d b=%d c=%d", REC->a, ({ int x = 1; x; }), REC->c)", error);
  ASSERT_TRUE(fmt) << error;
  ASSERT_EQ(fmt->args.size(), 3u);
  EXPECT_NE(fmt->args[0], nullptr);
  EXPECT_EQ(fmt->args[1], nullptr);
  EXPECT_EQ(fmt->arg_texts[1], "({ int x = 1; x; })");
  ASSERT_NE(fmt->args[2], nullptr);
  EXPECT_EQ(fmt->args[2]->text, "c");
}

TEST(PrintFmt, ConcatenatesAdjacentStringsAndDecodesEscapes) {
  std::string error;
  auto fmt = parse_print_fmt(R"("a\t" "b\x41\101", "KVM_EXIT_" "IO")", error);
  ASSERT_TRUE(fmt) << error;
  EXPECT_EQ(fmt->format, "a\tbAA");
  ASSERT_EQ(fmt->args.size(), 1u);
  EXPECT_EQ(fmt->args[0]->text, "KVM_EXIT_IO");
}

TEST(PrintFmt, RejectsTextWithoutFormatString) {
  std::string error;
  EXPECT_FALSE(parse_print_fmt("REC->a, REC->b", error));
  EXPECT_EQ(error, "a print format starts with a string");
  EXPECT_FALSE(parse_print_fmt(R"("unterminated)", error));
  EXPECT_EQ(error, "unterminated literal");
}

// ------------------------------------------------------- C semantics

uint64_t eval(const std::string &text) {
  std::string error;
  NodePtr node = parse_expression(text, error);
  EXPECT_NE(node, nullptr) << text << ": " << error;
  if (!node)
    return 0;
  ExprPtr e = lower(*node, nullptr, error);
  EXPECT_NE(e, nullptr) << text << ": " << error;
  return e ? evaluate(*e, nullptr, 0) : 0;
}

TEST(PrintFmt, ExpressionsFollowC) {
  EXPECT_EQ(eval("0x040 + 13"), 0x4du);
  EXPECT_EQ(eval("-1 < 0"), 1u);
  EXPECT_EQ(eval("-1 < 0u"), 0u); // -1 converts to UINT_MAX
  EXPECT_EQ(eval("-1 < 0L"), 1u);
  EXPECT_EQ(eval("~0xffff"), static_cast<uint64_t>(-65536));
  EXPECT_EQ(eval("0xffffffff + 1"), 0u); // unsigned int wraps
  EXPECT_EQ(eval("0xffffffffU + 1UL"), 0x100000000u);
  EXPECT_EQ(eval("(unsigned char)300"), 44u);
  EXPECT_EQ(eval("(int)0x80000000 < 0"), 1u);
  EXPECT_EQ(eval("(unsigned long)-1"), UINT64_MAX);
  EXPECT_EQ(eval("1UL << 40"), uint64_t{1} << 40);
  EXPECT_EQ(eval("-7 / 2"), static_cast<uint64_t>(-3));
  EXPECT_EQ(eval("-7 % 2"), static_cast<uint64_t>(-1));
  EXPECT_EQ(eval("-8 >> 1"), static_cast<uint64_t>(-4));
  EXPECT_EQ(eval("5 / 0"), 0u); // BPF: division by zero is 0
  EXPECT_EQ(eval("2 > 1 && 0 || 3"), 1u);
  EXPECT_EQ(eval("1 ? 2 : 3"), 2u);
  EXPECT_EQ(eval("(bool)4 + 1"), 2u);
  EXPECT_EQ(eval("'A'"), 65u);
  EXPECT_EQ(eval("( unsigned long)((( gfp_t)((((1UL))) << (10))))"), 1024u);
}

TEST(PrintFmt, ExpressionsOverRecordFields) {
  auto format = test_format("kvm", "kvm_userspace_exit");
  std::string error;
  NodePtr node =
      parse_expression("REC->errno < 0 ? -REC->errno : REC->reason", error);
  ASSERT_NE(node, nullptr) << error;
  ExprPtr e = lower(*node, &format, error);
  ASSERT_NE(e, nullptr) << error;
  Record r(format);
  r.set("errno", static_cast<uint32_t>(-4)).set("reason", 2);
  EXPECT_EQ(evaluate(*e, r.data(), r.size()), 4u);
  r.set("errno", 0);
  EXPECT_EQ(evaluate(*e, r.data(), r.size()), 2u);
}

TEST(PrintFmt, LoweringExplainsWhatARecordCannotCompute) {
  auto format = test_format("kvm", "kvm_exit");
  std::string error;
  EXPECT_EQ(lower(*parse_expression("HRTIMER_MODE_ABS", error), &format, error),
            nullptr);
  EXPECT_EQ(
      error,
      "'HRTIMER_MODE_ABS' is a name the kernel did not replace with its value");
  EXPECT_EQ(lower(*parse_expression("REC->nope + 1", error), &format, error),
            nullptr);
  EXPECT_EQ(error, "the record has no field 'nope'");
  EXPECT_EQ(lower(*parse_expression("foo(REC->isa)", error), &format, error),
            nullptr);
  EXPECT_EQ(error, "it calls the kernel function foo()");
  EXPECT_EQ(lower(*parse_expression("*REC->isa", error), &format, error),
            nullptr);
  EXPECT_EQ(error, "it dereferences a pointer");
}

// ---------------------------------------------------------- symbolic names

TEST(Symbolic, SoftirqVecUsesTheKernelsTable) {
  auto format = test_format("irq", "softirq_entry");
  Namer namer(format, "vec");
  const char *names[] = {"HI",       "TIMER",   "NET_TX", "NET_RX",  "BLOCK",
                         "IRQ_POLL", "TASKLET", "SCHED",  "HRTIMER", "RCU"};
  Record r(format);
  for (uint32_t vec = 0; vec < 10; ++vec)
    EXPECT_EQ(namer.name(r.set("vec", vec)), names[vec]) << vec;
  EXPECT_EQ(namer.name(r.set("vec", 10)), "10"); // unknown: the number
  EXPECT_EQ(namer.number(r.set("vec", 3)), 3u);
  EXPECT_EQ(namer.spec().root->condition, nullptr);
  EXPECT_EQ(
      namer.spec().source.rfind("__print_symbolic(REC->vec, { 0, \"HI\" }", 0),
      0u);
}

TEST(Symbolic, KvmExitOnIntelUsesTheVmxTableOnTheLow16Bits) {
  auto format = test_format("kvm", "kvm_exit");
  Namer namer(format, "exit_reason");
  Record r(format);
  r.set("isa", 1); // KVM_ISA_VMX
  EXPECT_EQ(namer.name(r.set("exit_reason", 30)), "IO_INSTRUCTION");
  EXPECT_EQ(namer.name(r.set("exit_reason", 12)), "HLT");
  EXPECT_EQ(namer.name(r.set("exit_reason", 48)), "EPT_VIOLATION");
  EXPECT_EQ(namer.name(r.set("exit_reason", 85)), "MSR_WRITE_IMM");
  // A failed VM entry sets bit 31; the name is the basic reason's.
  r.set("exit_reason", 0x80000000u | 33);
  EXPECT_EQ(namer.name(r), "INVALID_STATE");
  EXPECT_EQ(namer.number(r), 33u);
  EXPECT_EQ(namer.name(r.set("exit_reason", 99)), "99");
}

TEST(Symbolic, KvmExitOnAmdUsesTheSvmTable) {
  auto format = test_format("kvm", "kvm_exit");
  Namer namer(format, "exit_reason");
  Record r(format);
  r.set("isa", 2); // KVM_ISA_SVM
  EXPECT_EQ(namer.name(r.set("exit_reason", 0x7b)), "io");
  EXPECT_EQ(namer.name(r.set("exit_reason", 0x78)), "hlt");
  EXPECT_EQ(namer.name(r.set("exit_reason", 0x400)), "npf");
  EXPECT_EQ(namer.name(r.set("exit_reason", 0x40 + 14)), "PF excp");
  EXPECT_EQ(namer.name(r.set("exit_reason", 0x80000010u)),
            "vmgexit_page_state_change");
  EXPECT_EQ(namer.number(r), 0x80000010u); // SVM keeps all 32 bits
  // The table's { -1, ... } is an unsigned long; a u32 reason never equals
  // it, in the kernel as here.
  EXPECT_EQ(namer.name(r.set("exit_reason", 0xffffffffu)), "4294967295");
  // The same number means different things on Intel and AMD.
  EXPECT_EQ(namer.name(r.set("exit_reason", 0x30)), "write_dr0");
  EXPECT_EQ(namer.name(r.set("isa", 1)), "EPT_VIOLATION");
}

// -------------------------------------------- fields this host fixes

// The word user space names when BPF stores the field as read (a symbolic
// Type's symbol_table and symbol_mask), for a spec with a stored field.
std::string name_of_stored(const Namer &namer, uint64_t stored) {
  const SymbolicSpec &spec = namer.spec();
  Type type = Type::symbolic(nullptr, spec.root->table_id, spec.stored_mask);
  return namer.tables().render(type.symbolic_word(stored));
}

TEST(Symbolic, AnIsaThisHostFixesKeepsOnlyItsVendorsTable) {
  auto format = test_format("kvm", "kvm_exit");
  format.fixed_fields = {{"isa", 1}}; // kvm_intel
  Namer vmx(format, "exit_reason");
  EXPECT_EQ(vmx.spec().root->condition, nullptr); // nothing left for BPF
  ASSERT_NE(vmx.spec().stored_field, nullptr);
  EXPECT_EQ(vmx.spec().stored_field->field, "exit_reason");
  EXPECT_EQ(vmx.spec().stored_mask, 0xffffu);
  EXPECT_EQ(vmx.tables().tables.size(), 1u); // the SVM table is not kept
  Record r(format);                          // isa stays 0: never read
  EXPECT_EQ(vmx.name(r.set("exit_reason", 48)), "EPT_VIOLATION");
  EXPECT_EQ(name_of_stored(vmx, 48), "EPT_VIOLATION");
  EXPECT_EQ(name_of_stored(vmx, 0x80000000u | 33), "INVALID_STATE");

  format.fixed_fields = {{"isa", 2}}; // kvm_amd
  Namer svm(format, "exit_reason");
  EXPECT_EQ(svm.spec().root->condition, nullptr);
  ASSERT_NE(svm.spec().stored_field, nullptr);
  EXPECT_EQ(svm.spec().stored_mask, ~uint64_t{0});
  EXPECT_EQ(svm.name(r.set("exit_reason", 0x30)), "write_dr0");
  EXPECT_EQ(name_of_stored(svm, 0x80000010u), "vmgexit_page_state_change");
}

TEST(Symbolic, WithoutAFixedIsaEachRecordChoosesTheTable) {
  auto format = test_format("kvm", "kvm_exit");
  format.fixed_fields = {{"vcpu_id", 0}}; // fixed, but not what it tests
  Namer namer(format, "exit_reason");
  EXPECT_NE(namer.spec().root->condition, nullptr);
  EXPECT_EQ(namer.spec().stored_field, nullptr);
  EXPECT_EQ(namer.tables().tables.size(), 2u);
}

// BPF stores the field as read only when user space can compute the named
// value from it with a mask; anything else is computed in BPF.
TEST(Symbolic, TheFieldIsStoredOnlyWhenAMaskRedoesTheValue) {
  auto spec_of = [](const std::string &value_text) {
    auto format = parse_tracepoint_format(
        "name: masks\nformat:\n"
        "\tfield:unsigned int x;\toffset:8;\tsize:4;\tsigned:0;\n\n"
        "print fmt: \"%s\", __print_symbolic(" +
        value_text + ", { 1, \"ONE\" })\n");
    EXPECT_TRUE(format);
    format->category = "test";
    std::string error;
    auto spec = find_symbolic(*format, "x", {}, error);
    EXPECT_TRUE(spec) << error;
    return spec ? *spec : SymbolicSpec{};
  };
  EXPECT_EQ(spec_of("REC->x").stored_mask, ~uint64_t{0});
  EXPECT_EQ(spec_of("REC->x & 0xff").stored_mask, 0xffu);
  EXPECT_EQ(spec_of("0x7fffffff & REC->x").stored_mask, 0x7fffffffu);
  EXPECT_EQ(spec_of("(unsigned long)REC->x").stored_mask, ~uint64_t{0});
  EXPECT_EQ(spec_of("REC->x + 1").stored_field, nullptr);
  EXPECT_EQ(spec_of("REC->x & 0x80000000").stored_field, nullptr);
  EXPECT_EQ(spec_of("(unsigned char)REC->x").stored_field, nullptr);
  EXPECT_EQ(spec_of("(int)REC->x").stored_field, nullptr);
}

TEST(Symbolic, KvmExitValuesCarryTheirTable) {
  auto format = test_format("kvm", "kvm_exit");
  Namer namer(format, "exit_reason");
  const SymbolicNode &root = *namer.spec().root;
  ASSERT_NE(root.condition, nullptr);
  ASSERT_NE(root.then_node, nullptr);
  ASSERT_NE(root.else_node, nullptr);
  EXPECT_EQ(root.then_node->table.entries.size(), 65u);
  EXPECT_EQ(root.else_node->table.entries.size(), 110u);
  EXPECT_NE(root.then_node->table_id, root.else_node->table_id);
  EXPECT_EQ(namer.tables().tables.size(), 2u);
  Record r(format);
  r.set("isa", 1).set("exit_reason", 30);
  EXPECT_EQ(namer.encoded(r), (uint64_t{root.then_node->table_id} << 56) | 30);
  r.set("isa", 2);
  EXPECT_EQ(namer.encoded(r), (uint64_t{root.else_node->table_id} << 56) | 30);
  EXPECT_TRUE(namer.spec().skipped.empty());
}

TEST(Symbolic, KvmUserspaceExitNamesReasonsAndErrors) {
  auto format = test_format("kvm", "kvm_userspace_exit");
  Namer namer(format, "reason");
  Record r(format);
  EXPECT_EQ(namer.name(r.set("reason", 2)), "KVM_EXIT_IO");
  EXPECT_EQ(namer.name(r.set("reason", 6)), "KVM_EXIT_MMIO");
  EXPECT_EQ(namer.name(r.set("reason", 30)), "KVM_EXIT_X86_WRMSR");
  EXPECT_EQ(namer.name(r.set("reason", 77)), "77");
  // The kernel's format names failed KVM_RUNs by errno instead.
  r.set("reason", 2);
  EXPECT_EQ(namer.name(r.set("errno", static_cast<uint32_t>(-4))), "restart");
  EXPECT_EQ(namer.name(r.set("errno", static_cast<uint32_t>(-14))), "error");
}

TEST(Symbolic, FieldsWithoutNamesAreExplained) {
  auto kvm_exit = test_format("kvm", "kvm_exit");
  EXPECT_EQ(resolve_error(kvm_exit, "vcpu_id"),
            "the print format of tracepoint kvm:kvm_exit has no names for "
            "the values of field 'vcpu_id'");
  EXPECT_EQ(resolve_error(kvm_exit, "nope"),
            "tracepoint kvm:kvm_exit has no field 'nope'");
  EXPECT_EQ(symbolic_fields(kvm_exit, {}),
            std::vector<std::string>{"exit_reason"});
  auto userspace = test_format("kvm", "kvm_userspace_exit");
  EXPECT_EQ(symbolic_fields(userspace, {}), std::vector<std::string>{"reason"});
  auto softirq = test_format("irq", "softirq_entry");
  EXPECT_EQ(symbolic_fields(softirq, {}), std::vector<std::string>{"vec"});
}

TEST(Symbolic, EnumNamesTheKernelKeptCannotBeEvaluated) {
  auto format = test_format("timer", "hrtimer_start");
  EXPECT_EQ(resolve_error(format, "mode"),
            "hvt cannot compute the kernel's name for field 'mode' of "
            "tracepoint timer:hrtimer_start: its table's values are names "
            "the kernel did not replace with numbers (HRTIMER_MODE_ABS, ...)");
}

TEST(Symbolic, EntriesWithNamesTheKernelKeptAreSkipped) {
  auto format = parse_tracepoint_format(
      "name: partial\nformat:\n"
      "\tfield:int mode;\toffset:8;\tsize:4;\tsigned:1;\n\n"
      "print fmt: \"%s\", __print_symbolic(REC->mode, { 0, \"ZERO\" }, "
      "{ MODE_ONE, \"ONE\" }, { -1, \"MINUS\" })\n");
  ASSERT_TRUE(format);
  format->category = "test";
  Namer namer(*format, "mode");
  EXPECT_EQ(namer.spec().skipped, std::vector<std::string>{"MODE_ONE"});
  Record r(*format);
  EXPECT_EQ(namer.name(r.set("mode", 0)), "ZERO");
  EXPECT_EQ(namer.name(r.set("mode", 1)), "1");
  // A signed field: -1 matches the { -1 } entry, -2 prints signed.
  EXPECT_EQ(namer.name(r.set("mode", static_cast<uint32_t>(-1))), "MINUS");
  EXPECT_EQ(namer.name(r.set("mode", static_cast<uint32_t>(-2))), "-2");
}

TEST(Symbolic, FlagsOfAComputedValue) {
  auto format = test_format("alarmtimer", "alarmtimer_fired");
  Namer namer(format,
              "alarm_type"); // __print_flags((1 << REC->alarm_type), ...)
  Record r(format);
  EXPECT_EQ(namer.name(r.set("alarm_type", 0)), "REALTIME");
  EXPECT_EQ(namer.name(r.set("alarm_type", 1)), "BOOTTIME");
  EXPECT_EQ(namer.name(r.set("alarm_type", 4)), "BOOTTIME Freezer");
  EXPECT_EQ(namer.name(r.set("alarm_type", 5)), "0x20");
}

TEST(Symbolic, GfpFlagsCompositeNamesAndTheNoneBranch) {
  auto format = test_format("kmem", "mm_page_alloc");
  Namer namer(format, "gfp_flags");
  Record r(format);
  uint64_t reclaim = (1 << 10) | (1 << 11), io = 1 << 6, fs = 1 << 7;
  EXPECT_EQ(namer.name(r.set("gfp_flags", reclaim | io | fs)), "GFP_KERNEL");
  EXPECT_EQ(namer.name(r.set("gfp_flags", reclaim | io | fs | (1u << 30))),
            "GFP_KERNEL|0x40000000");
  EXPECT_EQ(namer.name(r.set("gfp_flags", 0)), "none");
  EXPECT_TRUE(namer.spec().skipped.empty());
}

TEST(SymbolTable, RendersLikeTheKernel) {
  SymbolTable flags;
  flags.kind = SymbolTable::Kind::Flags;
  flags.separator = "|";
  flags.entries = {{1, "A"}, {2, "B"}, {3, "AB"}};
  EXPECT_EQ(flags.render(3), "A|B"); // table order, bits cleared as named
  EXPECT_EQ(flags.render(7), "A|B|0x4");
  EXPECT_EQ(flags.render(0), "0");
  SymbolTable symbols;
  symbols.is_signed = true;
  symbols.entries = {{static_cast<uint64_t>(-1), "minus one"}, {5, "five"}};
  EXPECT_EQ(symbols.render(static_cast<uint64_t>(-1)), "minus one");
  EXPECT_EQ(symbols.render(static_cast<uint64_t>(-2)), "-2");
  SymbolTables tables;
  EXPECT_EQ(tables.intern(symbols), 1u);
  EXPECT_EQ(tables.intern(flags), 2u);
  EXPECT_EQ(tables.intern(symbols), 1u); // equal tables share an id
  uint64_t minus_two =
      (uint64_t{1} << 56) | (static_cast<uint64_t>(-2) & kSymbolValueMask);
  EXPECT_EQ(tables.render(minus_two), "-2");
  EXPECT_EQ(tables.number(minus_two), static_cast<uint64_t>(-2));
  EXPECT_EQ(tables.render(42), "42"); // no table
}

TEST(Symbolic, SameTableOnSeveralTracepointsSharesOneId) {
  auto entry = test_format("irq", "softirq_entry");
  auto exit_format = entry;
  exit_format.name = "softirq_exit";
  SymbolicFields fields{PrintFunctions{}};
  std::string error;
  const SymbolicSpec *a = fields.resolve(entry, "vec", error);
  const SymbolicSpec *b = fields.resolve(exit_format, "vec", error);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(a->root->table_id, b->root->table_id);
  EXPECT_EQ(fields.tables()->tables.size(), 1u);
  EXPECT_EQ(fields.resolve(entry, "vec", error), a); // cached
  EXPECT_EQ(fields.find("irq:softirq_exit", "vec"), b);
  EXPECT_EQ(fields.find("irq:softirq_exit", "nope"), nullptr);
}

// ---------------------------------------------------------- shipped knowledge

TEST(PrintFunctions, XenHypercallNamesComeFromTheShippedDefinition) {
  auto format = shipped_format("xen", "xen_mc_entry");
  EXPECT_EQ(format.print_fmt.find("xen_hypercall_name(REC->op)") !=
                std::string::npos,
            true);
  Namer namer(format, "op", shipped_functions());
  Record r(format);
  EXPECT_EQ(namer.name(r.set("op", 1)), "mmu_update");
  EXPECT_EQ(namer.name(r.set("op", 14)), "update_va_mapping");
  EXPECT_EQ(namer.name(r.set("op", 26)), "mmuext_op");
  EXPECT_EQ(namer.name(r.set("op", 42)), "hypfs_op");
  EXPECT_EQ(namer.name(r.set("op", 48)), "mca");
  EXPECT_EQ(namer.name(r.set("op", 11)), "11"); // not in the interface
  EXPECT_EQ(namer.name(r.set("op", 1000)), "1000");
  // Without the definition the kernel's function cannot be evaluated.
  std::string error;
  EXPECT_FALSE(find_symbolic(format, "op", {}, error));
}

TEST(PrintFunctions, DefinitionsSpanIndentedLines) {
  std::string error;
  auto fns = parse_print_functions("# comment\n"
                                   "twice(x) = x * 2\n"
                                   "named(v, w) = __print_symbolic(v + w,\n"
                                   "    { 1, \"one\" })\n",
                                   error);
  ASSERT_TRUE(fns) << error;
  ASSERT_EQ(fns->size(), 2u);
  EXPECT_EQ(fns->at("named").params, (std::vector<std::string>{"v", "w"}));
  EXPECT_EQ(fns->at("named").body->children.size(), 2u);
  EXPECT_FALSE(parse_print_functions("twice(x) x * 2\n", error));
  EXPECT_EQ(error, "line 1: expected NAME(PARAMS) = EXPRESSION");
  EXPECT_FALSE(parse_print_functions("  x = 1\n", error));
  EXPECT_EQ(error, "line 1: indented text outside a definition");
  EXPECT_FALSE(parse_print_functions("f(1) = 2\n", error));
  EXPECT_EQ(error, "line 1: parameters of f must be names");
}

TEST(ShippedFormats, EveryShippedFormatParses) {
  std::string root = std::string(HVT_SOURCE_DIR) + "/scripts/formats";
  for (const char *name :
       {"xen/xen_mc_entry", "xen/xen_mc_flush", "xen/xen_mc_batch",
        "xen/xen_mmu_set_pte", "xen/xen_cpu_write_gdt_entry", "kvm/kvm_exit",
        "kvm/kvm_entry", "kvm/kvm_userspace_exit"}) {
    auto format = parse_tracepoint_format(read(root + "/" + name + "/format"));
    ASSERT_TRUE(format) << name;
    std::string error;
    EXPECT_TRUE(parse_print_fmt(format->print_fmt, error))
        << name << ": " << error;
  }
}

} // namespace
} // namespace hvt::printfmt
