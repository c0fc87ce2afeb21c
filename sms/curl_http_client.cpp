#include "sms/curl_http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <curl/curl.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

// How curl and Asio share the work (as curl's docs/examples/asiohiper.cpp):
// - curl tells us which descriptors it wants watched (CURLMOPT_SOCKETFUNCTION) and when it
//   next needs a tick (CURLMOPT_TIMERFUNCTION); we start async_waits and a steady_timer on our
//   strand, and when one fires call curl_multi_socket_action, then curl_multi_info_read for
//   finished transfers.
// - Socket ownership: Asio owns every descriptor it polls. Connection sockets are created by
//   us (CURLOPT_OPENSOCKETFUNCTION) inside a posix::stream_descriptor and closed by us through
//   it (CURLOPT_CLOSESOCKETFUNCTION), so the reactor always deregisters a descriptor before its
//   number is freed. The other way, wrapping curl's own fd and release()-ing it before curl
//   closes it, depends on curl always announcing CURL_POLL_REMOVE before the close; when it
//   does not, the later release removes from epoll whatever file got that number meanwhile.
//   Descriptors curl reports without having opened them through us (in curl 7.88 the threaded
//   resolver's socketpair, used for host names, not IP literals) are watched through a dup()
//   that we own and close on CURL_POLL_REMOVE.
// - curl is never re-entered from its own callbacks: they only record state and start waits;
//   every curl call is made from a handler on the strand (or from ~impl, when nothing else can
//   run).

namespace cp2::sms {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// An answer larger than this is not the provider's: stop reading rather than grow without end.
constexpr std::size_t response_limit = 1024 * 1024;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Never paired with curl_global_cleanup: other code in the process may still use curl.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("curl_global_init failed");
  });
}

bool has_line_break(const std::string& s) {
  return s.find_first_of("\r\n") != std::string::npos;
}

http_result transport_failure(send_failure why, std::string error) {
  http_result r;
  r.transport = why;
  r.error = std::move(error);
  return r;
}

// One POST from post() to its completion.
struct transfer {
  http_post request;
  std::function<void(http_result)> done;
  CURL* easy = nullptr;        // set while on the wire; removed from the multi before cleanup
  std::shared_ptr<curl_slist> headers;  // shared with later transfers that send the same ones
  std::string response;
  bool too_large = false;
  char error[CURL_ERROR_SIZE] = {};

  transfer(http_post r, std::function<void(http_result)> d)
      : request(std::move(r)), done(std::move(d)) {}
  ~transfer() {
    if (easy) curl_easy_cleanup(easy);
  }
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;
};

// One descriptor curl asked us to watch. Handlers hold it by shared_ptr, so a wait that
// completes after the descriptor was closed (and its number reused) finds its own, closed,
// watch and not the new one.
struct watch {
  watch(const asio::any_io_executor& ex, curl_socket_t fd, bool ours)
      : descriptor(ex), curl_fd(fd), owned(ours) {}
  asio::posix::stream_descriptor descriptor;  // the socket itself, or our dup of curl's fd
  curl_socket_t curl_fd;                      // the number curl knows it by
  bool owned;                                 // true: opened by on_open_socket
  int wanted = 0;                             // CURL_POLL_IN / CURL_POLL_OUT bits
  bool reading = false;                       // an async_wait(wait_read) is outstanding
  bool writing = false;
};

size_t on_write(char* data, size_t size, size_t n, void* userp) noexcept {
  auto* t = static_cast<transfer*>(userp);
  const std::size_t bytes = size * n;
  if (t->response.size() + bytes > response_limit) {
    t->too_large = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  try {
    t->response.append(data, bytes);
  } catch (...) {
    return 0;
  }
  return bytes;
}

}  // namespace

