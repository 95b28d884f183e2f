// Typed AST -> LLVM IR for the BPF target.
//
// Conventions: integer values are i64 SSA values; strings and tuples are
// pointers to 8-byte-aligned stack buffers of their Type::size (so copies stay
// word-sized). Maps are BTF-defined globals in ".maps"; each attach point
// becomes one program function in a libbpf-style section. Debug info carries
// the script text so the verifier log and BTF line info name script lines.
#include "codegen/codegen.h"
#include "codegen/bpf_limits.h"
#include "codegen/log2_bucket.h"
#include "codegen/map_read_cache.h"
#include "kernel_functions.h"

#include <llvm/IR/DIBuilder.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IntrinsicsBPF.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <linux/bpf.h>
#include <sys/socket.h>

#include "symbolizer.h"

#include <bit>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace hvt {

namespace {

using llvm::BasicBlock;
using llvm::Value;

// Helper function ids from the kernel's UAPI (stable ABI).
enum Helper : int64_t {
  kMapLookup = BPF_FUNC_map_lookup_elem,
  kMapUpdate = BPF_FUNC_map_update_elem,
  kMapDelete = BPF_FUNC_map_delete_elem,
  kKtimeGetNs = BPF_FUNC_ktime_get_ns,
  kPrandom = BPF_FUNC_get_prandom_u32,
  kSmpProcessorId = BPF_FUNC_get_smp_processor_id,
  kPidTgid = BPF_FUNC_get_current_pid_tgid,
  kUidGid = BPF_FUNC_get_current_uid_gid,
  kComm = BPF_FUNC_get_current_comm,
  kCurrentTask = BPF_FUNC_get_current_task,
  kCgroupId = BPF_FUNC_get_current_cgroup_id,
  kProbeReadKernel = BPF_FUNC_probe_read_kernel,
  kProbeReadKernelStr = BPF_FUNC_probe_read_kernel_str,
  kProbeReadUserStr = BPF_FUNC_probe_read_user_str,
  kProbeReadUser = BPF_FUNC_probe_read_user,
  kRingbufOutput = BPF_FUNC_ringbuf_output,
  kRingbufReserve = BPF_FUNC_ringbuf_reserve,
  kRingbufSubmit = BPF_FUNC_ringbuf_submit,
  kGetStackId = BPF_FUNC_get_stackid,
  kGetFuncIp = BPF_FUNC_get_func_ip,
  kMapLookupPercpu = BPF_FUNC_map_lookup_percpu_elem,
  kForEachMapElem = BPF_FUNC_for_each_map_elem,
  kGetAttachCookie = BPF_FUNC_get_attach_cookie,
  // Pointers whose address space is unknown (tracepoint and argN values can
  // be user or kernel pointers): the compat helpers pick by address on
  // x86-64, as bpftrace's probe_read does.
  kProbeRead = BPF_FUNC_probe_read,
  kProbeReadStr = BPF_FUNC_probe_read_str,
};

// Values kept in an i64 SSA value: integers and the 8-byte kinds that only
// print differently (symbolic() values are handled on their own).
bool is_scalar(const Type &t) {
  return t.kind == TypeKind::Integer || t.kind == TypeKind::Ksym ||
         t.kind == TypeKind::Username || t.kind == TypeKind::Pointer;
}

// Values that live in an 8-byte-aligned stack buffer and are passed around
// by pointer.
bool is_buffer(const Type &t) {
  switch (t.kind) {
  case TypeKind::String:
  case TypeKind::Tuple:
  case TypeKind::KStack:
  case TypeKind::UStack:
  case TypeKind::Usym:
  case TypeKind::Inet:
  case TypeKind::Timestamp:
  case TypeKind::Buffer:
    return true;
  default:
    return false;
  }
}

// x86-64 struct pt_regs offset of the instruction pointer.
constexpr int64_t kPtRegsIp = 128;

// Larger printf records are built in the ring buffer, not on the stack.
constexpr uint32_t kMaxStackRecord = 128;

// x86-64 struct pt_regs offsets: arguments in di, si, dx, cx, r8, r9.
constexpr int64_t kPtRegsArg[] = {112, 104, 96, 88, 72, 64};
constexpr int64_t kPtRegsRet = 80;
constexpr int64_t kPtRegsSp = 152;

const char *section_for(const ProbeDesc &desc) {
  switch (desc.kind) {
  case ProbeKind::Begin:
  case ProbeKind::End:
    return "raw_tp";
  case ProbeKind::Tracepoint:
    return nullptr; // "tracepoint/CAT/NAME", built by the caller
  case ProbeKind::RawTracepoint:
    return "raw_tp";
  case ProbeKind::Kprobe:
    return "kprobe";
  case ProbeKind::Kretprobe:
    return "kretprobe";
  case ProbeKind::Fentry:
  case ProbeKind::Fexit:
    return nullptr; // "fentry/FUNC": libbpf resolves the BTF id at load
  case ProbeKind::Uprobe:
    return "uprobe";
  case ProbeKind::Uretprobe:
    return "uretprobe";
  case ProbeKind::Profile:
  case ProbeKind::Interval:
  case ProbeKind::Software:
  case ProbeKind::Hardware:
    return "perf_event";
  }
  return "raw_tp";
}

class CodeGenerator {
public:
  CodeGenerator(llvm::LLVMContext &context, const ast::Program &program,
                const SemanticResult &semantic, const SourceFile &source,
                CompiledProgram &compiled)
      : ctx_(context), module_(std::make_unique<llvm::Module>("hvt", context)),
        b_(context), di_(*module_), program_(program), semantic_(semantic),
        source_(source), out_(compiled) {}

  std::unique_ptr<llvm::Module> run() {
    module_->setTargetTriple("bpfel");
    // Set now so the builder picks 8-byte alignment for i64 accesses.
    module_->setDataLayout("e-m:e-p:64:64-i64:64-i128:128-n32:64-S128");
    module_->addModuleFlag(llvm::Module::Warning, "Dwarf Version", 4);
    module_->addModuleFlag(llvm::Module::Warning, "Debug Info Version",
                           llvm::DEBUG_METADATA_VERSION);
    // Embedding the source lets the BPF backend put script lines into BTF
    // line info, so verifier messages quote the user's code.
    di_file_ = di_.createFile(source_.name(), ".", std::nullopt,
                              llvm::StringRef(source_.text()));
    di_.createCompileUnit(llvm::dwarf::DW_LANG_C, di_file_, "hvt", true, "", 0);
    di_int_ = di_.createBasicType("int", 32, llvm::dwarf::DW_ATE_signed);

    emit_license();
    ringbuf_ = define_map_global(out_.ringbuf_name, BPF_MAP_TYPE_RINGBUF,
                                 out_.ringbuf_size, 0, 0);
    for (const auto &map : semantic_.maps) {
      MapDesc desc = map;
      desc.elf_name = MapDesc::elf_name_of(map.name);
      map_globals_[map.name] = define_map_global(
          desc.elf_name, desc.bpf_map_type(), desc.max_entries,
          desc.bpf_key_size(), desc.bpf_value_size(), desc.bpf_map_flags());
      map_indices_[map.name] = out_.maps.size();
      out_.maps.push_back(std::move(desc));
    }
    // Generation stops once the module is over the size limit, which
    // check_code_size() then reports: a wildcard can expand a large probe
    // hundreds of times.
    uint64_t instructions = 0;
    for (size_t p = 0; p < program_.probes.size(); ++p) {
      const auto &info = semantic_.probes[p];
      // --- performance: per kind, the program of this probe that its other
      // attach points of that kind use too, when its code did not depend on
      // its attach point (this_point()). A sys_enter_* wildcard compiles
      // once instead of 360 times.
      std::map<ProbeKind, std::string> shared;
      for (size_t a = 0;
           a < info.points.size() && instructions <= kMaxModuleIrInstructions;
           ++a) {
        auto same = shared.find(info.points[a].desc.kind);
        bool named_by_cookie = probes_named_by_cookie_.count(p) > 0;
        if (same != shared.end() && !info.points[a].desc.fallback) {
          ProbeDesc desc = info.points[a].desc;
          desc.program_name = same->second;
          if (named_by_cookie && desc.kind == ProbeKind::Tracepoint)
            desc.attach_cookie = a;
          out_.probes.push_back(std::move(desc));
          continue;
        }
        function_ = nullptr; // stays null for a BEGIN/END without a program
        point_specific_ = false;
        emit_program(program_.probes[p], info, info.points[a], p, a);
        if (probes_named_by_cookie_.count(p) &&
            out_.probes.back().kind == ProbeKind::Tracepoint)
          out_.probes.back().attach_cookie = a;
        instructions += function_ ? function_->getInstructionCount() : 0;
        if (function_ && !point_specific_ &&
            shares_programs(out_.probes.back().kind))
          shared[out_.probes.back().kind] = out_.probes.back().program_name;
      }
    }
    // --- performance: a program that sends no record needs no ring buffer
    // (the runtime then reads none).
    if (ringbuf_ && ringbuf_->use_empty()) {
      ringbuf_->eraseFromParent();
      ringbuf_ = nullptr;
      out_.ringbuf_name.clear();
    }
    di_.finalize();
    return std::move(module_);
  }

private:
  // ------------------------------------------------------------ module level

  void emit_license() {
    auto *init = llvm::ConstantDataArray::getString(ctx_, "GPL", true);
    auto *gv = new llvm::GlobalVariable(*module_, init->getType(), true,
                                        llvm::GlobalValue::ExternalLinkage,
                                        init, "_license");
    gv->setSection("license");
    gv->setAlignment(llvm::Align(1));
  }

  // `int (*name)[value]`: how libbpf's BTF map definitions encode numbers.
  llvm::DIType *encoded_number(uint64_t value) {
    auto *subrange = di_.getOrCreateSubrange(0, static_cast<int64_t>(value));
    auto *array = di_.createArrayType(value * 32, 32, di_int_,
                                      di_.getOrCreateArray({subrange}));
    return di_.createPointerType(array, 64);
  }

  llvm::GlobalVariable *
  define_map_global(const std::string &name, uint32_t map_type,
                    uint32_t max_entries, uint32_t key_size,
                    uint32_t value_size, uint32_t map_flags = 0) {
    std::vector<std::pair<const char *, uint64_t>> fields = {
        {"type", map_type}, {"max_entries", max_entries}};
    if (key_size)
      fields.push_back({"key_size", key_size});
    if (value_size)
      fields.push_back({"value_size", value_size});
    if (map_flags)
      fields.push_back({"map_flags", map_flags});

    std::vector<llvm::Type *> members(fields.size(), b_.getPtrTy());
    auto *type = llvm::StructType::get(ctx_, members);
    auto *gv = new llvm::GlobalVariable(
        *module_, type, false, llvm::GlobalValue::ExternalLinkage,
        llvm::Constant::getNullValue(type), name);
    gv->setSection(".maps");
    gv->setAlignment(llvm::Align(8));
    gv->setDSOLocal(true);

    std::vector<llvm::Metadata *> elements;
    for (size_t i = 0; i < fields.size(); ++i)
      elements.push_back(di_.createMemberType(
          nullptr, fields[i].first, di_file_, 0, 64, 64, i * 64,
          llvm::DINode::FlagZero, encoded_number(fields[i].second)));
    auto *di_type = di_.createStructType(
        nullptr, "", di_file_, 0, fields.size() * 64, 64,
        llvm::DINode::FlagZero, nullptr, di_.getOrCreateArray(elements));
    auto *gve = di_.createGlobalVariableExpression(
        di_file_, name, name, di_file_, 0, di_type, false);
    gv->addDebugInfo(gve);
    return gv;
  }

  // --- performance: the lost-record counter is a u64 in .bss, which libbpf
  // turns into a one-slot array map (".bss"); a program adds to it with one
  // atomic instruction, no lookup.
  llvm::GlobalVariable *define_lost_events_counter() {
    auto *gv = new llvm::GlobalVariable(
        *module_, b_.getInt64Ty(), false, llvm::GlobalValue::ExternalLinkage,
        b_.getInt64(0), "hvt_lost_events");
    gv->setSection(out_.lost_events_name);
    gv->setAlignment(llvm::Align(8));
    gv->setDSOLocal(true);
    auto *u64 = di_.createBasicType("unsigned long long", 64,
                                    llvm::dwarf::DW_ATE_unsigned);
    gv->addDebugInfo(di_.createGlobalVariableExpression(
        di_file_, gv->getName(), gv->getName(), di_file_, 0, u64, false));
    return gv;
  }

  // ---------------------------------------------------------- program level

