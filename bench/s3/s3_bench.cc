// s3_bench: how fast S3ObjectStore moves 1 MiB and 256 MiB objects to and from a local s3rver,
// next to an independent client (awscli, and s3cmd if installed) moving the same bytes.
//
//   build/bench/s3_bench [--large-mib N] [--reps-small N]
//
// Starts its own s3rver on a free loopback port (scripts/setup.sh installs it) and removes
// everything at exit. The CLI figures include the tools' start-up (a Python interpreter each
// run), which dominates small transfers; that is the cost a script using them would pay.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "objstore/s3/s3_object_store.h"
#include "testing/s3_server.h"
#include "testing/subprocess.h"

namespace {

using rwmeta::objstore::s3::S3Config;
using rwmeta::objstore::s3::S3ObjectStore;
using rwmeta::testing::S3Server;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Bytes(size_t n) {
  std::mt19937_64 rng(42);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, 8);
  }
  return s;
}

void Row(const std::string& client, const std::string& op, size_t bytes, int reps, double secs) {
  double mib = static_cast<double>(bytes) * reps / (1 << 20);
  fmt::print("{:<22} {:<9} {:>8.0f} MiB x{:<3} {:>8.3f} s {:>9.1f} MiB/s\n", client, op,
             static_cast<double>(bytes) / (1 << 20), reps, secs, mib / secs);
}

bool RunTool(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  auto r = rwmeta::testing::RunCommand(argv, env, std::chrono::seconds(600));
  if (!r.ok() || r->exit_code != 0) {
    fmt::print(stderr, "{} failed: {}\n", argv[0], r.ok() ? r->err : r.status().ToString());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  size_t large_mib = 256;
  int reps_small = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--large-mib") == 0)
      large_mib = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--reps-small") == 0) reps_small = std::atoi(argv[i + 1]);
  }
  auto server = S3Server::Start();
  if (!server.ok()) {
    fmt::print(stderr, "s3_bench: {}\n", server.status().ToString());
    return 1;
  }
  S3Config config;
  config.bucket = "rwmeta-test";
  config.prefix = "bench";
  config.endpoint = (*server)->endpoint();
  config.credentials = {S3Server::kAccessKey, S3Server::kSecretKey, ""};
  auto opened = S3ObjectStore::Open(config);
  if (!opened.ok()) {
    fmt::print(stderr, "s3_bench: {}\n", opened.status().ToString());
    return 1;
  }
  auto& store = *opened;
  rwmeta::testing::TempDir tmp;

  fmt::print("S3 throughput against s3rver on 127.0.0.1 (part size {} MiB, {} parts in flight)\n",
             config.part_size_bytes >> 20, config.upload_parallelism);
  fmt::print("{:<22} {:<9} {:>16} {:>10} {:>15}\n", "client", "op", "object", "time", "throughput");

  struct Case {
    size_t bytes;
    int reps;
  };
  for (Case c : {Case{1 << 20, reps_small}, Case{large_mib << 20, 1}}) {
    const std::string data = Bytes(c.bytes);
    const std::string key = fmt::format("obj-{}", c.bytes);
    // rwmeta: Put for the small object, the streaming (multipart) writer for the large one.
    auto t0 = Clock::now();
    for (int r = 0; r < c.reps; ++r) {
      rwmeta::Status s;
      if (c.bytes <= config.part_size_bytes) {
        s = store->Put(key, data);
      } else {
        auto w = store->OpenWriter(key);
        s = w.status();
        for (size_t off = 0; s.ok() && off < data.size(); off += 4 << 20) {
          s = (*w)->Append(std::string_view(data).substr(off, 4 << 20));
        }
        if (s.ok()) s = (*w)->Finish();
      }
      if (!s.ok()) {
        fmt::print(stderr, "upload failed: {}\n", s.ToString());
        return 1;
      }
    }
    Row("rwmeta S3ObjectStore", "upload", c.bytes, c.reps, Seconds(Clock::now() - t0));
    t0 = Clock::now();
    for (int r = 0; r < c.reps; ++r) {
      auto got = store->Get(key);
      if (!got.ok() || got->size() != data.size()) {
        fmt::print(stderr, "download failed: {}\n", got.status().ToString());
        return 1;
      }
    }
    Row("rwmeta S3ObjectStore", "download", c.bytes, c.reps, Seconds(Clock::now() - t0));

    std::string file = tmp.path() + "/" + key;
    {
      std::ofstream out(file, std::ios::binary);
      out << data;
    }
    const std::string url = "s3://rwmeta-test/bench/cli-" + key;
    if (::access("/usr/bin/aws", X_OK) == 0) {
      std::vector<std::string> aws = {
          "/usr/bin/aws", "--endpoint-url",    (*server)->endpoint(), "s3",
          "cp",           "--only-show-errors"};
      auto up = aws;
      up.insert(up.end(), {file, url});
      auto down = aws;
      down.insert(down.end(), {url, file + ".back"});
      const int reps = std::min(c.reps, 3);
      t0 = Clock::now();
      for (int r = 0; r < reps; ++r) {
        if (!RunTool(up, (*server)->AwsEnv())) return 1;
      }
      Row("awscli s3 cp", "upload", c.bytes, reps, Seconds(Clock::now() - t0));
      t0 = Clock::now();
      for (int r = 0; r < reps; ++r) {
        if (!RunTool(down, (*server)->AwsEnv())) return 1;
      }
      Row("awscli s3 cp", "download", c.bytes, reps, Seconds(Clock::now() - t0));
    }
    if (::access("/usr/bin/s3cmd", X_OK) == 0) {
      std::string host = (*server)->endpoint().substr(7);
      std::vector<std::string> s3cmd = {"/usr/bin/s3cmd",
                                        "--no-ssl",
                                        "--host=" + host,
                                        "--host-bucket=" + host,
                                        "--access_key=S3RVER",
                                        "--secret_key=S3RVER",
                                        "--config=/dev/null",
                                        "--no-check-md5",
                                        "--quiet"};
      auto up = s3cmd;
      up.insert(up.end(), {"put", file, url + ".s3cmd"});
      auto down = s3cmd;
      down.insert(down.end(), {"get", "--force", url + ".s3cmd", file + ".s3cmd"});
      const int reps = std::min(c.reps, 3);
      t0 = Clock::now();
      bool ok = true;
      for (int r = 0; r < reps && ok; ++r) ok = RunTool(up, {});
      if (ok) Row("s3cmd", "upload", c.bytes, reps, Seconds(Clock::now() - t0));
      t0 = Clock::now();
      for (int r = 0; r < reps && ok; ++r) ok = RunTool(down, {});
      if (ok) Row("s3cmd", "download", c.bytes, reps, Seconds(Clock::now() - t0));
    }
    std::remove(file.c_str());
    std::remove((file + ".back").c_str());
    std::remove((file + ".s3cmd").c_str());
  }
  fmt::print("requests sent by rwmeta: {}\n", store->requests_sent());
  return 0;
}
