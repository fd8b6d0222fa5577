#include "objstore/fault_injection_object_store.h"

#include <fmt/format.h>

#include <array>
#include <cassert>

namespace rwmeta::objstore {

namespace {
constexpr size_t kNumOps = static_cast<size_t>(ObjectStoreOp::kDeleteMany) + 1;
}  // namespace

std::string_view ObjectStoreOpName(ObjectStoreOp op) {
  switch (op) {
    case ObjectStoreOp::kPut:
      return "put";
    case ObjectStoreOp::kOpenWriter:
      return "open_writer";
    case ObjectStoreOp::kWriterAppend:
      return "writer_append";
    case ObjectStoreOp::kWriterFinish:
      return "writer_finish";
    case ObjectStoreOp::kGet:
      return "get";
    case ObjectStoreOp::kGetRange:
      return "get_range";
    case ObjectStoreOp::kOpenReader:
      return "open_reader";
    case ObjectStoreOp::kReaderRead:
      return "reader_read";
    case ObjectStoreOp::kHead:
      return "head";
    case ObjectStoreOp::kList:
      return "list";
    case ObjectStoreOp::kDelete:
      return "delete";
    case ObjectStoreOp::kDeleteMany:
      return "delete_many";
  }
  return "unknown";
}

// Decides, for each call, whether a fault fires.
class FaultInjectionObjectStore::Injector {
 public:
  struct Decision {
    Status status;  // OK: no fault, or a corrupting one.
    bool after_effect = false;
    bool corrupt = false;  // let the call through with one bit of its data flipped
  };

  void Inject(const Fault& fault) {
    std::lock_guard<std::mutex> lock(mu_);
    // `nth` counts from now: remember how many calls had happened.
    faults_.push_back(Active{fault, counts_[Index(fault.op)]});
  }

  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.clear();
  }

  int64_t Count(ObjectStoreOp op) const {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[Index(op)];
  }

  int64_t Fired() const {
    std::lock_guard<std::mutex> lock(mu_);
    return fired_;
  }

  // Counts one call of `op` and says whether it fails.
  Decision OnCall(ObjectStoreOp op) {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t count = ++counts_[Index(op)];
    for (const auto& a : faults_) {
      if (a.fault.op != op) continue;
      int64_t nth_since = count - a.base_count;
      if (nth_since == a.fault.nth || (a.fault.sticky && nth_since > a.fault.nth)) {
        ++fired_;
        if (a.fault.corrupt) return Decision{Status::Ok(), false, true};
        bool mutating = op == ObjectStoreOp::kPut || op == ObjectStoreOp::kWriterFinish ||
                        op == ObjectStoreOp::kDelete || op == ObjectStoreOp::kDeleteMany;
        return Decision{a.fault.status, a.fault.after_effect && mutating};
      }
    }
    return Decision{};
  }

 private:
  struct Active {
    Fault fault;
    int64_t base_count;
  };
  static size_t Index(ObjectStoreOp op) { return static_cast<size_t>(op); }

  mutable std::mutex mu_;
  std::array<int64_t, kNumOps> counts_{};
  std::vector<Active> faults_;
  int64_t fired_ = 0;
};

namespace {

using Injector = FaultInjectionObjectStore::Injector;

// `data` with the lowest bit of its middle byte flipped (empty data stays empty).
std::string Flipped(std::string_view data) {
  std::string out(data);
  if (!out.empty()) out[out.size() / 2] = static_cast<char>(out[out.size() / 2] ^ 1);
  return out;
}

// A read's result, corrupted if the decision says so.
Result<std::string> MaybeFlipped(const Injector::Decision& d, Result<std::string> read) {
  if (!d.corrupt || !read.ok()) return read;
  return Flipped(*read);
}

class FaultInjectionWriter : public ObjectWriter {
 public:
  FaultInjectionWriter(std::unique_ptr<ObjectWriter> base, std::shared_ptr<Injector> injector)
      : base_(std::move(base)), injector_(std::move(injector)) {}

  Status Append(std::string_view data) override {
    Injector::Decision d = injector_->OnCall(ObjectStoreOp::kWriterAppend);
    if (!d.status.ok()) return d.status;
    return d.corrupt ? base_->Append(Flipped(data)) : base_->Append(data);
  }

  Status Finish() override {
    Injector::Decision d = injector_->OnCall(ObjectStoreOp::kWriterFinish);
    if (d.status.ok()) return base_->Finish();
    if (d.after_effect) {
      // The object is published; only the caller is told otherwise. The base result is dropped on
      // purpose: the injected status is what this fault simulates.
      base_->Finish().IgnoreError();
    } else {
      base_->Abort()
          .IgnoreError();  // Simulates a crash before publishing: nothing becomes visible.
    }
    return d.status;
  }

  Status Abort() override { return base_->Abort(); }
  uint64_t size_bytes() const override { return base_->size_bytes(); }

