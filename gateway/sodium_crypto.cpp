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

std::string argon2id_hasher::hash(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("password hashing ran out of memory");
  return out;
}

bool argon2id_hasher::verify(std::string_view hash, std::string_view password) {
  // crypto_pwhash_str_verify needs a NUL-terminated hash.
  std::string h(hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

}  // namespace cp2::gateway
