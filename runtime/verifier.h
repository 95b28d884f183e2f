// Making sense of a verifier rejection: the message worth showing from the
// kernel's log, and the script location of the rejected instruction (from
// the BPF object's BTF line info, which codegen fills from AST ranges).
#pragma once

#include "frontend/diagnostics.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hvt {

// The message of a verifier log worth showing: the last line that is not
// bookkeeping ("processed N insns ...", "verification time ..."), and the
// instruction line right before it if there is one.
struct VerifierSummary {
  std::string error;          // "R1 invalid mem access 'scalar'"
  std::string instruction;    // "5: (79) r1 = *(u64 *)(r1 +0)" or ""
  int instruction_index = -1; // 5, or -1 without an instruction line
  uint32_t source_line = 0;   // last "; ... @ FILE:LINE" annotation, or 0
};
VerifierSummary summarize_verifier_log(const std::string &log);

// The script line and column of instruction `insn` (as the verifier counts
// them) of ELF function `program`, from the object's .BTF.ext line info.
std::optional<SourceLocation>
locate_instruction(const std::vector<uint8_t> &elf, const std::string &program,
                   int insn);

} // namespace hvt
