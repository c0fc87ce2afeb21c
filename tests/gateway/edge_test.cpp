// The HTTP edge over real loopback HTTP: every error of SPEC section 3.5 in the order of
// section 7, limits, timeouts, keep-alive and graceful shutdown.

#include "gateway/form.hpp"
#include "gateway/router.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_gateway.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

using namespace cp2;
using namespace cp2::test;
namespace asio = boost::asio;

namespace {

// Probe routes: a callback-guarded form route that needs field "x", a slow route, a thrower.
void probe_routes(gateway::router& r) {
  gateway::route_options form_opts;
  form_opts.who = gateway::guard::callback;
  form_opts.content_types = {"application/x-www-form-urlencoded"};
  r.add("POST", "/callbacks/probe", [](gateway::http_request& req) -> asio::awaitable<gateway::http_response> {
    auto f = gateway::parse_form(req.body);
    if (!f) co_return gateway::text_response(400, "malformed form body");
    if (!f->count("x")) co_return gateway::text_response(400, "missing field: x");
    co_return gateway::text_response(200, "x=" + f->at("x"));
  }, form_opts);
  r.add("GET", "/probe/slow", [](gateway::http_request&) -> asio::awaitable<gateway::http_response> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(400));
    co_await t.async_wait(asio::use_awaitable);
    co_return gateway::text_response(200, "slow done");
  });
  r.add("GET", "/probe/throw", [](gateway::http_request&) -> asio::awaitable<gateway::http_response> {
    throw std::runtime_error("boom with secret-detail");
    co_return gateway::text_response(200, "unreachable");
  });
}

const std::string form = "Content-Type: application/x-www-form-urlencoded";

}  // namespace

TEST_CASE("health and readiness") {
  scratch_dir dir;
  test_gateway gw(test_config(dir));
  auto h = request("GET", gw.port(), "/healthz");
  CHECK(h.status == 200);
  CHECK(h.body == "ok\n");
  CHECK(h.headers.count("x-request-id"));
  CHECK(request("GET", gw.port(), "/readyz").status == 200);
}

TEST_CASE("routing errors: 404 for unknown paths and the disabled API, 405 with Allow") {
  scratch_dir dir;
  test_gateway gw(test_config(dir), probe_routes);
  CHECK(request("GET", gw.port(), "/nope").status == 404);
  CHECK(request("GET", gw.port(), "/api/v1/accounts").status == 404);
  auto r = request("GET", gw.port(), "/callbacks/probe");
  CHECK(r.status == 405);
  CHECK(r.headers["allow"] == "POST");
  CHECK(request("POST", gw.port(), "/healthz", "").status == 405);
}

TEST_CASE("callback guard: secret key and allowed addresses, compared before anything else") {
  scratch_dir dir;
  SUBCASE("secret") {
    test_gateway gw(test_config(dir, {"CP2_CALLBACKS_SECRET=s3cret"}), probe_routes);
    CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1", {form}).status == 403);
    CHECK(request("POST", gw.port(), "/callbacks/probe?key=wrong", "x=1", {form}).status == 403);
    auto ok = request("POST", gw.port(), "/callbacks/probe?key=s3cret", "x=1", {form});
    CHECK(ok.status == 200);
    CHECK(ok.body == "x=1\n");
    // 403 comes before 413 and 415.
    std::string big(20000, 'a');
    CHECK(request("POST", gw.port(), "/callbacks/probe", big, {"Content-Type: text/plain"}).status == 403);
    auto denied = request("POST", gw.port(), "/callbacks/probe?key=wrong", "x=1", {form});
    CHECK(denied.body.find("s3cret") == std::string::npos);
  }
  SUBCASE("allow_from") {
    test_gateway gw(test_config(dir, {"CP2_CALLBACKS_ALLOW_FROM=196.201.214.0/24"}), probe_routes);
    CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1", {form}).status == 403);
  }
  SUBCASE("allow_from including loopback") {
    test_gateway gw(test_config(dir, {"CP2_CALLBACKS_ALLOW_FROM=196.201.214.0/24,127.0.0.0/8"}),
                    probe_routes);
    CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1", {form}).status == 200);
  }
}

