#include "objstore/fs/fs_object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

namespace rwmeta::objstore {

namespace {

constexpr std::string_view kTmpDir = ".rwmeta/tmp";
constexpr std::string_view kLockFile = ".rwmeta/lock";
// How often Publish retries when a concurrent Delete removed the key's (empty) parent directory
// between our mkdir and our rename.
constexpr int kPublishAttempts = 100;

Status ErrnoStatus(int err, std::string_view op, std::string_view path) {
  std::string msg = fmt::format("{} '{}': {}", op, path, std::strerror(err));
  switch (err) {
    case ENOENT:
      return NotFoundError(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(std::move(msg));
    case ENOTDIR:
      return FailedPreconditionError(std::move(msg));
    case ENAMETOOLONG:
      return InvalidArgumentError(std::move(msg));
    default:
      return InternalError(std::move(msg));
  }
}

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Close();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // close(2) errors on a read-only or already-fsynced descriptor carry no information we act on.
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string Join(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

std::string ParentOf(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return std::string(path.substr(0, slash));
}

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string EtagOf(const struct stat& st) {
  return fmt::format("{:x}-{:x}-{:x}", static_cast<uint64_t>(st.st_ino),
                     static_cast<uint64_t>(st.st_size), MtimeNs(st));
}

int64_t NowRealtimeNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A fresh mtime for each publish in this process: now, but always later than the previous one, so
// that an etag never repeats even if the filesystem hands out the same inode again.
int64_t NextStampNs() {
  static std::atomic<int64_t> last{0};
  int64_t prev = last.load();
  while (true) {
    int64_t next = std::max(NowRealtimeNs(), prev + 1);
    if (last.compare_exchange_weak(prev, next)) return next;
  }
}

Status FsyncPath(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open directory", path);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync directory", path);
  return Status::Ok();
}

// mkdir -p for `path` (absolute). Each directory created is made durable by fsyncing its parent.
Status MakeDirs(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return FailedPreconditionError(fmt::format("'{}' exists and is not a directory", path));
  }
  if (errno != ENOENT) return ErrnoStatus(errno, "stat", path);
  std::string parent = ParentOf(path);
  if (parent != path) RWMETA_RETURN_IF_ERROR(MakeDirs(parent));
  if (::mkdir(path.c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
      return FailedPreconditionError(fmt::format("'{}' exists and is not a directory", path));
    }
    return ErrnoStatus(errno, "mkdir", path);
  }
  return FsyncPath(parent);
}

// Holds <root>/.rwmeta/lock with flock for the life of the object.
class LockFile {
 public:
  static Result<LockFile> Acquire(const std::string& root, bool exclusive) {
    std::string path = Join(root, kLockFile);
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoStatus(errno, "open lock file", path);
    while (::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH) != 0) {
      if (errno != EINTR) return ErrnoStatus(errno, "flock", path);
    }
    LockFile lock;
    lock.fd_ = std::move(fd);
    return lock;
  }

 private:
  LockFile() = default;
  Fd fd_;  // Closing it releases the flock.
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads exactly `length` bytes at `offset`; DataLoss if the file ends first.
Status PreadAll(int fd, uint64_t offset, uint64_t length, const std::string& path,
                std::string* out) {
  out->resize(length);
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out->data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) {
      return DataLossError(fmt::format("read '{}': ended at {} bytes, expected {}", path,
                                       offset + done, offset + length));
    }
    done += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

// Opens the object file at `path` for reading. NotFound when there is no object there (missing,
// a directory, or a path through a regular file).
Result<Fd> OpenObject(const std::string& path, std::string_view key, struct stat* st) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return NotFoundError(fmt::format("object {}: not found", key));
    }
    return ErrnoStatus(errno, "open", path);
  }
  if (::fstat(fd.get(), st) != 0) return ErrnoStatus(errno, "fstat", path);
  if (!S_ISREG(st->st_mode)) return NotFoundError(fmt::format("object {}: not found", key));
  return fd;
}

ObjectMeta MetaOf(std::string key, const struct stat& st) {
  return ObjectMeta{std::move(key), static_cast<uint64_t>(st.st_size), MtimeNs(st) / 1'000'000,
                    EtagOf(st)};
}

std::string StagingName() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}-{}-{:016x}", ::getpid(), counter.fetch_add(1), rng());
}

class FsReader : public ObjectReader {
 public:
  FsReader(Fd fd, uint64_t size, std::string path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}

