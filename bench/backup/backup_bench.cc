// backup_bench: how fast meta snapshots are taken, verified and restored on this machine, and how
// much memory that takes.
//
//   backup_bench [--rows N] [--ssts S] [--dir D]
//
// Builds a cluster in a temporary directory: a SQLite meta store with N extra rows of ~250 bytes
// (JSON, as version statistics are stored) and a Hummock version of S SSTs (fs:// state store;
// the SST objects are not written: a snapshot carries the version, not the data). Then it takes a
// meta snapshot through the BackupManager (the meta node's path: checkpoint hook, consistent cut,
// streamed write, manifest publish), verifies it (read whole, checksums, manifest entry), restores
// it into a fresh SQLite file with the restore engine (risectl meta restore-meta's path), and
// prints rows/s, MB/s, the snapshot's size and compression ratio, and the process's peak RSS
// after each phase. Figures, not assertions.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "backup/backup_storage.h"
#include "hummock/store/hummock_manager.h"
#include "meta/backup_manager.h"
#include "meta/bootstrap.h"
#include "meta/system_params.h"
#include "metastore/factory.h"
#include "objstore/factory.h"
#include "restore/restore.h"

using namespace rwmeta;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    fmt::print(stderr, "backup_bench: {}: {}\n", what, s.ToString());
    std::exit(1);
  }
}

double PeakRssMiB() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

