// Compiles Boost.Asio's SSL support once (separate-compilation mode, like asio_impl.cpp does for
// the rest of Asio). Only the outbound HTTP client uses TLS.
#include <boost/asio/ssl/impl/src.hpp>
