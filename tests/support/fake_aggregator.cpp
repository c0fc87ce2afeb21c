#include "tests/support/fake_aggregator.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_set>

namespace cp2::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::string_view messaging_path = "/version1/messaging";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// As the provider's form parser would: '+' is a space; a malformed escape is kept as it is.
std::string form_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

recorded_sms parse_sms(std::string_view body, std::string api_key) {
  recorded_sms sms;
  sms.api_key = std::move(api_key);
  while (!body.empty()) {
    const auto amp = body.find('&');
    const auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto name = form_decode(pair.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::string{} : form_decode(pair.substr(eq + 1));
    if (name == "username") sms.username = std::move(value);
    else if (name == "to") sms.to = std::move(value);
    else if (name == "message") sms.message = std::move(value);
    else if (name == "from") sms.from = std::move(value);
    else if (name == "linkId") sms.link_id = std::move(value);
  }
  return sms;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view status_name(int code) {
  switch (code) {
    case 100: return "Processed";
    case 101: return "Success";
    case 102: return "Queued";
    case 401: return "RiskHold";
    case 402: return "InvalidSenderId";
    case 403: return "InvalidPhoneNumber";
    case 404: return "UnsupportedNumberType";
    case 405: return "InsufficientBalance";
    case 406: return "UserInBlacklist";
    case 407: return "CouldNotRoute";
    case 409: return "DoNotDisturbRejection";
    case 500: return "InternalServerError";
    case 501: return "GatewayError";
    case 502: return "RejectedByGateway";
    default: return "Unknown";
  }
}

// The provider's 201 body for one recipient, in the shape of SPEC section 5.
std::string recipients_json(std::string_view message, int code, std::string_view number,
                            std::string_view cost, std::string_view message_id) {
  return std::string(R"({"SMSMessageData":{"Message":")") + json_escape(message) +
         R"(","Recipients":[{"statusCode":)" + std::to_string(code) + R"(,"number":")" +
         json_escape(number) + R"(","status":")" + std::string(status_name(code)) +
         R"(","cost":")" + json_escape(cost) + R"(","messageId":")" + json_escape(message_id) +
         R"("}]}})";
}

// What stop() must reach in a live session. Only touched on the io thread.
struct session_ctl {
  tcp::socket* socket;
  asio::steady_timer* timer;
};

}  // namespace

struct fake_aggregator::impl {
  // Declared first so that it is destroyed last: the other members hold its services.
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  unsigned short port_ = 0;
  std::thread thread_;

  mutable std::mutex mu_;  // guards everything below down to sessions_
  mutable std::condition_variable changed_;
  fake_behaviour behaviour_ = fake_behaviour::accept;
  int provider_code_ = 0;
  int override_left_ = 0;  // requests still answered as override_behaviour_
  fake_behaviour override_behaviour_ = fake_behaviour::accept;
  int override_code_ = 0;
  std::chrono::milliseconds delay_{0};
  std::vector<recorded_sms> received_;
  std::size_t attempts_ = 0;
  std::size_t connections_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t max_in_flight_ = 0;
  unsigned long next_message_id_ = 0;

  // Only on the io thread.
  bool stopping_ = false;
  std::unordered_set<session_ctl*> sessions_;

  struct plan {
    fake_behaviour behaviour;
    int code;
    std::chrono::milliseconds delay;
  };

  // Counts a request in and picks how to answer it.
  plan take_request(bool messaging) {
    std::lock_guard lock(mu_);
    ++attempts_;
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    changed_.notify_all();
    plan p{behaviour_, provider_code_, delay_};
    if (messaging && override_left_ > 0) {
      --override_left_;
      p.behaviour = override_behaviour_;
      p.code = override_code_;
    }
    return p;
  }

  // Counts a request out; `sms`, when given, joins received() (under the same lock, so a
  // waiter that sees it also sees the request no longer in flight).
  void finish_request(recorded_sms* sms) {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (sms) received_.push_back(std::move(*sms));
    changed_.notify_all();
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(as_tuple_awaitable);
      if (ec || stopping_) co_return;
      {
        std::lock_guard lock(mu_);
        ++connections_;
      }
      asio::co_spawn(ioc_, session(std::move(socket)), [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          std::fprintf(stderr, "fake_aggregator: session failed: %s\n", ex.what());
        }
      });
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    asio::steady_timer timer(ioc_);
    session_ctl ctl{&socket, &timer};
    if (stopping_) co_return;
    sessions_.insert(&ctl);
    struct unregister {
      impl& self;
      session_ctl* ctl;
      ~unregister() { self.sessions_.erase(ctl); }
    } guard{*this, &ctl};

    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(1024 * 1024);
      auto [ec, n] = co_await http::async_read(socket, buffer, parser, as_tuple_awaitable);
      (void)n;
      if (ec || stopping_) co_return;
      auto req = parser.release();
      const bool messaging = req.target() == messaging_path;
      const plan p = take_request(messaging && req.method() == http::verb::post);

