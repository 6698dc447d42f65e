#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>
#include <vector>

#include "base/file.h"
#include "tests/support/temp_dir.h"

using namespace casenode;

namespace {

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode;
}

}  // namespace

TEST_CASE("WriteFileAtomic never follows a symlink planted at a temporary name", "[file]") {
  TempDir dir;
  const std::string victim = dir.path("victim");
  REQUIRE(WriteFileAtomic(victim, std::string_view("precious"), 0600).ok());
  // The old code wrote through path + ".tmp", a name anyone with write access
  // to the directory could plant a symlink at.
  REQUIRE(::symlink(victim.c_str(), dir.path("out.tmp").c_str()) == 0);
  REQUIRE(WriteFileAtomic(dir.path("out"), std::string_view("new content"), 0600).ok());
  REQUIRE(*ReadFile(victim) == "precious");
  REQUIRE(S_ISREG(ModeOf(dir.path("out"))));
  REQUIRE(*ReadFile(dir.path("out")) == "new content");
  REQUIRE(S_ISLNK(ModeOf(dir.path("out.tmp"))));  // left alone
}

TEST_CASE("WriteFileAtomic gives the file exactly the requested mode, whatever the umask", "[file]") {
  TempDir dir;
  const mode_t old_umask = ::umask(0);
  REQUIRE(WriteFileAtomic(dir.path("a"), std::string_view("x"), 0600).ok());
  ::umask(077);
  REQUIRE(WriteFileAtomic(dir.path("b"), std::string_view("x"), 0644).ok());
  // Replacing a more open file makes it no more open than asked.
  REQUIRE(WriteFileAtomic(dir.path("b"), std::string_view("y"), 0600).ok());
  ::umask(old_umask);
  REQUIRE((ModeOf(dir.path("a")) & 07777) == 0600);
  REQUIRE((ModeOf(dir.path("b")) & 07777) == 0600);
  REQUIRE(WriteFileAtomic(dir.path("c"), std::string_view("x"), 0644).ok());
  REQUIRE((ModeOf(dir.path("c")) & 07777) == 0644);
}

TEST_CASE("concurrent WriteFileAtomic calls to one path leave one whole version", "[file]") {
  TempDir dir;
  const std::string path = dir.path("manifest.json");
  constexpr int kWriters = 4, kWrites = 40;
  constexpr size_t kSize = 256 * 1024;
  std::atomic<int> failed{0}, torn{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      const std::string content(kSize, static_cast<char>('a' + w));
      for (int i = 0; i < kWrites; ++i) {
        if (!WriteFileAtomic(path, content, 0644).ok()) ++failed;
      }
    });
  }
  std::thread reader([&] {
    while (!done.load()) {
      auto text = ReadFile(path);
      if (!text.ok()) continue;  // not written yet
      if (text->size() != kSize || text->find_first_not_of(text->front()) != std::string::npos) ++torn;
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  reader.join();
  REQUIRE(failed.load() == 0);
  REQUIRE(torn.load() == 0);
  REQUIRE(Names(dir.root()) == std::vector<std::string>{"manifest.json"});  // no temporary left behind
}

TEST_CASE("a failed WriteFileAtomic leaves no temporary file behind", "[file]") {
  TempDir dir;
  std::filesystem::create_directory(dir.path("taken"));  // rename over a directory fails
  REQUIRE_FALSE(WriteFileAtomic(dir.path("taken"), std::string_view("x"), 0600).ok());
  REQUIRE(Names(dir.root()) == std::vector<std::string>{"taken"});
}

TEST_CASE("CheckOwnerOnly refuses a symlink, another user's file and an open mode", "[file]") {
  TempDir dir;
  const std::string key = dir.path("k");
  REQUIRE(WriteFileAtomic(key, std::string_view("x"), 0600).ok());
  REQUIRE(CheckOwnerOnly(key).ok());
  REQUIRE(::symlink(key.c_str(), dir.path("link").c_str()) == 0);
  REQUIRE(CheckOwnerOnly(dir.path("link")).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(::chmod(key.c_str(), 0640) == 0);
  REQUIRE(CheckOwnerOnly(key).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(::chmod(key.c_str(), 0400) == 0);
  REQUIRE(CheckOwnerOnly(key).ok());
  if (::geteuid() == 0) {
    REQUIRE(::chown(key.c_str(), 65534, 65534) == 0);
    REQUIRE(CheckOwnerOnly(key).code() == absl::StatusCode::kFailedPrecondition);
  }
}
