// Keeps LLVM's PassBuilder out of the code generator plugin.
//
// hvt builds its optimizer pipeline without PassBuilder (codegen/optimizer.h)
// because PassBuilder.cpp, which can parse every pass's name, links all of
// LLVM's passes: ~140 more static initializers, ~10,000 more relocations and
// ~6 MiB more code in a plugin every compiling start loads. The one
// reference left to it is in the BPF target: the pipeline-text parser its
// registerPassBuilderCallbacks() adds calls this function. hvt never makes a
// PassBuilder, so that parser never runs; defining the function here keeps
// the linker from pulling PassBuilder.cpp's object out of libLLVMPasses.a.
// Code in the plugin that used PassBuilder would pull that object in and
// fail to link (this function defined twice).
#include <llvm/Passes/PassBuilder.h>

llvm::Expected<bool> llvm::PassBuilder::parseSinglePassOption(llvm::StringRef,
                                                              llvm::StringRef,
                                                              llvm::StringRef) {
  return llvm::make_error<llvm::StringError>(
      "hvt's code generator parses no pass pipeline text",
      llvm::inconvertibleErrorCode());
}
