#include "gateway/http_server.hpp"

#include "gateway/form.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <mutex>
#include <random>
#include <unordered_map>

#if defined(__linux__)
#include <linux/filter.h>
#include <sys/socket.h>
#endif

namespace cp2::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);

namespace {

// What stop() may touch of a connection. Only used on the connection's strand.
struct connection_ctl {
  asio::any_io_executor strand;
  beast::tcp_stream* stream = nullptr;  // null once the session has ended
  bool busy = false;                    // a request is being read past its header or handled
  bool served = false;                  // has answered a request (so, when idle, is kept alive)
};

// At stop, how long handshakes already under way get to complete (new ones are held off) before
// the acceptor closes: a round trip to the aggregator, with room to spare.
constexpr std::chrono::milliseconds handshake_settle{100};

// At stop, on Linux: a filter on the listening socket that drops every SYN, so that no new
// connection starts, while the last ACK of handshakes under way still passes and puts them in
// the backlog. (A socket filter on TCP sees the segment from its TCP header: byte 13 holds the
// flags, 0x02 is SYN.) Their clients retry the SYN after a second and find the port closed.
void hold_off_new_connections(tcp::acceptor& acceptor) {
#if defined(__linux__)
  sock_filter drop_syn[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x02, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(drop_syn)), drop_syn};
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0)
    spdlog::warn("stopping: cannot hold new connections off: {}", std::strerror(errno));
#else
  (void)acceptor;
#endif
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "application/x-www-form-urlencoded; charset=UTF-8" -> "application/x-www-form-urlencoded"
std::string media_type(std::string_view header) {
  auto semi = header.find(';');
  auto t = header.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  return lower(t);
}

bool has_body_method(std::string_view m) { return m == "POST" || m == "PUT" || m == "PATCH"; }

bool in_any(const std::vector<config::cidr>& ranges, std::string_view ip) {
  for (const auto& c : ranges)
    if (c.contains(ip)) return true;
  return false;
}

// The client behind trusted proxies: X-Forwarded-For read from the right, each hop believed
// only while the address that reported it is a trusted proxy. A forged left part is ignored.
std::string client_address(const std::string& peer, std::string_view forwarded,
                           const std::vector<config::cidr>& trusted) {
  if (trusted.empty() || forwarded.empty() || !in_any(trusted, peer)) return peer;
  std::string client = peer;
  while (!forwarded.empty()) {
    auto comma = forwarded.rfind(',');
    auto hop = comma == std::string_view::npos ? forwarded : forwarded.substr(comma + 1);
    forwarded = comma == std::string_view::npos ? std::string_view() : forwarded.substr(0, comma);
    while (!hop.empty() && hop.front() == ' ') hop.remove_prefix(1);
    while (!hop.empty() && hop.back() == ' ') hop.remove_suffix(1);
    if (!config::parse_ip(hop)) break;
    client = std::string(hop);
    if (!in_any(trusted, client)) break;
  }
  return client;
}

}  // namespace

