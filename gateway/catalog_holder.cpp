#include "gateway/catalog_holder.hpp"

#include "db/sqlite_vacancy_store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include <atomic>

namespace cp2::gateway {

namespace asio = boost::asio;

struct catalog_holder::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io, asio::thread_pool& pool, SQLite::Database& d, const domain::clock& c)
      : ioc(io), db_pool(pool), db(d), clock(c), timer(io) {}
  asio::io_context& ioc;
  asio::thread_pool& db_pool;
  SQLite::Database& db;  // only on db_pool (or before serving)
  const domain::clock& clock;
  asio::steady_timer timer;  // only on ioc's threads
  mutable std::mutex mu;
  std::shared_ptr<const domain::catalog> current = std::make_shared<domain::catalog>();
  bool stopped = false;  // only on ioc's threads
  std::atomic<bool> rebuilding{false};  // a rebuild is posted and not yet installed

  std::shared_ptr<const domain::catalog> build() {
    db::sqlite_vacancy_store store(db);
    return std::make_shared<const domain::catalog>(store.all(), store.approved_counts(), clock.now());
  }

  void rebuild() {
    rebuilding = true;
    asio::post(db_pool, [self = shared_from_this()] {
      try {
        self->install(self->build());
      } catch (const std::exception& e) {
        self->rebuilding = false;
        spdlog::error("catalog: rebuild failed, keeping the previous one: {}", e.what());
      }
    });
  }

  // True when the clock has passed the catalog's next opening or closing, or gone back before
  // it was built: the clock jumped (or a timer is late), and the menus must not wait for the
  // next scheduled rebuild.
  static bool stale(const domain::catalog& c, domain::unix_ms now) {
    auto next = c.next_change();
    return (next && now >= *next) || now < c.built_at();
  }

  void install(std::shared_ptr<const domain::catalog> c) {
    auto next = c->next_change();
    auto built = c->built_at();
    spdlog::info("catalog: {} open vacancies", c->size());
    {
      std::lock_guard lock(mu);
      current = std::move(c);
    }
    rebuilding = false;
    // Rebuild when the next vacancy opens or closes, and at least every minute, so that an
    // import made by the command line and approvals changed elsewhere show soon.
    auto wait = std::chrono::milliseconds(std::min<domain::unix_ms>(
        next ? std::max<domain::unix_ms>(*next - built, 0) + 1 : 60'000, 60'000));
    asio::post(ioc, [self = shared_from_this(), wait] {
      if (self->stopped) return;
      self->timer.expires_after(wait);
      self->timer.async_wait([self](const boost::system::error_code& ec) {
        if (!ec && !self->stopped) self->rebuild();
      });
    });
  }
};

catalog_holder::catalog_holder(asio::io_context& ioc, asio::thread_pool& db_pool,
                               SQLite::Database& db, const domain::clock& clock)
    : impl_(std::make_shared<impl>(ioc, db_pool, db, clock)) {}

catalog_holder::~catalog_holder() = default;

std::shared_ptr<const domain::catalog> catalog_holder::current() const {
  std::shared_ptr<const domain::catalog> c;
  {
    std::lock_guard lock(impl_->mu);
    c = impl_->current;
  }
  // This request gets the catalog as it is; the next ones get one rebuilt for the clock's now.
  if (impl::stale(*c, impl_->clock.now()) && !impl_->rebuilding.exchange(true)) impl_->rebuild();
  return c;
}

void catalog_holder::rebuild_now() { impl_->install(impl_->build()); }

void catalog_holder::rebuild() { impl_->rebuild(); }

void catalog_holder::stop() {
  asio::post(impl_->ioc, [self = impl_] {
    self->stopped = true;
    self->timer.cancel();
  });
}

}  // namespace cp2::gateway
