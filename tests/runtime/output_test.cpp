// Text output of the runtime. Every expected string was produced by running
// the quoted script with bpftrace 0.17 (`bpftrace -e '...'`).
#include "output.h"

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <sstream>

namespace hvt {
namespace {

using Bytes = std::vector<uint8_t>;

template <typename T> Bytes raw(T v) {
  Bytes b(sizeof(T));
  memcpy(b.data(), &v, sizeof(T));
  return b;
}
Bytes i64(int64_t v) { return raw(v); }
Bytes u64(uint64_t v) { return raw(v); }
Bytes str(const std::string &s, size_t size) {
  Bytes b(size, 0);
  memcpy(b.data(), s.data(), std::min(s.size(), size));
  return b;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto &p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

MapDesc map_desc(std::string name, AggKind agg, Type key = Type::none(),
                 Type value = Type::int64()) {
  MapDesc m;
  m.name = std::move(name);
  m.elf_name = "map";
  m.agg = agg;
  m.key = std::move(key);
  m.value = std::move(value);
  return m;
}

// A scalar map's BPF key is a dummy uint64 0.
MapEntry scalar(Bytes value) { return {u64(0), std::move(value)}; }

// Entries of a hist/lhist map: one per (key, bucket).
std::vector<MapEntry>
buckets(const Bytes &key,
        std::initializer_list<std::pair<uint64_t, uint64_t>> counts) {
  std::vector<MapEntry> entries;
  for (auto [bucket, count] : counts)
    entries.push_back({cat({key, u64(bucket)}), u64(count)});
  return entries;
}

std::vector<MapEntry> join(std::vector<MapEntry> a,
                           const std::vector<MapEntry> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string bar(int n) {
  return std::string(n, '@') + std::string(52 - n, ' ');
}

// ---------------------------------------------------------------------------
// printf

std::string printf1(const std::string &format, const Type &type,
                    const Bytes &value) {
  PrintfDesc desc;
  desc.format = format;
  desc.args = Type::tuple({type});
  return format_printf(desc, value.data(), value.size());
}

std::string printf_int(const std::string &format, int64_t v) {
  return printf1(format, Type::int64(), i64(v));
}

// buf() values: {length, bytes}; printable ASCII as it is, other bytes as
// \xNN, bytes past the length not at all (bpftrace's %r).
Bytes buffer(const std::string &bytes, uint64_t length, size_t capacity) {
  Bytes out = u64(length);
  out.insert(out.end(), bytes.begin(), bytes.end());
  out.resize(kBufferHeader + capacity, 0);
  return out;
}

TEST(FormatPrintf, BuffersPrintNonPrintableBytesInHex) {
  Type type = Type::of_kind(TypeKind::Buffer, kBufferHeader + 8);
  EXPECT_EQ(
      printf1("[%r]", type, buffer(std::string("a\0\x7f~\\\xff", 6), 6, 8)),
      "[a\\x00\\x7f~\\\\xff]");
  EXPECT_EQ(printf1("[%r]", type, buffer("abcdefgh", 3, 8)), "[abc]");
  // A length past the capacity prints the capacity's bytes.
  EXPECT_EQ(printf1("[%r]", type, buffer("abcdefgh", 99, 8)), "[abcdefgh]");
  EXPECT_EQ(printf1("[%-5r]", type, buffer("ab", 2, 8)), "[ab   ]");
  MapDesc m = map_desc("@b", AggKind::Count, type, Type::uint64());
  EXPECT_EQ(format_map(m, {{buffer("x\n", 2, 8), u64(1)}}), "@b[x\\x0a]: 1\n");
}

TEST(FormatPrintf, IntegerConversionsUseTheLengthModifiersCType) {
  // bpftrace -e 'BEGIN { printf("[%d]\n", 5000000000); exit(); }' etc.
  EXPECT_EQ(printf_int("[%d]", 5000000000), "[705032704]");
  EXPECT_EQ(printf_int("[%d]", -1), "[-1]");
  EXPECT_EQ(printf_int("[%u]", 5000000000), "[705032704]");
  EXPECT_EQ(printf_int("[%u]", -1), "[4294967295]");
  EXPECT_EQ(printf_int("[%x]", 5000000000), "[2a05f200]");
  EXPECT_EQ(printf_int("[%x]", -1), "[ffffffff]");
  EXPECT_EQ(printf_int("[%x]", 321), "[141]");
  EXPECT_EQ(printf_int("[%X]", -42), "[FFFFFFD6]");
  EXPECT_EQ(printf_int("[%ld]", 5000000000), "[5000000000]");
  EXPECT_EQ(printf_int("[%lld]", -1), "[-1]");
  EXPECT_EQ(printf_int("[%llu]", -42), "[18446744073709551574]");
  EXPECT_EQ(printf_int("[%lu]", -42), "[18446744073709551574]");
  EXPECT_EQ(printf_int("[%lx]", -42), "[ffffffffffffffd6]");
  EXPECT_EQ(printf_int("[%hd]", 5000000000), "[-3584]");
  EXPECT_EQ(printf_int("[%hd]", -1), "[-1]");
  EXPECT_EQ(printf_int("[%hhd]", -42), "[-42]");
  EXPECT_EQ(printf_int("[%hhu]", -42), "[214]");
  EXPECT_EQ(printf_int("[%zd]", -42), "[-42]");
  EXPECT_EQ(printf_int("[%zu]", -1), "[18446744073709551615]");
  EXPECT_EQ(printf_int("[%zu]", 5000000000), "[5000000000]");
  EXPECT_EQ(printf_int("[%jd]", -42), "[-42]");
  EXPECT_EQ(printf_int("[%jx]", 5000000000), "[12a05f200]");
  EXPECT_EQ(printf_int("[%jx]", -1), "[ffffffffffffffff]");
  EXPECT_EQ(printf_int("[%td]", -42), "[-42]");
  EXPECT_EQ(printf_int("[%o]", 5000000000), "[5201371000]");
  EXPECT_EQ(printf_int("[%o]", -1), "[37777777777]");
  EXPECT_EQ(printf_int("[%o]", 321), "[501]");
  EXPECT_EQ(printf_int("[%lo]", 5000000000), "[45201371000]");
  EXPECT_EQ(printf_int("[%lo]", -1), "[1777777777777777777777]");
}

TEST(FormatPrintf, FlagsWidthAndPrecision) {
  EXPECT_EQ(printf_int("[%5d]", -42), "[  -42]");
  EXPECT_EQ(printf_int("[%-5d]", -42), "[-42  ]");
  EXPECT_EQ(printf_int("[%05d]", -42), "[-0042]");
  EXPECT_EQ(printf_int("[%.3d]", -42), "[-042]");
  EXPECT_EQ(printf_int("[%-08d]", -42), "[-42     ]");
  EXPECT_EQ(printf_int("[%-8x]", 255), "[ff      ]");
  EXPECT_EQ(printf_int("[%08lx]", 255), "[000000ff]");
  EXPECT_EQ(printf_int("[%8.4d]", 3), "[    0003]");
  // bpftrace 0.17 rejects these flags and %i; we follow C.
  EXPECT_EQ(printf_int("[%i]", -5), "[-5]");
  EXPECT_EQ(printf_int("[%+d]", 42), "[+42]");
  EXPECT_EQ(printf_int("[% d]", 42), "[ 42]");
  EXPECT_EQ(printf_int("[%#x]", 255), "[0xff]");
  EXPECT_EQ(printf_int("[%#o]", 8), "[010]");
}

TEST(FormatPrintf, ArgumentsAreWidenedFromTheirStoredType) {
  // printf("[%ld] [%lu] [%ld] [%d]\n", (int8)-1, (uint8)255,
  //        (uint32)4294967295, (int16)-2)
  EXPECT_EQ(printf1("[%ld]", Type::integer(1, true), raw<int8_t>(-1)), "[-1]");
  EXPECT_EQ(printf1("[%lu]", Type::integer(1, false), raw<uint8_t>(255)),
            "[255]");
  EXPECT_EQ(
      printf1("[%ld]", Type::integer(4, false), raw<uint32_t>(4294967295u)),
      "[4294967295]");
  EXPECT_EQ(printf1("[%d]", Type::integer(2, true), raw<int16_t>(-2)), "[-2]");
  EXPECT_EQ(printf1("[%u]", Type::integer(1, true), raw<int8_t>(-1)),
            "[4294967295]");
}

TEST(FormatPrintf, CharsAndPointers) {
  EXPECT_EQ(printf_int("[%c]", 321), "[A]");
  // A NUL from %c ends that conversion's text, as in bpftrace.
  EXPECT_EQ(printf_int("[%c]", 5000000000), "[]");
  EXPECT_EQ(printf_int("[%c]", -1), "[\xff]");
  EXPECT_EQ(printf_int("[%5c]", 65), "[    A]");
  EXPECT_EQ(printf_int("[%-3c|]", 66), "[B  |]");
  EXPECT_EQ(printf_int("[%p]", 0), "[(nil)]");
  EXPECT_EQ(printf_int("[%5p]", 1), "[  0x1]");
  EXPECT_EQ(printf_int("[%-20p|]", 255), "[0xff                |]");
  EXPECT_EQ(printf_int("[%p]", -1), "[0xffffffffffffffff]");
  EXPECT_EQ(printf_int("[%p]", 321), "[0x141]");
}

TEST(FormatPrintf, Strings) {
  Type s8 = Type::string(4); // "abc" + NUL, padded to 8 bytes
  EXPECT_EQ(printf1("[%s]", s8, str("abc", 8)), "[abc]");
  EXPECT_EQ(printf1("[%10s]", s8, str("abc", 8)), "[       abc]");
  EXPECT_EQ(printf1("[%-10s]", s8, str("abc", 8)), "[abc       ]");
  EXPECT_EQ(printf1("[%.2s]", s8, str("abc", 8)), "[ab]");
  EXPECT_EQ(printf1("[%5.1s]", s8, str("abc", 8)), "[    a]");
  EXPECT_EQ(printf1("[%s]", s8, str("", 8)), "[]");
  EXPECT_EQ(printf1("[%s]", s8, str("tab\there", 8)), "[tab\there]");
  // A string filling its whole buffer has no NUL: stop at the buffer's end.
  EXPECT_EQ(printf1("[%s]", Type::string(8), str("abcdefgh", 8)), "[abcdefgh]");
}

TEST(FormatPrintf, SeveralArgumentsAtTupleOffsets) {
  PrintfDesc desc;
  desc.format = "%s|%d|%s|%c%c\n";
  desc.args =
      Type::tuple({Type::string(2), Type::integer(4, true), Type::string(3),
                   Type::integer(1, false), Type::int64()});
  ASSERT_EQ(desc.args.offsets, (std::vector<uint32_t>{0, 8, 16, 24, 32}));
  Bytes payload = cat({str("x", 8), raw<int32_t>(-7), Bytes(4, 0), str("yy", 8),
                       raw<uint8_t>('h'), Bytes(7, 0), i64('i')});
  EXPECT_EQ(format_printf(desc, payload.data(), payload.size()),
            "x|-7|yy|hi\n");
}

TEST(FormatPrintf, PercentAndLiterals) {
  PrintfDesc desc;
  desc.format = "no args\n";
  EXPECT_EQ(format_printf(desc, nullptr, 0), "no args\n");
  // bpftrace 0.17 prints "100%%" here (it only runs the text before a
  // conversion through snprintf); we print what C's printf prints.
  desc.format = "100%%\n";
  EXPECT_EQ(format_printf(desc, nullptr, 0), "100%\n");
  EXPECT_EQ(printf_int("a%%b %d c%% e\n", 5), "a%b 5 c% e\n");
}

TEST(FormatPrintf, MalformedInputStaysVisible) {
  // Unknown conversions are printed as written...
  EXPECT_EQ(printf_int("[%f] [%d]", 3), "[%f] [3]");
  EXPECT_EQ(printf_int("[%*d]", 3), "[%*d]");
  EXPECT_EQ(printf_int("50%", 3), "50%");
  // ...and so are conversions without an argument or with a short record.
  EXPECT_EQ(printf_int("[%d] [%5s]", 3), "[3] [%5s]");
  PrintfDesc desc;
  desc.format = "[%d]";
  desc.args = Type::tuple({Type::int64()});
  Bytes short_payload(4, 0);
  EXPECT_EQ(format_printf(desc, short_payload.data(), short_payload.size()),
            "[%d]");
}

TEST(FormatPrintf, FormatterIsReusable) {
  PrintfDesc desc;
  desc.format = "pid %d comm %s\n";
  desc.args = Type::tuple({Type::int64(), Type::string(16)});
  PrintfFormatter formatter(desc);
  Bytes a = cat({i64(1), str("init", 16)});
  Bytes b = cat({i64(42), str("bash", 16)});
  EXPECT_EQ(formatter.format(a.data(), a.size()), "pid 1 comm init\n");
  EXPECT_EQ(formatter.format(b.data(), b.size()), "pid 42 comm bash\n");
}

// ---------------------------------------------------------------------------
// print(value), time()

TEST(FormatValue, PrintValue) {
  // BEGIN { print(5); print("abc"); print((1,"a")); print(-3); }
  EXPECT_EQ(format_value(Type::int64(), i64(5).data(), 8), "5");
  EXPECT_EQ(format_value(Type::string(4), str("abc", 8).data(), 8), "abc");
  Type t = Type::tuple({Type::int64(), Type::string(2)});
  Bytes v = cat({i64(1), str("a", 8)});
  EXPECT_EQ(format_value(t, v.data(), v.size()), "(1, a)");
  EXPECT_EQ(format_value(Type::int64(), i64(-3).data(), 8), "-3");
  EXPECT_EQ(format_value(Type::integer(1, true), raw<int8_t>(-1).data(), 1),
            "-1");
}

TEST(FormatValue, Time) {
  time_t when = 86400 * 365;
  struct tm tm;
  localtime_r(&when, &tm);
  char expect[64];
  strftime(expect, sizeof(expect), "%H:%M:%S\n", &tm);
  EXPECT_EQ(format_time("", when), expect);
  strftime(expect, sizeof(expect), "[%Y]\n", &tm);
  EXPECT_EQ(format_time("[%Y]\n", when), expect);
  EXPECT_EQ(format_time("x", when), "x");
}

// ---------------------------------------------------------------------------
// Plain and aggregated maps

TEST(FormatMap, Scalars) {
  // BEGIN { @x = 42; }
  EXPECT_EQ(format_map(map_desc("@x", AggKind::None), {scalar(i64(42))}),
            "@x: 42\n");
  // @c = count(); @s = sum(-5); @mn = min(-5); @mx = max(7)
  EXPECT_EQ(format_map(map_desc("@c", AggKind::Count, {}, Type::uint64()),
                       {scalar(u64(1))}),
            "@c: 1\n");
  EXPECT_EQ(format_map(map_desc("@s", AggKind::Sum), {scalar(i64(-5))}),
            "@s: -5\n");
  EXPECT_EQ(format_map(map_desc("@mn", AggKind::Min),
                       {scalar(cat({i64(-5), u64(1)}))}),
            "@mn: -5\n");
  EXPECT_EQ(format_map(map_desc("@mx", AggKind::Max),
                       {scalar(cat({i64(7), u64(1)}))}),
            "@mx: 7\n");
  // @s = "hello"; @x = (1, "x", -3)
  EXPECT_EQ(format_map(map_desc("@s", AggKind::None, {}, Type::string(6)),
                       {scalar(str("hello", 8))}),
            "@s: hello\n");
  Type tuple = Type::tuple({Type::int64(), Type::string(2), Type::int64()});
  EXPECT_EQ(format_map(map_desc("@x", AggKind::None, {}, tuple),
                       {scalar(cat({i64(1), str("x", 8), i64(-3)}))}),
            "@x: (1, x, -3)\n");
}

TEST(FormatMap, IntegerValueSizes) {
  // @x[1] = (uint8)255; @y = (int8)-1; @z = (uint32)4000000000;
  // @w = (int16)-300
  auto one = [](const char *name, Type type, Bytes value) {
    value.resize(8, 0);
    return format_map(map_desc(name, AggKind::None, {}, type), {scalar(value)});
  };
  EXPECT_EQ(one("@x", Type::integer(1, false), raw<uint8_t>(255)), "@x: 255\n");
  EXPECT_EQ(one("@y", Type::integer(1, true), raw<int8_t>(-1)), "@y: -1\n");
  EXPECT_EQ(one("@z", Type::integer(4, false), raw<uint32_t>(4000000000u)),
            "@z: 4000000000\n");
  EXPECT_EQ(one("@w", Type::integer(2, true), raw<int16_t>(-300)),
            "@w: -300\n");
}

TEST(FormatMap, SortedByValueAscending) {
  // @x[1] = 3; @x[2] = -1; @x[3] = 0;
  MapDesc m = map_desc("@x", AggKind::None, Type::int64());
  EXPECT_EQ(
      format_map(m, {{i64(1), i64(3)}, {i64(2), i64(-1)}, {i64(3), i64(0)}}),
      "@x[2]: -1\n@x[3]: 0\n@x[1]: 3\n");
  // @x[1] = (uint64)-1; @x[2] = 5;  (unsigned values compare unsigned)
  MapDesc u = map_desc("@x", AggKind::None, Type::int64(), Type::uint64());
  EXPECT_EQ(format_map(u, {{i64(1), u64(-1)}, {i64(2), u64(5)}}),
            "@x[2]: 5\n@x[1]: 18446744073709551615\n");
  // @z[1] = sum(-1); @z[2] = sum(-7);
  MapDesc s = map_desc("@z", AggKind::Sum, Type::int64());
  EXPECT_EQ(format_map(s, {{i64(1), i64(-1)}, {i64(2), i64(-7)}}),
            "@z[2]: -7\n@z[1]: -1\n");
}

TEST(FormatMap, EqualValuesKeepKeyOrder) {
  MapDesc m = map_desc("@n", AggKind::Count, Type::int64(), Type::uint64());
  EXPECT_EQ(
      format_map(m, {{i64(3), u64(1)}, {i64(1), u64(1)}, {i64(2), u64(1)}}),
      "@n[1]: 1\n@n[2]: 1\n@n[3]: 1\n");
}

TEST(FormatMap, MultiKey) {
  // @x[-1, "a"] = 3; @x[5, "bb"] = 1;
  Type key = Type::tuple({Type::int64(), Type::string(3)});
  MapDesc m = map_desc("@x", AggKind::None, key);
  EXPECT_EQ(format_map(m, {{cat({i64(-1), str("a", 8)}), i64(3)},
                           {cat({i64(5), str("bb", 8)}), i64(1)}}),
            "@x[5, bb]: 1\n@x[-1, a]: 3\n");
}

// Addresses (curtask, a struct pointer cast or member, a tracepoint's
// pointer field): in hex as keys, alone or in a multi-key, and as signed
// numbers as values, alone or in a tuple; sorted as signed values. bpftrace
// 0.17: @[0xffff888107c29700]: 1, @e[0xffff888104..., bpftrace]: 1,
// @c: -131387272075072, @g: (-131387272078336, 1).
Type pointer_type() {
  Type t = Type::uint64();
  t.is_pointer = true;
  return t;
}

TEST(FormatMap, PointersAsKeysInHexAsValuesSigned) {
  const uint64_t task = 0xffff888107c29700;
  MapDesc keyed = map_desc("@", AggKind::Count, pointer_type(), Type::uint64());
  EXPECT_EQ(format_map(keyed, {{u64(task), u64(1)}, {u64(0x10), u64(2)}}),
            "@[0xffff888107c29700]: 1\n@[0x10]: 2\n");
  MapDesc multi =
      map_desc("@e", AggKind::Count,
               Type::tuple({pointer_type(), Type::string(9)}), Type::uint64());
  EXPECT_EQ(
      format_map(multi, {{cat({u64(task), str("bpftrace", 16)}), u64(1)}}),
      "@e[0xffff888107c29700, bpftrace]: 1\n");
  MapDesc value = map_desc("@c", AggKind::None, Type::none(), pointer_type());
  EXPECT_EQ(format_map(value, {scalar(u64(task))}), "@c: -131387214358784\n");
  MapDesc tuple = map_desc("@g", AggKind::None, Type::none(),
                           Type::tuple({pointer_type(), Type::int64()}));
  EXPECT_EQ(format_map(tuple, {scalar(cat({u64(task), i64(1)}))}),
            "@g: (-131387214358784, 1)\n");
  // Sorted as signed values: a kernel address before a small one.
  MapDesc by_value =
      map_desc("@v", AggKind::None, Type::int64(), pointer_type());
  EXPECT_EQ(format_map(by_value, {{i64(1), u64(0x10)}, {i64(2), u64(task)}}),
            "@v[2]: -131387214358784\n@v[1]: 16\n");
  // Without the mark, the same key is a signed number (@[(uint64)curtask]).
  MapDesc plain =
      map_desc("@h", AggKind::Count, Type::uint64(), Type::uint64());
  EXPECT_EQ(format_map(plain, {{u64(task), u64(1)}}),
            "@h[-131387214358784]: 1\n");
}

TEST(JsonOutput, KeysAsInTextPointersInHexValuesSigned) {
  // bpftrace 0.17 -f json: {"@": {"0xffff888104ea4500": -131387262089984}}
  std::ostringstream out;
  auto json = make_output(OutputFormat::Json, out);
  json->map(map_desc("@", AggKind::None, pointer_type(), pointer_type()),
            {{u64(0xffff888104ea4500), u64(0xffff888104ea4500)}}, {});
  json->map(map_desc("@b", AggKind::None, Type::none(),
                     Type::tuple({pointer_type(), Type::int64()})),
            {scalar(cat({u64(0xffff888104ea4500), i64(1)}))}, {});
  // Integer keys are signed in JSON too: {"@u": {"-131387214358784": 3}}.
  json->map(map_desc("@u", AggKind::None, Type::uint64()),
            {{u64(0xffff888107c29700), i64(3)}}, {});
  EXPECT_EQ(out.str(), "{\"type\": \"map\", \"data\": {\"@\": "
                       "{\"0xffff888104ea4500\": -131387262089984}}}\n"
                       "{\"type\": \"map\", \"data\": {\"@b\": "
                       "[-131387262089984,1]}}\n"
                       "{\"type\": \"map\", \"data\": {\"@u\": "
                       "{\"-131387214358784\": 3}}}\n");
}

// symbolic() keys in both forms of runtime/types.h: encoded words (table
// id in the top byte) and fields as the record held them, with the table
// and mask in the type. Both print the kernel's names.
TEST(FormatMap, SymbolicKeysInBothForms) {
  auto tables = std::make_shared<SymbolTables>();
  SymbolTable reasons;
  reasons.entries = {{12, "HLT"}, {30, "IO_INSTRUCTION"}};
  tables->tables.push_back(reasons);
  MapDesc encoded =
      map_desc("@e", AggKind::Count, Type::symbolic(tables), Type::uint64());
  EXPECT_EQ(format_map(encoded, {{u64((uint64_t{1} << 56) | 12), u64(2)},
                                 {u64((uint64_t{1} << 56) | 30), u64(5)},
                                 {u64(7), u64(1)}}),
            "@e[7]: 1\n@e[HLT]: 2\n@e[IO_INSTRUCTION]: 5\n");
  // VMX: the low 16 bits name the reason; bit 31 (a failed entry) does not.
  MapDesc stored = map_desc("@s", AggKind::Count,
                            Type::symbolic(tables, 1, 0xffff), Type::uint64());
  EXPECT_EQ(format_map(stored, {{u64(12), u64(2)},
                                {u64(0x80000000u | 30), u64(5)},
                                {u64(99), u64(1)}}),
            "@s[99]: 1\n@s[HLT]: 2\n@s[IO_INSTRUCTION]: 5\n");
}

TEST(FormatMap, NonIntegerValuesSortedByKeyLikeBpftrace) {
  // @s[5]="b"; @s[2]="a"; @s[9]="c"; @s[-1]="d"; @s[100]="e";
  // bpftrace compares integer keys unsigned, so -1 comes last.
  MapDesc m = map_desc("@s", AggKind::None, Type::int64(), Type::string(2));
  EXPECT_EQ(format_map(m, {{i64(5), str("b", 8)},
                           {i64(2), str("a", 8)},
                           {i64(9), str("c", 8)},
                           {i64(-1), str("d", 8)},
                           {i64(100), str("e", 8)}}),
            "@s[2]: a\n@s[5]: b\n@s[9]: c\n@s[100]: e\n@s[-1]: d\n");
  // @x[(int8)-2] = "a"; @x[(int8)5] = "b";
  MapDesc small =
      map_desc("@x", AggKind::None, Type::integer(1, true), Type::string(2));
  EXPECT_EQ(format_map(small, {{raw<int8_t>(-2), str("a", 8)},
                               {raw<int8_t>(5), str("b", 8)}}),
            "@x[5]: b\n@x[-2]: a\n");
  // @t["zz"]="1"; @t["a"]="2"; @t["m"]="3"; @t["ab"]="4";
  MapDesc t = map_desc("@t", AggKind::None, Type::string(3), Type::string(2));
  EXPECT_EQ(format_map(t, {{str("zz", 8), str("1", 8)},
                           {str("a", 8), str("2", 8)},
                           {str("m", 8), str("3", 8)},
                           {str("ab", 8), str("4", 8)}}),
            "@t[a]: 2\n@t[ab]: 4\n@t[m]: 3\n@t[zz]: 1\n");
  // @x["b","x"]="a"; @x["a","y"]="b"; @x["a","x"]="c";
  MapDesc two = map_desc("@x", AggKind::None,
                         Type::tuple({Type::string(2), Type::string(2)}),
                         Type::string(2));
  EXPECT_EQ(format_map(two, {{cat({str("b", 8), str("x", 8)}), str("a", 8)},
                             {cat({str("a", 8), str("y", 8)}), str("b", 8)},
                             {cat({str("a", 8), str("x", 8)}), str("c", 8)}}),
            "@x[a, x]: c\n@x[a, y]: b\n@x[b, x]: a\n");
  // @x["a"] = (1, "x"); @x["b"] = (2, "y");
  Type tuple = Type::tuple({Type::int64(), Type::string(2)});
  MapDesc tv = map_desc("@x", AggKind::None, Type::string(2), tuple);
  EXPECT_EQ(format_map(tv, {{str("b", 8), cat({i64(2), str("y", 8)})},
                            {str("a", 8), cat({i64(1), str("x", 8)})}}),
            "@x[a]: (1, x)\n@x[b]: (2, y)\n");
}

TEST(FormatMap, StatsAndAvg) {
  // @s[1]=stats(100); @s[2]=stats(30) x4; @s[3]=stats(50);
  MapDesc s = map_desc("@s", AggKind::Stats, Type::int64());
  EXPECT_EQ(format_map(s, {{i64(1), cat({i64(100), u64(1)})},
                           {i64(2), cat({i64(120), u64(4)})},
                           {i64(3), cat({i64(50), u64(1)})}}),
            "@s[2]: count 4, average 30, total 120\n"
            "@s[3]: count 1, average 50, total 50\n"
            "@s[1]: count 1, average 100, total 100\n\n");
  // @a[1]=avg(100); @a[2]=avg(30) x4; @a[3]=avg(50);
  MapDesc a = map_desc("@a", AggKind::Avg, Type::int64());
  EXPECT_EQ(format_map(a, {{i64(1), cat({i64(100), u64(1)})},
                           {i64(2), cat({i64(120), u64(4)})},
                           {i64(3), cat({i64(50), u64(1)})}}),
            "@a[2]: 30\n@a[3]: 50\n@a[1]: 100\n\n");
  // Integer division truncates toward zero:
  // @a = avg(-3); @a = avg(-4);  @m: avg(-1), avg(-1), avg(0)
  // @st = stats(-7); @st = stats(2);
  EXPECT_EQ(format_map(map_desc("@a", AggKind::Avg),
                       {scalar(cat({i64(-7), u64(2)}))}),
            "@a: -3\n\n");
  EXPECT_EQ(format_map(map_desc("@m", AggKind::Avg),
                       {scalar(cat({i64(-2), u64(3)}))}),
            "@m: 0\n\n");
  EXPECT_EQ(format_map(map_desc("@st", AggKind::Stats),
                       {scalar(cat({i64(-5), u64(2)}))}),
            "@st: count 2, average -2, total -5\n\n");
}

TEST(FormatMap, EmptyAndZeroedMaps) {
  // A cleared or never written map still prints at exit as blank line(s).
  EXPECT_EQ(format_map(map_desc("@x", AggKind::None), {}), "\n");
  EXPECT_EQ(format_map(map_desc("@h", AggKind::Hist), {}), "\n");
  EXPECT_EQ(format_map(map_desc("@s", AggKind::Stats), {}), "\n\n");
  EXPECT_EQ(format_map(map_desc("@a", AggKind::Avg), {}), "\n\n");
  // @c = count(); zero(@c)  /  @m = min(5); zero(@m)  /  @av = avg(2)...
  EXPECT_EQ(format_map(map_desc("@z", AggKind::Count), {scalar(u64(0))}),
            "@z: 0\n");
  EXPECT_EQ(format_map(map_desc("@mn", AggKind::Min),
                       {scalar(cat({i64(0), u64(0)}))}),
            "@mn: 0\n");
  EXPECT_EQ(format_map(map_desc("@av", AggKind::Avg),
                       {scalar(cat({i64(0), u64(0)}))}),
            "@av: 0\n\n");
  EXPECT_EQ(format_map(map_desc("@s", AggKind::Stats),
                       {scalar(cat({i64(0), u64(0)}))}),
            "@s: count 0, average 0, total 0\n\n");
  // @h = hist(3); zero(@h)  /  @h[1] = lhist(1, 0, 10, 1); zero(@h)
  EXPECT_EQ(format_map(map_desc("@h", AggKind::Hist), buckets({}, {{3, 0}})),
            "@h: \n\n");
  MapDesc l = map_desc("@h", AggKind::LHist, Type::int64());
  l.lhist_min = 0, l.lhist_max = 10, l.lhist_step = 1;
  EXPECT_EQ(format_map(l, buckets(i64(1), {{2, 0}})), "@h[1]: \n\n");
}

TEST(FormatMap, KeylessCountPrintsZeroWhenEmpty) {
  // bpftrace 0.17 keeps a key-less count() in a per-CPU array, so it prints
  // 0 when never counted, cleared or deleted:
  //   BEGIN { @c = count(); clear(@c); @d = count(); delete(@d); exit(); }
  //   BEGIN { exit(); } interval:s:100 { @c = count(); }
  EXPECT_EQ(format_map(map_desc("@c", AggKind::Count), {}), "@c: 0\n");
  EXPECT_EQ(format_map(map_desc("@c", AggKind::Count), {}, {1, 10}), "@c: 0\n");
  // Keyed count() maps and key-less sum() are hashes: empty, a blank line.
  //   BEGIN { @k[1] = count(); clear(@k); @s = sum(1); clear(@s); exit(); }
  EXPECT_EQ(format_map(map_desc("@k", AggKind::Count, Type::int64()), {}),
            "\n");
  EXPECT_EQ(format_map(map_desc("@s", AggKind::Sum), {}), "\n");
}

TEST(JsonOutput, KeylessCountPrintsZeroWhenEmpty) {
  // bpftrace -f json -e 'BEGIN { @c = count(); clear(@c); print(@c);
  //   @k[1] = count(); clear(@k); print(@k); exit(); }'
  std::ostringstream out;
  auto json = make_output(OutputFormat::Json, out);
  json->map(map_desc("@c", AggKind::Count), {}, {});
  json->map(map_desc("@k", AggKind::Count, Type::int64()), {}, {});
  EXPECT_EQ(out.str(), "{\"type\": \"map\", \"data\": {\"@c\": 0}}\n");
}

TEST(FormatMap, TopAndDiv) {
  // @x[1]=1; @x[2]=2; @x[3]=3; print(@x, 2); print(@x, 0, 2);
  MapDesc m = map_desc("@x", AggKind::None, Type::int64());
  std::vector<MapEntry> e = {
      {i64(1), i64(1)}, {i64(2), i64(2)}, {i64(3), i64(3)}};
  EXPECT_EQ(format_map(m, e, {2, 1}), "@x[2]: 2\n@x[3]: 3\n");
  EXPECT_EQ(format_map(m, e, {0, 2}), "@x[1]: 0\n@x[2]: 1\n@x[3]: 1\n");
  // @a[1]=avg(100); @a[2]=avg(30); print(@a, 1); print(@a, 0, 2);
  MapDesc a = map_desc("@a", AggKind::Avg, Type::int64());
  std::vector<MapEntry> ae = {{i64(1), cat({i64(100), u64(1)})},
                              {i64(2), cat({i64(30), u64(1)})}};
  EXPECT_EQ(format_map(a, ae, {1, 1}), "@a[1]: 100\n\n");
  EXPECT_EQ(format_map(a, ae, {0, 2}), "@a[2]: 15\n@a[1]: 50\n\n");
  // bpftrace ignores top and div for stats(): print(@s, 1); print(@s, 0, 2)
  MapDesc s = map_desc("@s", AggKind::Stats, Type::int64());
  std::string all = "@s[2]: count 1, average 30, total 30\n"
                    "@s[1]: count 1, average 100, total 100\n\n";
  EXPECT_EQ(format_map(s, ae, {1, 1}), all);
  EXPECT_EQ(format_map(s, ae, {0, 2}), all);
}

TEST(FormatMap, ValuesThatEndTheirOwnLines) {
  // @y[1] = ntop(0x0100007f); @y[2] = ntop(0x0200007f);
  Type inet = Type::of_kind(TypeKind::Inet, 24);
  MapDesc m = map_desc("@y", AggKind::None, Type::int64(), inet);
  Bytes a = cat({u64(2 /* AF_INET */), Bytes{127, 0, 0, 1}, Bytes(12, 0)});
  Bytes b = cat({u64(2), Bytes{127, 0, 0, 2}, Bytes(12, 0)});
  EXPECT_EQ(format_map(m, {{i64(2), b}, {i64(1), a}}),
            "@y[1]: 127.0.0.1@y[2]: 127.0.0.2\n");
}

// ---------------------------------------------------------------------------
// Histograms

TEST(FormatHist, Labels) {
  EXPECT_EQ(hist_bucket_label(0), "(..., 0)");
  EXPECT_EQ(hist_bucket_label(1), "[0]");
  EXPECT_EQ(hist_bucket_label(2), "[1]");
  EXPECT_EQ(hist_bucket_label(3), "[2, 4)");
  EXPECT_EQ(hist_bucket_label(11), "[512, 1K)");
  EXPECT_EQ(hist_bucket_label(12), "[1K, 2K)");
  EXPECT_EQ(hist_bucket_label(31), "[512M, 1G)");
  EXPECT_EQ(hist_bucket_label(33), "[2G, 4G)");
  EXPECT_EQ(hist_bucket_label(42), "[1T, 2T)");
  EXPECT_EQ(hist_bucket_label(52), "[1P, 2P)");
  EXPECT_EQ(hist_bucket_label(62), "[1E, 2E)");
  EXPECT_EQ(hist_bucket_label(64), "[4E, 8E)");
}

TEST(FormatHist, AllSpecialBuckets) {
  // @a=hist(-5); @a=hist(0) x2; @a=hist(1); @a=hist(2); @a=hist(3) x3;
  EXPECT_EQ(format_map(map_desc("@a", AggKind::Hist),
                       buckets({}, {{0, 1}, {1, 2}, {2, 1}, {3, 4}})),
            "@a: \n"
            "(..., 0)               1 |" +
                bar(13) +
                "|\n"
                "[0]                    2 |" +
                bar(26) +
                "|\n"
                "[1]                    1 |" +
                bar(13) +
                "|\n"
                "[2, 4)                 4 |" +
                bar(52) +
                "|\n"
                "\n");
}

TEST(FormatHist, EmptyBucketsBetweenAreShown) {
  // @b = hist(1 << 20); @b = hist((1 << 30) + 5);
  EXPECT_EQ(format_map(map_desc("@b", AggKind::Hist),
                       buckets({}, {{22, 1}, {32, 1}})),
            "@b: \n"
            "[1M, 2M)               1 |" +
                bar(52) +
                "|\n"
                "[2M, 4M)               0 |" +
                bar(0) +
                "|\n"
                "[4M, 8M)               0 |" +
                bar(0) +
                "|\n"
                "[8M, 16M)              0 |" +
                bar(0) +
                "|\n"
                "[16M, 32M)             0 |" +
                bar(0) +
                "|\n"
                "[32M, 64M)             0 |" +
                bar(0) +
                "|\n"
                "[64M, 128M)            0 |" +
                bar(0) +
                "|\n"
                "[128M, 256M)           0 |" +
                bar(0) +
                "|\n"
                "[256M, 512M)           0 |" +
                bar(0) +
                "|\n"
                "[512M, 1G)             0 |" +
                bar(0) +
                "|\n"
                "[1G, 2G)               1 |" +
                bar(52) +
                "|\n"
                "\n");
}

TEST(FormatHist, KeyedSortedByTotal) {
  // @h[1]=hist(1) x3; @h[2]=hist(1000);
  MapDesc m = map_desc("@h", AggKind::Hist, Type::int64());
  EXPECT_EQ(format_map(
                m, join(buckets(i64(1), {{2, 3}}), buckets(i64(2), {{11, 1}}))),
            "@h[2]: \n"
            "[512, 1K)              1 |" +
                bar(52) +
                "|\n"
                "\n"
                "@h[1]: \n"
                "[1]                    3 |" +
                bar(52) +
                "|\n"
                "\n");
}

TEST(FormatHist, DivScalesCountsNotBars) {
  // @h[1]=hist(1) x3; @h[2]=hist(1000) x2; @h[2]=hist(3); print(@h, 0, 2);
  MapDesc m = map_desc("@h", AggKind::Hist, Type::int64());
  EXPECT_EQ(format_map(m,
                       join(buckets(i64(1), {{2, 3}}),
                            buckets(i64(2), {{3, 1}, {11, 2}})),
                       {0, 2}),
            "@h[1]: \n"
            "[1]                    1 |" +
                bar(52) +
                "|\n"
                "\n"
                "@h[2]: \n"
                "[2, 4)                 0 |" +
                bar(26) +
                "|\n"
                "[4, 8)                 0 |" +
                bar(0) +
                "|\n"
                "[8, 16)                0 |" +
                bar(0) +
                "|\n"
                "[16, 32)               0 |" +
                bar(0) +
                "|\n"
                "[32, 64)               0 |" +
                bar(0) +
                "|\n"
                "[64, 128)              0 |" +
                bar(0) +
                "|\n"
                "[128, 256)             0 |" +
                bar(0) +
                "|\n"
                "[256, 512)             0 |" +
                bar(0) +
                "|\n"
                "[512, 1K)              1 |" +
                bar(52) +
                "|\n"
                "\n");
}

MapDesc lhist(const char *name, int64_t min, int64_t max, int64_t step,
              Type key = Type::none()) {
  MapDesc m = map_desc(name, AggKind::LHist, std::move(key));
  m.lhist_min = min;
  m.lhist_max = max;
  m.lhist_step = step;
  return m;
}

TEST(FormatLHist, UnderAndOverflowBuckets) {
  // @a=lhist(-5,0,10,2); @a=lhist(3,0,10,2) x2; @a=lhist(10,0,10,2);
  // @a=lhist(100,0,10,2);
  EXPECT_EQ(
      format_map(lhist("@a", 0, 10, 2), buckets({}, {{0, 1}, {2, 2}, {6, 2}})),
      "@a: \n"
      "(..., 0)               1 |" +
          bar(26) +
          "|\n"
          "[0, 2)                 0 |" +
          bar(0) +
          "|\n"
          "[2, 4)                 2 |" +
          bar(52) +
          "|\n"
          "[4, 6)                 0 |" +
          bar(0) +
          "|\n"
          "[6, 8)                 0 |" +
          bar(0) +
          "|\n"
          "[8, 10)                0 |" +
          bar(0) +
          "|\n"
          "[10, ...)              2 |" +
          bar(52) +
          "|\n"
          "\n");
}

TEST(FormatLHist, Labels) {
  // @b=lhist(5000,0,10240,1024); @b=lhist(2048,0,10240,1024);
  EXPECT_EQ(
      format_map(lhist("@b", 0, 10240, 1024), buckets({}, {{3, 1}, {5, 1}})),
      "@b: \n"
      "[2K, 3K)               1 |" +
          bar(52) +
          "|\n"
          "[3K, 4K)               0 |" +
          bar(0) +
          "|\n"
          "[4K, 5K)               1 |" +
          bar(52) +
          "|\n"
          "\n");
  // @d=lhist(15,0,10,3); @d=lhist(1,0,10,3);  (3 buckets, then [10, ...))
  EXPECT_EQ(format_map(lhist("@d", 0, 10, 3), buckets({}, {{1, 1}, {4, 1}})),
            "@d: \n"
            "[0, 3)                 1 |" +
                bar(52) +
                "|\n"
                "[3, 6)                 0 |" +
                bar(0) +
                "|\n"
                "[6, 9)                 0 |" +
                bar(0) +
                "|\n"
                "[10, ...)              1 |" +
                bar(52) +
                "|\n"
                "\n");
  // @e=lhist(4,0,100,1) x3; @e=lhist(5,0,100,1);  (bar 1/3*52 = 17.33)
  EXPECT_EQ(format_map(lhist("@e", 0, 100, 1), buckets({}, {{5, 3}, {6, 1}})),
            "@e: \n"
            "[4, 5)                 3 |" +
                bar(52) +
                "|\n"
                "[5, 6)                 1 |" +
                bar(17) +
                "|\n"
                "\n");
  // @e=lhist(100000000, 0, 1000000000, 10000000);  (long labels push the
  // count right)
  EXPECT_EQ(
      format_map(lhist("@e", 0, 1000000000, 10000000), buckets({}, {{11, 1}})),
      "@e: \n"
      "[100000000, 110000000)       1 |" +
          bar(52) +
          "|\n"
          "\n");
  // @f=lhist(1073741824, 0, 2000000000, 1073741824);
  EXPECT_EQ(
      format_map(lhist("@f", 0, 2000000000, 1073741824), buckets({}, {{2, 1}})),
      "@f: \n"
      "[1953125K, ...)        1 |" +
          bar(52) +
          "|\n"
          "\n");
  // @f=lhist(5, 0, 2147483647, 1073741824);
  EXPECT_EQ(
      format_map(lhist("@f", 0, 2147483647, 1073741824), buckets({}, {{1, 1}})),
      "@f: \n"
      "[0, 1024M)             1 |" +
          bar(52) +
          "|\n"
          "\n");
}

TEST(FormatLHist, MultiKey) {
  // @g[1,"x"]=lhist(3,0,10,1); @g[2,"y"]=lhist(3,0,10,1);
  // @g[2,"y"]=lhist(4,0,10,1);
  Type key = Type::tuple({Type::int64(), Type::string(2)});
  EXPECT_EQ(
      format_map(lhist("@g", 0, 10, 1, key),
                 join(buckets(cat({i64(2), str("y", 8)}), {{4, 1}, {5, 1}}),
                      buckets(cat({i64(1), str("x", 8)}), {{4, 1}}))),
      "@g[1, x]: \n"
      "[3, 4)                 1 |" +
          bar(52) +
          "|\n"
          "\n"
          "@g[2, y]: \n"
          "[3, 4)                 1 |" +
          bar(52) +
          "|\n"
          "[4, 5)                 1 |" +
          bar(52) +
          "|\n"
          "\n");
}

// ---------------------------------------------------------------------------
// Per-CPU merge

TEST(MergePercpu, SumsCountsAndHistograms) {
  MapDesc m = map_desc("@c", AggKind::Count);
  Bytes values = cat({u64(3), u64(4), u64(5)});
  EXPECT_EQ(merge_percpu(m, values.data(), 3), u64(12));
  MapDesc s = map_desc("@s", AggKind::Sum);
  Bytes sums = cat({i64(-3), i64(1)});
  EXPECT_EQ(merge_percpu(s, sums.data(), 2), i64(-2));
}

TEST(MergePercpu, MinMaxSkipUnsetCpus) {
  MapDesc mn = map_desc("@m", AggKind::Min);
  Bytes v = cat({i64(0), u64(0), i64(5), u64(1), i64(-2), u64(1)});
  EXPECT_EQ(merge_percpu(mn, v.data(), 3), cat({i64(-2), u64(1)}));
  MapDesc mx = map_desc("@m", AggKind::Max);
  Bytes w = cat({i64(9), u64(0), i64(-5), u64(1), i64(-7), u64(1)});
  EXPECT_EQ(merge_percpu(mx, w.data(), 3), cat({i64(-5), u64(1)}));
  Bytes none = cat({i64(4), u64(0), i64(3), u64(0)});
  EXPECT_EQ(merge_percpu(mx, none.data(), 2), cat({i64(0), u64(0)}));
}

TEST(MergePercpu, AvgAddsSumsAndCounts) {
  MapDesc a = map_desc("@a", AggKind::Avg);
  Bytes v = cat({i64(10), u64(2), i64(-4), u64(1)});
  EXPECT_EQ(merge_percpu(a, v.data(), 2), cat({i64(6), u64(3)}));
}

TEST(MergePercpu, PlainValuesTakeTheFirstCopy) {
  MapDesc m = map_desc("@x", AggKind::None, {}, Type::integer(4, true));
  Bytes v = cat({raw<int32_t>(7), Bytes(4, 0), raw<int32_t>(9), Bytes(4, 0)});
  EXPECT_EQ(merge_percpu(m, v.data(), 2), cat({raw<int32_t>(7), Bytes(4, 0)}));
}

// ---------------------------------------------------------------------------
// Output sinks

TEST(TextOutput, AttachingAndEndOfRun) {
  std::ostringstream out;
  auto text = make_output(OutputFormat::Text, out);
  text->attached_probes(1);
  text->attached_probes(3);
  text->printf_result("hi\n");
  text->end_of_run();
  text->map(map_desc("@x", AggKind::None), {scalar(i64(1))}, {});
  EXPECT_EQ(out.str(), "Attaching 1 probe...\nAttaching 3 probes...\nhi\n"
                       "\n\n@x: 1\n");
}

TEST(JsonOutput, Messages) {
  // bpftrace -f json -e 'BEGIN { printf("hi \"q\"\n"); print(5);
  //   print("abc"); print((1,"a")); ... }'
  std::ostringstream out;
  auto json = make_output(OutputFormat::Json, out);
  json->attached_probes(1);
  json->printf_result("hi \"q\"\n");
  json->value(Type::int64(), i64(5).data(), 8);
  json->value(Type::string(4), str("abc", 8).data(), 8);
  Type t = Type::tuple({Type::int64(), Type::string(2)});
  Bytes tv = cat({i64(1), str("a", 8)});
  json->value(t, tv.data(), tv.size());
  json->time_result("15:00:22\n");
  EXPECT_EQ(out.str(),
            "{\"type\": \"attached_probes\", \"data\": {\"probes\": 1}}\n"
            "{\"type\": \"printf\", \"data\": \"hi \\\"q\\\"\\n\"}\n"
            "{\"type\": \"value\", \"data\": 5}\n"
            "{\"type\": \"value\", \"data\": \"abc\"}\n"
            "{\"type\": \"value\", \"data\": [1,\"a\"]}\n"
            "{\"type\": \"time\", \"data\": \"15:00:22\\n\"}\n");
}

TEST(JsonOutput, Maps) {
  std::ostringstream out;
  auto json = make_output(OutputFormat::Json, out);
  Type key = Type::tuple({Type::int64(), Type::string(2)});
  json->map(map_desc("@m", AggKind::None, key),
            {{cat({i64(2), str("b", 8)}), i64(3)},
             {cat({i64(1), str("a", 8)}), i64(2)}},
            {});
  json->map(map_desc("@a", AggKind::Avg), {scalar(cat({i64(4), u64(1)}))}, {});
  json->map(map_desc("@c", AggKind::Count, Type::int64()), {{i64(1), u64(1)}},
            {});
  json->map(map_desc("@h", AggKind::Hist), buckets({}, {{4, 1}}), {});
  json->map(map_desc("@hk", AggKind::Hist, Type::int64()),
            buckets(i64(1), {{3, 1}}), {});
  json->map(lhist("@l", 0, 10, 1), buckets({}, {{4, 1}}), {});
  json->map(map_desc("@s", AggKind::Stats), {scalar(cat({i64(3), u64(1)}))},
            {});
  json->map(map_desc("@str", AggKind::None, {}, Type::string(2)),
            {scalar(str("s", 8))}, {});
  Type tuple = Type::tuple({Type::int64(), Type::string(2)});
  json->map(map_desc("@t", AggKind::None, {}, tuple),
            {scalar(cat({i64(1), str("x", 8)}))}, {});
  json->map(map_desc("@x", AggKind::None), {scalar(i64(1))}, {});
  json->map(map_desc("@empty", AggKind::None), {}, {}); // prints nothing
  EXPECT_EQ(
      out.str(),
      "{\"type\": \"map\", \"data\": {\"@m\": {\"1,a\": 2, \"2,b\": 3}}}\n"
      "{\"type\": \"stats\", \"data\": {\"@a\": 4}}\n"
      "{\"type\": \"map\", \"data\": {\"@c\": {\"1\": 1}}}\n"
      "{\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 4, \"max\": 7, "
      "\"count\": 1}]}}\n"
      "{\"type\": \"hist\", \"data\": {\"@hk\": {\"1\": [{\"min\": 2, "
      "\"max\": 3, \"count\": 1}]}}}\n"
      "{\"type\": \"hist\", \"data\": {\"@l\": [{\"min\": 3, \"max\": 3, "
      "\"count\": 1}]}}\n"
      "{\"type\": \"stats\", \"data\": {\"@s\": {\"count\": 1, \"average\": "
      "3, \"total\": 3}}}\n"
      "{\"type\": \"map\", \"data\": {\"@str\": \"s\"}}\n"
      "{\"type\": \"map\", \"data\": {\"@t\": [1,\"x\"]}}\n"
      "{\"type\": \"map\", \"data\": {\"@x\": 1}}\n");
}

} // namespace
} // namespace hvt
