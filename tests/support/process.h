// Child processes for integration tests: spawn, signal, wait, capture output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace casenode::testing {

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out;
  std::string err;
};

// Runs a program to completion in `cwd` (empty: inherit), capturing stdout and stderr.
RunResult Run(const std::vector<std::string>& argv, const std::string& cwd = "",
              const std::vector<std::string>& extra_env = {});
// The same with `input` (if any) on its standard input, else /dev/null.
RunResult RunWithInput(const std::vector<std::string>& argv, const std::optional<std::string>& input,
                       const std::string& cwd = "", const std::vector<std::string>& extra_env = {});

// A running child whose stdout and stderr go to files.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& cwd, const std::string& out_path,
          const std::string& err_path, const std::vector<std::string>& extra_env = {},
          const std::string& in_path = "/dev/null");
  ~Process();  // SIGKILL if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) const;
  // Waits up to `timeout` for exit; returns the exit code, -1 for a signal, -2 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  bool Running();

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

}  // namespace casenode::testing
