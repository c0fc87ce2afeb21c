#include "domain/outbox.hpp"
#include "sms/provider.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>

namespace cp2::sms {

log_provider::log_provider(std::string phone_file) : phone_file_(std::move(phone_file)) {}

void log_provider::send(const provider_message& m, std::function<void(send_outcome)> done) {
  const std::string shown = m.sensitive ? domain::redact_password(m.text) : m.text;
  spdlog::info("sms (log provider) outbox={} to={} link={} text=\"{}\"", m.outbox_id,
               m.to_international, m.link_id.empty() ? "-" : m.link_id, shown);
  if (!phone_file_.empty()) {
    std::lock_guard lock(file_mu_);
    std::ofstream out(phone_file_, std::ios::app);
    auto now = std::chrono::system_clock::now();
    out << fmt::format("{:%Y-%m-%dT%H:%M:%S}Z to {}: {}\n",
                       std::chrono::floor<std::chrono::seconds>(now), m.to_international, m.text);
  }
  send_outcome o;
  o.accepted = true;
  o.message_id = fmt::format("log-{}", m.outbox_id);
  done(std::move(o));
}

}  // namespace cp2::sms
