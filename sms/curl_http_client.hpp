#pragma once
// The one file pair that talks to libcurl: HTTP POSTs for the provider clients, on curl's
// multi-socket interface driven by an Asio io_context (curl's docs/examples/asiohiper.cpp), so
// no thread is spent per request and keep-alive connections are shared by all requests.
// curl and Asio headers stay in the .cpp: this header is included by the outbox sender.

#include "sms/africastalking_protocol.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace cp2::sms {

/// Limits of one curl_http_client.
struct http_client_options {
  /// Requests on the wire at once (also curl's per-host connection cap); later ones wait in a
  /// FIFO queue. 0 is taken as 1.
  std::size_t max_in_flight = 32;
  /// From leaving the queue to a connected socket (TCP, and TLS for https).
  std::chrono::milliseconds connect_timeout{5000};
  /// From leaving the queue to the whole answer read; time spent queued does not count.
  std::chrono::milliseconds total_timeout{15000};
};

/// What one POST came to: an HTTP answer, or a transport failure and curl's reason.
struct http_result {
  /// The HTTP status; 0 when there was no answer (transport != none).
  long http_status = 0;
  /// The answer's body (at most 1 MiB; a longer one is a transport failure).
  std::string body;
  /// none when an answer came; connection_failed or timeout when curl failed;
  /// config_invalid when the request cannot be sent as built (bad URL or scheme, a header
  /// with a line break). Pass to classify_transport_error when not none.
  send_failure transport = send_failure::none;
  /// curl's message when transport != none ("cancelled" after stop()); it holds no header or
  /// body bytes, so it is safe to log.
  std::string error;
};

/// POSTs over HTTP(S) on an io_context, with at most max_in_flight requests on the wire, the
/// rest queued first in, first out, and connections kept alive between requests.
/// Thread safety: post(), pending() and stop() may be called from any thread; curl is only
/// called on an internal strand. Destroy the client before its io_context.
class curl_http_client {
public:
  /// Creates the curl multi handle (curl_global_init runs once per process). Throws
  /// std::runtime_error when curl cannot be initialised.
  curl_http_client(boost::asio::io_context& ioc, http_client_options options);
  /// Calls stop(). Requests still pending get their `done` (cancelled) when the io_context next
  /// runs, so what `done` refers to must outlive that; if the io_context is destroyed without
  /// running again, the callbacks are destroyed uncalled and the connections closed.
  ~curl_http_client();
  curl_http_client(const curl_http_client&) = delete;
  curl_http_client& operator=(const curl_http_client&) = delete;

  /// Sends `request` (POST); `done` is called exactly once, on the io_context, with the result.
  /// It is posted to the io_context rather than the internal strand, so with several threads
  /// running the io_context two `done`s may run at once. Never calls `done` inline.
  void post(http_post request, std::function<void(http_result)> done);

  /// Requests in flight plus queued (those whose `done` has not been posted yet).
  std::size_t pending() const;

  /// Cancels everything: each pending `done` gets transport=connection_failed, error
  /// "cancelled", and so does every later post(). Closes the kept-alive connections.
  /// Idempotent; the destructor calls it. Returns at once: the cancelling runs on the strand.
  void stop();

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace cp2::sms
