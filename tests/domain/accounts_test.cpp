#include "domain/accounts.hpp"
#include "domain/gsm7.hpp"
#include "domain/outbox.hpp"
#include "tests/domain/fake_account_store.hpp"

#include <doctest/doctest.h>

using namespace cp2::domain;
using cp2::test::fake_account_store;
using cp2::test::fake_hasher;
using cp2::test::seeded_random;

namespace {

struct fixture {
  fake_account_store store;
  manual_clock clock;
  fake_hasher hasher;
  seeded_random random{42};
  account_service service{store, clock, account_limits{}, "22262"};
  msisdn phone = parse_msisdn("0712345678").value();

  credentials creds() { return make_credentials(random, hasher); }
  std::string last_body() const { return store.s.outbox.back().body; }
};

// The password in a credential SMS: the word after "Password: ".
std::string password_in(const std::string& body) {
  auto at = body.find("Password: ");
  REQUIRE(at != std::string::npos);
  auto rest = body.substr(at + 10);
  return rest.substr(0, rest.find(' '));
}

}  // namespace

TEST_CASE("creating an account stores the hash and queues the credential SMS together") {
  fixture f;
  auto c = f.creds();
  CHECK(f.service.create(f.phone, c, channel::ussd) == account_service::create_result::created);
  auto a = f.store.find_account("254712345678");
  REQUIRE(a);
  CHECK(a->username == "254712345678");
  CHECK(a->password_hash == c.hash);
  REQUIRE(f.store.s.outbox.size() == 1);
  const auto& sms = f.store.s.outbox[0];
  CHECK(sms.phone == "254712345678");
  CHECK(sms.sensitive);
  CHECK(sms.kind == message_kind::credentials);
  CHECK(sms.body.find("Username: 254712345678") != std::string::npos);
  CHECK(password_in(sms.body) == c.password);
  CHECK(is_generated_password_shape(c.password));
}

TEST_CASE("an existing account is not created twice") {
  fixture f;
  f.service.create(f.phone, f.creds(), channel::ussd);
  auto hash = f.store.find_account(f.phone.digits())->password_hash;
  SUBCASE("over USSD the screen says so; no SMS") {
    CHECK(f.service.create(f.phone, f.creds(), channel::ussd) == account_service::create_result::exists);
    CHECK(f.store.s.outbox.size() == 1);
  }
  SUBCASE("over SMS the reply says how to reset, as a reply to the incoming message") {
    CHECK(f.service.create(f.phone, f.creds(), channel::sms, "link-7") ==
          account_service::create_result::exists);
    REQUIRE(f.store.s.outbox.size() == 2);
    CHECK(f.last_body().find("SMS PASSWORD to 22262") != std::string::npos);
    CHECK(f.store.s.outbox.back().link_id == "link-7");
    CHECK_FALSE(f.store.s.outbox.back().sensitive);
  }
  CHECK(f.store.find_account(f.phone.digits())->password_hash == hash);
}

TEST_CASE("a reset replaces the password; the old one no longer matches") {
  fixture f;
  auto first = f.creds();
  f.service.create(f.phone, first, channel::ussd);
  CHECK(f.service.check_reset(f.phone, channel::sms) == account_service::reset_result::done);
  auto second = f.creds();
  CHECK(second.password != first.password);
  CHECK(f.service.reset(f.phone, second, channel::sms, "L1") == account_service::reset_result::done);
  CHECK(f.store.find_account(f.phone.digits())->password_hash == second.hash);
  CHECK(password_in(f.last_body()) == second.password);
  CHECK(f.last_body().find("reset") != std::string::npos);
  CHECK(f.store.s.outbox.back().link_id == "L1");
}

