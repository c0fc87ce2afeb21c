#include "gateway/app.hpp"

#include "db/database.hpp"
#include "db/group_commit.hpp"
#include "db/sqlite_account_store.hpp"
#include "db/sqlite_application_store.hpp"
#include "db/sqlite_outbox_store.hpp"
#include "db/sqlite_vacancy_store.hpp"
#include "db/wal_checkpointer.hpp"
#include "db/wal_syncer.hpp"
#include "gateway/applications_workflow.hpp"
#include "gateway/catalog_holder.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/metrics.hpp"
#include "gateway/rate_limiter.hpp"
#include "gateway/accounts_workflow.hpp"
#include "gateway/answer_cache.hpp"
#include "gateway/http_server.hpp"
#include "gateway/in_flight_limit.hpp"
#include "gateway/router.hpp"
#include "gateway/routes.hpp"
#include "gateway/sodium_crypto.hpp"
#include "gateway/wall_clock.hpp"
#include "sms/africastalking_provider.hpp"
#include "sms/async.hpp"
#include "sms/outbox_sender.hpp"
#include "ussd/engine.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

namespace cp2::gateway {

namespace asio = boost::asio;

namespace {

// The reference county list as stored by the migration.
domain::static_county_lookup load_counties(SQLite::Database& db) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& c : db::sqlite_vacancy_store(db).counties())
    for (const auto& s : c.subcounties) pairs.emplace_back(c.name, s);
  return domain::static_county_lookup(std::move(pairs));
}

std::vector<std::string> county_names(const domain::static_county_lookup& counties) {
  std::vector<std::string> names;
  for (const auto& c : counties.counties()) names.push_back(c.name);
  std::sort(names.begin(), names.end());
  return names;
}

// Whether the database is a file that SQLite put in WAL mode: the WAL syncer and the
// checkpointer need one. In any other journal mode a commit made with synchronous = NORMAL can
// be torn by a power cut, so the writer then syncs and checkpoints in place.
bool file_in_wal_mode(const std::string& path, SQLite::Database& db) {
  if (path == ":memory:") return false;
  auto mode = db.execAndGet("PRAGMA journal_mode").getString();
  if (mode == "wal") return true;
  spdlog::warn("database {}: journal mode {}, not wal: every commit syncs in place", path, mode);
  return false;
}

// The WAL syncer's first failure: the commits it was syncing were answered with an error, and
// every commit from now on syncs in place. Said once; cp2_database_wal_sync_failed stays 1.
void report_sync_failure(const std::string& why) {
  spdlog::error("database: syncing the WAL failed ({}); the requests of that commit were answered "
                "with an error, and every commit now syncs in place. Check the disk and its "
                "file system.",
                why);
}

// Names the calling thread, so that `top -H` and perf tell the gateway's threads apart.
// Linux keeps 15 characters.
void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

// Names each thread of a pool: one task per thread, each holding its thread until all have run.
void name_pool_threads(asio::thread_pool& pool, int threads, const char* name) {
  auto all = std::make_shared<std::latch>(threads);
  for (int i = 0; i < threads; ++i)
    asio::post(pool, [all, name] {
      name_this_thread(name);
      all->arrive_and_wait();
    });
}

}  // namespace

