// EtcdMetaStore: the MetaStore contract over an etcd v3 cluster (gRPC, proto/etcd_rpc.proto).
// docs/metastore-etcd.md is the operator's page: URL, key layout, limits, preparing an empty
// etcd, authentication.
//
// Storage: every key lives under one prefix P (default "/rwmeta"); layout and row encoding are in
// etcd_codec.h. Unique and foreign keys are checked by the client, as the memory backend does.
//
// Isolation: serializable, optimistic. A transaction reads the store at the etcd revision R at
// which it began (plus its own buffered writes) and records what it read: each key read by
// primary key with its mod_revision at R (0: absent), and each table it read by range (Scan,
// Count, unique and foreign-key checks) as that table's guard key. Commit is one etcd Txn that
// compares every recorded key's mod_revision, every guard's mod_revision (<= R), the schema
// version key and the absence of the bulk-load marker, and only then writes the rows and rewrites
// the guards of the tables written. A failed compare is Aborted: RunTransaction redoes the
// transaction. Read-only transactions commit without contacting etcd. The guards are written with
// a random commit id: when the answer to a commit is lost (timeout, connection cut after sending),
// Commit reads a guard back and returns OK if it holds its id, else Unavailable ("outcome
// unknown"): a commit that happened is never reported as failed and redone.
//
// Limits: etcd refuses a Txn with more than --max-txn-ops (default 128) operations in its compare
// or its write list, or larger than --max-request-bytes (default 1.5 MiB). A transaction writes
// one operation per row written or deleted plus one per table written; a write that would pass
// `max_txn_ops` is refused with ResourceExhausted and changes nothing. Point reads beyond the
// limit fold into their table's guard, so reads never hit it. Restores use EtcdBulkLoader, which
// has no such limit.
//
// Snapshot reads: one revision R for the whole view, read in pages of `page_size` keys. If etcd
// compacts R away while the view is in use, reads return FailedPrecondition naming R.
//
// Concurrency:
//   | operation                          | may run concurrently with                      |
//   |------------------------------------|------------------------------------------------|
//   | Inspect, BeginSnapshotRead, reads  | everything                                     |
//   | BeginTransaction, writes (buffered)| everything                                     |
//   | Commit                             | everything; conflicting commits: one wins, the |
//   |                                    | others are Aborted                             |
//   | Migrate                            | everything; transactions begun before abort    |
//   | EtcdBulkLoader                     | nothing else writing under the prefix          |
// One Transaction or ReadView is used by one thread at a time (meta_store.h).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metastore/meta_store.h"
#include "metastore/model.h"

namespace rwmeta::metastore {

struct EtcdMetaStoreOptions {
  // "host:port" each, tried in order on failure; at least one.
  std::vector<std::string> endpoints;
  // Empty: no authentication.
  std::string username;
  std::string password;
  // Every key of the store starts with prefix + "/". Starts with '/', does not end with one.
  std::string prefix = "/rwmeta";
  // etcd's --max-txn-ops of the target cluster.
  int max_txn_ops = 128;
  // Keys per Range page in scans.
  int64_t page_size = 500;
  // Bytes of row data per bulk-load Txn; keep below etcd's --max-request-bytes (1.5 MiB default).
  int64_t max_txn_bytes = 1 << 20;
  // Bulk-load Txns sent before the answer to the oldest is awaited. etcd commits the requests it
  // has at hand together, with one disk sync, where one at a time each waits for a sync of its
  // own (most of a restore's time). Memory: up to this many batches of max_txn_bytes.
  int bulk_load_txns_in_flight = 8;
  // Deadline of each etcd call.
  int64_t timeout_ms = 5000;
  // Tests only: see EtcdClientOptions::drop_write_response_for_testing.
  std::function<bool()> drop_write_response_for_testing;
};

// Parses "etcd://[user:password@]host[:port][,host[:port]...][/prefix][?param=value&...]" (port
// 2379 by default; user and password percent-encoded). Parameters: max_txn_ops, page_size,
// max_txn_bytes, timeout_ms (positive integers). InvalidArgument naming the problem; the message
// quotes the URL only through RedactUrl.
Result<EtcdMetaStoreOptions> ParseEtcdUrl(std::string_view url);

class EtcdBulkLoader;

class EtcdMetaStore final : public MetaStore {
 public:
  struct Shared;  // opaque: client, options, model; shared with live transactions and loaders

  // Connects (authenticating when a user name is given) and checks that the store's keys can be
  // read. Does not migrate. InvalidArgument for bad options; Unavailable if no endpoint answers;
  // Unauthenticated for wrong credentials or when etcd requires authentication and none was given;
  // FailedPrecondition when credentials were given but etcd has authentication disabled;
  // PermissionDenied if the user may not read the prefix.
  // REQUIRES: `model` outlives the store and everything it hands out.
  static Result<std::unique_ptr<EtcdMetaStore>> Open(EtcdMetaStoreOptions options,
                                                     const Model& model = Model::Get());
  ~EtcdMetaStore() override;

