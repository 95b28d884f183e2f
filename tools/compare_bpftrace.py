#!/usr/bin/env python3
"""Differential test: runs programs through bpftrace and hvt, compares output.

Every program below is deterministic: BEGIN programs that insert their own
values and exit, interval probes that count to a fixed number, and tracepoint
or uprobe programs that only see a workload run with -c (filtered by cpid).
For each program the harness runs `bpftrace` and `hvt --no-cache` with the
same arguments and compares the exit codes and stdout, printing a unified
diff per mismatch. The "Attaching N probes..." line (the JSON
attached_probes record) is left out of the comparison: the programs' own
output is what must agree. bpftrace's output is itself nondeterministic in
two ways the programs avoid or normalize: map entries with equal values
print in hash order (normalize="sorted"), and print(@m) shows the map when
user space reads the record, after the probe may have changed it further
(hvt does the same).

A program whose output is known to differ carries `expect`: the kind of
difference and the reason. Kinds:
  hvt      a deliberate hvt difference listed in docs/language.md
  bpftrace a bpftrace 0.17 bug (also listed in docs/language.md)
Such a mismatch is reported as expected and does not fail the run; an
expected difference that no longer shows is reported as a note.

Usage:
  tools/compare_bpftrace.py --hvt build/compiler/driver/hvt [-k PATTERN]
      [--bpftrace /usr/bin/bpftrace] [--uprobe-target PATH] [-j N] [-v]
      [--list]

Exit codes: 0 every program printed what bpftrace printed (or differed as
expected), 1 an unexpected mismatch, 77 cannot run here (bpftrace missing,
not root): ctest reports that as skipped, with the reason on stdout.
"""

import argparse
import concurrent.futures
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
TIMEOUT = 60

# Placeholders in programs, arguments and commands.
TARGET = "@TARGET@"  # tests/kernel/uprobe_target.c, built by the tests
WORKDIR = "@WORKDIR@"  # a temporary folder holding the workload files
# The -c command of the tracepoint programs: WORKLOAD_PY below.
WORKLOAD = "/usr/bin/python3 " + WORKDIR + "/workload.py"

# Deliberate hvt differences (docs/language.md, "Differences from bpftrace").
HVT_SIGNED_DIVISION = (
    "hvt",
    "signed division, modulo and >> follow C; bpftrace 0.17 computes them "
    "unsigned")
HVT_BIG_HIST = (
    "hvt",
    "bpftrace 0.17 puts every hist() value >= 2^32 in [2G, 4G); hvt uses "
    "the real bucket")
HVT_PRINTF_FLAGS = (
    "hvt",
    "bpftrace 0.17 rejects printf's %i and the flags '+', ' ', '#' "
    "('Too many arguments for format string'); hvt prints them as C does")
HVT_ACCEPTS = (
    "hvt",
    "hvt accepts what bpftrace 0.17 rejects (several BEGIN/END probes, "
    "a negative lhist() min, string literals over 64 bytes, reading "
    "aggregations in a probe, 0x_ff, 25e2)")
BPFTRACE_MAX_NEGATIVE = (
    "bpftrace",
    "bpftrace 0.17's max() never stores a value below 0: a max() of "
    "negative values only is an empty map")
BPFTRACE_JSON_UTF8 = (
    "bpftrace",
    "bpftrace 0.17's JSON escapes each byte >= 0x80 as a sign-extended "
    "\\uffffffXX; hvt writes UTF-8 text as is")
BPFTRACE_BUF_KEY = (
    "bpftrace",
    "bpftrace 0.17 prints a buf() map key whose length is not a constant "
    "with all max_strlen bytes, zeros included; hvt prints the bytes read")
HVT_PERCENT = (
    "hvt",
    "bpftrace 0.17 prints '%%' verbatim when no conversion follows it; hvt "
    "always prints '%'")


class Case:
    """One program. `normalize` names a transformation applied to both
    outputs before comparing: 'digits' (every digit becomes 9, for clock
    values), 'sorted' (lines sorted: bpftrace prints ties in hash order)."""

    def __init__(self, name, program, args=(), fmt="text", cmd=None, env=None,
                 normalize=None, expect=None, needs_target=False):
        self.name, self.program, self.args = name, program, list(args)
        self.fmt, self.cmd, self.env = fmt, cmd, env or {}
        self.normalize, self.expect = normalize, expect
        self.needs_target = needs_target or TARGET in program or (
            cmd is not None and TARGET in cmd)


def begin(body):
    """A BEGIN program that runs `body` and exits."""
    return "BEGIN { " + body + " exit(); }"


