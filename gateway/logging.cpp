#include "gateway/logging.hpp"

#include "gateway/json_text.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <mutex>

namespace cp2::gateway {
namespace {

// Gathers log lines and writes them to standard error in one write(2): when 64 KiB have
// gathered, when a line at warning or above comes, on flush() (spdlog's flusher calls it every
// second) and when the logger is destroyed at exit. spdlog's own stderr sink writes and
// flushes every line, so the access log cost a system call per request under the logger's
// lock: about 3% of the gateway's throughput in menu steps (docs/performance.md). The
// price: a process killed outright loses up to a second of info lines; warnings and errors are
// written at once.
class buffered_stderr_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  ~buffered_stderr_sink() override {
    std::lock_guard lock(mutex_);
    write_out();
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= limit || msg.level >= spdlog::level::warn) write_out();
  }
  void flush_() override { write_out(); }

private:
  void write_out() {
    const char* p = buffer_.data();
    std::size_t left = buffer_.size();
    while (left > 0) {
      const ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;  // nowhere to report it: the lines are dropped, the service goes on
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

  static constexpr std::size_t limit = 64 * 1024;
  std::string buffer_;
};

// %* in a pattern: the message, escaped so the line stays valid JSON whatever it contains.
class json_message_flag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    auto escaped = json_escape(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message_flag>();
  }
};

}  // namespace

std::string json_escape(std::string_view s) {
  auto quoted = json_quote(s);
  return quoted.substr(1, quoted.size() - 2);
}

void setup_logging(const std::string& level, const std::string& format) {
  auto logger = std::make_shared<spdlog::logger>("cp2", std::make_shared<buffered_stderr_sink>());
  spdlog::register_logger(logger);
  if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<json_message_flag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%*"})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

}  // namespace cp2::gateway
