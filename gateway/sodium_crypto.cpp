#include "gateway/sodium_crypto.hpp"

#include <sodium.h>

#include <stdexcept>

namespace cp2::gateway {

void init_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

std::uint32_t sodium_random::uniform(std::uint32_t upper_bound) {
  return randombytes_uniform(upper_bound);
}

namespace {

// argon2id with 19 MiB and 2 passes, the OWASP minimum. Our passwords are 10 random characters
// (about 57 bits), not people's choices, so a costlier hash adds nothing against an offline
// guesser; libsodium's "interactive" 64 MiB would cost three times the CPU and 64 MiB of memory
// per hash in flight (docs/accounts.md). Hashes made with other limits still verify: the
// limits are part of the stored string.
constexpr unsigned long long hash_passes = 2;
constexpr std::size_t hash_memory = 19 * 1024 * 1024;

}  // namespace

std::string argon2id_hasher::hash(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), hash_passes, hash_memory,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("password hashing ran out of memory");
  return out;
}

bool argon2id_hasher::verify(std::string_view hash, std::string_view password) {
  // crypto_pwhash_str_verify needs a NUL-terminated hash.
  std::string h(hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

}  // namespace cp2::gateway
