// Runs every tests/sql/*.test file against its own fresh meta-node, over the wire.
#include "e2e/sqllogic.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/testing/status_matchers.h"
#include "e2e/process.h"

namespace rwmeta::e2e {
namespace {

std::vector<std::string> TestFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(RWMETA_SQL_TEST_DIR)) {
    if (entry.path().extension() == ".test") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class SqlLogicTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SqlLogicTest, Passes) {
  std::ifstream in(std::string(RWMETA_SQL_TEST_DIR) + "/" + GetParam());
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_OK_AND_ASSIGN(auto records, ParseSqlTestFile(text.str()));
  ASSERT_FALSE(records.empty());

  TempDir dir;
  MetaNodeProcess::Options options;
  options.work_dir = dir.path();
  // A short lease, so that a restart after `restart kill` does not wait long for the dead node's.
  options.extra_args = {"--state-store-lease-ttl-ms", "1500"};
  ASSERT_OK_AND_ASSIGN(auto node, MetaNodeProcess::Start(options));
  auto restart = [&](bool kill) -> Result<int> {
    RWMETA_ASSIGN_OR_RETURN(int code, node->Stop(kill ? SIGKILL : SIGTERM));
    if (kill) {
      if (code != -SIGKILL) return InternalError(fmt::format("meta-node exited with {}", code));
    } else if (code != 0) {
      return InternalError(fmt::format("meta-node exited with {} on SIGTERM", code));
    }
    RWMETA_ASSIGN_OR_RETURN(node, MetaNodeProcess::Start(node->options()));
    return node->pg_port();
  };
  Status s = RunSqlRecords(records, node->pg_port(), restart);
  EXPECT_OK(s) << "\nmeta-node log:\n" << node->Log();
}

INSTANTIATE_TEST_SUITE_P(Files, SqlLogicTest, ::testing::ValuesIn(TestFiles()),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.size() - 5);
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace rwmeta::e2e
