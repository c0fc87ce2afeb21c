#pragma once
// Moving work off the I/O threads: run a function on another executor, or as a unit of work of
// the database writer, and await its result.
// Used by the two coroutine edges, the HTTP sessions (gateway/) and the outbox sender (sms/).

#include "domain/write_queue.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace cp2::sms {

/// Runs `f()` on `pool` and resumes the caller on its own executor with the result (or the
/// exception f threw). The caller's I/O thread is free while f runs.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_on(boost::asio::thread_pool& pool, F f) {
  using result_t = std::invoke_result_t<F&>;
  co_return co_await boost::asio::co_spawn(
      pool.get_executor(),
      [fn = std::move(f)]() mutable -> boost::asio::awaitable<result_t> {
        if constexpr (std::is_void_v<result_t>) {
          fn();
          co_return;
        } else {
          co_return fn();
        }
      },
      boost::asio::use_awaitable);
}

/// Runs `f()` as one unit of work of `q` (on the database thread, possibly sharing a commit
/// with others) and resumes the caller on its own executor once the unit's changes are durable,
/// with f's result; or throws what undid them (f's exception, a failed commit,
/// domain::write_shed when the unit still waited at `by`).
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_write(
    domain::write_queue& q, F f,
    domain::write_queue::deadline by = domain::write_queue::deadline::max()) {
  namespace asio = boost::asio;
  using result_t = std::invoke_result_t<F&>;
  // Lives in this coroutine's frame, which stays put while the unit runs on the other thread.
  std::conditional_t<std::is_void_v<result_t>, bool, std::optional<result_t>> result{};
  auto initiate = [&](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    q.submit(
        [&] {
          if constexpr (std::is_void_v<result_t>) f();
          else result.emplace(f());
        },
        [h](std::exception_ptr e) {
          auto ex = asio::get_associated_executor(*h);
          asio::post(ex, [h, e]() mutable { std::move(*h)(e); });
        },
        by);
  };
  co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
      initiate, asio::use_awaitable);
  if constexpr (!std::is_void_v<result_t>) co_return std::move(*result);
}

/// Resumes the caller on its own executor once every unit `q` has committed so far is durable;
/// throws when that is unknown (a failed sync). See domain::write_queue::after_durable.
inline boost::asio::awaitable<void> durable(domain::write_queue& q) {
  namespace asio = boost::asio;
  auto initiate = [&](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    q.after_durable([h](std::exception_ptr e) {
      auto ex = asio::get_associated_executor(*h);
      asio::post(ex, [h, e]() mutable { std::move(*h)(e); });
    });
  };
  co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
      initiate, asio::use_awaitable);
}

}  // namespace cp2::sms
