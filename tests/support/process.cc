#include "tests/support/process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/temp_dir.h"

namespace casenode::testing {
namespace {

pid_t Spawn(const std::vector<std::string>& argv, const std::string& cwd, const std::string& out_path,
            const std::string& err_path, const std::vector<std::string>& extra_env,
            const std::string& in_path = "/dev/null") {
  // Prepare everything before fork: the child may only call async-signal-safe functions.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // extra_env entries ("NAME=value") replace inherited ones of the same name.
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('=') + 1);
    bool overridden = false;
    for (const auto& x : extra_env) overridden = overridden || x.starts_with(name);
    if (!overridden) env_store.push_back(entry);
  }
  for (const auto& e : extra_env) env_store.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // A test process that dies (a crash, a killed ctest) takes its nodes with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(127);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    const int in = ::open(in_path.c_str(), O_RDONLY);
    if (out < 0 || err < 0 || in < 0) _exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(args[0], args.data(), env.data());
    _exit(127);
  }
  return pid;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

RunResult Run(const std::vector<std::string>& argv, const std::string& cwd,
              const std::vector<std::string>& extra_env) {
  return RunWithInput(argv, std::nullopt, cwd, extra_env);
}

RunResult RunWithInput(const std::vector<std::string>& argv, const std::optional<std::string>& input,
                       const std::string& cwd, const std::vector<std::string>& extra_env) {
  TempDir tmp;
  std::string in_path = "/dev/null";
  if (input) {
    in_path = tmp.path("in");
    std::ofstream(in_path, std::ios::binary) << *input;
  }
  Process p(argv, cwd, tmp.path("out"), tmp.path("err"), extra_env, in_path);
  RunResult r;
  r.exit_code = p.Wait(std::chrono::seconds(120));
  r.out = Slurp(tmp.path("out"));
  r.err = Slurp(tmp.path("err"));
  return r;
}

Process::Process(const std::vector<std::string>& argv, const std::string& cwd, const std::string& out_path,
                 const std::string& err_path, const std::vector<std::string>& extra_env, const std::string& in_path)
    : pid_(Spawn(argv, cwd, out_path, err_path, extra_env, in_path)) {}

Process::~Process() {
  if (Running()) {
    Signal(SIGKILL);
    Wait(std::chrono::seconds(5));
  }
}

void Process::Signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

bool Process::Running() {
  if (exited_ || pid_ <= 0) return false;
  const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) exited_ = true;
  return !exited_;
}

int Process::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (pid_ <= 0) return -1;
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

}  // namespace casenode::testing
