#pragma once
// A fake Africa's Talking messaging API on 127.0.0.1, port 0, for tests and benchmarks: records
// what it is sent and answers as told (accept, fail in each way the provider can, hang, drop).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace cp2::test {

/// How the fake answers POST /version1/messaging.
enum class fake_behaviour {
  accept,          ///< 201, statusCode 101, unique messageId "ATXid_<n>", cost "KES 0.8000"
  http_500,        ///< HTTP 500 with a plain-text body
  provider_code,   ///< 201 with the given per-recipient statusCode (e.g. 405, 403), messageId "None"
  bad_credentials, ///< HTTP 401
  hang,            ///< reads the request and never answers (until the client closes or stop)
  drop,            ///< reads the request and closes the connection without answering
  garbage,         ///< 201 with a body that is not JSON
};

/// One SMS as the fake received it (form fields decoded) and what it answered.
struct recorded_sms {
  std::string username, to, message, from, link_id, api_key;
  /// The messageId answered; empty unless the behaviour was accept.
  std::string message_id;
};

/// The fake provider: its own io_context on one thread, Beast sessions with keep-alive; other
/// paths get 404, other methods on the messaging path 405.
/// Thread safety: every member may be called from any thread.
class fake_aggregator {
public:
  /// Binds 127.0.0.1:0 and starts listening. Throws std::system_error when it cannot.
  fake_aggregator();
  /// Closes the listener and every connection, then joins the thread.
  ~fake_aggregator();
  fake_aggregator(const fake_aggregator&) = delete;
  fake_aggregator& operator=(const fake_aggregator&) = delete;

  /// The bound port.
  unsigned short port() const;
  /// "http://127.0.0.1:<port>", for provider.base_url.
  std::string base_url() const;

  /// Behave like `b` from now on (ending any set_behaviour_for); `provider_status_code` is the
  /// statusCode for provider_code.
  void set_behaviour(fake_behaviour b, int provider_status_code = 0);
  /// Behave like `b` for the next n requests, then return to the previous behaviour.
  void set_behaviour_for(int n, fake_behaviour b, int provider_status_code = 0);
  /// Waits this long before answering each request (0, the default, answers at once), so that
  /// tests can see how many requests a client keeps in flight.
  void set_delay(std::chrono::milliseconds delay);

  /// The SMSes answered (any status), in arrival order; not the dropped or hung ones.
  std::vector<recorded_sms> received() const;
  /// Every request read, on any path, including dropped and hung ones.
  std::size_t attempts() const;
  /// TCP connections accepted so far.
  std::size_t connections() const;
  /// The most requests read but not yet answered at one time.
  std::size_t max_concurrent() const;

  /// Blocks until received() has at least n entries or timeout; returns whether it got there.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;
  /// Blocks until attempts() is at least n or timeout; returns whether it got there.
  bool wait_for_attempts(std::size_t n, std::chrono::milliseconds timeout) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cp2::test
