// GoogleTest helpers for Status and Result<T>. Assert the specific code, never "some error":
//   EXPECT_THAT(store->Get("k"), StatusIs(StatusCode::kNotFound));
//   EXPECT_THAT(s, StatusIs(StatusCode::kDataLoss, HasSubstr("chunk 3")));
//   ASSERT_OK(s);  ASSERT_OK_AND_ASSIGN(auto v, F());
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/status.h"

namespace rwmeta::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
Status GetStatus(const Result<T>& r) {
  return r.status();
}

MATCHER_P(StatusIs, code, "has status code " + std::string(::rwmeta::StatusCodeName(code))) {
  Status s = ::rwmeta::testing::GetStatus(arg);
  *result_listener << "whose status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + std::string(::rwmeta::StatusCodeName(code)) +
               " and a matching message") {
  Status s = ::rwmeta::testing::GetStatus(arg);
  *result_listener << "whose status is " << s.ToString();
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, s.message(), result_listener);
}

MATCHER(IsOk, "is OK") {
  Status s = ::rwmeta::testing::GetStatus(arg);
  *result_listener << "whose status is " << s.ToString();
  return s.ok();
}

// The value of an OK Result, compared with `want`.
MATCHER_P(IsOkAndHolds, want, "is OK and holds " + ::testing::PrintToString(want)) {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status().ToString();
    return false;
  }
  *result_listener << "which holds " << ::testing::PrintToString(*arg);
  return *arg == want;
}

}  // namespace rwmeta::testing

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::rwmeta::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::rwmeta::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(RWMETA_CONCAT_(rwmeta_test_result_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)  \
  auto tmp = (expr);                                \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
