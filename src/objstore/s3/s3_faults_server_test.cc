// S3ObjectStore through HttpFaultProxy (src/testing/http_fault_proxy.h) in front of s3rver: the
// faults worth retrying (503 SlowDown, 500, stalls past the timeout, connection resets, answers
// cut off half-way) are ridden out with backoff; those that are not (403, 404) fail at once with
// the right code; a multipart upload that fails leaves no object; and no message ever holds the
// secret key or session token.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "common/testing/status_matchers.h"
#include "objstore/s3/s3_object_store.h"
#include "objstore/testing/s3_test_server.h"
#include "testing/http_fault_proxy.h"
#include "testing/subprocess.h"

namespace rwmeta::objstore::s3 {
namespace {

using ::rwmeta::testing::Fault;
using ::rwmeta::testing::HttpFaultProxy;
using ::rwmeta::testing::ProxiedRequest;
using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace ::rwmeta::objstore::s3::testing;  // NOLINT(google-build-using-namespace)

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return s;
}

// No credential in `s`'s message.
::testing::Matcher<std::string> NoSecrets() {
  return AllOf(Not(HasSubstr(kCanarySecret)), Not(HasSubstr(kCanaryToken)));
}

class S3FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TheServer().server) RWMETA_SKIP_OR_FAIL(TheServer().status.ToString());
    auto proxy = HttpFaultProxy::Start(TheServer().server->port());
    ASSERT_OK(proxy.status());
    proxy_ = std::move(proxy).value();
    prefix_ = FreshPrefix("faults");
    config_ = TestConfig(proxy_->endpoint(), prefix_);
    config_.retry.max_attempts = 5;
    // Long enough for s3rver on a busy machine; the stall test shortens it.
    config_.http.stall_timeout_ms = 3000;
    // Objects above 1 MiB are read in ranges (the reader test below needs that).
    config_.whole_read_max_bytes = 1 << 20;
    // Record the backoffs instead of sleeping them: the schedule is checked, the test stays fast.
    config_.sleep_ms = [this](int64_t ms) {
      std::lock_guard<std::mutex> lock(mu_);
      sleeps_.push_back(ms);
    };
    Open();
  }

  void TearDown() override {
    if (!proxy_) return;
    proxy_->SetRule(nullptr);
    auto all = store_->List("");
    if (all.ok()) {
      std::vector<std::string> keys;
      for (const auto& m : *all) keys.push_back(m.key);
      store_->DeleteMany(keys).IgnoreError();  // Test cleanup.
    }
  }

  void Open() {
    auto store = S3ObjectStore::Open(config_);
    ASSERT_OK(store.status());
    store_ = std::move(store).value();
  }

  // Fails the first `n` requests matching `match` with `fault`, forwards everything else.
  void FailFirst(int n, std::function<bool(const ProxiedRequest&)> match, Fault fault) {
    auto left = std::make_shared<int>(n);
    auto mu = std::make_shared<std::mutex>();
    proxy_->SetRule([=](const ProxiedRequest& r) {
      std::lock_guard<std::mutex> lock(*mu);
      if (*left > 0 && match(r)) {
        --*left;
        return fault;
      }
      return Fault::Forward();
    });
  }

  // Makes the proxy answer conditional writes as S3 does (judged on s3rver itself) and opens the
  // store with conditional_put on.
  void EmulateConditionalWrites() {
    auto direct = S3ObjectStore::Open(TestConfig(TheServer().server->endpoint(), ""));
    ASSERT_OK(direct.status());
    direct_ = std::move(direct).value();
    const std::string bucket_path = std::string("/") + kTestBucket + "/";
    proxy_->EmulateConditionalWrites(
        [store = direct_.get(), bucket_path](const std::string& path) -> Result<std::string> {
          if (path.rfind(bucket_path, 0) != 0) return NotFoundError("not in the test bucket");
          RWMETA_ASSIGN_OR_RETURN(ObjectMeta meta, store->Head(path.substr(bucket_path.size())));
          return meta.etag;
        });
    config_.conditional_put = true;
    Open();
  }

  static bool IsComplete(const ProxiedRequest& r) {
    return r.method == "POST" && r.HasQueryParam("uploadId");
  }

  int Count(const std::string& method, Fault::Kind kind) {
    int n = 0;
    for (const auto& s : proxy_->seen()) n += (s.request.method == method && s.fault == kind);
    return n;
  }

  static bool IsPut(const ProxiedRequest& r) { return r.method == "PUT"; }
  static bool IsGet(const ProxiedRequest& r) { return r.method == "GET"; }

  std::unique_ptr<HttpFaultProxy> proxy_;
  std::unique_ptr<S3ObjectStore> direct_;  // s3rver itself, for EmulateConditionalWrites
  std::string prefix_;
  S3Config config_;
  std::unique_ptr<S3ObjectStore> store_;
  std::mutex mu_;
  std::vector<int64_t> sleeps_;
};