CASES = [
    # ------------------------------------------------------------- printf
    Case("printf_plain_text", begin(r'printf("hello\n"); printf("a"); printf("b\n");')),
    Case("printf_signed_conversions", begin(r'printf("%d %u|%d %u\n", -5, -5, 7, 7);')),
    Case("printf_widths_and_flags",
         begin(r'printf("[%5d][%-5d][%05d][%-05d][%08.3d][%5lu][%-8x][%05x]\n", 42, 42, 42, 42, 42, 42, 42, 42);')),
    Case("printf_flags_bpftrace_rejects",
         begin(r'printf("[%i][%+d][% d][%-+6d][%#x][%#o]\n", -5, 42, 42, 42, 255, 8);'),
         expect=HVT_PRINTF_FLAGS),
    Case("printf_precision",
         begin(r'printf("[%.5d][%8.3d][%-8.3d][%.0d]\n", 7, 7, 7, 0);')),
    Case("printf_hex_octal",
         begin(r'printf("%x %X %o %x %X %o %x\n", 255, 255, 8, 0, 0, 0, -1);')),
    Case("printf_length_modifiers",
         begin(r'printf("%d %ld %lld %lu %llu %llx %lx\n", 5000000000, 5000000000, -5, -1, -1, -1, 4096);')),
    Case("printf_short_lengths",
         begin(r'printf("%hhd %hd %hhu %hu %hhx\n", 300, 70000, -42, -1, 511);')),
    Case("printf_size_lengths",
         begin(r'printf("%zd %zu %jd %ju %td\n", -3, -3, -4, 4, -5);')),
    Case("printf_unsigned_of_negatives",
         begin(r'printf("%u %lu %x %lx %o\n", -1, -1, -2, -2, -8);')),
    Case("printf_chars", begin(r'printf("%c%c%c|%3c|%-3c|\n", 72, 105, 33, 65, 66);')),
    Case("printf_strings",
         begin(r'printf("[%s][%10s][%-10s][%.3s][%-8s][%5s]\n", "abc", "abc", "abc", "abcdef", "ab", "toolongstring");')),
    Case("printf_empty_string", begin(r'printf("[%s][%5s]\n", "", "");')),
    Case("printf_percent_before_conversion",
         begin(r'printf("%d%% of %d\n", 5, 10);')),
    Case("printf_percent_at_end", begin(r'printf("100%% done %d%%\n", 5);'),
         expect=HVT_PERCENT),
    Case("printf_escapes",
         begin(r'printf("tab\there|q\"uote|back\\slash|\x41\102|\101\n");')),
    Case("printf_pointer", begin(r'printf("%p %p\n", 4096, 0);')),
    Case("printf_big_numbers",
         begin(r'printf("%d %ld %lu %ld\n", 0x7fffffffffffffff, 0x7fffffffffffffff, 0xffffffffffffffff, 0x8000000000000000);')),
    Case("printf_map_values",
         begin(r'@x = 5; @s = "str"; @m[1] = 7; printf("%d %s %d %d\n", @x, @s, @m[1], @m[2]); clear(@x); clear(@s); clear(@m);')),
    Case("printf_many_arguments",
         begin(r'printf("%d %d %d %d %d %d %d %s %s\n", 1, 2, 3, 4, 5, 6, 7, "a", "b");')),
    Case("printf_tuple_field",
         begin(r'$t = (1, "two", (3, "four")); printf("%d %s %d %s\n", $t.0, $t.1, $t.2.0, $t.2.1);')),
    # --------------------------------------------------------- print(value)
    Case("print_values",
         begin(r'print(1); print(-1); print("str"); print((1, "a")); print((1, (2, "b"), "c"));')),
    Case("print_big_values",
         begin(r'print(0x7fffffffffffffff); print((uint64)0xffffffffffffffff); print(-9223372036854775807 - 1);')),
    Case("print_scratch_variables",
         begin(r'$a = 3; $b = "x"; $c = ($a, $b); print($a); print($b); print($c);')),
    # -------------------------------------------------------- arithmetic
    Case("arithmetic",
         begin(r'printf("%d %d %d %d %d %d\n", 1 + 2 * 3, (1 + 2) * 3, 7 / 2, 7 % 3, 1 << 10, 1024 >> 3);')),
    Case("bitwise_and_logic",
         begin(r'printf("%d %d %d %d %d %d %d %d\n", 6 & 3, 6 | 3, 6 ^ 3, ~0, !0, !5, 1 && 0, 0 || 2);')),
    Case("comparisons",
         begin(r'printf("%d %d %d %d %d %d\n", 1 < 2, 2 <= 2, 3 > 4, 4 >= 5, 5 == 5, 5 != 5);')),
    Case("ternary", begin(r'$x = 5; printf("%d %s\n", $x > 3 ? 10 : 20, $x < 3 ? "lt" : "ge");')),
    Case("signed_division", begin(r'printf("%ld %ld\n", -7 / 2, -7 % 2);'),
         expect=HVT_SIGNED_DIVISION),
    Case("casts",
         begin(r'printf("%d %d %d %d %d\n", (uint8)300, (int8)200, (uint16)-1, (int16)40000, (uint32)-1);')),
    Case("unsigned_arithmetic",
         begin(r'@a = (uint64)1 - 2; @b = -(uint64)3; @c = (uint8)-1; @d = (int8)200;')),
    Case("integer_literals",
         begin(r'printf("%d %d %d %d\n", 0x2a, 052, 0xff, 0xffffffffffffffff);')),
    Case("overflow_wraps", begin(r'@g = 0x7fffffffffffffff + 1; @h = (uint64)5 > -1;')),
    Case("string_comparison",
         begin(r'$a = "abc"; printf("%d %d %d\n", $a == "abc", $a != "abc", "x" == "y");')),
    # ------------------------------------------------------- control flow
    Case("if_else_chains",
         begin(r'$i = 5; if ($i > 9) { printf("a\n"); } else if ($i == 5) { printf("b\n"); } else { printf("c\n"); }')),
    Case("while_break_continue",
         begin(r'$i = 0; while ($i < 6) { $i++; if ($i == 2) { continue; } if ($i == 5) { break; } printf("w%d ", $i); } printf("\n");')),
    Case("unroll", begin(r'$i = 0; unroll(4) { $i++; printf("u%d ", $i); } printf("\n");')),
    Case("increments",
         begin(r'$i = 1; printf("%d ", $i++); printf("%d ", $i); printf("%d ", ++$i); printf("%d\n", $i--); @n++; @n++; @m--;')),
    Case("compound_assignment",
         begin(r'$a = 10; $a += 5; $a -= 3; $a *= 2; $a /= 4; $a %= 4; $a <<= 3; $a >>= 1; $a |= 1; $a &= 13; $a ^= 2; printf("%d\n", $a); @m = 1; @m += 10; @m *= 3;')),
    Case("predicates",
         "BEGIN /1 == 1/ { printf(\"first\\n\"); }\n"
         "interval:ms:10 /@n < 2/ { @n++; }\n"
         "interval:ms:30 /@n == 2/ { printf(\"second\\n\"); exit(); }"),
    Case("several_begin_probes",
         "BEGIN /1 == 2/ { printf(\"never\\n\"); }\n"
         "BEGIN { printf(\"first\\n\"); exit(); }", expect=HVT_ACCEPTS),
    Case("end_probe_output",
         'BEGIN { printf("begin\\n"); @x = 1; exit(); }\n'
         'END { printf("end %d\\n", @x); @y = 2; }'),
    Case("two_end_probes",
         'BEGIN { exit(); } END { printf("end1\\n"); } END { printf("end2\\n"); }',
         expect=HVT_ACCEPTS),
    # ------------------------------------------------------ map printing
    Case("scalar_maps", begin(r'@x = 1; @y = -1; @z = "str"; @big = 0x7fffffffffffffff;')),
    Case("unnamed_map", begin(r'@ = 42;')),
    Case("unnamed_map_with_keys", begin(r'@[1] = 10; @[2] = 5;')),
    Case("maps_print_in_name_order", begin(r'@c = 3; @a = 1; @b = 2; @A = 0; @_x = 4;')),
    Case("int_keys_sorted_by_value", begin(r'@m[3] = 1; @m[1] = 3; @m[2] = 2;')),
    Case("negative_values_sorted", begin(r'@m[1] = -5; @m[2] = 7; @m[3] = -100; @m[4] = 0;')),
    Case("negative_keys", begin(r'@m[-1] = 1; @m[-5] = 2; @m[0] = 3; @m[9] = 4;')),
    Case("int_keys_string_values_sorted_by_key",
         begin(r'@u[5] = "z"; @u[-1] = "x"; @u[1] = "y"; @u[0] = "w";')),
    Case("string_keys_sorted_by_value",
         begin(r'@m["b"] = 2; @m["a"] = 3; @m["c"] = 1;')),
    Case("string_keys_string_values",
         begin(r'@s["b"] = "x"; @s["a"] = "y"; @s["B"] = "z"; @s["ab"] = "w";')),
    Case("multi_keys", begin(r'@m[1, "a"] = 1; @m[2, "b"] = 2; @m[1, "b"] = 3;')),
    Case("multi_int_keys", begin(r'@m[1, 2] = 10; @m[3, 4] = 5; @m[-1, -2] = 7;')),
    Case("multi_keys_string_values", begin(r'@m[2, "b"] = "x"; @m[1, "b"] = "y"; @m[1, "a"] = "z";')),
    Case("tuple_values", begin(r'@t = (1, "a"); @u[1] = (2, "b", 3); @u[0] = (5, "c", 6);')),
    Case("big_and_negative_values",
         begin(r'@a = 9223372036854775807; @b = -9223372036854775807 - 1; @c = (uint64)0xffffffffffffffff; @d = 1000000000000;')),
    Case("map_read_of_missing_key",
         begin(r'@b["x"] = 2; printf("%d [%s]\n", @b["nope"], @s["nope"]); @s["a"] = "str";')),
    Case("map_value_from_string_parameter", begin(r'@p[$1] = str($2);'),
         args=["7", "seven"]),
    Case("ties_in_hash_order", begin(r'@m[1] = 5; @m[2] = 5; @m[3] = 5; @m[4] = 1;'),
         normalize="sorted"),
    Case("map_keys_many", begin(r'$i = 0; while ($i < 40) { @m[$i] = $i * 3 - 50; $i++; }')),
    # ------------------------------------------------------- aggregations
    Case("count_sum", begin(r'@c = count(); @c = count(); @s = sum(5); @s = sum(-7); @k[1] = count(); @k[2] = count(); @k[2] = count();')),
    Case("avg_min_max",
         begin(r'@a = avg(4); @a = avg(7); @mn = min(3); @mn = min(-2); @mx = max(9); @mx = max(1);')),
    Case("avg_of_negatives", begin(r'@a = avg(-4); @a = avg(-7); @b = avg(-3); @b = avg(2);')),
    Case("min_max_all_negative", begin(r'@mn = min(-3); @mn = min(-9); @mx = max(-9); @mx = max(-3);'),
         expect=BPFTRACE_MAX_NEGATIVE),
    Case("max_of_zero_and_negative", begin(r'@mx = max(0); @mx = max(-3); @my = max(-3); @my = max(4);')),
    Case("stats", begin(r'@st = stats(10); @st = stats(20); @st = stats(-3);')),
    Case("stats_keyed", begin(r'@st["a"] = stats(10); @st["b"] = stats(1); @st["b"] = stats(3);')),
    Case("avg_keyed", begin(r'@a[1] = avg(10); @a[2] = avg(1); @a[3] = avg(100);')),
    Case("sum_keyed_negative", begin(r'@s["x"] = sum(-10); @s["y"] = sum(10); @s["z"] = sum(0);')),
    Case("sum_big", begin(r'@s = sum(0x7fffffffffffffff); @s = sum(1); @t = sum(4000000000); @t = sum(4000000000);')),
    Case("count_per_string_key", begin(r'$i = 0; while ($i < 10) { @c[$i % 3 == 0 ? "three" : "other"] = count(); $i++; }')),
    Case("aggregation_in_printf", begin(r'@c = count(); @c = count(); @s = sum(3); printf("%d %d\n", @c, @s);'),
         expect=("hvt", "reading count/sum maps in a probe: bpftrace 0.17 rejects the program")),
    # ------------------------------------------------------ histograms
    Case("hist_small_values", begin(r'@h = hist(0); @h = hist(1); @h = hist(2); @h = hist(3); @h = hist(4); @h = hist(7); @h = hist(8);')),
    Case("hist_spread", begin(r'$i = 0; while ($i < 100) { @h = hist($i * 37); $i++; }')),
    Case("hist_zero_only", begin(r'@h = hist(0);')),
    Case("hist_negative", begin(r'@h = hist(-1); @h = hist(-100); @h = hist(5);')),
    Case("hist_large_below_4g", begin(r'@h = hist(1000000); @h = hist(1048576); @h = hist(2147483648); @h = hist(4294967295);')),
    Case("hist_huge", begin(r'@h = hist(1 << 40); @h = hist(5);'), expect=HVT_BIG_HIST),
    Case("hist_keyed", begin(r'@h["a"] = hist(1); @h["b"] = hist(10); @h["b"] = hist(100); @h["a"] = hist(2);')),
    Case("lhist_edges", begin(r'@l = lhist(0, 0, 100, 10); @l = lhist(9, 0, 100, 10); @l = lhist(10, 0, 100, 10); @l = lhist(99, 0, 100, 10); @l = lhist(100, 0, 100, 10);')),
    Case("lhist_out_of_range", begin(r'@l = lhist(-1, 0, 100, 10); @l = lhist(1000, 0, 100, 10); @l = lhist(50, 0, 100, 10);')),
    Case("lhist_below_only", begin(r'@l = lhist(-5, 0, 100, 10);')),
    Case("lhist_above_only", begin(r'@l = lhist(500, 0, 100, 10);')),
    Case("lhist_negative_range", begin(r'@l = lhist(-50, -100, 100, 25); @l = lhist(-100, -100, 100, 25); @l = lhist(0, -100, 100, 25); @l = lhist(99, -100, 100, 25);'),
         expect=HVT_ACCEPTS),
    Case("lhist_step_not_dividing", begin(r'$i = 0; while ($i < 30) { @l = lhist($i, 0, 25, 7); $i++; }')),
    Case("lhist_keyed", begin(r'@l[1] = lhist(5, 0, 10, 1); @l[2] = lhist(3, 0, 10, 1); @l[2] = lhist(4, 0, 10, 1);')),
    Case("lhist_big_labels", begin(r'@l = lhist(1500, 0, 5000, 1000); @l = lhist(2048, 0, 5000, 1000); @m = lhist(1048576, 0, 4194304, 1048576);')),
    # ------------------------------------------- clear, zero, delete, print
    Case("clear_map", begin(r'@m[1] = 1; @m[2] = 2; clear(@m); @n = 5;')),
    Case("zero_map", begin(r'@m[1] = 1; @m[2] = 2; zero(@m); @c = count(); zero(@c);'),
         normalize="sorted"),
    Case("count_without_key_cleared", begin(r'@c = count(); clear(@c); @d = count(); delete(@d); @k[1] = count(); clear(@k);')),
    Case("count_without_key_never_counted",
         'BEGIN { exit(); } interval:s:100 { @c = count(); @s = sum(1); @k[1] = count(); @h = hist(1); }'),
    Case("count_without_key_print_after_clear",
         begin(r'@c = count(); clear(@c); print(@c); print(@c, 1, 1); @c = count(); print(@c);')),
    Case("json_count_without_key_cleared",
         begin(r'@c = count(); clear(@c); print(@c); @k[1] = count(); clear(@k); print(@k);'), fmt="json"),
    Case("zero_hist", begin(r'@h = hist(5); zero(@h); print(@h); @h = hist(1);')),
    Case("delete_key", begin(r'@m[1] = 1; @m[2] = 2; @m[3] = 3; delete(@m[2]); @s["a"] = "x"; @s["b"] = "y"; delete(@s["a"]);')),
    Case("delete_scalar", begin(r'@x = 1; delete(@x); @y = 2;')),
    Case("print_map_now", begin(r'@m[1] = 10; @m[2] = 5; print(@m); @m[3] = 1; printf("after\n");')),
    Case("print_top_n", begin(r'$i = 1; while ($i <= 10) { @m[$i] = $i * $i; $i++; } print(@m, 3); clear(@m);')),
    Case("print_top_and_div", begin(r'@m["a"] = 100; @m["b"] = 2500; @m["c"] = 42; print(@m, 2, 10); clear(@m);')),
    Case("print_count_top", begin(r'$i = 0; while ($i < 20) { @c[$i % 4] = count(); if ($i % 4 == 1) { @c[$i % 4] = count(); } $i++; } print(@c, 1); clear(@c);')),
    Case("print_hist_map", begin(r'@h = hist(3); @h = hist(300); print(@h); clear(@h);')),
    Case("print_hist_top", begin(r'@h[1] = hist(3); @h[2] = hist(300); @h[2] = hist(30); @h[3] = hist(1); print(@h, 1); clear(@h);')),
    Case("print_stats_map", begin(r'@s = stats(3); @s = stats(5); print(@s); @a = avg(5); print(@a); clear(@s); clear(@a);')),
    Case("print_empty_maps", begin(r'@m[1] = 1; clear(@m); print(@m); @c = count(); clear(@c); print(@c); printf("end\n");')),
    Case("empty_maps_at_exit", begin(r'@m[1] = 1; clear(@m); @h = hist(1); clear(@h); @s = stats(1); clear(@s); @a = avg(1); clear(@a); @z = 3;')),
    Case("stats_empty_at_exit", begin(r'@s = stats(1); clear(@s);')),
    Case("zero_avg_stats_minmax", begin(r'@a = avg(5); @s = stats(5); @mn = min(5); @mx = max(5); @su = sum(5); zero(@a); zero(@s); zero(@mn); zero(@mx); zero(@su);')),
    Case("print_top_of_avg", begin(r'@a[1] = avg(10); @a[2] = avg(30); @a[3] = avg(20); print(@a, 2); clear(@a);')),
    Case("clear_hist_then_refill", begin(r'@h = hist(5); clear(@h); @h = hist(100); @l[1] = lhist(3, 0, 10, 5); clear(@l); @l[2] = lhist(7, 0, 10, 5);')),
    Case("print_same_map_twice", begin(r'@m[1] = 1; print(@m); @m[2] = 2; print(@m); zero(@m); print(@m); clear(@m);'),
         normalize="sorted"),
    Case("print_then_clear_in_end",
         'BEGIN { @m[1] = 3; exit(); } END { print(@m); clear(@m); printf("done\\n"); }'),
    Case("print_div_avg", begin(r'@a["x"] = avg(100); @a["y"] = avg(50); print(@a, 0, 10); clear(@a);')),
    Case("sized_integer_keys", begin(r'@m[(uint8)255] = 1; @m[(int16)-2] = 2; @m[(uint32)4294967295] = 3; @m[(int64)-9] = 4;')),
    Case("keyed_increments", begin(r'@m[1]++; @m[1]++; @m[2] += 5; @m[3] -= 2; @m[1] *= 10;')),
    Case("negative_tuples", begin(r'print((-1, -2)); @t[1] = (-5, "x"); @t[2] = (7, "y");')),
    Case("delete_missing_key", begin(r'@m[1] = 1; delete(@m[7]); delete(@m[1]); @n[2] = 2;')),
    Case("statements_after_exit", 'BEGIN { printf("a\\n"); exit(); printf("b\\n"); @x = 1; }'),
    Case("hist_keyed_by_int", begin(r'@h[3] = hist(1); @h[1] = hist(1); @h[1] = hist(2); @h[1] = hist(3); @h[2] = hist(1); @h[2] = hist(64);')),
    Case("print_lhist", begin(r'@l = lhist(3, 0, 10, 2); @l = lhist(11, 0, 10, 2); print(@l); clear(@l);')),
    Case("print_string_map", begin(r'@s[1] = "one"; @s[2] = "two"; print(@s); clear(@s);')),
    Case("printf_casts_to_sized", begin(r'printf("%d %d %u %d\n", (int8)-1, (uint8)-1, (uint16)65537, (int32)0x80000000);')),
    Case("sized_integer_values", begin(r'@a = (int8)-5; @b = (uint32)-1; @c = (int16)-300; @d = (uint8)256; @e = (int32)-2147483648;')),
    Case("unsigned_aggregations", begin(r'@s = sum((uint64)-1); @mn = min((uint64)5); @mx = max((uint32)4000000000); @a = avg((uint64)10);')),
    Case("stats_of_negatives", begin(r'@st = stats(-10); @st = stats(-20); @st = stats(5); @a = avg(-1); @a = avg(-2);')),
    Case("hist_power_of_two_edges", begin(r'@h = hist(1023); @h = hist(1024); @h = hist(1025); @h = hist(1048575); @h = hist(1048576); @h = hist(2047);')),
    Case("hist_print_div", begin(r'$i = 0; while ($i < 20) { @h = hist($i); $i++; } print(@h, 0, 2); clear(@h);')),
    Case("lhist_many_buckets", begin(r'$i = 0; while ($i < 25) { @l = lhist($i % 13, 0, 12, 1); $i++; }')),
    Case("map_name_order", begin(r'@ = 1; @a1 = 2; @a_ = 3; @A = 4; @_ = 5; @a = 6; @b2 = 7; @b10 = 8;')),
    Case("comments", 'BEGIN { /* block */ printf("x\\n"); // line\n exit(); }'),
    Case("non_ascii_text", begin(r'printf("caf\xc3\xa9 %s\n", "\xe2\x82\xac"); @m["\xc3\xa9"] = 1;')),
    Case("string_map_compare", begin(r'@s = "abc"; if (@s == "abc") { printf("eq\n"); } if (@s != "abd") { printf("ne\n"); } clear(@s);')),
    Case("logical_predicate", 'BEGIN /1 && (2 > 1 || 0)/ { printf("yes\\n"); exit(); }'),
    Case("shift_of_negative", begin(r'$x = -8; printf("%ld %ld %ld\n", $x >> 1, -8 >> 1, -1 << 3);'), expect=HVT_SIGNED_DIVISION),
    Case("integer_literal_separators", begin(r'printf("%d %d\n", 1_000_000, 1_2_3);')),
    Case("hex_literal_separator", begin(r'printf("%d\n", 0x_ff);'), expect=HVT_ACCEPTS),
    Case("exponent_literal_long_coefficient", begin(r'printf("%d\n", 25e2);'), expect=HVT_ACCEPTS),
    Case("exponent_literal", begin(r'printf("%d %d\n", 1e6, 2e3);')),
    Case("nsecs_positive", begin(r'printf("%d %d\n", nsecs > 0, elapsed >= 0);')),
    Case("ksym_of_kaddr", begin(r'printf("%s\n", ksym(kaddr("vfs_read")));')),
    Case("positional_count", begin(r'printf("%d %d %d %s\n", $#, $1 + $2, $3, str($4));'),
         args=["5", "-3", "0x10", "word"]),
    Case("empty_printf", begin(r'printf(""); printf("%s", ""); printf("x\n");')),
    Case("variable_reassignment", begin(r'$x = 1; $x = $x + 10; $s = "a"; $s = "b"; printf("%d %s\n", $x, $s);')),
    Case("nested_tuple_maps", begin(r'@t[1] = ((1, 2), "x"); @t[2] = ((3, 4), "y"); print(@t[1]);'),
         expect=("hvt", "print(@m[key]) prints the value (as newer bpftrace does); "
                 "bpftrace 0.17 rejects it")),
    Case("nested_tuple_maps_at_exit", begin(r'@t[1] = ((1, 2), "x"); @t[2] = ((3, 4), "y");')),
    Case("printf_more_widths", begin(r'printf("[%5.2s][%-5c][%08x][%-08x|][%.10d][%3s]\n", "abcdef", 65, 255, 255, 42, "");')),
    Case("printf_sized_arguments", begin(r'printf("%x %hhx %llu %u %d\n", (int8)-1, -1, (uint64)-1, (uint8)-1, (uint16)-1);')),
    Case("printf_char_edges", begin(r'printf("[%c][%c][%c]\n", 321, 126, 32);')),
    Case("tuple_values_of_different_lengths", begin(r'@t[1] = (1, "a"); @t[2] = (2, "longer");')),
    Case("string_values_of_different_lengths", begin(r'@s[1] = "a"; @s[2] = "longer string"; $v = "x"; $v = "yyyy"; printf("%s\n", $v);')),
    Case("map_arithmetic", begin(r'@m[1] = 1; @m[1] = @m[1] + 1; ++@m[2]; @m[2]++; @m[2]++; @x = @m[1] * @m[2];')),
    Case("long_parameter_string", begin(r'printf("%s\n", str($1)); @m[str($1)] = 1;'), args=["x" * 100]),
    Case("print_top_of_string_map", begin(r'@s[1] = "a"; @s[2] = "b"; @s[3] = "c"; print(@s, 2); clear(@s);')),
    Case("lhist_step_equals_range", begin(r'@l = lhist(5, 0, 10, 10); @l = lhist(15, 0, 10, 10); @l = lhist(-1, 0, 10, 10);')),
    # --------------------------------------------------------- strings
    Case("str_of_parameters", begin(r'printf("[%s] [%s] %d %d\n", str($1), str($2), $1, $#);'),
         args=["42", "abc"]),
    Case("str_with_length", begin(r'printf("[%s] [%s]\n", str($1, 3), str($1, 1));'), args=["abcdefgh"]),
    Case("strlen_environment", begin(r'printf("[%s]\n", str($1));'), args=["abcdefghijkl"],
         env={"BPFTRACE_STRLEN": "8"}),
    Case("string_keys_from_parameters", begin(r'@m[str($1)] = 1; @m[str($2)] = 2;'), args=["zeta", "alpha"]),
    Case("missing_positional", begin(r'printf("%d %d\n", $1, $#);')),
    Case("escapes_in_map_keys", begin(r'@m["a\tb"] = 1; @m["c\"d"] = 2;')),
    Case("long_string_literal", begin(r'printf("%s\n", "0123456789012345678901234567890123456789012345678901234567890123456789");'),
         expect=HVT_ACCEPTS),
    Case("string_literal_of_63_bytes", begin(r'printf("%s\n", "012345678901234567890123456789012345678901234567890123456789012");')),
    # --------------------------------------------------------- builtins
    Case("uid_and_username", begin(r'printf("%d %d %s\n", uid, gid, username);')),
    Case("probe_builtin", begin(r'printf("%s\n", probe); @[probe] = count();')),
    Case("ntop", begin(r'printf("%s %s\n", ntop(0x0100007f), ntop(0));')),
    Case("bswap_widths", begin(
        r'$p = (uint16)0x1234; $q = (int8)-2; '
        r'printf("%x %x %d %d\n", bswap($p), bswap((uint32)0x12345678), '
        r'bswap($q), bswap((int16)-2));')),
    Case("bswap_map", begin(r'$p = (uint16)0x0102; @[bswap($p)] = count(); '
                            r'@v = bswap((uint32)1);')),
    Case("time_shape", begin(r'time(); time("%Y-%m-%d %H:%M\n"); printf("%s\n", strftime("%H:%M:%S", nsecs));'),
         normalize="digits"),
    Case("cat_file", begin('cat("' + WORKDIR + '/cat.txt");')),
    # -------------------------------------------------- real events
    Case("interval_counts", 'interval:ms:50 { @n++; if (@n == 3) { exit(); } }'),
    Case("interval_probe_name",
         'interval:ms:20 { @[probe] = count(); @i++; if (@i == 4) { exit(); } }'),
    Case("uprobe_arguments",
         "uprobe:" + TARGET + ":hvt_target_add /pid == cpid/ { @[arg0, arg1] = count(); }",
         cmd=TARGET),
    Case("uretprobe_retval",
         "uretprobe:" + TARGET + ":hvt_target_add /pid == cpid/ { @r[retval] = count(); @h = hist(retval); }",
         cmd=TARGET),
    Case("uprobe_func_and_printf",
         "uprobe:" + TARGET + ":hvt_target_* /pid == cpid/ { printf(\"%s %d\\n\", probe, arg0); }",
         cmd=TARGET, normalize="sorted"),
    Case("uprobe_comm_and_cpid",
         "uprobe:" + TARGET + ":hvt_target_other /pid == cpid/ { @[comm] = count(); }",
         cmd=TARGET),
    Case("tracepoint_getppid_count",
         "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @[comm] = count(); @n++; }",
         cmd=WORKLOAD),
    Case("tracepoint_fields",
         "tracepoint:syscalls:sys_enter_getpriority /pid == cpid/ "
         "{ @[args->which, args->who] = count(); printf(\"%d %d\\n\", args->which, args->who); }",
         cmd=WORKLOAD, normalize="sorted"),
    Case("tracepoint_lhist_of_field",
         "tracepoint:syscalls:sys_enter_getpriority /pid == cpid/ "
         "{ @l = lhist(args->who, 0, 20, 5); @s = stats(args->who); }",
         cmd=WORKLOAD),
    Case("tracepoint_user_string",
         "tracepoint:syscalls:sys_enter_openat /pid == cpid && str(args->filename) == \"" + WORKDIR + "/cat.txt\"/ "
         "{ @[str(args->filename)] = count(); }",
         cmd=WORKLOAD),
    Case("buf_of_user_memory",
         "tracepoint:syscalls:sys_enter_openat /pid == cpid && str(args->filename) == \"" + WORKDIR + "/cat.txt\"/ "
         "{ printf(\"[%r]\\n\", buf(args->filename, 5)); $n = 3; @[buf(args->filename, 4)] = count(); "
         "@b = buf(args->filename, 200); @c = (1, buf(args->filename, 2)); @d = buf(args->filename, $n); }",
         cmd=WORKLOAD),
    Case("buf_key_of_variable_length",
         "tracepoint:syscalls:sys_enter_openat /pid == cpid && str(args->filename) == \"" + WORKDIR + "/cat.txt\"/ "
         "{ $n = 3; @[buf(args->filename, $n)] = count(); }",
         cmd=WORKLOAD, expect=BPFTRACE_BUF_KEY),
    Case("buf_of_kernel_text", begin(r'printf("%r\n", buf(kaddr("vfs_read"), 24));')),
    Case("tracepoint_exit_from_probe",
         "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @n++; if (@n == 5) { printf(\"five\\n\"); exit(); @n = 100; } }",
         cmd=WORKLOAD),
    Case("execve_join_argv",
         "tracepoint:syscalls:sys_enter_execve /pid == cpid/ { join(args->argv); join(args->argv, \",\"); }",
         cmd=WORKLOAD),
    Case("tracepoint_wildcard_probe_names",
         "tracepoint:syscalls:sys_enter_getp* /pid == cpid/ { @[probe] = count(); }",
         cmd=WORKLOAD, normalize="sorted"),
    Case("tracepoint_comm_and_predicate",
         "tracepoint:syscalls:sys_enter_getpriority /pid == cpid && args->who > 5/ "
         "{ @[comm, args->who] = sum(args->who); }",
         cmd=WORKLOAD),
    # -------------------------------------------------------------- JSON
    Case("json_printf", begin(r'printf("a %d\n", 1); printf("q\"t\\b\n");'), fmt="json"),
    Case("json_scalar_maps", begin(r'@x = 1; @s = "str"; @c = count(); @n = sum(-3);'), fmt="json"),
    Case("json_keyed_maps", begin(r'@m[1] = 10; @m[2] = 5; @k["a"] = 1; @t[1, "b"] = 2;'), fmt="json"),
    Case("json_signed_integer_keys",
         begin(r'@r[(uint64)-7] = 1; @t[(uint8)200, (int8)-3] = 3;'), fmt="json"),
    Case("json_addresses",
         begin(r'@k[(struct task_struct *)16] = 1; @m[(struct task_struct *)0xffff888107c29700, 2] = 2; '
               r'@v = (struct task_struct *)0xffff888107c29700; @t = ((struct task_struct *)0xffff888107c29700, 5);'),
         fmt="json"),
    Case("addresses_as_keys_and_values",
         begin(r'@k[(struct task_struct *)16] = 1; @m[(struct task_struct *)0xffff888107c29700, 2] = 2; '
               r'@u[(uint64)(struct task_struct *)0xffff888107c29700] = 3; '
               r'@p[(struct task_struct *)0xffff888107c29700 - 0] = 4; '
               r'@v = (struct task_struct *)0xffff888107c29700; @t = ((struct task_struct *)0xffff888107c29700, 5);')),
    Case("json_hist", begin(r'@h = hist(0); @h = hist(5); @h = hist(100); @h = hist(-1);'), fmt="json"),
    Case("json_lhist", begin(r'@l = lhist(-1, 0, 100, 10); @l = lhist(55, 0, 100, 10); @l = lhist(100, 0, 100, 10);'), fmt="json"),
    Case("json_keyed_hist", begin(r'@h["x"] = hist(3); @h["y"] = hist(30);'), fmt="json"),
    Case("json_stats_avg", begin(r'@s = stats(3); @s = stats(5); @a = avg(4); @a = avg(8); @k[1] = avg(2);'), fmt="json"),
    Case("json_print_values", begin(r'print(5); print("x"); print((1, "a"));'), fmt="json"),
    Case("json_print_map_and_empty", begin(r'@m[1] = 2; print(@m); clear(@m); print(@m); @e = 1; clear(@e);'), fmt="json"),
    Case("json_min_max_keys", begin(r'@mn["a"] = min(-3); @mx["a"] = max(7);'), fmt="json"),
    Case("json_tuple_and_string_values", begin(r'@t = (1, "a"); @s[1] = "x"; @s[2] = "y";'), fmt="json"),
    Case("json_keyed_lhist", begin(r'@l[1] = lhist(5, 0, 10, 5); @l[2] = lhist(15, 0, 10, 5);'), fmt="json"),
    Case("json_print_hist_and_stats", begin(r'@h = hist(3); print(@h); @s["k"] = stats(4); print(@s); clear(@h); clear(@s);'), fmt="json"),
    Case("json_escapes", begin(r'printf("tab\there \\ \x01 caf\xc3\xa9\n"); @s["a\"b"] = 1;'), fmt="json",
         expect=BPFTRACE_JSON_UTF8),
    Case("json_escapes_ascii", begin(r'printf("tab\there \\ \x01 \x1f q\"\n"); @s["a\"b"] = 1;'), fmt="json"),
    Case("json_negative_and_big", begin(r'@n = -5; @b = (uint64)-1; @k[-1] = 2;'), fmt="json"),
    Case("json_print_top", begin(r'@m[1] = 1; @m[2] = 2; @m[3] = 3; print(@m, 2); print(@m, 0, 2); clear(@m);'), fmt="json"),
    Case("json_end_and_time", 'BEGIN { exit(); } END { printf("end\\n"); time("%Y\\n"); }', fmt="json",
         normalize="digits"),
]