  Status Read(size_t max_bytes, std::string* out) override {
    out->clear();
    uint64_t n = std::min<uint64_t>(max_bytes, size_ - offset_);
    if (n == 0) return Status::Ok();
    RWMETA_RETURN_IF_ERROR(PreadAll(fd_.get(), offset_, n, path_, out));
    offset_ += n;
    return Status::Ok();
  }

  uint64_t size_bytes() const override { return size_; }

 private:
  Fd fd_;  // The inode as of open: a later replace renames a new file over the name.
  uint64_t size_;
  std::string path_;
  uint64_t offset_ = 0;
};

}  // namespace

// Streams into a staging file under <root>/.rwmeta/tmp, which it holds flock'ed so that
// RemoveStaleStagingFiles leaves it alone; Finish publishes it (class comment of FsObjectStore).
class FsWriter : public ObjectWriter {
 public:
  // `options` are checked by Finish, under the exclusive store lock (see Publish).
  static Result<std::unique_ptr<FsWriter>> Create(const std::string& root, std::string_view key,
                                                  PutOptions options) {
    auto w = std::unique_ptr<FsWriter>(new FsWriter(root, key, std::move(options)));
    w->tmp_path_ = Join(Join(root, kTmpDir), StagingName());
    w->fd_ = Fd(::open(w->tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!w->fd_.valid()) return ErrnoStatus(errno, "create staging file", w->tmp_path_);
    w->state_ = State::kOpen;
    if (::flock(w->fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      return ErrnoStatus(errno, "flock staging file", w->tmp_path_);
    }
    return w;
  }

  ~FsWriter() override { Abort().IgnoreError(); }  // Nothing to report to: the writer is gone.

  Status Append(std::string_view data) override {
    if (state_ != State::kOpen) return NotOpen();
    Status s = WriteAll(fd_.get(), data, tmp_path_);
    if (!s.ok()) return s;
    size_ += data.size();
    return Status::Ok();
  }

  Status Finish() override {
    if (state_ != State::kOpen) return NotOpen();
    Status s = Publish();
    if (!s.ok()) {
      Abort().IgnoreError();  // The publish error is the one the caller needs.
      state_ = State::kDone;
      return s;
    }
    fd_.Close();
    state_ = State::kDone;
    return Status::Ok();
  }

  Status Abort() override {
    if (state_ != State::kOpen) return Status::Ok();
    state_ = State::kDone;
    fd_.Close();
    if (::unlink(tmp_path_.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "unlink staging file", tmp_path_);
    }
    return Status::Ok();
  }

  uint64_t size_bytes() const override { return size_; }

 private:
  enum class State { kNew, kOpen, kDone };

  FsWriter(std::string root, std::string_view key, PutOptions options)
      : root_(std::move(root)),
        key_(key),
        final_path_(Join(root_, key)),
        options_(std::move(options)) {}

  Status NotOpen() const {
    return FailedPreconditionError(fmt::format("writer for {}: already finished or aborted", key_));
  }

  Status Publish() {
    if (::fsync(fd_.get()) != 0) return ErrnoStatus(errno, "fsync", tmp_path_);
    int64_t stamp = NextStampNs();
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = stamp / 1'000'000'000;
    times[1].tv_nsec = stamp % 1'000'000'000;
    if (::futimens(fd_.get(), times) != 0) return ErrnoStatus(errno, "futimens", tmp_path_);

    // A conditional publish holds the lock exclusively from the check to the rename, and every
    // other publish or delete holds it shared: nothing can create or replace the object in
    // between, in this process or another.
    bool conditional = options_.if_none_match || options_.if_match_etag.has_value();
    RWMETA_ASSIGN_OR_RETURN(LockFile lock, LockFile::Acquire(root_, conditional));
    if (conditional) RWMETA_RETURN_IF_ERROR(CheckCondition(options_));

    std::string parent = ParentOf(final_path_);
    for (int attempt = 0;; ++attempt) {
      RWMETA_RETURN_IF_ERROR(MakeDirs(parent));
      if (::rename(tmp_path_.c_str(), final_path_.c_str()) == 0) break;
      int err = errno;
      if (err == ENOENT && attempt + 1 < kPublishAttempts) continue;  // Parent removed by Delete.
      if (err == EISDIR || err == ENOTDIR || err == ENOTEMPTY || err == EEXIST) {
        return FailedPreconditionError(fmt::format(
            "object {}: cannot be stored at '{}': a key cannot be both an object and a directory",
            key_, final_path_));
      }
      return ErrnoStatus(err, "rename to", final_path_);
    }
    return FsyncPath(parent);
  }

  // REQUIRES: the exclusive lock is held.
  Status CheckCondition(const PutOptions& options) {
    struct stat st;
    bool exists = false;
    if (::stat(final_path_.c_str(), &st) == 0) {
      exists = S_ISREG(st.st_mode);
    } else if (errno != ENOENT && errno != ENOTDIR) {
      return ErrnoStatus(errno, "stat", final_path_);
    }
    if (options.if_none_match && exists) {
      return AbortedError(fmt::format("object {}: already exists (if_none_match)", key_));
    }
    if (options.if_match_etag) {
      if (!exists) {
        return AbortedError(
            fmt::format("object {}: does not exist (if_match {})", key_, *options.if_match_etag));
      }
      std::string etag = EtagOf(st);
      if (etag != *options.if_match_etag) {
        return AbortedError(fmt::format("object {}: etag is {}, not {} (if_match)", key_, etag,
                                        *options.if_match_etag));
      }
    }
    return Status::Ok();
  }

  std::string root_;
  std::string key_;
  std::string final_path_;
  std::string tmp_path_;
  PutOptions options_;
  Fd fd_;
  State state_ = State::kNew;
  uint64_t size_ = 0;
};

Result<std::unique_ptr<FsObjectStore>> FsObjectStore::Open(std::string_view root_dir) {
  if (root_dir.empty() || root_dir.front() != '/') {
    return InvalidArgumentError(
        fmt::format("fs object store root '{}' is not an absolute path", root_dir));
  }
  if (root_dir.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("fs object store root contains a NUL byte");
  }
  std::string root(root_dir);
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  auto store = std::unique_ptr<FsObjectStore>(new FsObjectStore(root));
  RWMETA_RETURN_IF_ERROR(MakeDirs(root));
  RWMETA_RETURN_IF_ERROR(MakeDirs(Join(root, kTmpDir)));
  {
    // Creates the lock file, and checks that we may write here.
    RWMETA_ASSIGN_OR_RETURN(LockFile lock, LockFile::Acquire(root, /*exclusive=*/false));
  }
  RWMETA_RETURN_IF_ERROR(store->RemoveStaleStagingFiles());
  return store;
}

Status FsObjectStore::RemoveStaleStagingFiles() {
  std::string dir = Join(root_, kTmpDir);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus(errno, "opendir", dir);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(d);
  int64_t now_ms = NowRealtimeNs() / 1'000'000;
  for (const auto& name : names) {
    std::string path = Join(dir, name);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) continue;  // Published or removed meanwhile.
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (now_ms - MtimeNs(st) / 1'000'000 < kStaleStagingAgeMs) continue;
    // A live writer holds its staging file locked; only an unlocked old one is left over.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "unlink stale staging file", path);
    }
  }
  return Status::Ok();
}