TEST_F(S3FaultTest, SlowDownAndServerErrorsAreRetriedWithBackoff) {
  FailFirst(2, IsPut, Fault::S3Error(503, "SlowDown"));
  ASSERT_OK(store_->Put("k", "value"));
  EXPECT_EQ(Count("PUT", Fault::Kind::kRespond), 2);
  EXPECT_EQ(Count("PUT", Fault::Kind::kForward), 1);
  FailFirst(1, IsGet, Fault::S3Error(500, "InternalError"));
  ASSERT_OK_AND_ASSIGN(std::string v, store_->Get("k"));
  EXPECT_EQ(v, "value");
  ASSERT_EQ(sleeps_.size(), 3u);
  // Full jitter under a doubling cap: 5 ms, then 10 ms; the GET's first retry is 5 ms again.
  EXPECT_LE(sleeps_[0], 5);
  EXPECT_LE(sleeps_[1], 10);
  EXPECT_LE(sleeps_[2], 5);
}

TEST_F(S3FaultTest, StallsPastTheTimeoutAreRetried) {
  config_.http.stall_timeout_ms = 300;
  Open();
  ASSERT_OK(store_->Put("k", "stalled value"));
  FailFirst(2, IsGet, Fault::Stall(10000));
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(std::string v, store_->Get("k"));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(v, "stalled value");
  EXPECT_EQ(Count("GET", Fault::Kind::kStall), 2);
  // Two 300 ms stall timeouts, not two 10 s stalls.
  EXPECT_LT(took, std::chrono::seconds(5));
  // A PUT whose answer stalls is retried too (PUT is idempotent).
  FailFirst(1, IsPut, Fault::Stall(10000));
  ASSERT_OK(store_->Put("k2", "after a stall"));
  ASSERT_OK_AND_ASSIGN(v, store_->Get("k2"));
  EXPECT_EQ(v, "after a stall");
}

TEST_F(S3FaultTest, ConnectionResetsAndCutAnswersAreRetried) {
  const std::string value = RandomBytes(300000, 5);
  FailFirst(2, IsPut, Fault::Reset());
  ASSERT_OK(store_->Put("k", value));
  EXPECT_EQ(Count("PUT", Fault::Kind::kReset), 2);
  FailFirst(2, IsGet, Fault::ResetMidResponse());
  ASSERT_OK_AND_ASSIGN(std::string v, store_->Get("k"));
  EXPECT_TRUE(v == value);
  EXPECT_EQ(Count("GET", Fault::Kind::kResetMidResponse), 2);
  FailFirst(1, IsGet, Fault::ResetMidResponse());
  ASSERT_OK_AND_ASSIGN(std::string range, store_->GetRange("k", 1000, 200000));
  EXPECT_TRUE(range == value.substr(1000, 200000));
}

TEST_F(S3FaultTest, PersistentFailureIsUnavailableNamingCodeAndRequestId) {
  proxy_->SetRule([](const ProxiedRequest&) { return Fault::S3Error(503, "SlowDown"); });
  Status s = store_->Put("k", "v");
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable,
                          AllOf(HasSubstr("gave up after 5 attempts"), HasSubstr("SlowDown"),
                                HasSubstr("HTTP 503"), HasSubstr("request id proxy-4"),
                                HasSubstr("s3://rwmeta-test/" + prefix_ + "/k"))));
  EXPECT_THAT(s.message(), NoSecrets());
  EXPECT_EQ(proxy_->seen().size(), 5u);
  EXPECT_EQ(sleeps_.size(), 4u);
  for (size_t i = 0; i < sleeps_.size(); ++i) {
    EXPECT_LE(sleeps_[i], std::min<int64_t>(100, int64_t{5} << i)) << "retry " << i + 1;
  }
  proxy_->SetRule([](const ProxiedRequest&) { return Fault::Reset(); });
  EXPECT_THAT(store_->Get("k"), StatusIs(StatusCode::kUnavailable, NoSecrets()));
}

