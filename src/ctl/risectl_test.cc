// Runs the built risectl binary against an in-test RpcServer with a fake backend, as an operator
// would, and checks stdout, stderr and the exit code.
#include "ctl/risectl.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/testing/status_matchers.h"
#include "ctl/ctl_context.h"
#include "ctl/testing/risectl_binary.h"
#include "rpc/rpc_server.h"
#include "rpc/testing/fake_meta_backend.h"
#include "rpc/testing/unused_port.h"

namespace rwmeta::ctl {
namespace {

using ::rwmeta::ctl::testing::RunRisectlBinary;
using ::rwmeta::rpc::testing::FakeMetaBackend;
using ::rwmeta::rpc::testing::UnusedLoopbackPort;
using ::rwmeta::testing::CommandResult;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class RisectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(server_.Start("127.0.0.1:0"));
    meta_addr_ = "http://" + server_.address();
  }

  // Runs risectl with `args` against the in-test meta node (via RW_META_ADDR).
  CommandResult Risectl(const std::vector<std::string>& args) {
    return RunRisectlBinary(args, meta_addr_);
  }
  // Runs risectl with `args` and no RW_META_ADDR.
  static CommandResult RisectlNoEnv(const std::vector<std::string>& args) {
    return RunRisectlBinary(args, std::nullopt);
  }

  FakeMetaBackend backend_;
  rpc::RpcServer server_{&backend_};
  std::string meta_addr_;
};

TEST_F(RisectlTest, ClusterInfoPrintsEveryFieldReadably) {
  CommandResult r = Risectl({"meta", "cluster-info"});
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "Cluster ID:          5f3c2a9e-1d2b-4c6e-9a8f-0b1c2d3e4f50\n"
            "Created at:          2025-11-24 16:00:00 UTC\n"
            "Generation:          3 (restored from meta snapshot 7 at 2025-11-25 16:00:00 UTC)\n"
            "rwmeta version:      0.1.0\n"
            "Meta store:          postgres postgres://meta:***@127.0.0.1:5432/meta\n"
            "State store:         hummock+minio://hummockadmin:***@127.0.0.1:9301/hummock001\n"
            "Listening (grpc):    127.0.0.1:5690\n"
            "Listening (pgwire):  127.0.0.1:4566\n"
            "Uptime:              1d 2h 3m 4s\n");
}

TEST_F(RisectlTest, SystemParamsGetPrintsTable) {
  CommandResult r = Risectl({"meta", "system-params", "get"});
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.exit_code, 0);
  // clang-format off
  EXPECT_EQ(r.out,
            "Name                      Value                               Mutable  Description\n"
            "barrier_interval_ms       1000                                true     The interval of periodic barrier.\n"
            "checkpoint_frequency      1                                   true     There will be a checkpoint for every n barriers.\n"
            "state_store               hummock+fs:///var/lib/rwmeta/state  false    The state store URL, with hummock+ prefix.\n"
            "data_directory            hummock_001                         false    Remote directory for storing data and metadata objects.\n"
            "backup_storage_url        fs:///var/lib/rwmeta/state          true     Remote storage url for storing snapshots.\n"
            "backup_storage_directory  hummock_001/backup                  true     Remote directory for storing snapshots.\n");
  // clang-format on
}

