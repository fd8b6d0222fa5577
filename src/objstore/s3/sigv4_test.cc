// SigV4 against AWS's published examples: the four S3 examples of "Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk" (examplebucket, 2013-05-24) and
// the "get-vanilla" case of the generic Signature Version 4 test suite.
#include "objstore/s3/sigv4.h"

#include <gtest/gtest.h>

namespace rwmeta::objstore::s3 {
namespace {

constexpr int64_t k20130524 = 1369353600;  // 2013-05-24T00:00:00Z
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigningCredentials S3ExampleCredentials() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
}

TEST(SigV4Test, HashesAndEncodings) {
  EXPECT_EQ(Sha256Hex(""), kEmptySha256);
  EXPECT_EQ(Sha256Hex("Welcome to Amazon S3."),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(HexEncode(std::string("\x00\x7f\xff", 3)), "007fff");
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(UriEncode("a b/c$d~e_f.g-h", true), "a%20b/c%24d~e_f.g-h");
  EXPECT_EQ(UriEncode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(UriEncode("b-\xc3\xa9", true), "b-%C3%A9");
  EXPECT_EQ(AmzDate(k20130524), "20130524T000000Z");
  EXPECT_EQ(AmzDateStamp(k20130524 + 86399), "20130524");
  EXPECT_EQ(CanonicalQueryString({{"prefix", "J"}, {"max-keys", "2"}}), "max-keys=2&prefix=J");
  EXPECT_EQ(CanonicalQueryString({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQueryString({{"k", "a/b c"}}), "k=a%2Fb%20c");
}

TEST(SigV4Test, S3GetObjectExample) {
  SigningRequest r;
  r.method = "GET";
  r.encoded_path = "/test.txt";
  r.payload_hash = std::string(kEmptySha256);
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", std::string(kEmptySha256)},
               {"x-amz-date", "20130524T000000Z"}};
  EXPECT_EQ(CanonicalRequest(r),
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" +
                std::string(kEmptySha256) +
                "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" +
                std::string(kEmptySha256));
  EXPECT_EQ(
      StringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", CanonicalRequest(r)),
      "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
      "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(Signature(r, S3ExampleCredentials(), "us-east-1", "s3", k20130524),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(AuthorizationHeader(r, S3ExampleCredentials(), "us-east-1", "s3", k20130524),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, S3PutObjectExample) {
  SigningRequest r;
  r.method = "PUT";
  r.encoded_path = "/" + UriEncode("test$file.text", true);
  r.payload_hash = Sha256Hex("Welcome to Amazon S3.");
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", r.payload_hash}};
  EXPECT_EQ(Signature(r, S3ExampleCredentials(), "us-east-1", "s3", k20130524),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, S3GetBucketLifecycleExample) {
  SigningRequest r;
  r.method = "GET";
  r.encoded_path = "/";
  r.query = {{"lifecycle", ""}};
  r.payload_hash = std::string(kEmptySha256);
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-content-sha256", std::string(kEmptySha256)}};
  EXPECT_EQ(Signature(r, S3ExampleCredentials(), "us-east-1", "s3", k20130524),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, S3ListObjectsExample) {
  SigningRequest r;
  r.method = "GET";
  r.encoded_path = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};
  r.payload_hash = std::string(kEmptySha256);
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-content-sha256", std::string(kEmptySha256)}};
  EXPECT_EQ(Signature(r, S3ExampleCredentials(), "us-east-1", "s3", k20130524),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, GenericSuiteGetVanilla) {
  SigningRequest r;
  r.method = "GET";
  r.encoded_path = "/";
  r.payload_hash = std::string(kEmptySha256);
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  SigningCredentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  const int64_t t = 1440938160;  // 2015-08-30T12:36:00Z
  EXPECT_EQ(AuthorizationHeader(r, creds, "us-east-1", "service", t),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, HeaderValuesAreTrimmedAndNamesCaseFolded) {
  SigningRequest a;
  a.method = "GET";
  a.encoded_path = "/k";
  a.payload_hash = std::string(kUnsignedPayload);
  a.headers = {{"Host", "h"}, {"X-Amz-Meta-A", "  two   spaces  "}};
  SigningRequest b = a;
  b.headers = {{"x-amz-meta-a", "two spaces"}, {"host", "h"}};
  EXPECT_EQ(CanonicalRequest(a), CanonicalRequest(b));
  EXPECT_NE(CanonicalRequest(a).find("x-amz-meta-a:two spaces\n"), std::string::npos);
}

TEST(SigV4Test, AuthorizationNeverHoldsTheSecret) {
  SigningRequest r;
  r.method = "GET";
  r.encoded_path = "/k";
  r.payload_hash = std::string(kUnsignedPayload);
  r.headers = {{"host", "h"}, {"x-amz-date", "20130524T000000Z"}};
  SigningCredentials creds{"AKID", "very-secret-key", "session-token"};
  std::string auth = AuthorizationHeader(r, creds, "us-east-1", "s3", k20130524);
  EXPECT_EQ(auth.find("very-secret-key"), std::string::npos);
  EXPECT_EQ(auth.find("session-token"), std::string::npos);
}

}  // namespace
}  // namespace rwmeta::objstore::s3