TEST_F(S3FaultTest, ForbiddenAndNotFoundAreNeverRetried) {
  proxy_->SetRule([](const ProxiedRequest&) { return Fault::S3Error(403, "AccessDenied"); });
  Status put = store_->Put("k", "v");
  EXPECT_THAT(put, StatusIs(StatusCode::kPermissionDenied,
                            AllOf(HasSubstr("AccessDenied"), HasSubstr("request id proxy-0"),
                                  NoSecrets())));
  EXPECT_THAT(store_->List(""), StatusIs(StatusCode::kPermissionDenied, NoSecrets()));
  EXPECT_THAT(store_->Head("k"), StatusIs(StatusCode::kPermissionDenied, NoSecrets()));
  proxy_->SetRule(
      [](const ProxiedRequest&) { return Fault::S3Error(403, "SignatureDoesNotMatch"); });
  EXPECT_THAT(store_->Get("k"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("SignatureDoesNotMatch")));
  proxy_->SetRule([](const ProxiedRequest&) { return Fault::S3Error(404, "NoSuchKey"); });
  EXPECT_THAT(store_->Get("k"), StatusIs(StatusCode::kNotFound, HasSubstr("NoSuchKey")));
  EXPECT_EQ(proxy_->seen().size(), 5u);  // One request each.
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(S3FaultTest, FailedMultipartUploadLeavesNoObject) {
  // Part 2 of the upload always fails: the writer gives up, aborts, and nothing is published.
  proxy_->SetRule([](const ProxiedRequest& r) {
    if (r.method == "PUT" && r.QueryParam("partNumber") == "2") {
      return Fault::S3Error(500, "InternalError");
    }
    return Fault::Forward();
  });
  const std::string value = RandomBytes(16 << 20, 6);
  ASSERT_OK_AND_ASSIGN(auto w, store_->OpenWriter("big"));
  Status s;
  for (size_t off = 0; off < value.size() && s.ok(); off += 1 << 20) {
    s = w->Append(std::string_view(value).substr(off, 1 << 20));
  }
  if (s.ok()) s = w->Finish();
  EXPECT_THAT(s,
              StatusIs(StatusCode::kUnavailable,
                       AllOf(HasSubstr("UploadPart 2"), HasSubstr("InternalError"), NoSecrets())));
  // Once failed, the writer refuses more work.
  EXPECT_THAT(w->Append("x"), StatusIs(StatusCode::kFailedPrecondition));
  w.reset();
  proxy_->SetRule(nullptr);
  EXPECT_THAT(store_->Head("big"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto list, store_->List(""));
  EXPECT_TRUE(list.empty());
  // The upload was aborted (s3rver answers the abort with 405; the request is what matters).
  int aborts = 0;
  for (const auto& seen : proxy_->seen()) {
    aborts += seen.request.method == "DELETE" && seen.request.HasQueryParam("uploadId");
  }
  EXPECT_EQ(aborts, 1);
  int completes = 0;
  for (const auto& seen : proxy_->seen()) {
    completes += seen.request.method == "POST" && seen.request.HasQueryParam("uploadId");
  }
  EXPECT_EQ(completes, 0);
}

TEST_F(S3FaultTest, MultipartPartFailingOnceIsRetriedAndTheObjectIsWhole) {
  FailFirst(
      1,
      [](const ProxiedRequest& r) {
        return r.method == "PUT" && r.QueryParam("partNumber") == "3";
      },
      Fault::ResetMidResponse());
  const std::string value = RandomBytes((13 << 20) + 12345, 7);
  ASSERT_OK_AND_ASSIGN(auto w, store_->OpenWriter("big"));
  for (size_t off = 0; off < value.size(); off += 1 << 20) {
    ASSERT_OK(w->Append(std::string_view(value).substr(off, 1 << 20)));
  }
  ASSERT_OK(w->Finish());
  int part3 = 0;
  int cut = 0;
  for (const auto& seen : proxy_->seen()) {
    part3 += seen.request.QueryParam("partNumber") == "3";
    cut += seen.fault == Fault::Kind::kResetMidResponse;
  }
  EXPECT_EQ(cut, 1);
  EXPECT_GE(part3, 2);  // The cut attempt and its retry (more if the machine stalled).
  ASSERT_OK_AND_ASSIGN(std::string got, store_->Get("big"));
  EXPECT_TRUE(got == value) << got.size();
}

TEST_F(S3FaultTest, PartsGoUpInParallelButNeverMoreThanTheLimit) {
  config_.upload_parallelism = 2;
  config_.http.stall_timeout_ms = 10000;  // The delays below are not stalls.
  Open();
  // Every part takes at least 300 ms, so the writer has parts waiting to overlap.
  proxy_->SetRule([](const ProxiedRequest& r) {
    return r.HasQueryParam("partNumber") ? Fault::Delay(300) : Fault::Forward();
  });
  const std::string value = RandomBytes(5 * (5 << 20), 12);
  ASSERT_OK_AND_ASSIGN(auto w, store_->OpenWriter("parallel"));
  for (size_t off = 0; off < value.size(); off += 1 << 20) {
    ASSERT_OK(w->Append(std::string_view(value).substr(off, 1 << 20)));
  }
  ASSERT_OK(w->Finish());
  EXPECT_EQ(proxy_->max_concurrent(), 2);
  int parts = 0;
  for (const auto& seen : proxy_->seen()) parts += seen.request.HasQueryParam("partNumber");
  EXPECT_EQ(parts, 5);
  proxy_->SetRule(nullptr);
  ASSERT_OK_AND_ASSIGN(std::string got, store_->Get("parallel"));
  EXPECT_TRUE(got == value);
}

TEST_F(S3FaultTest, CompleteAnsweredWithAnErrorBodyIsRetried) {
  // S3 may answer CompleteMultipartUpload with 200 and an <Error> body.
  auto once = std::make_shared<std::atomic<bool>>(true);
  proxy_->SetRule([once](const ProxiedRequest& r) {
    if (r.method == "POST" && r.HasQueryParam("uploadId") && once->exchange(false)) {
      Fault f = Fault::S3Error(200, "InternalError");
      return f;
    }
    return Fault::Forward();
  });
  const std::string value = RandomBytes((6 << 20) + 1, 8);
  ASSERT_OK_AND_ASSIGN(auto w, store_->OpenWriter("c"));
  ASSERT_OK(w->Append(value));
  ASSERT_OK(w->Finish());
  ASSERT_OK_AND_ASSIGN(std::string got, store_->Get("c"));
  EXPECT_TRUE(got == value);
}

TEST_F(S3FaultTest, CompletionWhoseAnswerIsLostIsRecognisedAsDone) {
  // The server completes the upload but the answer is cut off; the retried completion fails
  // (the upload is gone). The writer must see that its object is published whole.
  FailFirst(
      1, [](const ProxiedRequest& r) { return r.method == "POST" && r.HasQueryParam("uploadId"); },
      Fault::ResetMidResponse());
  const std::string value = RandomBytes((7 << 20) + 3, 13);
  ASSERT_OK_AND_ASSIGN(auto w, store_->OpenWriter("lost-answer"));
  ASSERT_OK(w->Append(value));
  ASSERT_OK(w->Finish());
  int completes = 0;
  for (const auto& seen : proxy_->seen()) {
    completes += seen.request.method == "POST" && seen.request.HasQueryParam("uploadId");
  }
  EXPECT_GE(completes, 2);
  ASSERT_OK_AND_ASSIGN(std::string got, store_->Get("lost-answer"));
  EXPECT_TRUE(got == value);
}

TEST_F(S3FaultTest, ConditionalPutWhoseAnswerIsLostIsRecognisedAsOurs) {
  ASSERT_NO_FATAL_FAILURE(EmulateConditionalWrites());
  PutOptions create;
  create.if_none_match = true;
  // The server publishes the object but the answer is cut off; the retry is refused (412) because
  // the object exists: it is ours (size and MD5), so the write is OK.
  FailFirst(1, IsPut, Fault::ResetMidResponse());
  const std::string value = RandomBytes(100000, 21);
  ASSERT_OK(store_->Put("lost-put", value, create));
  EXPECT_EQ(Count("PUT", Fault::Kind::kResetMidResponse), 1);
  EXPECT_EQ(proxy_->conditional_writes_refused(), 1);
  ASSERT_OK_AND_ASSIGN(std::string got, store_->Get("lost-put"));
  EXPECT_TRUE(got == value);

  // The same through a small conditional writer (one PutObject).
  FailFirst(1, IsPut, Fault::ResetMidResponse());
  ASSERT_OK_AND_ASSIGN(auto w, store_->OpenWriter("lost-writer", create));
  ASSERT_OK(w->Append(value));
  ASSERT_OK(w->Finish());
  EXPECT_EQ(proxy_->conditional_writes_refused(), 2);

  // A retry refused because someone else's object is there is still Aborted, and theirs stays.
  ASSERT_OK(store_->Put("theirs", "their bytes"));
  FailFirst(1, IsPut, Fault::Reset());  // The first attempt never reaches the server.
  EXPECT_THAT(store_->Put("theirs", value, create),
              StatusIs(StatusCode::kAborted, HasSubstr("PreconditionFailed")));
  ASSERT_OK_AND_ASSIGN(std::string theirs, store_->Get("theirs"));
  EXPECT_EQ(theirs, "their bytes");
}

TEST_F(S3FaultTest, ConditionalCompletionWhoseAnswerIsLostIsRecognisedAsOurs) {
  ASSERT_NO_FATAL_FAILURE(EmulateConditionalWrites());
  PutOptions create;
  create.if_none_match = true;
  FailFirst(1, IsComplete, Fault::ResetMidResponse());
  const std::string value = RandomBytes((7 << 20) + 5, 22);
  ASSERT_OK_AND_ASSIGN(auto w, store_->OpenWriter("lost-complete", create));
  ASSERT_OK(w->Append(value));
  ASSERT_OK(w->Finish());
  EXPECT_EQ(proxy_->conditional_writes_refused(), 1);
  ASSERT_OK_AND_ASSIGN(std::string got, store_->Get("lost-complete"));
  EXPECT_TRUE(got == value);
}

TEST_F(S3FaultTest, ConditionalCompletionRefusedAtOnceIsAbortedEvenForIdenticalBytes) {
  // An identical object (same bytes, same parts, so the same ETag) written by someone else: a
  // first-attempt 412 is final, never mistaken for our own lost completion.
  ASSERT_NO_FATAL_FAILURE(EmulateConditionalWrites());
  const std::string value = RandomBytes((6 << 20) + 7, 23);
  ASSERT_OK_AND_ASSIGN(auto theirs, store_->OpenWriter("twin"));
  ASSERT_OK(theirs->Append(value));
  ASSERT_OK(theirs->Finish());
  ASSERT_OK_AND_ASSIGN(ObjectMeta before, store_->Head("twin"));
  proxy_->ClearSeen();
  PutOptions create;
  create.if_none_match = true;
  ASSERT_OK_AND_ASSIGN(auto ours, store_->OpenWriter("twin", create));
  ASSERT_OK(ours->Append(value));
  EXPECT_THAT(ours->Finish(), StatusIs(StatusCode::kAborted, HasSubstr("PreconditionFailed")));
  EXPECT_EQ(proxy_->conditional_writes_refused(), 1);
  int completes = 0;
  for (const auto& seen : proxy_->seen()) {
    if (!IsComplete(seen.request)) continue;
    ++completes;
    auto header = seen.request.headers.find("if-none-match");
    ASSERT_NE(header, seen.request.headers.end());
    EXPECT_EQ(header->second, "*");
  }
  EXPECT_EQ(completes, 1);
  // The object is still the first writer's.
  ASSERT_OK_AND_ASSIGN(ObjectMeta after, store_->Head("twin"));
  EXPECT_EQ(after.etag, before.etag);
}

TEST_F(S3FaultTest, ReaderOfAReplacedLargeObjectIsDataLossNotAMix) {
  const std::string a = RandomBytes(3 << 20, 9);  // Above whole_read_max_bytes: ranged reads.
  ASSERT_OK(store_->Put("r", a));
  ASSERT_OK_AND_ASSIGN(auto reader, store_->OpenReader("r"));
  std::string part;
  ASSERT_OK(reader->Read(1 << 20, &part));
  EXPECT_TRUE(part == a.substr(0, 1 << 20));
  ASSERT_OK(store_->Put("r", RandomBytes(3 << 20, 10)));
  EXPECT_THAT(reader->Read(1 << 20, &part),
              StatusIs(StatusCode::kDataLoss, HasSubstr("since the reader opened")));
}

// s3rver does not verify SigV4 signatures, so an independent signer checks ours: botocore (shipped
// inside Debian's awscli) recomputes the signature of every request the proxy saw, from the
// secret, and must agree byte for byte. Keys, prefixes and continuation tokens with characters
// that need encoding, multipart uploads and DeleteObjects are all in the mix.
TEST_F(S3FaultTest, BotocoreAgreesWithEverySignature) {
  if (::access("/usr/lib/python3/dist-packages/awscli/botocore/auth.py", R_OK) != 0) {
    RWMETA_SKIP_OR_FAIL("Debian's awscli (with its botocore) is not installed");
  }
  config_.list_page_size = 2;
  Open();
  const std::string odd = "dir/a b+c$~=&\xc3\xa9;(x)*.txt";
  ASSERT_OK(store_->Put(odd, "odd"));
  ASSERT_OK(store_->Put("dir/plain", "p"));
  ASSERT_OK(store_->Put("dir/z", "z"));
  ASSERT_OK_AND_ASSIGN(auto list, store_->List("dir/"));  // Two pages: a continuation token.
  ASSERT_EQ(list.size(), 3u);
  ASSERT_OK_AND_ASSIGN(std::string r, store_->GetRange(odd, 1, 1));
  EXPECT_EQ(r, "d");
  ASSERT_OK(store_->Head(odd).status());
  ASSERT_OK_AND_ASSIGN(auto w, store_->OpenWriter("multi part"));
  ASSERT_OK(w->Append(RandomBytes((5 << 20) + 10, 11)));
  ASSERT_OK(w->Finish());
  ASSERT_OK(store_->DeleteMany({odd, "dir/plain", "multi part"}));
  ASSERT_OK(store_->Delete("dir/z"));

  ::rwmeta::testing::TempDir dir;
  const std::string path = dir.path() + "/requests.jsonl";
  int n = 0;
  {
    std::ofstream out(path);
    for (const auto& seen : proxy_->seen()) {
      nlohmann::json j;
      j["method"] = seen.request.method;
      j["target"] = seen.request.target;
      j["headers"] = seen.request.headers;
      out << j.dump() << "\n";
      ++n;
    }
  }
  ASSERT_GE(n, 12);
  const std::string script = R"py(
import sys
import awscli  # puts the botocore that Debian's awscli bundles on the path
import json
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
checked = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    h = r["headers"]
    fields = dict(p.strip().split("=", 1) for p in h["authorization"].split(" ", 1)[1].split(","))
    key_id, date, region, service, _ = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    req = AWSRequest(method=r["method"], url="http://" + h["host"] + r["target"],
                     headers={k: h[k] for k in signed})
    req.context["timestamp"] = h["x-amz-date"]
    signer = S3SigV4Auth(Credentials(key_id, sys.argv[2], h.get("x-amz-security-token")),
                         service, region)
    canonical = signer.canonical_request(req)
    signature = signer.signature(signer.string_to_sign(req, canonical), req)
    checked += 1
    if signature != fields["Signature"]:
        bad += 1
        print("mismatch:", r["method"], r["target"], canonical, sep="\n", file=sys.stderr)
print(checked, "checked", bad, "mismatched")
sys.exit(1 if bad else 0)
)py";
  ASSERT_OK_AND_ASSIGN(auto result, ::rwmeta::testing::RunCommand(
                                        {"/usr/bin/python3", "-c", script, path, kCanarySecret}));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out, std::to_string(n) + " checked 0 mismatched\n");
}

}  // namespace
}  // namespace rwmeta::objstore::s3