WORKLOAD_PY = """\
import os
for i in range(5):
    os.getppid()
for who in (3, 7, 7, 15, 30):
    try:
        os.getpriority(os.PRIO_PROCESS, who)
    except OSError:
        pass
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cat.txt")) as f:
    f.read()
"""

ATTACHING = re.compile(r'^(Attaching \d+ probes?\.\.\.|\{"type": ?"attached_probes".*)\n',
                       re.M)


def normalize(case, text):
    text = ATTACHING.sub("", text, count=1)
    if case.normalize == "digits":
        text = re.sub(r"\d", "9", text)
    elif case.normalize == "sorted":
        text = "".join(sorted(text.splitlines(keepends=True)))
    return text


def substitute(text, target, workdir):
    return text.replace(TARGET, target or "").replace(WORKDIR, workdir)


def run_one(tool, case, target, workdir):
    argv = [tool]
    if tool.endswith("hvt"):
        argv.append("--no-cache")  # what this build compiles, not a stored object
    if case.fmt != "text":
        argv += ["-f", case.fmt]
    if case.cmd:
        argv += ["-c", substitute(case.cmd, target, workdir)]
    argv += ["-e", substitute(case.program, target, workdir)]
    argv += [substitute(a, target, workdir) for a in case.args]
    env = dict(os.environ, **case.env)
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT, env=env, cwd=workdir)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return "timeout", out, "(timed out)"
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def compare(case, bpftrace, hvt, target, workdir):
    """Returns (case, differs, report text)."""
    b_rc, b_out, b_err = run_one(bpftrace, case, target, workdir)
    h_rc, h_out, h_err = run_one(hvt, case, target, workdir)
    b_norm, h_norm = normalize(case, b_out), normalize(case, h_out)
    if b_rc == h_rc and b_norm == h_norm:
        return case, False, ""
    report = []
    if b_rc != h_rc:
        report.append(f"  exit codes: bpftrace {b_rc}, hvt {h_rc}")
    report += difflib.unified_diff(b_norm.splitlines(), h_norm.splitlines(),
                                   "bpftrace", "hvt", lineterm="")
    for tool, err in (("bpftrace", b_err), ("hvt", h_err)):
        err = "\n".join(l for l in err.splitlines() if "RLIMIT_MEMLOCK" not in l)
        if err.strip():
            report.append(f"  {tool} stderr:\n    " + err.strip().replace("\n", "\n    "))
    return case, True, "\n".join(report)


