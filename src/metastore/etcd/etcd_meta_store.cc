#include "metastore/etcd/etcd_meta_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>

#include "common/clock.h"
#include "common/url.h"
#include "metastore/etcd/etcd_client.h"
#include "metastore/etcd/etcd_codec.h"
#include "metastore/row_errors.h"

namespace rwmeta::metastore {

using etcdserverpb::Compare;
using etcdserverpb::RangeRequest;
using etcdserverpb::RangeResponse;
using etcdserverpb::TxnRequest;
using etcdserverpb::TxnResponse;

struct EtcdMetaStore::Shared {
  const Model* model;
  EtcdMetaStoreOptions options;
  std::unique_ptr<EtcdClient> client;
  std::string display_url;

  const std::string& prefix() const { return options.prefix; }
  std::string Where() const { return "etcd meta store " + display_url; }
};

namespace {

using Shared = EtcdMetaStore::Shared;

constexpr int64_t kDefaultPort = 2379;

// --- URL -----------------------------------------------------------------------------------

Result<int64_t> PositiveParam(std::string_view url, const std::string& name,
                              const std::string& value) {
  int64_t v = 0;
  if (value.empty() || value.size() > 12) v = -1;
  for (char c : value) {
    if (c < '0' || c > '9') {
      v = -1;
      break;
    }
    v = v * 10 + (c - '0');
  }
  if (v <= 0) {
    return InvalidArgumentError(
        fmt::format("meta store url {}: {} must be a positive integer", RedactUrl(url), name));
  }
  return v;
}

Result<std::string> ParseEndpoint(std::string_view url, std::string_view host_port) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(
        fmt::format("meta store url {}: endpoint '{}': {}", RedactUrl(url), host_port, why));
  };
  if (host_port.empty()) return bad("empty (expected host:port)");
  std::string_view host = host_port;
  std::string_view port;
  if (host_port.front() == '[') {
    size_t close = host_port.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    host = host_port.substr(0, close + 1);
    std::string_view rest = host_port.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':' after ']'");
      port = rest.substr(1);
    }
  } else if (size_t colon = host_port.rfind(':'); colon != std::string_view::npos) {
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
  }
  if (host.empty() || host == "[]") return bad("no host");
  int64_t port_number = kDefaultPort;
  if (!port.empty() || host_port.back() == ':') {
    port_number = 0;
    if (port.empty() || port.size() > 5) return bad("bad port");
    for (char c : port) {
      if (c < '0' || c > '9') return bad("bad port");
      port_number = port_number * 10 + (c - '0');
    }
    if (port_number < 1 || port_number > 65535) return bad("port out of range");
  }
  return fmt::format("{}:{}", host, port_number);
}

// --- small helpers -----------------------------------------------------------------------

std::string ColumnList(const std::vector<std::string>& columns) {
  return fmt::format("({})", fmt::join(columns, ", "));
}

Compare ModCompare(const std::string& key, Compare::CompareResult result, int64_t revision) {
  Compare c;
  c.set_key(key);
  c.set_target(Compare::MOD);
  c.set_result(result);
  c.set_mod_revision(revision);
  return c;
}

Compare CreateCompare(const std::string& key, int64_t revision) {
  Compare c;
  c.set_key(key);
  c.set_target(Compare::CREATE);
  c.set_result(Compare::EQUAL);
  c.set_create_revision(revision);
  return c;
}

void AddPut(TxnRequest& txn, const std::string& key, const std::string& value) {
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
}

void AddDelete(TxnRequest& txn, const std::string& key, const std::string& range_end = "") {
  auto* del = txn.add_success()->mutable_request_delete_range();
  del->set_key(key);
  if (!range_end.empty()) del->set_range_end(range_end);
}

RangeRequest PrefixRange(const std::string& prefix, bool count_only) {
  RangeRequest r;
  r.set_key(prefix);
  r.set_range_end(etcd::PrefixEnd(prefix));
  r.set_count_only(count_only);
  return r;
}

// The P/meta/ keys at one revision.
struct MetaState {
  int64_t revision = 0;
  int version = 0;
  // mod_revision of the version key; 0 when absent.
  int64_t version_mod = 0;
  // create_revision of the marker; 0 when absent.
  int64_t marker_create = 0;
};

Result<MetaState> ParseMeta(const Shared& s, const RangeResponse& r) {
  MetaState m;
  m.revision = r.header().revision();
  for (const auto& kv : r.kvs()) {
    if (kv.key() == etcd::VersionKey(s.prefix())) {
      int v = 0;
      const std::string& text = kv.value();
      bool ok = !text.empty() && text.size() <= 9;
      for (char c : text) {
        ok = ok && c >= '0' && c <= '9';
        v = v * 10 + (c - '0');
      }
      if (!ok) {
        return DataLossError(fmt::format("{}: key {} holds '{}', not a schema version", s.Where(),
                                         kv.key(), etcd::PrintableKey(text)));
      }
      m.version = v;
      m.version_mod = kv.mod_revision();
    } else if (kv.key() == etcd::MarkerKey(s.prefix())) {
      m.marker_create = kv.create_revision();
    }
  }
  return m;
}

Result<MetaState> ReadMeta(const Shared& s) {
  RWMETA_ASSIGN_OR_RETURN(RangeResponse r,
                          s.client->Range(PrefixRange(etcd::MetaPrefix(s.prefix()), false)));
  return ParseMeta(s, r);
}

