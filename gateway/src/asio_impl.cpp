// Compiles Boost.Asio and Boost.Beast once for the whole program (separate-compilation mode,
// as Beast's own tests do). Nothing else may include these src.hpp files.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