def find_target(hvt, given):
    if given:
        return given
    # build/compiler/driver/hvt -> build/tests/uprobe_target
    guess = os.path.join(os.path.dirname(os.path.abspath(hvt)), "..", "..",
                         "tests", "uprobe_target")
    return os.path.normpath(guess) if os.access(guess, os.X_OK) else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hvt", required=True, help="the hvt binary")
    ap.add_argument("--bpftrace", default=shutil.which("bpftrace") or "bpftrace")
    ap.add_argument("--uprobe-target",
                    help="tests/kernel/uprobe_target.c built (default: next to hvt's build)")
    ap.add_argument("-k", dest="pattern", help="only programs whose name matches this regex")
    ap.add_argument("-j", dest="jobs", type=int, default=2, help="programs run at once")
    ap.add_argument("-v", dest="verbose", action="store_true",
                    help="also show the diffs of expected differences")
    ap.add_argument("--list", action="store_true", help="list the programs and exit")
    opts = ap.parse_args()

    cases = [c for c in CASES if not opts.pattern or re.search(opts.pattern, c.name)]
    if opts.list:
        for c in cases:
            print(f"{c.name}: {c.program}")
        return 0
    if not os.access(opts.bpftrace, os.X_OK) and not shutil.which(opts.bpftrace):
        print(f"SKIP: bpftrace not found ({opts.bpftrace}); install it to compare")
        return SKIP
    if os.geteuid() != 0:
        print("SKIP: bpftrace and hvt need root to load BPF programs")
        return SKIP
    opts.hvt = os.path.abspath(opts.hvt)
    opts.bpftrace = shutil.which(opts.bpftrace) or os.path.abspath(opts.bpftrace)
    probe = subprocess.run([opts.bpftrace, "-e", "BEGIN { exit(); }"],
                           capture_output=True, timeout=TIMEOUT)
    if probe.returncode != 0:
        why = probe.stderr.decode("utf-8", "replace").strip().splitlines()
        print("SKIP: bpftrace cannot run a BEGIN program here"
              + (": " + why[-1] if why else ""))
        return SKIP
    target = find_target(opts.hvt, opts.uprobe_target)
    target = target and os.path.abspath(target)

    unexpected, expected, now_match, skipped = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="hvt-compare-") as workdir:
        with open(os.path.join(workdir, "workload.py"), "w") as f:
            f.write(WORKLOAD_PY)
        with open(os.path.join(workdir, "cat.txt"), "w") as f:
            f.write("line one\nline two\n")
        runnable = []
        for c in cases:
            (skipped if c.needs_target and not target else runnable).append(c)
        with concurrent.futures.ThreadPoolExecutor(max(1, opts.jobs)) as pool:
            futures = [pool.submit(compare, c, opts.bpftrace, opts.hvt, target, workdir)
                       for c in runnable]
            for future in futures:
                case, differs, report = future.result()
                if differs and case.expect:
                    expected.append(case)
                    print(f"EXPECTED  {case.name}: {case.expect[0]}: {case.expect[1]}")
                    if opts.verbose:
                        print(report)
                elif differs:
                    unexpected.append(case)
                    print(f"MISMATCH  {case.name}\n  program: {case.program}\n{report}")
                elif case.expect:
                    now_match.append(case)
                    print(f"NOTE      {case.name}: expected to differ ({case.expect[1]}) "
                          "but matches now")
                elif opts.verbose:
                    print(f"ok        {case.name}")
    for c in skipped:
        print(f"SKIPPED   {c.name}: no uprobe_target (--uprobe-target)")
    ran = len(cases) - len(skipped)
    print(f"\n{ran} programs compared: {ran - len(unexpected) - len(expected)} "
          f"identical, {len(expected)} expected differences, "
          f"{len(unexpected)} unexpected mismatches"
          + (f", {len(skipped)} skipped" if skipped else ""))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
