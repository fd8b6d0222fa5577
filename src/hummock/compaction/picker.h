// Choosing what to compact (rules and reasons: docs/format/compaction.md).
//
//   std::optional<CompactionTask> task = PickCompaction(version, config);
//   if (task) { RunCompaction(...) (compactor.h), then commit the delta it returns }
//
// Pure functions over a version: thread-safe, no I/O. The caller runs at most one task per
// compaction group at a time and builds the task's delta on the version it was picked from (a
// task whose inputs have changed since must be dropped, which ApplyDelta detects: DataLoss for a
// removed input that is gone).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hummock/sst/sst_writer.h"
#include "proto/hummock.pb.h"

namespace rwmeta::hummock {

struct CompactionConfig {
  // L0 (all of its sub-levels) is compacted into the base level (L1) once it has at least this
  // many sub-levels ...
  uint32_t l0_sub_level_trigger = 4;
  // ... or at least this many bytes.
  uint64_t l0_size_trigger_bytes = 64ull << 20;
  // Compaction outputs are cut once the key and value bytes written into one reach this (never
  // between two versions of one user key, so an output may exceed it by one key's versions).
  uint64_t target_file_size_bytes = 32ull << 20;
  // Size target of L1; level n (n > 1) may hold base_level_size_bytes * multiplier^(n-1).
  uint64_t base_level_size_bytes = 256ull << 20;
  uint64_t level_multiplier = 10;
  // How outputs are written (object_id is set per output).
  SstWriterOptions output_sst_options;
};

// The size target of level `level_idx` (1..6) under `config`.
uint64_t LevelTargetBytes(const CompactionConfig& config, uint32_t level_idx);

// One level's part of a task, with the SSTs in the order the level keeps them.
struct CompactionInputLevel {
  uint32_t level_idx = 0;     // 0 for an L0 sub-level
  uint64_t sub_level_id = 0;  // L0 only
  std::vector<SstableInfo> ssts;
};

struct CompactionTask {
  uint64_t group_id = 0;
  // Newest data first: L0 sub-levels newest first, then the source level, then the target
  // level's overlapping SSTs (possibly none). Where the same full key appears twice, the
  // earlier level's copy wins.
  std::vector<CompactionInputLevel> inputs;
  uint32_t target_level = 1;
  // The inputs are moved to the target level as they are (no rewrite): they do not overlap one
  // another and nothing in the target level overlaps them.
  bool trivial_move = false;

  // Every input object id, in input order.
  std::vector<uint64_t> InputObjectIds() const;
  // "group 2: L0 (3 sub-levels, 5 ssts) + L1 (2 ssts) -> L1" / "... -> L2 (trivial move)".
  std::string ToString() const;
};

// Whether the user-key ranges (table id + user key; epochs ignored) of two SSTs intersect. An SST
// with no keys (empty smallest key) overlaps nothing.
bool SstsOverlap(const SstableInfo& a, const SstableInfo& b);

// The most urgent compaction of `version`, or nullopt if no level crosses its trigger:
// 1. In each group, L0 when triggered (sub-level count or size): all L0 sub-levels plus the L1
//    SSTs overlapping any of them, into L1.
// 2. Otherwise the level Ln (1 <= n < 6) with the largest size / LevelTargetBytes(n) above 1 over
//    all groups: one SST of Ln — the one whose overlapping bytes in Ln+1 are the fewest per byte
//    of its own (ties: the smallest key) — plus those overlapping SSTs, into Ln+1.
// L0 before any deeper level; among groups, the first by group id with a triggered L0. The task
// is a trivial move whenever its definition above allows it.
std::optional<CompactionTask> PickCompaction(const HummockVersion& version,
                                             const CompactionConfig& config);

}  // namespace rwmeta::hummock