struct app::impl {
  impl(config::config c, const domain::clock* injected)
      : cfg(std::move(c)),
        db(db::open_database(cfg.db.path, cfg.db.busy_timeout)),
        reader_db(cfg.db.path == ":memory:" ? nullptr : db::open_reader(cfg.db.path, cfg.db.busy_timeout)),
        clock(injected ? *injected : wall),
        account_store(*db),
        outbox_store(*db),
        application_store(*db),
        read_store(reader_db ? *reader_db : *db),
        vacancy_store(*db),
        counties(load_counties(*db)),
        accounts(account_store, clock,
                 domain::account_limits{cfg.limits.password_resets_per_hour,
                                        cfg.limits.login_max_failures, cfg.limits.login_lock.count(),
                                        cfg.limits.credential_sms_per_day,
                                        cfg.limits.credential_sms_per_minute},
                 cfg.sms.shortcode),
        applications(application_store, clock, random, cfg.sms.shortcode),
        wal(file_in_wal_mode(cfg.db.path, *db)),
        syncer(wal ? std::make_unique<db::wal_syncer>(cfg.db.path, nullptr, report_sync_failure) : nullptr),
        checkpointer(wal ? std::make_unique<db::wal_checkpointer>(*db, cfg.db.path) : nullptr),
        writer(
            *db, [this](std::function<void()> batch) { asio::post(db_pool, std::move(batch)); }, 512,
            syncer.get()),
        catalog(ioc, db_pool, *db, clock),
        workflow(db_pool, writer, cpu_pool, account_store, accounts, hasher, random, applications,
                 [this] { if (sender) sender->notify(); }),
        application_flow(db_pool, writer, cpu_pool, application_store, applications, vacancy_store, catalog, clock,
                         [this] { if (sender) sender->notify(); }, reader_db ? read_pool : db_pool,
                         read_store),
        menus(ussd::engine_options{cfg.sms.shortcode, cfg.limits.password_resets_per_hour,
                                   cfg.limits.credential_sms_per_day, county_names(counties)}),
        // SPEC 7: an answer is remembered at least for the session's life, 180 s; 200 s leaves
        // a margin. The counts only guard memory against a flood far past what the gateway
        // serves (over 5,000 new answers a second for 200 s); docs/performance.md.
        answers(std::chrono::seconds(200), 1'000'000),
        sessions(std::chrono::seconds(200), 200'000),
        metrics(registry),
        ussd_limiter(cfg.limits.ussd_requests_per_minute, std::chrono::minutes(1)),
        login_limiter(cfg.limits.login_failures_per_client, std::chrono::minutes(15)),
        ussd_in_flight(cfg.ussd.max_in_flight),
        services{cfg, workflow, menus, answers, db_pool, writer, outbox_store, application_flow, sessions,
                 counties, metrics, *db, ussd_limiter, login_limiter, ussd_in_flight, clock},
        backlog_timer(ioc) {}

  config::config cfg;
  // The connection is used only on db_pool's single thread once the server runs, and by the
  // constructor before that; see docs/architecture.md.
  std::unique_ptr<SQLite::Database> db;
  // A second connection, for the reads of a session's first step, used only on read_pool's
  // thread: WAL lets it read beside the writer, so those reads never queue behind a batch and
  // its fsync on db_pool. Null for ":memory:" (tests), where db_pool does them.
  std::unique_ptr<SQLite::Database> reader_db;
  asio::io_context ioc;
  // The outbound SMS path (the outbox sender and the provider's HTTP client) has an event loop
  // and a thread of its own: handing each message between two I/O threads cost a fifth of
  // the sender's throughput (docs/performance.md), and a backlog draining there never delays
  // a USSD answer. Declared before the provider and the sender, so destroyed after them.
  asio::io_context out_ioc{1};
  std::thread out_thread;
  asio::thread_pool db_pool{1};
  asio::thread_pool read_pool{1};
  asio::thread_pool cpu_pool{2};
  wall_clock wall;
  const domain::clock& clock;  // `wall` unless the caller gave one
  db::sqlite_account_store account_store;
  db::sqlite_outbox_store outbox_store;
  db::sqlite_application_store application_store;
  db::sqlite_application_store read_store;  // on reader_db when there is one
  db::sqlite_vacancy_store vacancy_store;
  domain::static_county_lookup counties;
  domain::account_service accounts;
  argon2id_hasher hasher;
  sodium_random random;
  domain::application_service applications;
  bool wal;  // a file in WAL mode
  // Syncs the writer's commits on a thread of its own (db/wal_syncer.hpp); null for
  // ":memory:" and for a database SQLite could not put in WAL mode.
  std::unique_ptr<db::wal_syncer> syncer;
  // Checkpoints beside the writer (db/wal_checkpointer.hpp); null where the syncer is.
  std::unique_ptr<db::wal_checkpointer> checkpointer;
  // Every change to the database goes through here, so that concurrent requests share commits.
  db::group_commit writer;
  catalog_holder catalog;
  std::unique_ptr<sms::provider> provider;
  std::unique_ptr<sms::outbox_sender> sender;
  accounts_workflow workflow;
  applications_workflow application_flow;
  ussd::engine menus;
  answer_cache answers;
  session_facts_cache sessions;
  metrics_registry registry;
  gateway_metrics metrics;
  rate_limiter ussd_limiter;
  rate_limiter login_limiter;
  in_flight_limit ussd_in_flight;
  route_services services;
  asio::steady_timer backlog_timer;  // refreshes the outbox gauges; only on ioc's threads
  router routes;
  std::unique_ptr<http_server> server;
  std::vector<std::thread> threads;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::steady_timer> grace_timer;
  std::atomic<bool> stop_requested{false};
  bool forced = false;

  // Outbox depth and age for /metrics, read on the database thread every 5 s so that rendering
  // /metrics never waits on SQLite.
  void refresh_backlog() {
    backlog_timer.expires_after(std::chrono::seconds(5));
    backlog_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stop_requested) return;
      asio::post(db_pool, [this] {
        try {
          auto [depth, oldest] = outbox_store.backlog();
          metrics.outbox_depth = depth;
          metrics.outbox_oldest_seconds = oldest ? (clock.now() - *oldest) / 1000.0 : 0.0;
        } catch (const std::exception& e) {
          spdlog::warn("metrics: outbox backlog not read: {}", e.what());
        }
      });
      refresh_backlog();
    });
  }

  // The writer's totals, read from its counters at each scrape (docs/operations.md).
  void add_database_metrics() {
    registry.counter_callback("cp2_database_commits_total",
                              "Transactions the database writer committed (each holds a batch of changes).",
                              [this] { return static_cast<double>(writer.stats().commits.load()); });
    registry.counter_callback("cp2_database_changes_total", "Changes (units of work) the database writer ran.",
                              [this] { return static_cast<double>(writer.stats().units.load()); });
    registry.counter_callback("cp2_database_wal_syncs_total",
                              "fdatasync calls on the WAL by the syncer thread, each for one or more commits.",
                              [this] { return syncer ? static_cast<double>(syncer->syncs()) : 0.0; });
    registry.gauge_callback("cp2_database_wal_sync_failed",
                            "1 once a sync of the WAL has failed (commits then sync in place), else 0.",
                            [this] { return syncer && syncer->failed() ? 1.0 : 0.0; });
    registry.gauge_callback("cp2_ussd_screen_cache_bytes",
                            "Memory, roughly, held by the vacancy levels and lists kept for the newest catalog.",
                            [this] { return static_cast<double>(menus.cached_screen_bytes()); });
    registry.counter_callback(
        "cp2_database_checkpoints_total", "Checkpoints of the WAL run by the checkpoint thread.",
        [this] { return checkpointer ? static_cast<double>(checkpointer->stats().done.load()) : 0.0; });
    registry.counter_callback(
        "cp2_database_checkpoints_in_writer_total",
        "Checkpoints the writer ran itself because the WAL passed 10,000 pages (the thread behind).",
        [this] { return checkpointer ? static_cast<double>(checkpointer->stats().in_place.load()) : 0.0; });
  }

  void add_routes() {
    routes.add("GET", "/metrics", [this](http_request&) -> asio::awaitable<http_response> {
      http_response r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = registry.render();
      co_return r;
    });
    routes.add("GET", "/healthz", [](http_request&) -> asio::awaitable<http_response> {
      co_return text_response(200, "ok");
    });
    routes.add("GET", "/readyz", [this](http_request&) -> asio::awaitable<http_response> {
      // Ready means able to make a durable change, and delivering SMS. The change rewrites the
      // database's own application id: one small WAL frame that fails like any other write
      // when the disk is full or the file read-only (taking the write lock alone does not).
      bool writable = true;
      try {
        co_await sms::run_write(writer, [this] {
          db->exec(fmt::format("PRAGMA application_id = {}", db::application_id));
        });
      } catch (const std::exception& e) {
        spdlog::warn("readyz: database cannot take writes: {}", e.what());
        writable = false;
      }
      if (!writable) co_return text_response(503, "database cannot take writes");
      if (sender && !sender->healthy()) co_return text_response(503, "SMS delivery loop failing");
      co_return text_response(200, "ready");
    });
  }
};

