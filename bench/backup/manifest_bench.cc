// manifest_bench: what a backup location's manifest costs as snapshots accumulate on a large
// cluster, with the details (object ids, state table info) in each snapshot object's header
// (format 1.1) against the old layout that carried them in every manifest entry.
//
//   manifest_bench [--snapshots N] [--tables T] [--ssts S] [--rows R] [--dir D]
//
// Defaults: 100 snapshots of a 10,000-table cluster whose Hummock version references 2,000 SSTs,
// with 10,000 meta rows of ~250 bytes (as backup_bench makes them). Between snapshots 100 tables
// commit a new epoch and 20 SSTs are added, so each snapshot's details differ. Each BACKUP is
// BackupStorage::WriteSnapshot: stream the object to an fs:// location, read it back whole, publish
// the manifest entry. Printed at 1, 10, 25, 50, ... snapshots: manifest.json size and what the old
// layout's would be for the same entries, the BACKUP time and what publishing the old layout's
// manifest would add to it (read, decode, encode, write), the time of GC's protection set from a
// cold cache (every header read: a restarted node) and warm (manifest read only), and the bytes a
// header read fetches out of the object's size. Figures, not assertions.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "backup/backup_storage.h"
#include "metastore/factory.h"
#include "metastore/model.h"
#include "objstore/factory.h"

using namespace rwmeta;

namespace {

double Ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    fmt::print(stderr, "manifest_bench: {}: {}\n", what, s.ToString());
    std::exit(1);
  }
}

double KiB(uint64_t bytes) { return static_cast<double>(bytes) / 1024.0; }

// The same manifest as the old layout wrote it (every entry with its details inline): its size,
// and what publishing it cost each BACKUP on top of the object (Get + decode, encode + Put).
struct OldLayout {
  uint64_t bytes = 0;
  double publish_ms = 0;
};

Result<OldLayout> MeasureOldLayout(backup::BackupStorage& storage, const backup::Manifest& manifest,
                                   objstore::ObjectStore& store) {
  backup::Manifest old = manifest;
  for (backup::SnapshotMetadata& entry : old.snapshots) {
    RWMETA_ASSIGN_OR_RETURN(auto details, storage.Details(entry));
    entry.inline_details = *details;
  }
  const std::string key = "old-layout/manifest.json";
  RWMETA_RETURN_IF_ERROR(store.Put(key, backup::EncodeManifest(old)));
  const auto start = std::chrono::steady_clock::now();
  RWMETA_ASSIGN_OR_RETURN(std::string bytes, store.Get(key));
  RWMETA_ASSIGN_OR_RETURN(backup::Manifest decoded, backup::DecodeManifest(bytes, key));
  const std::string encoded = backup::EncodeManifest(decoded);
  RWMETA_RETURN_IF_ERROR(store.Put(key, encoded));
  return OldLayout{encoded.size(), Ms(start)};
}

}  // namespace