struct curl_http_client::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& ioc, http_client_options options)
      : ioc_(ioc), options_(options), strand_(asio::make_strand(ioc)), timer_(strand_) {
    if (options_.max_in_flight == 0) options_.max_in_flight = 1;
    global_init();
    multi_ = curl_multi_init();
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    const long cap = static_cast<long>(options_.max_in_flight);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &impl::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &impl::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, cap);
    // Keep as many idle connections as can be busy at once, so a burst reuses them all.
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, cap);
  }

  // Reached when no handler refers to us any more: after stop() ran, or while the io_context
  // is being destroyed with work still queued. Either way nothing else can touch curl now, so
  // this may run off the strand. `done`s still held are destroyed uncalled (see the header).
  ~impl() {
    if (multi_)
      for (auto& [easy, t] : running_) curl_multi_remove_handle(multi_, easy);
    running_.clear();
    queue_.clear();
    close_multi();
  }

  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  asio::io_context& ioc_;
  http_client_options options_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  bool timer_armed_ = false;     // a wait on timer_ is pending (strand only)
  bool timeout_posted_ = false;  // an immediate on_timeout is posted (strand only)
  CURLM* multi_ = nullptr;  // null once stopped
  std::unordered_map<curl_socket_t, std::shared_ptr<watch>> watches_;
  std::deque<std::unique_ptr<transfer>> queue_;
  std::unordered_map<CURL*, std::unique_ptr<transfer>> running_;
  std::vector<CURL*> idle_easy_;  // finished transfers' handles, for reuse (strand only)
  // The last header list built, and the headers it was built from (strand only).
  std::shared_ptr<curl_slist> last_headers_;
  std::vector<std::pair<std::string, std::string>> last_header_source_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<bool> stopped_{false};

  // --- on the strand -------------------------------------------------------------------

  void enqueue(std::unique_ptr<transfer> t) {
    if (stopped_ || !multi_) {
      complete(std::move(t), transport_failure(send_failure::connection_failed, "cancelled"));
      return;
    }
    queue_.push_back(std::move(t));
    start_queued();
  }

  void start_queued() {
    while (!stopped_ && multi_ && running_.size() < options_.max_in_flight && !queue_.empty()) {
      auto t = std::move(queue_.front());
      queue_.pop_front();
      start(std::move(t));
    }
  }

  void start(std::unique_ptr<transfer> t) {
    // Every message to one provider carries the same headers: the list is built once and
    // shared until they change.
    if (!last_headers_ || t->request.headers != last_header_source_) {
      curl_slist* list = nullptr;
      if (auto failure = build_headers(t->request.headers, list)) {
        curl_slist_free_all(list);
        return complete(std::move(t), std::move(*failure));
      }
      last_headers_.reset(list, &curl_slist_free_all);
      last_header_source_ = t->request.headers;
    }
    t->headers = last_headers_;

    t->easy = take_easy();
    if (!t->easy) return complete_oom(std::move(t));
    CURL* e = t->easy;
    // What differs between transfers; take_easy set the rest.
    curl_easy_setopt(e, CURLOPT_URL, t->request.url.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->request.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(t->request.body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers.get());
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());

    // Emplace first: adding the handle may already call back into on_timer.
    auto [it, inserted] = running_.emplace(e, std::move(t));
    (void)inserted;
    if (curl_multi_add_handle(multi_, e) != CURLM_OK) {
      auto failed = std::move(it->second);
      running_.erase(it);
      complete(std::move(failed),
               transport_failure(send_failure::connection_failed, "curl_multi_add_handle failed"));
    }
  }

  // An easy handle from the idle ones, or a new one with the options every transfer shares.
  // Reusing handles spares an allocation of curl's per-transfer state and its setup for each
  // message; the connections are the multi handle's either way.
  CURL* take_easy() {
    if (!idle_easy_.empty()) {
      CURL* e = idle_easy_.back();
      idle_easy_.pop_back();
      return e;
    }
    CURL* e = curl_easy_init();
    if (!e) return nullptr;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "cp2-gateway");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_write);
    // No SIGALRM for DNS timeouts: signals and I/O threads do not mix.
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &impl::on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, this);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &impl::on_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
    return e;
  }

  // A finished transfer's handle, out of the multi handle, kept for the next transfer (at
  // most max_in_flight are kept). Its pointers to the finished transfer's buffers are set
  // afresh before it is used again, and curl does not touch them between transfers.
  void give_back_easy(transfer& t) {
    CURL* e = std::exchange(t.easy, nullptr);
    if (!e) return;
    if (idle_easy_.size() < options_.max_in_flight && multi_) {
      // The header list is freed with the transfer: forget it now.
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, nullptr);
      idle_easy_.push_back(e);
    } else {
      curl_easy_cleanup(e);
    }
  }

  void free_idle_easy() {
    for (CURL* e : idle_easy_) curl_easy_cleanup(e);
    idle_easy_.clear();
  }

  // Builds curl's list from `headers` into `list`, which the caller frees either way.
  // Returns nothing, or the failure to give the transfer when they cannot be sent.
  static std::optional<http_result> build_headers(
      const std::vector<std::pair<std::string, std::string>>& headers, curl_slist*& list) {
    for (const auto& [name, value] : headers) {
      // A line break would let a configured value smuggle in headers of its own.
      if (has_line_break(name) || has_line_break(value))
        return transport_failure(send_failure::config_invalid, "header holds a line break");
      // "Name:" would make curl drop the header; "Name;" is curl's way to send it empty.
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      if (!append_header(list, line.c_str()))
        return transport_failure(send_failure::connection_failed, "out of memory");
    }
    // curl adds "Expect: 100-continue" to large bodies; the provider never asks for it.
    if (!append_header(list, "Expect:"))
      return transport_failure(send_failure::connection_failed, "out of memory");
    return std::nullopt;
  }

  static bool append_header(curl_slist*& list, const char* line) {
    // On failure curl_slist_append returns null and leaves the old list alone.
    curl_slist* grown = curl_slist_append(list, line);
    if (!grown) return false;
    list = grown;
    return true;
  }

  void complete_oom(std::unique_ptr<transfer> t) {
    complete(std::move(t), transport_failure(send_failure::connection_failed, "out of memory"));
  }

  // Frees the transfer now and hands the result to the io_context. The posted handler holds
  // no reference to us, so it may run after the client is gone.
  void complete(std::unique_ptr<transfer> t, http_result result) {
    auto done = std::move(t->done);
    t.reset();
    pending_.fetch_sub(1);
    asio::post(ioc_, [done = std::move(done), result = std::move(result)]() mutable {
      if (done) done(std::move(result));
    });
  }

  void check_completions() {
    int left = 0;
    while (multi_) {
      CURLMsg* msg = curl_multi_info_read(multi_, &left);
      if (!msg) break;
      if (msg->msg != CURLMSG_DONE) continue;
      // msg is invalidated by curl_multi_remove_handle: copy what we need first.
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;
      auto it = running_.find(easy);
      if (it == running_.end()) continue;
      auto t = std::move(it->second);
      running_.erase(it);
      http_result r = result_of(*t, code);
      curl_multi_remove_handle(multi_, easy);
      give_back_easy(*t);
      complete(std::move(t), std::move(r));
    }
    start_queued();
  }

  static http_result result_of(transfer& t, CURLcode code) {
    http_result r;
    if (code == CURLE_OK) {
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &r.http_status);
      r.body = std::move(t.response);
      return r;
    }
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT:
        r.transport = send_failure::timeout;
        break;
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        r.transport = send_failure::config_invalid;
        break;
      default:
        r.transport = send_failure::connection_failed;
    }
    if (t.too_large) r.error = "response body larger than 1 MiB";
    else if (t.error[0] != '\0') r.error = t.error;
    else r.error = curl_easy_strerror(code);
    return r;
  }

  void on_timeout() {
    if (!multi_) return;
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    check_completions();
  }

  // Starts the waits `w` wants and lacks. Does nothing while tearing down (no owner left to
  // keep in the handlers).
  void arm(const std::shared_ptr<watch>& w) {
    auto self = weak_from_this().lock();
    if (!self || !multi_ || !w->descriptor.is_open()) return;
    if ((w->wanted & CURL_POLL_IN) && !w->reading) {
      w->reading = true;
      w->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                               [self, w](error_code ec) { self->on_ready(w, CURL_CSELECT_IN, ec); });
    }
    if ((w->wanted & CURL_POLL_OUT) && !w->writing) {
      w->writing = true;
      w->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                               [self, w](error_code ec) { self->on_ready(w, CURL_CSELECT_OUT, ec); });
    }
  }

  void on_ready(const std::shared_ptr<watch>& w, int direction, error_code ec) {
    (direction == CURL_CSELECT_IN ? w->reading : w->writing) = false;
    if (!multi_ || !w->descriptor.is_open()) return;
    const int poll_bit = direction == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
    // Cancelled by CURL_POLL_REMOVE, or curl stopped wanting this direction meanwhile: curl
    // may have asked again since, in which case arm() starts a fresh wait.
    if (ec == asio::error::operation_aborted) {
      arm(w);
      return;
    }
    if (w->wanted & poll_bit) {
      int running = 0;
      curl_multi_socket_action(multi_, w->curl_fd, direction | (ec ? CURL_CSELECT_ERR : 0), &running);
      check_completions();
    }
    // After a failed wait curl has been told and closes or re-announces the socket; waiting
    // again at once could fail again at once and spin.
    if (!ec) arm(w);
  }

  void watch_socket(curl_socket_t fd, int what) {
    auto it = watches_.find(fd);
    if (what == CURL_POLL_REMOVE) {
      if (it == watches_.end()) return;
      auto w = it->second;
      w->wanted = 0;
      error_code ec;
      if (w->owned) {
        // An idle kept-alive connection: nothing to wait for until curl reuses it.
        w->descriptor.cancel(ec);
      } else {
        watches_.erase(it);
        w->descriptor.close(ec);
      }
      return;
    }
    std::shared_ptr<watch> w;
    if (it != watches_.end()) {
      w = it->second;
    } else {
      // Not opened through on_open_socket (the resolver's socketpair): watch a duplicate that
      // we own, so curl remains free to close its own descriptor.
      const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (copy < 0) return;  // unwatched: the transfer ends at its timeout
      w = std::make_shared<watch>(strand_, fd, false);
      error_code ec;
      w->descriptor.assign(copy, ec);
      if (ec) {
        ::close(copy);
        return;
      }
      watches_.emplace(fd, w);
    }
    w->wanted = what & (CURL_POLL_IN | CURL_POLL_OUT);
    arm(w);
  }

  // Cancels every transfer with "cancelled" and closes every connection.
  void cancel_all() {
    std::vector<std::unique_ptr<transfer>> victims;
    for (auto& [easy, t] : running_) {
      // Removing a transfer mid-way closes its connection (through on_close_socket).
      if (multi_) curl_multi_remove_handle(multi_, easy);
      victims.push_back(std::move(t));
    }
    running_.clear();
    for (auto& t : queue_) victims.push_back(std::move(t));
    queue_.clear();
    close_multi();
    for (auto& t : victims)
      complete(std::move(t), transport_failure(send_failure::connection_failed, "cancelled"));
  }

  void close_multi() {
    free_idle_easy();
    if (CURLM* m = std::exchange(multi_, nullptr)) {
      // Closes the kept-alive connections through on_close_socket; with multi_ already null
      // the callbacks this causes start no new waits.
      curl_multi_cleanup(m);
    }
    for (auto& [fd, w] : watches_) {
      error_code ec;
      w->descriptor.close(ec);
    }
    watches_.clear();
    timer_.cancel();
  }

  // --- curl callbacks: only on the strand, inside a curl call; never re-enter curl ---------

  static int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) noexcept {
    try {
      static_cast<impl*>(userp)->watch_socket(fd, what);
    } catch (...) {
      // Out of memory or a reactor error: the transfer ends at its timeout.
    }
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* userp) noexcept {
    auto* me = static_cast<impl*>(userp);
    try {
      if (timeout_ms < 0) {
        me->timer_.cancel();
        me->timer_armed_ = false;
        return 0;
      }
      auto self = me->weak_from_this().lock();
      if (!self) return 0;  // tearing down
      // curl asks for a new timeout after almost every call. Re-arming the timer each time is
      // a timerfd_settime system call, so: "now" is a post (curl must not be called from inside
      // its own callback), and a later deadline than the armed one is left to the armed wait,
      // whose early socket_action makes curl ask again with what remains.
      if (timeout_ms == 0) {
        if (!std::exchange(me->timeout_posted_, true))
          asio::post(me->strand_, [self] {
            self->timeout_posted_ = false;
            self->on_timeout();
          });
        return 0;
      }
      auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      if (me->timer_armed_ && me->timer_.expiry() <= due) return 0;
      me->timer_.expires_at(due);
      me->timer_armed_ = true;
      // A wait that had already fired when expires_at cancelled it still runs with success;
      // the extra curl_multi_socket_action it causes only finds nothing due.
      me->timer_.async_wait([self](error_code ec) {
        if (ec == asio::error::operation_aborted) return;
        self->timer_armed_ = false;
        self->on_timeout();
      });
    } catch (...) {
      return -1;
    }
    return 0;
  }

  static curl_socket_t on_open_socket(void* clientp, curlsocktype purpose,
                                      curl_sockaddr* address) noexcept {
    auto* me = static_cast<impl*>(clientp);
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd < 0) return CURL_SOCKET_BAD;
    try {
      auto w = std::make_shared<watch>(me->strand_, fd, true);
      error_code ec;
      w->descriptor.assign(fd, ec);
      if (ec) {
        ::close(fd);
        return CURL_SOCKET_BAD;
      }
      // From here `w` owns fd. A leftover entry under the same number is a foreign
      // descriptor whose close we missed: ours was closed, drop it.
      if (auto old = me->watches_.find(fd); old != me->watches_.end()) {
        old->second->descriptor.close(ec);
        me->watches_.erase(old);
      }
      me->watches_.emplace(fd, std::move(w));
    } catch (...) {
      return CURL_SOCKET_BAD;
    }
    return fd;
  }

  static int on_close_socket(void* clientp, curl_socket_t fd) noexcept {
    auto* me = static_cast<impl*>(clientp);
    auto it = me->watches_.find(fd);
    if (it == me->watches_.end() || !it->second->owned) return ::close(fd);  // not expected
    auto w = std::move(it->second);
    me->watches_.erase(it);
    // Deregisters from the reactor, aborts pending waits, then closes the number.
    error_code ec;
    w->descriptor.close(ec);
    return ec ? -1 : 0;
  }
};

curl_http_client::curl_http_client(asio::io_context& ioc, http_client_options options)
    : impl_(std::make_shared<impl>(ioc, options)) {}

curl_http_client::~curl_http_client() { stop(); }

void curl_http_client::post(http_post request, std::function<void(http_result)> done) {
  auto t = std::make_unique<transfer>(std::move(request), std::move(done));
  impl_->pending_.fetch_add(1);
  asio::post(impl_->strand_, [self = impl_, t = std::move(t)]() mutable {
    self->enqueue(std::move(t));
  });
}

std::size_t curl_http_client::pending() const { return impl_->pending_.load(); }

void curl_http_client::stop() {
  if (impl_->stopped_.exchange(true)) return;
  // The posted handler keeps impl alive past the client's destructor until it has run.
  asio::post(impl_->strand_, [self = impl_] { self->cancel_all(); });
}

}  // namespace cp2::sms
