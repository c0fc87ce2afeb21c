// The ceiling of our HTTP stack on this machine (issue #8): a Beast server shaped like the
// gateway's (one io_context run by --threads threads, a strand and a coroutine per connection,
// header then body read with limits and deadlines, keep-alive) that answers every request with
// the same USSD main menu and does nothing else: no routing, no form parsing, no logging, no
// database. bench_loadgen --mode constant against it and against the gateway shows what the
// gateway's own work costs.
// Run: build/release/bench/bench_bare_ussd [--port 0] [--threads 2]
// Listens on 127.0.0.1 only, prints "listening on 127.0.0.1:PORT" once bound, stops on SIGINT
// or SIGTERM.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

constexpr std::string_view main_menu =
    "CON Welcome to KNEC CP2\n1. Create account\n2. Reset password\n3. Apply for a vacancy";

// The gateway's limits and deadlines (config defaults), so both read requests alike.
constexpr std::uint32_t header_limit = 8 * 1024;
constexpr std::uint64_t body_limit = 16 * 1024;
constexpr auto header_timeout = std::chrono::seconds(10);
constexpr auto idle_timeout = std::chrono::seconds(60);
constexpr auto body_timeout = std::chrono::seconds(10);

struct server_options {
  unsigned short port = 0;
  int threads = 2;
};

bool parse_options(int argc, char** argv, server_options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
    char* end = nullptr;
    const long v = std::strtol(argv[i + 1], &end, 10);
    if (end == argv[i + 1] || *end != '\0') return false;
    if (arg == "--port" && v >= 0 && v <= 65535) o.port = static_cast<unsigned short>(v);
    else if (arg == "--threads" && v >= 1 && v <= 256) o.threads = static_cast<int>(v);
    else return false;
  }
  return argc % 2 == 1;
}

// One request, read fully (header, then body) as the gateway reads it; false to close.
asio::awaitable<bool> serve_one(beast::tcp_stream& stream, beast::flat_buffer& buffer, bool first) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(header_limit);
  parser.body_limit(body_limit);
  stream.expires_after(first ? header_timeout : idle_timeout);
  auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, as_tuple_awaitable);
  (void)hn;
  if (hec) co_return false;
  if (!parser.is_done()) {
    stream.expires_after(body_timeout);
    auto [bec, bn] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
    (void)bn;
    if (bec) co_return false;
  }
  const bool keep = parser.get().keep_alive();
  http::response<http::string_body> res{http::status::ok, 11};
  res.set(http::field::server, "bench-bare-ussd");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.keep_alive(keep);
  res.body() = main_menu;
  res.prepare_payload();
  stream.expires_after(body_timeout);
  auto [wec, wn] = co_await http::async_write(stream, res, as_tuple_awaitable);
  (void)wn;
  co_return keep && !wec;
}

asio::awaitable<void> session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (bool first = true; co_await serve_one(stream, buffer, first); first = false) {
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, asio::io_context& ioc) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), as_tuple_awaitable);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;  // out of descriptors and the like: the next accept may work
    auto ex = socket.get_executor();
    asio::co_spawn(ex, session(std::move(socket)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex2) {
        std::fprintf(stderr, "bench_bare_ussd: connection failed: %s\n", ex2.what());
      }
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  server_options o;
  if (!parse_options(argc, argv, o)) {
    std::fprintf(stderr, "usage: bench_bare_ussd [--port 0] [--threads 2]\n");
    return 2;
  }
  asio::io_context ioc(o.threads);
  tcp::acceptor acceptor(asio::make_strand(ioc));
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.port);
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);

  asio::co_spawn(acceptor.get_executor(), accept_loop(acceptor, ioc), [](std::exception_ptr e) {
    if (e) std::fprintf(stderr, "bench_bare_ussd: the accept loop stopped\n");
  });
  // A signal stops everything at once: the clients are benchmarks, not people.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code&, int) { ioc.stop(); });

  std::vector<std::thread> threads;
  for (int i = 1; i < o.threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  return 0;
}