  void emit_program(const ast::Probe &probe, const ProbeInfo &info,
                    const ResolvedAttachPoint &point, size_t probe_index,
                    size_t point_index) {
    ProbeDesc desc = point.desc;
    desc.program_name =
        bpf_identifier(desc.display) + "_" + std::to_string(probe_index) +
        (info.points.size() > 1 ? "_" + std::to_string(point_index) : "");
    std::string section;
    if (desc.kind == ProbeKind::Tracepoint) {
      std::string target = desc.target;
      target[target.find(':')] = '/';
      section = "tracepoint/" + target;
    } else if (desc.kind == ProbeKind::Fentry || desc.kind == ProbeKind::Fexit) {
      // libbpf resolves "fentry/[MODULE:]FUNC" to a BTF id at load time.
      section = std::string(desc.kind == ProbeKind::Fentry ? "fentry/" : "fexit/") +
                (desc.target.empty() ? "" : desc.target + ":") + desc.function;
    } else {
      section = section_for(desc);
    }

    // --- performance: BEGIN/END without a program (see constant_records).
    if ((desc.kind == ProbeKind::Begin || desc.kind == ProbeKind::End) &&
        !probe.predicate && points_of_kind(desc.kind) == 1 &&
        sends_only_constant_records(probe.body)) {
      desc.program_name.clear();
      desc.constant_records = constant_records(probe.body);
      out_.probes.push_back(std::move(desc));
      return;
    }

    auto *fn_type = llvm::FunctionType::get(b_.getInt64Ty(), {b_.getPtrTy()}, false);
    function_ = llvm::Function::Create(fn_type, llvm::GlobalValue::ExternalLinkage,
                                       desc.program_name, *module_);
    function_->setSection(section);
    function_->getArg(0)->setName("ctx");
    function_->addFnAttr(llvm::Attribute::NoUnwind);

    auto *di_void_ptr = di_.createPointerType(nullptr, 64);
    auto *di_sub = di_.createSubroutineType(
        di_.getOrCreateTypeArray({di_int_, di_void_ptr}));
    subprogram_ = di_.createFunction(
        di_file_, desc.program_name, desc.program_name, di_file_,
        probe.range.begin.line, di_sub, probe.range.begin.line,
        llvm::DINode::FlagPrototyped, llvm::DISubprogram::SPFlagDefinition);
    function_->setSubprogram(subprogram_);
    // The kernel rejects BTF function prototypes with unnamed arguments.
    di_.createParameterVariable(subprogram_, "ctx", 1, di_file_,
                                probe.range.begin.line, di_void_ptr, true);

    entry_ = BasicBlock::Create(ctx_, "entry", function_);
    b_.SetInsertPoint(entry_);
    set_location(probe.range);
    ctx_arg_ = function_->getArg(0);
    point_ = &point;
    probe_info_ = &info;
    probe_number_ = probe_index;
    variables_.clear();
    loops_.clear();
    read_cache_.reset(); // --- performance: map reads shared per program
    shared_read_buffers_.clear();

    // --- probes/runtime hook: -p PID -------------------------------------
    // Every probe but BEGIN, END and interval (which fires on whatever task
    // a CPU runs) fires for the target process only.
    if (semantic_.options.target_pid && desc.kind != ProbeKind::Begin &&
        desc.kind != ProbeKind::End && desc.kind != ProbeKind::Interval) {
      Value *tgid = opaque(
          b_.CreateLShr(call_helper(kPidTgid, b_.getInt64Ty(), {}), 32));
      auto *mine = BasicBlock::Create(ctx_, "target_pid", function_);
      auto *other = BasicBlock::Create(ctx_, "other_pid", function_);
      b_.CreateCondBr(
          b_.CreateICmpEQ(tgid, b_.getInt64(semantic_.options.target_pid)),
          mine, other);
      b_.SetInsertPoint(other);
      b_.CreateRet(b_.getInt64(0));
      b_.SetInsertPoint(mine);
    }
    // --- end of hook ------------------------------------------------------

    // The predicate's few buffers stay alive throughout: ending them where
    // its value is tested costs jump threading a block (one more
    // instruction on every event).
    statement_buffers_.clear();
    in_statements_ = false;
    if (probe.predicate) {
      MapReadCache::Statement predicate_reads(read_cache_, *probe.predicate);
      Value *cond = to_bool(gen(*probe.predicate));
      auto *body = BasicBlock::Create(ctx_, "body", function_);
      auto *skip = BasicBlock::Create(ctx_, "skip", function_);
      b_.CreateCondBr(cond, body, skip);
      b_.SetInsertPoint(skip);
      b_.CreateRet(b_.getInt64(0));
      b_.SetInsertPoint(body);
    }
    in_statements_ = true;
    gen_block(probe.body);
    if (!b_.GetInsertBlock()->getTerminator())
      b_.CreateRet(b_.getInt64(0));
    out_.probes.push_back(std::move(desc));
  }

  // The attach point the program is generated for, for what differs from
  // one point to the next (its name, its tracepoint's record, its
  // function): a program that asks for it is the point's alone.
  const ResolvedAttachPoint &this_point() {
    point_specific_ = true;
    return *point_;
  }

  // Past this, a probe's tracepoints get a program each instead (512
  // points of 128-byte names: 64 KiB).
  static constexpr uint64_t kMaxProbeNameTableBytes = 1 << 20;

  // --- performance: `probe` in a probe with several tracepoints, read from
  // a table of their names at the index the runtime gave each link as its
  // attach cookie, so that the probe's tracepoints still share one program
  // (a sys_enter_* wildcard counted by probe compiles once, not 360 times).
  // Null when the program should be the point's own instead.
  Value *probe_by_cookie(uint32_t size) {
    const ProbeInfo &info = *probe_info_;
    size_t tracepoints = 0;
    for (const auto &point : info.points)
      tracepoints += point.desc.kind == ProbeKind::Tracepoint;
    if (point_->desc.kind != ProbeKind::Tracepoint || tracepoints < 2)
      return nullptr;
    if (!attach_cookies_)
      attach_cookies_ = semantic_.options.kernel_has_attach_cookies &&
                        semantic_.options.kernel_has_attach_cookies();
    if (!*attach_cookies_)
      return nullptr;
    // One row per attach point of the probe (a point's index is its
    // cookie). Rows and row count are powers of two so that the row's offset
    // is bounded by a mask, which the verifier follows through whatever
    // order LLVM puts the instructions in (a compare did not survive it).
    uint64_t row = std::bit_ceil(std::max<uint64_t>(size, 8));
    uint64_t rows_count = std::bit_ceil(info.points.size());
    if (row * rows_count > kMaxProbeNameTableBytes)
      return nullptr;
    probes_named_by_cookie_.insert(probe_number_);
    // One table per probe (and name size), however often `probe` is read.
    llvm::GlobalVariable *&table = probe_name_tables_[{probe_number_, size}];
    if (!table) {
      std::string rows;
      for (const auto &point : info.points) {
        std::string name = point.desc.display.substr(0, size - 1);
        name.resize(row, '\0');
        rows += name;
      }
      rows.resize(row * rows_count, '\0');
      auto *type = llvm::ArrayType::get(b_.getInt8Ty(), rows.size());
      table = new llvm::GlobalVariable(
          *module_, type, true, llvm::GlobalValue::PrivateLinkage,
          llvm::ConstantDataArray::getRaw(rows, rows.size(), b_.getInt8Ty()),
          "probe_names");
      table->setAlignment(llvm::Align(8));
      table->setSection(".rodata");
    }
    Value *cookie = call_helper(kGetAttachCookie, b_.getInt64Ty(), {ctx_arg_});
    Value *index = b_.CreateAnd(cookie, b_.getInt64(rows_count - 1));
    Value *from = b_.CreateGEP(b_.getInt8Ty(), table,
                               b_.CreateMul(index, b_.getInt64(row)));
    Value *buf = stack_buffer(size, "probe");
    b_.CreateMemCpy(buf, llvm::MaybeAlign(8), from, llvm::MaybeAlign(8), size);
    return buf;
  }

  // Kinds whose attach points can share a program: the same context
  // everywhere (a tracepoint's record is only read through args, which is
  // point-specific), attached point by point from their ProbeDesc, and no
  // fallback twins (kprobes, fentry) or per-point symbolization (uprobes).
  static bool shares_programs(ProbeKind kind) {
    return kind == ProbeKind::Tracepoint || kind == ProbeKind::RawTracepoint;
  }

  void set_location(const SourceRange &range) {
    if (range.valid())
      b_.SetCurrentDebugLocation(llvm::DILocation::get(
          ctx_, range.begin.line, range.begin.column, subprogram_));
  }

  // ------------------------------------------------------------ utilities

  Value *call_helper(Helper id, llvm::Type *ret, std::vector<Value *> args) {
    std::vector<llvm::Type *> types;
    for (auto *arg : args)
      types.push_back(arg->getType());
    auto *fn_type = llvm::FunctionType::get(ret, types, false);
    auto *callee = b_.CreateIntToPtr(b_.getInt64(id), b_.getPtrTy());
    auto *call = b_.CreateCall(fn_type, callee, args);
    // --- performance: helpers whose result cannot change while a program
    // runs (its task, CPU, credentials, cgroup) touch no memory as far as
    // LLVM is concerned, so it computes `tid` once per program, not once per
    // use.
    if (id == kPidTgid || id == kUidGid || id == kSmpProcessorId ||
        id == kCurrentTask || id == kCgroupId) {
      call->setDoesNotAccessMemory();
      call->setDoesNotThrow();
      call->addFnAttr(llvm::Attribute::WillReturn);
    }
    return call;
  }

  // Stack buffers live in the entry block so LLVM can fold and reuse them.
  // A statement's buffers (every one but variables') are alive from here
  // to the end of the statement (llvm.lifetime.start/end, see gen_block),
  // so LLVM's stack coloring lets later statements reuse their bytes:
  // without it, every statement's buffers add up against the 512-byte
  // BPF stack.
  Value *stack_buffer(uint32_t size, const char *name) {
    return statement_buffer(
        entry_alloca(llvm::ArrayType::get(b_.getInt8Ty(),
                                          std::max<uint32_t>(size, 8)),
                     name));
  }

  Value *stack_slot(const char *name) {
    return statement_buffer(entry_alloca(b_.getInt64Ty(), name));
  }

  // An 8-byte aligned alloca in the entry block, alive for the whole
  // program (variables).
  llvm::AllocaInst *entry_alloca(llvm::Type *type, const char *name) {
    llvm::IRBuilder<> entry(entry_, entry_->begin());
    auto *alloca = entry.CreateAlloca(type, nullptr, name);
    alloca->setAlignment(llvm::Align(8));
    return alloca;
  }

  Value *statement_buffer(llvm::AllocaInst *alloca) {
    if (!in_statements_)
      return alloca;
    const llvm::DataLayout &layout = module_->getDataLayout();
    b_.CreateLifetimeStart(
        alloca, b_.getInt64(layout.getTypeAllocSize(alloca->getAllocatedType())));
    statement_buffers_.push_back(alloca);
    return alloca;
  }

  // Ends the lifetime of the buffers started since `mark` (the statement
  // that started them is done with them).
  void end_statement_buffers(size_t mark) {
    if (!b_.GetInsertBlock()->getTerminator()) {
      const llvm::DataLayout &layout = module_->getDataLayout();
      for (size_t i = statement_buffers_.size(); i-- > mark;)
        b_.CreateLifetimeEnd(
            statement_buffers_[i],
            b_.getInt64(layout.getTypeAllocSize(
                statement_buffers_[i]->getAllocatedType())));
    }
    statement_buffers_.resize(mark);
  }

  void zero(Value *ptr, uint32_t size) {
    if (size)
      b_.CreateMemSet(ptr, b_.getInt8(0), size, llvm::MaybeAlign(8));
  }

  Value *offset_ptr(Value *base, uint64_t offset) {
    return offset ? b_.CreateConstGEP1_64(b_.getInt8Ty(), base, offset) : base;
  }

  Value *to_bool(Value *v) { return b_.CreateICmpNE(v, b_.getInt64(0)); }

  // --- performance: `v` as a value LLVM's optimizer cannot see through
  // (llvm.bpf.passthrough, removed by the BPF backend before instruction
  // selection). For `pid == N`, which InstCombine would otherwise turn into a
  // mask test with two 64-bit constants instead of a shift.
  Value *opaque(Value *v) {
    auto *fn = llvm::Intrinsic::getDeclaration(
        module_.get(), llvm::Intrinsic::bpf_passthrough,
        {v->getType(), v->getType()});
    return b_.CreateCall(fn, {b_.getInt32(passthrough_seq_++), v});
  }

  // Stores `value` of type `from` into storage of type `to` at `dst`.
  // Integers are widened to the slot's size; strings are copied and padded.
  void store_value(Value *dst, const Type &to, Value *value, const Type &from) {
    if (to.is_tuple() && from.is_tuple()) {
      for (size_t i = 0; i < to.fields.size(); ++i) {
        const Type &src_field = from.fields[i];
        Value *src = offset_ptr(value, from.offsets[i]);
        Value *field = is_scalar(src_field) ? load_int(src, src_field) : src;
        store_value(offset_ptr(dst, to.offsets[i]), to.fields[i], field, src_field);
      }
      return;
    }
    if (is_buffer(to)) {
      uint32_t copy = std::min(to.size, from.size);
      b_.CreateMemCpy(dst, llvm::MaybeAlign(8), value, llvm::MaybeAlign(8), copy);
      if (to.size > copy)
        b_.CreateMemSet(offset_ptr(dst, copy), b_.getInt8(0), to.size - copy,
                        llvm::MaybeAlign(8));
      return;
    }
    // Word-sized kinds (symbolic, ksym) may come as a value or, read back
    // from a variable, map or tuple, in memory.
    if (value->getType()->isPointerTy())
      value = b_.CreateLoad(b_.getIntNTy(std::max<uint32_t>(from.size, 1) * 8),
                            value);
    if (from.kind == TypeKind::Symbolic && from.symbol_table &&
        !to.symbol_table)
      value = b_.CreateOr( // the encoded word symbols.h describes
          b_.CreateAnd(value, from.symbol_mask & kSymbolValueMask),
          uint64_t{from.symbol_table} << kSymbolTableShift);
    llvm::Type *int_type = b_.getIntNTy(std::max<uint32_t>(to.size, 1) * 8);
    b_.CreateStore(b_.CreateIntCast(value, int_type, from.is_signed), dst);
  }

