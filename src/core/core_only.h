/*
 * core_only.h -- the last include of every src/core translation unit.
 *
 * src/core is plain C++17 that is unit-tested and benchmarked without a
 * server, so it must never see a PostgreSQL header.  Including this file
 * after a PostgreSQL header fails the build.
 */
#pragma once

#ifdef POSTGRES_H
#error "src/core must not include PostgreSQL headers"
#endif
