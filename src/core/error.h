/*
 * error.h -- the exception type core code throws.
 *
 * Core code knows nothing of SQLSTATEs; it says what kind of failure
 * happened and the glue's exception guard (src/pg/guard.h) maps the kind to
 * a SQLSTATE when it turns the exception into a PostgreSQL ERROR.
 */
#pragma once

#include <stdexcept>

namespace vecdb {

enum class ErrorKind {
    InvalidParameter,  ///< a caller passed a value outside the documented range
    DataCorrupted,     ///< stored data does not have the expected shape
    Internal,          ///< a broken invariant: a bug in vecdb
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const char *message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace vecdb