  Value *load_int(Value *src, const Type &type) {
    llvm::Type *int_type = b_.getIntNTy(type.size * 8);
    Value *v = b_.CreateLoad(int_type, src);
    return b_.CreateIntCast(v, b_.getInt64Ty(), type.is_signed);
  }

  // Materializes a string constant with word-sized immediate stores.
  Value *string_constant(const std::string &text, uint32_t size) {
    Value *buf = stack_buffer(size, "str");
    for (uint32_t off = 0; off < size; off += 8) {
      uint64_t word = 0;
      for (uint32_t i = 0; i < 8 && off + i < text.size(); ++i)
        word |= static_cast<uint64_t>(static_cast<uint8_t>(text[off + i])) << (8 * i);
      b_.CreateStore(b_.getInt64(word), offset_ptr(buf, off));
    }
    return buf;
  }

  // ------------------------------------------------------------ statements

  void gen_block(const ast::StmtList &body) {
    for (const auto &stmt : body) {
      if (b_.GetInsertBlock()->getTerminator())
        return; // unreachable code after return/break
      // BEGIN's constant map assignments: the runtime writes their entries
      // before BEGIN runs (passes/initial_entries.h).
      if (semantic_.initial_entry_statements.count(stmt.get()))
        continue;
      set_location(stmt->range);
      MapReadCache::Statement reads(read_cache_, *stmt); // --- performance
      size_t buffers = statement_buffers_.size();
      gen_stmt(*stmt);
      end_statement_buffers(buffers);
    }
  }

  void gen_stmt(const ast::Stmt &stmt) {
    switch (stmt.kind) {
    case ast::StmtKind::Expr:
      gen(*stmt.as<ast::ExprStmt>()->expr);
      return;
    case ast::StmtKind::AssignMap:
      gen_map_assign(*stmt.as<ast::AssignMap>());
      return;
    case ast::StmtKind::AssignVar:
      gen_var_assign(*stmt.as<ast::AssignVar>());
      return;
    case ast::StmtKind::If: {
      auto &s = *stmt.as<ast::If>();
      Value *cond = to_bool(gen(*s.cond));
      auto *then_bb = BasicBlock::Create(ctx_, "if.then", function_);
      auto *else_bb = BasicBlock::Create(ctx_, "if.else", function_);
      auto *done = BasicBlock::Create(ctx_, "if.done", function_);
      b_.CreateCondBr(cond, then_bb, else_bb);
      b_.SetInsertPoint(then_bb);
      MapReadCache::Branch branch(read_cache_); // --- performance
      gen_block(s.then_body);
      if (!b_.GetInsertBlock()->getTerminator())
        b_.CreateBr(done);
      b_.SetInsertPoint(else_bb);
      branch.restart();
      gen_block(s.else_body);
      if (!b_.GetInsertBlock()->getTerminator())
        b_.CreateBr(done);
      b_.SetInsertPoint(done);
      return;
    }
    case ast::StmtKind::Unroll: {
      auto &s = *stmt.as<ast::Unroll>();
      uint64_t n = s.count->as<ast::IntegerLit>()->value;
      for (uint64_t i = 0; i < n && !b_.GetInsertBlock()->getTerminator(); ++i)
        gen_block(s.body);
      return;
    }
    case ast::StmtKind::While: {
      auto &s = *stmt.as<ast::While>();
      auto *cond_bb = BasicBlock::Create(ctx_, "while.cond", function_);
      auto *body_bb = BasicBlock::Create(ctx_, "while.body", function_);
      auto *done = BasicBlock::Create(ctx_, "while.done", function_);
      b_.CreateBr(cond_bb);
      b_.SetInsertPoint(cond_bb);
      b_.CreateCondBr(to_bool(gen(*s.cond)), body_bb, done);
      b_.SetInsertPoint(body_bb);
      loops_.push_back({cond_bb, done});
      gen_block(s.body);
      loops_.pop_back();
      if (!b_.GetInsertBlock()->getTerminator())
        b_.CreateBr(cond_bb);
      b_.SetInsertPoint(done);
      return;
    }
    case ast::StmtKind::Jump: {
      auto &s = *stmt.as<ast::Jump>();
      if (s.jump == ast::JumpKind::Return)
        b_.CreateRet(b_.getInt64(0));
      else
        b_.CreateBr(s.jump == ast::JumpKind::Break ? loops_.back().second
                                                   : loops_.back().first);
      // Statements after a jump go to a fresh, unreachable block.
      b_.SetInsertPoint(BasicBlock::Create(ctx_, "after.jump", function_));
      return;
    }
    case ast::StmtKind::Block:
      gen_block(stmt.as<ast::BlockStmt>()->body);
      return;
    }
  }

  Value *variable_slot(const ast::Variable &var, const Type &type) {
    auto it = variables_.find(var.name);
    if (it != variables_.end())
      return it->second;
    Value *slot = entry_alloca(
        is_scalar(type)
            ? static_cast<llvm::Type *>(b_.getInt64Ty())
            : llvm::ArrayType::get(b_.getInt8Ty(),
                                   std::max<uint32_t>(type.size, 8)),
        var.name.c_str());
    variables_[var.name] = slot;
    return slot;
  }

  void gen_var_assign(const ast::AssignVar &s) {
    const Type &type = s.var->type;
    Value *slot = variable_slot(*s.var, type);
    Value *value = gen(*s.value);
    if (s.op.compound) {
      Value *current = b_.CreateLoad(b_.getInt64Ty(), slot);
      value = binary_int(s.op.op, current, value, type.is_signed && s.value->type.is_signed);
      b_.CreateStore(value, slot);
      return;
    }
    store_value(slot, type, value, s.value->type);
  }

  // ------------------------------------------------------------------ maps

  llvm::GlobalVariable *map_global(const std::string &name) {
    return map_globals_.at(name);
  }
  const MapDesc &map_desc(const std::string &name) {
    return out_.maps[map_indices_.at(name)];
  }

  // Builds the BPF key for `map` (user key, plus room for a hist bucket).
  Value *build_key(const ast::Map &map, const MapDesc &desc) {
    uint32_t size = desc.bpf_key_size();
    Value *key = stack_buffer(size, "key");
    if (desc.key.is_none()) {
      if (desc.agg != AggKind::Hist && desc.agg != AggKind::LHist)
        b_.CreateStore(b_.getInt64(0), key);
      return key;
    }
    if (map.keys.size() == 1) {
      store_value(key, desc.key, gen(*map.keys[0]), map.keys[0]->type);
    } else {
      if (desc.key.size > 0)
        zero(key, desc.key.size); // tuple padding must hash the same
      for (size_t i = 0; i < map.keys.size(); ++i)
        store_value(offset_ptr(key, desc.key.offsets[i]), desc.key.fields[i],
                    gen(*map.keys[i]), map.keys[i]->type);
    }
    return key;
  }

  Value *lookup(llvm::GlobalVariable *map, Value *key) {
    return call_helper(kMapLookup, b_.getPtrTy(), {map, key});
  }

  void update(llvm::GlobalVariable *map, Value *key, Value *value) {
    // --- performance: a refused update (the map is full) is not counted
    // here: at exit the runtime warns about every full hash map
    // (language_support.h).
    call_helper(kMapUpdate, b_.getInt64Ty(),
                {map, key, value, b_.getInt64(BPF_ANY)});
  }