  std::string_view backend() const override { return "etcd"; }
  // "etcd://[user@]h1:p1,h2:p2/prefix" (no password).
  std::string DisplayUrl() const override;

  // Version from P/meta/version (0 when absent). Empty: no key under P/ other than P/meta/ and
  // P/guard/ (so foreign data under the prefix is never taken for an empty target).
  // FailedPrecondition if the bulk-load marker is present (an interrupted restore: re-run it, or
  // delete the prefix). Network errors as Open.
  Result<SchemaState> Inspect() override;
  // Writes the model version, one compare-and-swap per version step. Rows need no rewriting:
  // columns added later read as NULL from older rows. FailedPrecondition naming both versions if
  // the store is newer than the model, or if the bulk-load marker is present. Idempotent.
  Status Migrate() override;
  // FailedPrecondition unless the store is at exactly the model's version and has no bulk-load
  // marker. Network errors as Open.
  Result<std::unique_ptr<Transaction>> BeginTransaction() override;
  // As BeginTransaction. The view reads at one revision; FailedPrecondition naming the revision
  // once etcd has compacted it.
  Result<std::unique_ptr<ReadView>> BeginSnapshotRead() override;

  // The MetaStore verb, through EtcdBulkLoader: etcd has no transaction big enough for a store.
  // If a previous load was cut short (marker present), its keys are deleted first: re-running a
  // failed restore cleans up. Otherwise FailedPrecondition if the store is not empty or is newer
  // than the model. Writes the marker and the model version; the store refuses everything else
  // until EtcdBulkLoader::Finish removes the marker. Aborted if another load started meanwhile.
  Result<std::unique_ptr<BulkLoader>> BeginBulkLoad() override;
  // As BeginBulkLoad, typed (tests read rows_loaded()).
  Result<std::unique_ptr<EtcdBulkLoader>> BeginEtcdBulkLoad();
  const Model& model() const override;

  // The cluster's current revision.
  Result<int64_t> CurrentRevision();
  // Compacts etcd's history up to `revision` (waits until physically applied). Maintenance and
  // tests; etcd's own --auto-compaction does the same.
  Status Compact(int64_t revision);

 private:
  explicit EtcdMetaStore(std::shared_ptr<Shared> shared);

  std::shared_ptr<Shared> shared_;
};

// Loads rows into a store in batches of Txns, all-or-nothing for readers: the marker written by
// BeginBulkLoad stays until Finish, and every other entry point refuses a store that has it.
// Up to EtcdMetaStoreOptions::bulk_load_txns_in_flight batches travel at once (from threads of
// their own; each still compares the marker and the absence of its keys), so a refusal may be
// reported by a later Add or by Finish, which waits for every batch before removing the marker.
// Rows are validated against the model (InvalidArgument) but unique and foreign keys are not
// checked: the rows come from a consistent snapshot. Loading the same primary key twice is
// AlreadyExists. If another load took over the prefix (its re-run deleted our marker), Add and
// Finish return Aborted. Destroying a loader without Finish leaves the marker (the store stays
// refused until a new load or a manual cleanup). Not thread-safe.
class EtcdBulkLoader final : public BulkLoader {
 public:
  ~EtcdBulkLoader() override;

  // Buffers the row; sends a batch when it is full.
  Status Add(const TableSchema& table, const Row& row) override;
  // Sends the last batch and removes the marker.
  Status Finish() override;

  // Rows sent to etcd so far (the answers to the last batches may still be on their way).
  int64_t rows_loaded() const { return rows_loaded_; }

 private:
  friend class EtcdMetaStore;
  EtcdBulkLoader(std::shared_ptr<EtcdMetaStore::Shared> shared, int64_t marker_revision);
  // Sends the batch (without waiting for it when fewer than the limit are in flight).
  Status Flush();
  // Waits for the oldest batch in flight; returns the first failure of any batch.
  Status AwaitOldest();
  // Sends one batch and diagnoses a failed compare. Runs on a thread of its own.
  static Status SendBatch(const EtcdMetaStore::Shared& shared, int64_t marker_revision,
                          std::vector<std::pair<std::string, std::string>> batch);

  std::shared_ptr<EtcdMetaStore::Shared> shared_;
  // Create revision of our marker: every batch compares it, so a load that lost the prefix to a
  // newer load stops.
  int64_t marker_revision_;
  std::vector<std::pair<std::string, std::string>> batch_;  // key, encoded row
  int64_t batch_bytes_ = 0;
  int64_t rows_loaded_ = 0;
  // The outcomes of the batches sent and not yet awaited, oldest first. Destroying the loader
  // waits for each (a future of std::async), so no batch outlives it.
  std::deque<std::future<Status>> in_flight_;
  Status failed_;  // the first failure of a batch
  bool finished_ = false;
};

}  // namespace rwmeta::metastore
