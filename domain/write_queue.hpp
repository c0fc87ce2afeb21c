#pragma once
// Where changes to the stores run: one at a time on the database thread, several of them
// sharing one durable commit (db::group_commit implements it).

#include <chrono>
#include <exception>
#include <functional>
#include <stdexcept>

namespace cp2::domain {

/// A unit of work was not run because it waited past its deadline (the gateway is overloaded).
/// Nothing of it was done.
class write_shed : public std::runtime_error {
public:
  write_shed() : std::runtime_error("not run: waited too long for the database (overloaded)") {}
};

/// Runs units of work that change the stores.
/// Each unit is atomic: all of its changes are kept or none. `done` is called once the unit's
/// changes are durable (with nullptr), or with the error that undid them: what `work` threw,
/// a failed commit, or write_shed. Units run in the order they were submitted.
/// Thread safety: submit() may be called from any thread.
class write_queue {
public:
  using deadline = std::chrono::steady_clock::time_point;

  virtual ~write_queue() = default;
  /// Queues `work`. A unit still waiting at `by` is not run and gets write_shed.
  virtual void submit(std::function<void()> work, std::function<void(std::exception_ptr)> done,
                      deadline by = deadline::max()) = 0;
  /// Calls `fn` once every unit committed so far is durable (nullptr), or with the error that
  /// left that unknown. A read may see a commit before it is durable (db::wal_syncer); what
  /// acts on such a read outside its own unit, such as sending a message it found, waits here
  /// first. By default commits are durable when made, and `fn` runs at once.
  virtual void after_durable(std::function<void(std::exception_ptr)> fn) { fn(nullptr); }
};

}  // namespace cp2::domain
