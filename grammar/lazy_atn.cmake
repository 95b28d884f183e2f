# Makes the generated lexer and parser build their ATN when the first one is
# constructed instead of in a static initializer. They are linked into the
# hvt binary, and a run served by the compile cache never parses: it must not
# pay for deserializing two ATNs at every start (docs/performance.md).
# Usage: cmake -DFILE=HvtParser.cpp -DCLASS=HvtParser -P lazy_atn.cmake
file(READ "${FILE}" text)
set(eager "${CLASS}::Initializer ${CLASS}::_init;")
string(FIND "${text}" "${eager}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${FILE}: no '${eager}' (a new ANTLR tool?)")
endif()
string(REPLACE "${eager}" "" text "${text}")
# The constructor's first statement: the Initializer runs once, thread-safely
# (a function-local static), before the interpreter reads the ATN.
string(REGEX REPLACE "(${CLASS}::${CLASS}\\([A-Za-z]+ \\*input\\) : [A-Za-z]+\\(input\\) {)"
       "\\1\n  static Initializer lazy_init;" patched "${text}")
if(patched STREQUAL text)
  message(FATAL_ERROR "${FILE}: no ${CLASS} constructor found")
endif()
file(WRITE "${FILE}" "${patched}")
