#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/file.h"
#include "keys/master_key.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using namespace casenode::keys;

namespace {
// Low Argon2id limits keep unit tests fast; production uses NewArgon2id() defaults.
KdfParams FastParams() { return KdfParams::NewArgon2id(1, 8 * 1024); }
const std::string_view kPlain = "secret node key material";
}  // namespace

TEST_CASE("a sealed value opens under the same key and purpose", "[keys]") {
  TempDir dir;
  REQUIRE(MasterKey::CreateKeyFile(dir.path("m.key")).ok());
  auto key = MasterKey::FromKeyFile(dir.path("m.key"));
  REQUIRE(key.ok());
  const Bytes sealed = key->Seal("node-identity", AsBytes(kPlain));
  auto opened = key->Open("node-identity", sealed);
  REQUIRE(opened.ok());
  REQUIRE(opened->InsecureView() == kPlain);
}

TEST_CASE("a sealed value fails to open for another purpose", "[keys]") {
  TempDir dir;
  REQUIRE(MasterKey::CreateKeyFile(dir.path("m.key")).ok());
  auto key = MasterKey::FromKeyFile(dir.path("m.key"));
  const Bytes sealed = key->Seal("node-identity", AsBytes(kPlain));
  REQUIRE(key->Open("operator-signing-key", sealed).status().code() == absl::StatusCode::kPermissionDenied);
}

TEST_CASE("a tampered header byte makes the sealed file fail to open", "[keys]") {
  const SecretBytes pass = SecretBytes::CopyFrom(std::string_view("correct horse"));
  auto key = MasterKey::FromPassphrase(pass, FastParams());
  Bytes sealed = key->Seal("p", AsBytes(kPlain));
  sealed[9] ^= 1;  // inside opslimit
  REQUIRE_FALSE(key->Open("p", sealed).ok());
}

