// Asio and Beast compiled once for sms_tests, which must not link cp2_gateway (where the rest of
// the program gets them from gateway/asio_impl.cpp); see the top CMakeLists.txt.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
