#pragma once
// libsodium behind domain's interfaces: the CSPRNG for passwords and argon2id hashing.

#include "domain/accounts.hpp"
#include "domain/password.hpp"

namespace cp2::gateway {

/// Calls sodium_init() once; throws std::runtime_error when libsodium cannot start.
void init_sodium();

/// libsodium's CSPRNG; randombytes_uniform has no modulo bias.
/// Thread safety: any thread.
class sodium_random final : public domain::random_source {
public:
  std::uint32_t uniform(std::uint32_t upper_bound) override;
};

/// argon2id via crypto_pwhash_str with libsodium's "interactive" limits (64 MiB, 2 passes):
/// tens of milliseconds per hash, so it runs on the CPU pool, never on an I/O thread.
/// Thread safety: any thread; each call allocates its own memory.
class argon2id_hasher final : public domain::password_hasher {
public:
  std::string hash(std::string_view password) override;
  bool verify(std::string_view hash, std::string_view password) override;
};

}  // namespace cp2::gateway