struct http_server::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io, const router& r, server_options o)
      : ioc(io), routes(r), opts(std::move(o)), acceptor(asio::make_strand(io)), settle(acceptor.get_executor()) {
    std::random_device rd;
    boot_tag = rd();
  }

  asio::io_context& ioc;
  const router& routes;
  server_options opts;
  tcp::acceptor acceptor;
  asio::steady_timer settle;  // handshake_settle at stop; on the acceptor's strand
  std::uint16_t bound_port = 0;
  std::uint32_t boot_tag = 0;
  std::atomic<std::uint64_t> next_request{0};
  std::atomic<bool> stopping{false};
  // accept_loop runs. Written on the acceptor's strand; read under `mu` to decide the end.
  std::atomic<bool> accepting{false};
  std::atomic<int> open{0};

  std::mutex mu;  // guards conns, next_conn, on_stopped
  std::unordered_map<std::uint64_t, std::shared_ptr<connection_ctl>> conns;
  std::uint64_t next_conn = 0;
  std::function<void()> on_stopped;

  std::string make_request_id() {
    return fmt::format("{:08x}{:08x}", boot_tag, static_cast<std::uint32_t>(++next_request));
  }

  void connection_closed(std::uint64_t id) {
    std::function<void()> done;
    {
      std::lock_guard lock(mu);
      conns.erase(id);
      // Not before accept_loop has ended: until then it may still hand over a connection.
      if (stopping && !accepting && conns.empty() && on_stopped) done = std::exchange(on_stopped, nullptr);
    }
    --open;
    if (done) done();
  }

  // The second half of stop(), once accept_loop has ended (no connection can arrive any more):
  // `done` now if no connection is open; otherwise idle keep-alive connections are closed, and
  // the others close after answering: a busy one its request, a new one the request it
  // connected to send (within header_timeout, as always; shutdown_grace bounds it all).
  void finish_stop() {
    std::vector<std::shared_ptr<connection_ctl>> all;
    std::function<void()> done;
    {
      std::lock_guard lock(mu);
      for (auto& [id, c] : conns) all.push_back(c);
      if (conns.empty()) done = std::exchange(on_stopped, nullptr);
    }
    if (done) done();
    for (auto& c : all)
      asio::post(c->strand, [c] {
        beast::error_code ignored;
        if (c->stream && c->served && !c->busy && c->stream->socket().available(ignored) == 0)
          c->stream->cancel();
      });
  }

  // accept_loop has returned or thrown; on the acceptor's strand.
  void accept_loop_ended() {
    accepting = false;
    if (stopping) finish_stop();
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    asio::steady_timer backoff(acceptor.get_executor());
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), as_tuple_awaitable);
      // Also while stopping, until the acceptor closes: served with Connection: close.
      if (!ec) {
        serve(std::move(socket));
        continue;
      }
      if (ec == asio::error::operation_aborted || stopping) co_return;
      // Out of descriptors and the like: wait a little instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(as_tuple_awaitable);
    }
  }

  // Runs a session for an accepted connection, or a 503 over the connection cap.
  void serve(tcp::socket socket) {
    auto ex = socket.get_executor();
    if (open.load() >= opts.max_connections) {
      asio::co_spawn(ex, reject(std::move(socket)), [](std::exception_ptr) {});
      return;
    }
    auto ctl = std::make_shared<connection_ctl>();
    ctl->strand = ex;
    std::uint64_t id;
    {
      std::lock_guard lock(mu);
      id = ++next_conn;
      conns.emplace(id, ctl);
    }
    ++open;
    asio::co_spawn(ex, session(std::move(socket), ctl),
                   [self = shared_from_this(), id](std::exception_ptr e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex2) {
                         spdlog::error("connection failed: {}", ex2.what());
                       }
                     }
                     self->connection_closed(id);
                   });
  }

  // At stop, on the acceptor's strand, just before it closes: accepts, without waiting, every
  // connection the kernel still holds in the listen backlog, so that closing does not reset
  // them; each is served like any other connection while stopping.
  int drain_backlog() {
    beast::error_code ec;
    acceptor.non_blocking(true, ec);
    if (ec) return 0;
    // Without this, Asio's accept() waits with no time limit for the next connection after one
    // the client aborted while it sat in the backlog.
    acceptor.set_option(asio::socket_base::enable_connection_aborted(true), ec);
    int n = 0;
    for (;;) {
      tcp::socket socket(asio::make_strand(ioc));
      acceptor.accept(socket, ec);
      if (ec == asio::error::interrupted || ec == asio::error::connection_aborted) continue;
      if (ec) break;  // would_block: the backlog is empty (or the acceptor failed: nothing to save)
      serve(std::move(socket));
      ++n;
    }
    return n;
  }

  // The end of accepting, handshake_settle after stop(): on the acceptor's strand.
  void close_acceptor() {
    int drained = drain_backlog();
    beast::error_code ec;
    acceptor.close(ec);
    if (drained > 0) spdlog::info("stopping: {} connections taken from the listen backlog", drained);
    // accept_loop's pending accept now completes (aborted, or with one last connection, which
    // is served) and the loop ends, calling finish_stop(); if it has already ended, do it here.
    if (!accepting) finish_stop();
  }

  // Over the connection cap: a short 503 and close, without reading the request.
  asio::awaitable<void> reject(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    http::response<http::string_body> res{http::status::service_unavailable, 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::retry_after, "1");
    res.keep_alive(false);
    res.body() = "busy, try again shortly\n";
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(1));
    co_await http::async_write(stream, res, as_tuple_awaitable);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<connection_ctl> ctl) {
    beast::tcp_stream stream(std::move(socket));
    ctl->stream = &stream;
    struct detach {
      connection_ctl& c;
      ~detach() { c.stream = nullptr; }
    } guard_ctl{*ctl};

    beast::error_code ec;
    std::string peer = stream.socket().remote_endpoint(ec).address().to_string();
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      // While stopping, a request already sent (bytes waiting) is still served, and so is the
      // first request of a new connection; only an idle keep-alive one is closed.
      if (stopping && !first && buffer.size() == 0 && stream.socket().available(ec) == 0) break;
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(opts.header_limit));
      // No body limit yet: Beast would refuse a large Content-Length while reading the header,
      // before the 404/405/403 checks that SPEC section 7 puts ahead of 413.
      parser.body_limit(boost::none);
      ctl->busy = false;
      // The first request has header_timeout; later ones share idle_timeout for waiting and
      // for their header.
      stream.expires_after(first ? opts.header_timeout : opts.idle_timeout);
      auto [read_ec, n] = co_await http::async_read_header(stream, buffer, parser, as_tuple_awaitable);
      (void)n;
      if (read_ec) {
        if (read_ec == http::error::header_limit) {
          co_await write_plain(stream, 431, "request header too large", false);
        } else if (read_ec != http::error::end_of_stream && read_ec != asio::error::operation_aborted &&
                   read_ec != beast::error::timeout && read_ec != asio::error::connection_reset &&
                   read_ec != asio::error::eof && buffer.size() > 0) {
          co_await write_plain(stream, 400, "malformed request", false);
        }
        break;
      }
      ctl->busy = true;
      first = false;
      bool keep_alive = co_await serve_one(stream, buffer, parser, peer);
      ctl->served = true;
      if (!keep_alive || stopping) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // Sends a streamed response with chunked encoding, asking for each chunk only when the last
  // one is written, so a large export never sits in memory whole.
  asio::awaitable<bool> write_stream(beast::tcp_stream& stream, http_response& res,
                                     const http_request& req, const std::string& route_name,
                                     bool keep, std::chrono::steady_clock::time_point started) {
    http::response<http::empty_body> head{static_cast<http::status>(res.status), 11};
    head.set(http::field::server, "cp2-gateway");
    head.set(http::field::content_type, res.content_type);
    head.set("X-Request-Id", req.request_id);
    for (const auto& [k, v] : res.headers) head.set(k, v);
    head.keep_alive(keep);
    head.chunked(true);
    http::response_serializer<http::empty_body> sr{head};
    stream.expires_after(opts.body_timeout);
    auto [hec, hn] = co_await http::async_write_header(stream, sr, as_tuple_awaitable);
    (void)hn;
    bool ok = !hec;
    std::size_t bytes = 0;
    while (ok) {
      std::string chunk = co_await res.stream();
      if (chunk.empty()) break;
      bytes += chunk.size();
      stream.expires_after(opts.body_timeout);
      auto [cec, cn] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(chunk)),
                                                  as_tuple_awaitable);
      (void)cn;
      ok = !cec;
    }
    if (ok) {
      stream.expires_after(opts.body_timeout);
      auto [lec, ln] = co_await asio::async_write(stream, http::make_chunk_last(), as_tuple_awaitable);
      (void)ln;
      ok = !lec;
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    spdlog::info("http id={} method={} route={} status={} ms={:.2f} streamed_bytes={}", req.request_id,
                 req.method, route_name, res.status, ms, bytes);
    if (opts.observe) opts.observe(route_name, res.status, ms / 1000);
    co_return ok && keep;
  }

  asio::awaitable<void> write_plain(beast::tcp_stream& stream, int status, std::string_view text,
                                    bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.keep_alive(keep_alive);
    res.body() = std::string(text) + "\n";
    res.prepare_payload();
    stream.expires_after(opts.body_timeout);
    co_await http::async_write(stream, res, as_tuple_awaitable);
  }

  // Reads the rest of one request, answers it, and says whether the connection stays open.
  asio::awaitable<bool> serve_one(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                  http::request_parser<http::string_body>& parser,
                                  const std::string& peer) {
    auto started = std::chrono::steady_clock::now();
    http_request req;
    req.request_id = make_request_id();
    const auto& head = parser.get();
    {
      auto it = head.find("X-Forwarded-For");
      req.remote_address = client_address(
          peer, it == head.end() ? std::string_view() : std::string_view(it->value()), opts.trusted_proxies);
    }
    req.method = std::string(head.method_string());
    req.target = std::string(head.target());

    http_response res;
    std::string route_name = "-";
    bool body_pending = !parser.is_done();
    bool close_after = false;

    auto finish = [&]() -> asio::awaitable<bool> {
      bool keep = head.keep_alive() && !close_after && !body_pending && !stopping;
      if (res.stream) co_return co_await write_stream(stream, res, req, route_name, keep, started);
      http::response<http::string_body> out{static_cast<http::status>(res.status), 11};
      out.set(http::field::server, "cp2-gateway");
      out.set(http::field::content_type, res.content_type);
      out.set("X-Request-Id", req.request_id);
      for (const auto& [k, v] : res.headers) out.set(k, v);
      out.keep_alive(keep);
      out.body() = std::move(res.body);
      out.prepare_payload();
      stream.expires_after(opts.body_timeout);
      auto [wec, wn] = co_await http::async_write(stream, out, as_tuple_awaitable);
      (void)wn;
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      spdlog::info("http id={} method={} route={} status={} ms={:.2f}", req.request_id,
                   req.method.size() <= 10 ? req.method : "?", route_name, res.status, ms);
      if (opts.observe) opts.observe(route_name, res.status, ms / 1000);
      co_return keep && !wec;
    };

    // The target: path and query.
    auto qpos = req.target.find('?');
    auto path = percent_decode(std::string_view(req.target).substr(0, qpos), false);
    std::optional<form_fields> query;
    if (qpos != std::string::npos) {
      // A query is decoded like a form body; repeated names keep every value.
      std::string_view q = std::string_view(req.target).substr(qpos + 1);
      query = form_fields{};
      while (query && !q.empty()) {
        auto amp = q.find('&');
        auto piece = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
        if (piece.empty()) continue;
        auto eq = piece.find('=');
        auto k = percent_decode(piece.substr(0, eq), true);
        auto v = eq == std::string_view::npos ? std::optional<std::string>("")
                                              : percent_decode(piece.substr(eq + 1), true);
        if (!k || !v) query.reset();
        else req.query.emplace(std::move(*k), std::move(*v));
      }
    } else {
      query = form_fields{};
    }
    if (!path || path->empty() || path->front() != '/' || !query) {
      res = text_response(400, "malformed request target");
      co_return co_await finish();
    }
    req.path = std::move(*path);

    // SPEC section 7: path 404, method 405, key/address 403, size 413, type 415, fields 400.
    auto m = routes.find(req.method, req.path);
    bool api_off = req.path.rfind("/api/", 0) == 0 && opts.admin_token.empty();
    if (!m.path_known || api_off) {
      res = text_response(404, "not found");
      co_return co_await finish();
    }
    if (!m.found) {
      res = text_response(405, "method not allowed");
      res.headers.emplace_back("Allow", m.allow);
      co_return co_await finish();
    }
    const route& r = *m.found;
    route_name = r.pattern;
    req.path_params = std::move(m.params);
    if (auto it = head.find(http::field::authorization); it != head.end())
      req.authorization = std::string(it->value());
    if (r.options.who == guard::callback) {
      bool allowed = opts.allow_from.empty();
      for (const auto& c : opts.allow_from) allowed = allowed || c.contains(req.remote_address);
      bool key_ok = opts.callback_secret.empty() ||
                    constant_time_equal(req.query_value("key"), opts.callback_secret);
      if (!allowed || !key_ok) {
        res = text_response(403, "forbidden");
        co_return co_await finish();
      }
    } else if (r.options.who == guard::admin) {
      std::string expected = "Bearer " + opts.admin_token;
      if (!constant_time_equal(req.authorization, expected)) {
        res = json_error(401, "missing or wrong bearer token");
        res.headers.emplace_back("WWW-Authenticate", "Bearer");
        co_return co_await finish();
      }
    }
    const std::size_t limit = r.options.body_limit ? r.options.body_limit : opts.body_limit;
    if (auto len = parser.content_length(); len && *len > limit) {
      res = text_response(413, "request body too large");
      close_after = true;
      co_return co_await finish();
    }
    if (body_pending) {
      parser.body_limit(limit);
      stream.expires_after(opts.body_timeout);
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
      (void)bn;
      if (bec == http::error::body_limit) {
        res = text_response(413, "request body too large");
        close_after = true;
        co_return co_await finish();
      }
      if (bec) co_return false;  // the client went away or was too slow: nobody to answer
      body_pending = false;
    }
    if (auto it = head.find(http::field::content_type); it != head.end())
      req.content_type = media_type(it->value());
    if (auto it = head.find(http::field::accept); it != head.end()) req.accept = std::string(it->value());
    if (!r.options.content_types.empty() && has_body_method(req.method)) {
      bool ok = false;
      for (const auto& t : r.options.content_types) ok = ok || t == req.content_type;
      if (!ok) {
        res = r.options.who == guard::admin ? json_error(415, "unsupported content type")
                                            : text_response(415, "unsupported content type");
        co_return co_await finish();
      }
    }
    req.body = parser.release().body();

    try {
      res = co_await r.handle(req);
    } catch (const std::exception& e) {
      spdlog::error("http id={} route={} failed: {}", req.request_id, route_name, e.what());
      if (opts.on_failure) opts.on_failure(e);
      res = r.options.on_error ? r.options.on_error(req)
                               : text_response(500, "internal error, request " + req.request_id);
    }
    co_return co_await finish();
  }
};

