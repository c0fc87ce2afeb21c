#pragma once
// Small helpers for tests that wait on other threads.

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <thread>

namespace cp2::testing {

/// Polls `done` every millisecond until it holds or `timeout` has passed; whether it held.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// "ok" for no error, else "error: " and the exception's message.
inline std::string outcome(std::exception_ptr e) {
  if (!e) return "ok";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return std::string("error: ") + ex.what();
  } catch (...) {
    return "error: (not a std::exception)";
  }
}

}  // namespace cp2::testing
