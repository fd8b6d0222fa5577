// The names of the system parameters: the keys of the meta store's `system_parameter` rows, of
// `SHOW PARAMETERS` / `ALTER SYSTEM SET`, and of every meta snapshot's parameter section. They
// follow RisingWave's names and reach disk and snapshots: never rename. Their types, defaults and
// descriptions live with the rest of the definition in meta/system_params.cc; restore (which must
// not depend on the meta layer) and the meta node read parameters by these names.
#pragma once

namespace rwmeta::metastore::params {

inline constexpr char kBarrierIntervalMs[] = "barrier_interval_ms";
inline constexpr char kCheckpointFrequency[] = "checkpoint_frequency";
inline constexpr char kSstableSizeMb[] = "sstable_size_mb";
inline constexpr char kParallelCompactSizeMb[] = "parallel_compact_size_mb";
inline constexpr char kBlockSizeKb[] = "block_size_kb";
inline constexpr char kBloomFalsePositive[] = "bloom_false_positive";
inline constexpr char kStateStore[] = "state_store";
inline constexpr char kDataDirectory[] = "data_directory";
inline constexpr char kBackupStorageUrl[] = "backup_storage_url";
inline constexpr char kBackupStorageDirectory[] = "backup_storage_directory";
inline constexpr char kMaxConcurrentCreatingStreamingJobs[] =
    "max_concurrent_creating_streaming_jobs";
inline constexpr char kPauseOnNextBootstrap[] = "pause_on_next_bootstrap";
inline constexpr char kEnableTracing[] = "enable_tracing";
inline constexpr char kTimeTravelRetentionMs[] = "time_travel_retention_ms";
inline constexpr char kLicenseKey[] = "license_key";
// rwmeta's own: the meta node's schedule of meta snapshots (meta/backup_manager.h).
inline constexpr char kBackupScheduleIntervalSec[] = "backup_schedule_interval_sec";
inline constexpr char kBackupRetentionCount[] = "backup_retention_count";
inline constexpr char kBackupRetentionSec[] = "backup_retention_sec";

}  // namespace rwmeta::metastore::params