TEST_F(RisectlTest, SystemParamsGetNamePrintsOnlyTheValue) {
  CommandResult r = Risectl({"meta", "system-params", "get", "backup_storage_directory"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "hummock_001/backup\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(RisectlTest, SystemParamsGetUnknownNameFails) {
  CommandResult r = Risectl({"meta", "system-params", "get", "no_such_param"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: unknown parameter no_such_param\n");
}

TEST_F(RisectlTest, SystemParamsSetChangesValueAndPrintsNotice) {
  CommandResult r =
      Risectl({"meta", "system-params", "set", "backup_storage_url", "s3://backup_bucket"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "backup_storage_url = s3://backup_bucket\n");
  EXPECT_EQ(r.err, std::string("notice: ") + FakeMetaBackend::kBackupUrlNotice + "\n");
  EXPECT_EQ(backend_.params()[4].value, "s3://backup_bucket");

  CommandResult get = Risectl({"meta", "system-params", "get", "backup_storage_url"});
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out, "s3://backup_bucket\n");
}

TEST_F(RisectlTest, SystemParamsSetAcceptsValueStartingWithDashAfterSeparator) {
  CommandResult r = Risectl({"meta", "system-params", "set", "--", "barrier_interval_ms", "-5"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "barrier_interval_ms = -5\n");
}

TEST_F(RisectlTest, SystemParamsSetErrorsFromTheNodeExitOne) {
  CommandResult unknown = Risectl({"meta", "system-params", "set", "no_such_param", "1"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "error: unknown parameter no_such_param\n");
  EXPECT_EQ(unknown.out, "");

  CommandResult immutable =
      Risectl({"meta", "system-params", "set", "state_store", "hummock+memory"});
  EXPECT_EQ(immutable.exit_code, 1);
  EXPECT_EQ(immutable.err, "error: parameter state_store cannot be changed\n");
  EXPECT_EQ(backend_.params()[2].value, "hummock+fs:///var/lib/rwmeta/state");
}

TEST_F(RisectlTest, SystemParamsSetRefusesValueThatIsNotUtf8) {
  CommandResult r = Risectl({"meta", "system-params", "set", "barrier_interval_ms", "\xFF"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: system parameter value is not valid UTF-8\n");
  EXPECT_EQ(backend_.params()[0].value, "1000");
}

TEST_F(RisectlTest, BackendUnavailableIsReportedAsTheNodeSaidIt) {
  backend_.FailWith(UnavailableError("meta store at 127.0.0.1:5432: connection refused"));
  CommandResult r = Risectl({"meta", "cluster-info"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: meta store at 127.0.0.1:5432: connection refused\n");
}

TEST_F(RisectlTest, SetWithoutValueIsUsageError) {
  CommandResult r = Risectl({"meta", "system-params", "set", "barrier_interval_ms"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, AllOf(StartsWith("error: VALUE is required"), HasSubstr("Usage:")));
}

TEST_F(RisectlTest, UnknownCommandOrFlagIsUsageError) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"bogus"},
                                             {"meta", "bogus"},
                                             {"meta", "cluster-info", "--bogus"},
                                             {"meta", "system-params", "get", "a", "b"},
                                             {"--bogus", "meta", "cluster-info"}}) {
    CommandResult r = Risectl(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_EQ(r.out, "") << args.back();
    EXPECT_THAT(r.err, AllOf(StartsWith("error: "), HasSubstr("Usage:"))) << args.back();
  }
}

// restore-meta's snapshot id is checked as every id is (backup_commands_test.cc has the rest):
// "-1" would otherwise restore snapshot 18446744073709551615. Nothing is opened.
TEST_F(RisectlTest, RestoreMetaRefusesANegativeOrEmptySnapshotId) {
  for (const std::string& id : {std::string("-1"), std::string("")}) {
    CommandResult r =
        Risectl({"meta", "restore-meta", "--meta-snapshot-id", id, "--meta-store-type", "sqlite",
                 "--sql-endpoint", "/nonexistent/rwmeta-restore-test.db", "--backup-storage-url",
                 "fs:///nonexistent/backup", "--hummock-storage-url", "fs:///nonexistent/state"});
    EXPECT_EQ(r.exit_code, 2) << id << ": " << r.err;
    EXPECT_EQ(r.out, "") << id;
    EXPECT_THAT(
        r.err,
        AllOf(StartsWith(id.empty() ? "error: --meta-snapshot-id: an empty value is not an id"
                                    : "error: --meta-snapshot-id: an id cannot be negative: -1"),
              HasSubstr("Usage:")))
        << id;
  }
}

TEST_F(RisectlTest, UnknownCommandIsNamedWithTheUsageOfItsGroup) {
  CommandResult r = Risectl({"meta", "bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, AllOf(StartsWith("error: unknown command \"bogus\"\n"),
                           HasSubstr("Usage: risectl meta [OPTIONS] SUBCOMMAND"),
                           HasSubstr("cluster-info")));
}

TEST_F(RisectlTest, NoCommandPrintsUsageAndExitsTwo) {
  CommandResult none = Risectl({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err,
              AllOf(HasSubstr("subcommand is required"), HasSubstr("Usage:"), HasSubstr("meta")));
  CommandResult group = Risectl({"meta"});
  EXPECT_EQ(group.exit_code, 2);
  EXPECT_THAT(group.err, AllOf(HasSubstr("cluster-info"), HasSubstr("system-params")));
  CommandResult subgroup = Risectl({"meta", "system-params"});
  EXPECT_EQ(subgroup.exit_code, 2);
  EXPECT_THAT(subgroup.err, AllOf(HasSubstr("get"), HasSubstr("set")));
}

TEST_F(RisectlTest, HelpOnEveryLevelExplainsItsCommandsAndFlags) {
  CommandResult root = Risectl({"--help"});
  EXPECT_EQ(root.exit_code, 0);
  EXPECT_EQ(root.err, "");
  EXPECT_THAT(root.out, AllOf(HasSubstr("meta"), HasSubstr("--meta-addr"),
                              HasSubstr("RW_META_ADDR"), HasSubstr("--rpc-timeout-ms"),
                              HasSubstr("Commands for the meta node"), HasSubstr("Examples:")));

  CommandResult meta = Risectl({"meta", "--help"});
  EXPECT_EQ(meta.exit_code, 0);
  EXPECT_THAT(meta.out, AllOf(HasSubstr("cluster-info"), HasSubstr("Print the cluster's id"),
                              HasSubstr("system-params"), HasSubstr("ALTER SYSTEM SET")));

  CommandResult params = Risectl({"meta", "system-params", "--help"});
  EXPECT_EQ(params.exit_code, 0);
  EXPECT_THAT(params.out, AllOf(HasSubstr("get"), HasSubstr("set"), HasSubstr("redacted")));

  CommandResult get = Risectl({"meta", "system-params", "get", "--help"});
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_THAT(get.out, AllOf(HasSubstr("NAME"), HasSubstr("Parameter to print")));

  CommandResult set = Risectl({"meta", "system-params", "set", "--help"});
  EXPECT_EQ(set.exit_code, 0);
  EXPECT_THAT(set.out, AllOf(HasSubstr("NAME"), HasSubstr("VALUE"), HasSubstr("Immutable")));

  CommandResult info = Risectl({"meta", "cluster-info", "--help"});
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_THAT(info.out, HasSubstr("uptime"));
}

TEST_F(RisectlTest, VersionFlagPrintsVersion) {
  CommandResult r = Risectl({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "risectl (rwmeta) 0.1.0\n");
}

TEST_F(RisectlTest, UnreachableMetaNodeExitsOneWithClearMessage) {
  std::string target = "127.0.0.1:" + std::to_string(UnusedLoopbackPort());
  CommandResult r = RisectlNoEnv({"--meta-addr", "http://" + target, "meta", "cluster-info"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("error: cannot reach meta node at " + target + ": "));
}

TEST_F(RisectlTest, MetaAddrComesFromEnvironment) {
  CommandResult r = RunRisectlBinary({"meta", "system-params", "get", "checkpoint_frequency"},
                                     server_.address());  // bare host:port form
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
}

TEST_F(RisectlTest, MetaAddrFlagOverridesEnvironmentAndMayFollowTheCommand) {
  std::string dead = "http://127.0.0.1:" + std::to_string(UnusedLoopbackPort());
  CommandResult r = RunRisectlBinary(
      {"meta", "system-params", "get", "checkpoint_frequency", "--meta-addr", meta_addr_}, dead);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
}

TEST_F(RisectlTest, DefaultMetaAddrIsLocalhost5690) {
  CommandResult r = RisectlNoEnv({"--help"});
  EXPECT_THAT(r.out, HasSubstr("http://127.0.0.1:5690"));
}

TEST_F(RisectlTest, MalformedMetaAddrIsUsageError) {
  CommandResult flag =
      RisectlNoEnv({"--meta-addr", "https://127.0.0.1:5690", "meta", "cluster-info"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_THAT(flag.err, AllOf(StartsWith("error: "), HasSubstr("TLS")));

  CommandResult env = RunRisectlBinary({"meta", "cluster-info"}, "nonsense");
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_THAT(env.err, HasSubstr("bad address \"nonsense\""));
}

}  // namespace
}  // namespace rwmeta::ctl