app::app(config::config cfg, const domain::clock* clock) {
  init_sodium();
  impl_ = std::make_unique<impl>(std::move(cfg), clock);
  auto& s = *impl_;
  name_pool_threads(s.db_pool, 1, "cp2-database");
  name_pool_threads(s.read_pool, 1, "cp2-reader");
  name_pool_threads(s.cpu_pool, 2, "cp2-hashing");
  if (s.cfg.provider.kind == "africastalking") {
    sms::http_client_options http;
    http.max_in_flight = static_cast<std::size_t>(s.cfg.sms.max_in_flight);
    http.connect_timeout = s.cfg.provider.connect_timeout;
    http.total_timeout = s.cfg.provider.timeout;
    s.provider = std::make_unique<sms::africastalking_provider>(
        s.out_ioc,
        sms::provider_credentials{s.cfg.provider.base_url, s.cfg.provider.username,
                                  s.cfg.provider.api_key},
        s.cfg.sms.shortcode, http);
  } else {
    s.provider = std::make_unique<sms::log_provider>(s.cfg.provider.log_file);
  }
  sms::sender_options so;
  so.max_in_flight = s.cfg.sms.max_in_flight;
  so.per_second = s.cfg.sms.per_second;
  so.max_age = s.cfg.sms.max_age;
  so.retry_base = s.cfg.sms.retry_base;
  so.retry_cap = s.cfg.sms.retry_cap;
  so.on_outcome = [&s](const sms::send_outcome& o, std::string_view result) {
    s.metrics.sms_sent.child({std::string(result)}).inc();
    if (!o.accepted) s.metrics.provider_failures.child({std::string(sms::to_string(o.failure))}).inc();
  };
  so.on_alarm = [&s] { s.metrics.outbox_alarms.inc(); };
  s.sender = std::make_unique<sms::outbox_sender>(s.out_ioc, s.db_pool, s.writer, s.outbox_store, *s.provider,
                                                   s.clock, so);
  s.add_database_metrics();
  s.workflow.prepare();
  s.catalog.rebuild_now();
  s.add_routes();
  add_callback_routes(s.routes, s.services);
  if (!s.cfg.admin.token.empty()) {
    add_account_api_routes(s.routes, s.services);
    add_vacancy_api_routes(s.routes, s.services);
    add_application_api_routes(s.routes, s.services);
  }
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
  for (const auto& text : s.cfg.server.trusted_proxies) o.trusted_proxies.push_back(*config::parse_cidr(text));
  o.admin_token = s.cfg.admin.token;
  o.observe = [&s](const std::string& route, int status, double seconds) {
    s.metrics.observe_http(route, status, seconds);
  };
  o.on_failure = [&s](const std::exception& e) {
    if (dynamic_cast<const SQLite::Exception*>(&e)) s.metrics.database_errors.inc();
  };
  if (s.cfg.callbacks.secret.empty() && s.cfg.callbacks.allow_from.empty()) {
    // Anyone who can reach /callbacks/* can then pretend to be any phone.
    if (s.cfg.provider.kind == "log")
      spdlog::warn("callbacks are open to anyone (no callbacks.secret, no callbacks.allow_from): "
                   "fine for this demo, never in production");
    else
      spdlog::error("SECURITY: callbacks are open to anyone who can reach this address: set "
                    "callbacks.secret (and callbacks.allow_from) before going live");
  }
  s.server = std::make_unique<http_server>(s.ioc, s.routes, o);
  s.server->start();
  s.sender->start();
  s.out_thread = std::thread([&s] {
    name_this_thread("cp2-outbound");
    s.out_ioc.run();
  });
  asio::post(s.ioc, [&s] { s.refresh_backlog(); });
  spdlog::info("cp2-gateway listening on {}:{}, database {} (schema {}), provider {}, {} I/O threads",
               s.cfg.server.host, s.server->port(), s.cfg.db.path, db::latest_schema_version(),
               s.cfg.provider.kind, s.cfg.server.threads);
  // Scripts and operators wait for this line: not a second later (gateway/logging.cpp).
  spdlog::default_logger()->flush();
  for (int i = 0; i < s.cfg.server.threads; ++i)
    s.threads.emplace_back([&s] {
      name_this_thread("cp2-io");
      s.ioc.run();
    });
}

const sms::sender_stats& app::outbox_stats() const { return impl_->sender->stats(); }

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
      s.out_ioc.stop();
      s.ioc.stop();
    });
    // Connections first, then the outbox (answers in flight are recorded), then the provider.
    s.server->stop([&s] {
      // Runs on the outbound thread once nothing is in flight there.
      s.sender->stop([&s] {
        s.provider->stop();
        // After the provider's cancellation, which was posted first.
        asio::post(s.out_ioc, [&s] { s.out_ioc.stop(); });
        asio::post(s.ioc, [&s] {
          s.catalog.stop();
          s.backlog_timer.cancel();
          s.grace_timer->cancel();
          s.ioc.stop();
        });
      });
    });
  });
}

int app::wait() {
  auto& s = *impl_;
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  if (s.out_thread.joinable()) s.out_thread.join();
  // Work already handed to the database thread finishes before the connection goes away.
  s.db_pool.join();
  // Its last commits are synced and answered before the connection goes away.
  if (s.syncer) s.syncer->stop();
  if (s.checkpointer) s.checkpointer->stop();
  s.read_pool.join();
  s.cpu_pool.join();
  spdlog::info("cp2-gateway stopped{}", s.forced ? " (grace period ran out)" : "");
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace cp2::gateway
