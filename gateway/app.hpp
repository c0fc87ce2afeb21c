#pragma once
// The running gateway: configuration, database, executors, routes and the HTTP server,
// wired explicitly.

#include "config/config.hpp"

#include <cstdint>
#include <functional>
#include <memory>

namespace cp2::sms {
struct sender_stats;
}

namespace cp2::domain {
class clock;
}

namespace cp2::gateway {

class router;

/// One gateway process. Tests create it in-process on port 0; main() runs it until a signal.
/// Thread safety: start(), port() and request_stop() may be called from any thread.
class app {
public:
  /// Opens the database (creating and migrating it) and builds the routes. Throws
  /// db::database_error or std::runtime_error with a one-line reason. `clock` is where the
  /// rules, the outbox and the catalog read the time: null means the wall clock; tests pass
  /// their own (it must be safe to read from any thread and outlive the app).
  explicit app(config::config cfg, const domain::clock* clock = nullptr);
  ~app();
  app(const app&) = delete;
  app& operator=(const app&) = delete;

  /// Adds extra routes before start() (tests use it to probe the HTTP edge).
  void extend_routes(const std::function<void(router&)>& add);

  /// Binds, logs where it listens, and starts the I/O threads. Returns at once.
  void start();

  /// The bound port (after start()).
  std::uint16_t port() const;

  /// Begins a graceful stop: no new connections, requests in flight finish (up to
  /// server.shutdown_grace), then the I/O threads end.
  void request_stop();

  /// Blocks until the I/O threads have ended after request_stop() (or a signal, when
  /// handle_signals() was called). Returns the process exit code.
  int wait();

  /// Makes SIGINT and SIGTERM call request_stop().
  void handle_signals();

  /// The outbox sender's counters (accepted, retried, failed, alarms).
  const sms::sender_stats& outbox_stats() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cp2::gateway
