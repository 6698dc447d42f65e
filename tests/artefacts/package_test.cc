// Artefacts: the Debian package an operator installs. Built with cpack from
// this build tree, judged by lintian, installed with dpkg -i (the test runs
// as root, as CI does), used from its installed files, then purged.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "tests/artefacts/package.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using casenode::testing::Run;
using casenode::testing::RunTool;
using casenode::testing::RunResult;

namespace {

std::string Trim(std::string s) { return casenode::testing::TrimNewlines(std::move(s)); }

bool Installed() {
  const RunResult q = RunTool({"dpkg-query", "-W", "-f=${Status}", "casenode"});
  return q.exit_code == 0 && q.out.find("install ok installed") != std::string::npos;
}

void Purge() {
  const RunResult purge = RunTool({"dpkg", "--purge", "casenode"});
  INFO(purge.out << purge.err);
  REQUIRE(purge.exit_code == 0);
}

// Leaves the machine without the package, whatever the test's outcome.
struct PurgeAtExit {
  ~PurgeAtExit() { RunTool({"dpkg", "--purge", "casenode"}); }
};

}  // namespace

TEST_CASE("the Debian package passes lintian, installs, works from its installed files and purges clean",
          "[artefact][package]") {
  REQUIRE(::geteuid() == 0);  // dpkg -i: run the artefact tests as root, as CI does
  TempDir tmp;
  const std::string deb = casenode::testing::BuildPackage(tmp.path("out"));

  // lintian: no error and no warning (informational tags only).
  const RunResult lintian = RunTool({"lintian", "--fail-on", "error,warning", deb});
  INFO(lintian.out << lintian.err);
  REQUIRE(lintian.exit_code == 0);
  REQUIRE(lintian.out.find("E: ") == std::string::npos);
  REQUIRE(lintian.out.find("W: ") == std::string::npos);

  const RunResult control = RunTool({"dpkg-deb", "-f", deb, "Package", "Depends"});
  REQUIRE(control.out.find("Package: casenode") != std::string::npos);
  for (const char* dep : {"adduser", "procps", "init-system-helpers", "libsodium23", "libgrpc++1.51", "libsystemd0"}) {
    CAPTURE(dep);
    REQUIRE(control.out.find(dep) != std::string::npos);  // shlibdeps found the libraries
  }

  // The test installs and purges its own package: never an operator's.
  if (Installed()) FAIL("casenode is installed on this machine; remove it first (dpkg --purge casenode)");
  PurgeAtExit cleanup;
  const RunResult install = RunTool({"dpkg", "-i", deb});
  INFO(install.out << install.err);
  REQUIRE(install.exit_code == 0);

  // The files where Debian and the units expect them.
  for (const char* path :
       {"/usr/bin/casenode", "/usr/bin/casectl", "/usr/share/man/man8/casenode.8.gz", "/usr/share/man/man1/casectl.1.gz",
        "/usr/share/bash-completion/completions/casectl", "/lib/systemd/system/casenode.service",
        "/lib/systemd/system/casenode-backup.service", "/lib/systemd/system/casenode-backup.timer",
        "/etc/casenode/casenode.toml", "/usr/share/casenode/policy/network/00-vocabulary.toml",
        "/usr/share/doc/casenode/copyright", "/usr/share/doc/casenode/changelog.gz"}) {
    CAPTURE(path);
    REQUIRE(std::filesystem::is_regular_file(path));
  }
  REQUIRE(Trim(RunTool({"/usr/bin/casenode", "--version"}).out) == "casenode " CASENODE_VERSION);
  REQUIRE(Trim(RunTool({"/usr/bin/casectl", "--version"}).out) == "casectl " CASENODE_VERSION);
  const RunResult man = RunTool({"man", "--warnings", "-l", "/usr/share/man/man8/casenode.8.gz"}, "", {"MANPAGER=cat"});
  if (man.exit_code != 127) {  // man-db is optional on a build machine
    INFO(man.err);
    REQUIRE(man.out.find("--check-config") != std::string::npos);
  }

  // The casenode system user owns the state directory, alone.
  const RunResult user = RunTool({"getent", "passwd", "casenode"});
  REQUIRE(user.exit_code == 0);
  REQUIRE(user.out.find(":/var/lib/casenode:") != std::string::npos);
  REQUIRE(user.out.find("nologin") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat("/var/lib/casenode", &st) == 0);
  REQUIRE((st.st_mode & 07777) == 0700);
  const std::string uid = Trim(RunTool({"id", "-u", "casenode"}).out);
  REQUIRE(std::to_string(st.st_uid) == uid);

  // The unit as installed verifies (its user and binary now exist).
  const RunResult verify = RunTool({"systemd-analyze", "verify", "--man=no", "/lib/systemd/system/casenode.service"});
  INFO(verify.out << verify.err);
  REQUIRE(verify.exit_code == 0);
  REQUIRE(verify.err.empty());

  // Bash completion from the installed script.
  const RunResult complete =
      RunTool({"bash", "-c",
           "source /usr/share/bash-completion/completions/casectl; COMP_WORDS=(casectl ca); COMP_CWORD=1; _casectl; "
           "echo \"${COMPREPLY[*]}\""});
  REQUIRE(Trim(complete.out) == "case");

  // The installed casectl ships the installed policy; the installed daemon
  // accepts what it made.
  const RunResult init = RunTool({"/usr/bin/casectl", "network", "init", tmp.path("net")});
  INFO(init.out << init.err);
  REQUIRE(init.exit_code == 0);
  REQUIRE(RunTool({"cmp", "/usr/share/casenode/policy/network/30-casusoverleg.toml",
               tmp.path("net") + "/network/policy/30-casusoverleg.toml"})
              .exit_code == 0);
  // Without the installed policy, the installed casectl names what is missing
  // rather than take another policy.
  std::filesystem::rename("/usr/share/casenode/policy", "/usr/share/casenode/policy-aside");
  const RunResult no_policy = RunTool({"/usr/bin/casectl", "network", "init", tmp.path("net2")});
  std::filesystem::rename("/usr/share/casenode/policy-aside", "/usr/share/casenode/policy");
  REQUIRE(no_policy.exit_code != 0);
  REQUIRE(no_policy.err.find("/usr/share/casenode/policy/network") != std::string::npos);
  const RunResult check =
      RunTool({"/usr/bin/casenode", "--config", tmp.path("net") + "/school/casenode.toml", "--check-config"});
  INFO(check.out << check.err);
  REQUIRE(check.exit_code == 0);

  // Purge removes every file of the package, the conffile too; the state
  // (audit log, records under retention) stays for the operator to destroy.
  Purge();
  REQUIRE_FALSE(Installed());
  for (const char* path : {"/usr/bin/casenode", "/usr/bin/casectl", "/etc/casenode/casenode.toml",
                           "/lib/systemd/system/casenode.service", "/usr/share/casenode"}) {
    CAPTURE(path);
    REQUIRE_FALSE(std::filesystem::exists(path));
  }
  REQUIRE(std::filesystem::is_directory("/var/lib/casenode"));
}