Status FsObjectStore::CheckKey(std::string_view key) const {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  if (key.substr(0, key.find('/')) == kReservedDir) {
    return InvalidArgumentError(fmt::format(
        "invalid object key '{}': '{}' is reserved by the fs object store", key, kReservedDir));
  }
  return Status::Ok();
}

Status FsObjectStore::Put(std::string_view key, std::string_view data, const PutOptions& options) {
  RWMETA_RETURN_IF_ERROR(CheckKey(key));
  RWMETA_ASSIGN_OR_RETURN(auto writer, FsWriter::Create(root_, key, options));
  RWMETA_RETURN_IF_ERROR(writer->Append(data));
  return writer->Finish();
}

Result<std::unique_ptr<ObjectWriter>> FsObjectStore::OpenWriter(std::string_view key,
                                                                const PutOptions& options) {
  RWMETA_RETURN_IF_ERROR(CheckKey(key));
  RWMETA_ASSIGN_OR_RETURN(auto writer, FsWriter::Create(root_, key, options));
  return std::unique_ptr<ObjectWriter>(std::move(writer));
}

Result<std::string> FsObjectStore::Get(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(CheckKey(key));
  std::string path = Join(root_, key);
  struct stat st;
  RWMETA_ASSIGN_OR_RETURN(Fd fd, OpenObject(path, key, &st));
  std::string out;
  RWMETA_RETURN_IF_ERROR(PreadAll(fd.get(), 0, static_cast<uint64_t>(st.st_size), path, &out));
  return out;
}