double MiB(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 200'000;
  int64_t ssts = 5'000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--rows") {
      rows = std::atoll(argv[i + 1]);
    } else if (flag == "--ssts") {
      ssts = std::atoll(argv[i + 1]);
    } else if (flag == "--dir") {
      dir = argv[i + 1];
    } else {
      fmt::print(stderr, "usage: backup_bench [--rows N] [--ssts S] [--dir D]\n");
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  const bool own_dir = dir.empty();
  if (own_dir) {
    dir = (std::filesystem::temp_directory_path() / fmt::format("backup_bench_{}", getpid()))
              .string();
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string state_url = "fs://" + dir + "/state";
  std::filesystem::create_directories(dir + "/state");

  auto meta = metastore::OpenMetaStore("sqlite://" + dir + "/meta.db");
  Check(meta.status(), "open meta store");
  Check((*meta)->Migrate(), "migrate");
  meta::BootstrapOptions bootstrap;
  bootstrap.state_store = "hummock+" + state_url;
  bootstrap.data_directory = "hummock_001";
  bootstrap.backup_storage_url = state_url;
  bootstrap.backup_storage_directory = "backup";
  auto cluster = meta::BootstrapCluster(**meta, bootstrap);
  Check(cluster.status(), "bootstrap");
  auto state_store = objstore::OpenObjectStore(state_url);
  Check(state_store.status(), "open state store");
  Check(hummock::CheckStateStoreClusterId(**state_store, state_url, "hummock_001",
                                          cluster->cluster_id),
        "cluster id");

  // Rows: ~250 bytes of JSON each, in transactions of 10k.
  uint64_t raw_bytes = 0;
  auto start = std::chrono::steady_clock::now();
  const auto& stats = metastore::Model::Get().Table("hummock_version_stats");
  for (int64_t done = 0; done < rows;) {
    const int64_t batch = std::min<int64_t>(10'000, rows - done);
    Check(metastore::RunTransaction(**meta,
                                    [&](metastore::Transaction& txn) -> Status {
                                      for (int64_t i = done; i < done + batch; ++i) {
                                        std::string json = fmt::format(
                                            "{{\"version\":{},\"tables\":{{\"{}\":{{\"keys\":{},"
                                            "\"bytes\":{},\"note\":\"row {} of the backup "
                                            "benchmark, padded to look like real statistics "
                                            "rather than a constant\"}}}}}}",
                                            i, 1000 + i % 97, i * 31 % 100'003,
                                            i * 7919 % 1'000'003, i);
                                        raw_bytes += json.size() + 8;
                                        RWMETA_RETURN_IF_ERROR(txn.Insert(stats, {i, json}));
                                      }
                                      return Status::Ok();
                                    }),
          "insert rows");
    done += batch;
  }
  fmt::print("setup: {} rows inserted in {:.2f} s\n", rows, Seconds(start));

  auto hummock =
      hummock::HummockManager::Open(**meta, **state_store, {.data_directory = "hummock_001"});
  Check(hummock.status(), "open hummock");
  start = std::chrono::steady_clock::now();
  for (int64_t done = 0; done < ssts;) {
    const int64_t batch = std::min<int64_t>(500, ssts - done);
    auto first = (*hummock)->NewObjectIds(static_cast<uint64_t>(batch));
    Check(first.status(), "object ids");
    std::vector<hummock::SstableInfo> infos;
    const uint64_t epoch = hummock::NextEpoch((*hummock)->current()->max_committed_epoch());
    for (int64_t i = 0; i < batch; ++i) {
      hummock::SstableInfo sst;
      sst.set_object_id(*first + i);
      sst.set_sst_id(*first + i);
      sst.set_smallest_key(fmt::format("t1001/{:012}", (done + i) * 2));
      sst.set_largest_key(fmt::format("t1001/{:012}", (done + i) * 2 + 1));
      sst.set_file_size(64 << 20);
      sst.add_table_ids(1001);
      sst.set_min_epoch(epoch);
      sst.set_max_epoch(epoch);
      infos.push_back(std::move(sst));
    }
    Check((*hummock)->CommitEpoch(epoch, infos, {1001}), "commit epoch");
    done += batch;
  }
  fmt::print("setup: hummock version {} with {} SSTs in {:.2f} s\n", (*hummock)->current()->id(),
             ssts, Seconds(start));

  meta::SystemParamsManager params(**meta);
  Check(params.Reload(), "params");
  meta::BackupManagerOptions options;
  options.cluster_id = cluster->cluster_id;
  options.rwmeta_version = "bench";
  auto manager = meta::BackupManager::Open(**meta, **hummock, params, options);
  Check(manager.status(), "backup manager");
  const double rss_before = PeakRssMiB();

  start = std::chrono::steady_clock::now();
  auto job_id = (*manager)->StartBackup("backup_bench");
  Check(job_id.status(), "start backup");
  auto job = (*manager)->WaitForJob(*job_id, std::chrono::hours(1));
  Check(job.status(), "wait for backup");
  if (job->state != meta::BackupJobState::kSucceeded) {
    fmt::print(stderr, "backup_bench: backup failed: {}\n", job->message);
    return 1;
  }
  const double backup_s = Seconds(start);
  auto manifest = (*manager)->GetManifest();
  Check(manifest.status(), "manifest");
  const backup::SnapshotMetadata& entry = manifest->snapshots.back();
  fmt::print(
      "backup:  snapshot {} of {} meta rows + {} SSTs: {:.2f} s, {:.0f} rows/s ({:.1f} MiB/s of "
      "row "
      "data), {:.1f} MiB object ({:.1f}x smaller); peak RSS {:.0f} MiB (before: {:.0f})\n",
      entry.id, rows, ssts, backup_s, static_cast<double>(rows) / backup_s,
      MiB(raw_bytes) / backup_s, MiB(entry.size_bytes),
      static_cast<double>(raw_bytes) / static_cast<double>(std::max<uint64_t>(1, entry.size_bytes)),
      PeakRssMiB(), rss_before);

  start = std::chrono::steady_clock::now();
  auto verified = (*manager)->VerifySnapshot(entry.id);
  Check(verified.status(), "verify");
  const double verify_s = Seconds(start);
  fmt::print("verify:  {:.2f} s ({:.1f} MiB/s of snapshot); peak RSS {:.0f} MiB\n", verify_s,
             MiB(entry.size_bytes) / verify_s, PeakRssMiB());

  manager->reset();
  hummock->reset();

  auto target = metastore::OpenMetaStore("sqlite://" + dir + "/restored.db");
  Check(target.status(), "open target");
  auto backup_store = objstore::OpenObjectStore(state_url);
  Check(backup_store.status(), "open backup store");
  backup::BackupStorage storage(backup_store->get(), "backup");
  restore::RestoreOptions restore_options;
  restore_options.snapshot_id = entry.id;
  restore_options.hummock_storage_url = state_url;
  restore_options.hummock_storage_directory = "hummock_001";
  start = std::chrono::steady_clock::now();
  auto summary = restore::RestoreMeta(storage, **target, **state_store, restore_options);
  Check(summary.status(), "restore");
  const double restore_s = Seconds(start);
  fmt::print(
      "restore: {} rows into a fresh SQLite file: {:.2f} s, {:.0f} rows/s; peak RSS {:.0f} "
      "MiB\n",
      summary->rows, restore_s, static_cast<double>(summary->rows) / restore_s, PeakRssMiB());
  fmt::print("         {}\n", restore::FormatSummary(*summary));

  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