http_server::http_server(asio::io_context& ioc, const router& routes, server_options options)
    : impl_(std::make_shared<impl>(ioc, routes, std::move(options))) {}

http_server::~http_server() = default;

void http_server::start() {
  auto& a = impl_->acceptor;
  auto address = asio::ip::make_address(impl_->opts.host);
  tcp::endpoint ep(address, impl_->opts.port);
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
  impl_->bound_port = a.local_endpoint().port();
  auto self = impl_;
  impl_->accepting = true;
  asio::co_spawn(a.get_executor(), impl_->accept_loop(), [self](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::critical("accept loop stopped: {}", ex.what());
      }
    }
    self->accept_loop_ended();
  });
}

std::uint16_t http_server::port() const { return impl_->bound_port; }

int http_server::open_connections() const { return impl_->open.load(); }

void http_server::stop(std::function<void()> done) {
  auto self = impl_;
  // On the acceptor's strand, where accept_loop runs.
  asio::post(self->acceptor.get_executor(), [self, done = std::move(done)]() mutable {
    if (self->stopping.exchange(true)) return;
    {
      std::lock_guard lock(self->mu);
      self->on_stopped = std::move(done);
    }
    if (!self->acceptor.is_open()) {  // never started
      if (!self->accepting) self->finish_stop();
      return;
    }
    // No new connection starts from now; those whose handshake is under way complete and are
    // accepted and served (Connection: close) until the acceptor closes, handshake_settle later,
    // having taken what is left in the backlog; so none is reset by the close.
    hold_off_new_connections(self->acceptor);
    self->settle.expires_after(handshake_settle);
    self->settle.async_wait([self](const beast::error_code&) { self->close_acceptor(); });
  });
}

}  // namespace cp2::gateway
