#pragma once
// A real gateway in the test process: port 0 on loopback, a fresh database in a scratch
// folder, stopped and cleaned up when the fixture goes out of scope.

#include "config/config.hpp"
#include "gateway/app.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cp2::test {

/// A scratch folder, removed on destruction.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

/// The configuration tests start from: loopback port 0, a database in `dir`, log provider,
/// and overrides as "CP2_SECTION_KEY=value" strings.
config::config test_config(const scratch_dir& dir, const std::vector<std::string>& env = {});

/// A started gateway; stops gracefully when destroyed.
class test_gateway {
public:
  /// `clock`, when given, is the gateway's time (see gateway::app).
  explicit test_gateway(config::config cfg,
                        const std::function<void(gateway::router&)>& extra_routes = {},
                        const domain::clock* clock = nullptr);
  ~test_gateway();

  /// The port it listens on.
  unsigned short port() const { return port_; }
  /// The app, for request_stop() and wait().
  gateway::app& app() { return *app_; }
  /// Stops it now (idempotent); returns the exit code.
  int stop();

private:
  std::unique_ptr<gateway::app> app_;
  unsigned short port_ = 0;
  bool stopped_ = false;
};

}  // namespace cp2::test