TEST_CASE("resets are limited per hour and the applicant is told once per window") {
  fixture f;
  f.service.create(f.phone, f.creds(), channel::ussd);
  for (int i = 0; i < 3; ++i) {
    CHECK(f.service.check_reset(f.phone, channel::sms) == account_service::reset_result::done);
    CHECK(f.service.reset(f.phone, f.creds(), channel::sms) == account_service::reset_result::done);
    f.clock.advance(60'000);
  }
  auto sent = f.store.s.outbox.size();
  CHECK(f.service.check_reset(f.phone, channel::sms) == account_service::reset_result::limited);
  CHECK(f.store.s.outbox.size() == sent + 1);
  CHECK(f.last_body().find("limit of new passwords") != std::string::npos);
  // Again within the window: refused, and nothing more is sent.
  for (int i = 0; i < 5; ++i)
    CHECK(f.service.check_reset(f.phone, channel::sms) == account_service::reset_result::limited);
  CHECK(f.store.s.outbox.size() == sent + 1);
  // A racing reset that passed check_reset is stopped inside the transaction.
  CHECK(f.service.reset(f.phone, f.creds(), channel::sms) == account_service::reset_result::limited);
  // An hour after the first reset, one slot is free again.
  f.clock.advance(3'600'000 - 3 * 60'000 + 1);
  CHECK(f.service.check_reset(f.phone, channel::sms) == account_service::reset_result::done);
}

TEST_CASE("a reset for a number without an account") {
  fixture f;
  CHECK(f.service.check_reset(f.phone, channel::sms) == account_service::reset_result::no_account);
  REQUIRE(f.store.s.outbox.size() == 1);
  CHECK(f.last_body().find("SMS REGISTER to 22262") != std::string::npos);
  CHECK(f.service.check_reset(f.phone, channel::portal) == account_service::reset_result::no_account);
  CHECK(f.store.s.outbox.size() == 1);
}

TEST_CASE("login: the right password, a wrong one, and the lock after repeated failures") {
  fixture f;
  auto c = f.creds();
  f.service.create(f.phone, c, channel::ussd);
  auto attempt = [&](std::string_view username, const std::string& password) {
    auto start = f.service.begin_login(username);
    bool ok = start.phone && f.hasher.verify(start.hash, password);
    return f.service.finish_login(start, ok);
  };
  CHECK(attempt("254712345678", c.password));
  CHECK(attempt("0712345678", c.password));  // any accepted phone form
  CHECK_FALSE(attempt("254712345678", "wrong"));
  CHECK_FALSE(attempt("254799999999", c.password));
  CHECK_FALSE(attempt("not a phone", c.password));
  // Five failures in a row lock the account; the right password is then refused too.
  for (int i = 0; i < 5; ++i) CHECK_FALSE(attempt("254712345678", "wrong"));
  CHECK_FALSE(attempt("254712345678", c.password));
  f.clock.advance(15 * 60'000 - 1);
  CHECK_FALSE(attempt("254712345678", c.password));
  f.clock.advance(2);
  CHECK(attempt("254712345678", c.password));
  CHECK(f.store.find_account(f.phone.digits())->failed_logins == 0);
}

TEST_CASE("a success in between resets the failure count") {
  fixture f;
  auto c = f.creds();
  f.service.create(f.phone, c, channel::ussd);
  auto attempt = [&](const std::string& password) {
    auto start = f.service.begin_login("254712345678");
    return f.service.finish_login(start, f.hasher.verify(start.hash, password));
  };
  for (int i = 0; i < 4; ++i) attempt("wrong");
  CHECK(attempt(c.password));
  for (int i = 0; i < 4; ++i) attempt("wrong");
  CHECK(attempt(c.password));
}

TEST_CASE("every account SMS fits one GSM-7 segment at its longest") {
  const std::string username = "254799999999";
  const std::string password(32, 'W');  // longer than any generated password
  for (const auto& text : {credentials_text(username, password, false),
                           credentials_text(username, password, true),
                           already_registered_text("22262"), reset_limited_text(1000, 1000),
                           no_account_text("22262")}) {
    CAPTURE(text);
    auto len = measure_sms(text);
    CHECK(len.enc == sms_length::encoding::gsm7);
    CHECK(len.segments == 1);
  }
}

TEST_CASE("retry delays double from 2 s to a 10 min cap, with jitter") {
  CHECK(cp2::domain::retry_delay(1, 1.0) == 2'000);
  CHECK(cp2::domain::retry_delay(2, 1.0) == 4'000);
  CHECK(cp2::domain::retry_delay(5, 1.0) == 32'000);
  CHECK(cp2::domain::retry_delay(40, 1.0) == 600'000);
  CHECK(cp2::domain::retry_delay(1, 0.8) == 1'600);
  CHECK(cp2::domain::retry_delay(1, 1.2) == 2'400);
}

TEST_CASE("no retry delay is longer than longest_retry_delay, whatever the attempt and jitter") {
  const cp2::domain::unix_ms longest = cp2::domain::longest_retry_delay(600'000);
  CHECK(longest == 900'000);
  for (int attempts : {1, 2, 10, 40, 1000})
    for (double jitter : {0.0, 0.8, 1.2, 1.5, 9.0})
      CHECK(cp2::domain::retry_delay(attempts, jitter) <= longest);
  CHECK(cp2::domain::retry_delay(40, 9.0) == longest);
}

TEST_CASE("redaction removes only the password") {
  auto body = credentials_text("254712345678", "Ab3dEf7hJk", false);
  auto red = cp2::domain::redact_password(body);
  CHECK(red.find("Ab3dEf7hJk") == std::string::npos);
  CHECK(red.find("Username: 254712345678") != std::string::npos);
  CHECK(red.find("Password: ********") != std::string::npos);
  CHECK(cp2::domain::redact_password("no secret here") == "no secret here");
}

TEST_CASE("STOP and START are recorded for any number and confirmed") {
  fixture f;  // no account for this number
  f.service.set_opt_out(f.phone, true, "L9");
  CHECK(f.store.opted_out(f.phone.digits()));
  CHECK(f.last_body().find("no more notifications") != std::string::npos);
  CHECK(f.store.s.outbox.back().link_id == "L9");
  f.service.set_opt_out(f.phone, false, "");
  CHECK_FALSE(f.store.opted_out(f.phone.digits()));
  CHECK(f.last_body().find("on again") != std::string::npos);
}

TEST_CASE("help and the keyword replies fit one GSM-7 segment") {
  for (const auto& text : {help_text("22262"), opted_out_text("22262"), opted_in_text()}) {
    CAPTURE(text);
    auto len = measure_sms(text);
    CHECK(len.enc == sms_length::encoding::gsm7);
    CHECK(len.segments == 1);
  }
  fixture f;
  f.service.reply_help(f.phone, "L1");
  CHECK(f.last_body().find("REGISTER") != std::string::npos);
  CHECK(f.last_body().find("PASSWORD") != std::string::npos);
}

TEST_CASE("credential SMS per number per day, resets and creation together") {
  fake_account_store store;
  manual_clock clock;
  fake_hasher hasher;
  seeded_random random{7};
  account_limits limits;
  limits.password_resets_per_hour = 100;
  limits.credential_sms_per_day = 3;
  account_service service{store, clock, limits, "22262"};
  auto phone = parse_msisdn("0712345678").value();
  service.create(phone, make_credentials(random, hasher), channel::ussd);  // 1
  for (int i = 0; i < 2; ++i) CHECK(service.reset(phone, make_credentials(random, hasher), channel::ussd) ==
                                    account_service::reset_result::done);  // 2, 3
  CHECK(service.check_reset(phone, channel::ussd) == account_service::reset_result::limited);
  clock.advance(24 * 3'600'000 + 1);
  CHECK(service.check_reset(phone, channel::ussd) == account_service::reset_result::done);
}

TEST_CASE("the gateway-wide ceiling refuses new credentials for a minute") {
  fake_account_store store;
  manual_clock clock;
  fake_hasher hasher;
  seeded_random random{9};
  account_limits limits;
  limits.credential_sms_per_minute = 2;
  account_service service{store, clock, limits, "22262"};
  auto phone_n = [](int i) { return parse_msisdn("07120000" + std::to_string(10 + i)).value(); };
  CHECK(service.create(phone_n(1), make_credentials(random, hasher), channel::sms) == account_service::create_result::created);
  CHECK(service.create(phone_n(2), make_credentials(random, hasher), channel::sms) == account_service::create_result::created);
  CHECK(service.create(phone_n(3), make_credentials(random, hasher), channel::sms) == account_service::create_result::busy);
  CHECK_FALSE(store.find_account(phone_n(3).digits()));
  CHECK(store.s.outbox.size() == 2);
  clock.advance(60'001);
  CHECK(service.create(phone_n(3), make_credentials(random, hasher), channel::sms) == account_service::create_result::created);
}
