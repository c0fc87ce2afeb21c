#pragma once
// The HTTP/1.1 edge: accepts connections, reads requests with deadlines and limits, applies
// the checks of SPEC section 3.5 in the order of section 7, and calls the router's handlers.

#include "config/cidr.hpp"
#include "gateway/router.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace cp2::gateway {

/// The server's limits and guards, taken from the configuration.
struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  int max_connections = 1024;
  std::size_t body_limit = 16 * 1024;     ///< larger bodies get 413
  std::size_t header_limit = 8 * 1024;    ///< larger headers get 431
  std::string callback_secret;            ///< ?key= for guard::callback routes; empty: off
  std::vector<config::cidr> allow_from;   ///< peers allowed on guard::callback routes; empty: any
  /// Reverse proxies whose X-Forwarded-For is believed; the client is then the address the
  /// nearest untrusted hop reported. Empty: the TCP peer is the client.
  std::vector<config::cidr> trusted_proxies;
  std::string admin_token;                ///< bearer token for guard::admin routes; empty: 404
  /// Called once per answered request (route pattern or "-", status, seconds), for metrics.
  std::function<void(const std::string&, int, double)> observe;
  /// Called when a handler throws, before its error answer is built, for metrics.
  std::function<void(const std::exception&)> on_failure;
};

/// Listens on one address and serves the router's routes on the io_context's threads.
/// Thread safety: start() and stop() may be called from any thread; the router must outlive
/// the server and not change while it runs.
class http_server {
public:
  http_server(boost::asio::io_context& ioc, const router& routes, server_options options);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and starts accepting. Throws std::system_error when the address cannot be bound.
  void start();

  /// The port actually bound (useful with port 0).
  std::uint16_t port() const;

  /// Stops accepting: no new connection starts (on Linux, SYNs are dropped), handshakes under
  /// way get 100 ms, and every connection in the listen backlog is accepted and served (with
  /// `Connection: close`) rather than reset when the acceptor closes; requests in flight finish,
  /// a new connection's first request is still read (within header_timeout) and answered, idle
  /// keep-alive connections are closed. Calls `done` (on an I/O thread) once the last
  /// connection has closed.
  void stop(std::function<void()> done);

  /// Connections open now.
  int open_connections() const;

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace cp2::gateway
