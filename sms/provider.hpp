#pragma once
// Where outbound SMS go: the provider interface and the `log` provider.

#include "sms/africastalking_protocol.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace cp2::sms {

/// One SMS handed to a provider.
struct provider_message {
  std::int64_t outbox_id = 0;
  std::string to_international;  ///< +2547…
  std::string text;
  std::string link_id;     ///< empty when not a reply
  bool sensitive = false;  ///< carries a password: never write `text` to a log
};

/// Sends SMS.
/// Thread safety: send() may be called from any thread; `done` is called exactly once.
class provider {
public:
  virtual ~provider() = default;
  /// "log" or "africastalking".
  virtual std::string_view name() const = 0;
  /// Sends `m` and reports how it went.
  virtual void send(const provider_message& m, std::function<void(send_outcome)> done) = 0;
  /// Gives up on sends in flight (each `done` is still called, as a retryable failure).
  virtual void stop() {}
};

/// Prints each SMS to the service log (a password replaced by asterisks) and, when
/// `phone_file` is set, appends it in full to that file as the phone would show it: for demos
/// and development only, never in production. Every message counts as accepted.
class log_provider final : public provider {
public:
  /// `phone_file` may be empty.
  explicit log_provider(std::string phone_file);
  std::string_view name() const override { return "log"; }
  void send(const provider_message& m, std::function<void(send_outcome)> done) override;

private:
  std::string phone_file_;
  std::mutex file_mu_;
};

}  // namespace cp2::sms
