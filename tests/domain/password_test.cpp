#include "domain/password.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using cp2::domain::is_generated_password_shape;
using cp2::domain::make_password;
using cp2::domain::password_alphabet;

namespace {

// xorshift32: deterministic and well spread; the modulo bias does not matter in a test.
class xorshift_source : public cp2::domain::random_source {
public:
  explicit xorshift_source(std::uint32_t seed) : state_(seed) {}
  std::uint32_t uniform(std::uint32_t upper_bound) override {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_ % upper_bound;
  }

private:
  std::uint32_t state_;
};

// Returns the given values in order, so a test decides exactly what each draw yields.
class scripted_source : public cp2::domain::random_source {
public:
  explicit scripted_source(std::vector<std::uint32_t> values) : values_(std::move(values)) {}
  std::uint32_t uniform(std::uint32_t) override {
    REQUIRE(next_ < values_.size());
    return values_[next_++];
  }
  std::size_t used() const { return next_; }

private:
  std::vector<std::uint32_t> values_;
  std::size_t next_ = 0;
};

class constant_source : public cp2::domain::random_source {
public:
  explicit constant_source(std::uint32_t value) : value_(value) {}
  std::uint32_t uniform(std::uint32_t) override { return value_; }

private:
  std::uint32_t value_;
};

std::uint32_t index_of(char c) { return static_cast<std::uint32_t>(password_alphabet.find(c)); }

std::vector<std::uint32_t> indices_of(std::string_view text) {
  std::vector<std::uint32_t> out;
  for (const char c : text) out.push_back(index_of(c));
  return out;
}

bool has(std::string_view text, bool (*pred)(char)) { return std::ranges::any_of(text, pred); }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool lower(char c) { return c >= 'a' && c <= 'z'; }

}  // namespace

TEST_CASE("password: the alphabet has letters and digits without look-alikes") {
  CHECK(password_alphabet.size() == 56);
  CHECK(std::set<char>(password_alphabet.begin(), password_alphabet.end()).size() == 56);
  CHECK(password_alphabet.find_first_of("0Oo1lI") == std::string_view::npos);
  CHECK(std::ranges::all_of(password_alphabet,
                            [](char c) { return digit(c) || upper(c) || lower(c); }));
  CHECK(std::ranges::count_if(password_alphabet, digit) == 8);
  CHECK(std::ranges::count_if(password_alphabet, upper) == 24);
  CHECK(std::ranges::count_if(password_alphabet, lower) == 24);
}

TEST_CASE("password: length, alphabet and every class, over many draws") {
  xorshift_source random(2463534242u);
  for (const std::size_t length : {8u, 10u, 16u, 32u}) {
    for (int i = 0; i < 500; ++i) {
      const auto p = make_password(random, length);
      CAPTURE(p);
      REQUIRE(p.size() == length);
      REQUIRE(is_generated_password_shape(p));
      REQUIRE(has(p, digit));
      REQUIRE(has(p, upper));
      REQUIRE(has(p, lower));
    }
  }
  CHECK(make_password(random).size() == 10);
}

TEST_CASE("password: two draws differ and every character gets used") {
  xorshift_source random(7);
  const auto first = make_password(random);
  const auto second = make_password(random);
  CHECK(first != second);

  std::set<char> used;
  for (int i = 0; i < 200; ++i) {
    const auto p = make_password(random);
    used.insert(p.begin(), p.end());
  }
  CHECK(used.size() == password_alphabet.size());
}

TEST_CASE("password: a draw missing a class is redrawn whole, not patched") {
  const std::string no_lower = "23456789AB";
  const std::string good = "x9Kp4mTq7z";
  auto script = indices_of(no_lower);
  const auto rest = indices_of(good);
  script.insert(script.end(), rest.begin(), rest.end());

  scripted_source random(script);
  CHECK(make_password(random) == good);
  CHECK(random.used() == 20);
}

TEST_CASE("password: a broken source or too short a length is refused") {
  constant_source stuck(0);  // always '2': never has a letter
  CHECK_THROWS_AS(make_password(stuck), std::runtime_error);

  constant_source out_of_range(static_cast<std::uint32_t>(password_alphabet.size()));
  CHECK_THROWS_AS(make_password(out_of_range), std::logic_error);

  xorshift_source random(1);
  CHECK_THROWS_AS(make_password(random, 7), std::invalid_argument);
  CHECK(make_password(random, 8).size() == 8);
}

TEST_CASE("password: the shape check") {
  struct row { std::string text; bool shape; };
  const row rows[] = {
      {"x9Kp4mTq7z", true},
      {"abcDEF23", true},
      {"abcdefgh", true},   // the mix of classes is make_password's promise, not the shape's
      {"abcDEF2", false},   // 7 characters
      {"", false},
      {"abcDEF20", false},  // 0
      {"abcDEFO2", false},  // O
      {"abcDEFo2", false},  // o
      {"abcDEF12", false},  // 1
      {"abcDEFl2", false},  // l
      {"abcDEFI2", false},  // I
      {"abc DEF23", false},
      {"abcDEF2!", false},
      {"abcd\xc3\xa9" "f23", false},  // é
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    CHECK(is_generated_password_shape(r.text) == r.shape);
  }
}
