#include "domain/password.hpp"

#include <algorithm>
#include <stdexcept>

namespace cp2::domain {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

bool has_every_class(std::string_view text) {
  return std::ranges::any_of(text, is_digit) && std::ranges::any_of(text, is_upper) &&
         std::ranges::any_of(text, is_lower);
}

char draw(random_source& random) {
  const auto bound = static_cast<std::uint32_t>(password_alphabet.size());
  const auto index = random.uniform(bound);
  // An index past the end would read outside the alphabet; refuse rather than wrap it.
  if (index >= bound) throw std::logic_error("random_source::uniform returned out of range");
  return password_alphabet[index];
}

}  // namespace

std::string make_password(random_source& random, std::size_t length) {
  if (length < min_password_length) throw std::invalid_argument("password length below minimum");

  // Whole passwords are redrawn until one has every class, so every acceptable password stays
  // equally likely; forcing a digit into some slot would make passwords with one digit likelier
  // than the rest. About one draw in five is redrawn at length 10 (mostly for want of a digit).
  // A sound source fails this many times running with odds below 1e-30 even at length 8, so
  // reaching the cap means the source is broken, not unlucky.
  constexpr int max_draws = 64;
  std::string password(length, ' ');
  for (int attempt = 0; attempt < max_draws; ++attempt) {
    for (char& c : password) c = draw(random);
    if (has_every_class(password)) return password;
  }
  throw std::runtime_error("random_source never produced a password with every character class");
}

bool is_generated_password_shape(std::string_view text) {
  return text.size() >= min_password_length &&
         text.find_first_not_of(password_alphabet) == std::string_view::npos;
}

}  // namespace cp2::domain
