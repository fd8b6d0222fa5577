#include "restore/drill.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "backup/names.h"
#include "backup/snapshot_format.h"
#include "common/utf8.h"
#include "hummock/names.h"
#include "hummock/version/version.h"
#include "metastore/memory/memory_meta_store.h"
#include "metastore/meta_store.h"
#include "metastore/model.h"
#include "restore/restore_internal.h"

namespace rwmeta::restore {

namespace {

using metastore::ForeignKey;
using metastore::Model;
using metastore::Row;
using metastore::TableSchema;
using metastore::Value;

// "oid = 7", or "(a, b) = (1, 'x')" for several columns.
std::string RenderColumns(const TableSchema& table, const std::vector<int>& indexes,
                          const std::vector<Value>& values) {
  std::string names;
  std::string rendered;
  for (size_t i = 0; i < indexes.size(); ++i) {
    if (i > 0) {
      names += ", ";
      rendered += ", ";
    }
    names += table.columns[indexes[i]].name;
    rendered += metastore::ValueToString(values[i], table.columns[indexes[i]].type);
  }
  if (indexes.size() == 1) return names + " = " + rendered;
  return "(" + names + ") = (" + rendered + ")";
}

std::string RenderKey(const TableSchema& table, const Row& row) {
  const std::vector<int> indexes = table.PrimaryKeyIndexes();
  return RenderColumns(table, indexes, metastore::ValuesAt(row, indexes));
}

std::string JoinNames(const std::vector<std::string>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

// The values present in the columns some foreign key points at ("object(oid)").
using ParentValues = std::set<std::vector<Value>>;

// One foreign key of a child table, resolved once.
struct ChildSlot {
  const ForeignKey* fk;
  std::vector<int> indexes;           // the child's foreign-key columns
  const ParentValues* parent_values;  // what the parent rows hold
};

// A foreign-key value of one child row, checked once every parent row has been seen.
struct Reference {
  const TableSchema* child;
  const ChildSlot* slot;
  std::string child_key;  // rendered
  std::vector<Value> values;
};

// A row the in-memory store refused, with the store's reason.
struct Refusal {
  std::string table;
  std::string key;  // rendered
  std::string message;
};

// Reads the snapshot into the bulk loader and gathers what the checks after the read need: for
// each (table, columns) a foreign key points at, the values present; each child row's references;
// each sequence-numbered table's largest key; the id_sequence rows.
class DrillVisitor : public backup::SnapshotVisitor {
 public:
  DrillVisitor(const Model& model, metastore::BulkLoader* loader, DrillReport* report,
               std::vector<std::string>* problems)
      : model_(model), loader_(loader), report_(report), problems_(problems) {
    for (const TableSchema& child : model_.tables()) {
      for (const ForeignKey& fk : child.foreign_keys) {
        const std::string parent = fk.ref_table + "(" + JoinNames(fk.ref_columns) + ")";
        auto [values, added] = parents_.try_emplace(parent);
        if (added) {
          const TableSchema& table = model_.Table(fk.ref_table);
          parent_slots_[table.name].push_back(
              {table.ColumnIndexes(fk.ref_columns), &values->second});
        }
        child_slots_[child.name].push_back({&fk, child.ColumnIndexes(fk.columns), &values->second});
      }
    }
  }

  Status OnTableBegin(const backup::SnapshotTable& table) override {
    ++report_->tables;
    schema_ = nullptr;
    Status fits = backup::CheckTableAgainstModel(table, model_);
    if (!fits.ok()) {
      // Its rows cannot be loaded; the rest of the snapshot still is.
      problems_->push_back(std::string(fits.message()));
      return Status::Ok();
    }
    schema_ = &model_.Table(table.name);
    return Status::Ok();
  }

  Status OnRow(const backup::SnapshotTable& /*table*/, const Row& snapshot_row) override {
    ++report_->rows;
    if (schema_ == nullptr) return Status::Ok();
    Row row = internal::RowForModel(*schema_, snapshot_row);
    Note(*schema_, row);
    if (schema_->name == "object") {
      return objects_.Add(std::move(row), [this](const Row& r) { return Load(*schema_, r); });
    }
    return Load(*schema_, row);
  }

  Status OnTableEnd(const backup::SnapshotTable& /*table*/, uint64_t /*row_count*/) override {
    if (schema_ != nullptr && schema_->name == "object") {
      return objects_.Flush([this](const Row& r) { return Load(*schema_, r); });
    }
    return Status::Ok();
  }

  // Problems of foreign keys whose parent row the snapshot does not hold, in arrival order; the
  // child rows they name, for the caller not to report the store's refusal of the same row again.
  void CheckReferences(std::vector<std::string>* problems, std::set<std::string>* rows_named) {
    for (const Reference& ref : references_) {
      ++report_->references_checked;
      if (ref.slot->parent_values->contains(ref.values)) continue;
      problems->push_back(
          fmt::format("table {} row {}: {} has no parent row in table {} ({})", ref.child->name,
                      ref.child_key, RenderColumns(*ref.child, ref.slot->indexes, ref.values),
                      ref.slot->fk->ref_table, JoinNames(ref.slot->fk->ref_columns)));
      rows_named->insert(ref.child->name + "\n" + ref.child_key);
    }
  }

  const std::vector<Refusal>& refusals() const { return refusals_; }
  const std::map<std::string, int64_t>& sequences() const { return sequences_; }
  // Table name -> the largest key of a table the model numbers with a sequence.
  const std::map<std::string, int64_t>& max_keys() const { return max_keys_; }

 private:
  struct ParentSlot {
    std::vector<int> indexes;  // the parent's referenced columns
    ParentValues* values;
  };

  // Records what the checks need from `row`.
  void Note(const TableSchema& table, const Row& row) {
    if (auto it = parent_slots_.find(table.name); it != parent_slots_.end()) {
      for (const ParentSlot& slot : it->second) {
        slot.values->insert(metastore::ValuesAt(row, slot.indexes));
      }
    }
    if (auto it = child_slots_.find(table.name); it != child_slots_.end()) {
      for (const ChildSlot& slot : it->second) {
        std::vector<Value> values = metastore::ValuesAt(row, slot.indexes);
        if (metastore::AnyNull(values)) continue;  // references nothing
        references_.push_back({&table, &slot, RenderKey(table, row), std::move(values)});
      }
    }
    if (!table.id_sequence.empty()) {
      if (const auto* id = std::get_if<int64_t>(&row[table.PrimaryKeyIndexes()[0]])) {
        auto [it, inserted] = max_keys_.emplace(table.name, *id);
        if (!inserted) it->second = std::max(it->second, *id);
      }
    }
    if (table.name == "id_sequence") {
      const auto* name = std::get_if<std::string>(&row[0]);
      const auto* next = std::get_if<int64_t>(&row[1]);
      if (name != nullptr && next != nullptr) sequences_[*name] = *next;
    }
  }

  Status Load(const TableSchema& table, const Row& row) {
    Status added = loader_->Add(table, row);
    if (added.ok()) {
      ++report_->rows_loaded;
      return Status::Ok();
    }
    // A refused row: MemoryMetaStore's loader refuses it at this Add and goes on (meta_store.h),
    // so the drill sees every refusal. These end the load: the drill cannot go on, which is not
    // the snapshot's fault.
    if (added.code() == StatusCode::kUnavailable || added.code() == StatusCode::kAborted) {
      return added.WithContext("the drill's in-memory meta store");
    }
    refusals_.push_back({table.name, RenderKey(table, row), std::string(added.message())});
    return Status::Ok();
  }

  const Model& model_;
  metastore::BulkLoader* loader_;
  DrillReport* report_;
  std::vector<std::string>* problems_;
  const TableSchema* schema_ = nullptr;  // null while skipping a table the model cannot take
  internal::ParentFirstObjects objects_{model_.Table("object")};
  // Node-based maps: the slots point into parents_, and references into child_slots_.
  std::map<std::string, ParentValues> parents_;                  // "table(columns)" -> values
  std::map<std::string, std::vector<ParentSlot>> parent_slots_;  // parent table -> its slots
  std::map<std::string, std::vector<ChildSlot>> child_slots_;    // child table -> its slots
  std::vector<Reference> references_;
  std::vector<Refusal> refusals_;
  std::map<std::string, int64_t> sequences_;
  std::map<std::string, int64_t> max_keys_;
};

// A problem unless sequence `name` (its next value in `sequences`) is above `max_id`, the largest
// id it handed out, which `what` names ("the largest object.oid").
void CheckSequence(const std::map<std::string, int64_t>& sequences, const std::string& name,
                   const std::string& what, int64_t max_id, DrillReport* report,
                   std::vector<std::string>* problems) {
  ++report->sequences_checked;
  auto it = sequences.find(name);
  if (it == sequences.end()) {
    problems->push_back(
        fmt::format("id sequence {} is missing, but {} ({}) is in use: the next id would be 1",
                    name, max_id, what));
  } else if (it->second <= max_id) {
    problems->push_back(
        fmt::format("id sequence {} is at {}, not above {} ({}): ids would be reused", name,
                    it->second, max_id, what));
  }
}

// Cuts `text` to at most `max_bytes` bytes without splitting a UTF-8 sequence.
std::string Truncate(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  constexpr std::string_view kEllipsis = "...";
  size_t end = max_bytes - kEllipsis.size();
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text + std::string(kEllipsis);
}

}  // namespace

Result<DrillReport> DrillSnapshot(backup::BackupStorage& backup, uint64_t snapshot_id,
                                  objstore::ObjectStore& state_store,
                                  std::string_view state_store_directory,
                                  const DrillOptions& options) {
  Clock& clock = options.clock != nullptr ? *options.clock : *SystemClock();
  DrillReport report;
  report.snapshot_id = snapshot_id;
  report.started_at_ms = clock.NowMs();
  std::vector<std::string> problems;
  auto finish = [&]() -> DrillReport {
    report.problem_count = problems.size();
    report.passed = problems.empty();
    for (size_t i = 0; i < problems.size() && i < options.max_problems; ++i) {
      report.problems.push_back(EscapeInvalidUtf8(problems[i]));
    }
    if (problems.size() > options.max_problems) {
      report.problems.push_back(
          fmt::format("... and {} more problems", problems.size() - options.max_problems));
    }
    report.duration_ms = clock.NowMs() - report.started_at_ms;
    return report;
  };

  // 1. The manifest lists the snapshot.
  const std::string backup_where = fmt::format("backup storage {} directory {}",
                                               backup.store()->DisplayUrl(), backup.directory());
  auto manifest = backup.ReadManifest();
  if (!manifest.ok()) return manifest.status().WithContext(backup_where);
  RWMETA_ASSIGN_OR_RETURN(const backup::SnapshotMetadata entry,
                          internal::FindSnapshot(*manifest, snapshot_id, backup_where));
  if (entry.format_version != backup::kSnapshotFormatVersion) {
    problems.push_back(
        fmt::format("meta snapshot {} has format version {}; this build restores format version {}",
                    snapshot_id, entry.format_version, backup::kSnapshotFormatVersion));
    return finish();
  }

  // 2 and 3. Read whole, loaded into a fresh memory store through restore's verb.
  const Model& model = Model::Get();
  metastore::MemoryMetaStore store(model);
  auto loader = store.BeginBulkLoad();
  if (!loader.ok()) return loader.status().WithContext("the drill's in-memory meta store");
  DrillVisitor visitor(model, loader->get(), &report, &problems);
  auto read = [&]() -> Result<backup::SnapshotContents> {
    RWMETA_ASSIGN_OR_RETURN(auto reader, backup.OpenSnapshot(snapshot_id));
    return reader->ReadAll(&visitor);
  }();
  if (!read.ok()) {
    const StatusCode code = read.status().code();
    // The snapshot is what is broken: a finding, not a failure to drill.
    if (code == StatusCode::kDataLoss || code == StatusCode::kUnimplemented) {
      problems.push_back(std::string(read.status().message()));
      return finish();
    }
    return read.status().WithContext(
        fmt::format("meta snapshot {} at {}", snapshot_id, backup_where));
  }
  const backup::SnapshotContents& contents = *read;
  report.hummock_version_id = contents.version.id();
  Status matches = internal::CheckAgainstEntry(
      contents, entry, backup::SnapshotKey(backup.directory(), snapshot_id));
  if (!matches.ok()) problems.push_back(std::string(matches.message()));

  // 4. Foreign keys over the snapshot's rows; the store's refusals of other rows.
  std::set<std::string> rows_named;
  visitor.CheckReferences(&problems, &rows_named);
  for (const Refusal& refusal : visitor.refusals()) {
    if (rows_named.contains(refusal.table + "\n" + refusal.key)) continue;
    problems.push_back(fmt::format("table {} row {} does not load into a meta store: {}",
                                   refusal.table, refusal.key, refusal.message));
  }
  Status committed = (*loader)->Finish();
  if (!committed.ok()) {
    problems.push_back(fmt::format("the rows do not commit into an in-memory meta store: {}",
                                   committed.message()));
  }

  // 5. Sequences above every id they handed out.
  for (const TableSchema& table : model.tables()) {
    auto max = visitor.max_keys().find(table.name);
    if (table.id_sequence.empty() || max == visitor.max_keys().end()) continue;
    CheckSequence(visitor.sequences(), table.id_sequence,
                  fmt::format("the largest {}.{}", table.name, table.primary_key[0]), max->second,
                  &report, &problems);
  }
  const std::vector<uint64_t> object_ids = hummock::ObjectIds(contents.version);
  if (!object_ids.empty()) {
    CheckSequence(visitor.sequences(), hummock::kObjectIdSequence,
                  fmt::format("the largest object id of hummock version {}", contents.version.id()),
                  static_cast<int64_t>(object_ids.back()), &report, &problems);
  }
  CheckSequence(visitor.sequences(), backup::kSnapshotIdSequence, "the snapshot's own id",
                static_cast<int64_t>(snapshot_id), &report, &problems);

  // 6. Every referenced object in the state store.
  auto listed = internal::ListSstObjectIds(state_store, state_store_directory);
  if (!listed.ok()) {
    return listed.status().WithContext(fmt::format(
        "state store {} directory {}", state_store.DisplayUrl(), state_store_directory));
  }
  report.objects_checked = object_ids.size();
  for (uint64_t id : object_ids) {
    if (std::binary_search(listed->begin(), listed->end(), id)) continue;
    problems.push_back(fmt::format("object {} of hummock version {} is missing from state store {}",
                                   hummock::SstObjectKey(state_store_directory, id),
                                   contents.version.id(), state_store.DisplayUrl()));
  }
  return finish();
}

std::string FormatDrillReport(const DrillReport& r) {
  std::string line;
  if (r.passed) {
    line = fmt::format(
        "meta snapshot {} drill passed in {} ms: {} tables, {} rows, {} references, {} sequences, "
        "{} objects of hummock version {} checked",
        r.snapshot_id, r.duration_ms, r.tables, r.rows, r.references_checked, r.sequences_checked,
        r.objects_checked, r.hummock_version_id);
  } else {
    line = fmt::format("meta snapshot {} drill failed in {} ms ({} problem{}): ", r.snapshot_id,
                       r.duration_ms, r.problem_count, r.problem_count == 1 ? "" : "s");
    for (size_t i = 0; i < r.problems.size(); ++i) {
      line += (i > 0 ? "; " : "") + r.problems[i];
    }
  }
  return Truncate(EscapeInvalidUtf8(line), kMaxDrillReportLineBytes);
}

}  // namespace rwmeta::restore
