// RunCommand: output, exit code, the environment it passes on (set and unset), the working
// directory, and the timeout.
#include "testing/subprocess.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <string>

#include "common/testing/status_matchers.h"

namespace rwmeta::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RunCommandTest, CapturesBothStreamsAndTheExitCode) {
  ASSERT_OK_AND_ASSIGN(CommandResult r,
                       RunCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(RunCommandTest, SetsAndUnsetsEnvironmentVariables) {
  ASSERT_EQ(setenv("RWMETA_SUBPROCESS_TEST_KEEP", "kept", 1), 0);
  ASSERT_EQ(setenv("RWMETA_SUBPROCESS_TEST_DROP", "dropped", 1), 0);
  ASSERT_OK_AND_ASSIGN(CommandResult r,
                       RunCommand({"/usr/bin/env"}, {{"RWMETA_SUBPROCESS_TEST_SET", "set"}},
                                  std::chrono::seconds(10), "", {"RWMETA_SUBPROCESS_TEST_DROP"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("RWMETA_SUBPROCESS_TEST_KEEP=kept\n"));
  EXPECT_THAT(r.out, HasSubstr("RWMETA_SUBPROCESS_TEST_SET=set\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("RWMETA_SUBPROCESS_TEST_DROP")));
  unsetenv("RWMETA_SUBPROCESS_TEST_KEEP");
  unsetenv("RWMETA_SUBPROCESS_TEST_DROP");
}

TEST(RunCommandTest, RunsInTheGivenDirectory) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(CommandResult r,
                       RunCommand({"/bin/pwd"}, {}, std::chrono::seconds(10), dir.path()));
  EXPECT_EQ(r.out, dir.path() + "\n");
}

TEST(RunCommandTest, KillsACommandPastItsTimeout) {
  EXPECT_THAT(RunCommand({"/bin/sh", "-c", "echo started; exec sleep 30"}, {},
                         std::chrono::milliseconds(300))
                  .status(),
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("started")));
}

}  // namespace
}  // namespace rwmeta::testing
