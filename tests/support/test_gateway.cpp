#include "tests/support/test_gateway.hpp"

#include <atomic>
#include <fstream>

#include <unistd.h>

namespace cp2::test {

scratch_dir::scratch_dir() {
  static std::atomic<int> counter{0};
  path = std::filesystem::temp_directory_path() /
         ("cp2-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

config::config test_config(const scratch_dir& dir, const std::vector<std::string>& env) {
  std::vector<std::string> all = {"CP2_SERVER_LISTEN=127.0.0.1:0", "CP2_SERVER_THREADS=2",
                                  "CP2_DB_PATH=" + (dir.path / "cp2.db").string(),
                                  "CP2_PROVIDER_KIND=log", "CP2_LOG_LEVEL=warn"};
  all.insert(all.end(), env.begin(), env.end());
  return config::load_from_text("", all);
}

test_gateway::test_gateway(config::config cfg,
                           const std::function<void(gateway::router&)>& extra_routes,
                           const domain::clock* clock)
    : app_(std::make_unique<gateway::app>(std::move(cfg), clock)) {
  if (extra_routes) app_->extend_routes(extra_routes);
  app_->start();
  port_ = app_->port();
}

test_gateway::~test_gateway() { stop(); }

int test_gateway::stop() {
  if (stopped_) return 0;
  stopped_ = true;
  app_->request_stop();
  return app_->wait();
}

}  // namespace cp2::test
