#include "sms/africastalking_provider.hpp"

namespace cp2::sms {

africastalking_provider::africastalking_provider(boost::asio::io_context& ioc,
                                                 provider_credentials credentials,
                                                 std::string shortcode,
                                                 http_client_options options)
    : credentials_(std::move(credentials)), shortcode_(std::move(shortcode)), client_(ioc, options) {}

void africastalking_provider::send(const provider_message& m,
                                   std::function<void(send_outcome)> done) {
  outbound_message out{m.to_international, m.text, shortcode_, m.link_id};
  client_.post(build_send_request(credentials_, out), [done = std::move(done)](http_result r) {
    if (r.transport != send_failure::none) done(classify_transport_error(r.transport, r.error));
    else done(classify_response(r.http_status, r.body));
  });
}

void africastalking_provider::stop() { client_.stop(); }

}  // namespace cp2::sms
