#include "rpc/status_grpc.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace rwmeta::rpc {
namespace {

using ::rwmeta::testing::StatusIs;

TEST(StatusGrpcTest, EveryCodeMapsToTheSameNumberBothWays) {
  for (int i = 0; i <= 16; ++i) {
    auto ours = static_cast<StatusCode>(i);
    EXPECT_EQ(static_cast<int>(ToGrpcCode(ours)), i);
    EXPECT_EQ(FromGrpcCode(static_cast<grpc::StatusCode>(i)), ours);
  }
}

TEST(StatusGrpcTest, OutOfRangeGrpcCodeIsUnknown) {
  EXPECT_EQ(FromGrpcCode(static_cast<grpc::StatusCode>(17)), StatusCode::kUnknown);
  EXPECT_EQ(FromGrpcCode(grpc::StatusCode::DO_NOT_USE), StatusCode::kUnknown);
}

TEST(StatusGrpcTest, ErrorKeepsCodeAndMessageBothWays) {
  Status ours = DataLossError("snapshot 7: chunk 3 checksum mismatch");
  grpc::Status wire = ToGrpcStatus(ours);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(wire.error_message(), "snapshot 7: chunk 3 checksum mismatch");
  EXPECT_EQ(FromGrpcStatus(wire), ours);
}

TEST(StatusGrpcTest, OkIsOk) {
  EXPECT_TRUE(ToGrpcStatus(Status::Ok()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(StatusGrpcTest, GrpcErrorWithEmptyMessageStaysAnError) {
  EXPECT_THAT(FromGrpcStatus(grpc::Status(grpc::StatusCode::ABORTED, "")),
              StatusIs(StatusCode::kAborted));
}

}  // namespace
}  // namespace rwmeta::rpc
