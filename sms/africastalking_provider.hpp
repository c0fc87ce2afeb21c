#pragma once
// The Africa's Talking provider: the protocol functions over the libcurl client.

#include "sms/curl_http_client.hpp"
#include "sms/provider.hpp"

namespace cp2::sms {

/// Sends through POST {base_url}/version1/messaging (SPEC 5).
/// Thread safety: as provider; the client runs on the io_context it was given.
class africastalking_provider final : public provider {
public:
  /// `shortcode` goes in the `from` field.
  africastalking_provider(boost::asio::io_context& ioc, provider_credentials credentials,
                          std::string shortcode, http_client_options options);
  std::string_view name() const override { return "africastalking"; }
  void send(const provider_message& m, std::function<void(send_outcome)> done) override;
  void stop() override;

private:
  provider_credentials credentials_;
  std::string shortcode_;
  curl_http_client client_;
};

}  // namespace cp2::sms