      http::response<http::string_body> res{http::status::created, req.version()};
      res.set(http::field::content_type, "application/json");
      std::optional<recorded_sms> sms;
      if (!messaging) {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain");
        res.body() = "not found\n";
      } else if (req.method() != http::verb::post) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::content_type, "text/plain");
        res.body() = "method not allowed\n";
      } else {
        if (p.behaviour == fake_behaviour::hang) {
          // Never answer; end when the client gives up and closes, or at stop.
          char scratch[512];
          for (;;) {
            auto [rec, rn] = co_await socket.async_read_some(asio::buffer(scratch), as_tuple_awaitable);
            (void)rn;
            if (rec || stopping_) break;
          }
          finish_request(nullptr);
          co_return;
        }
        if (p.behaviour == fake_behaviour::drop) {
          finish_request(nullptr);
          beast::error_code ignored;
          socket.shutdown(tcp::socket::shutdown_both, ignored);
          socket.close(ignored);
          co_return;
        }
        if (p.delay.count() > 0) {
          timer.expires_after(p.delay);
          co_await timer.async_wait(as_tuple_awaitable);
          if (stopping_) {
            finish_request(nullptr);
            co_return;
          }
        }
        sms = parse_sms(req.body(), std::string(req["apiKey"]));
        switch (p.behaviour) {
          case fake_behaviour::accept: {
            {
              std::lock_guard lock(mu_);
              sms->message_id = "ATXid_" + std::to_string(++next_message_id_);
            }
            res.body() = recipients_json("Sent to 1/1 Total Cost: KES 0.8000", 101, sms->to,
                                         "KES 0.8000", sms->message_id);
            break;
          }
          case fake_behaviour::provider_code:
            res.body() = recipients_json("Sent to 0/1 Total Cost: 0", p.code, sms->to, "0", "None");
            break;
          case fake_behaviour::http_500:
            res.result(http::status::internal_server_error);
            res.set(http::field::content_type, "text/plain");
            res.body() = "Internal Server Error";
            break;
          case fake_behaviour::bad_credentials:
            res.result(http::status::unauthorized);
            res.set(http::field::content_type, "text/plain");
            res.body() = "The supplied authentication is invalid";
            break;
          case fake_behaviour::garbage:
            res.set(http::field::content_type, "text/html");
            res.body() = "<html><body>Bad Gateway</body></html>";
            break;
          case fake_behaviour::hang:
          case fake_behaviour::drop:
            break;  // handled above
        }
      }
      const bool keep_alive = req.keep_alive();
      res.keep_alive(keep_alive);
      res.prepare_payload();
      // Counted out before the answer leaves, so a client's next request cannot overlap it.
      finish_request(sms ? &*sms : nullptr);
      auto [wec, wn] = co_await http::async_write(socket, res, as_tuple_awaitable);
      (void)wn;
      if (wec || !keep_alive || stopping_) co_return;
    }
  }
};

fake_aggregator::fake_aggregator() : impl_(std::make_unique<impl>()) {
  auto& a = impl_->acceptor_;
  const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
  impl_->port_ = a.local_endpoint().port();
  asio::co_spawn(impl_->ioc_, impl_->accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "fake_aggregator: accept loop failed: %s\n", ex.what());
    }
  });
  impl_->thread_ = std::thread([i = impl_.get()] { i->ioc_.run(); });
}

fake_aggregator::~fake_aggregator() {
  // Close everything on the io thread; run() returns once the last coroutine has ended.
  asio::post(impl_->ioc_, [i = impl_.get()] {
    i->stopping_ = true;
    beast::error_code ignored;
    i->acceptor_.close(ignored);
    for (auto* s : i->sessions_) {
      s->socket->close(ignored);
      s->timer->cancel();
    }
  });
  impl_->thread_.join();
}

unsigned short fake_aggregator::port() const { return impl_->port_; }

std::string fake_aggregator::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port_);
}

void fake_aggregator::set_behaviour(fake_behaviour b, int provider_status_code) {
  std::lock_guard lock(impl_->mu_);
  impl_->behaviour_ = b;
  impl_->provider_code_ = provider_status_code;
  impl_->override_left_ = 0;
}

void fake_aggregator::set_behaviour_for(int n, fake_behaviour b, int provider_status_code) {
  std::lock_guard lock(impl_->mu_);
  impl_->override_left_ = n;
  impl_->override_behaviour_ = b;
  impl_->override_code_ = provider_status_code;
}

void fake_aggregator::set_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mu_);
  impl_->delay_ = delay;
}

std::vector<recorded_sms> fake_aggregator::received() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->received_;
}

std::size_t fake_aggregator::attempts() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->attempts_;
}

std::size_t fake_aggregator::connections() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->connections_;
}

std::size_t fake_aggregator::max_concurrent() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->max_in_flight_;
}

bool fake_aggregator::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu_);
  return impl_->changed_.wait_for(lock, timeout, [&] { return impl_->received_.size() >= n; });
}

bool fake_aggregator::wait_for_attempts(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu_);
  return impl_->changed_.wait_for(lock, timeout, [&] { return impl_->attempts_ >= n; });
}

}  // namespace cp2::test
