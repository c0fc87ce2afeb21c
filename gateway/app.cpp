#include "gateway/app.hpp"

#include "db/database.hpp"
#include "gateway/async.hpp"
#include "gateway/http_server.hpp"
#include "gateway/router.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <SQLiteCpp/Database.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cp2::gateway {

namespace asio = boost::asio;

struct app::impl {
  explicit impl(config::config c) : cfg(std::move(c)) {}

  config::config cfg;
  // Owned by db_pool's single thread once the server runs; see docs/architecture.md.
  std::unique_ptr<SQLite::Database> db;
  asio::io_context ioc;
  asio::thread_pool db_pool{1};
  router routes;
  std::unique_ptr<http_server> server;
  std::vector<std::thread> threads;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::steady_timer> grace_timer;
  std::atomic<bool> stop_requested{false};
  bool forced = false;

  void add_routes() {
    routes.add("GET", "/healthz", [](http_request&) -> asio::awaitable<http_response> {
      co_return text_response(200, "ok");
    });
    routes.add("GET", "/readyz", [this](http_request&) -> asio::awaitable<http_response> {
      bool ready = co_await run_on(db_pool, [this] {
        try {
          db->execAndGet("SELECT count(*) FROM accounts").getInt();
          return true;
        } catch (const std::exception& e) {
          spdlog::warn("readyz: database not usable: {}", e.what());
          return false;
        }
      });
      co_return ready ? text_response(200, "ready") : text_response(503, "database not usable");
    });
  }
};

app::app(config::config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {
  impl_->db = db::open_database(impl_->cfg.db.path, impl_->cfg.db.busy_timeout);
  impl_->add_routes();
}

app::~app() {
  if (!impl_->threads.empty()) {
    request_stop();
    wait();
  }
}

void app::extend_routes(const std::function<void(router&)>& add) { add(impl_->routes); }

void app::start() {
  auto& s = *impl_;
  server_options o;
  o.host = s.cfg.server.host;
  o.port = s.cfg.server.port;
  o.header_timeout = s.cfg.server.header_timeout;
  o.body_timeout = s.cfg.server.body_timeout;
  o.idle_timeout = s.cfg.server.idle_timeout;
  o.max_connections = s.cfg.server.max_connections;
  o.callback_secret = s.cfg.callbacks.secret;
  for (const auto& text : s.cfg.callbacks.allow_from) o.allow_from.push_back(*config::parse_cidr(text));
  o.admin_token = s.cfg.admin.token;
  s.server = std::make_unique<http_server>(s.ioc, s.routes, o);
  s.server->start();
  spdlog::info("cp2-gateway listening on {}:{}, database {} (schema {}), provider {}, {} I/O threads",
               s.cfg.server.host, s.server->port(), s.cfg.db.path, db::latest_schema_version(),
               s.cfg.provider.kind, s.cfg.server.threads);
  for (int i = 0; i < s.cfg.server.threads; ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
}

std::uint16_t app::port() const { return impl_->server ? impl_->server->port() : 0; }

void app::handle_signals() {
  auto& s = *impl_;
  s.signals = std::make_unique<asio::signal_set>(s.ioc, SIGINT, SIGTERM);
  s.signals->async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {} received: stopping", signo);
    request_stop();
  });
}

void app::request_stop() {
  auto& s = *impl_;
  if (s.stop_requested.exchange(true)) return;
  asio::post(s.ioc, [&s] {
    if (s.signals) s.signals->cancel();
    s.grace_timer = std::make_unique<asio::steady_timer>(s.ioc, s.cfg.server.shutdown_grace);
    s.grace_timer->async_wait([&s](const boost::system::error_code& ec) {
      if (ec) return;
      spdlog::warn("shutdown grace of {} ms over with {} connections open: closing them",
                   s.cfg.server.shutdown_grace.count(), s.server->open_connections());
      s.forced = true;
      s.ioc.stop();
    });
    s.server->stop([&s] { asio::post(s.ioc, [&s] { s.grace_timer->cancel(); }); });
  });
}

int app::wait() {
  auto& s = *impl_;
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  // Work already handed to the database thread finishes before the connection goes away.
  s.db_pool.join();
  spdlog::info("cp2-gateway stopped{}", s.forced ? " (grace period ran out)" : "");
  return 0;
}

}  // namespace cp2::gateway
