#!/usr/bin/env python3
"""Refreshes the fuzz seed corpus (tests/fuzz/corpus) from the repository.

Seeds come from three places:
  scripts/**/*.ht, *.bt         the standard scripts     -> script-NAME.ht
  tests/bad_input/*.ht          the bad-input corpus     -> bad-NAME.ht
  tests/**/*.cpp                programs written as C++  -> test-HASH.ht
                                string literals in tests

A C++ literal (adjacent literals joined, escapes decoded) counts as a
program when it starts like one: BEGIN, END, config, let, or a word with a
':' (an attach point), followed somewhere by '{'; expected diagnostics
("stdin:1:5: error: ...") do not count.

The script owns the files with those three prefixes: it rewrites them and
deletes the ones whose source is gone. Other files (found-*: inputs that
fuzzing runs found to reach new code, see docs/robustness.md) are left
alone. Identical programs are kept once.

  tests/fuzz/refresh_corpus.py           rewrite the corpus
  tests/fuzz/refresh_corpus.py --check   exit 1 if it is out of date
"""
import hashlib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
OWNED_PREFIXES = ("script-", "bad-", "test-")
MAX_SEED_BYTES = 64 * 1024

PROGRAM_START = re.compile(
    rb"\s*(#![^\n]*\n\s*)?(//[^\n]*\n\s*)*"
    rb"(BEGIN\b|END\b|config\b|let\b|[A-Za-z_][A-Za-z0-9_]*:)")

# A C++ string literal: optional encoding prefix, then "..." or R"d(...)d".
LITERAL = re.compile(
    rb'(?:u8|u|U|L)?(?:R"(?P<delim>[^()\\\s]{0,16})\((?P<raw>.*?)\)(?P=delim)"'
    rb'|"(?P<text>(?:[^"\\\n]|\\.)*)")', re.S)
# Expected diagnostics ("stdin:1:5: error: ...") also start with a word and
# a ':'; they are not programs.
DIAGNOSTIC = re.compile(rb"[^\s:]+:\d+:\d+")
BETWEEN_LITERALS = re.compile(rb"(?:\s|//[^\n]*\n|/\*.*?\*/)*", re.S)

SIMPLE_ESCAPES = {
    b"n": b"\n", b"t": b"\t", b"r": b"\r", b"0": b"\0", b"\\": b"\\",
    b'"': b'"', b"'": b"'", b"?": b"?", b"a": b"\a", b"b": b"\b",
    b"f": b"\f", b"v": b"\v",
}


def decode_escapes(text):
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i:i + 1] != b"\\" or i + 1 == len(text):
            out += text[i:i + 1]
            i += 1
            continue
        c = text[i + 1:i + 2]
        if c == b"x":
            j = i + 2
            while j < len(text) and text[j:j + 1] in b"0123456789abcdefABCDEF":
                j += 1
            out.append(int(text[i + 2:j] or b"0", 16) & 0xFF)
            i = j
        elif c in b"01234567":
            j = i + 1
            while j < len(text) and j < i + 4 and text[j:j + 1] in b"01234567":
                j += 1
            out.append(int(text[i + 1:j], 8) & 0xFF)
            i = j
        else:
            out += SIMPLE_ESCAPES.get(c, c)
            i += 2
    return bytes(out)


def cpp_strings(source):
    """Yields each string in `source`, adjacent literals joined."""
    pos = 0
    while True:
        match = LITERAL.search(source, pos)
        if not match:
            return
        # Skip literals inside comments and character literals, roughly:
        # a '"' preceded by a single quote is a char literal.
        if match.start() > 0 and source[match.start() - 1:match.start()] == b"'":
            pos = match.end()
            continue
        parts = []
        end = match.start()
        while match and match.start() == end:
            if match.group("raw") is not None:
                parts.append(match.group("raw"))
            else:
                parts.append(decode_escapes(match.group("text")))
            end = BETWEEN_LITERALS.match(source, match.end()).end()
            match = LITERAL.match(source, end)
        yield b"".join(parts)
        pos = end


def looks_like_program(text):
    return (PROGRAM_START.match(text) is not None and b"{" in text
            and not DIAGNOSTIC.match(text) and len(text) <= MAX_SEED_BYTES)


def wanted_seeds():
    seeds = {}

    def add(name, data):
        if data not in seeds.values():
            seeds[name] = data

    for path in sorted((ROOT / "scripts").rglob("*")):
        if path.suffix in (".ht", ".bt") and path.is_file():
            add("script-" + path.stem + ".ht", path.read_bytes())
    for path in sorted((ROOT / "tests" / "bad_input").glob("*.ht")):
        data = path.read_bytes()
        if len(data) <= MAX_SEED_BYTES:
            add("bad-" + path.stem + ".ht", data)
    for path in sorted((ROOT / "tests").rglob("*.cpp")):
        if "fuzz" in path.parts:
            continue
        for text in cpp_strings(path.read_bytes()):
            if looks_like_program(text):
                digest = hashlib.sha1(text).hexdigest()[:12]
                add("test-" + digest + ".ht", text)
    return seeds


def main():
    check = "--check" in sys.argv[1:]
    seeds = wanted_seeds()
    CORPUS.mkdir(parents=True, exist_ok=True)
    existing = {p.name: p for p in CORPUS.iterdir()
                if p.name.startswith(OWNED_PREFIXES)}
    stale = [name for name in existing if name not in seeds]
    changed = [name for name, data in seeds.items()
               if name not in existing or existing[name].read_bytes() != data]
    if check:
        if stale or changed:
            print(f"fuzz corpus out of date: {len(changed)} new or changed, "
                  f"{len(stale)} stale; run tests/fuzz/refresh_corpus.py")
            return 1
        print(f"fuzz corpus up to date ({len(seeds)} generated seeds)")
        return 0
    for name in stale:
        existing[name].unlink()
    for name in changed:
        (CORPUS / name).write_bytes(seeds[name])
    print(f"fuzz corpus: {len(seeds)} generated seeds, {len(changed)} written, "
          f"{len(stale)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
