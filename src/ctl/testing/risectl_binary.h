// RunRisectlBinary: runs the built risectl as an operator would (through
// testing/subprocess.h's RunCommand) for ctl_test, whose build defines RISECTL_PATH.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ctl/ctl_context.h"
#include "testing/subprocess.h"

#ifndef RISECTL_PATH
#error "RISECTL_PATH must be defined by the build (ctl_test)"
#endif

namespace rwmeta::ctl::testing {

// Runs `risectl args...` with RW_META_ADDR set to `meta_addr`, or absent from its environment if
// nullopt, and returns its exit code, stdout and stderr. A risectl that cannot be started or must
// be killed after 30 s fails the test and comes back with exit code -1.
inline ::rwmeta::testing::CommandResult RunRisectlBinary(
    const std::vector<std::string>& args, const std::optional<std::string>& meta_addr) {
  std::vector<std::string> argv = {RISECTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  Result<::rwmeta::testing::CommandResult> r =
      meta_addr
          ? ::rwmeta::testing::RunCommand(argv, {{kMetaAddrEnv, *meta_addr}},
                                          std::chrono::seconds(30))
          : ::rwmeta::testing::RunCommand(argv, {}, std::chrono::seconds(30), "", {kMetaAddrEnv});
  if (!r.ok()) {
    ADD_FAILURE() << "risectl did not run to completion: " << r.status();
    return {};
  }
  return *std::move(r);
}

}  // namespace rwmeta::ctl::testing