TEST_CASE("size 413 before type 415 before fields 400") {
  scratch_dir dir;
  test_gateway gw(test_config(dir), probe_routes);
  std::string at_limit = "x=" + std::string(16 * 1024 - 2, 'a');
  std::string over = at_limit + "a";
  CHECK(request("POST", gw.port(), "/callbacks/probe", at_limit, {form}).status == 200);
  CHECK(request("POST", gw.port(), "/callbacks/probe", over, {form}).status == 413);
  CHECK(request("POST", gw.port(), "/callbacks/probe", over, {"Content-Type: text/plain"}).status == 413);
  CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1", {"Content-Type: text/plain"}).status == 415);
  // "Content-Type:" with no value makes curl send none at all.
  CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1", {"Content-Type:"}).status == 415);
  CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1",
                {"Content-Type: application/x-www-form-urlencoded; charset=UTF-8"}).status == 200);
  CHECK(request("POST", gw.port(), "/callbacks/probe", "y=1", {form}).status == 400);
  CHECK(request("POST", gw.port(), "/callbacks/probe", "x=%zz", {form}).status == 400);
}

TEST_CASE("a chunked body over the limit is refused with 413") {
  scratch_dir dir;
  test_gateway gw(test_config(dir), probe_routes);
  raw_connection c(gw.port());
  REQUIRE(c.connected());
  std::string chunk(9000, 'a');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  std::string req = "POST /callbacks/probe HTTP/1.1\r\nHost: x\r\nContent-Type: "
                    "application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n";
  req += size_line + chunk + "\r\n" + size_line + chunk + "\r\n0\r\n\r\n";
  c.send(req);
  auto reply = c.read_responses(1);
  CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
}

TEST_CASE("a handler that throws gets 500 with the request id and no internal detail") {
  scratch_dir dir;
  test_gateway gw(test_config(dir), probe_routes);
  auto r = request("GET", gw.port(), "/probe/throw");
  CHECK(r.status == 500);
  CHECK(r.body.find(r.headers["x-request-id"]) != std::string::npos);
  CHECK(r.body.find("secret-detail") == std::string::npos);
}

TEST_CASE("keep-alive and pipelined requests on one connection") {
  scratch_dir dir;
  test_gateway gw(test_config(dir));
  raw_connection c(gw.port());
  REQUIRE(c.connected());
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
         "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto all = c.read_responses(3);
  CHECK(all.find("HTTP/1.1 200") == 0);
  CHECK(all.find("HTTP/1.1 404") != std::string::npos);
  CHECK(all.rfind("HTTP/1.1 200") > all.find("HTTP/1.1 404"));
}

TEST_CASE("malformed requests and oversized headers") {
  scratch_dir dir;
  test_gateway gw(test_config(dir));
  {
    raw_connection c(gw.port());
    c.send("THIS IS NOT HTTP\r\n\r\n");
    CHECK(c.read_responses(1).rfind("HTTP/1.1 400", 0) == 0);
  }
  {
    raw_connection c(gw.port());
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n");
    CHECK(c.read_responses(1).rfind("HTTP/1.1 431", 0) == 0);
  }
  {
    raw_connection c(gw.port());
    c.send(std::string("GET /he\0lthz HTTP/1.1\r\nHost: x\r\n\r\n", 34));
    auto r = c.read_responses(1);
    CHECK((r.rfind("HTTP/1.1 400", 0) == 0 || r.rfind("HTTP/1.1 404", 0) == 0));
  }
}

TEST_CASE("a client that never finishes its header is cut off after header_timeout") {
  scratch_dir dir;
  test_gateway gw(test_config(dir, {"CP2_SERVER_HEADER_TIMEOUT=300ms"}));
  raw_connection c(gw.port());
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  CHECK(c.closed_by_peer_within(3000));
}