  // if (p = lookup(key)) on_found(p) else on_missing()
  template <typename Found, typename Missing>
  void lookup_then(llvm::GlobalVariable *map, Value *key, Found on_found,
                   Missing on_missing) {
    Value *p = lookup(map, key);
    auto *found = BasicBlock::Create(ctx_, "map.found", function_);
    auto *missing = BasicBlock::Create(ctx_, "map.missing", function_);
    auto *done = BasicBlock::Create(ctx_, "map.done", function_);
    b_.CreateCondBr(b_.CreateIsNotNull(p), found, missing);
    b_.SetInsertPoint(found);
    on_found(p);
    b_.CreateBr(done);
    b_.SetInsertPoint(missing);
    on_missing();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

  static bool is_array(const MapDesc &desc) {
    return desc.storage == MapStorage::Array ||
           desc.storage == MapStorage::PercpuArray;
  }

  // Adds each delta to the u64 at its offset in the value for `key`, or
  // creates the entry with the deltas as its fields (unless `can_insert` is
  // false: an array has every slot there is).
  void add_or_insert(llvm::GlobalVariable *map, Value *key,
                     std::vector<std::pair<uint32_t, Value *>> deltas,
                     bool can_insert = true) {
    if (!can_insert) {
      Value *p = lookup(map, key);
      auto *found = BasicBlock::Create(ctx_, "map.found", function_);
      auto *done = BasicBlock::Create(ctx_, "map.done", function_);
      b_.CreateCondBr(b_.CreateIsNotNull(p), found, done);
      b_.SetInsertPoint(found);
      for (auto &[offset, delta] : deltas) {
        Value *slot = offset_ptr(p, offset);
        b_.CreateStore(
            b_.CreateAdd(b_.CreateLoad(b_.getInt64Ty(), slot), delta), slot);
      }
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
      return;
    }
    lookup_then(
        map, key,
        [&](Value *p) {
          // Per-CPU storage: no other writer, so plain adds are exact.
          for (auto &[offset, delta] : deltas) {
            Value *slot = offset_ptr(p, offset);
            b_.CreateStore(b_.CreateAdd(b_.CreateLoad(b_.getInt64Ty(), slot), delta), slot);
          }
        },
        [&] {
          // --- performance: the new entry is built only on this (rare) path.
          Value *initial = stack_buffer(8 * deltas.size(), "init");
          for (auto &[offset, delta] : deltas)
            b_.CreateStore(delta, offset_ptr(initial, offset));
          update(map, key, initial);
        });
  }

  void gen_map_assign(const ast::AssignMap &s) {
    const ast::Map &map = *s.map;
    const MapDesc &desc = map_desc(map.name);
    auto *global = map_global(map.name);
    if (auto *call = s.value->as<ast::Call>(); call && desc.agg != AggKind::None &&
                                               call->name != "str") {
      gen_aggregation(*call, map, desc, global);
      return;
    }
    Value *key = build_key(map, desc);
    Value *value = gen(*s.value);
    if (s.op.compound) {
      Value *current = read_map_int(global, key);
      value = binary_int(s.op.op, current, value,
                         desc.value.is_signed && s.value->type.is_signed);
      Value *buf = stack_slot("val");
      b_.CreateStore(value, buf);
      update(global, key, buf);
      return;
    }
    Value *buf = is_scalar(desc.value) ? stack_slot("val")
                                       : stack_buffer(desc.value.size, "val");
    store_value(buf, desc.value, value, s.value->type);
    update(global, key, buf);
  }

  Value *read_map_int(llvm::GlobalVariable *global, Value *key) {
    Value *result = stack_slot("read");
    lookup_then(
        global, key,
        [&](Value *p) { b_.CreateStore(b_.CreateLoad(b_.getInt64Ty(), p), result); },
        [&] { b_.CreateStore(b_.getInt64(0), result); });
    return b_.CreateLoad(b_.getInt64Ty(), result);
  }

  Value *hist_bucket(Value *v) {
    // 0: negative, 1: zero, i >= 2: 2^(i-2) <= v < 2^(i-1), i.e.
    // 2 + floor(log2(v)).
    // --- performance: the log2 of positive values only (computing it
    // before the sign and zero tests keeps more values live), through a
    // placeholder the optimizer does not look into (log2_bucket.h).
    auto *positive = BasicBlock::Create(ctx_, "hist.log2", function_);
    auto *done = BasicBlock::Create(ctx_, "hist.bucket", function_);
    BasicBlock *start = b_.GetInsertBlock();
    Value *small = b_.CreateSelect(b_.CreateICmpSLT(v, b_.getInt64(0)),
                                   b_.getInt64(0), b_.getInt64(1));
    b_.CreateCondBr(b_.CreateICmpSGT(v, b_.getInt64(0)), positive, done);
    b_.SetInsertPoint(positive);
    Value *large =
        b_.CreateAdd(call_log2(b_, v), b_.getInt64(2), "", true, true);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    auto *bucket = b_.CreatePHI(b_.getInt64Ty(), 2);
    bucket->addIncoming(small, start);
    bucket->addIncoming(large, positive);
    return bucket;
  }

  Value *lhist_bucket(Value *v, const MapDesc &desc) {
    Value *below = b_.CreateICmpSLT(v, b_.getInt64(desc.lhist_min));
    Value *above = b_.CreateICmpSGE(v, b_.getInt64(desc.lhist_max));
    uint64_t last = (desc.lhist_max - desc.lhist_min) / desc.lhist_step + 1;
    Value *inside = b_.CreateAdd(
        b_.CreateUDiv(b_.CreateSub(v, b_.getInt64(desc.lhist_min)),
                      b_.getInt64(desc.lhist_step)),
        b_.getInt64(1));
    Value *bucket = b_.CreateSelect(above, b_.getInt64(last), inside);
    return b_.CreateSelect(below, b_.getInt64(0), bucket);
  }

  void gen_aggregation(const ast::Call &call, const ast::Map &map,
                       const MapDesc &desc, llvm::GlobalVariable *global) {
    Value *key = build_key(map, desc);
    Value *arg = call.args.empty() ? nullptr : gen(*call.args[0]);
    switch (desc.agg) {
    case AggKind::Count:
    case AggKind::Sum: {
      Value *delta = arg ? arg : b_.getInt64(1);
      add_or_insert(global, key, {{0, delta}}, !is_array(desc));
      return;
    }
    case AggKind::Avg:
    case AggKind::Stats: {
      add_or_insert(global, key, {{0, arg}, {8, b_.getInt64(1)}},
                    !is_array(desc));
      return;
    }
    case AggKind::Min:
    case AggKind::Max: {
      Value *init = stack_buffer(16, "init");
      b_.CreateStore(arg, init);
      b_.CreateStore(b_.getInt64(1), offset_ptr(init, 8));
      bool is_min = desc.agg == AggKind::Min;
      lookup_then(
          global, key,
          [&](Value *p) {
            Value *current = b_.CreateLoad(b_.getInt64Ty(), p);
            Value *set = b_.CreateLoad(b_.getInt64Ty(), offset_ptr(p, 8));
            Value *better = desc.value.is_signed
                                ? (is_min ? b_.CreateICmpSLT(arg, current)
                                          : b_.CreateICmpSGT(arg, current))
                                : (is_min ? b_.CreateICmpULT(arg, current)
                                          : b_.CreateICmpUGT(arg, current));
            Value *replace = b_.CreateOr(b_.CreateICmpEQ(set, b_.getInt64(0)), better);
            b_.CreateStore(b_.CreateSelect(replace, arg, current), p);
            b_.CreateStore(b_.getInt64(1), offset_ptr(p, 8));
          },
          [&] { update(global, key, init); });
      return;
    }
    case AggKind::Hist:
    case AggKind::LHist: {
      Value *bucket = desc.agg == AggKind::Hist ? hist_bucket(arg)
                                                : lhist_bucket(arg, desc);
      if (is_array(desc)) { // key-less: the bucket is the u32 index
        b_.CreateStore(b_.CreateTrunc(bucket, b_.getInt32Ty()), key);
        add_or_insert(global, key, {{0, b_.getInt64(1)}}, false);
        return;
      }
      uint32_t user = desc.key.is_none() ? 0 : desc.key.size;
      b_.CreateStore(bucket, offset_ptr(key, user));
      add_or_insert(global, key, {{0, b_.getInt64(1)}});
      return;
    }
    case AggKind::None:
      return;
    }
  }

  // Reads a plain map value; a missing key reads as zero / empty string.
  Value *gen_map_read(const ast::Map &map) {
    const MapDesc &desc = map_desc(map.name);
    auto *global = map_global(map.name);
    // --- performance: one lookup per value (map_read_cache.h)
    bool shareable = desc.agg == AggKind::None;
    if (Value *earlier = shareable ? read_cache_.find(map) : nullptr)
      return earlier;
    Value *key = build_key(map, desc);
    if (desc.agg != AggKind::None)
      return read_aggregation(global, key, desc);
    if (is_scalar(desc.value)) {
      Value *value = read_map_int(global, key);
      read_cache_.insert(map, value);
      return value;
    }
    // A copy later reads may share must outlive this statement (no
    // lifetime markers), e.g. `/@m[tid].0/ { $e = @m[tid]; ... }`. Reads
    // of one map and key copy into the same buffer: a statement is done
    // with the values it read before the next read of them (one that
    // writes the map shares nothing), so unrolled reads need no more stack.
    bool share = read_cache_.would_share(map);
    Value *buf = nullptr;
    if (share) {
      llvm::AllocaInst *&shared =
          shared_read_buffers_[MapReadCache::fingerprint(map)];
      if (!shared)
        shared = entry_alloca(
            llvm::ArrayType::get(b_.getInt8Ty(),
                                 std::max<uint32_t>(desc.value.size, 8)),
            "read");
      buf = shared;
    } else {
      buf = stack_buffer(desc.value.size, "read");
    }
    lookup_then(
        global, key,
        [&](Value *p) {
          b_.CreateMemCpy(buf, llvm::MaybeAlign(8), p, llvm::MaybeAlign(8),
                          desc.value.size);
        },
        [&] { zero(buf, desc.value.size); });
    if (share)
      read_cache_.insert(map, buf);
    return buf;
  }

  // count/sum/min/max/avg read in a probe: every CPU's copy combined the
  // way printing combines them, through bpf_map_lookup_percpu_elem() over
  // the possible CPUs (a missing key reads as 0).
  Value *read_aggregation(llvm::GlobalVariable *global, Value *key,
                          const MapDesc &desc) {
    Value *total = stack_slot("agg.total"); // sum, or min/max so far
    Value *count = stack_slot("agg.count"); // avg: values; min/max: any set
    Value *cpu = stack_slot("agg.cpu");
    b_.CreateStore(b_.getInt64(0), total);
    b_.CreateStore(b_.getInt64(0), count);
    b_.CreateStore(b_.getInt64(0), cpu);
    auto *cond = BasicBlock::Create(ctx_, "agg.cond", function_);
    auto *body = BasicBlock::Create(ctx_, "agg.body", function_);
    auto *next = BasicBlock::Create(ctx_, "agg.next", function_);
    auto *done = BasicBlock::Create(ctx_, "agg.done", function_);
    b_.CreateBr(cond);
    b_.SetInsertPoint(cond);
    Value *index = b_.CreateLoad(b_.getInt64Ty(), cpu);
    b_.CreateCondBr(b_.CreateICmpULT(index, b_.getInt64(possible_cpus())), body,
                    done);
    b_.SetInsertPoint(body);
    Value *p =
        call_helper(kMapLookupPercpu, b_.getPtrTy(),
                    {global, key, b_.CreateTrunc(index, b_.getInt32Ty())});
    auto *found = BasicBlock::Create(ctx_, "agg.found", function_);
    b_.CreateCondBr(b_.CreateIsNull(p), next, found);
    b_.SetInsertPoint(found);
    Value *value = b_.CreateLoad(b_.getInt64Ty(), p);
    // avg: {sum, count}; min/max: {value, set}; count/sum: one word.
    Value *second = desc.bpf_value_size() == 16
                        ? b_.CreateLoad(b_.getInt64Ty(), offset_ptr(p, 8))
                        : nullptr;
    Value *so_far = b_.CreateLoad(b_.getInt64Ty(), total);
    Value *seen = b_.CreateLoad(b_.getInt64Ty(), count);
    switch (desc.agg) {
    case AggKind::Avg:
      b_.CreateStore(b_.CreateAdd(so_far, value), total);
      b_.CreateStore(b_.CreateAdd(seen, second), count);
      break;
    case AggKind::Min:
    case AggKind::Max: {
      bool is_min = desc.agg == AggKind::Min, is_signed = desc.value.is_signed;
      Value *better = is_min ? (is_signed ? b_.CreateICmpSLT(value, so_far)
                                          : b_.CreateICmpULT(value, so_far))
                             : (is_signed ? b_.CreateICmpSGT(value, so_far)
                                          : b_.CreateICmpUGT(value, so_far));
      Value *set = b_.CreateICmpNE(second, b_.getInt64(0));
      Value *first = b_.CreateICmpEQ(seen, b_.getInt64(0));
      Value *take = b_.CreateAnd(set, b_.CreateOr(first, better));
      b_.CreateStore(b_.CreateSelect(take, value, so_far), total);
      b_.CreateStore(b_.CreateSelect(set, b_.getInt64(1), seen), count);
      break;
    }
    default: // count, sum
      b_.CreateStore(b_.CreateAdd(so_far, value), total);
      break;
    }
    b_.CreateBr(next);
    b_.SetInsertPoint(next);
    b_.CreateStore(b_.CreateAdd(index, b_.getInt64(1)), cpu);
    b_.CreateBr(cond);
    b_.SetInsertPoint(done);
    Value *result = b_.CreateLoad(b_.getInt64Ty(), total);
    if (desc.agg != AggKind::Avg)
      return result;
    Value *n = b_.CreateLoad(b_.getInt64Ty(), count);
    Value *safe =
        b_.CreateSelect(b_.CreateICmpEQ(n, b_.getInt64(0)), b_.getInt64(1), n);
    return signed_div_rem(result, safe, true);
  }

  // The kernel's possible CPUs (per-CPU maps hold one copy for each).
  static uint64_t possible_cpus() {
    static const uint64_t count = [] {
      // "0-3" or "0,2-5": the highest CPU number + 1.
      FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
      uint64_t highest = 0;
      if (f) {
        char text[256] = {};
        if (fgets(text, sizeof(text), f))
          for (char *p = text; *p;) {
            if (!isdigit(static_cast<unsigned char>(*p))) {
              ++p;
              continue;
            }
            char *end = nullptr;
            highest = std::max<uint64_t>(highest, strtoull(p, &end, 10));
            p = end;
          }
        fclose(f);
      }
      return highest + 1;
    }();
    return count;
  }

  Value *gen_map_step(const ast::Unary &u, const ast::Map &map) {
    const MapDesc &desc = map_desc(map.name);
    auto *global = map_global(map.name);
    Value *key = build_key(map, desc);
    Value *old = read_map_int(global, key);
    bool inc = u.op == ast::UnaryOp::PreIncrement || u.op == ast::UnaryOp::PostIncrement;
    Value *updated = inc ? b_.CreateAdd(old, b_.getInt64(1)) : b_.CreateSub(old, b_.getInt64(1));
    Value *buf = stack_slot("val");
    b_.CreateStore(updated, buf);
    update(global, key, buf);
    bool post = u.op == ast::UnaryOp::PostIncrement || u.op == ast::UnaryOp::PostDecrement;
    return post ? old : updated;
  }

  // ------------------------------------------------------------- events

  // Sends header + payload to the ring buffer. `payload_size` is constant.
  void emit_event(EventKind kind, uint32_t id, Value *event, uint32_t total_size) {
    b_.CreateStore(b_.getInt32(static_cast<uint32_t>(kind)), event);
    b_.CreateStore(b_.getInt32(id), offset_ptr(event, 4));
    Value *rc =
        call_helper(kRingbufOutput, b_.getInt64Ty(),
                    {ringbuf_, event, b_.getInt64(total_size), b_.getInt64(0)});
    count_lost_event(rc);
  }

  // --- probes/runtime hook: lost events -----------------------------------
  // A record the ring buffer has no room for is counted in the .bss
  // counter, off the hot path; the runtime prints "Lost N events".
  void count_lost_event(Value *rc) {
    auto *lost = BasicBlock::Create(ctx_, "lost", function_);
    auto *done = BasicBlock::Create(ctx_, "sent", function_);
    auto *branch =
        b_.CreateCondBr(b_.CreateICmpNE(rc, b_.getInt64(0)), lost, done);
    branch->setMetadata(llvm::LLVMContext::MD_prof,
                        llvm::MDBuilder(ctx_).createUnlikelyBranchWeights());
    b_.SetInsertPoint(lost);
    if (!lost_events_) // only programs that send records have one
      lost_events_ = define_lost_events_counter();
    b_.CreateAtomicRMW(llvm::AtomicRMWInst::Add, lost_events_, b_.getInt64(1),
                       llvm::MaybeAlign(8), llvm::AtomicOrdering::Monotonic);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }
  // --- end of hook ----------------------------------------------------------

  // printf(fmt, args...) and cat(fmt, args...): the arguments, laid out as
  // a tuple, in one record.
  // The record layout of printf(fmt, args...): the arguments as a tuple.
  static PrintfDesc printf_desc(const ast::Call &call, PrintfAction action) {
    PrintfDesc desc;
    desc.format = call.args[0]->as<ast::StringLit>()->value;
    desc.range = call.range;
    desc.action = action;
    std::vector<Type> fields;
    for (size_t i = 1; i < call.args.size(); ++i) {
      const Type &t = call.args[i]->type;
      fields.push_back(t.is_integer() ? Type::integer(8, t.is_signed) : t);
    }
    desc.args = Type::tuple(fields);
    return desc;
  }

  void gen_printf(const ast::Call &call,
                  PrintfAction action = PrintfAction::Print) {
    PrintfDesc desc = printf_desc(call, action);
    std::vector<Value *> values;
    for (size_t i = 1; i < call.args.size(); ++i)
      values.push_back(gen(*call.args[i]));
    uint32_t total = sizeof(EventHeader) + desc.args.size;
    uint32_t id = out_.printfs.size();
    auto fill = [&](Value *event) {
      for (size_t i = 1; i < call.args.size(); ++i)
        store_value(
            offset_ptr(event, sizeof(EventHeader) + desc.args.offsets[i - 1]),
            desc.args.fields[i - 1], values[i - 1], call.args[i]->type);
    };
    if (total <= kMaxStackRecord) {
      Value *event = stack_buffer(total, "printf");
      fill(event);
      emit_event(EventKind::Printf, id, event, total);
    } else {
      // Built in the ring buffer itself: a copy on the 512-byte BPF stack
      // would not fit beside the arguments.
      reserved_record(total, "printf", [&](Value *event) -> Value * {
        fill(event);
        return b_.getInt32(id);
      });
    }
    out_.printfs.push_back(std::move(desc));
  }

  // A printf record written straight into the ring buffer: reserves `total`
  // bytes (a full buffer counts a lost record), lets `fill` write the
  // payload and return the printf id, then writes the header and submits.
  void reserved_record(uint32_t total, const std::string &name,
                       const std::function<Value *(Value *record)> &fill) {
    Value *record = call_helper(kRingbufReserve, b_.getPtrTy(),
                                {ringbuf_, b_.getInt64(total), b_.getInt64(0)});
    auto *reserved = BasicBlock::Create(ctx_, name + ".reserved", function_);
    auto *full = BasicBlock::Create(ctx_, name + ".full", function_);
    auto *done = BasicBlock::Create(ctx_, name + ".done", function_);
    b_.CreateCondBr(b_.CreateIsNull(record), full, reserved);
    b_.SetInsertPoint(full);
    count_lost_event(b_.getInt64(-1));
    b_.CreateBr(done);
    b_.SetInsertPoint(reserved);
    Value *id = fill(record);
    b_.CreateStore(b_.getInt32(static_cast<uint32_t>(EventKind::Printf)),
                   record);
    b_.CreateStore(id, offset_ptr(record, 4));
    call_helper(kRingbufSubmit, b_.getVoidTy(), {record, b_.getInt64(0)});
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

  // --- performance: constant records -----------------------------------
  // A BEGIN or END whose statements only send records that do not depend on
  // the run (printf of literals, exit(), print/clear/zero of a whole map)
  // gets no BPF program: loading and running one costs more than the
  // records, and its ring buffer and lost-record counter would be created
  // for it alone. The runtime handles the records where the program would
  // have sent them (docs/performance.md).
  // (With one BEGIN, or END, only: the records of several would otherwise
  // reach user space in another order than their programs run.)
  size_t points_of_kind(ProbeKind kind) const {
    size_t n = 0;
    for (const auto &info : semantic_.probes)
      for (const auto &point : info.points)
        n += point.desc.kind == kind;
    return n;
  }

  // print(@m) prints the map; print(@m[k]) prints one value.
  static bool is_whole_map(const ast::Expr &e) {
    const auto *map = e.as<ast::Map>();
    return map && map->keys.empty();
  }

  bool sends_only_constant_records(const ast::StmtList &body) const {
    for (const auto &stmt : body) {
      if (semantic_.initial_entry_statements.count(stmt.get()))
        continue;
      const auto *expr = stmt->as<ast::ExprStmt>();
      const ast::Call *call =
          expr && expr->expr ? expr->expr->as<ast::Call>() : nullptr;
      if (!call)
        return false;
      const std::string &n = call->name;
      if (n == "printf") {
        for (size_t i = 1; i < call->args.size(); ++i) {
          const ast::Expr &arg = *call->args[i];
          bool literal = arg.kind == ast::ExprKind::Integer ||
                         arg.kind == ast::ExprKind::String;
          if (!literal || !(arg.type.is_integer() || arg.type.is_string()))
            return false;
        }
      } else if (n == "exit") {
        if (!call->args.empty())
          return false;
      } else if (n == "print" || n == "clear" || n == "zero") {
        if (call->args.size() != 1 || !is_whole_map(*call->args[0]))
          return false;
      } else {
        return false;
      }
    }
    return true;
  }

  // The records of such a body, byte for byte what its program would send
  // (each prefixed with its u32 length).
  std::vector<uint8_t> constant_records(const ast::StmtList &body) {
    std::vector<uint8_t> out;
    auto add = [&](EventKind kind, uint32_t id,
                   const std::vector<uint8_t> &payload) {
      EventHeader header{static_cast<uint32_t>(kind), id};
      uint32_t size = sizeof(header) + payload.size();
      const auto *bytes = reinterpret_cast<const uint8_t *>(&size);
      out.insert(out.end(), bytes, bytes + sizeof(size));
      bytes = reinterpret_cast<const uint8_t *>(&header);
      out.insert(out.end(), bytes, bytes + sizeof(header));
      out.insert(out.end(), payload.begin(), payload.end());
    };
    for (const auto &stmt : body) {
      if (semantic_.initial_entry_statements.count(stmt.get()))
        continue;
      const auto &call = *stmt->as<ast::ExprStmt>()->expr->as<ast::Call>();
      if (call.name == "printf") {
        PrintfDesc desc = printf_desc(call, PrintfAction::Print);
        std::vector<uint8_t> payload(desc.args.size, 0);
        for (size_t i = 1; i < call.args.size(); ++i) {
          uint8_t *field = payload.data() + desc.args.offsets[i - 1];
          const ast::Expr &arg = *call.args[i];
          if (const auto *number = arg.as<ast::IntegerLit>()) {
            memcpy(field, &number->value, sizeof(number->value));
          } else {
            const std::string &text = arg.as<ast::StringLit>()->value;
            memcpy(field, text.data(),
                   std::min<size_t>(text.size(), desc.args.fields[i - 1].size));
          }
        }
        add(EventKind::Printf, out_.printfs.size(), payload);
        out_.printfs.push_back(std::move(desc));
      } else if (call.name == "exit") {
        add(EventKind::Exit, 0, {});
        break; // exit() ends the probe
      } else {
        EventKind kind = call.name == "print"   ? EventKind::PrintMap
                         : call.name == "clear" ? EventKind::ClearMap
                                                : EventKind::ZeroMap;
        // top and div: 0, as gen_map_event() sends them without arguments.
        add(kind, map_indices_.at(call.args[0]->as<ast::Map>()->name),
            std::vector<uint8_t>(16, 0));
      }
    }
    return out;
  }
  // --- end of constant records ---------------------------------------------

  void gen_map_event(EventKind kind, const ast::Call &call) {
    const auto &map = *call.args[0]->as<ast::Map>();
    uint32_t total = sizeof(EventHeader) + 16;
    Value *event = stack_buffer(total, "event");
    Value *top = call.args.size() > 1 ? gen(*call.args[1]) : b_.getInt64(0);
    Value *div = call.args.size() > 2 ? gen(*call.args[2]) : b_.getInt64(0);
    b_.CreateStore(top, offset_ptr(event, 8));
    b_.CreateStore(div, offset_ptr(event, 16));
    emit_event(kind, map_indices_.at(map.name), event, total);
  }

  // ---------------------------------------------------------- expressions

  Value *gen(const ast::Expr &e) {
    switch (e.kind) {
    case ast::ExprKind::Integer:
      return b_.getInt64(e.as<ast::IntegerLit>()->value);
    case ast::ExprKind::String:
      return string_constant(e.as<ast::StringLit>()->value, e.type.size);
    case ast::ExprKind::Builtin:
      return gen_builtin(*e.as<ast::Builtin>());
    case ast::ExprKind::Positional: {
      auto &p = *e.as<ast::Positional>();
      const auto &params = semantic_.options.positional;
      if (p.is_count)
        return b_.getInt64(params.size());
      if (p.index < 1 || static_cast<size_t>(p.index) > params.size())
        return e.type.is_string() ? string_constant("", e.type.size) : b_.getInt64(0);
      const std::string &text = params[p.index - 1];
      if (e.type.is_string())
        return string_constant(text, e.type.size);
      return b_.getInt64(std::strtoll(text.c_str(), nullptr, 10));
    }
    case ast::ExprKind::Variable: {
      auto &v = *e.as<ast::Variable>();
      Value *slot = variable_slot(v, e.type);
      return is_scalar(e.type) ? b_.CreateLoad(b_.getInt64Ty(), slot) : slot;
    }
    case ast::ExprKind::Map:
      return gen_map_read(*e.as<ast::Map>());
    case ast::ExprKind::Call:
      return gen_call(*e.as<ast::Call>());
    case ast::ExprKind::Binary:
      return gen_binary(*e.as<ast::Binary>());
    case ast::ExprKind::Unary:
      return gen_unary(*e.as<ast::Unary>());
    case ast::ExprKind::Ternary:
      return gen_ternary(*e.as<ast::Ternary>());
    case ast::ExprKind::Field: {
      auto &f = *e.as<ast::Field>();
      return f.read.active ? gen_kernel_read(f, *f.object, f.read)
                           : gen_field(f);
    }
    case ast::ExprKind::TupleIndex: {
      auto &t = *e.as<ast::TupleIndex>();
      Value *tuple = gen(*t.object);
      const Type &tt = t.object->type;
      Value *field = offset_ptr(tuple, tt.offsets[t.index]);
      return is_scalar(e.type) ? load_int(field, e.type) : field;
    }
    case ast::ExprKind::Cast: {
      auto &c = *e.as<ast::Cast>();
      Value *v = gen(*c.operand);
      Value *narrow = b_.CreateTrunc(v, b_.getIntNTy(e.type.size * 8));
      return b_.CreateIntCast(narrow, b_.getInt64Ty(), e.type.is_signed);
    }
    case ast::ExprKind::Tuple: {
      auto &t = *e.as<ast::TupleExpr>();
      Value *buf = stack_buffer(e.type.size, "tuple");
      zero(buf, e.type.size);
      for (size_t i = 0; i < t.elements.size(); ++i)
        store_value(offset_ptr(buf, e.type.offsets[i]), e.type.fields[i],
                    gen(*t.elements[i]), t.elements[i]->type);
      return buf;
    }
    case ast::ExprKind::Index: {
      auto &i = *e.as<ast::Index>();
      return gen_kernel_read(i, *i.object, i.read);
    }
    }
    return b_.getInt64(0);
  }

  // A kernel struct member or array element (ast::KernelRead): one
  // bpf_probe_read_kernel from the object's address plus the offset into a
  // stack slot. A failed read (a bad pointer) reads zeroes, as in bpftrace.
  Value *gen_kernel_read(const ast::Expr &e, const ast::Expr &object,
                         const ast::KernelRead &read) {
    Value *address = gen(object);
    if (read.offset)
      address = b_.CreateAdd(address, b_.getInt64(read.offset));
    if (read.size == 0)
      return address; // an embedded struct or array: read by its users
    Value *src = b_.CreateIntToPtr(address, b_.getPtrTy());
    Helper probe_read = read.any_space ? kProbeRead : kProbeReadKernel;
    if (e.type.is_string()) { // a char array, padded to 8 bytes
      Value *buf = stack_buffer(e.type.size, "member");
      call_helper(probe_read, b_.getInt64Ty(),
                  {buf, b_.getInt64(read.size), src});
      zero(offset_ptr(buf, read.size), e.type.size - read.size);
      return buf;
    }
    Value *slot = stack_slot("member");
    call_helper(probe_read, b_.getInt64Ty(),
                {slot, b_.getInt64(read.size), src});
    Value *v = b_.CreateLoad(b_.getIntNTy(read.size * 8), slot);
    if (!read.bit_size)
      return b_.CreateIntCast(v, b_.getInt64Ty(), e.type.is_signed);
    // A bitfield: shift its bits to the top, then back down (sign-extending
    // a signed one).
    v = b_.CreateZExt(v, b_.getInt64Ty());
    uint32_t top = 64 - read.bit_offset - read.bit_size;
    if (top)
      v = b_.CreateShl(v, top);
    uint32_t down = 64 - read.bit_size;
    return e.type.is_signed ? b_.CreateAShr(v, down) : b_.CreateLShr(v, down);
  }

  Value *ctx_load(int64_t offset, uint32_t size) {
    Value *ptr = offset_ptr(ctx_arg_, offset);
    return b_.CreateLoad(b_.getIntNTy(size * 8), ptr);
  }

  Value *gen_builtin(const ast::Builtin &b) {
    if (b.kernel_enum) // an enum constant from BTF
      return b_.getInt64(*b.kernel_enum);
    const std::string &n = b.name;
    if (n == "pid" || n == "tid") {
      Value *v = call_helper(kPidTgid, b_.getInt64Ty(), {});
      return n == "pid" ? opaque(b_.CreateLShr(v, 32))
                        : b_.CreateAnd(v, 0xffffffff);
    }
    if (n == "uid" || n == "gid") {
      Value *v = call_helper(kUidGid, b_.getInt64Ty(), {});
      return n == "gid" ? b_.CreateLShr(v, 32) : b_.CreateAnd(v, 0xffffffff);
    }
    if (n == "nsecs")
      return call_helper(kKtimeGetNs, b_.getInt64Ty(), {});
    if (n == "cpu")
      return call_helper(kSmpProcessorId, b_.getInt64Ty(), {});
    if (n == "rand")
      return call_helper(kPrandom, b_.getInt64Ty(), {});
    if (n == "cgroup")
      return call_helper(kCgroupId, b_.getInt64Ty(), {});
    if (n == "curtask")
      return call_helper(kCurrentTask, b_.getInt64Ty(), {});
    if (n == "comm") {
      Value *buf = stack_buffer(b.type.size, "comm");
      call_helper(kComm, b_.getInt64Ty(), {buf, b_.getInt64(b.type.size)});
      return buf;
    }
    if (n == "probe") {
      if (Value *name = probe_by_cookie(b.type.size))
        return name;
      return string_constant(this_point().desc.display, b.type.size);
    }
    if (n == "elapsed")
      return gen_elapsed();
    if (n == "kstack" || n == "ustack")
      return gen_stack(nullptr, n == "ustack");
    if (n == "func")
      return gen_func(b);
    if (n == "username")
      return b_.CreateAnd(call_helper(kUidGid, b_.getInt64Ty(), {}),
                          0xffffffff);
    if (n == "cpid") // -c CMD's pid, known before compiling
      return b_.getInt64(semantic_.options.child_pid);
    // fentry/fexit contexts are u64 arrays: the arguments, then (fexit) the
    // return value after the last one.
    bool trampoline = point_->desc.kind == ProbeKind::Fentry ||
                      point_->desc.kind == ProbeKind::Fexit;
    if (n == "retval") {
      if (!trampoline)
        return ctx_load(kPtRegsRet, 8);
      int nargs = kernel::btf_function_arg_count(this_point().desc.function);
      return ctx_load(8 * std::max(nargs, 0), 8);
    }
    if (n.size() == 4 && n.rfind("arg", 0) == 0) {
      int index = n[3] - '0';
      if (point_->desc.kind == ProbeKind::RawTracepoint || trampoline)
        return ctx_load(8 * index, 8);
      if (index < 6)
        return ctx_load(kPtRegsArg[index], 8);
      // Arguments past the sixth are on the stack, above the return address.
      Value *sp = ctx_load(kPtRegsSp, 8);
      Value *slot = stack_slot("arg");
      Value *addr = b_.CreateAdd(sp, b_.getInt64(8 * (index - 6 + 1)));
      call_helper(kProbeReadKernel, b_.getInt64Ty(),
                  {slot, b_.getInt64(8), b_.CreateIntToPtr(addr, b_.getPtrTy())});
      return b_.CreateLoad(b_.getInt64Ty(), slot);
    }
    return b_.getInt64(0);
  }

  Value *gen_field(const ast::Field &f) {
    const TracepointField *field = this_point().format->find(f.field);
    if (field->data_loc) {
      // __data_loc: the low 16 bits are the string's offset in the record.
      Value *loc = b_.CreateZExt(ctx_load(field->offset, 4), b_.getInt64Ty());
      Value *offset = b_.CreateAnd(loc, 0xffff);
      Value *buf = stack_buffer(f.type.size, "str");
      Value *src = b_.CreateGEP(b_.getInt8Ty(), ctx_arg_, offset);
      call_helper(kProbeReadKernelStr, b_.getInt64Ty(),
                  {buf, b_.getInt64(f.type.size), src});
      return buf;
    }
    if (field->char_array) {
      Value *buf = stack_buffer(f.type.size, "str");
      zero(buf, f.type.size);
      call_helper(kProbeReadKernelStr, b_.getInt64Ty(),
                  {buf, b_.getInt64(field->size), offset_ptr(ctx_arg_, field->offset)});
      return buf;
    }
    Value *v = ctx_load(field->offset, field->size);
    return b_.CreateIntCast(v, b_.getInt64Ty(), field->type.is_signed);
  }

  Value *gen_call(const ast::Call &c) {
    const std::string &n = c.name;
    if (n == "printf") {
      gen_printf(c);
      return nullptr;
    }
    if (n == "exit") {
      Value *event = stack_buffer(sizeof(EventHeader), "exit");
      emit_event(EventKind::Exit, 0, event, sizeof(EventHeader));
      // exit() also ends the probe, as in bpftrace: what follows never runs.
      b_.CreateRet(b_.getInt64(0));
      b_.SetInsertPoint(BasicBlock::Create(ctx_, "after.exit", function_));
      return nullptr;
    }
    if (n == "print") {
      if (is_whole_map(*c.args[0])) {
        gen_map_event(EventKind::PrintMap, c);
      } else {
        const Type &t = c.args[0]->type;
        Type stored = t.is_integer() ? Type::integer(8, t.is_signed) : t;
        uint32_t total = sizeof(EventHeader) + stored.size;
        Value *event = stack_buffer(total, "print");
        store_value(offset_ptr(event, sizeof(EventHeader)), stored, gen(*c.args[0]), t);
        uint32_t id = out_.print_values.size();
        out_.print_values.push_back(stored);
        emit_event(EventKind::PrintValue, id, event, total);
      }
      return nullptr;
    }
    if (n == "clear" || n == "zero") {
      gen_map_event(n == "clear" ? EventKind::ClearMap : EventKind::ZeroMap, c);
      return nullptr;
    }
    if (n == "delete") {
      const auto &map = *c.args[0]->as<ast::Map>();
      const MapDesc &desc = map_desc(map.name);
      Value *key = build_key(map, desc);
      call_helper(kMapDelete, b_.getInt64Ty(), {map_global(map.name), key});
      return nullptr;
    }
    if (n == "len")
      return gen_len(c);
    if (n == "str")
      return gen_str(c);
    if (n == "ksym")
      return gen(*c.args[0]);
    if (n == "usym")
      return user_address(gen(*c.args[0]));
    if (n == "kaddr") {
      const std::string &name = c.args[0]->as<ast::StringLit>()->value;
      return b_.getInt64(symbolizer::kernel_address(name).value_or(0));
    }
    if (n == "kstack" || n == "ustack")
      return gen_stack(&c, n == "ustack");
    if (n == "buf")
      return gen_buf(c);
    if (n == "bswap") {
      // A uint8 comes back as it is; wider ones become BPF's `be16/32/64`.
      Value *value =
          b_.CreateTrunc(gen(*c.args[0]), b_.getIntNTy(c.type.size * 8));
      if (c.type.size > 1)
        value = b_.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, value);
      return b_.CreateZExt(value, b_.getInt64Ty());
    }
    if (n == "time") {
      uint32_t id = out_.time_formats.size();
      out_.time_formats.push_back(
          c.args.empty() ? "" : c.args[0]->as<ast::StringLit>()->value);
      Value *event = stack_buffer(sizeof(EventHeader), "time");
      emit_event(EventKind::Time, id, event, sizeof(EventHeader));
      return nullptr;
    }
    if (n == "strftime")
      return gen_strftime(c);
    if (n == "ntop")
      return gen_ntop(c);
    if (n == "join") {
      gen_join(c);
      return nullptr;
    }
    if (n == "cat") {
      gen_printf(c, PrintfAction::Cat);
      return nullptr;
    }
    if (n == "symbolic")
      return gen_symbolic(c);
    return b_.getInt64(0);
  }

  // ------------------------------------------------------ language functions

  // len(@m): bpf_for_each_map_elem() with a callback that counts entries.
  Value *gen_len(const ast::Call &c) {
    Value *count = stack_slot("len");
    b_.CreateStore(b_.getInt64(0), count);
    call_helper(kForEachMapElem, b_.getInt64Ty(),
                {map_global(c.args[0]->as<ast::Map>()->name), len_callback(),
                 count, b_.getInt64(0)});
    return b_.CreateLoad(b_.getInt64Ty(), count);
  }

  // static long count_entry(map, key, value, u64 *count): ++*count.
  llvm::Function *len_callback() {
    if (len_callback_)
      return len_callback_;
    llvm::Type *ptr = b_.getPtrTy();
    auto *type =
        llvm::FunctionType::get(b_.getInt64Ty(), {ptr, ptr, ptr, ptr}, false);
    len_callback_ = llvm::Function::Create(
        type, llvm::GlobalValue::InternalLinkage, "hvt_count_entry", *module_);
    len_callback_->addFnAttr(llvm::Attribute::NoUnwind);
    // The verifier needs BTF for a callback, with named parameters.
    auto *di_ptr = di_.createPointerType(nullptr, 64);
    auto *di_type = di_.createSubroutineType(
        di_.getOrCreateTypeArray({di_int_, di_ptr, di_ptr, di_ptr, di_ptr}));
    auto *sub = di_.createFunction(di_file_, "hvt_count_entry",
                                   "hvt_count_entry", di_file_, 1, di_type, 1,
                                   llvm::DINode::FlagPrototyped,
                                   llvm::DISubprogram::SPFlagDefinition |
                                       llvm::DISubprogram::SPFlagLocalToUnit);
    len_callback_->setSubprogram(sub);
    const char *names[] = {"map", "key", "value", "count"};
    for (unsigned i = 0; i < 4; ++i)
      di_.createParameterVariable(sub, names[i], i + 1, di_file_, 1, di_ptr,
                                  true);

    llvm::IRBuilder<> body(BasicBlock::Create(ctx_, "entry", len_callback_));
    body.SetCurrentDebugLocation(llvm::DILocation::get(ctx_, 1, 1, sub));
    Value *count = len_callback_->getArg(3);
    body.CreateStore(body.CreateAdd(body.CreateLoad(b_.getInt64Ty(), count),
                                    body.getInt64(1)),
                     count);
    body.CreateRet(body.getInt64(0));
    return len_callback_;
  }

  // The bytes str() keeps, with the NUL: max_strlen, or n + 1 for str(p, n).
  uint32_t str_bytes(const ast::Call &c) {
    uint64_t bytes = semantic_.options.string_size;
    if (c.args.size() == 2)
      bytes = std::min<uint64_t>(bytes,
                                 c.args[1]->as<ast::IntegerLit>()->value + 1);
    return static_cast<uint32_t>(bytes);
  }

  Value *gen_str(const ast::Call &c) {
    const ast::Expr &arg = *c.args[0];
    uint32_t bytes = str_bytes(c);
    if (auto *p = arg.as<ast::Positional>()) {
      const auto &params = semantic_.options.positional;
      std::string text =
          p->index >= 1 && static_cast<size_t>(p->index) <= params.size()
              ? params[p->index - 1]
              : "";
      return string_constant(text.substr(0, bytes - 1), c.type.size);
    }
    if (arg.type.is_string()) {
      Value *src = gen(arg);
      if (arg.type.size <= bytes)
        return src;
      Value *buf = stack_buffer(c.type.size, "str");
      store_value(buf, c.type, src, arg.type);
      b_.CreateStore(b_.getInt8(0), offset_ptr(buf, bytes - 1));
      return buf;
    }
    Value *addr = gen(arg);
    Value *buf = stack_buffer(c.type.size, "str");
    zero(buf, c.type.size);
    call_helper(
        read_str_helper(), b_.getInt64Ty(),
        {buf, b_.getInt64(bytes), b_.CreateIntToPtr(addr, b_.getPtrTy())});
    return buf;
  }

  // User probes read user memory; elsewhere a pointer may be either kind.
  Helper read_str_helper() const {
    ProbeKind kind = point_->desc.kind;
    return kind == ProbeKind::Uprobe || kind == ProbeKind::Uretprobe
               ? kProbeReadUserStr
               : kProbeReadStr;
  }

  Value *current_pid() {
    return b_.CreateLShr(call_helper(kPidTgid, b_.getInt64Ty(), {}), 32);
  }

  // usym values carry the pid whose address space names them.
  Value *user_address(Value *address) {
    Value *buf = stack_buffer(kUsymSize, "usym");
    b_.CreateStore(address, buf);
    b_.CreateStore(current_pid(), offset_ptr(buf, 8));
    return buf;
  }

  llvm::GlobalVariable *stack_map(uint32_t limit) {
    auto &map = stack_maps_[limit];
    if (!map) {
      StackMapDesc desc{"stack_" + std::to_string(limit), limit};
      map = define_map_global(desc.elf_name, BPF_MAP_TYPE_STACK_TRACE,
                              semantic_.options.map_size, 4, 8 * limit);
      out_.stack_maps.push_back(std::move(desc));
    }
    return map;
  }

  // kstack / ustack (call == nullptr) or kstack(...) / ustack(...): the
  // stack's id in the stack map of its frame limit, then the limit and mode
  // that user space prints it with (types.h).
  Value *gen_stack(const ast::Call *call, bool user) {
    StackSpec spec = stack_spec(call, semantic_.options);
    uint32_t size = user ? kUStackSize : kKStackSize;
    Value *buf = stack_buffer(size, "stack");
    zero(buf, size);
    Value *id = call_helper(kGetStackId, b_.getInt64Ty(),
                            {ctx_arg_, stack_map(spec.limit),
                             b_.getInt64(user ? BPF_F_USER_STACK : 0)});
    b_.CreateStore(id, buf);
    b_.CreateStore(b_.getInt32(spec.limit), offset_ptr(buf, 8));
    b_.CreateStore(b_.getInt8(static_cast<uint8_t>(spec.mode)),
                   offset_ptr(buf, 12));
    if (user)
      b_.CreateStore(current_pid(), offset_ptr(buf, 16));
    return buf;
  }

  // elapsed: nanoseconds since the runtime stored the start time. Should
  // that not have happened, the first reader stores it instead.
  Value *gen_elapsed() {
    if (!elapsed_) {
      out_.elapsed_map = "elapsed_start";
      elapsed_ =
          define_map_global(out_.elapsed_map, BPF_MAP_TYPE_ARRAY, 1, 4, 8);
    }
    Value *now = call_helper(kKtimeGetNs, b_.getInt64Ty(), {});
    Value *key = stack_buffer(4, "elapsed_key");
    b_.CreateStore(b_.getInt32(0), key);
    Value *result = stack_slot("elapsed");
    b_.CreateStore(b_.getInt64(0), result);
    lookup_then(
        elapsed_, key,
        [&](Value *p) {
          Value *start = b_.CreateLoad(b_.getInt64Ty(), p);
          Value *unset = b_.CreateICmpEQ(start, b_.getInt64(0));
          start = b_.CreateSelect(unset, now, start);
          b_.CreateStore(start, p);
          b_.CreateStore(b_.CreateSub(now, start), result);
        },
        [] {});
    return b_.CreateLoad(b_.getInt64Ty(), result);
  }

  // func: the probed function's address (printed as its name).
  Value *gen_func(const ast::Builtin &b) {
    ProbeKind kind = point_->desc.kind;
    // At a kprobe or uprobe the instruction pointer is in the function;
    // return probes and trampolines ask the kernel.
    Value *ip = kind == ProbeKind::Kprobe || kind == ProbeKind::Uprobe
                    ? ctx_load(kPtRegsIp, 8)
                    : call_helper(kGetFuncIp, b_.getInt64Ty(), {ctx_arg_});
    return b.type.kind == TypeKind::Usym ? user_address(ip) : ip;
  }

  // strftime(fmt, ns): the time, then the format (types.h).
  Value *gen_strftime(const ast::Call &c) {
    const std::string &format = c.args[0]->as<ast::StringLit>()->value;
    Value *buf = stack_buffer(c.type.size, "strftime");
    Value *text = string_constant(format, c.type.size - 8);
    store_value(offset_ptr(buf, 8), Type::string(c.type.size - 8), text,
                Type::string(c.type.size - 8));
    b_.CreateStore(gen(*c.args[1]), buf);
    return buf;
  }

  // ntop([af,] addr): {family, 16 address bytes}.
  Value *gen_ntop(const ast::Call &c) {
    Value *buf = stack_buffer(kInetSize, "inet");
    zero(buf, kInetSize);
    const ast::Expr &address = *c.args.back();
    // A kernel array's bytes (its size set by the type checker).
    bool kernel_array = address.ktype.valid() && address.ktype.pointers == 0;
    bool v6 = kernel_array && address.type.size == 16;
    Value *family = c.args.size() == 2 ? gen(*c.args[0])
                                       : b_.getInt64(v6 ? AF_INET6 : AF_INET);
    b_.CreateStore(family, buf);
    if (auto size = byte_array_size(address))
      copy_byte_array(offset_ptr(buf, 8), address, *size);
    else
      b_.CreateStore(gen(address), offset_ptr(buf, 8));
    return buf;
  }

  // The size of a byte array argument of ntop() or buf(), as the type
  // checker marked it (check_byte_array()): a tracepoint array field has no
  // type, a kernel array a Pointer type of its size. nullopt otherwise.
  std::optional<uint32_t> byte_array_size(const ast::Expr &e) {
    if (e.ktype.valid() && e.ktype.pointers == 0)
      return e.type.size;
    auto *field = e.as<ast::Field>();
    if (field && e.type.is_none())
      return this_point().format->find(field->field)->size;
    return std::nullopt;
  }

  // Copies the first `size` bytes of such an array to `dst`: a tracepoint
  // field's out of the record, a kernel array's from its address.
  void copy_byte_array(Value *dst, const ast::Expr &array, uint32_t size) {
    if (array.type.is_none()) {
      const TracepointField *f =
          this_point().format->find(array.as<ast::Field>()->field);
      call_helper(kProbeReadKernel, b_.getInt64Ty(),
                  {dst, b_.getInt64(size), offset_ptr(ctx_arg_, f->offset)});
      return;
    }
    call_helper(
        array.ktype.any_space ? kProbeRead : kProbeReadKernel, b_.getInt64Ty(),
        {dst, b_.getInt64(size), b_.CreateIntToPtr(gen(array), b_.getPtrTy())});
  }

  // buf(addr, length) / buf(array): {length, bytes}, zeroed past the length
  // so that equal buffers are equal map keys.
  Value *gen_buf(const ast::Call &c) {
    uint32_t capacity = c.type.size - kBufferHeader;
    Value *buf = stack_buffer(c.type.size, "buf");
    zero(buf, c.type.size);
    Value *bytes = offset_ptr(buf, kBufferHeader);
    const ast::Expr &data = *c.args[0];
    if (c.args.size() == 1) {
      // A whole array: its size is the length.
      uint32_t size = std::min(capacity, *byte_array_size(data));
      copy_byte_array(bytes, data, size);
      b_.CreateStore(b_.getInt64(size), buf);
      return buf;
    }
    Value *address = b_.CreateIntToPtr(gen(data), b_.getPtrTy());
    Value *length;
    if (auto *literal = c.args[1]->as<ast::IntegerLit>()) {
      length = b_.getInt64(std::min<uint64_t>(literal->value, capacity));
    } else {
      Value *wanted = gen(*c.args[1]);
      // The verifier needs the size bounded: at most the capacity.
      length = b_.CreateSelect(b_.CreateICmpUGT(wanted, b_.getInt64(capacity)),
                               b_.getInt64(capacity), wanted);
    }
    ProbeKind kind = point_->desc.kind;
    bool user = kind == ProbeKind::Uprobe || kind == ProbeKind::Uretprobe;
    call_helper(user ? kProbeReadUser : kProbeRead, b_.getInt64Ty(),
                {bytes, length, address});
    b_.CreateStore(length, buf);
    return buf;
  }

  // join(argv [, delim]): one record holding up to kJoinMaxArgs strings,
  // printed by the printf format for the number of strings read (the
  // record's id is the first format's plus that number).
  void gen_join(const ast::Call &c) {
    constexpr uint32_t kMaxArgs = 16;
    std::string delim =
        c.args.size() == 2 ? c.args[1]->as<ast::StringLit>()->value : " ";
    std::string escaped;
    for (char ch : delim)
      escaped += ch == '%' ? std::string("%%") : std::string(1, ch);
    Type slot = Type::string(semantic_.options.string_size);
    Type args = Type::tuple(std::vector<Type>(kMaxArgs, slot));
    auto first_id = static_cast<uint32_t>(out_.printfs.size());
    for (uint32_t count = 0; count <= kMaxArgs; ++count) {
      PrintfDesc desc;
      for (uint32_t i = 0; i < count; ++i)
        desc.format += (i ? escaped : "") + "%s";
      desc.format += "\n";
      desc.args = args;
      desc.range = c.range;
      out_.printfs.push_back(std::move(desc));
    }
    Value *argv = gen(*c.args[0]);
    uint32_t total = sizeof(EventHeader) + args.size;
    // Too big for the BPF stack: written straight into the ring buffer.
    reserved_record(total, "join", [&](Value *record) -> Value * {
      Value *count = stack_slot("join.count");
      b_.CreateStore(b_.getInt64(0), count);
      Value *element = stack_slot("join.ptr");
      auto *submit = BasicBlock::Create(ctx_, "join.submit", function_);
      for (uint32_t i = 0; i < kMaxArgs; ++i) {
        Value *at = b_.CreateAdd(argv, b_.getInt64(8 * i));
        Value *rc = call_helper(
            kProbeRead, b_.getInt64Ty(),
            {element, b_.getInt64(8), b_.CreateIntToPtr(at, b_.getPtrTy())});
        Value *ptr = b_.CreateLoad(b_.getInt64Ty(), element);
        auto *read = BasicBlock::Create(ctx_, "join.arg", function_);
        b_.CreateCondBr(b_.CreateOr(b_.CreateICmpNE(rc, b_.getInt64(0)),
                                    b_.CreateICmpEQ(ptr, b_.getInt64(0))),
                        submit, read);
        b_.SetInsertPoint(read);
        call_helper(kProbeReadStr, b_.getInt64Ty(),
                    {offset_ptr(record, sizeof(EventHeader) + args.offsets[i]),
                     b_.getInt64(semantic_.options.string_size),
                     b_.CreateIntToPtr(ptr, b_.getPtrTy())});
        b_.CreateStore(b_.getInt64(i + 1), count);
      }
      b_.CreateBr(submit);
      b_.SetInsertPoint(submit);
      // One format per number of arguments read.
      return b_.CreateAdd(b_.getInt32(first_id),
                          b_.CreateTrunc(b_.CreateLoad(b_.getInt64Ty(), count),
                                         b_.getInt32Ty()));
    });
  }

  // symbolic(args.FIELD): computes, from the record, which of the print
  // format's tables applies and the number it names, as one word (the
  // table id in the top byte, see runtime/symbols.h).
  Value *gen_symbolic(const ast::Call &c) {
    const std::string &field = c.args[0]->as<ast::Field>()->field;
    const printfmt::SymbolicSpec *spec =
        semantic_.symbolic->find(this_point().desc.target, field);
    out_.symbol_tables = semantic_.symbolic->tables();
    if (c.type.symbol_table)
      return gen_record_expr(*spec->stored_field); // user space names it
    return gen_symbolic_node(*spec->root);
  }

  Value *gen_symbolic_node(const printfmt::SymbolicNode &node) {
    if (node.condition)
      return b_.CreateSelect(to_bool(gen_record_expr(*node.condition)),
                             gen_symbolic_node(*node.then_node),
                             gen_symbolic_node(*node.else_node));
    Value *number =
        b_.CreateAnd(gen_record_expr(*node.value), kSymbolValueMask);
    return b_.CreateOr(number, uint64_t{node.table_id} << kSymbolTableShift);
  }

  // A print-format expression over the record; mirrors printfmt::evaluate().
  // Nothing in it has side effects, so both sides of && || ?: are computed.
  Value *gen_record_expr(const printfmt::Expr &e) {
    using printfmt::Op;
    llvm::Type *i64 = b_.getInt64Ty();
    auto normalize = [&](Value *v, printfmt::CType t) -> Value * {
      if (t.bits >= 64)
        return v;
      if (t.bits == 1)
        return b_.CreateZExt(to_bool(v), i64);
      Value *narrow = b_.CreateTrunc(v, b_.getIntNTy(t.bits));
      return t.is_signed ? b_.CreateSExt(narrow, i64)
                         : b_.CreateZExt(narrow, i64);
    };
    auto flag = [&](Value *bit) { return b_.CreateZExt(bit, i64); };
    auto operand = [&](size_t i) { return gen_record_expr(*e.operands[i]); };
    switch (e.op) {
    case Op::Const:
      return b_.getInt64(e.constant);
    case Op::Field: {
      Value *raw = b_.CreateLoad(b_.getIntNTy(e.size * 8),
                                 offset_ptr(ctx_arg_, e.offset));
      return normalize(b_.CreateIntCast(raw, i64, e.field_signed), e.type);
    }
    case Op::Convert:
      return normalize(operand(0), e.type);
    case Op::Neg:
      return normalize(b_.CreateNeg(operand(0)), e.type);
    case Op::BitNot:
      return normalize(b_.CreateNot(operand(0)), e.type);
    case Op::LogicalNot:
      return flag(b_.CreateICmpEQ(operand(0), b_.getInt64(0)));
    case Op::LogicalAnd:
      return flag(b_.CreateAnd(to_bool(operand(0)), to_bool(operand(1))));
    case Op::LogicalOr:
      return flag(b_.CreateOr(to_bool(operand(0)), to_bool(operand(1))));
    case Op::Select:
      return b_.CreateSelect(to_bool(operand(0)), operand(1), operand(2));
    default:
      break;
    }
    Value *a = operand(0), *b = operand(1);
    bool is_signed = e.operands[0]->type.is_signed;
    switch (e.op) {
    case Op::Add:
      return normalize(b_.CreateAdd(a, b), e.type);
    case Op::Sub:
      return normalize(b_.CreateSub(a, b), e.type);
    case Op::Mul:
      return normalize(b_.CreateMul(a, b), e.type);
    case Op::Div:
    case Op::Mod: {
      // BPF (v3) divides unsigned only: divide magnitudes, then give the
      // quotient and remainder C's signs. Division by zero gives 0.
      Value *zero = b_.CreateICmpEQ(b, b_.getInt64(0));
      Value *safe = b_.CreateSelect(zero, b_.getInt64(1), b);
      Value *a_neg =
          is_signed ? b_.CreateICmpSLT(a, b_.getInt64(0)) : b_.getFalse();
      Value *b_neg =
          is_signed ? b_.CreateICmpSLT(safe, b_.getInt64(0)) : b_.getFalse();
      Value *a_mag = b_.CreateSelect(a_neg, b_.CreateNeg(a), a);
      Value *b_mag = b_.CreateSelect(b_neg, b_.CreateNeg(safe), safe);
      Value *result;
      if (e.op == Op::Div) {
        Value *q = b_.CreateUDiv(a_mag, b_mag);
        result =
            b_.CreateSelect(b_.CreateXor(a_neg, b_neg), b_.CreateNeg(q), q);
      } else {
        Value *r = b_.CreateURem(a_mag, b_mag);
        result = b_.CreateSelect(a_neg, b_.CreateNeg(r), r);
      }
      return normalize(b_.CreateSelect(zero, b_.getInt64(0), result), e.type);
    }
    case Op::Shl:
      return normalize(b_.CreateShl(a, b_.CreateAnd(b, 63)), e.type);
    case Op::Shr:
      return normalize(is_signed ? b_.CreateAShr(a, b_.CreateAnd(b, 63))
                                 : b_.CreateLShr(a, b_.CreateAnd(b, 63)),
                       e.type);
    case Op::BitAnd:
      return b_.CreateAnd(a, b);
    case Op::BitOr:
      return b_.CreateOr(a, b);
    case Op::BitXor:
      return b_.CreateXor(a, b);
    case Op::Eq:
      return flag(b_.CreateICmpEQ(a, b));
    case Op::Ne:
      return flag(b_.CreateICmpNE(a, b));
    case Op::Lt:
      return flag(is_signed ? b_.CreateICmpSLT(a, b) : b_.CreateICmpULT(a, b));
    case Op::Le:
      return flag(is_signed ? b_.CreateICmpSLE(a, b) : b_.CreateICmpULE(a, b));
    case Op::Gt:
      return flag(is_signed ? b_.CreateICmpSGT(a, b) : b_.CreateICmpUGT(a, b));
    case Op::Ge:
      return flag(is_signed ? b_.CreateICmpSGE(a, b) : b_.CreateICmpUGE(a, b));
    default:
      return b_.getInt64(0);
    }
  }

  // The BPF ISA before v4 has no signed division: divide the magnitudes and
  // fix the sign, with C's semantics (the quotient truncates toward zero,
  // the remainder takes the dividend's sign). `r` must not be zero.
  Value *signed_div_rem(Value *l, Value *r, bool div) {
    Value *l_neg = b_.CreateICmpSLT(l, b_.getInt64(0));
    Value *r_neg = b_.CreateICmpSLT(r, b_.getInt64(0));
    Value *l_abs = b_.CreateSelect(l_neg, b_.CreateNeg(l), l);
    Value *r_abs = b_.CreateSelect(r_neg, b_.CreateNeg(r), r);
    if (div) {
      Value *q = b_.CreateUDiv(l_abs, r_abs);
      return b_.CreateSelect(b_.CreateXor(l_neg, r_neg), b_.CreateNeg(q), q);
    }
    Value *m = b_.CreateURem(l_abs, r_abs);
    return b_.CreateSelect(l_neg, b_.CreateNeg(m), m);
  }

  Value *binary_int(ast::BinaryOp op, Value *l, Value *r, bool is_signed) {
    using Op = ast::BinaryOp;
    switch (op) {
    case Op::Add: return b_.CreateAdd(l, r);
    case Op::Sub: return b_.CreateSub(l, r);
    case Op::Mul: return b_.CreateMul(l, r);
    case Op::Div:
    case Op::Mod: {
      // Division by zero yields 0 (BPF semantics), never a trap.
      Value *safe = b_.CreateSelect(b_.CreateICmpEQ(r, b_.getInt64(0)), b_.getInt64(1), r);
      Value *q = is_signed       ? signed_div_rem(l, safe, op == Op::Div)
                 : op == Op::Div ? b_.CreateUDiv(l, safe)
                                 : b_.CreateURem(l, safe);
      return b_.CreateSelect(b_.CreateICmpEQ(r, b_.getInt64(0)), b_.getInt64(0), q);
    }
    case Op::BitAnd: return b_.CreateAnd(l, r);
    case Op::BitOr: return b_.CreateOr(l, r);
    case Op::BitXor: return b_.CreateXor(l, r);
    case Op::Shl: return b_.CreateShl(l, b_.CreateAnd(r, 63));
    case Op::Shr:
      return is_signed ? b_.CreateAShr(l, b_.CreateAnd(r, 63))
                       : b_.CreateLShr(l, b_.CreateAnd(r, 63));
    case Op::Eq: return b_.CreateZExt(b_.CreateICmpEQ(l, r), b_.getInt64Ty());
    case Op::Ne: return b_.CreateZExt(b_.CreateICmpNE(l, r), b_.getInt64Ty());
    case Op::Lt:
      return b_.CreateZExt(is_signed ? b_.CreateICmpSLT(l, r) : b_.CreateICmpULT(l, r), b_.getInt64Ty());
    case Op::Le:
      return b_.CreateZExt(is_signed ? b_.CreateICmpSLE(l, r) : b_.CreateICmpULE(l, r), b_.getInt64Ty());
    case Op::Gt:
      return b_.CreateZExt(is_signed ? b_.CreateICmpSGT(l, r) : b_.CreateICmpUGT(l, r), b_.getInt64Ty());
    case Op::Ge:
      return b_.CreateZExt(is_signed ? b_.CreateICmpSGE(l, r) : b_.CreateICmpUGE(l, r), b_.getInt64Ty());
    case Op::LogicalAnd:
    case Op::LogicalOr:
      break; // short-circuit: handled by gen_binary
    }
    return b_.getInt64(0);
  }

  // Compares two NUL-terminated strings byte by byte, up to the shorter
  // buffer; returns i1 "equal".
  Value *strings_equal(Value *a, const Type &ta, Value *b, const Type &tb) {
    uint32_t n = std::min(ta.size, tb.size);
    auto *done = BasicBlock::Create(ctx_, "streq.done", function_);
    Value *result = stack_slot("streq");
    b_.CreateStore(b_.getInt64(0), result);
    for (uint32_t i = 0; i < n; ++i) {
      Value *ca = b_.CreateLoad(b_.getInt8Ty(), offset_ptr(a, i));
      Value *cb = b_.CreateLoad(b_.getInt8Ty(), offset_ptr(b, i));
      auto *same = BasicBlock::Create(ctx_, "streq.same", function_);
      b_.CreateCondBr(b_.CreateICmpEQ(ca, cb), same, done);
      b_.SetInsertPoint(same);
      auto *next = BasicBlock::Create(ctx_, "streq.next", function_);
      auto *end = BasicBlock::Create(ctx_, "streq.end", function_);
      b_.CreateCondBr(b_.CreateICmpEQ(ca, b_.getInt8(0)), end, next);
      b_.SetInsertPoint(end);
      b_.CreateStore(b_.getInt64(1), result);
      b_.CreateBr(done);
      b_.SetInsertPoint(next);
    }
    // All n bytes equal with no NUL: equal only if both end here.
    Value *a_end = ta.size > n ? b_.CreateICmpEQ(b_.CreateLoad(b_.getInt8Ty(), offset_ptr(a, n)), b_.getInt8(0)) : b_.getTrue();
    Value *b_end = tb.size > n ? b_.CreateICmpEQ(b_.CreateLoad(b_.getInt8Ty(), offset_ptr(b, n)), b_.getInt8(0)) : b_.getTrue();
    b_.CreateStore(b_.CreateZExt(b_.CreateAnd(a_end, b_end), b_.getInt64Ty()), result);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    return b_.CreateICmpNE(b_.CreateLoad(b_.getInt64Ty(), result), b_.getInt64(0));
  }

  Value *gen_binary(const ast::Binary &bin) {
    using Op = ast::BinaryOp;
    if (bin.op == Op::LogicalAnd || bin.op == Op::LogicalOr) {
      Value *result = stack_slot("logic");
      bool is_and = bin.op == Op::LogicalAnd;
      b_.CreateStore(b_.getInt64(is_and ? 0 : 1), result);
      auto *rhs_bb = BasicBlock::Create(ctx_, "logic.rhs", function_);
      auto *done = BasicBlock::Create(ctx_, "logic.done", function_);
      Value *l = to_bool(gen(*bin.lhs));
      b_.CreateCondBr(l, is_and ? rhs_bb : done, is_and ? done : rhs_bb);
      b_.SetInsertPoint(rhs_bb);
      MapReadCache::Branch rhs_reads(read_cache_); // --- performance
      Value *r = to_bool(gen(*bin.rhs));
      b_.CreateStore(b_.CreateZExt(r, b_.getInt64Ty()), result);
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
      rhs_reads.restart();
      return b_.CreateLoad(b_.getInt64Ty(), result);
    }
    Value *l = gen(*bin.lhs);
    Value *r = gen(*bin.rhs);
    if (bin.lhs->type.is_string()) {
      Value *eq = strings_equal(l, bin.lhs->type, r, bin.rhs->type);
      if (bin.op == Op::Ne)
        eq = b_.CreateNot(eq);
      return b_.CreateZExt(eq, b_.getInt64Ty());
    }
    return binary_int(bin.op, l, r, bin.lhs->type.is_signed && bin.rhs->type.is_signed);
  }

  Value *gen_unary(const ast::Unary &u) {
    using Op = ast::UnaryOp;
    switch (u.op) {
    case Op::Neg:
      return b_.CreateNeg(gen(*u.operand));
    case Op::LogicalNot:
      return b_.CreateZExt(b_.CreateICmpEQ(gen(*u.operand), b_.getInt64(0)), b_.getInt64Ty());
    case Op::BitNot:
      return b_.CreateNot(gen(*u.operand));
    case Op::Deref:
      return b_.getInt64(0);
    case Op::PreIncrement:
    case Op::PreDecrement:
    case Op::PostIncrement:
    case Op::PostDecrement:
      break;
    }
    if (auto *map = u.operand->as<ast::Map>())
      return gen_map_step(u, *map);
    auto &var = *u.operand->as<ast::Variable>();
    Value *slot = variable_slot(var, var.type);
    Value *old = b_.CreateLoad(b_.getInt64Ty(), slot);
    bool inc = u.op == Op::PreIncrement || u.op == Op::PostIncrement;
    Value *updated = inc ? b_.CreateAdd(old, b_.getInt64(1)) : b_.CreateSub(old, b_.getInt64(1));
    b_.CreateStore(updated, slot);
    return u.op == Op::PostIncrement || u.op == Op::PostDecrement ? old : updated;
  }

  Value *gen_ternary(const ast::Ternary &t) {
    Value *cond = to_bool(gen(*t.cond));
    auto *then_bb = BasicBlock::Create(ctx_, "tern.then", function_);
    auto *else_bb = BasicBlock::Create(ctx_, "tern.else", function_);
    auto *done = BasicBlock::Create(ctx_, "tern.done", function_);
    Value *result = is_scalar(t.type) ? stack_slot("tern")
                                      : stack_buffer(t.type.size, "tern");
    b_.CreateCondBr(cond, then_bb, else_bb);
    b_.SetInsertPoint(then_bb);
    MapReadCache::Branch arm_reads(read_cache_); // --- performance
    store_value(result, t.type, gen(*t.then_expr), t.then_expr->type);
    b_.CreateBr(done);
    b_.SetInsertPoint(else_bb);
    arm_reads.restart();
    store_value(result, t.type, gen(*t.else_expr), t.else_expr->type);
    arm_reads.restart();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    return is_scalar(t.type) ? b_.CreateLoad(b_.getInt64Ty(), result) : result;
  }

  llvm::LLVMContext &ctx_;
  std::unique_ptr<llvm::Module> module_;
  llvm::IRBuilder<> b_;
  llvm::DIBuilder di_;
  const ast::Program &program_;
  const SemanticResult &semantic_;
  const SourceFile &source_;
  CompiledProgram &out_;

  llvm::DIFile *di_file_ = nullptr;
  llvm::DIBasicType *di_int_ = nullptr;
  llvm::DISubprogram *subprogram_ = nullptr;
  llvm::GlobalVariable *ringbuf_ = nullptr;
  llvm::GlobalVariable *lost_events_ = nullptr;
  llvm::GlobalVariable *elapsed_ = nullptr;               // made on first use
  std::map<uint32_t, llvm::GlobalVariable *> stack_maps_; // by frame limit
  llvm::Function *len_callback_ = nullptr;
  std::map<std::string, llvm::GlobalVariable *> map_globals_;
  std::map<std::string, size_t> map_indices_;

  // Per program.
  llvm::Function *function_ = nullptr;
  BasicBlock *entry_ = nullptr;
  Value *ctx_arg_ = nullptr;
  // Its kind is every point's of the program; anything else of it is read
  // through this_point().
  const ResolvedAttachPoint *point_ = nullptr;
  const ProbeInfo *probe_info_ = nullptr; // of the program being generated
  size_t probe_number_ = 0;
  // --- performance: the probe whose programs read `probe` from their attach
  // cookie (probe_by_cookie()), and whether the kernel has attach cookies
  // (asked once).
  std::set<size_t> probes_named_by_cookie_;
  std::map<std::pair<size_t, uint32_t>, llvm::GlobalVariable *>
      probe_name_tables_;
  std::optional<bool> attach_cookies_;
  bool point_specific_ = false; // this_point() was asked
  std::map<std::string, Value *> variables_;
  std::vector<std::pair<BasicBlock *, BasicBlock *>> loops_; // continue, break
  std::vector<llvm::AllocaInst *> statement_buffers_; // alive (stack_buffer)
  bool in_statements_ = false; // the body, not the predicate
  MapReadCache read_cache_; // --- performance: see map_read_cache.h
  uint32_t passthrough_seq_ = 0; // opaque()
  // Buffers of shared tuple/string reads, by MapReadCache::fingerprint().
  std::map<std::string, llvm::AllocaInst *> shared_read_buffers_;
};

} // namespace

std::unique_ptr<llvm::Module>
generate_ir(llvm::LLVMContext &context, const ast::Program &program,
            const SemanticResult &semantic, const SourceFile &source,
            CompiledProgram &compiled) {
  return CodeGenerator(context, program, semantic, source, compiled).run();
}

} // namespace hvt