Status RefuseMarker(const Shared& s) {
  const std::string all = etcd::StorePrefix(s.prefix());
  return FailedPreconditionError(fmt::format(
      "{}: a restore into this store did not finish (key {} is present); re-run the restore, "
      "which starts over, or delete every key under {} (etcdctl del --prefix {})",
      s.Where(), etcd::MarkerKey(s.prefix()), all, all));
}

Status CheckUsableState(const Shared& s, const MetaState& m) {
  if (m.marker_create != 0) return RefuseMarker(s);
  if (m.version != s.model->version()) {
    return FailedPreconditionError(
        fmt::format("{}: schema version {}, this binary's model version is {}; run Migrate",
                    s.Where(), m.version, s.model->version()));
  }
  return Status::Ok();
}

// 16 random hex digits, written into the guards of one commit.
std::string NewCommitId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

// --- transactions and snapshot views ---------------------------------------------------------

// A read-write transaction or (read_only) a snapshot view, reading at one revision.
class EtcdTransaction final : public Transaction {
 public:
  EtcdTransaction(std::shared_ptr<Shared> shared, const MetaState& meta, bool read_only)
      : shared_(std::move(shared)),
        revision_(meta.revision),
        version_mod_(meta.version_mod),
        read_only_(read_only) {}

  Result<std::optional<Row>> Get(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateKey(*s, key));
    return Lookup(*s, RowKey(*s, key));
  }

  Status Scan(const TableSchema& table, const std::function<Status(const Row&)>& visit) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    return ScanMerged(*s, [&](const std::string&, const Row& row) { return visit(row); });
  }

  Result<int64_t> Count(const TableSchema& table) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    const std::string lo = etcd::TablePrefix(prefix(), s->name);
    const std::string hi = etcd::PrefixEnd(lo);
    auto first = writes_.lower_bound(lo);
    if (first != writes_.end() && first->first < hi) {
      // Own writes in this table: count the merged view.
      int64_t n = 0;
      RWMETA_RETURN_IF_ERROR(ScanMerged(*s, [&](const std::string&, const Row&) {
        ++n;
        return Status::Ok();
      }));
      return n;
    }
    if (!read_only_) scanned_tables_.insert(s->name);
    RangeRequest r = PrefixRange(lo, /*count_only=*/true);
    r.set_revision(revision_);
    auto response = shared_->client->Range(r);
    if (!response.ok()) return ReadFailed(response.status());
    return response->count();
  }

  Status Insert(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*s, row));
    const Key key = KeyOf(*s, row);
    const std::string k = RowKey(*s, key);
    RWMETA_ASSIGN_OR_RETURN(std::optional<Row> existing, Lookup(*s, k));
    if (existing.has_value()) {
      return AlreadyExistsError(
          fmt::format("table {}: primary key {} already exists", s->name, RenderKey(*s, key)));
    }
    RWMETA_RETURN_IF_ERROR(CheckUnique(*s, row, k));
    RWMETA_RETURN_IF_ERROR(CheckParents(*s, row));
    return Stage({{k, Pending{s, row}}});
  }

  Status Update(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*s, row));
    const Key key = KeyOf(*s, row);
    const std::string k = RowKey(*s, key);
    RWMETA_ASSIGN_OR_RETURN(std::optional<Row> existing, Lookup(*s, k));
    if (!existing.has_value()) {
      return RowNotFoundError(*s, key);
    }
    RWMETA_RETURN_IF_ERROR(CheckUnique(*s, row, k));
    RWMETA_RETURN_IF_ERROR(CheckParents(*s, row));
    RWMETA_RETURN_IF_ERROR(CheckReferencedUnchanged(*s, *existing, row));
    return Stage({{k, Pending{s, row}}});
  }

  Status Delete(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateKey(*s, key));
    const std::string k = RowKey(*s, key);
    RWMETA_ASSIGN_OR_RETURN(std::optional<Row> existing, Lookup(*s, k));
    if (!existing.has_value()) {
      return RowNotFoundError(*s, key);
    }
    // Collect the rows the delete cascades to, then refuse if a non-cascading reference to any
    // of them remains from a row outside that set (SQL's NO ACTION, checked at statement end).
    // Nothing is staged until the whole set is known to be deletable.
    struct Doomed {
      const TableSchema* table;
      Row row;
    };
    struct Blocker {
      std::string child_key;
      const TableSchema* child;
      Row child_row;
      const TableSchema* parent;
      Row parent_row;
    };
    std::map<std::string, Doomed> doomed{{k, Doomed{s, *existing}}};
    std::deque<std::string> queue{k};
    std::vector<Blocker> blockers;
    while (!queue.empty()) {
      const Doomed parent = doomed.at(queue.front());
      queue.pop_front();
      for (const TableSchema& child : model().tables()) {
        for (const ForeignKey& fk : child.foreign_keys) {
          if (fk.ref_table != parent.table->name) continue;
          std::vector<Value> ref =
              ValuesAt(parent.row, parent.table->ColumnIndexes(fk.ref_columns));
          if (AnyNull(ref)) continue;
          RWMETA_RETURN_IF_ERROR(
              ForEachReferencing(child, fk, ref, [&](const std::string& ck, const Row& crow) {
                if (fk.on_delete_cascade) {
                  if (doomed.emplace(ck, Doomed{&child, crow}).second) queue.push_back(ck);
                } else {
                  blockers.push_back({ck, &child, crow, parent.table, parent.row});
                }
                return Status::Ok();
              }));
        }
      }
    }
    for (const Blocker& b : blockers) {
      if (doomed.count(b.child_key) != 0) continue;
      return FailedPreconditionError(
          fmt::format("table {}: row {} is still referenced by table {} row {}", b.parent->name,
                      RenderKey(*b.parent, KeyOf(*b.parent, b.parent_row)), b.child->name,
                      RenderKey(*b.child, KeyOf(*b.child, b.child_row))));
    }
    std::map<std::string, Pending> changes;
    for (auto& [dk, d] : doomed) changes.emplace(dk, Pending{d.table, std::nullopt});
    return Stage(std::move(changes));
  }

  Status Commit() override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    finished_ = true;
    // Every read was at one revision: a transaction that wrote nothing is already consistent.
    if (writes_.empty()) return Status::Ok();

    const int max_ops = shared_->options.max_txn_ops;
    // Point reads fold into their table's guard when there are too many to compare one by one:
    // every commit that writes a table rewrites its guard, so the guard covers them.
    std::set<std::string> guarded = scanned_tables_;
    std::map<std::string, int> reads_per_table;
    for (const auto& [key, read] : read_keys_) ++reads_per_table[read.table];
    auto compares = [&] {
      size_t n = 2 + guarded.size();
      for (const auto& [key, read] : read_keys_) n += guarded.count(read.table) == 0 ? 1 : 0;
      return n;
    };
    while (compares() > static_cast<size_t>(max_ops)) {
      std::string fold;
      int most = 0;
      for (const auto& [table, n] : reads_per_table) {
        if (guarded.count(table) == 0 && n > most) {
          fold = table;
          most = n;
        }
      }
      if (most <= 1) {
        return ResourceExhaustedError(
            fmt::format("{}: transaction needs {} comparisons, more than etcd's {} operations per "
                        "transaction (--max-txn-ops)",
                        shared_->Where(), compares(), max_ops));
      }
      guarded.insert(fold);
    }

    TxnRequest txn;
    *txn.add_compare() = ModCompare(etcd::VersionKey(prefix()), Compare::EQUAL, version_mod_);
    *txn.add_compare() = ModCompare(etcd::MarkerKey(prefix()), Compare::EQUAL, 0);
    for (const std::string& table : guarded) {
      *txn.add_compare() =
          ModCompare(etcd::GuardKey(prefix(), table), Compare::LESS, revision_ + 1);
    }
    for (const auto& [key, read] : read_keys_) {
      if (guarded.count(read.table) == 0) {
        *txn.add_compare() = ModCompare(key, Compare::EQUAL, read.mod_revision);
      }
    }
    for (const auto& [key, pending] : writes_) {
      if (pending.row.has_value()) {
        AddPut(txn, key, etcd::EncodeRow(*pending.row));
      } else {
        AddDelete(txn, key);
      }
    }
    const std::string commit_id = NewCommitId();
    for (const std::string& table : written_tables_) {
      AddPut(txn, etcd::GuardKey(prefix(), table), commit_id);
    }
    auto response = shared_->client->Txn(txn);
    if (!response.ok()) return ConfirmLostCommit(response.status(), commit_id);
    if (!response->succeeded()) {
      return AbortedError(
          fmt::format("{}: transaction read at revision {} conflicts with a later commit; redo it",
                      shared_->Where(), revision_));
    }
    return Status::Ok();
  }

 private:
  struct Pending {
    const TableSchema* table;
    std::optional<Row> row;  // nullopt: delete
  };
  struct ReadKey {
    std::string table;
    int64_t mod_revision;  // at revision_; 0: absent
  };

  const Model& model() const { return *shared_->model; }
  const std::string& prefix() const { return shared_->prefix(); }

  std::string RowKey(const TableSchema& s, const Key& key) const {
    return etcd::RowKey(prefix(), s, key);
  }

  Status CheckUsable(bool write) const {
    if (finished_) {
      return FailedPreconditionError(
          fmt::format("{}: transaction already finished", shared_->Where()));
    }
    if (write && read_only_) {
      return FailedPreconditionError(fmt::format("{}: view is read-only", shared_->Where()));
    }
    return Status::Ok();
  }

  // The store's own schema of `table` (callers may pass a copy or another model's table).
  Result<const TableSchema*> Resolve(const TableSchema& table) const {
    const TableSchema* s = model().Find(table.name);
    if (s == nullptr) {
      return InvalidArgumentError(fmt::format("table {} is not in the model", table.name));
    }
    return s;
  }

  // A commit whose answer was lost may have happened: it did if a guard it wrote still holds its
  // id (nobody else could have written that id). Otherwise its fate stays unknown.
  Status ConfirmLostCommit(const Status& failed, const std::string& commit_id) {
    if (!IsUnavailable(failed) || failed.message().find(kOutcomeUnknown) == std::string::npos) {
      return failed;
    }
    RangeRequest r;
    r.set_key(etcd::GuardKey(prefix(), *written_tables_.begin()));
    auto guard = shared_->client->Range(r);
    if (guard.ok() && guard->kvs_size() > 0 && guard->kvs(0).value() == commit_id) {
      return Status::Ok();
    }
    return failed.WithContext(fmt::format("{}: commit", shared_->Where()));
  }

  // Turns a failed read into what a caller of this view can act on.
  Status ReadFailed(const Status& s) const {
    if (s.code() != StatusCode::kOutOfRange || s.message().find("compacted") == std::string::npos) {
      return s;
    }
    if (read_only_) {
      return FailedPreconditionError(fmt::format(
          "{}: snapshot revision {} has been compacted by etcd; start a new snapshot read "
          "(and compact less eagerly while backups run): {}",
          shared_->Where(), revision_, s.message()));
    }
    return AbortedError(
        fmt::format("{}: the transaction's read revision {} has been compacted; redo it: {}",
                    shared_->Where(), revision_, s.message()));
  }

  // The row at `key` as this transaction sees it; records the read for Commit.
  Result<std::optional<Row>> Lookup(const TableSchema& s, const std::string& key) {
    if (auto it = writes_.find(key); it != writes_.end()) return it->second.row;
    if (auto it = read_cache_.find(key); it != read_cache_.end()) return it->second;
    RangeRequest r;
    r.set_key(key);
    r.set_revision(revision_);
    auto response = shared_->client->Range(r);
    if (!response.ok()) return ReadFailed(response.status());
    std::optional<Row> row;
    int64_t mod = 0;
    if (response->kvs_size() > 0) {
      const auto& kv = response->kvs(0);
      RWMETA_ASSIGN_OR_RETURN(Row decoded, etcd::DecodeRow(s, kv.value(), kv.key()));
      row = std::move(decoded);
      mod = kv.mod_revision();
    }
    if (!read_only_) {
      read_keys_.emplace(key, ReadKey{s.name, mod});
      read_cache_.emplace(key, row);
    }
    return row;
  }

  // Visits every row of `s` as this transaction sees it, ascending by key, in pages. Records the
  // table as range-read for Commit.
  Status ScanMerged(const TableSchema& s,
                    const std::function<Status(const std::string& key, const Row&)>& visit) {
    const std::string lo = etcd::TablePrefix(prefix(), s.name);
    const std::string hi = etcd::PrefixEnd(lo);
    if (!read_only_) scanned_tables_.insert(s.name);
    // Copied: `visit` may write to other tables (never this one, by contract).
    std::vector<std::pair<std::string, std::optional<Row>>> own;
    for (auto it = writes_.lower_bound(lo); it != writes_.end() && it->first < hi; ++it) {
      own.emplace_back(it->first, it->second.row);
    }
    size_t next_own = 0;
    auto emit_own_before = [&](const std::string* limit) -> Status {
      while (next_own < own.size() && (limit == nullptr || own[next_own].first < *limit)) {
        const auto& [key, row] = own[next_own++];
        if (row.has_value()) RWMETA_RETURN_IF_ERROR(visit(key, *row));
      }
      return Status::Ok();
    };
    std::string cursor = lo;
    while (true) {
      RangeRequest r;
      r.set_key(cursor);
      r.set_range_end(hi);
      r.set_revision(revision_);
      r.set_limit(shared_->options.page_size);
      auto response = shared_->client->Range(r);
      if (!response.ok()) return ReadFailed(response.status());
      for (const auto& kv : response->kvs()) {
        RWMETA_RETURN_IF_ERROR(emit_own_before(&kv.key()));
        if (next_own < own.size() && own[next_own].first == kv.key()) {
          // Overwritten or deleted by this transaction.
          const auto& [key, row] = own[next_own++];
          if (row.has_value()) RWMETA_RETURN_IF_ERROR(visit(key, *row));
          continue;
        }
        RWMETA_ASSIGN_OR_RETURN(Row row, etcd::DecodeRow(s, kv.value(), kv.key()));
        RWMETA_RETURN_IF_ERROR(visit(kv.key(), row));
      }
      if (!response->more() || response->kvs_size() == 0) break;
      // The next page starts right after the last key of this one.
      cursor = response->kvs(response->kvs_size() - 1).key() + std::string(1, '\0');
    }
    return emit_own_before(nullptr);
  }

  // Visits the rows of `child` whose `fk` columns equal `values`: one point read when the
  // foreign key is the child's primary key, a scan otherwise.
  Status ForEachReferencing(const TableSchema& child, const ForeignKey& fk,
                            const std::vector<Value>& values,
                            const std::function<Status(const std::string&, const Row&)>& visit) {
    const std::vector<int> child_idx = child.ColumnIndexes(fk.columns);
    if (child_idx == child.PrimaryKeyIndexes() && ValidateKey(child, values).ok()) {
      const std::string ck = RowKey(child, values);
      RWMETA_ASSIGN_OR_RETURN(std::optional<Row> row, Lookup(child, ck));
      if (row.has_value()) RWMETA_RETURN_IF_ERROR(visit(ck, *row));
      return Status::Ok();
    }
    return ScanMerged(child, [&](const std::string& ck, const Row& row) {
      return ValuesAt(row, child_idx) == values ? visit(ck, row) : Status::Ok();
    });
  }

  Status CheckUnique(const TableSchema& s, const Row& row, const std::string& self) {
    struct Probe {
      const std::vector<std::string>* columns;
      std::vector<int> idx;
      std::vector<Value> values;
    };
    std::vector<Probe> probes;
    for (const auto& uk : s.unique_keys) {
      std::vector<int> idx = s.ColumnIndexes(uk);
      std::vector<Value> values = ValuesAt(row, idx);
      if (AnyNull(values)) continue;  // NULLs never collide, as in SQL.
      probes.push_back({&uk, std::move(idx), std::move(values)});
    }
    if (probes.empty()) return Status::Ok();
    return ScanMerged(s, [&](const std::string& key, const Row& other) -> Status {
      if (key == self) return Status::Ok();
      for (const Probe& p : probes) {
        if (ValuesAt(other, p.idx) == p.values) {
          return AlreadyExistsError(fmt::format("table {}: unique key {} = {} already exists",
                                                s.name, ColumnList(*p.columns),
                                                RenderValues(s, p.idx, p.values)));
        }
      }
      return Status::Ok();
    });
  }

  Status CheckParents(const TableSchema& s, const Row& row) {
    for (const ForeignKey& fk : s.foreign_keys) {
      std::vector<int> idx = s.ColumnIndexes(fk.columns);
      std::vector<Value> values = ValuesAt(row, idx);
      if (AnyNull(values)) continue;
      const TableSchema& parent = *model().Find(fk.ref_table);
      std::vector<int> parent_idx = parent.ColumnIndexes(fk.ref_columns);
      bool found = parent.name == s.name && ValuesAt(row, parent_idx) == values;
      if (!found && parent_idx == parent.PrimaryKeyIndexes()) {
        if (ValidateKey(parent, values).ok()) {
          RWMETA_ASSIGN_OR_RETURN(std::optional<Row> p, Lookup(parent, RowKey(parent, values)));
          found = p.has_value();
        }
      } else if (!found) {
        RWMETA_RETURN_IF_ERROR(ScanMerged(parent, [&](const std::string&, const Row& p) {
          found = found || ValuesAt(p, parent_idx) == values;
          return Status::Ok();
        }));
      }
      if (!found) {
        return FailedPreconditionError(
            fmt::format("table {}: foreign key {} = {} has no parent row in table {}", s.name,
                        ColumnList(fk.columns), RenderValues(s, idx, values), parent.name));
      }
    }
    return Status::Ok();
  }

  // An update must not change values that child rows refer to.
  Status CheckReferencedUnchanged(const TableSchema& s, const Row& old_row, const Row& new_row) {
    for (const TableSchema& child : model().tables()) {
      for (const ForeignKey& fk : child.foreign_keys) {
        if (fk.ref_table != s.name) continue;
        std::vector<int> idx = s.ColumnIndexes(fk.ref_columns);
        std::vector<Value> old_values = ValuesAt(old_row, idx);
        if (AnyNull(old_values) || ValuesAt(new_row, idx) == old_values) continue;
        bool referenced = false;
        RWMETA_RETURN_IF_ERROR(
            ForEachReferencing(child, fk, old_values, [&](const std::string&, const Row&) {
              referenced = true;
              return Status::Ok();
            }));
        if (referenced) {
          return FailedPreconditionError(fmt::format(
              "table {}: {} = {} is still referenced by table {}", s.name,
              ColumnList(fk.ref_columns), RenderValues(s, idx, old_values), child.name));
        }
      }
    }
    return Status::Ok();
  }

  // Adds `changes` to the buffered writes, unless the commit would then pass etcd's operation
  // limit (one operation per key written plus one per table guard).
  Status Stage(std::map<std::string, Pending> changes) {
    size_t keys = writes_.size();
    std::set<std::string> tables = written_tables_;
    for (const auto& [key, pending] : changes) {
      if (writes_.count(key) == 0) ++keys;
      tables.insert(pending.table->name);
    }
    const size_t ops = keys + tables.size();
    const int max_ops = shared_->options.max_txn_ops;
    if (ops > static_cast<size_t>(max_ops)) {
      return ResourceExhaustedError(fmt::format(
          "{}: this write would make the transaction write {} keys ({} rows and {} table "
          "guards), more than the {} operations etcd allows in one transaction (--max-txn-ops); "
          "split the work into smaller transactions",
          shared_->Where(), ops, keys, tables.size(), max_ops));
    }
    for (auto& [key, pending] : changes) writes_.insert_or_assign(key, std::move(pending));
    written_tables_ = std::move(tables);
    return Status::Ok();
  }

  std::shared_ptr<Shared> shared_;
  const int64_t revision_;
  const int64_t version_mod_;
  const bool read_only_;
  bool finished_ = false;
  std::map<std::string, Pending> writes_;
  std::set<std::string> written_tables_;
  std::map<std::string, std::optional<Row>> read_cache_;
  std::map<std::string, ReadKey> read_keys_;
  std::set<std::string> scanned_tables_;
};

}  // namespace