TEST_CASE("connections over the cap get 503") {
  scratch_dir dir;
  test_gateway gw(test_config(dir, {"CP2_SERVER_MAX_CONNECTIONS=2"}));
  raw_connection a(gw.port()), b(gw.port());
  // Both are accepted and registered once each has been served a request.
  a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(a.read_responses(1).rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(b.read_responses(1).rfind("HTTP/1.1 200", 0) == 0);
  raw_connection third(gw.port());
  third.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(third.read_responses(1).rfind("HTTP/1.1 503", 0) == 0);
}

TEST_CASE("graceful shutdown lets a request in flight finish, closes idle ones, refuses new") {
  scratch_dir dir;
  test_gateway gw(test_config(dir), probe_routes);
  raw_connection idle(gw.port());
  idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(idle.read_responses(1).rfind("HTTP/1.1 200", 0) == 0);

  auto slow = std::async(std::launch::async, [&] { return request("GET", gw.port(), "/probe/slow"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the slow request is in flight
  auto port = gw.port();
  gw.app().request_stop();
  auto answered = slow.get();
  CHECK(answered.status == 200);
  CHECK(answered.body == "slow done\n");
  CHECK(idle.closed_by_peer_within(2000));
  CHECK(gw.stop() == 0);
  CHECK(request("GET", port, "/healthz", "", {}, 1000).status == 0);
}

TEST_CASE("graceful shutdown answers a request in flight on a keep-alive connection, then closes it") {
  scratch_dir dir;
  test_gateway gw(test_config(dir), probe_routes);
  raw_connection c(gw.port());
  REQUIRE(c.connected());
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(c.read_responses(1).rfind("HTTP/1.1 200", 0) == 0);
  c.send("GET /probe/slow HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // read, and waiting in the handler
  gw.app().request_stop();
  auto answer = c.read_responses(1, 3000);
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(answer.find("slow done") != std::string::npos);
  CHECK(c.closed_by_peer_within(2000));
  CHECK(gw.stop() == 0);
}

// Connections the kernel accepted into the listen backlog, with their request sent, that the
// gateway had not accept()ed yet when it was told to stop. Its only I/O thread is held by a
// handler that blocks (as a burst of load would keep it busy) while they connect and while the
// stop is requested, so every one of them is still in the backlog when stop() runs. Closing the
// acceptor then would reset them all; each must get its answer instead.
TEST_CASE("graceful shutdown answers the connections still waiting in the listen backlog") {
  scratch_dir dir;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> holding{false};
  test_gateway gw(test_config(dir, {"CP2_SERVER_THREADS=1"}), [&](gateway::router& r) {
    probe_routes(r);
    r.add("GET", "/probe/hold", [released, &holding](gateway::http_request&) -> asio::awaitable<gateway::http_response> {
      holding = true;
      released.wait();  // blocks the I/O thread on purpose
      co_return gateway::text_response(200, "released");
    });
  });
  const auto port = gw.port();
  auto holder = std::async(std::launch::async, [port] { return request("GET", port, "/probe/hold"); });
  for (int i = 0; i < 500 && !holding; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(holding);

  constexpr int waiting = 40;
  std::vector<std::unique_ptr<raw_connection>> backlog;
  for (int i = 0; i < waiting; ++i) {
    backlog.push_back(std::make_unique<raw_connection>(port));
    REQUIRE(backlog.back()->connected());
    REQUIRE(backlog.back()->send(i % 2 ? "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                       : "POST /callbacks/probe HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                         "application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\nx=" +
                                             std::to_string(i % 10)));
  }
  gw.app().request_stop();  // queued behind the held handler
  release.set_value();
  CHECK(holder.get().status == 200);

  int answered = 0, with_close = 0;
  for (int i = 0; i < waiting; ++i) {
    auto reply = backlog[i]->read_responses(1, 5000);
    bool ok = reply.rfind("HTTP/1.1 200", 0) == 0 &&
              reply.find(i % 2 ? "ok" : "x=" + std::to_string(i % 10)) != std::string::npos;
    if (!ok) MESSAGE("connection " << i << " got: \"" << reply << "\"");
    answered += ok;
    with_close += reply.find("Connection: close") != std::string::npos;
  }
  CHECK(answered == waiting);
  CHECK(with_close == waiting);
  CHECK(gw.stop() == 0);
  CHECK(request("GET", port, "/healthz", "", {}, 1000).status == 0);
}

TEST_CASE("graceful shutdown still serves the first request of a connection that had sent nothing yet") {
  scratch_dir dir;
  test_gateway gw(test_config(dir, {"CP2_SERVER_HEADER_TIMEOUT=1s"}), probe_routes);
  raw_connection late(gw.port()), silent(gw.port());
  REQUIRE(late.connected());
  REQUIRE(silent.connected());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // both accepted, nothing sent yet
  const auto stop_asked = std::chrono::steady_clock::now();
  gw.app().request_stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  REQUIRE(late.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto answer = late.read_responses(1, 3000);
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.find("Connection: close") != std::string::npos);
  // One that never sends is closed at header_timeout, which bounds the stop.
  CHECK(silent.closed_by_peer_within(3000));
  CHECK(gw.stop() == 0);
  CHECK(std::chrono::steady_clock::now() - stop_asked < std::chrono::seconds(3));
}

// Once stopping, a connection must not be established (and then reset when the acceptor
// closes): its SYN is dropped, and its retry finds the port closed.
TEST_CASE("graceful shutdown establishes no new connection once stopping") {
  scratch_dir dir;
  test_gateway gw(test_config(dir), probe_routes);
  gw.app().request_stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // stopping, the acceptor not closed yet
  raw_connection late(gw.port());
  CHECK(!late.connected());
  CHECK(gw.stop() == 0);
}

TEST_CASE("X-Forwarded-For is believed only from trusted proxies, and only their hops") {
  scratch_dir dir;
  SUBCASE("no trusted proxies: the header is ignored") {
    test_gateway gw(test_config(dir, {"CP2_CALLBACKS_ALLOW_FROM=196.201.214.0/24"}), probe_routes);
    CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1",
                  {form, "X-Forwarded-For: 196.201.214.5"}).status == 403);
  }
  SUBCASE("loopback is a trusted proxy: the client it reports is checked") {
    test_gateway gw(test_config(dir, {"CP2_CALLBACKS_ALLOW_FROM=196.201.214.0/24",
                                      "CP2_SERVER_TRUSTED_PROXIES=127.0.0.0/8"}),
                    probe_routes);
    CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1",
                  {form, "X-Forwarded-For: 196.201.214.5"}).status == 200);
    CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1",
                  {form, "X-Forwarded-For: 10.9.9.9"}).status == 403);
    // A client forging an allowed address on the left is judged by the hop the proxy saw.
    CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1",
                  {form, "X-Forwarded-For: 196.201.214.5, 10.9.9.9"}).status == 403);
    CHECK(request("POST", gw.port(), "/callbacks/probe", "x=1",
                  {form, "X-Forwarded-For: not-an-address"}).status == 403);
  }
}

TEST_CASE("a very long USSD text within the body limit is answered, not crashed on") {
  scratch_dir dir;
  test_gateway gw(test_config(dir));
  std::string text;
  while (text.size() < 16000) text += "1*0*";
  text += "1";
  auto r = post_form(gw.port(), "/callbacks/ussd",
                     "sessionId=long&serviceCode=x&phoneNumber=0712000071&text=" + form_escape(text));
  CHECK(r.status == 413);  // over 16 KiB once encoded
  std::string shorter;
  while (shorter.size() < 5000) shorter += "1*0*";
  shorter += "1";
  r = post_form(gw.port(), "/callbacks/ussd", "sessionId=long2&serviceCode=x&phoneNumber=0712000071&text=" + shorter);
  CHECK(r.status == 200);
  CHECK(r.body.find("Create a CP2 account") != std::string::npos);
}
