#pragma once
// An in-memory account_store with real rollback, and test doubles for hashing and randomness.

#include "domain/accounts.hpp"

#include <map>
#include <stdexcept>
#include <vector>

namespace cp2::test {

/// account_store over maps; a transaction snapshots the state and restores it on throw.
class fake_account_store : public domain::account_store {
public:
  struct event {
    std::string phone, kind;
    domain::unix_ms at;
  };
  struct state {
    std::map<std::string, domain::account_record> accounts;
    std::vector<event> events;
    std::vector<domain::outbound_sms> outbox;
    std::map<std::string, std::string> inbound;
    std::map<std::string, bool> opted_out;
  };
  state s;
  int transactions = 0;

  void in_transaction(const std::function<void()>& fn) override {
    auto saved = s;
    ++transactions;
    try {
      fn();
    } catch (...) {
      s = std::move(saved);
      throw;
    }
  }
  std::optional<domain::account_record> find_account(const std::string& phone) override {
    auto it = s.accounts.find(phone);
    if (it == s.accounts.end()) return std::nullopt;
    return it->second;
  }
  void insert_account(const domain::account_record& a, domain::unix_ms) override {
    if (!s.accounts.emplace(a.phone, a).second) throw std::logic_error("duplicate account");
  }
  void update_password(const std::string& phone, const std::string& hash, domain::unix_ms) override {
    auto& a = s.accounts.at(phone);
    a.password_hash = hash;
    a.failed_logins = 0;
    a.locked_until = 0;
  }
  void update_login_state(const std::string& phone, int failed, domain::unix_ms until) override {
    auto& a = s.accounts.at(phone);
    a.failed_logins = failed;
    a.locked_until = until;
  }
  int count_events(const std::string& phone, std::string_view kind, domain::unix_ms since) override {
    int n = 0;
    for (const auto& e : s.events) n += e.phone == phone && e.kind == kind && e.at >= since;
    return n;
  }
  void add_event(const std::string& phone, std::string_view kind, domain::unix_ms at) override {
    s.events.push_back({phone, std::string(kind), at});
  }
  void enqueue_sms(const domain::outbound_sms& sms, domain::unix_ms) override {
    s.outbox.push_back(sms);
  }
  bool inbound_seen(const std::string& id) override { return s.inbound.count(id) > 0; }
  bool remember_inbound(const std::string& id, const std::string& phone, std::string_view,
                        domain::unix_ms) override {
    return s.inbound.emplace(id, phone).second;
  }
  void set_opted_out(const std::string& phone, bool out, domain::unix_ms) override {
    s.opted_out[phone] = out;
  }
  bool opted_out(const std::string& phone) override {
    auto it = s.opted_out.find(phone);
    return it != s.opted_out.end() && it->second;
  }
};

/// A reversible "hash" that is obviously not a real one: enough to test the rules.
class fake_hasher : public domain::password_hasher {
public:
  std::string hash(std::string_view password) override { return "fake$" + std::string(password); }
  bool verify(std::string_view hash, std::string_view password) override {
    return hash == "fake$" + std::string(password);
  }
};

/// A deterministic random source (xorshift), different per seed.
class seeded_random : public domain::random_source {
public:
  explicit seeded_random(std::uint32_t seed) : x_(seed ? seed : 1) {}
  std::uint32_t uniform(std::uint32_t upper) override {
    x_ ^= x_ << 13;
    x_ ^= x_ >> 17;
    x_ ^= x_ << 5;
    return x_ % upper;
  }

private:
  std::uint32_t x_;
};

}  // namespace cp2::test