// --- URL parsing -------------------------------------------------------------------------------

Result<EtcdMetaStoreOptions> ParseEtcdUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("meta store url {}: {}", RedactUrl(text), why));
  };
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) return bad("expected etcd://host:port[,host:port...]");
  std::string scheme(text.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "etcd") return bad("expected scheme etcd");
  std::string_view rest = text.substr(sep + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  const size_t at = authority.rfind('@');
  std::string_view userinfo =
      at == std::string_view::npos ? std::string_view() : authority.substr(0, at);
  std::string_view hosts = at == std::string_view::npos ? authority : authority.substr(at + 1);
  // Let the common parser decode and check the credentials, the prefix and the parameters; only
  // the endpoint list (several hosts) is beyond its grammar.
  std::string single = "etcd://";
  if (at != std::string_view::npos) single += std::string(userinfo) + "@";
  single += "endpoints";
  single += tail;
  auto parsed = ParseUrl(single);
  if (!parsed.ok()) return bad(parsed.status().message());
  const Url& url = *parsed;

  EtcdMetaStoreOptions options;
  options.username = url.user;
  options.password = url.password;
  if (at != std::string_view::npos && options.username.empty()) return bad("empty user name");
  if (hosts.empty()) return bad("no endpoint (expected etcd://host:port[,host:port...])");
  size_t start = 0;
  while (start <= hosts.size()) {
    size_t comma = hosts.find(',', start);
    std::string_view one =
        hosts.substr(start, comma == std::string_view::npos ? hosts.npos : comma - start);
    RWMETA_ASSIGN_OR_RETURN(std::string endpoint, ParseEndpoint(text, one));
    options.endpoints.push_back(std::move(endpoint));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::string path = url.path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (!path.empty()) options.prefix = path;
  for (const auto& [key, value] : url.query) {
    if (key == "max_txn_ops") {
      RWMETA_ASSIGN_OR_RETURN(int64_t v, PositiveParam(text, key, value));
      options.max_txn_ops = static_cast<int>(std::min<int64_t>(v, 1 << 30));
    } else if (key == "page_size") {
      RWMETA_ASSIGN_OR_RETURN(options.page_size, PositiveParam(text, key, value));
    } else if (key == "max_txn_bytes") {
      RWMETA_ASSIGN_OR_RETURN(options.max_txn_bytes, PositiveParam(text, key, value));
    } else if (key == "timeout_ms") {
      RWMETA_ASSIGN_OR_RETURN(options.timeout_ms, PositiveParam(text, key, value));
    } else if (key == "bulk_load_txns_in_flight") {
      RWMETA_ASSIGN_OR_RETURN(int64_t v, PositiveParam(text, key, value));
      options.bulk_load_txns_in_flight = static_cast<int>(std::min<int64_t>(v, 1024));
    } else {
      return bad(fmt::format(
          "unknown parameter '{}' (expected max_txn_ops, page_size, max_txn_bytes, timeout_ms, "
          "bulk_load_txns_in_flight)",
          key));
    }
  }
  return options;
}

// --- EtcdMetaStore ---------------------------------------------------------------------------

EtcdMetaStore::EtcdMetaStore(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
EtcdMetaStore::~EtcdMetaStore() = default;

Result<std::unique_ptr<EtcdMetaStore>> EtcdMetaStore::Open(EtcdMetaStoreOptions options,
                                                           const Model& model) {
  if (options.endpoints.empty()) return InvalidArgumentError("etcd meta store: no endpoint given");
  if (options.prefix.empty() || options.prefix.front() != '/' || options.prefix.back() == '/') {
    return InvalidArgumentError(fmt::format(
        "etcd meta store: prefix '{}' must start with '/' and not end with one", options.prefix));
  }
  // Room for the schema and marker compares plus at least a few rows.
  if (options.max_txn_ops < 8) {
    return InvalidArgumentError(
        fmt::format("etcd meta store: max_txn_ops {} is below 8", options.max_txn_ops));
  }
  if (options.page_size < 1 || options.max_txn_bytes < 1 || options.timeout_ms < 1 ||
      options.bulk_load_txns_in_flight < 1) {
    return InvalidArgumentError(
        "etcd meta store: page_size, max_txn_bytes, timeout_ms and bulk_load_txns_in_flight must "
        "be positive");
  }
  auto shared = std::make_shared<Shared>();
  shared->model = &model;
  shared->options = options;
  shared->display_url =
      fmt::format("etcd://{}{}{}", options.username.empty() ? "" : options.username + "@",
                  fmt::join(options.endpoints, ","), options.prefix);
  EtcdClientOptions client_options;
  client_options.endpoints = options.endpoints;
  client_options.username = options.username;
  client_options.password = options.password;
  client_options.timeout_ms = options.timeout_ms;
  client_options.drop_write_response_for_testing = options.drop_write_response_for_testing;
  RWMETA_ASSIGN_OR_RETURN(shared->client, EtcdClient::Create(std::move(client_options)));
  RWMETA_RETURN_IF_ERROR(
      shared->client->Connect(etcd::VersionKey(options.prefix)).WithContext(shared->Where()));
  return std::unique_ptr<EtcdMetaStore>(new EtcdMetaStore(std::move(shared)));
}

std::string EtcdMetaStore::DisplayUrl() const { return shared_->display_url; }

Result<SchemaState> EtcdMetaStore::Inspect() {
  const Shared& s = *shared_;
  // One read-only Txn: the meta keys and the key counts at one revision.
  TxnRequest txn;
  *txn.add_success()->mutable_request_range() = PrefixRange(etcd::MetaPrefix(s.prefix()), false);
  *txn.add_success()->mutable_request_range() = PrefixRange(etcd::StorePrefix(s.prefix()), true);
  *txn.add_success()->mutable_request_range() = PrefixRange(etcd::MetaPrefix(s.prefix()), true);
  *txn.add_success()->mutable_request_range() = PrefixRange(etcd::GuardKey(s.prefix(), ""), true);
  RWMETA_ASSIGN_OR_RETURN(TxnResponse r, s.client->Txn(txn));
  if (r.responses_size() != 4) {
    return InternalError(
        fmt::format("{}: etcd answered {} of 4 reads", s.Where(), r.responses_size()));
  }
  RWMETA_ASSIGN_OR_RETURN(MetaState meta, ParseMeta(s, r.responses(0).response_range()));
  const int64_t other = r.responses(1).response_range().count() -
                        r.responses(2).response_range().count() -
                        r.responses(3).response_range().count();
  SchemaState state;
  state.version = meta.version;
  state.empty = other == 0;
  state.unfinished_bulk_load = meta.marker_create != 0;
  return state;
}

Status EtcdMetaStore::Migrate() {
  const Shared& s = *shared_;
  const int target = s.model->version();
  for (int conflicts = 0; conflicts < 20;) {
    RWMETA_ASSIGN_OR_RETURN(MetaState meta, ReadMeta(s));
    if (meta.marker_create != 0) return RefuseMarker(s);
    if (meta.version > target) {
      return FailedPreconditionError(
          fmt::format("{}: schema version {} is newer than this binary's model version {}",
                      s.Where(), meta.version, target));
    }
    if (meta.version == target) return Status::Ok();
    // One step per version, so that the stored version always names a model that existed.
    // Transactions that began before compare the version key and abort.
    TxnRequest txn;
    *txn.add_compare() = ModCompare(etcd::VersionKey(s.prefix()), Compare::EQUAL, meta.version_mod);
    *txn.add_compare() = ModCompare(etcd::MarkerKey(s.prefix()), Compare::EQUAL, 0);
    AddPut(txn, etcd::VersionKey(s.prefix()), std::to_string(meta.version + 1));
    RWMETA_ASSIGN_OR_RETURN(TxnResponse r, s.client->Txn(txn));
    if (!r.succeeded()) ++conflicts;  // a concurrent Migrate moved first: look again
  }
  return AbortedError(
      fmt::format("{}: Migrate kept conflicting with concurrent writers", s.Where()));
}

Result<std::unique_ptr<Transaction>> EtcdMetaStore::BeginTransaction() {
  RWMETA_ASSIGN_OR_RETURN(MetaState meta, ReadMeta(*shared_));
  RWMETA_RETURN_IF_ERROR(CheckUsableState(*shared_, meta));
  return std::unique_ptr<Transaction>(
      std::make_unique<EtcdTransaction>(shared_, meta, /*read_only=*/false));
}

Result<std::unique_ptr<ReadView>> EtcdMetaStore::BeginSnapshotRead() {
  RWMETA_ASSIGN_OR_RETURN(MetaState meta, ReadMeta(*shared_));
  RWMETA_RETURN_IF_ERROR(CheckUsableState(*shared_, meta));
  return std::unique_ptr<ReadView>(
      std::make_unique<EtcdTransaction>(shared_, meta, /*read_only=*/true));
}

Result<int64_t> EtcdMetaStore::CurrentRevision() {
  RangeRequest r;
  r.set_key(etcd::VersionKey(shared_->prefix()));
  r.set_count_only(true);
  RWMETA_ASSIGN_OR_RETURN(RangeResponse response, shared_->client->Range(r));
  return response.header().revision();
}

Status EtcdMetaStore::Compact(int64_t revision) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(true);
  return shared_->client->Compact(request).status();
}

const Model& EtcdMetaStore::model() const { return *shared_->model; }

Result<std::unique_ptr<BulkLoader>> EtcdMetaStore::BeginBulkLoad() {
  RWMETA_ASSIGN_OR_RETURN(std::unique_ptr<EtcdBulkLoader> loader, BeginEtcdBulkLoad());
  return std::unique_ptr<BulkLoader>(std::move(loader));
}

Result<std::unique_ptr<EtcdBulkLoader>> EtcdMetaStore::BeginEtcdBulkLoad() {
  const Shared& s = *shared_;
  const std::string all = etcd::StorePrefix(s.prefix());
  RWMETA_ASSIGN_OR_RETURN(MetaState meta, ReadMeta(s));
  if (meta.marker_create != 0) {
    // A previous load was cut short: start over from nothing. The compare keeps us from wiping a
    // load that started in between.
    TxnRequest wipe;
    *wipe.add_compare() = CreateCompare(etcd::MarkerKey(s.prefix()), meta.marker_create);
    AddDelete(wipe, all, etcd::PrefixEnd(all));
    RWMETA_ASSIGN_OR_RETURN(TxnResponse r, s.client->Txn(wipe));
    if (!r.succeeded()) {
      return AbortedError(fmt::format("{}: another restore started meanwhile", s.Where()));
    }
    RWMETA_ASSIGN_OR_RETURN(meta, ReadMeta(s));
  }
  RWMETA_ASSIGN_OR_RETURN(SchemaState state, Inspect());
  if (state.unfinished_bulk_load) {
    return AbortedError(fmt::format("{}: another restore started meanwhile", s.Where()));
  }
  if (!state.empty) {
    return FailedPreconditionError(fmt::format(
        "{}: not empty; a restore needs an empty target: a fresh etcd, or delete every key under "
        "{} (etcdctl del --prefix {})",
        s.Where(), all, all));
  }
  if (state.version > s.model->version()) {
    return FailedPreconditionError(
        fmt::format("{}: schema version {} is newer than this binary's model version {}", s.Where(),
                    state.version, s.model->version()));
  }
  TxnRequest begin;
  *begin.add_compare() = ModCompare(etcd::MarkerKey(s.prefix()), Compare::EQUAL, 0);
  *begin.add_compare() = ModCompare(etcd::VersionKey(s.prefix()), Compare::EQUAL, meta.version_mod);
  const int64_t now_ms = UnixNowMs();
  AddPut(begin, etcd::MarkerKey(s.prefix()),
         fmt::format("{{\"model_version\":{},\"started_at_ms\":{}}}", s.model->version(), now_ms));
  AddPut(begin, etcd::VersionKey(s.prefix()), std::to_string(s.model->version()));
  RWMETA_ASSIGN_OR_RETURN(TxnResponse r, s.client->Txn(begin));
  if (!r.succeeded()) {
    return AbortedError(
        fmt::format("{}: the store changed while the restore was starting", s.Where()));
  }
  return std::unique_ptr<EtcdBulkLoader>(new EtcdBulkLoader(shared_, r.header().revision()));
}

// --- EtcdBulkLoader --------------------------------------------------------------------------

EtcdBulkLoader::EtcdBulkLoader(std::shared_ptr<EtcdMetaStore::Shared> shared,
                               int64_t marker_revision)
    : shared_(std::move(shared)), marker_revision_(marker_revision) {}

EtcdBulkLoader::~EtcdBulkLoader() = default;

Status EtcdBulkLoader::Add(const TableSchema& table, const Row& row) {
  const Shared& s = *shared_;
  if (finished_) return FailedPreconditionError(fmt::format("{}: load finished", s.Where()));
  if (!failed_.ok()) return failed_;
  const TableSchema* schema = s.model->Find(table.name);
  if (schema == nullptr) {
    return InvalidArgumentError(fmt::format("table {} is not in the model", table.name));
  }
  RWMETA_RETURN_IF_ERROR(ValidateRow(*schema, row));
  std::string key = etcd::RowKey(s.prefix(), *schema, KeyOf(*schema, row));
  std::string value = etcd::EncodeRow(row);
  for (const auto& [k, v] : batch_) {
    if (k == key) {
      return AlreadyExistsError(fmt::format("table {}: primary key {} loaded twice", schema->name,
                                            RenderKey(*schema, KeyOf(*schema, row))));
    }
  }
  // One compare per row plus the marker's must fit etcd's operation limit.
  const size_t max_rows = static_cast<size_t>(s.options.max_txn_ops) - 1;
  const int64_t size = static_cast<int64_t>(key.size() + value.size());
  if (!batch_.empty() &&
      (batch_.size() >= max_rows || batch_bytes_ + size > s.options.max_txn_bytes)) {
    RWMETA_RETURN_IF_ERROR(Flush());
  }
  batch_.emplace_back(std::move(key), std::move(value));
  batch_bytes_ += size;
  return Status::Ok();
}

Status EtcdBulkLoader::SendBatch(const Shared& s, int64_t marker_revision,
                                 std::vector<std::pair<std::string, std::string>> batch) {
  TxnRequest txn;
  *txn.add_compare() = CreateCompare(etcd::MarkerKey(s.prefix()), marker_revision);
  for (auto& [key, value] : batch) {
    *txn.add_compare() = CreateCompare(key, 0);  // absent
    AddPut(txn, key, value);
  }
  RWMETA_ASSIGN_OR_RETURN(TxnResponse r, s.client->Txn(txn));
  if (r.succeeded()) return Status::Ok();
  RWMETA_ASSIGN_OR_RETURN(MetaState meta, ReadMeta(s));
  if (meta.marker_create != marker_revision) {
    return AbortedError(fmt::format(
        "{}: another restore took over the store (its bulk-load marker changed); this one stops",
        s.Where()));
  }
  for (const auto& [key, value] : batch) {
    RangeRequest probe;
    probe.set_key(key);
    probe.set_count_only(true);
    RWMETA_ASSIGN_OR_RETURN(RangeResponse found, s.client->Range(probe));
    if (found.count() > 0) {
      return AlreadyExistsError(fmt::format("{}: key {} is already stored (loaded twice)",
                                            s.Where(), etcd::PrintableKey(key)));
    }
  }
  return AbortedError(fmt::format("{}: a bulk-load batch lost a race; redo the load", s.Where()));
}

Status EtcdBulkLoader::AwaitOldest() {
  std::future<Status> outcome = std::move(in_flight_.front());
  in_flight_.pop_front();
  Status s = outcome.get();
  if (!s.ok() && failed_.ok()) failed_ = s;
  return failed_;
}

Status EtcdBulkLoader::Flush() {
  if (batch_.empty()) return Status::Ok();
  const size_t limit = static_cast<size_t>(shared_->options.bulk_load_txns_in_flight);
  while (in_flight_.size() >= limit) RWMETA_RETURN_IF_ERROR(AwaitOldest());
  rows_loaded_ += static_cast<int64_t>(batch_.size());
  // The task holds the store's shared state: it outlives nothing it uses.
  in_flight_.push_back(std::async(std::launch::async, [shared = shared_, marker = marker_revision_,
                                                       batch = std::move(batch_)]() mutable {
    return SendBatch(*shared, marker, std::move(batch));
  }));
  batch_.clear();
  batch_bytes_ = 0;
  return Status::Ok();
}

Status EtcdBulkLoader::Finish() {
  const Shared& s = *shared_;
  if (finished_) return FailedPreconditionError(fmt::format("{}: load finished", s.Where()));
  finished_ = true;
  Status flushed = failed_.ok() ? Flush() : failed_;
  // Every batch is answered before the marker goes (or the load stops).
  while (!in_flight_.empty()) AwaitOldest().IgnoreError();  // failed_ keeps the first failure
  if (!flushed.ok()) return flushed;
  RWMETA_RETURN_IF_ERROR(failed_);
  TxnRequest txn;
  *txn.add_compare() = CreateCompare(etcd::MarkerKey(s.prefix()), marker_revision_);
  AddDelete(txn, etcd::MarkerKey(s.prefix()));
  RWMETA_ASSIGN_OR_RETURN(TxnResponse r, s.client->Txn(txn));
  if (!r.succeeded()) {
    return AbortedError(fmt::format(
        "{}: another restore took over the store (its bulk-load marker changed); this one stops",
        s.Where()));
  }
  return Status::Ok();
}

}  // namespace rwmeta::metastore