Result<std::string> FsObjectStore::GetRange(std::string_view key, uint64_t offset,
                                            uint64_t length) {
  RWMETA_RETURN_IF_ERROR(CheckKey(key));
  std::string path = Join(root_, key);
  struct stat st;
  RWMETA_ASSIGN_OR_RETURN(Fd fd, OpenObject(path, key, &st));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size) {
    return OutOfRangeError(
        fmt::format("object {}: offset {} is past its end ({} bytes)", key, offset, size));
  }
  std::string out;
  RWMETA_RETURN_IF_ERROR(PreadAll(fd.get(), offset, std::min(length, size - offset), path, &out));
  return out;
}

Result<std::unique_ptr<ObjectReader>> FsObjectStore::OpenReader(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(CheckKey(key));
  std::string path = Join(root_, key);
  struct stat st;
  RWMETA_ASSIGN_OR_RETURN(Fd fd, OpenObject(path, key, &st));
  return std::unique_ptr<ObjectReader>(
      new FsReader(std::move(fd), static_cast<uint64_t>(st.st_size), std::move(path)));
}

Result<ObjectMeta> FsObjectStore::Head(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(CheckKey(key));
  std::string path = Join(root_, key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return NotFoundError(fmt::format("object {}: not found", key));
    }
    return ErrnoStatus(errno, "stat", path);
  }
  if (!S_ISREG(st.st_mode)) return NotFoundError(fmt::format("object {}: not found", key));
  return MetaOf(std::string(key), st);
}

namespace {

// Appends to `out` every regular file under `root`/`rel_dir` whose key starts with `prefix`,
// descending only into directories that can hold such keys.
Status Walk(const std::string& root, const std::string& rel_dir, std::string_view prefix,
            std::vector<ObjectMeta>* out) {
  std::string dir = rel_dir.empty() ? root : Join(root, rel_dir);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    // Removed by a concurrent Delete, or never there: nothing to list.
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return ErrnoStatus(errno, "opendir", dir);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus(err, "readdir", dir);

  for (const auto& name : names) {
    if (rel_dir.empty() && name == FsObjectStore::kReservedDir) continue;
    std::string key = rel_dir.empty() ? name : Join(rel_dir, name);
    struct stat st;
    if (::lstat(Join(root, key).c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // Deleted while we listed.
      return ErrnoStatus(errno, "lstat", Join(root, key));
    }
    if (S_ISDIR(st.st_mode)) {
      std::string as_dir = key + "/";
      size_t n = std::min(as_dir.size(), prefix.size());
      if (as_dir.compare(0, n, prefix, 0, n) == 0) {
        RWMETA_RETURN_IF_ERROR(Walk(root, key, prefix, out));
      }
    } else if (S_ISREG(st.st_mode) && key.compare(0, prefix.size(), prefix) == 0) {
      out->push_back(MetaOf(std::move(key), st));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<ObjectMeta>> FsObjectStore::List(std::string_view prefix) {
  // Start at the deepest directory the prefix names, when that is a well-formed key (never let a
  // ".." in the prefix walk out of the root).
  std::string start;
  if (size_t slash = prefix.rfind('/'); slash != std::string_view::npos) {
    std::string_view dir = prefix.substr(0, slash);
    if (CheckKey(dir).ok()) start = std::string(dir);
  }
  std::vector<ObjectMeta> out;
  RWMETA_RETURN_IF_ERROR(Walk(root_, start, prefix, &out));
  std::sort(out.begin(), out.end(),
            [](const ObjectMeta& a, const ObjectMeta& b) { return a.key < b.key; });
  return out;
}

Status FsObjectStore::Delete(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(CheckKey(key));
  std::string path = Join(root_, key);
  RWMETA_ASSIGN_OR_RETURN(LockFile lock, LockFile::Acquire(root_, /*exclusive=*/false));
  if (::unlink(path.c_str()) != 0) {
    // Missing, or a directory (which is not an object): nothing to delete.
    if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return Status::Ok();
    return ErrnoStatus(errno, "unlink", path);
  }
  std::string parent = ParentOf(path);
  // A concurrent Delete of the directory's last other object may have removed the directory
  // already (the walk below): then there is nothing left to make durable.
  if (Status synced = FsyncPath(parent); !synced.ok() && ::access(parent.c_str(), F_OK) == 0) {
    return synced;
  }
  // Remove directories the delete left empty; rmdir refuses non-empty ones, which ends the walk.
  while (parent.size() > root_.size() && ::rmdir(parent.c_str()) == 0) {
    parent = ParentOf(parent);
  }
  return Status::Ok();
}

std::string FsObjectStore::DisplayUrl() const { return "fs://" + root_; }

}  // namespace rwmeta::objstore