int main(int argc, char** argv) {
  int64_t snapshots = 100, tables = 10'000, ssts = 2'000, rows = 10'000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int64_t value = std::atoll(argv[i + 1]);
    if (flag == "--snapshots") {
      snapshots = value;
    } else if (flag == "--tables") {
      tables = value;
    } else if (flag == "--ssts") {
      ssts = value;
    } else if (flag == "--rows") {
      rows = value;
    } else if (flag == "--dir") {
      dir = argv[i + 1];
    } else {
      fmt::print(stderr,
                 "usage: manifest_bench [--snapshots N] [--tables T] [--ssts S] [--rows R] "
                 "[--dir D]\n");
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  const bool own_dir = dir.empty();
  if (own_dir) {
    dir = (std::filesystem::temp_directory_path() / fmt::format("manifest_bench_{}", getpid()))
              .string();
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/backup");

  auto meta = metastore::OpenMetaStore("memory");
  Check(meta.status(), "open meta store");
  Check((*meta)->Migrate(), "migrate");
  const auto& stats = metastore::Model::Get().Table("hummock_version_stats");
  Check(metastore::RunTransaction(**meta,
                                  [&](metastore::Transaction& txn) -> Status {
                                    for (int64_t i = 0; i < rows; ++i) {
                                      std::string json = fmt::format(
                                          "{{\"version\":{},\"tables\":{{\"{}\":{{\"keys\":{},"
                                          "\"bytes\":{},\"note\":\"row {} of the manifest "
                                          "benchmark, padded to look like real statistics "
                                          "rather than a constant\"}}}}}}",
                                          i, 1000 + i % 97, i * 31 % 100'003, i * 7919 % 1'000'003,
                                          i);
                                      RWMETA_RETURN_IF_ERROR(txn.Insert(stats, {i, json}));
                                    }
                                    return Status::Ok();
                                  }),
        "insert rows");

  // The version: one compaction group, SSTs in L1, every table committed.
  hummock::HummockVersion version;
  uint64_t epoch = 1ull << 40;
  uint64_t next_object = 1000;
  hummock::CompactionGroup* group = version.add_groups();
  group->set_group_id(2);
  for (uint32_t level = 1; level <= 6; ++level) group->add_levels()->set_level_idx(level);
  auto add_ssts = [&](int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      hummock::SstableInfo* sst = group->mutable_levels(0)->add_table_infos();
      sst->set_object_id(next_object);
      sst->set_sst_id(next_object);
      sst->set_file_size(64 << 20);
      sst->set_smallest_key(fmt::format("k{:012}", next_object));
      sst->set_largest_key(fmt::format("k{:012}~", next_object));
      ++next_object;
    }
  };
  add_ssts(ssts);
  for (uint32_t t = 0; t < tables; ++t) {
    hummock::StateTableInfo& info = (*version.mutable_state_table_info())[1000 + t];
    info.set_committed_epoch(epoch - (t % 50) * 65536);
    info.set_compaction_group_id(2 + t % 3);
  }
  version.set_max_committed_epoch(epoch);
  version.set_safe_epoch(epoch - 100 * 65536);

  auto store = objstore::OpenObjectStore("fs://" + dir);
  Check(store.status(), "open backup store");
  backup::BackupStorage storage(store->get(), "backup");

  fmt::print(
      "manifest_bench: {} snapshots of {} state tables, {}+ SSTs, {} meta rows, fs:// backup "
      "storage\n",
      snapshots, tables, ssts, rows);
  fmt::print("{:>9} {:>12} {:>14} {:>7} {:>9} {:>14} {:>10} {:>10} {:>12}\n", "snapshots",
             "manifest KiB", "old-layout KiB", "entry B", "BACKUP ms", "old publish ms",
             "GC cold ms", "GC warm ms", "header read");
  double backup_ms_total = 0;
  for (int64_t n = 1; n <= snapshots; ++n) {
    // Move the cluster on: a new epoch for 100 tables, 20 more SSTs.
    epoch += 65536;
    for (int64_t k = 0; k < 100; ++k) {
      const uint32_t t = 1000 + static_cast<uint32_t>((n * 100 + k) % tables);
      (*version.mutable_state_table_info())[t].set_committed_epoch(epoch);
    }
    add_ssts(20);
    version.set_id(static_cast<uint64_t>(n) + 10);
    version.set_max_committed_epoch(epoch);

    auto view = (*meta)->BeginSnapshotRead();
    Check(view.status(), "snapshot read");
    backup::SnapshotHeader header;
    header.cluster_id = "manifest-bench";
    header.rwmeta_version = "bench";
    header.source_backend = "memory";
    header.created_at_ms = 1767225600000 + n;
    const auto start = std::chrono::steady_clock::now();
    auto entry = storage.WriteSnapshot(static_cast<uint64_t>(n), **view, version, header,
                                       fmt::format("bench {}", n));
    Check(entry.status(), "write snapshot");
    const double backup_ms = Ms(start);
    backup_ms_total += backup_ms;
    // A few rows: the old layout's manifest alone takes seconds to publish near 100 snapshots.
    if (n != 1 && n != 10 && n % 25 != 0 && n != snapshots) continue;

    auto manifest = storage.ReadManifest();
    Check(manifest.status(), "read manifest");
    const uint64_t manifest_bytes = backup::EncodeManifest(*manifest).size();
    // GC's protection set as a restarted node computes it (every header read), then again.
    backup::BackupStorage cold_storage(store->get(), "backup");
    auto cold_start = std::chrono::steady_clock::now();
    Check(cold_storage.ProtectedObjectIds(*manifest).status(), "protected ids (cold)");
    const double cold_ms = Ms(cold_start);
    auto warm_start = std::chrono::steady_clock::now();
    Check(cold_storage.ProtectedObjectIds().status(), "protected ids (warm)");
    const double warm_ms = Ms(warm_start);
    auto old = MeasureOldLayout(cold_storage, *manifest, **store);
    Check(old.status(), "old layout");
    auto header_read =
        backup::ReadSnapshotHeader(**store, backup::SnapshotKey("backup", entry->id));
    Check(header_read.status(), "header read");
    fmt::print(
        "{:>9} {:>12.1f} {:>14.1f} {:>7} {:>9.1f} {:>14.1f} {:>10.1f} {:>10.2f} "
        "{:>5.0f}/{:.0f} KiB\n",
        n, KiB(manifest_bytes), KiB(old->bytes), manifest_bytes / manifest->snapshots.size(),
        backup_ms, old->publish_ms, cold_ms, warm_ms, KiB(header_read->bytes_read),
        KiB(entry->size_bytes));
  }
  fmt::print("BACKUP: {:.1f} ms per snapshot on average over {} snapshots\n",
             backup_ms_total / static_cast<double>(snapshots), snapshots);
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
