#pragma once
// The current catalog of open vacancies, swapped whole when it is rebuilt, so menu steps read a
// consistent snapshot without touching the database.

#include "domain/catalog.hpp"

#include <functional>
#include <memory>
#include <mutex>

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace SQLite {
class Database;
}

namespace cp2::gateway {

/// Holds the catalog and rebuilds it: on demand (after an import or an approval) and at the
/// next moment a vacancy opens or closes.
/// Thread safety: current() from any thread; rebuild() from any thread (the work runs on the
/// database thread, the timer on the io_context).
class catalog_holder {
public:
  catalog_holder(boost::asio::io_context& ioc, boost::asio::thread_pool& db_pool,
                 SQLite::Database& db, const domain::clock& clock);
  ~catalog_holder();

  /// The catalog now.
  std::shared_ptr<const domain::catalog> current() const;

  /// Builds the catalog now, on the calling thread (start-up, before serving).
  void rebuild_now();

  /// Rebuilds it on the database thread, soon.
  void rebuild();

  /// Stops the timer (shutdown).
  void stop();

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace cp2::gateway
