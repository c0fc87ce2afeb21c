#include "sms/curl_http_client.hpp"

#include "sms/africastalking_protocol.hpp"
#include "tests/support/fake_aggregator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cp2::sms {
// doctest prints enums as numbers; this overload, found by argument-dependent lookup, names them.
static doctest::String toString(send_failure f) {
  std::string_view name = to_string(f);
  return doctest::String(name.data(), static_cast<doctest::String::size_type>(name.size()));
}
}  // namespace cp2::sms

namespace cp2::sms {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using test::fake_aggregator;
using test::fake_behaviour;
using clock_type = std::chrono::steady_clock;

// Runs the io_context on this thread until `ready()` or `limit`; returns whether `ready()`.
bool run_until(asio::io_context& ioc, const std::function<bool()>& ready,
               std::chrono::milliseconds limit = 3000ms) {
  const auto deadline = clock_type::now() + limit;
  while (!ready()) {
    if (clock_type::now() >= deadline) return false;
    ioc.restart();  // run_one_for stops the io_context when it runs out of work
    if (ioc.run_one_for(10ms) == 0) std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Runs whatever becomes ready during `d`: lets a second, wrong, call of `done` show up.
void run_for(asio::io_context& ioc, std::chrono::milliseconds d) {
  ioc.restart();
  ioc.run_for(d);
}

provider_credentials credentials(const fake_aggregator& fake) {
  return {fake.base_url(), "sandbox", "at-key-0123456789"};
}

http_post sms_to(const fake_aggregator& fake, std::string text = "Hello") {
  return build_send_request(credentials(fake), {"+254712345678", std::move(text), "22262", ""});
}

// Each request's `done` calls, by index, and its last result.
struct completions {
  explicit completions(std::size_t n) : calls(n, 0), results(n) {}
  std::vector<int> calls;
  std::vector<http_result> results;
  std::size_t total = 0;

  std::function<void(http_result)> done(std::size_t i) {
    return [this, i](http_result r) {
      ++calls[i];
      ++total;
      results[i] = std::move(r);
    };
  }
  bool each_once() const {
    for (int c : calls)
      if (c != 1) return false;
    return true;
  }
};

// Posts one request and runs until its answer.
http_result send_one(asio::io_context& ioc, curl_http_client& client, http_post request) {
  completions c(1);
  client.post(std::move(request), c.done(0));
  REQUIRE(run_until(ioc, [&] { return c.total == 1; }));
  run_for(ioc, 20ms);
  CHECK(c.calls[0] == 1);
  return c.results[0];
}

TEST_CASE("curl_http_client: an accepted SMS round-trips through the fake aggregator") {
  fake_aggregator fake;
  asio::io_context ioc;
  curl_http_client client(ioc, {});
  const outbound_message msg{"+254712345678", "Karibu! Password: Ab3x & 100% sure + more ✓",
                             "22262", "ATPid_5e1f"};
  completions c(1);
  client.post(build_send_request(credentials(fake), msg), c.done(0));
  CHECK(client.pending() == 1);
  REQUIRE(run_until(ioc, [&] { return c.total == 1; }));
  CHECK(client.pending() == 0);

  const http_result& r = c.results[0];
  CHECK(r.transport == send_failure::none);
  CHECK(r.error.empty());
  CHECK(r.http_status == 201);

  const auto got = fake.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].username == "sandbox");
  CHECK(got[0].api_key == "at-key-0123456789");
  CHECK(got[0].to == msg.to_international);
  CHECK(got[0].message == msg.text);
  CHECK(got[0].from == "22262");
  CHECK(got[0].link_id == "ATPid_5e1f");
  CHECK(got[0].message_id == "ATXid_1");

  const send_outcome outcome = classify_response(r.http_status, r.body);
  CHECK(outcome.accepted);
  CHECK(outcome.failure == send_failure::none);
  CHECK(outcome.status_code == 101);
  CHECK(outcome.message_id == got[0].message_id);
  CHECK(outcome.cost == "KES 0.8000");

  run_for(ioc, 50ms);
  CHECK(c.calls[0] == 1);
}

TEST_CASE("curl_http_client: provider failures come back as HTTP answers, not transport errors") {
  struct row {
    const char* name;
    fake_behaviour behaviour;
    int provider_code;
    long http_status;
    send_failure classified;
  };
  const row rows[] = {
      {"HTTP 500", fake_behaviour::http_500, 0, 500, send_failure::response_status},
      {"HTTP 401", fake_behaviour::bad_credentials, 0, 401, send_failure::bad_credentials},
      {"garbage 201", fake_behaviour::garbage, 0, 201, send_failure::response_unparseable},
      {"statusCode 405", fake_behaviour::provider_code, 405, 201, send_failure::insufficient_balance},
      {"statusCode 403", fake_behaviour::provider_code, 403, 201, send_failure::invalid_number},
  };
  fake_aggregator fake;
  asio::io_context ioc;
  curl_http_client client(ioc, {});
  std::size_t answered = 0;
  for (const row& x : rows) {
    INFO(x.name);
    fake.set_behaviour(x.behaviour, x.provider_code);
    const http_result r = send_one(ioc, client, sms_to(fake));
    CHECK(r.transport == send_failure::none);
    CHECK(r.error.empty());
    CHECK(r.http_status == x.http_status);
    const send_outcome outcome = classify_response(r.http_status, r.body);
    CHECK_FALSE(outcome.accepted);
    CHECK(outcome.failure == x.classified);
    const auto got = fake.received();
    REQUIRE(got.size() == ++answered);
    CHECK(got.back().message_id.empty());
    CHECK(got.back().message == "Hello");
  }

  // Another path: the fake's 404 is an answer too, and not an SMS received.
  http_post elsewhere = sms_to(fake);
  elsewhere.url = fake.base_url() + "/version1/other";
  const http_result r = send_one(ioc, client, elsewhere);
  CHECK(r.transport == send_failure::none);
  CHECK(r.http_status == 404);
  CHECK(fake.received().size() == answered);
  // Every request above went over the one kept-alive connection.
  CHECK(fake.connections() == 1);
}

TEST_CASE("fake_aggregator: set_behaviour_for returns to the previous behaviour") {
  fake_aggregator fake;
  asio::io_context ioc;
  curl_http_client client(ioc, {});
  fake.set_behaviour(fake_behaviour::provider_code, 406);
  fake.set_behaviour_for(2, fake_behaviour::http_500);
  CHECK(send_one(ioc, client, sms_to(fake)).http_status == 500);
  CHECK(send_one(ioc, client, sms_to(fake)).http_status == 500);
  const http_result third = send_one(ioc, client, sms_to(fake));
  CHECK(third.http_status == 201);
  CHECK(classify_response(third.http_status, third.body).status_code == 406);
  fake.set_behaviour(fake_behaviour::accept);
  CHECK(classify_response(201, send_one(ioc, client, sms_to(fake)).body).accepted);
}

// A name other than localhost that /etc/hosts maps to 127.0.0.1 (curl answers "localhost" itself,
// without its resolver), or "" when there is none. Looked up in that file only, so using it
// sends no DNS query.
std::string loopback_name_from_hosts() {
  std::ifstream hosts("/etc/hosts");
  std::string line;
  while (std::getline(hosts, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string address, name;
    if (!(words >> address) || address != "127.0.0.1") continue;
    while (words >> name) {
      const bool local = name == "localhost" ||
                         (name.size() > 10 && name.substr(name.size() - 10) == ".localhost");
      if (!local) return name;
    }
  }
  return "";
}

TEST_CASE("curl_http_client: a host name is resolved without blocking the io_context") {
  // curl 7.88 resolves names on a thread of its own and reports a socketpair for its answer:
  // a descriptor curl opened itself, which the client watches through a dup. curl closes it
  // once the name is resolved, and the connection's socket then typically gets the same
  // number: the bookkeeping must not confuse the two.
  const std::string name = loopback_name_from_hosts();
  if (name.empty()) {
    MESSAGE("skipped: /etc/hosts maps no name but localhost to 127.0.0.1");
    return;
  }
  fake_aggregator fake;
  asio::io_context ioc;
  curl_http_client client(ioc, {.max_in_flight = 4, .connect_timeout = 2000ms, .total_timeout = 2000ms});
  http_post request = sms_to(fake);
  request.url = "http://" + name + ":" + std::to_string(fake.port()) + "/version1/messaging";
  const auto started = clock_type::now();
  const http_result r = send_one(ioc, client, request);
  CHECK(r.transport == send_failure::none);
  CHECK(r.error.empty());
  CHECK(r.http_status == 201);
  CHECK(clock_type::now() - started < 1000ms);
  CHECK(fake.received().size() == 1);
}

TEST_CASE("curl_http_client: a provider that never answers times out after total_timeout") {
  fake_aggregator fake;
  fake.set_behaviour(fake_behaviour::hang);
  asio::io_context ioc;
  curl_http_client client(ioc, {.max_in_flight = 4, .connect_timeout = 1000ms, .total_timeout = 300ms});
  const auto started = clock_type::now();
  const http_result r = send_one(ioc, client, sms_to(fake));
  const auto elapsed = clock_type::now() - started;
  CHECK(r.transport == send_failure::timeout);
  CHECK(r.http_status == 0);
  CHECK_FALSE(r.error.empty());
  CHECK(elapsed >= 280ms);
  CHECK(elapsed < 1500ms);
  CHECK(fake.attempts() == 1);
  CHECK(fake.received().empty());
  const send_outcome outcome = classify_transport_error(r.transport, r.error);
  CHECK(outcome.failure == send_failure::timeout);
  CHECK(outcome.retryable);
}

TEST_CASE("curl_http_client: a connection closed without an answer is connection_failed") {
  fake_aggregator fake;
  fake.set_behaviour(fake_behaviour::drop);
  asio::io_context ioc;
  curl_http_client client(ioc, {});
  const http_result r = send_one(ioc, client, sms_to(fake));
  CHECK(r.transport == send_failure::connection_failed);
  CHECK(r.http_status == 0);
  CHECK_FALSE(r.error.empty());
  CHECK(fake.attempts() >= 1);
  CHECK(fake.received().empty());
}

TEST_CASE("curl_http_client: a refused connection is connection_failed") {
  asio::io_context ioc;
  // Bound but not listening: the port stays ours, and a SYN to it is answered with a reset.
  asio::ip::tcp::acceptor closed_port(ioc);
  const asio::ip::tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
  closed_port.open(ep.protocol());
  closed_port.bind(ep);
  const auto port = closed_port.local_endpoint().port();

  curl_http_client client(ioc, {});
  http_post request = build_send_request(
      {"http://127.0.0.1:" + std::to_string(port), "sandbox", "key"}, {"+254712345678", "x", "", ""});
  const auto started = clock_type::now();
  const http_result r = send_one(ioc, client, request);
  CHECK(r.transport == send_failure::connection_failed);
  CHECK(r.http_status == 0);
  CHECK_FALSE(r.error.empty());
  CHECK(clock_type::now() - started < 1000ms);
}

TEST_CASE("curl_http_client: connect_timeout ends a connection that is never accepted") {
  asio::io_context ioc;
  // A listener with a backlog of 0 that never accepts: once one connection waits in its queue,
  // Linux drops further SYNs, so the next connect neither succeeds nor fails.
  asio::ip::tcp::acceptor full(ioc);
  const asio::ip::tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
  full.open(ep.protocol());
  full.bind(ep);
  full.listen(0);
  const auto target = full.local_endpoint();
  asio::ip::tcp::socket filler(ioc);
  filler.connect(target);

  curl_http_client client(ioc, {.max_in_flight = 4, .connect_timeout = 200ms, .total_timeout = 3000ms});
  http_post request = build_send_request(
      {"http://127.0.0.1:" + std::to_string(target.port()), "sandbox", "key"},
      {"+254712345678", "x", "", ""});
  const auto started = clock_type::now();
  const http_result r = send_one(ioc, client, request);
  const auto elapsed = clock_type::now() - started;
  CHECK(r.transport == send_failure::timeout);
  CHECK(elapsed >= 180ms);
  CHECK(elapsed < 1500ms);
}

TEST_CASE("curl_http_client: 200 requests, max_in_flight 8: each done once, never more than 8 at once") {
  fake_aggregator fake;
  fake.set_delay(5ms);  // long enough for requests to pile up at the fake if the client let them
  asio::io_context ioc;
  curl_http_client client(ioc, {.max_in_flight = 8});
  constexpr std::size_t n = 200;
  completions c(n);
  for (std::size_t i = 0; i < n; ++i) client.post(sms_to(fake, "m" + std::to_string(i)), c.done(i));
  CHECK(client.pending() == n);
  REQUIRE(run_until(ioc, [&] { return c.total == n; }, 4000ms));
  run_for(ioc, 30ms);
  CHECK(c.each_once());
  CHECK(c.total == n);
  CHECK(client.pending() == 0);

  std::set<std::string> ids;
  for (const auto& r : c.results) {
    CHECK(r.transport == send_failure::none);
    const send_outcome outcome = classify_response(r.http_status, r.body);
    CHECK(outcome.accepted);
    ids.insert(outcome.message_id);
  }
  CHECK(ids.size() == n);
  CHECK(fake.received().size() == n);
  // The bound holds, and is used: requests did overlap.
  CHECK(fake.max_concurrent() == 8);
  // Keep-alive: the 8 connections carried all 200 requests.
  CHECK(fake.connections() <= 8);
}

TEST_CASE("curl_http_client: one request after another reuses one kept-alive connection") {
  fake_aggregator fake;
  asio::io_context ioc;
  curl_http_client client(ioc, {});
  constexpr std::size_t n = 30;
  completions c(n);
  // Each request is posted by the previous one's `done`, so they never overlap.
  std::function<void(std::size_t)> send_from = [&](std::size_t i) {
    if (i == n) return;
    auto record = c.done(i);
    client.post(sms_to(fake), [&, i, record](http_result r) {
      record(std::move(r));
      send_from(i + 1);
    });
  };
  send_from(0);
  REQUIRE(run_until(ioc, [&] { return c.total == n; }));
  CHECK(c.each_once());
  CHECK(fake.received().size() == n);
  CHECK(fake.max_concurrent() == 1);
  CHECK(fake.connections() == 1);
}

TEST_CASE("curl_http_client: queued requests go out in the order they were posted") {
  fake_aggregator fake;
  asio::io_context ioc;
  curl_http_client client(ioc, {.max_in_flight = 1});
  constexpr std::size_t n = 6;
  completions c(n);
  for (std::size_t i = 0; i < n; ++i) client.post(sms_to(fake, "m" + std::to_string(i)), c.done(i));
  REQUIRE(run_until(ioc, [&] { return c.total == n; }));
  const auto got = fake.received();
  REQUIRE(got.size() == n);
  for (std::size_t i = 0; i < n; ++i) CHECK(got[i].message == "m" + std::to_string(i));
  CHECK(fake.max_concurrent() == 1);
}

TEST_CASE("curl_http_client: stop() cancels requests in flight and queued, each done once") {
  fake_aggregator fake;
  fake.set_behaviour(fake_behaviour::hang);
  asio::io_context ioc;
  curl_http_client client(ioc, {.max_in_flight = 3});
  constexpr std::size_t n = 6;
  completions c(n);
  for (std::size_t i = 0; i < n; ++i) client.post(sms_to(fake), c.done(i));
  REQUIRE(run_until(ioc, [&] { return fake.attempts() == 3; }));
  CHECK(client.pending() == n);
  CHECK(c.total == 0);

  client.stop();
  client.stop();  // idempotent
  REQUIRE(run_until(ioc, [&] { return c.total == n; }));
  run_for(ioc, 50ms);
  CHECK(c.each_once());
  for (const auto& r : c.results) {
    CHECK(r.transport == send_failure::connection_failed);
    CHECK(r.error == "cancelled");
    CHECK(r.http_status == 0);
  }
  CHECK(client.pending() == 0);
  CHECK(fake.attempts() == 3);  // the queued three never left

  // After stop() every post is cancelled at once, without a request.
  const http_result late = send_one(ioc, client, sms_to(fake));
  CHECK(late.transport == send_failure::connection_failed);
  CHECK(late.error == "cancelled");
  CHECK(fake.attempts() == 3);
}

TEST_CASE("curl_http_client: destroying the client with requests in flight is safe") {
  fake_aggregator fake;
  fake.set_behaviour(fake_behaviour::hang);
  auto ioc = std::make_unique<asio::io_context>();
  auto client = std::make_unique<curl_http_client>(*ioc, http_client_options{.max_in_flight = 2});
  constexpr std::size_t n = 4;
  completions c(n);
  for (std::size_t i = 0; i < n; ++i) client->post(sms_to(fake), c.done(i));
  REQUIRE(run_until(*ioc, [&] { return fake.attempts() == 2; }));
  client.reset();

  SUBCASE("the io_context runs on: every done gets cancelled, once") {
    REQUIRE(run_until(*ioc, [&] { return c.total == n; }));
    run_for(*ioc, 50ms);
    CHECK(c.each_once());
    for (const auto& r : c.results) CHECK(r.error == "cancelled");
  }
  SUBCASE("the io_context is destroyed without running again: no done, nothing leaks") {
    ioc.reset();
    CHECK(c.total == 0);
  }
}

TEST_CASE("curl_http_client: post() may be called from other threads") {
  fake_aggregator fake;
  asio::io_context ioc;
  curl_http_client client(ioc, {.max_in_flight = 4});
  constexpr std::size_t threads = 4, each = 25, n = threads * each;
  completions c(n);  // `done` runs on this thread, which runs the io_context
  std::vector<std::thread> posters;
  for (std::size_t t = 0; t < threads; ++t)
    posters.emplace_back([&, t] {
      for (std::size_t i = 0; i < each; ++i) client.post(sms_to(fake), c.done(t * each + i));
    });
  const bool all = run_until(ioc, [&] { return c.total == n; });
  for (auto& p : posters) p.join();
  REQUIRE(all);
  CHECK(c.each_once());
  CHECK(fake.received().size() == n);
  CHECK(fake.max_concurrent() <= 4);
}

TEST_CASE("curl_http_client: a request that cannot be sent as built is config_invalid") {
  fake_aggregator fake;
  asio::io_context ioc;
  curl_http_client client(ioc, {});

  http_post injected = sms_to(fake);
  injected.headers.emplace_back("apiKey", "key\r\nX-Evil: 1");
  http_result r = send_one(ioc, client, injected);
  CHECK(r.transport == send_failure::config_invalid);
  CHECK_FALSE(r.error.empty());

  http_post other_scheme = sms_to(fake);
  other_scheme.url = "ftp://127.0.0.1:" + std::to_string(fake.port()) + "/version1/messaging";
  r = send_one(ioc, client, other_scheme);
  CHECK(r.transport == send_failure::config_invalid);

  http_post malformed = sms_to(fake);
  malformed.url = "http://[127.0.0.1/version1/messaging";
  r = send_one(ioc, client, malformed);
  CHECK(r.transport == send_failure::config_invalid);

  CHECK(fake.attempts() == 0);
  CHECK(client.pending() == 0);
}

TEST_CASE("curl_http_client: a reused handle sends each request's own headers and body") {
  // Finished handles and the header list are kept for later requests: nothing of an earlier
  // request may leak into a later one, and a refused header set stays refused.
  fake_aggregator fake;
  asio::io_context ioc;
  curl_http_client client(ioc, {});
  auto with_key = [&](const std::string& key, std::string text) {
    return build_send_request({fake.base_url(), "sandbox", key},
                              {"+254712345678", std::move(text), "22262", ""});
  };
  const std::string long_text(150, 'x');
  CHECK(send_one(ioc, client, with_key("key-one", long_text)).http_status == 201);
  CHECK(send_one(ioc, client, with_key("key-two", "2")).http_status == 201);
  http_post injected = with_key("key-one", "never sent");
  injected.headers.emplace_back("X-Note", "a\r\nX-Evil: 1");
  CHECK(send_one(ioc, client, injected).transport == send_failure::config_invalid);
  CHECK(send_one(ioc, client, injected).transport == send_failure::config_invalid);
  CHECK(send_one(ioc, client, with_key("key-one", "third")).http_status == 201);

  const auto got = fake.received();
  REQUIRE(got.size() == 3);
  CHECK(got[0].api_key == "key-one");
  CHECK(got[0].message == long_text);
  CHECK(got[1].api_key == "key-two");
  CHECK(got[1].message == "2");
  CHECK(got[2].api_key == "key-one");
  CHECK(got[2].message == "third");
  CHECK(fake.connections() == 1);
}

}  // namespace
}  // namespace cp2::sms