TEST_CASE("a key file readable by others is refused", "[keys]") {
  TempDir dir;
  const std::string path = dir.path("m.key");
  REQUIRE(MasterKey::CreateKeyFile(path).ok());
  ::chmod(path.c_str(), 0644);
  auto key = MasterKey::FromKeyFile(path);
  REQUIRE(key.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(key.status().message().find("0600") != std::string::npos);
}

TEST_CASE("a key file is created with mode 0600 and never overwritten", "[keys]") {
  TempDir dir;
  const std::string path = dir.path("m.key");
  REQUIRE(MasterKey::CreateKeyFile(path).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  REQUIRE(MasterKey::CreateKeyFile(path).code() == absl::StatusCode::kAlreadyExists);
}

TEST_CASE("a wrong passphrase is refused without crashing and without revealing anything", "[keys]") {
  TempDir dir;
  const std::string pass_file = dir.path("pass");
  REQUIRE(WriteFileAtomic(pass_file, std::string_view("right passphrase\n"), 0600).ok());
  const SecretBytes right = SecretBytes::CopyFrom(std::string_view("right passphrase"));
  auto key = MasterKey::FromPassphrase(right, FastParams());
  const Bytes sealed = key->Seal("node-identity", AsBytes(kPlain));

  ::setenv("CASENODE_TEST_PASSPHRASE", "canary-Pa55phrase-xyzzy", 1);
  auto wrong = MasterKey::Unlock("passphrase-env:CASENODE_TEST_PASSPHRASE", sealed);
  REQUIRE(wrong.ok());  // deriving succeeds; opening is what fails
  auto opened = wrong->Open("node-identity", sealed);
  REQUIRE(opened.status().code() == absl::StatusCode::kPermissionDenied);
  REQUIRE(opened.status().message().find("wrong master key or passphrase") != std::string::npos);
  REQUIRE(opened.status().message().find("canary-Pa55phrase") == std::string::npos);

  auto right_again = MasterKey::Unlock("passphrase-file:" + pass_file, sealed);
  REQUIRE(right_again.ok());
  REQUIRE(right_again->Open("node-identity", sealed).ok());
}

TEST_CASE("the header says whether a passphrase or key file sealed the file", "[keys]") {
  TempDir dir;
  REQUIRE(MasterKey::CreateKeyFile(dir.path("m.key")).ok());
  auto key = MasterKey::FromKeyFile(dir.path("m.key"));
  const Bytes sealed = key->Seal("p", AsBytes(kPlain));
  ::setenv("CASENODE_TEST_PASSPHRASE", "x", 1);
  auto mismatch = MasterKey::Unlock("passphrase-env:CASENODE_TEST_PASSPHRASE", sealed);
  REQUIRE(mismatch.status().code() == absl::StatusCode::kFailedPrecondition);
  auto bad_uri = MasterKey::Unlock("vault:secret", sealed);
  REQUIRE(bad_uri.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a sealed file of a newer format version is refused with a clear error", "[keys]") {
  TempDir dir;
  REQUIRE(MasterKey::CreateKeyFile(dir.path("m.key")).ok());
  auto key = MasterKey::FromKeyFile(dir.path("m.key"));
  Bytes sealed = key->Seal("p", AsBytes(kPlain));
  sealed[6] = 2;
  auto opened = key->Open("p", sealed);
  REQUIRE(opened.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(opened.status().message().find("version 2") != std::string::npos);
}

namespace {
Bytes WithU32At(Bytes sealed, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) sealed[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (24 - 8 * i));
  return sealed;
}
constexpr size_t kOpslimitAt = 8;  // "CNSEAL" | version | kdf | opslimit | memlimit_kib | salt
constexpr size_t kMemlimitAt = 12;
}  // namespace

TEST_CASE("a sealed header asking for endless Argon2id passes is refused before deriving", "[keys]") {
  const SecretBytes pass = SecretBytes::CopyFrom(std::string_view("correct horse"));
  auto key = MasterKey::FromPassphrase(pass, FastParams());
  const Bytes crafted = WithU32At(key->Seal("p", AsBytes(kPlain)), kOpslimitAt, 0xFFFFFFFF);
  auto header = ReadSealedHeader(crafted);
  REQUIRE(header.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(header.status().message().find("opslimit") != std::string::npos);
  // Unlocking must refuse too, at once (the old code derived for hours here).
  ::setenv("CASENODE_TEST_PASSPHRASE", "correct horse", 1);
  auto unlocked = MasterKey::Unlock("passphrase-env:CASENODE_TEST_PASSPHRASE", crafted);
  REQUIRE(unlocked.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(unlocked.status().message().find("opslimit") != std::string::npos);
  REQUIRE(key->Open("p", crafted).status().code() == absl::StatusCode::kInvalidArgument);
  // One above the maximum is refused; the maximum itself is a valid header.
  REQUIRE(ReadSealedHeader(WithU32At(crafted, kOpslimitAt, kMaxArgon2idOpslimit + 1)).status().code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(ReadSealedHeader(WithU32At(crafted, kOpslimitAt, kMaxArgon2idOpslimit)).ok());
}

TEST_CASE("a sealed header asking for more Argon2id memory than the maximum is refused", "[keys]") {
  const SecretBytes pass = SecretBytes::CopyFrom(std::string_view("correct horse"));
  auto key = MasterKey::FromPassphrase(pass, FastParams());
  const Bytes sealed = key->Seal("p", AsBytes(kPlain));
  for (uint32_t kib : {uint32_t{0xFFFFFFFF}, kMaxArgon2idMemlimitKib + 1}) {
    const Bytes crafted = WithU32At(sealed, kMemlimitAt, kib);
    auto header = ReadSealedHeader(crafted);
    INFO(kib);
    REQUIRE(header.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(header.status().message().find("memlimit_kib") != std::string::npos);
    ::setenv("CASENODE_TEST_PASSPHRASE", "correct horse", 1);
    auto unlocked = MasterKey::Unlock("passphrase-env:CASENODE_TEST_PASSPHRASE", crafted);
    REQUIRE(unlocked.status().code() == absl::StatusCode::kInvalidArgument);
  }
  REQUIRE(ReadSealedHeader(WithU32At(sealed, kMemlimitAt, kMaxArgon2idMemlimitKib)).ok());
}

TEST_CASE("a passphrase with Argon2id limits above the maximums is refused", "[keys]") {
  const SecretBytes pass = SecretBytes::CopyFrom(std::string_view("correct horse"));
  auto ops = MasterKey::FromPassphrase(pass, KdfParams::NewArgon2id(kMaxArgon2idOpslimit + 1, 8 * 1024));
  REQUIRE(ops.status().code() == absl::StatusCode::kInvalidArgument);
  auto mem = MasterKey::FromPassphrase(pass, KdfParams::NewArgon2id(1, kMaxArgon2idMemlimitKib + 1));
  REQUIRE(mem.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a key file reached through a symlink is refused", "[keys]") {
  TempDir dir;
  REQUIRE(MasterKey::CreateKeyFile(dir.path("m.key")).ok());
  REQUIRE(::symlink(dir.path("m.key").c_str(), dir.path("link.key").c_str()) == 0);
  auto key = MasterKey::FromKeyFile(dir.path("link.key"));
  REQUIRE(key.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(key.status().message().find("symbolic link") != std::string::npos);

  REQUIRE(WriteFileAtomic(dir.path("pass"), std::string_view("right passphrase\n"), 0600).ok());
  REQUIRE(::symlink(dir.path("pass").c_str(), dir.path("link.pass").c_str()) == 0);
  auto key2 = MasterKey::FromPassphrase(SecretBytes::CopyFrom(std::string_view("right passphrase")), FastParams());
  const Bytes sealed = key2->Seal("p", AsBytes(kPlain));
  auto via_link = MasterKey::Unlock("passphrase-file:" + dir.path("link.pass"), sealed);
  REQUIRE(via_link.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(MasterKey::Unlock("passphrase-file:" + dir.path("pass"), sealed).ok());
}

TEST_CASE("a key file owned by another user is refused", "[keys]") {
  if (::geteuid() != 0) {
    WARN("needs root to chown a file to another user; skipped");
    return;
  }
  TempDir dir;
  REQUIRE(MasterKey::CreateKeyFile(dir.path("m.key")).ok());
  REQUIRE(MasterKey::FromKeyFile(dir.path("m.key")).ok());
  REQUIRE(::chown(dir.path("m.key").c_str(), 65534, 65534) == 0);
  auto key = MasterKey::FromKeyFile(dir.path("m.key"));
  REQUIRE(key.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(key.status().message().find("uid 65534") != std::string::npos);

  REQUIRE(WriteFileAtomic(dir.path("pass"), std::string_view("right passphrase\n"), 0600).ok());
  REQUIRE(::chown(dir.path("pass").c_str(), 65534, 65534) == 0);
  auto key2 = MasterKey::FromPassphrase(SecretBytes::CopyFrom(std::string_view("right passphrase")), FastParams());
  const Bytes sealed = key2->Seal("p", AsBytes(kPlain));
  REQUIRE(MasterKey::Unlock("passphrase-file:" + dir.path("pass"), sealed).status().code() ==
          absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a FIFO in place of a key file is refused without blocking", "[keys]") {
  TempDir dir;
  REQUIRE(::mkfifo(dir.path("m.key").c_str(), 0600) == 0);
  auto key = MasterKey::FromKeyFile(dir.path("m.key"));
  REQUIRE(key.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(key.status().message().find("not a regular file") != std::string::npos);
}

TEST_CASE("a passphrase taken from the environment is removed from it once read", "[keys]") {
  const SecretBytes pass = SecretBytes::CopyFrom(std::string_view("canary-Env-Pa55phrase"));
  auto key = MasterKey::FromPassphrase(pass, FastParams());
  const Bytes sealed = key->Seal("p", AsBytes(kPlain));

  ::setenv("CASENODE_TEST_PASSPHRASE", "canary-Env-Pa55phrase", 1);
  auto unlocked = MasterKey::Unlock("passphrase-env:CASENODE_TEST_PASSPHRASE", sealed);
  REQUIRE(unlocked.ok());
  REQUIRE(unlocked->Open("p", sealed).ok());
  REQUIRE(std::getenv("CASENODE_TEST_PASSPHRASE") == nullptr);  // child processes no longer inherit it
  // A second read in the same process finds nothing, and says so.
  auto again = MasterKey::Unlock("passphrase-env:CASENODE_TEST_PASSPHRASE", sealed);
  REQUIRE(again.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(again.status().message().find("CASENODE_TEST_PASSPHRASE is not set") != std::string::npos);

  ::setenv("CASENODE_TEST_PASSPHRASE", "canary-Env-Pa55phrase", 1);
  auto passphrase = MasterKey::ReadPassphrase("passphrase-env:CASENODE_TEST_PASSPHRASE");
  REQUIRE(passphrase.ok());
  REQUIRE(passphrase->Equals(pass));
  REQUIRE(std::getenv("CASENODE_TEST_PASSPHRASE") == nullptr);
}

namespace {
constexpr char kEnvironCanary[] = "canary-Environ-Pa55phrase-q7";
std::string ProcSelfEnviron() {
  std::ifstream in("/proc/self/environ", std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

// Runs only in the child process the next test starts: /proc/self/environ
// shows the environment a process was started with, so the passphrase must
// come from a real exec to test it.
TEST_CASE("passphrase environ child", "[.][passphrase_environ_child]") {
  REQUIRE(ProcSelfEnviron().find(kEnvironCanary) != std::string::npos);  // the test is not vacuous
  auto key = MasterKey::FromPassphrase(SecretBytes::CopyFrom(std::string_view(kEnvironCanary)), FastParams());
  const Bytes sealed = key->Seal("p", AsBytes(kPlain));
  auto unlocked = MasterKey::Unlock("passphrase-env:CASENODE_TEST_ENVIRON_PASS", sealed);
  REQUIRE(unlocked.ok());
  REQUIRE(unlocked->Open("p", sealed).ok());
  REQUIRE(std::getenv("CASENODE_TEST_ENVIRON_PASS") == nullptr);
  REQUIRE(ProcSelfEnviron().find(kEnvironCanary) == std::string::npos);
}

TEST_CASE("a passphrase taken from the environment no longer shows in /proc/self/environ", "[keys]") {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.push_back(std::string("CASENODE_TEST_ENVIRON_PASS=") + kEnvironCanary);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string arg0 = self, filter = "[passphrase_environ_child]", warn = "--warn", no_tests = "NoTests";
  char* argv[] = {arg0.data(), filter.data(), warn.data(), no_tests.data(), nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);  // the child's report is its exit code
    ::execve(self.c_str(), argv, envp.data());
    _exit(127);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

TEST_CASE("a passphrase can come in as a systemd credential, named, never as a path", "[keys]") {
  TempDir dir;
  const SecretBytes pass = SecretBytes::CopyFrom(std::string_view("credential passphrase"));
  auto key = MasterKey::FromPassphrase(pass, FastParams());
  const Bytes sealed = key->Seal("node-identity", AsBytes(kPlain));
  REQUIRE(WriteFileAtomic(dir.path("master-passphrase"), std::string_view("credential passphrase\n"), 0400).ok());

  ::unsetenv("CREDENTIALS_DIRECTORY");
  auto outside = MasterKey::Unlock("passphrase-credential:master-passphrase", sealed);
  REQUIRE(outside.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(outside.status().message().find("CREDENTIALS_DIRECTORY is not set") != std::string::npos);

  ::setenv("CREDENTIALS_DIRECTORY", dir.path("").c_str(), 1);
  auto unlocked = MasterKey::Unlock("passphrase-credential:master-passphrase", sealed);
  REQUIRE(unlocked.ok());
  REQUIRE(unlocked->Open("node-identity", sealed).ok());
  // As systemd writes it: read-only, group-readable through its ACL.
  REQUIRE(::chmod(dir.path("master-passphrase").c_str(), 0440) == 0);
  REQUIRE(MasterKey::Unlock("passphrase-credential:master-passphrase", sealed).ok());
  // Writable, or readable by others: refused.
  for (mode_t mode : {0640, 0444, 0600}) {
    INFO(mode);
    REQUIRE(::chmod(dir.path("master-passphrase").c_str(), mode) == 0);
    REQUIRE(MasterKey::Unlock("passphrase-credential:master-passphrase", sealed).status().code() ==
            absl::StatusCode::kFailedPrecondition);
  }
  for (const char* bad : {"passphrase-credential:", "passphrase-credential:../pass", "passphrase-credential:..",
                          "passphrase-credential:/etc/shadow"}) {
    INFO(bad);
    REQUIRE(MasterKey::Unlock(bad, sealed).status().code() == absl::StatusCode::kInvalidArgument);
  }
  ::unsetenv("CREDENTIALS_DIRECTORY");
}