 private:
  std::unique_ptr<ObjectWriter> base_;
  std::shared_ptr<Injector> injector_;
};

class FaultInjectionReader : public ObjectReader {
 public:
  FaultInjectionReader(std::unique_ptr<ObjectReader> base, std::shared_ptr<Injector> injector)
      : base_(std::move(base)), injector_(std::move(injector)) {}

  Status Read(size_t max_bytes, std::string* out) override {
    Injector::Decision d = injector_->OnCall(ObjectStoreOp::kReaderRead);
    if (!d.status.ok()) {
      out->clear();
      return d.status;
    }
    RWMETA_RETURN_IF_ERROR(base_->Read(max_bytes, out));
    if (d.corrupt) *out = Flipped(*out);
    return Status::Ok();
  }
  uint64_t size_bytes() const override { return base_->size_bytes(); }

 private:
  std::unique_ptr<ObjectReader> base_;
  std::shared_ptr<Injector> injector_;
};

}  // namespace

FaultInjectionObjectStore::FaultInjectionObjectStore(std::unique_ptr<ObjectStore> base)
    : base_(std::move(base)), injector_(std::make_shared<Injector>()) {}

FaultInjectionObjectStore::~FaultInjectionObjectStore() = default;

void FaultInjectionObjectStore::InjectFault(const Fault& fault) {
  assert((fault.corrupt || !fault.status.ok()) && "a fault must carry an error status");
  injector_->Inject(fault);
}

void FaultInjectionObjectStore::ClearFaults() { injector_->Clear(); }

int64_t FaultInjectionObjectStore::CallCount(ObjectStoreOp op) const {
  return injector_->Count(op);
}

int64_t FaultInjectionObjectStore::FiredCount() const { return injector_->Fired(); }

Status FaultInjectionObjectStore::Put(std::string_view key, std::string_view data,
                                      const PutOptions& options) {
  Injector::Decision d = injector_->OnCall(ObjectStoreOp::kPut);
  if (d.corrupt) return base_->Put(key, Flipped(data), options);
  if (d.status.ok()) return base_->Put(key, data, options);
  if (d.after_effect) base_->Put(key, data, options).IgnoreError();  // Lost response: see Fault.
  return d.status;
}

Result<std::unique_ptr<ObjectWriter>> FaultInjectionObjectStore::OpenWriter(
    std::string_view key, const PutOptions& options) {
  Injector::Decision d = injector_->OnCall(ObjectStoreOp::kOpenWriter);
  if (!d.status.ok()) return d.status;
  RWMETA_ASSIGN_OR_RETURN(auto writer, base_->OpenWriter(key, options));
  return std::unique_ptr<ObjectWriter>(new FaultInjectionWriter(std::move(writer), injector_));
}

Result<std::string> FaultInjectionObjectStore::Get(std::string_view key) {
  Injector::Decision d = injector_->OnCall(ObjectStoreOp::kGet);
  if (!d.status.ok()) return d.status;
  return MaybeFlipped(d, base_->Get(key));
}

Result<std::string> FaultInjectionObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                        uint64_t length) {
  Injector::Decision d = injector_->OnCall(ObjectStoreOp::kGetRange);
  if (!d.status.ok()) return d.status;
  return MaybeFlipped(d, base_->GetRange(key, offset, length));
}

Result<std::unique_ptr<ObjectReader>> FaultInjectionObjectStore::OpenReader(std::string_view key) {
  Injector::Decision d = injector_->OnCall(ObjectStoreOp::kOpenReader);
  if (!d.status.ok()) return d.status;
  RWMETA_ASSIGN_OR_RETURN(auto reader, base_->OpenReader(key));
  return std::unique_ptr<ObjectReader>(new FaultInjectionReader(std::move(reader), injector_));
}

Result<ObjectMeta> FaultInjectionObjectStore::Head(std::string_view key) {
  Injector::Decision d = injector_->OnCall(ObjectStoreOp::kHead);
  if (!d.status.ok()) return d.status;
  return base_->Head(key);
}

Result<std::vector<ObjectMeta>> FaultInjectionObjectStore::List(std::string_view prefix) {
  Injector::Decision d = injector_->OnCall(ObjectStoreOp::kList);
  if (!d.status.ok()) return d.status;
  return base_->List(prefix);
}

Status FaultInjectionObjectStore::Delete(std::string_view key) {
  Injector::Decision d = injector_->OnCall(ObjectStoreOp::kDelete);
  if (d.status.ok()) return base_->Delete(key);
  if (d.after_effect) base_->Delete(key).IgnoreError();  // Lost response: see Fault.
  return d.status;
}

Status FaultInjectionObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  Injector::Decision d = injector_->OnCall(ObjectStoreOp::kDeleteMany);
  if (d.status.ok()) return base_->DeleteMany(keys);
  if (d.after_effect) base_->DeleteMany(keys).IgnoreError();  // Lost response: see Fault.
  return d.status;
}

}  // namespace rwmeta::objstore
