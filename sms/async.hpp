#pragma once
// Moving work off the I/O threads: run a function on another executor and await its result.
// Used by the two coroutine edges, the HTTP sessions (gateway/) and the outbox sender (sms/).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

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

}  // namespace cp2::sms
